import ArgparseCompat
import Foundation
import Synchronization
import ZeroMQ

/// `run_benchmark` (bert_serving/server/benchmark.py) over a server binary: for each experiment
/// value, start `bert-serving-start` with it, wait until it serves, run the clients, print the
/// speeds, stop the server; append each experiment's table to the result file.
///
/// Runs on the calling thread; the clients run on threads of their own.
public final class BenchmarkRunner {
    /// Everything a run needs besides the plan.
    public struct Settings: Sendable {
        /// The server executable (`bert-serving-start` next to the benchmark binary).
        public var serverPath: String
        /// The benchmark's namespace: the server settings come from it.
        public var arguments: ParsedArguments
        /// `-port`, `-port_out`: where the clients connect (on localhost, as the original's).
        public var port: Int
        public var portOut: Int
        /// `-wait_till_ready` seconds: after this long without an answer, say so (and keep waiting).
        public var waitTillReady: Int
        /// The result file, appended to.
        public var resultPath: String

        public init(serverPath: String, arguments: ParsedArguments, port: Int, portOut: Int, waitTillReady: Int,
                    resultPath: String) {
            self.serverPath = serverPath
            self.arguments = arguments
            self.port = port
            self.portOut = portOut
            self.waitTillReady = waitTillReady
            self.resultPath = resultPath
        }
    }

    let settings: Settings
    let plan: BenchmarkPlan
    let vocabulary: ClientVocabulary
    let console: Console

    init(settings: Settings, plan: BenchmarkPlan, vocabulary: ClientVocabulary, console: Console) {
        self.settings = settings
        self.plan = plan
        self.vocabulary = vocabulary
        self.console = console
    }

    /// Runs every experiment; returns the speeds per experiment in run order.
    @discardableResult
    func run() throws(BenchmarkError) -> [(name: String, rows: [(label: String, speed: Int)])] {
        var results: [(name: String, rows: [(label: String, speed: Int)])] = []
        for experiment in plan.experiments {
            for skipped in experiment.skipped {
                console.note("skipping \(experiment.name) \(skipped.label): \(skipped.reason)")
            }
            var rows: [(label: String, speed: Int)] = []
            for (index, run) in experiment.runs.enumerated() {
                let title = "\(experiment.name) = \(run.label) (\(index + 1)/\(experiment.runs.count))"
                let speeds = try self.run(run, experiment: experiment.name, title: title)
                console.line(BenchmarkReport.speedLine(speeds))
                rows.append((run.label, speeds.average))
            }
            if !rows.isEmpty {
                try append(BenchmarkReport.resultBlock(name: experiment.name, rows: rows))
            }
            results.append((experiment.name, rows))
        }
        return results
    }

    private func append(_ text: String) throws(BenchmarkError) {
        guard let file = fopen(settings.resultPath, "a") else {
            throw .invalidSetting("cannot open \(settings.resultPath) for appending: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        fputs(text, file)
    }

    /// One server start and one round of clients.
    private func run(_ run: ExperimentRun, experiment: String, title: String) throws(BenchmarkError) -> RunSpeeds {
        let arguments = StartCommandLine.arguments(from: settings.arguments, override: run.override)
        let server = try ServerProcess(path: settings.serverPath, arguments: arguments)
        CurrentServer.set(server.pid)
        defer {
            stop(server)
            CurrentServer.set(0)
        }
        let context: Context
        do {
            context = try Context()
        } catch {
            throw .clientFailed(experiment: experiment, value: run.label, reason: error.description)
        }
        defer { context.terminate() }
        try waitUntilReady(server, context: context, experiment: experiment, run: run, title: title)

        let client = run.client
        let batches = (0..<client.clientCount).map { _ in
            (0..<client.batchSize).map { _ in
                (0..<client.wordsPerSentence).map { _ in vocabulary.words.randomElement() ?? "" }
                    .joined(separator: " ")
            }
        }
        let state = RunState(clients: client.clientCount)
        let target = (port: settings.port, portOut: settings.portOut)
        let console = self.console
        for (index, batch) in batches.enumerated() {
            let thread = Thread {
                state.finish(client: index, with: Self.clientMain(
                    context: context, port: target.port, portOut: target.portOut, batch: batch,
                    repeats: client.repeatCount, state: state, console: console))
            }
            thread.start()
        }
        let total = client.clientCount * client.repeatCount
        var serverDied = false
        while !state.allFinished {
            if !serverDied && !server.isRunning {
                serverDied = true
                context.shutdown()
            }
            console.progress("\(title): \(state.completedRequests)/\(total) requests")
            usleep(100_000)
        }
        console.clearProgress()
        if serverDied {
            throw .serverExited(experiment: experiment, value: run.label, status: server.statusDescription)
        }
        var times: [[Double]] = []
        for outcome in state.outcomes {
            switch outcome {
            case .success(let t): times.append(t)
            case .failure(let error):
                throw .clientFailed(experiment: experiment, value: run.label, reason: error.description)
            case nil:
                throw .clientFailed(experiment: experiment, value: run.label, reason: "a client did not report")
            }
        }
        guard let speeds = RunSpeeds(batchSize: client.batchSize, clientTimes: times) else {
            throw .clientFailed(experiment: experiment, value: run.label, reason: "no usable timing")
        }
        return speeds
    }

    /// `BenchmarkClient.run`: connect (the stock client's SHOW_CONFIG handshake, printing the
    /// server config as `show_server_config=True` does), then time each `encode` of the same batch.
    private static func clientMain(
        context: Context, port: Int, portOut: Int, batch: [String], repeats: Int, state: RunState, console: Console
    ) -> Result<[Double], StockClientError> {
        let client: StockClient
        do {
            client = try StockClient(context: context, host: "localhost", port: port, portOut: portOut)
        } catch {
            return .failure(.transport(error))
        }
        defer { client.close() }
        do {
            var config: [UInt8]?
            while config == nil { config = try client.showConfig(timeoutMilliseconds: 1000) }
            if let config, let text = ServerConfigText.format(config) { console.block(text) }
        } catch {
            return .failure(.transport(error))
        }
        var times: [Double] = []
        times.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let start = Monotonic.now
            do {
                _ = try client.encode(batch)
            } catch {
                return .failure(error)
            }
            times.append(Monotonic.now - start)
            state.requestDone()
        }
        return .success(times)
    }

    /// Replaces the original's `time.sleep(wait_till_ready)`: polls SHOW_CONFIG until the server
    /// answers, fails as soon as the server process ends.
    private func waitUntilReady(
        _ server: ServerProcess, context: Context, experiment: String, run: ExperimentRun, title: String
    ) throws(BenchmarkError) {
        let probe: StockClient
        do {
            probe = try StockClient(context: context, host: "localhost", port: settings.port, portOut: settings.portOut)
        } catch {
            throw .clientFailed(experiment: experiment, value: run.label, reason: error.description)
        }
        defer { probe.close() }
        let start = Monotonic.now
        var warned = false
        while true {
            guard server.isRunning else {
                console.clearProgress()
                throw .serverExited(experiment: experiment, value: run.label, status: server.statusDescription)
            }
            let elapsed = Monotonic.now - start
            console.progress("\(title): waiting for the server (\(Int(elapsed)) s)")
            if !warned && elapsed > Double(settings.waitTillReady) {
                warned = true
                console.note("the server is not ready after -wait_till_ready \(settings.waitTillReady) s; still waiting")
            }
            do {
                if try probe.showConfig(timeoutMilliseconds: 250) != nil { return }
            } catch {
                throw .clientFailed(experiment: experiment, value: run.label, reason: error.description)
            }
        }
    }

    /// `BertServer.close()`: TERMINATION to the frontend, then SIGTERM, then SIGKILL.
    private func stop(_ server: ServerProcess) {
        if server.isRunning {
            Self.sendTermination(port: settings.port)
            if !server.waitForExit(seconds: 10) {
                console.note("the server did not exit after TERMINATION; sending SIGTERM")
                server.signalGroup(SIGTERM)
                if !server.waitForExit(seconds: 5) {
                    server.signalGroup(SIGKILL)
                    _ = server.waitForExit(seconds: 5)
                }
            }
        }
        // Helper processes of the server (the original's workers) go with it.
        server.signalGroup(SIGTERM)
    }

    /// `BertServer._send_close_signal`: `[b'0', b'TERMINATION', b'0', b'0']` to `tcp://localhost:port`.
    static func sendTermination(port: Int) {
        guard let context = try? Context(), let socket = try? Socket(context, .push) else { return }
        defer {
            socket.close()
            context.terminate()
        }
        try? socket.setLinger(2000)
        try? socket.connect("tcp://localhost:\(port)")
        try? socket.send([Array("0".utf8), Array("TERMINATION".utf8), Array("0".utf8), Array("0".utf8)])
    }
}

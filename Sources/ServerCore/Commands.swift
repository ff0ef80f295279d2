import ArgparseCompat
import BertEngine
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `bert-serving-start` and `bert-serving-terminate` programs (bert_serving/server/cli).
public enum Commands {
    static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buf in
            guard let base = buf.baseAddress else { return }
            var off = 0
            while off < buf.count {
                #if canImport(Glibc)
                let n = Glibc.write(fd, base + off, buf.count - off)
                #else
                let n = Darwin.write(fd, base + off, buf.count - off)
                #endif
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// Parses like argparse; prints help/version/usage errors as the original does.
    static func parse(_ spec: ParserSpec, argv: [String]) -> Result<ParsedArguments, ArgparseError> {
        let prog = argv.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "bert-serving-start"
        let env = Dictionary(uniqueKeysWithValues: environmentPairs())
        let parser = ArgumentParser(spec: spec, prog: prog, columns: ArgumentParser.columns(fromEnvironment: env))
        do {
            return .success(try parser.parse(Array(argv.dropFirst())))
        } catch {
            return .failure(error)
        }
    }

    static func environmentPairs() -> [(String, String)] {
        var pairs: [(String, String)] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                let key = String(s[..<eq])
                if !pairs.contains(where: { $0.0 == key }) { pairs.append((key, String(s[s.index(after: eq)...]))) }
            }
            p += 1
        }
        return pairs
    }

    static func report(_ error: ArgparseError) -> Int32 {
        write(error.standardOutput, to: 1)
        switch error {
        case .usage(_, let output): write(output, to: 2)
        case .uncaughtException(let line): write(line.hasSuffix("\n") ? line : line + "\n", to: 2)
        case .unexpectedValue(let dest, let value): write("invalid value for \(dest): \(value)\n", to: 2)
        default: break
        }
        return error.exitCode
    }

    /// `bert-serving-start`: argument table on stdout, logs on stderr, serves until TERMINATION
    /// (or SIGTERM / SIGINT), then exits 0. Startup errors: one line on stderr, exit 1.
    /// `afterStart` runs once the pipeline is up, with the final config (`bert-serving-start` starts the HTTP front there).
    public static func start(argv: [String], afterStart: (ServerConfig) -> Void = { _ in }) -> Int32 {
        let environment = Dictionary(environmentPairs(), uniquingKeysWith: { first, _ in first })
        KernelSelection.reexecIfNeeded(argv: argv, environment: environment)
        let parsed: ParsedArguments
        switch parse(ParserSpec.start, argv: argv) {
        case .success(let p): parsed = p
        case .failure(let e): return report(e)
        }
        write(parsed.argumentTable(argv: argv), to: 1)
        var config: ServerConfig
        do {
            config = try ServerConfig(arguments: parsed)
        } catch {
            write("E:VENTILATOR:\(error)\n", to: 2)
            return 1
        }
        let verbose = config.verbose
        LoggingSystem.bootstrap { ServerLogHandler(label: $0, verbose: verbose) }
        let logger = Logger(label: "VENTILATOR")
        if let threads = BLAS.defaultThreads(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), workers: config.numWorker,
                                             environment: Dictionary(uniqueKeysWithValues: environmentPairs())) {
            BLAS.setThreads(threads)
        }
        logger.info("\(KernelSelection.describe(environment: environment)), \(BLAS.threads) thread(s) per matrix product")
        logger.info("load the model")
        do {
            let loadStart = ContinuousClock.now
            let backend = try BertBackend(config: config, logger: logger)
            let model = backend.weights.config
            let loadTime = loadStart.duration(to: .now).components
            let loadMilliseconds = loadTime.seconds * 1000 + loadTime.attoseconds / 1_000_000_000_000_000
            logger.info("model loaded in \(loadMilliseconds) ms: \(model.layers) layers, hidden \(model.hidden), \(model.heads) heads, vocabulary \(model.vocabSize)")
            config.maxPositionEmbeddings = backend.maxPositionEmbeddings
            if let maxSeqLen = config.maxSeqLen, maxSeqLen > backend.maxPositionEmbeddings {
                // The original starts and then fails on every request longer than the model allows.
                throw StartupError(
                    component: "VENTILATOR",
                    message: "-max_seq_len \(maxSeqLen) is more than this model's max_position_embeddings "
                        + "(\(backend.maxPositionEmbeddings)): use -max_seq_len \(backend.maxPositionEmbeddings) or less, "
                        + "or -max_seq_len NONE")
            }
            let failPoints = try FailPoints.fromEnvironment(environment)
            if failPoints.isActive {
                logger.warning("fault injection active (\(FailPoints.environmentVariable)=\(environment[FailPoints.environmentVariable] ?? "")): for tests only")
            }
            let server = try BertServer(config: config, backend: backend, failPoints: failPoints)
            try server.start()
            logger.info("requests on tcp://\(config.bindHost):\(config.port) (-port), results on tcp://\(config.bindHost):\(config.portOut) (-port_out)")
            afterStart(config)
            // The first SIGTERM / SIGINT drains (in-flight requests still get their replies); a
            // second one during the drain exits at once.
            TerminationSignals.install { _ in server.terminate() }
            server.wait()
            return 0
        } catch {
            logger.error("\(error)\(startupHint(for: error, config: config))")
            return 1
        }
    }

    /// What to do about the start-up failures users of the original meet most.
    static func startupHint(for error: any Error, config: ServerConfig) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") {
            return "; another server may be running on -port \(config.port) / -port_out \(config.portOut): "
                + "stop it (bert-serving-terminate -port \(config.port)) or choose free ports with -port and -port_out"
        }
        if text.contains("looked for -model_dir") || text.contains("bert_config.json") && text.contains("no such file") {
            return "; -model_dir must be the unzipped model folder holding bert_config.json, vocab.txt and "
                + "bert_model.ckpt.* (Google TF1) or config.json, vocab.txt and model.safetensors (Hugging Face)"
        }
        return ""
    }

    /// `bert-serving-terminate`: sends TERMINATION to `-ip:-port` (`BertServer.shutdown`).
    public static func terminate(argv: [String]) -> Int32 {
        let parsed: ParsedArguments
        switch parse(ParserSpec.terminate, argv: argv) {
        case .success(let p): parsed = p
        case .failure(let e): return report(e)
        }
        write(parsed.argumentTable(argv: argv), to: 1)
        guard case .string(let ip) = parsed["ip"], case .int(let port) = parsed["port"],
              case .int(let timeout) = parsed["timeout"] else {
            write("bert-serving-terminate: unexpected arguments\n", to: 2)
            return 1
        }
        if BertServer.sendTermination(host: ip, port: port, timeoutMilliseconds: Int32(clamping: timeout)) {
            write("shutdown signal sent to \(port)\n", to: 1)
            return 0
        }
        write("TimeoutError: no response from the server (with \"timeout\"=\(timeout) ms), please check the following:"
              + "is the server still online? is the network broken? are \"port\" correct? \n", to: 2)
        return 1
    }
}

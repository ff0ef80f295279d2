import Foundation
import Logging
import ZeroMQ

/// The whole pipeline of `bert-serving-start`: ventilator, sink and `num_worker` workers on their
/// own threads, talking over `inproc://` sockets of one context, serving the stock client on
/// `-port` / `-port_out`.
///
/// `start()` returns once the server is ready (or throws why it cannot start); `wait()` blocks
/// until a TERMINATION request has been drained. Thread-safe.
public final class BertServer: Sendable {
    public let config: ServerConfig
    private let context: Context
    private let backend: any PipelineBackend
    private let ready = Latch()
    private let done = Latch()
    private let gate: ReplyGate
    private let failPoints: FailPoints

    public init(config: ServerConfig, backend: any PipelineBackend, gate: ReplyGate = ReplyGate(),
                failPoints: FailPoints = FailPoints()) throws {
        self.config = config
        self.backend = backend
        self.gate = gate
        self.failPoints = failPoints
        self.context = try Context()
    }

    /// Binds the sockets, starts every thread, and returns when `all set, ready to serve request!`
    /// has been logged.
    /// - Throws: `StartupError` (a port already in use, a worker that cannot load its encoder).
    public func start() throws(StartupError) {
        let token = String(UInt64.random(in: 0 ... UInt64.max), radix: 36)
        let ventilator = Ventilator(
            context: context, config: config, backend: backend,
            names: .init(token: token, count: config.numConcurrentSocket),
            staticStatus: StaticStatus(zmqVersion: zmqVersionString(), serverStartTime: StatusReport.pythonNow()),
            gate: gate, failPoints: failPoints)
        let ready = self.ready, done = self.done
        spawn("VENTILATOR") {
            ventilator.run(ready: ready)
            ready.fail(StartupError(component: "VENTILATOR", message: "stopped before it was ready"))
            done.succeed()
        }
        if case .failure(let e) = ready.wait() {
            _ = done.wait()
            throw e
        }
    }

    /// Blocks until the server has stopped (TERMINATION drained, every thread joined).
    public func wait() {
        _ = done.wait()
        // Every socket is closed now; this returns once queued replies have left (linger).
        context.terminate()
    }

    /// Sends TERMINATION to our own frontend, as `BertServer.shutdown` / `bert-serving-terminate` do.
    public func terminate() {
        // Bound to one interface (`-bind_host`): only that address reaches the frontend.
        let host = ["*", "0.0.0.0", ""].contains(config.bindHost) ? "127.0.0.1" : config.bindHost
        BertServer.sendTermination(host: host, port: config.port, timeoutMilliseconds: 5000)
    }

    /// `BertServer.shutdown(args)`: pushes `[b'0', b'TERMINATION', b'0', b'0']` to `host:port`.
    /// - Returns: false when the message could not be handed over within the timeout.
    @discardableResult
    public static func sendTermination(host: String, port: Int, timeoutMilliseconds: Int32) -> Bool {
        do {
            let ctx = try Context()
            let push = try Socket(ctx, .push)
            defer { push.close() }
            try push.setLinger(timeoutMilliseconds)
            try push.setSendTimeout(timeoutMilliseconds)
            try push.connect("tcp://\(host):\(port)")
            try push.send([Array("0".utf8), ServerCommand.terminate.bytes, Array("0".utf8), Array("0".utf8)])
            return true
        } catch {
            return false
        }
    }
}

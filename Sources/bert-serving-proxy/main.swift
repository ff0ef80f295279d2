// bert-serving-proxy: one address for several bert-serving-start backends; stock clients connect
// to it exactly as to one server. The broker lives in ProxyCore; this file adds the HTTP
// endpoints (-http_port) on Hummingbird, which the package already builds for the HTTP front.
import Hummingbird
import Logging
import ProxyCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves `GET /metrics` (Prometheus text), `GET /health` (the process runs) and `GET /ready`
/// (at least one backend is healthy: 200, else 503) from a detached task.
func startHTTP(broker: Broker, port: Int) {
    let logger = Logger(label: "PROXY-HTTP")
    let router = Router()
    router.get("/metrics") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: broker.snapshot.prometheusText())))
    }
    router.get("/health") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\": \"ok\"}")))
    }
    router.get("/ready") { _, _ -> Response in
        let snapshot = broker.snapshot
        let up = snapshot.backends.filter(\.isUp).count
        return Response(status: snapshot.isReady ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: "{\"ready\": \(snapshot.isReady), \"backends_up\": \(up), \"backends\": \(snapshot.backends.count)}")))
    }
    let app = Application(router: router, configuration: .init(address: .hostname("0.0.0.0", port: port)), logger: logger)
    Task.detached {
        do {
            logger.info("metrics on http://0.0.0.0:\(port)/metrics")
            // No signal handling here: SIGTERM / SIGINT belong to TerminationSignals, which
            // drains the broker (ServiceLifecycle's handler would set them to SIG_IGN and take them).
            try await app.runService(gracefulShutdownSignals: [])
        } catch {
            logger.error("HTTP endpoints stopped: \(error)")
        }
    }
}

exit(ProxyCommand.main(argv: CommandLine.arguments) { broker, options in
    if let port = options.httpPort { startHTTP(broker: broker, port: port) }
})

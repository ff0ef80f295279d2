import Logging

/// How `bert-serving-start` runs the HTTP front next to its ZeroMQ pipeline (`-http_port`).
public enum HTTPFrontLauncher {
    /// Starts the bridge (a ZeroMQ client of `port` / `portOut` on this host) and serves HTTP on `httpPort`
    /// from a detached task, like the original's `BertHTTPProxy` process; returns at once.
    /// - Returns: a closure that stops the HTTP server and the bridge.
    @discardableResult
    public static func launch(httpPort: Int, port: Int, portOut: Int, maxConnect: Int, cors: String, logger: Logger = Logger(label: "PROXY")) -> @Sendable () -> Void {
        let bridge: ZeroMQBridge
        do {
            bridge = try ZeroMQBridge(configuration: .init(host: "localhost", port: port, portOut: portOut), logger: Logger(label: "HTTP-BRIDGE"))
        } catch {
            logger.error("cannot start the HTTP bridge: \(error)")
            return {}
        }
        let server = HTTPServer(configuration: .init(port: httpPort, maxConnect: maxConnect, cors: cors), backend: bridge, logger: logger)
        let task = Task.detached {
            do {
                logger.info("HTTP proxy is listening on 0.0.0.0:\(httpPort)")
                try await server.run()
            } catch {
                logger.error("HTTP proxy stopped: \(error)")
            }
        }
        return {
            task.cancel()
            bridge.shutdown()
        }
    }
}

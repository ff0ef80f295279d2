/// Where one backend (`bert-serving-start`) listens: `HOST:PORT:PORT_OUT` on the command line.
public struct BackendAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address; an IPv6 address keeps its brackets (`[::1]`), as ZeroMQ endpoints want.
    public let host: String
    /// The backend's `-port` (its PULL socket).
    public let port: Int
    /// The backend's `-port_out` (its PUB socket).
    public let portOut: Int

    public init(host: String, port: Int, portOut: Int) {
        self.host = host
        self.port = port
        self.portOut = portOut
    }

    /// Parses `HOST:PORT:PORT_OUT`; the two ports are the last two `:` fields, so `[::1]:5555:5556` works.
    /// - Throws: `ProxyError.badBackend` naming what is wrong.
    public init(parsing text: String) throws(ProxyError) {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 3 else { throw .badBackend(text, reason: "missing fields") }
        let host = fields.dropLast(2).joined(separator: ":")
        guard !host.isEmpty else { throw .badBackend(text, reason: "empty host") }
        if host.contains(":") && !(host.hasPrefix("[") && host.hasSuffix("]")) {
            throw .badBackend(text, reason: "an IPv6 host must be written in brackets, [::1]")
        }
        func port(_ field: Substring, _ name: String) throws(ProxyError) -> Int {
            guard let p = Int(field), (1 ... 65535).contains(p) else {
                throw .badBackend(text, reason: "\(name) '\(field)' is not a port number (1-65535)")
            }
            return p
        }
        self.host = host
        self.port = try port(fields[fields.count - 2], "PORT")
        self.portOut = try port(fields[fields.count - 1], "PORT_OUT")
    }

    /// The backend's request endpoint, `tcp://HOST:PORT`.
    public var requestEndpoint: String { "tcp://\(host):\(port)" }
    /// The backend's result endpoint, `tcp://HOST:PORT_OUT`.
    public var resultEndpoint: String { "tcp://\(host):\(portOut)" }

    /// `HOST:PORT:PORT_OUT`, as given on the command line (also the metrics label).
    public var description: String { "\(host):\(port):\(portOut)" }
}

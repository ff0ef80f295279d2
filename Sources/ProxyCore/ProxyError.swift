/// Why the proxy cannot start or a command line cannot be used.
public enum ProxyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `-backend` value that is not `HOST:PORT:PORT_OUT`.
    case badBackend(String, reason: String)
    /// The same backend given twice.
    case duplicateBackend(String)
    /// A duration flag that must be positive.
    case badDuration(flag: String, value: Double)
    /// A socket could not be opened, bound or connected (with the libzmq message).
    case socket(String)

    public var description: String {
        switch self {
        case .badBackend(let text, let reason):
            "-backend '\(text)': \(reason); expected HOST:PORT:PORT_OUT, the host of a bert-serving-start and its -port and -port_out (e.g. 127.0.0.1:5555:5556)"
        case .duplicateBackend(let text): "-backend '\(text)' is given twice: list each backend once"
        case .badDuration(let flag, let value): "\(flag) \(value): must be a positive number of seconds"
        case .socket(let message): message
        }
    }
}

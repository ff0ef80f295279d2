import ArgparseCompat
import Dispatch
import Logging
import ServerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `bert-serving-proxy` was asked to do.
public struct ProxyOptions: Sendable, Equatable {
    public var backends: [BackendAddress]
    public var port: Int
    public var portOut: Int
    public var httpPort: Int?
    public var healthInterval: Double
    public var healthTimeout: Double
    public var requestTimeout: Double
    public var bindHost: String
    public var verbose: Bool

    /// Reads the parsed namespace.
    /// - Throws: `ProxyError` for a malformed or repeated `-backend`, a non-positive duration.
    public init(arguments: ParsedArguments) throws(ProxyError) {
        var backends: [BackendAddress] = []
        if case .list(let values) = arguments["backend"] {
            for case .string(let text) in values {
                let b = try BackendAddress(parsing: text)
                if backends.contains(b) { throw .duplicateBackend(text) }
                backends.append(b)
            }
        }
        guard !backends.isEmpty else { throw .badBackend("", reason: "no backend given") }
        self.backends = backends
        func int(_ key: String) -> Int? { if case .int(let v) = arguments[key] { v } else { nil } }
        func seconds(_ key: String) throws(ProxyError) -> Double {
            let v: Double
            switch arguments[key] {
            case .float(let d): v = d
            case .int(let i): v = Double(i)
            default: v = 0
            }
            guard v > 0, v.isFinite else { throw .badDuration(flag: "-" + key, value: v) }
            return v
        }
        port = int("port") ?? 5555
        portOut = int("port_out") ?? 5556
        httpPort = int("http_port")
        healthInterval = try seconds("health_interval")
        healthTimeout = try seconds("health_timeout")
        requestTimeout = try seconds("request_timeout")
        if case .string(let host) = arguments["bind_host"] { bindHost = host } else { bindHost = "*" }
        if case .bool(let v) = arguments["verbose"] { verbose = v } else { verbose = false }
    }

    /// The broker's settings for these options.
    public var brokerSettings: BrokerSettings {
        var s = BrokerSettings(port: port, portOut: portOut)
        s.healthInterval = healthInterval
        s.healthTimeout = healthTimeout
        s.requestTimeout = requestTimeout
        return s
    }
}

/// The `bert-serving-proxy` program: parses like argparse, prints the argument table like
/// `bert-serving-start`, runs the broker until TERMINATION, SIGTERM or SIGINT.
public enum ProxyCommand {
    /// The argparse definition (`-h` text, errors, abbreviations as Python 3.7's argparse).
    public static let spec = ParserSpec(
        description: "Start a BertProxy: one address for several BertServers",
        options: [
            .store(["-backend"], type: .string, nargs: .oneOrMore, required: true,
                   help: "a BertServer to forward requests to: its host, -port and -port_out. "
                       + "Repeat the flag or list several",
                   metavar: "HOST:PORT:PORT_OUT"),
            .store(["-port", "-port_in", "-port_data"], type: .int, default: .int(5555),
                   help: "client port for pushing data from client to proxy"),
            .store(["-port_out", "-port_result"], type: .int, default: .int(5556),
                   help: "client port for publishing results from proxy to client"),
            .store(["-http_port"], type: .int, default: .none,
                   help: "port of the proxy's own HTTP endpoints: /metrics (Prometheus), /health, /ready"),
            .store(["-health_interval"], type: .float, default: .float(1),
                   help: "seconds between two health probes (SHOW_STATUS) of each backend"),
            .store(["-health_timeout"], type: .float, default: .float(2),
                   help: "a backend whose probe is unanswered for this many seconds gets no requests until it answers again"),
            .store(["-request_timeout"], type: .float, default: .float(60),
                   help: "seconds a backend has to answer a request before it is retried once on another backend; "
                       + "a request that fails twice gets an error reply"),
            .store(["-bind_host"], type: .string, default: .string("*"),
                   help: "interface -port and -port_out bind to, e.g. 127.0.0.1 (default: every interface)"),
            .flag(["-verbose"], action: .storeTrue, default: .bool(false), help: "turn on debug logging"),
            .flag(["-version"], action: .version("%(prog)s " + ParserSpec.originalVersion),
                  help: "show program's version number and exit"),
        ])

    /// argparse keeps only the last `-backend` of `-backend A -backend B` (its `store` action);
    /// the proxy takes every occurrence, so they are joined into one `-backend A B` first. Tokens
    /// that argparse resolves to `-backend` (unambiguous prefixes such as `-ba`, and `-backend=A`)
    /// count; everything else is left for the parser, including its errors.
    public static func joinBackendOccurrences(_ args: [String]) -> [String] {
        let others = spec.options.flatMap(\.optionStrings).filter { $0 != "-backend" } + ["-h", "--help"]
        func isBackend(_ name: String) -> Bool {
            name.count >= 2 && "-backend".hasPrefix(name) && !others.contains { $0.hasPrefix(name) }
        }
        var out: [String] = []
        var values: [String] = []
        var at: Int?
        var i = 0
        while i < args.count {
            let token = args[i]
            if token == "--" { out += args[i...]; break }
            let name = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? token
            guard token.hasPrefix("-"), isBackend(name) else { out.append(token); i += 1; continue }
            if at == nil { at = out.count; out.append("-backend") }
            i += 1
            if let eq = token.firstIndex(of: "=") {
                values.append(String(token[token.index(after: eq)...]))
                continue
            }
            while i < args.count, !args[i].hasPrefix("-") {
                values.append(args[i])
                i += 1
            }
        }
        if let at { out.insert(contentsOf: values, at: at + 1) }
        return out
    }

    static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Runs `bert-serving-proxy`; `afterStart` runs once the broker is up (the executable starts
    /// its HTTP endpoints there). Returns the exit status.
    public static func main(argv: [String], afterStart: (Broker, ProxyOptions) -> Void = { _, _ in }) -> Int32 {
        let prog = argv.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "bert-serving-proxy"
        var environment: [String: String] = [:]
        if let c = getenv("COLUMNS") { environment["COLUMNS"] = String(cString: c) }
        let parser = ArgumentParser(spec: spec, prog: prog, columns: ArgumentParser.columns(fromEnvironment: environment))
        let parsed: ParsedArguments
        do {
            parsed = try parser.parse(joinBackendOccurrences(Array(argv.dropFirst())))
        } catch {
            write(error.standardOutput, to: 1)
            write(error.standardError, to: 2)
            return error.exitCode
        }
        write(parsed.argumentTable(argv: argv), to: 1)
        let options: ProxyOptions
        do {
            options = try ProxyOptions(arguments: parsed)
        } catch {
            write("E:PROXY:\(error)\n", to: 2)
            return 1
        }
        let verbose = options.verbose
        LoggingSystem.bootstrap { ServerLogHandler(label: $0, verbose: verbose) }
        let logger = Logger(label: "PROXY")
        let broker: Broker
        do {
            broker = try Broker(backends: options.backends, settings: options.brokerSettings, bindHost: options.bindHost)
            try broker.start()
        } catch {
            var hint = ""
            if "\(error)".contains("Address already in use") {
                hint = "; another server or proxy may be running on -port \(options.port) / -port_out \(options.portOut): choose free ports"
            }
            logger.error("\(error)\(hint)")
            return 1
        }
        afterStart(broker, options)
        TerminationSignals.install { _ in broker.terminate() }
        broker.wait()
        return 0
    }
}

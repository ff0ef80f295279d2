#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One recorded server lifetime: the server's flags and every message between it and its
/// clients, as written by CompatTests/capture/bss_capture.py (schema: CompatTests/capture/SCHEMA.md).
public struct Capture: Sendable, Equatable {
    /// How the recorded server was started.
    public struct Server: Sendable, Equatable {
        public var program: String
        public var argv: [String]
        public var port: Int
        public var portOut: Int
        public var modelDir: String?
        public var exitedAfterCapture: Bool?
    }

    /// What the original did with a request it did not simply answer (`expect` in the schema).
    public enum Expectation: String, Sendable, Equatable {
        case error, answer, silence, terminate
    }

    /// One thing the proxy saw; `time` is seconds since the proxy started.
    public enum Event: Sendable, Equatable {
        case clientToServer(time: Double, frames: [[UInt8]], expect: Expectation?)
        case serverToClient(time: Double, frames: [[UInt8]])
        case subscription(time: Double, topic: [UInt8], on: Bool)
        case mark(time: Double, text: String)
    }

    public static let format = "bert-serving-capture"
    public static let version: UInt64 = 1

    public var name: String
    public var description: String
    public var server: Server
    public var events: [Event]

    /// Reads and validates a capture file.
    /// - Throws: `CaptureError` naming the path, offset or field at fault.
    public static func read(path: String) throws(CaptureError) -> Capture {
        try Capture(bytes: readFile(path))
    }

    /// Decodes a capture from the bytes of a file.
    public init(bytes: [UInt8]) throws(CaptureError) {
        let root = try MessagePackValue.decode(bytes)
        guard case .map = root else { throw .notACapture("top level is not a map") }
        guard root["format"] == .string(Self.format) else { throw .notACapture("format is not \(Self.format)") }
        guard root["version"] == .uint(Self.version) else { throw .notACapture("unsupported version") }
        name = try Self.string(root["name"], "name")
        description = (try? Self.string(root["description"], "description")) ?? ""
        guard let srv = root["server"], case .map = srv else { throw .badField(path: "server", expected: "map") }
        guard case .array(let rawArgv) = srv["argv"] ?? .nil else { throw .badField(path: "server.argv", expected: "array") }
        var argv: [String] = []
        for (i, a) in rawArgv.enumerated() { argv.append(try Self.string(a, "server.argv[\(i)]")) }
        server = Server(
            program: try Self.string(srv["program"], "server.program"),
            argv: argv,
            port: try Self.int(srv["port"], "server.port"),
            portOut: try Self.int(srv["port_out"], "server.port_out"),
            modelDir: try Self.optionalString(srv["model_dir"], "server.model_dir"),
            exitedAfterCapture: try Self.optionalBool(srv["exited_after_capture"], "server.exited_after_capture")
        )
        guard case .array(let rawEvents) = root["events"] ?? .nil else { throw .badField(path: "events", expected: "array") }
        var events: [Event] = []
        events.reserveCapacity(rawEvents.count)
        for (i, ev) in rawEvents.enumerated() {
            events.append(try Self.event(ev, index: i))
        }
        self.events = events
    }

    private static func event(_ ev: MessagePackValue, index i: Int) throws(CaptureError) -> Event {
        let path = "events[\(i)]"
        let dir = try string(ev["dir"], "\(path).dir")
        let time = try double(ev["t"], "\(path).t")
        switch dir {
        case "c2s":
            var expect: Expectation?
            if let raw = try optionalString(ev["expect"], "\(path).expect") {
                guard let e = Expectation(rawValue: raw) else { throw .badField(path: "\(path).expect", expected: "error|answer|silence|terminate") }
                expect = e
            }
            return .clientToServer(time: time, frames: try frames(ev["frames"], path), expect: expect)
        case "s2c":
            return .serverToClient(time: time, frames: try frames(ev["frames"], path))
        case "sub":
            guard case .binary(let topic) = ev["topic"] ?? .nil else { throw .badField(path: "\(path).topic", expected: "bin") }
            guard case .bool(let on) = ev["on"] ?? .nil else { throw .badField(path: "\(path).on", expected: "bool") }
            return .subscription(time: time, topic: topic, on: on)
        case "mark":
            return .mark(time: time, text: try string(ev["text"], "\(path).text"))
        default:
            throw .unknownDirection(index: i, dir: dir)
        }
    }

    private static func frames(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> [[UInt8]] {
        guard case .array(let items) = v ?? .nil else { throw .badField(path: "\(path).frames", expected: "array of bin") }
        var out: [[UInt8]] = []
        out.reserveCapacity(items.count)
        for (k, item) in items.enumerated() {
            guard case .binary(let b) = item else { throw .badField(path: "\(path).frames[\(k)]", expected: "bin") }
            out.append(b)
        }
        return out
    }

    private static func string(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> String {
        guard case .string(let s) = v ?? .nil else { throw .badField(path: path, expected: "str") }
        return s
    }

    private static func optionalString(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> String? {
        switch v ?? .nil {
        case .nil: return nil
        case .string(let s): return s
        default: throw .badField(path: path, expected: "str or nil")
        }
    }

    private static func optionalBool(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> Bool? {
        switch v ?? .nil {
        case .nil: return nil
        case .bool(let b): return b
        default: throw .badField(path: path, expected: "bool or nil")
        }
    }

    private static func int(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> Int {
        switch v ?? .nil {
        case .uint(let u) where u <= UInt64(Int.max): return Int(u)
        case .int(let i): return Int(i)
        default: throw .badField(path: path, expected: "int")
        }
    }

    private static func double(_ v: MessagePackValue?, _ path: String) throws(CaptureError) -> Double {
        switch v ?? .nil {
        case .double(let d): return d
        case .uint(let u): return Double(u)
        case .int(let i): return Double(i)
        default: throw .badField(path: path, expected: "float")
        }
    }

    private static func readFile(_ path: String) throws(CaptureError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw .unreadable(path: path, errno: errno) }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(f) != 0 { throw .unreadable(path: path, errno: errno) }
                break
            }
        }
        return out
    }
}

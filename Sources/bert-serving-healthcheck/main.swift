// bert-serving-healthcheck: a container health probe for bert-serving-start.
//
// Sends one SHOW_CONFIG request over the server's ZeroMQ ports, exactly as `BertClient` does on
// connect, and waits for the reply: exit 0 when it arrives in time, 1 otherwise (Docker's
// HEALTHCHECK contract). It needs no `-http_port` and no Python in the image. It always uses the
// identity `bert-serving-healthcheck`, so the server can leave probes out of its client statistics.
//
// Usage: bert-serving-healthcheck [-ip HOST] [-port PORT] [-port_out PORT] [-timeout MS]
// (defaults 127.0.0.1, 5555, 5556, 5000). This is not one of the original's commands; it talks
// to bert-serving-start only through the public wire protocol, with libzmq directly, so the probe
// stays a few hundred kilobytes and depends on nothing but libzmq.
import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fixed client identity of every probe (first frame of the request, SUB prefix of the reply).
let probeIdentity = "bert-serving-healthcheck"

/// Why a probe failed; printed as one line on stderr.
enum ProbeError: Error, CustomStringConvertible {
    case usage(String)
    case zmq(call: String, errno: Int32)
    case noReply(timeoutMs: Int32)
    case badReply(String)

    var description: String {
        switch self {
        case .usage(let message):
            return message
        case .zmq(let call, let code):
            return "\(call) failed: \(String(cString: zmq_strerror(code)))"
        case .noReply(let timeoutMs):
            return "no SHOW_CONFIG reply within \(timeoutMs) ms"
        case .badReply(let detail):
            return "unexpected reply: \(detail)"
        }
    }
}

/// Probe settings from the command line.
struct ProbeOptions {
    var ip = "127.0.0.1"
    var port: Int32 = 5555
    var portOut: Int32 = 5556
    var timeoutMs: Int32 = 5000

    /// Parses `-name value` / `-name=value` pairs.
    /// - Throws: `ProbeError.usage` on an unknown flag, a missing value or a non-integer port/timeout.
    init(arguments: [String]) throws(ProbeError) {
        var index = 0
        while index < arguments.count {
            var name = arguments[index]
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if index + 1 < arguments.count {
                index += 1
                value = arguments[index]
            }
            guard let value else { throw .usage("argument \(name): expected one argument") }
            switch name {
            case "-ip": ip = value
            case "-port": port = try Self.integer(value, for: name)
            case "-port_out": portOut = try Self.integer(value, for: name)
            case "-timeout": timeoutMs = try Self.integer(value, for: name)
            default: throw .usage("unrecognized argument: \(name)")
            }
            index += 1
        }
    }

    private static func integer(_ text: String, for name: String) throws(ProbeError) -> Int32 {
        guard let number = Int32(text), number >= 0 else {
            throw .usage("argument \(name): invalid int value: '\(text)'")
        }
        return number
    }
}

/// One ZeroMQ socket, closed on deinit; used on the main thread only.
final class ProbeSocket {
    let handle: UnsafeMutableRawPointer

    init(context: UnsafeMutableRawPointer, type: Int32) throws(ProbeError) {
        guard let handle = zmq_socket(context, type) else {
            throw .zmq(call: "zmq_socket", errno: zmq_errno())
        }
        self.handle = handle
        // LINGER 0: an unsent request must not keep the probe alive after it gave up.
        try setInt(ZMQ_LINGER, 0)
    }

    deinit { zmq_close(handle) }

    func setInt(_ option: Int32, _ value: Int32) throws(ProbeError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw .zmq(call: "zmq_setsockopt(\(option))", errno: zmq_errno())
        }
    }

    func setBytes(_ option: Int32, _ text: String) throws(ProbeError) {
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw .zmq(call: "zmq_setsockopt(\(option))", errno: zmq_errno()) }
    }

    func connect(_ endpoint: String) throws(ProbeError) {
        guard zmq_connect(handle, endpoint) == 0 else {
            throw .zmq(call: "zmq_connect(\(endpoint))", errno: zmq_errno())
        }
    }

    /// Sends all frames as one multipart message (ZMQ_SNDMORE on all but the last).
    func send(frames: [[UInt8]]) throws(ProbeError) {
        for (index, frame) in frames.enumerated() {
            let flags = index + 1 < frames.count ? ZMQ_SNDMORE : 0
            while true {
                let rc = frame.withUnsafeBufferPointer { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                let code = zmq_errno()
                if code == EINTR { continue }
                throw .zmq(call: "zmq_send", errno: code)
            }
        }
    }

    /// Receives one multipart message; `nil` when nothing arrives before `ZMQ_RCVTIMEO`.
    func receiveFrames() throws(ProbeError) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        guard zmq_msg_init(&message) == 0 else { throw .zmq(call: "zmq_msg_init", errno: zmq_errno()) }
        defer { zmq_msg_close(&message) }
        while true {
            let rc = zmq_msg_recv(&message, handle, 0)
            if rc < 0 {
                let code = zmq_errno()
                if code == EINTR { continue }
                if code == EAGAIN && frames.isEmpty { return nil }
                throw .zmq(call: "zmq_msg_recv", errno: code)
            }
            let size = zmq_msg_size(&message)
            if let data = zmq_msg_data(&message), size > 0 {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}

/// Monotonic milliseconds, for the overall deadline.
func nowMs() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// Sends SHOW_CONFIG and waits for the matching reply `[identity, json, req_id]`.
func probe(_ options: ProbeOptions) throws(ProbeError) {
    guard let context = zmq_ctx_new() else { throw .zmq(call: "zmq_ctx_new", errno: zmq_errno()) }
    defer { zmq_ctx_term(context) }
    let deadline = nowMs() + Int64(options.timeoutMs)
    let identity = Array(probeIdentity.utf8)
    let requestID = Array(String(UInt32.random(in: 1...999_999_999)).utf8)

    // Scoped so both sockets are closed before zmq_ctx_term runs (it blocks on open sockets).
    do {
        let receiver = try ProbeSocket(context: context, type: ZMQ_SUB)
        try receiver.setBytes(ZMQ_SUBSCRIBE, probeIdentity)
        try receiver.connect("tcp://\(options.ip):\(options.portOut)")
        let sender = try ProbeSocket(context: context, type: ZMQ_PUSH)
        // A PUSH socket without a connected peer blocks in send; bound it by the timeout.
        try sender.setInt(ZMQ_SNDTIMEO, options.timeoutMs)
        try sender.connect("tcp://\(options.ip):\(options.port)")
        // Same four frames as BertClient._send(b'SHOW_CONFIG'): identity, command, req_id, msg_len.
        try sender.send(frames: [identity, Array("SHOW_CONFIG".utf8), requestID, Array("0".utf8)])

        while true {
            let remaining = deadline - nowMs()
            guard remaining > 0 else { throw .noReply(timeoutMs: options.timeoutMs) }
            try receiver.setInt(ZMQ_RCVTIMEO, Int32(clamping: remaining))
            guard let frames = try receiver.receiveFrames() else { throw .noReply(timeoutMs: options.timeoutMs) }
            // Replies to other probes share our identity prefix; only ours counts.
            guard frames.count == 3, frames[0] == identity, frames[2] == requestID else { continue }
            let body = String(decoding: frames[1], as: UTF8.self)
            guard body.hasPrefix("{"), body.contains("\"server_version\"") else {
                throw .badReply("config body is not a server config: \(body.prefix(80))")
            }
            return
        }
    }
}

do {
    let options = try ProbeOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    try probe(options)
    exit(0)
} catch {
    // write(2) on fd 2: the C `stderr` global is shared mutable state under Swift 6.
    let line = Array("bert-serving-healthcheck: \(error)\n".utf8)
    _ = line.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

import ArgparseCompat
import Foundation
import ZeroMQ

/// Why one request of a benchmark client failed.
public enum StockClientError: Error, Equatable, CustomStringConvertible {
    /// The socket failed (`ETERM` when the run was aborted).
    case transport(ZMQError)
    /// The server answered with an error header (`dtype` "ERROR: …").
    case serverError(String)
    /// A reply that is not a well-formed encode result for the request.
    case malformedReply(String)

    public var description: String {
        switch self {
        case .transport(let error): return error.description
        case .serverError(let message): return "the server answered \(message)"
        case .malformedReply(let what): return "unusable reply: \(what)"
        }
    }
}

/// The stock `BertClient` protocol (bert_serving/client/__init__.py), the part the benchmark needs.
///
/// Requests go out on a `PUSH` socket as `[identity, body, req_id, msg_len]`; replies come back on
/// a `SUB` socket subscribed to the identity: `[identity, json, req_id]` for SHOW_CONFIG,
/// `[identity, {"dtype","shape","tokens"}, raw bytes, req_id]` for an encode. Not thread safe:
/// like its sockets it belongs to one thread.
final class StockClient {
    private let sender: Socket
    private let receiver: Socket
    /// `str(uuid.uuid4()).encode('ascii')`.
    let identity: [UInt8]
    private var requestID = 0

    /// Connects like `BertClient(ip, port, port_out)`: LINGER 0, SUB on the identity.
    init(context: Context, host: String, port: Int, portOut: Int) throws(ZMQError) {
        identity = Array(UUID().uuidString.lowercased().utf8)
        sender = try Socket(context, .push)
        try sender.setLinger(0)
        try sender.connect("tcp://\(host):\(port)")
        receiver = try Socket(context, .sub)
        try receiver.setLinger(0)
        try receiver.subscribe(identity)
        try receiver.connect("tcp://\(host):\(portOut)")
    }

    func close() {
        sender.close()
        receiver.close()
    }

    /// `BertClient._send`: the next request id, and `msg_len` as decimal text.
    private func send(_ body: [UInt8], count: Int) throws(ZMQError) -> Int {
        requestID += 1
        try sender.send([identity, body, Array(String(requestID).utf8), Array(String(count).utf8)])
        return requestID
    }

    /// Sends SHOW_CONFIG and waits up to `timeoutMilliseconds` for any configuration reply
    /// (a late answer to an earlier probe counts: it proves the server is serving).
    /// - Returns: the JSON text, or nil on timeout.
    func showConfig(timeoutMilliseconds: Int32) throws(ZMQError) -> [UInt8]? {
        _ = try send(Array("SHOW_CONFIG".utf8), count: 0)
        try receiver.setReceiveTimeout(timeoutMilliseconds)
        defer { try? receiver.setReceiveTimeout(-1) }
        while true {
            let frames: [[UInt8]]
            do {
                frames = try receiver.receive()
            } catch {
                if error.isTimeout { return nil }
                throw error
            }
            if frames.count == 3 { return frames[1] }
        }
    }

    /// `BertClient.encode(texts)` without the client-side checks the benchmark disables; blocks
    /// until the reply to this request arrives (replies to other ids are skipped).
    /// - Returns: the number of rows the server returned.
    func encode(_ texts: [String]) throws(StockClientError) -> Int {
        let id: Int
        let frames: [[UInt8]]
        do {
            id = try send(Array(Self.jsonList(texts).utf8), count: texts.count)
            let idText = Array(String(id).utf8)
            var reply: [[UInt8]]
            repeat {
                reply = try receiver.receive()
            } while reply.last != idText
            frames = reply
        } catch {
            throw .transport(error)
        }
        return try Self.checkEncodeReply(frames, expectedRows: texts.count)
    }

    /// Validates an encode reply the way `_recv_ndarray` + `np.frombuffer(...).reshape(shape)`
    /// would fail on it.
    static func checkEncodeReply(_ frames: [[UInt8]], expectedRows: Int) throws(StockClientError) -> Int {
        guard frames.count == 4 else { throw .malformedReply("\(frames.count) frames instead of 4") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(frames[1])),
            let header = object as? [String: Any], let dtype = header["dtype"] as? String
        else { throw .malformedReply("header is not a JSON object with a dtype") }
        if dtype.hasPrefix("ERROR") { throw .serverError(dtype) }
        guard let shape = header["shape"] as? [Int], let rows = shape.first else {
            throw .malformedReply("header has no shape")
        }
        let itemSize: Int
        switch dtype {
        case "float32": itemSize = 4
        case "float16": itemSize = 2
        default: throw .malformedReply("dtype \(dtype)")
        }
        var elements = 1
        for dimension in shape {
            let product = elements.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !product.overflow else { throw .malformedReply("shape \(shape)") }
            elements = product.partialValue
        }
        let bytes = elements.multipliedReportingOverflow(by: itemSize)
        guard !bytes.overflow, bytes.partialValue == frames[2].count else {
            throw .malformedReply("\(frames[2].count) payload bytes for shape \(shape) \(dtype)")
        }
        guard rows == expectedRows else { throw .malformedReply("\(rows) rows for \(expectedRows) sentences") }
        return rows
    }

    /// `jsonapi.dumps(texts)` for a list of strings: `json.dumps` with `ensure_ascii`, written by
    /// ArgparseCompat's Python-compatible JSON (`ParsedValue.jsonText`).
    static func jsonList(_ texts: [String]) -> String {
        ParsedValue.list(texts.map { .string($0) }).jsonText
    }
}

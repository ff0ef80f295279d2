/// What the HTTP front needs from the server's pipeline: encode, SHOW_CONFIG, SHOW_STATUS.
///
/// `ZeroMQBridge` is the real implementation (an in-process ZeroMQ client of the `-port` / `-port_out`
/// sockets); tests use a fake. Implementations are safe to call from many tasks at once.
public protocol EmbeddingBackend: Sendable {
    /// Sends one encode request, as the stock client's `encode(texts, is_tokenized=…)` does, and waits for its reply.
    func encode(_ request: EncodeRequest) async throws(BackendError) -> EncodedBatch
    /// The server's SHOW_CONFIG reply: the JSON bytes the sink sent.
    func serverConfig() async throws(BackendError) -> [UInt8]
    /// The server's SHOW_STATUS reply: the JSON bytes the sink sent.
    func serverStatus() async throws(BackendError) -> [UInt8]
    /// The bridge's own client status (the original's `BertClient.status`), for `GET /status/client`.
    func clientStatus() -> ClientStatus
    /// True once the server has answered one command (the bridge is subscribed and the pipeline is up).
    var isReady: Bool { get }
}

/// Texts of one encode request: plain sentences, or pre-tokenized ones (`is_tokenized=True`).
public enum EncodeRequest: Sendable, Equatable {
    case texts([String])
    case tokenized([[String]])

    /// Number of sequences (the `msg_len` frame).
    public var count: Int {
        switch self {
        case .texts(let t): t.count
        case .tokenized(let t): t.count
        }
    }

    /// The payload frame: `jsonapi.dumps(texts)` as pyzmq 26 writes it (`", "` separators, `ensure_ascii`).
    public var payload: [UInt8] {
        var w = JSONWriter(sortKeys: false, ensureASCII: true, capacity: 64 * count)
        func list(_ items: [String]) {
            w.raw("[")
            for (i, s) in items.enumerated() {
                if i > 0 { w.raw(", ") }
                w.writeString(s)
            }
            w.raw("]")
        }
        switch self {
        case .texts(let t): list(t)
        case .tokenized(let t):
            w.raw("[")
            for (i, s) in t.enumerated() {
                if i > 0 { w.raw(", ") }
                list(s)
            }
            w.raw("]")
        }
        return w.bytes
    }
}

/// One encode reply: the `{"dtype","shape","tokens"}` header and the raw little-endian array.
public struct EncodedBatch: Sendable, Equatable {
    /// `float32` or `float16`.
    public var dtype: String
    /// `[sequences, hidden]`, or `[sequences, seqLen, hidden]` with `-pooling_strategy NONE`.
    public var shape: [Int]
    /// Row-major values widened to `Float`.
    public var values: [Float]
    /// The server's tokenization when it runs with `-show_tokens_to_client`, else nil.
    public var tokens: [[String]]?

    public init(dtype: String, shape: [Int], values: [Float], tokens: [[String]]?) {
        self.dtype = dtype
        self.shape = shape
        self.values = values
        self.tokens = tokens
    }
}

/// Why the backend could not answer.
public enum BackendError: Error, Equatable, CustomStringConvertible {
    /// No reply within the deadline.
    case timeout(seconds: Double)
    /// The bridge is not running (shut down or failed to start).
    case unavailable(String)
    /// The server answered with an error header (`dtype` = `ERROR: <message>`).
    case serverError(String)
    /// The reply frames do not parse.
    case malformedReply(String)
    /// The waiting task was cancelled (the HTTP client went away).
    case cancelled

    public var description: String {
        switch self {
        case .timeout(let s): "no reply from the server within \(PythonFormat.floatRepr(s)) s"
        case .unavailable(let why): "the ZeroMQ bridge is not available: \(why)"
        case .serverError(let m): m
        case .malformedReply(let m): "malformed reply from the server: \(m)"
        case .cancelled: "request cancelled"
        }
    }
}

/// The original's `BertClient.status` of the proxy's client.
public struct ClientStatus: Sendable, Equatable {
    public var identity: [UInt8]
    public var numRequest: Int
    public var pendingRequests: [Int]
    public var port: Int
    public var portOut: Int
    public var serverIP: String
    public var timeoutMilliseconds: Int

    public init(identity: [UInt8], numRequest: Int, pendingRequests: [Int], port: Int, portOut: Int, serverIP: String, timeoutMilliseconds: Int) {
        self.identity = identity
        self.numRequest = numRequest
        self.pendingRequests = pendingRequests
        self.port = port
        self.portOut = portOut
        self.serverIP = serverIP
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// As Flask-JSON writes the dict: `identity` (bytes) becomes a list of ints, the pending set a list.
    public var json: JSONValue {
        .object([
            ("client_version", .string("1.10.0")),
            ("identity", .array(identity.map { .integer(String($0)) })),
            ("num_pending_request", .integer(String(pendingRequests.count))),
            ("num_request", .integer(String(numRequest))),
            ("output_fmt", .string("list")),
            ("pending_request", .array(pendingRequests.map { .integer(String($0)) })),
            ("port", .integer(String(port))),
            ("port_out", .integer(String(portOut))),
            ("server_ip", .string(serverIP)),
            ("timeout", .integer(String(timeoutMilliseconds))),
        ])
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The `-http_port` front: the original Flask proxy's routes (`POST /encode`, `GET /status/server`,
/// `GET /status/client`) plus `POST /v1/embeddings`, `/health`, `/ready`, `/metrics` and a dashboard at `/`.
///
/// Every encode goes through `backend` (in the server, a `ZeroMQBridge`), i.e. through the same ventilator
/// and workers as ZeroMQ clients. Run it on its own task: `try await HTTPServer(...).run()`.
public struct HTTPServer: Sendable {
    /// Listening address and limits.
    public struct Configuration: Sendable {
        /// Bind address; the original binds `0.0.0.0`.
        public var host: String
        public var port: Int
        /// `-http_max_connect`: encode requests served at once; more are refused like the original
        /// ("Too many concurrent connections!…", HTTP 400; 429 on /v1/embeddings).
        public var maxConnect: Int
        /// `-cors`: `*` or one origin (flask-cors semantics).
        public var cors: String
        /// Largest request body accepted (413 beyond).
        public var maxBodyBytes: Int
        /// Most sequences in one request (400 beyond).
        public var maxTexts: Int
        /// Longest sequence, in characters (code points) or tokens when pre-tokenized (400 beyond).
        public var maxTextLength: Int
        /// Responses at least this long are compressed when the client accepts gzip/deflate (flask-compress: 500).
        public var compressMinSize: Int

        public init(
            host: String = "0.0.0.0", port: Int, maxConnect: Int = 10, cors: String = "*",
            maxBodyBytes: Int = 16 << 20, maxTexts: Int = 10_000, maxTextLength: Int = 100_000, compressMinSize: Int = 500
        ) {
            self.host = host
            self.port = port
            self.maxConnect = maxConnect
            self.cors = cors
            self.maxBodyBytes = maxBodyBytes
            self.maxTexts = maxTexts
            self.maxTextLength = maxTextLength
            self.compressMinSize = compressMinSize
        }
    }

    public let configuration: Configuration
    public let backend: any EmbeddingBackend
    public let metrics: HTTPMetrics
    let logger: Logger
    let limiter: ConcurrencyLimiter
    let tokenCounter: TokenCounter

    public init(configuration: Configuration, backend: any EmbeddingBackend, metrics: HTTPMetrics = HTTPMetrics(), logger: Logger = Logger(label: "PROXY")) {
        self.configuration = configuration
        self.backend = backend
        self.metrics = metrics
        self.logger = logger
        self.limiter = ConcurrencyLimiter(limit: configuration.maxConnect)
        self.tokenCounter = TokenCounter()
    }

    /// The Hummingbird application (routes + middleware), for `run()` and for tests.
    public func makeApplication() -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            logger: logger
        )
    }

    /// Serves until the task is cancelled.
    public func run() async throws {
        try await makeApplication().run()
    }

    /// All routes, behind the CORS and metrics middleware.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FrontMiddleware(cors: configuration.cors, metrics: metrics))
        router.post("/encode") { request, _ in await self.encode(request) }
        router.get("/status/server") { request, _ in await self.statusServer(request) }
        router.get("/status/client") { request, _ in self.statusClient(request) }
        router.post("/v1/embeddings") { request, _ in await self.embeddings(request) }
        router.get("/health") { request, _ in self.respond(request, .ok, json: .object([("status", .string("ok"))])) }
        router.get("/ready") { request, _ in
            let ready = self.backend.isReady
            return self.respond(request, ready ? .ok : .serviceUnavailable, json: .object([("ready", .bool(ready))]))
        }
        router.get("/metrics") { request, _ in
            self.respond(request, .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: self.metrics.render())
        }
        router.get("/") { request, _ in
            self.respond(request, .ok, contentType: "text/html; charset=utf-8", body: Array(Dashboard.html.utf8))
        }
        return router
    }

    // MARK: - responses

    /// A response with Flask's conventions: `Vary: Accept-Encoding`, gzip/deflate for 2xx bodies of at least
    /// `compressMinSize` bytes of a text type when the client asks (flask-compress).
    func respond(_ request: Request, _ status: HTTPResponse.Status, contentType: String, body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.vary] = "Accept-Encoding"
        var buffer = ByteBuffer(bytes: body)
        if (200..<300).contains(status.code), body.count >= configuration.compressMinSize, Compression.isCompressible(contentType),
            let coding = Compression.choose(request.headers[.acceptEncoding]), let packed = Compression.compress(&buffer, coding)
        {
            buffer = packed
            headers[.contentEncoding] = coding
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// JSON as Flask-JSON writes it: compact, sorted keys, trailing newline.
    func respond(_ request: Request, _ status: HTTPResponse.Status, json: JSONValue) -> Response {
        var w = JSONWriter(sortKeys: true)
        w.write(json)
        w.raw("\n")
        return respond(request, status, contentType: "application/json", body: w.bytes)
    }

    /// Flask-JSON's `JsonError(description=…, type=…)`: `{"description","status","type"}`.
    func flaskError(_ request: Request, _ status: HTTPResponse.Status, description: String, type: String?, kind: String) -> Response {
        metrics.error(kind: kind)
        var pairs: [(String, JSONValue)] = [("description", .string(description)), ("status", .integer(String(status.code)))]
        if let type { pairs.append(("type", .string(type))) }
        return respond(request, status, json: .object(pairs))
    }

    // MARK: - status

    func statusServer(_ request: Request) async -> Response {
        do {
            let bytes = try await metrics.measureBackend(kind: "SHOW_STATUS") { () async throws(BackendError) -> [UInt8] in
                try await backend.serverStatus()
            }
            guard case .object(var pairs) = try? JSONValue.parse(bytes) else {
                return flaskError(request, .badGateway, description: "SHOW_STATUS reply is not a JSON object", type: "ValueError", kind: "server_error")
            }
            pairs.removeAll { $0.0 == "status" }
            pairs.append(("status", .integer("200")))
            return respond(request, .ok, json: .object(pairs))
        } catch {
            return backendFailure(request, error)
        }
    }

    func statusClient(_ request: Request) -> Response {
        guard case .object(var pairs) = backend.clientStatus().json else { return respond(request, .internalServerError, json: .null) }
        pairs.append(("status", .integer("200")))
        return respond(request, .ok, json: .object(pairs))
    }

    /// Maps a backend failure to a Flask-style error (the original would have hung or crashed instead).
    func backendFailure(_ request: Request, _ error: BackendError) -> Response {
        switch error {
        case .timeout:
            return flaskError(request, .gatewayTimeout, description: error.description, type: "TimeoutError", kind: "backend_timeout")
        case .unavailable:
            return flaskError(request, .serviceUnavailable, description: error.description, type: "ConnectionError", kind: "backend_unavailable")
        case .serverError(let dtype):
            // What np.frombuffer says to the original proxy about our server's error header.
            return flaskError(request, .badRequest, description: "data type \"\(dtype)\" not understood", type: "TypeError", kind: "server_error")
        case .malformedReply:
            return flaskError(request, .badGateway, description: error.description, type: "ValueError", kind: "server_error")
        case .cancelled:
            return flaskError(request, .badRequest, description: error.description, type: "CancelledError", kind: "cancelled")
        }
    }
}

/// Counts encode requests in flight against `-http_max_connect` (the original's `ConcurrentBertClient` pool).
final class ConcurrencyLimiter: Sendable {
    let limit: Int
    private let inFlight: Mutex<Int>

    init(limit: Int) {
        self.limit = limit
        self.inFlight = Mutex(0)
    }

    /// Takes a slot; false when all `limit` are taken.
    func acquire() -> Bool {
        inFlight.withLock { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    func release() { inFlight.withLock { $0 -= 1 } }
}

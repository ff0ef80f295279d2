import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// Sends requests straight to a router's responder (routes and middleware), the way Hummingbird's
/// HTTP server hands them over, without a socket.
///
/// It stands in for HummingbirdTesting's `.router` mode: that module also brings its live-server
/// client, AsyncHTTPClient, and with it BoringSSL, about 400 C files that CI compiled for these
/// tests alone. The live HTTP front is tested over real sockets by CompatTests/http.
struct RouterClient: Sendable {
    /// A response as the server would write it: head and the whole body.
    struct Response {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
    }

    private let respond: @Sendable (Request, BasicRequestContext) async throws -> Hummingbird.Response

    /// Runs `body` with a client of `router` (what `HTTPServer.makeApplication` serves).
    static func run<Value>(
        _ router: Router<BasicRequestContext>, _ body: (RouterClient) async throws -> Value
    ) async throws -> Value {
        let responder = router.buildResponder()
        return try await body(RouterClient(respond: { try await responder.respond(to: $0, context: $1) }))
    }

    /// Sends one request and passes its response to `check`.
    func execute<Value>(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        _ check: (Response) async throws -> Value
    ) async throws -> Value {
        var headers = headers
        if let body { headers[.contentLength] = String(body.readableBytes) }
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
            body: RequestBody(buffer: body ?? ByteBuffer()))
        let context = BasicRequestContext(
            source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: Logger(label: "test")))
        let response: Hummingbird.Response
        do {
            response = try await respond(request, context)
        } catch {
            // What the server answers for an error that is not an HTTPResponseError.
            response = Hummingbird.Response(status: .internalServerError)
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        return try await check(Response(status: response.status, headers: response.headers, body: collector.buffer))
    }
}

/// Collects a response body's buffers.
private final class BodyCollector: ResponseBodyWriter {
    var buffer = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

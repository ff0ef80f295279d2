import HTTPTypes
import Hummingbird
import NIOCore

/// CORS as flask-cors answers with `origins=-cors`, plus request metrics, around every route.
struct FrontMiddleware<Context: RequestContext>: RouterMiddleware {
    let cors: String
    let metrics: HTTPMetrics

    static var knownRoutes: Set<String> { ["/encode", "/status/server", "/status/client", "/v1/embeddings", "/health", "/ready", "/metrics", "/"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.httpStarted()
        defer { metrics.httpFinished() }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            // flask-cors preflight: 200, empty body, echo the requested headers, list every method.
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.vary] = "Accept-Encoding"
            if let asked = request.headers[.accessControlRequestHeaders] { headers[.accessControlAllowHeaders] = asked }
            headers[.accessControlAllowMethods] = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
            response = Response(status: .ok, headers: headers)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPError {
                metrics.error(kind: error.status == .notFound ? "not_found" : "bad_request")
                response = Self.errorResponse(error.status, error.body ?? error.status.reasonPhrase)
            } catch {
                metrics.error(kind: "server_error")
                response = Self.errorResponse(.internalServerError, "\(error)")
            }
        }
        addCORS(request, &response.headers)
        let path = request.uri.path
        metrics.request(route: Self.knownRoutes.contains(path) ? path : "other", status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ description: String) -> Response {
        var w = JSONWriter()
        w.write(.object([("description", .string(description)), ("status", .integer(String(status.code)))]))
        w.raw("\n")
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.vary] = "Accept-Encoding"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// flask-cors `get_cors_origins`: `*` echoes a request's Origin (and varies on it) or sends `*`;
    /// a configured origin is echoed when it matches, and sent as is when the request has no Origin.
    func addCORS(_ request: Request, _ headers: inout HTTPFields) {
        let origin = request.headers[.origin]
        if cors == "*" {
            if let origin {
                headers[.accessControlAllowOrigin] = origin
                let vary = headers[.vary].map { $0 + ", Origin" } ?? "Origin"
                headers[.vary] = vary
            } else {
                headers[.accessControlAllowOrigin] = "*"
            }
        } else if let origin {
            if origin.lowercased() == cors.lowercased() { headers[.accessControlAllowOrigin] = origin }
        } else {
            headers[.accessControlAllowOrigin] = cors
        }
    }
}

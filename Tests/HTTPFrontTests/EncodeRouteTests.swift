import HTTPFront
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// `POST /encode` against a fake backend; expected bodies were recorded from the original Flask proxy
/// (bert-serving-server 1.10.0 `-http_port`, Flask 2.2.5, Flask-JSON 0.4.0) with CompatTests/reference/http_probe.py.
@Suite(.timeLimit(.minutes(1)))
struct EncodeRouteTests {
    static func app(_ backend: FakeBackend = FakeBackend(), maxConnect: Int = 10, configure: (inout HTTPServer.Configuration) -> Void = { _ in }) -> Router<BasicRequestContext> {
        var c = HTTPServer.Configuration(port: 0, maxConnect: maxConnect)
        configure(&c)
        return HTTPServer(configuration: c, backend: backend).makeRouter()
    }

    static func post(_ client: RouterClient, _ body: String, contentType: String = "application/json", headers extra: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        var headers = extra
        headers[.contentType] = contentType
        return try await client.execute(uri: "/encode", method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
            (r.status, String(buffer: r.body), r.headers)
        }
    }

    @Test func encodesTextsAndEchoesTheId() async throws {
        try await RouterClient.run(Self.app()) { client in
            let (status, body, headers) = try await Self.post(client, #"{"id": 123, "texts": ["hello world", "good day!"], "is_tokenized": false}"#)
            #expect(status == .ok)
            #expect(headers[.contentType] == "application/json")
            #expect(body == #"{"id":123,"result":[[11.0,0.0,0.5,-9.999999747378752e-06],[9.0,1.0,0.5,-9.999999747378752e-06]],"status":200}"# + "\n")
        }
    }

    @Test func tokenizedInputIsSentAsTokenLists() async throws {
        let backend = FakeBackend()
        try await RouterClient.run(Self.app(backend)) { client in
            let (status, body, _) = try await Self.post(client, #"{"id": "x", "texts": [["hello", "world"]], "is_tokenized": 1}"#)
            #expect(status == .ok)
            #expect(body.hasPrefix(#"{"id":"x","result":[[2.0,0.0,"#))
        }
        #expect(backend.requests.withLock { $0 } == [.tokenized([["hello", "world"]])])
    }

    /// (body, content type, expected description, expected type) as the original answered them.
    static let originalErrors: [(String, String, String, String?)] = [
        (#"{"texts": ["a"]}"#, "application/json", "'id'", "KeyError"),
        (#"{"id": 1}"#, "application/json", "'texts'", "KeyError"),
        (#"{"id": 1, "texts": "hello"}"#, "application/json", #""hello" must be <class 'list'>, but received <class 'str'>"#, "TypeError"),
        (#"{"id": 1, "texts": []}"#, "application/json", #""[]" must be a non-empty list, but received <class 'list'> with 0 elements"#, "ValueError"),
        (#"{"id": 1, "texts": ["a", 3]}"#, "application/json", "all elements in the list must be <class 'str'>, but element 1 is <class 'int'>", "TypeError"),
        (#"{"id": 1, "texts": ["a", " "]}"#, "application/json", "all elements in the list must be non-empty string, but element 1 is ' '", "ValueError"),
        (#"{"id": 1, "texts": {"a": [1, 2.5, null, true]}}"#, "application/json", #""{'a': [1, 2.5, None, True]}" must be <class 'list'>, but received <class 'dict'>"#, "TypeError"),
        (#"{"id": 1, "texts": ["ab"], "is_tokenized": true}"#, "application/json", #""ab" must be <class 'list'>, but received <class 'str'>"#, "TypeError"),
        (#"{"id": 1, "texts": ["ab"], "is_tokenized": "yes"}"#, "application/json", #""ab" must be <class 'list'>, but received <class 'str'>"#, "TypeError"),
        ("[1, 2]", "application/json", "list indices must be integers or slices, not str", "TypeError"),
        ("{bad", "application/json", "Not a JSON.", nil),
        (#"{"id":1,"texts":["a"]}"#, "text/plain", "Not a JSON.", nil),
        ("id=5&texts=hello+world", "application/x-www-form-urlencoded", #""hello world" must be <class 'list'>, but received <class 'str'>"#, "TypeError"),
        ("id=5&texts=hello&texts=world", "application/x-www-form-urlencoded", #""hello" must be <class 'list'>, but received <class 'str'>"#, "TypeError"),
    ]

    @Test(arguments: 0..<originalErrors.count)
    func errorsReadLikeTheOriginal(_ i: Int) async throws {
        let (body, contentType, description, type) = Self.originalErrors[i]
        try await RouterClient.run(Self.app()) { client in
            let (status, text, _) = try await Self.post(client, body, contentType: contentType)
            #expect(status == .badRequest)
            var expected = JSONWriter()
            var pairs: [(String, JSONValue)] = [("description", .string(description)), ("status", .integer("400"))]
            if let type { pairs.append(("type", .string(type))) }
            expected.write(.object(pairs))
            #expect(text == String(decoding: expected.bytes, as: UTF8.self) + "\n")
        }
    }

    @Test func tooManyConcurrentRequestsAreRefusedLikeTheOriginal() async throws {
        let backend = FakeBackend(delay: .milliseconds(300))
        try await RouterClient.run(Self.app(backend, maxConnect: 2)) { client in
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let (s, b, _) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#)
                        return (s, b)
                    }
                }
                var all: [(HTTPResponse.Status, String)] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(statuses.filter { $0.0 == .ok }.count == 2)
            let refused = statuses.filter { $0.0 == .badRequest }
            #expect(refused.count == 3)
            #expect(refused.allSatisfy { $0.1.contains(#"Too many concurrent connections!Try to increase the value of \"max_concurrency\", currently =2"#) })
        }
    }

    @Test func serverErrorHeaderReadsLikeNumpysTypeError() async throws {
        let backend = FakeBackend(failure: .serverError("ERROR: engine failed"))
        try await RouterClient.run(Self.app(backend)) { client in
            let (status, body, _) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#)
            #expect(status == .badRequest)
            #expect(body.contains(#""description":"data type \"ERROR: engine failed\" not understood""#))
            #expect(body.contains(#""type":"TypeError""#))
        }
    }

    @Test func timeoutIs504() async throws {
        try await RouterClient.run(Self.app(FakeBackend(failure: .timeout(seconds: 1.5)))) { client in
            let (status, body, _) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#)
            #expect(status == .gatewayTimeout)
            #expect(body.contains("TimeoutError"))
        }
    }

    @Test func bodyLimitIs413() async throws {
        try await RouterClient.run(Self.app(configure: { $0.maxBodyBytes = 100 })) { client in
            let big = #"{"id": 1, "texts": [""# + String(repeating: "x", count: 200) + #""]}"#
            let (status, body, _) = try await Self.post(client, big)
            #expect(status == .contentTooLarge)
            #expect(body.contains("request body larger than 100 bytes"))
        }
    }

    @Test func textCountAndLengthLimitsAre400() async throws {
        try await RouterClient.run(Self.app(configure: { $0.maxTexts = 2; $0.maxTextLength = 5 })) { client in
            let (s1, b1, _) = try await Self.post(client, #"{"id": 1, "texts": ["a", "b", "c"]}"#)
            #expect(s1 == .badRequest)
            #expect(b1.contains("too many sequences in one request: 3 > 2"))
            let (s2, b2, _) = try await Self.post(client, #"{"id": 1, "texts": ["abcdef"]}"#)
            #expect(s2 == .badRequest)
            #expect(b2.contains("sequence 0 is 6 characters long; the limit is 5"))
        }
    }

    @Test func largeResponsesAreGzippedWhenAsked() async throws {
        try await RouterClient.run(Self.app()) { client in
            let texts = (0..<40).map { "\"sentence \($0)\"" }.joined(separator: ",")
            let (status, _, headers) = try await Self.post(client, #"{"id": 1, "texts": [\#(texts)]}"#, headers: [.acceptEncoding: "gzip, deflate"])
            #expect(status == .ok)
            #expect(headers[.contentEncoding] == "gzip")
            #expect(headers[.vary] == "Accept-Encoding")
            let (_, _, small) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#, headers: [.acceptEncoding: "gzip"])
            #expect(small[.contentEncoding] == nil)
            let (_, _, deflate) = try await Self.post(client, #"{"id": 1, "texts": [\#(texts)]}"#, headers: [.acceptEncoding: "deflate"])
            #expect(deflate[.contentEncoding] == "deflate")
        }
    }

    @Test func corsEchoesTheOriginLikeFlaskCors() async throws {
        try await RouterClient.run(Self.app()) { client in
            let (_, _, plain) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#)
            #expect(plain[.accessControlAllowOrigin] == "*")
            let (_, _, withOrigin) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#, headers: [.origin: "http://example.com"])
            #expect(withOrigin[.accessControlAllowOrigin] == "http://example.com")
            #expect(withOrigin[.vary] == "Accept-Encoding, Origin")
            try await client.execute(
                uri: "/encode", method: .options,
                headers: [.origin: "http://example.com", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type"]
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.accessControlAllowMethods] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
                #expect(r.headers[.accessControlAllowHeaders] == "content-type")
            }
        }
        try await RouterClient.run(Self.app(configure: { $0.cors = "http://a.example" })) { client in
            let (_, _, other) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#, headers: [.origin: "http://b.example"])
            #expect(other[.accessControlAllowOrigin] == nil)
            let (_, _, same) = try await Self.post(client, #"{"id": 1, "texts": ["a"]}"#, headers: [.origin: "http://a.example"])
            #expect(same[.accessControlAllowOrigin] == "http://a.example")
        }
    }

    @Test func msgpackInAndOut() async throws {
        let request: [UInt8] = {
            let p = MsgPackPacker()
            p.pack(.object([("id", .integer("7")), ("texts", .array([.string("hello"), .string("hi")]))]))
            return p.bytes
        }()
        try await RouterClient.run(Self.app()) { client in
            try await client.execute(
                uri: "/encode", method: .post, headers: [.contentType: "application/msgpack", .accept: "application/msgpack"], body: ByteBuffer(bytes: request)
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/msgpack")
                let decoded = try MsgPack.decode(Array(r.body.readableBytesView))
                #expect(decoded["id"] == .integer("7"))
                #expect(decoded["status"] == .integer("200"))
                guard case .array(let rows)? = decoded["result"], rows.count == 2, case .array(let first) = rows[0] else {
                    Issue.record("bad result \(decoded)")
                    return
                }
                #expect(first == [.float(5), .float(0), .float(0.5), .float(Double(Float(-1e-5)))])
            }
            try await client.execute(uri: "/encode", method: .post, headers: [.contentType: "application/msgpack"], body: ByteBuffer(bytes: [0xc1])) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains("Not a MessagePack document"))
            }
        }
    }
}

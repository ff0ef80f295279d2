import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// `/v1/embeddings`, `/status/*`, `/health`, `/ready`, `/metrics` and `/` against a fake backend.
@Suite(.timeLimit(.minutes(1)))
struct FrontRouteTests {
    static func app(_ backend: FakeBackend = FakeBackend(), metrics: HTTPMetrics = HTTPMetrics()) -> Router<BasicRequestContext> {
        HTTPServer(configuration: .init(port: 0, maxConnect: 4), backend: backend, metrics: metrics).makeRouter()
    }

    static func embed(_ client: RouterClient, _ body: String) async throws -> (HTTPResponse.Status, JSONValue) {
        try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { r in
            (r.status, try JSONValue.parse(Array(r.body.readableBytesView)))
        }
    }

    @Test func embeddingsOfAStringAndAList() async throws {
        try await RouterClient.run(Self.app(FakeBackend(showTokens: true))) { client in
            let (s1, one) = try await Self.embed(client, #"{"model": "m1", "input": "hello world", "encoding_format": "float"}"#)
            #expect(s1 == .ok)
            #expect(one["object"] == .string("list"))
            #expect(one["model"] == .string("m1"))
            guard case .array(let data)? = one["data"], data.count == 1 else { Issue.record("no data: \(one)"); return }
            #expect(data[0]["embedding"] == .array([.float(11), .float(0), .float(0.5), .float(Double(Float(-1e-5)))]))
            #expect(data[0]["index"] == .integer("0"))
            #expect(one["usage"] == .object([("prompt_tokens", .integer("4")), ("total_tokens", .integer("4"))]))
            let (s2, many) = try await Self.embed(client, #"{"model": "m", "input": ["a", "bb"]}"#)
            #expect(s2 == .ok)
            guard case .array(let rows)? = many["data"] else { Issue.record("no data"); return }
            #expect(rows.map { $0["index"] } == [.integer("0"), .integer("1")])
        }
    }

    @Test func base64IsLittleEndianFloat32() async throws {
        try await RouterClient.run(Self.app()) { client in
            let (status, body) = try await Self.embed(client, #"{"model": "m", "input": ["abc"], "encoding_format": "base64"}"#)
            #expect(status == .ok)
            guard case .array(let data)? = body["data"], case .string(let b64)? = data.first?["embedding"],
                let raw = Data(base64Encoded: b64)
            else { Issue.record("no base64 embedding: \(body)"); return }
            let bytes = [UInt8](raw)
            var floats: [Float] = []
            for i in stride(from: 0, to: bytes.count, by: 4) {
                var bits = UInt32(bytes[i])
                bits |= UInt32(bytes[i + 1]) << 8
                bits |= UInt32(bytes[i + 2]) << 16
                bits |= UInt32(bytes[i + 3]) << 24
                floats.append(Float(bitPattern: bits))
            }
            #expect(floats == [3, 0, 0.5, -1e-5])
        }
    }

    static let refused: [(String, String)] = [
        (#"{"model": "m", "input": "x", "dimensions": 8}"#, "dimensions"),
        (#"{"model": "m", "input": [1, 2]}"#, "input"),
        (#"{"model": "m", "input": [[1, 2]]}"#, "input"),
        (#"{"model": "m", "input": ""}"#, "input"),
        (#"{"model": "m", "input": []}"#, "input"),
        (#"{"model": "m"}"#, "input"),
        (#"{"model": "m", "input": "x", "encoding_format": "int8"}"#, "encoding_format"),
        (#"{"model": 3, "input": "x"}"#, "model"),
    ]

    @Test(arguments: 0..<refused.count)
    func badEmbeddingRequestsGetOpenAIErrors(_ i: Int) async throws {
        let (body, param) = Self.refused[i]
        try await RouterClient.run(Self.app()) { client in
            let (status, json) = try await Self.embed(client, body)
            #expect(status == .badRequest)
            #expect(json["error"]?["param"] == .string(param))
            #expect(json["error"]?["type"] == .string("invalid_request_error"))
        }
    }

    @Test func statusRoutesAddStatus200() async throws {
        try await RouterClient.run(Self.app()) { client in
            try await client.execute(uri: "/status/server", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body) == #"{"server_version":"1.10.0","statistic":{"num_data_request":0},"status":200}"# + "\n")
            }
            try await client.execute(uri: "/status/client", method: .get) { r in
                #expect(String(buffer: r.body).hasPrefix(#"{"client_version":"1.10.0","identity":[97,98,99],"num_pending_request":1,"num_request":3,"#))
            }
        }
    }

    @Test func healthAndReadiness() async throws {
        try await RouterClient.run(Self.app()) { client in
            try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/ready", method: .get) { r in #expect(r.status == .ok) }
        }
        try await RouterClient.run(Self.app(FakeBackend(failure: .unavailable("down")))) { client in
            try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/ready", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(String(buffer: r.body) == #"{"ready":false}"# + "\n")
            }
            try await client.execute(uri: "/status/server", method: .get) { r in #expect(r.status == .serviceUnavailable) }
        }
    }

    @Test func metricsCountRequestsSequencesAndErrors() async throws {
        let metrics = HTTPMetrics()
        try await RouterClient.run(Self.app(metrics: metrics)) { client in
            for body in [#"{"id": 1, "texts": ["a", "b", "c"]}"#, #"{"id": 1}"#] {
                try await client.execute(uri: "/encode", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { _ in }
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(r.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(text.contains("bss_encoded_sequences_total 3"))
                #expect(text.contains(#"bss_http_requests_total{route="/encode",code="200"} 1"#))
                #expect(text.contains(#"bss_http_requests_total{route="/encode",code="400"} 1"#))
                #expect(text.contains(#"bss_http_errors_total{kind="bad_request"} 1"#))
                #expect(text.contains(#"bss_bridge_round_trip_seconds_count{kind="encode"} 1"#))
                #expect(text.contains("bss_request_batch_size_sequences_count 1"))
                #expect(text.contains("bss_bridge_queue_depth_requests 0"))
            }
        }
    }

    @Test func dashboardIsSelfContained() async throws {
        try await RouterClient.run(Self.app()) { client in
            try await client.execute(uri: "/", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                #expect(html.contains(#"<canvas id="throughput""#))
                #expect(html.contains("fetch(\"/status/server\")"))
                #expect(!html.contains("src=\"http"))
            }
        }
    }
}

import ArgparseCompat
import Foundation
import Testing
import ZeroMQ
@testable import ServerCore

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Fixes for the reliability suite's known gaps (issue 8, CompatTests/reliability/KNOWN_GAPS.md).
struct ReliabilityWireTests {
    @Test func requestIDOfAnyLengthIsAcceptedAndKeptVerbatim() throws {
        let huge = b(String(repeating: "9", count: 40))
        let r = try ClientRequest.parse([b("id"), b("[\"a\"]"), huge, b("1")])
        #expect(r.reqID == huge)
        let zeros = b("000123")
        #expect(try ClientRequest.parse([b("id"), b("x"), zeros, b("1")]).reqID == zeros)
        #expect(throws: WireError.badRequestID(b("9a"))) { try ClientRequest.parse([b("id"), b("x"), b("9a"), b("1")]) }
    }

    @Test func hugeMessageLengthSaturatesInsteadOfFailing() throws {
        #expect(ClientRequest.decimal(b("9223372036854775807")) == Int.max)
        #expect(ClientRequest.decimal(b("9223372036854775806")) == Int.max - 1)
        #expect(ClientRequest.decimal(b(String(repeating: "9", count: 40))) == Int.max)
        #expect(ClientRequest.decimal(b("0012")) == 12)
        #expect(ClientRequest.decimal(b("-1")) == nil)
        #expect(ClientRequest.decimal([]) == nil)
        let r = try ClientRequest.parse([b("id"), b("[\"a\"]"), b("1"), b(String(repeating: "9", count: 40))])
        #expect(r.msgLen == Int.max)
    }

    @Test func limitsAreCheckedBeforeParsing() throws {
        #expect(throws: WireError.messageTooLarge(bytes: 11, limit: 10)) {
            try EncodePayload.checkLimits(payloadBytes: 11, declaredCount: 1, maxBytes: 10, maxCount: 5)
        }
        #expect(throws: WireError.tooManyTexts(declared: 6, limit: 5)) {
            try EncodePayload.checkLimits(payloadBytes: 10, declaredCount: 6, maxBytes: 10, maxCount: 5)
        }
        try EncodePayload.checkLimits(payloadBytes: 10, declaredCount: 5, maxBytes: 10, maxCount: 5)
        #expect(!WireError.tooManyTexts(declared: 6, limit: 5).isUnanswerable)
        #expect(WireError.tooManyTexts(declared: Int.max, limit: 5).description.contains("beyond"))
    }

    @Test func ownFlagsSetTheConfigAndDefaultToNoLimitANormalClientMeets() throws {
        let parser = ArgumentParser(spec: ParserSpec.start, prog: "bert-serving-start")
        let d = try ServerConfig(arguments: try parser.parse(["-model_dir", "/m"]))
        #expect(d.maxMessageBytes == 64 << 20 && d.maxTexts == 50_000)
        #expect(d.requestTimeout == nil && d.bindHost == "*")
        let c = try ServerConfig(arguments: try parser.parse([
            "-model_dir", "/m", "-request_max_message_bytes", "1000", "-request_max_texts", "7",
            "-request_timeout", "2.5", "-bind_host", "127.0.0.1"]))
        #expect(c.maxMessageBytes == 1000 && c.maxTexts == 7 && c.requestTimeout == 2.5 && c.bindHost == "127.0.0.1")
        // A namespace of the original parser (no such dests) keeps the defaults.
        let o = try ServerConfig(arguments: try ArgumentParser(spec: ParserSpec.originalStart, prog: "x").parse(["-model_dir", "/m"]))
        #expect(o.maxTexts == 50_000 && o.bindHost == "*")
    }
}

/// A backend that sleeps 1.5 s on a batch containing "slow" (the deadline test).
struct SlowBackend: PipelineBackend {
    final class Encoder: SequenceEncoder {
        let inner = FakeBackend.Encoder()
        func encode(_ batch: TokenizedBatch) throws -> EncodedSequences {
            if batch.features.contains(where: { $0.tokens.contains("slow") }) { Thread.sleep(forTimeInterval: 1.5) }
            return try inner.encode(batch)
        }
    }
    func tokenize(_ payload: EncodePayload) -> TokenizedBatch { FakeBackend().tokenize(payload) }
    func makeEncoder(worker index: Int) throws -> any SequenceEncoder { Encoder() }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReliabilityPipelineTests {
    func withServer(_ adjust: (inout ServerConfig) -> Void, _ body: (BertServer, Context) throws -> Void) throws {
        let ctx = try Context()
        var config = try testServerConfig(ctx)
        config.numWorker = 1
        adjust(&config)
        let server = try BertServer(config: config, backend: SlowBackend())
        try server.start()
        defer {
            server.terminate()
            server.wait()
        }
        try body(server, ctx)
    }

    @Test func hugeRequestIDIsServedAndEchoedVerbatim() throws {
        try withServer({ _ in }) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            defer { c.close() }
            let huge = b(String(repeating: "9", count: 40))
            try c.push.send([c.identity, b("[\"hello\"]"), huge, b("1")])
            let frames = try c.sub.receive()
            #expect(frames.count == 4)
            #expect(frames.last == huge)
            #expect(try header(frames[1])["dtype"] as? String == "float32")
        }
    }

    @Test func requestsOverTheLimitsGetAnErrorReplyAtOnce() throws {
        try withServer({ $0.maxTexts = 3; $0.maxMessageBytes = 100 }) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            defer { c.close() }
            func dtype(_ payload: [UInt8], _ n: Int) throws -> String {
                let t0 = Date()
                let frames = try c.reply(for: try c.send(payload, msgLen: n))
                #expect(Date().timeIntervalSince(t0) < 1)
                return try header(frames[1])["dtype"] as? String ?? ""
            }
            #expect(try dtype(b("[\"a\", \"b\", \"c\", \"d\"]"), 4).contains("-request_max_texts"))
            // Refused on msg_len alone: the payload is not even JSON.
            #expect(try dtype(b("garbage"), 4).contains("-request_max_texts"))
            #expect(try dtype(b("[\"" + String(repeating: "x", count: 200) + "\"]"), 1).contains("-request_max_message_bytes"))
            let huge = b(String(repeating: "9", count: 40))
            try c.push.send([c.identity, b("[\"a\"]"), b("77"), huge])
            let frames = try c.reply(for: 77)
            #expect((try header(frames[1])["dtype"] as? String ?? "").hasPrefix("ERROR:"))
            // Within the limits: served.
            #expect(try dtype(b("[\"a\", \"b\", \"c\"]"), 3) == "float32")
        }
    }

    @Test func requestTimeoutAnswersWithAnErrorAndTheServerGoesOn() throws {
        try withServer({ $0.requestTimeout = 0.3 }) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            defer { c.close() }
            let t0 = Date()
            let frames = try c.reply(for: try c.send(b("[\"slow\"]"), msgLen: 1))
            let dt = Date().timeIntervalSince(t0)
            #expect(dt < 1.2, "deadline reply after \(dt) s")
            #expect((try header(frames[1])["dtype"] as? String ?? "").contains("-request_timeout"))
            // The late result of the timed-out job is dropped; the next request is answered.
            Thread.sleep(forTimeInterval: 1.5)
            let ok = try c.reply(for: try c.send(b("[\"fast\"]"), msgLen: 1))
            #expect(try header(ok[1])["dtype"] as? String == "float32")
            #expect(PipelineFrames.floats(ok[2]) == [4, Float(UInt8(ascii: "f"))])
        }
    }
}

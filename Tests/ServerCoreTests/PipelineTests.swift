import Foundation
import Testing
import WordPiece
import ZeroMQ
@testable import ServerCore

/// Test double for pipeline-only tests: row i of a batch is `[scalar count of text i, first scalar]`
/// (`[token count, -1]` for pre-tokenized input). "boom" makes the batch fail, as an engine error would.
struct FakeBackend: PipelineBackend {
    struct Boom: Error, CustomStringConvertible { var description: String { "engine exploded" } }
    final class Encoder: SequenceEncoder {
        func encode(_ batch: TokenizedBatch) throws -> EncodedSequences {
            if batch.features.contains(where: { $0.tokens.contains("boom") }) { throw Boom() }
            return EncodedSequences(tokens: batch.features.map(\.tokens), shape: [batch.count, 2],
                                    values: batch.features.flatMap { $0.inputIds.map(Float.init) })
        }
    }
    func tokenize(_ payload: EncodePayload) -> TokenizedBatch {
        switch payload {
        case .texts(let texts):
            TokenizedBatch(features: texts.map {
                Self.features(["[CLS]", $0, "[SEP]"], [Int32($0.unicodeScalars.count), Int32($0.unicodeScalars.first?.value ?? 0)])
            })
        case .tokenized(let lists):
            TokenizedBatch(features: lists.map { Self.features($0, [Int32($0.count), -1]) })
        }
    }
    static func features(_ tokens: [String], _ ids: [Int32]) -> InputFeatures {
        InputFeatures(tokens: tokens, inputIds: ids, inputMask: [1, 1], inputTypeIds: [0, 0])
    }
    func makeEncoder(worker index: Int) throws -> any SequenceEncoder { Encoder() }
}

/// A raw client with the stock client's sockets: PUSH to `port`, SUB on `port_out` subscribed to its identity.
final class RawClient {
    let push: Socket, sub: Socket
    let identity: [UInt8]
    var reqID = 0

    init(_ ctx: Context, port: Int, portOut: Int, identity: String = UUID().uuidString) throws {
        self.identity = Array(identity.utf8)
        push = try Socket(ctx, .push)
        try push.setLinger(0)
        try push.connect("tcp://127.0.0.1:\(port)")
        sub = try Socket(ctx, .sub)
        try sub.setLinger(0)
        try sub.subscribe(self.identity)
        try sub.connect("tcp://127.0.0.1:\(portOut)")
        try sub.setReceiveTimeout(10_000)
    }

    func send(_ payload: [UInt8], msgLen: Int) throws -> Int {
        reqID += 1
        try push.send([identity, payload, Array(String(reqID).utf8), Array(String(msgLen).utf8)])
        return reqID
    }

    func reply(for id: Int) throws -> [[UInt8]] {
        while true {
            let frames = try sub.receive()
            if frames.last == Array(String(id).utf8) { return frames }
        }
    }

    func close() { push.close(); sub.close() }
}

/// Two ports the kernel just handed out (bound and released by a context of their own, so
/// they are really closed when this returns).
func freePorts(_: Context) throws -> (Int, Int) {
    let ctx = try Context()
    let a = try Socket(ctx, .pull), b = try Socket(ctx, .pull)
    try a.bind("tcp://127.0.0.1:*")
    try b.bind("tcp://127.0.0.1:*")
    let pa = Int(try a.lastEndpoint().split(separator: ":").last ?? "") ?? 0
    let pb = Int(try b.lastEndpoint().split(separator: ":").last ?? "") ?? 0
    a.close()
    b.close()
    ctx.terminate()
    return (pa, pb)
}

/// The configuration of an in-process test server on two free loopback ports.
func testServerConfig(_ ctx: Context) throws -> ServerConfig {
    let (port, portOut) = try freePorts(ctx)
    var config = ServerConfig(modelDir: "/nonexistent")
    config.port = port
    config.portOut = portOut
    config.bindHost = "127.0.0.1"
    config.cpu = true
    return config
}

/// Runs `body` with a stock-client-like `RawClient` of an in-process server of `workers` workers
/// on `backend` (with `config` as `testServerConfig` gives it), then closes both.
func withTestServer(
    workers: Int, backend: any PipelineBackend, _ body: (ServerConfig, RawClient) throws -> Void
) throws {
    let ctx = try Context()
    var config = try testServerConfig(ctx)
    config.numWorker = workers
    let server = try BertServer(config: config, backend: backend)
    try server.start()
    defer {
        server.terminate()
        server.wait()
    }
    let client = try RawClient(ctx, port: config.port, portOut: config.portOut)
    defer { client.close() }
    try body(config, client)
}

func header(_ frame: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct PipelineTests {
    func withServer(maxBatchSize: Int = 256, workers: Int = 2, tokens: Bool = false,
                    _ body: (BertServer, Context) throws -> Void) throws {
        let ctx = try Context()
        var config = try testServerConfig(ctx)
        config.maxBatchSize = maxBatchSize
        config.numWorker = workers
        config.showTokensToClient = tokens
        let server = try BertServer(config: config, backend: FakeBackend())
        try server.start()
        defer {
            server.terminate()
            server.wait()
        }
        try body(server, ctx)
    }

    @Test func configReplyToAClientCreatedTheInstantTheServerIsUp() throws {
        try withServer { server, ctx in
            for _ in 0 ..< 3 {
                let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
                let id = try c.send(Array("SHOW_CONFIG".utf8), msgLen: 0)
                let frames = try c.reply(for: id)
                #expect(frames.count == 3)
                let cfg = try header(frames[1])
                #expect(cfg["server_version"] as? String == "1.10.0")
                #expect(cfg["client"] as? String == String(decoding: c.identity, as: UTF8.self))
                #expect(cfg["num_process"] as? Int == 3)
                c.close()
            }
        }
    }

    @Test func splitJobsComeBackWholeAndInOrder() throws {
        try withServer(maxBatchSize: 3) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            let texts = (0 ..< 10).map { String(repeating: "x", count: $0 + 1) }
            let id = try c.send(EncodePayload.texts(texts).json(), msgLen: texts.count)
            let frames = try c.reply(for: id)
            #expect(frames.count == 4)
            let h = try header(frames[1])
            #expect(h["shape"] as? [Int] == [10, 2])
            #expect(h["dtype"] as? String == "float32")
            let values = try #require(PipelineFrames.floats(frames[2]))
            #expect(stride(from: 0, to: 20, by: 2).map { values[$0] } == (1 ... 10).map(Float.init))
            c.close()
        }
    }

    @Test func tokensFollowTheSplitOrder() throws {
        try withServer(maxBatchSize: 2, tokens: true) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            let texts = ["a", "bb", "ccc", "dddd", "eeeee"]
            let id = try c.send(EncodePayload.texts(texts).json(), msgLen: texts.count)
            let h = try header(try c.reply(for: id)[1])
            #expect(h["tokens"] as? [[String]] == texts.map { ["[CLS]", $0, "[SEP]"] })
            c.close()
        }
    }

    @Test func badRequestsGetErrorRepliesAndTheServerKeepsServing() throws {
        try withServer { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            for (payload, n) in [("nope", 1), ("[\"a\", [\"b\"]]", 2), ("[\"\"]", 1), ("[]", 0), ("[\"a\"]", 4), ("[\"boom\"]", 1)] {
                let id = try c.send(Array(payload.utf8), msgLen: n)
                let frames = try c.reply(for: id)
                #expect(frames.count == 4, "\(payload)")
                let dtype = try header(frames[1])["dtype"] as? String
                #expect(dtype?.hasPrefix("ERROR: ") == true, "\(payload): \(dtype ?? "nil")")
                #expect(frames[2].isEmpty)
            }
            // Frames that name nobody are dropped; the next request is served.
            try c.push.send([Array("x".utf8), Array("y".utf8)])
            try c.push.send([[], Array("[\"a\"]".utf8), Array("1".utf8), Array("1".utf8)])
            let id = try c.send(Array("[\"ok\"]".utf8), msgLen: 1)
            #expect(try header(try c.reply(for: id)[1])["shape"] as? [Int] == [1, 2])
            c.close()
        }
    }

    @Test func aFailedPartFailsOnlyItsJob() throws {
        try withServer(maxBatchSize: 2) { server, ctx in
            let c = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut)
            let bad = try c.send(EncodePayload.texts(["a", "b", "boom", "c"]).json(), msgLen: 4)
            let good = try c.send(EncodePayload.texts(["a", "b", "c"]).json(), msgLen: 3)
            #expect((try header(try c.reply(for: bad)[1])["dtype"] as? String)?.contains("engine exploded") == true)
            #expect(try header(try c.reply(for: good)[1])["shape"] as? [Int] == [3, 2])
            c.close()
        }
    }

    @Test func sharedIdentitiesBothReceive() throws {
        try withServer { server, ctx in
            // Like two stock clients: each constructor asks for the config and gets it, even
            // though the identity already has a subscriber when the second one asks.
            let a = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut, identity: "shared-1")
            _ = try a.reply(for: try a.send(Array("SHOW_CONFIG".utf8), msgLen: 0))
            let b = try RawClient(ctx, port: server.config.port, portOut: server.config.portOut, identity: "shared-1")
            b.reqID = 100
            _ = try b.reply(for: try b.send(Array("SHOW_CONFIG".utf8), msgLen: 0))
            let id = try a.send(Array("[\"hi\"]".utf8), msgLen: 1)
            let ra = try a.reply(for: id), rb = try b.reply(for: id)
            #expect(ra == rb)
            #expect(ra.count == 4)
            a.close()
            b.close()
        }
    }

    @Test func terminationAnswersInFlightRequestsThenStops() throws {
        let ctx = try Context()
        var config = try testServerConfig(ctx)
        config.maxBatchSize = 2
        let server = try BertServer(config: config, backend: FakeBackend())
        try server.start()
        let c = try RawClient(ctx, port: config.port, portOut: config.portOut)
        let texts = (0 ..< 200).map { "s\($0)" }
        let id = try c.send(EncodePayload.texts(texts).json(), msgLen: texts.count)
        try c.push.send([Array("0".utf8), Array("TERMINATION".utf8), Array("0".utf8), Array("0".utf8)])
        #expect(try header(try c.reply(for: id)[1])["shape"] as? [Int] == [200, 2])
        server.wait()
        c.close()
    }

    @Test func aPortInUseFailsStartWithTheAddress() throws {
        let ctx = try Context()
        let blocker = try Socket(ctx, .pull)
        try blocker.bind("tcp://127.0.0.1:*")
        let port = Int(try blocker.lastEndpoint().split(separator: ":").last ?? "") ?? 0
        var config = ServerConfig(modelDir: "/nonexistent")
        config.port = port
        config.portOut = try freePorts(ctx).1
        config.bindHost = "127.0.0.1"
        let server = try BertServer(config: config, backend: FakeBackend())
        do {
            try server.start()
            Issue.record("start succeeded on a busy port")
        } catch {
            #expect(error.description.contains("\(port)"))
        }
        blocker.close()
    }
}

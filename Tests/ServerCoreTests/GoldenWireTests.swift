import Foundation
import Testing
@testable import ServerCore

/// Byte compatibility with frames captured from the ORIGINAL server
/// (CompatTests/reference/gen_wire_golden.py; provenance next to it).
struct GoldenWireTests {
    struct Reply {
        let frames: [[UInt8]]
        var text: [String] { frames.map { String(decoding: $0, as: UTF8.self) } }
    }

    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../CompatTests/reference/wire_golden.json").standardized.path

    static func replies(_ scenario: String) throws -> [Reply] {
        let data = try Data(contentsOf: URL(fileURLWithPath: goldenPath))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenarios = try #require(root["scenarios"] as? [[String: Any]])
        let s = try #require(scenarios.first { $0["name"] as? String == scenario })
        let requests = try #require(s["requests"] as? [[String: Any]])
        return try requests.map { r in
            let frames = try #require(r["reply"] as? [[String: String]])
            return Reply(frames: try frames.map { f in
                if let t = f["text"] { return Array(t.utf8) }
                let b64 = try #require(f["b64"])
                return Array(try #require(Data(base64Encoded: b64)))
            })
        }
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// Our SHOW_CONFIG / SHOW_STATUS body with the golden's volatile values (addresses, times,
    /// paths, versions of Python/TF/pyzmq) substituted, everything else ours.
    static func ours(for golden: [UInt8], config: ServerConfig, statistic: PyJSON?) throws -> [UInt8] {
        let g = try object(golden)
        let runtime = RuntimeStatus(
            numProcess: config.numWorker + 1,
            ventilatorToWorker: try #require(g["ventilator -> worker"] as? [String]),
            workerToSink: try #require(g["worker -> sink"] as? String),
            ventilatorToSink: try #require(g["ventilator <-> sink"] as? String),
            numConcurrentSocket: config.numConcurrentSocket)
        var s = StaticStatus(zmqVersion: try #require(g["zmq_version"] as? String),
                             serverStartTime: try #require(g["server_start_time"] as? String))
        s.pythonVersion = try #require(g["python_version"] as? String)
        s.pyzmqVersion = try #require(g["pyzmq_version"] as? String)
        s.tensorflowVersion = try #require(g["tensorflow_version"] as? [String])
        return StatusReport.json(client: Array(try #require(g["client"] as? String).utf8), runtime: runtime,
                                 currentTime: try #require(g["server_current_time"] as? String),
                                 statistic: statistic, config: config, staticStatus: s)
    }

    static func goldenConfig(_ golden: [UInt8]) throws -> ServerConfig {
        let g = try object(golden)
        var c = ServerConfig(modelDir: try #require(g["model_dir"] as? String))
        c.port = try #require(g["port"] as? Int)
        c.portOut = try #require(g["port_out"] as? Int)
        c.cpu = true
        return c
    }

    @Test func showConfigBytesMatchTheOriginal() throws {
        let golden = try Self.replies("default")[0]
        #expect(golden.frames.count == 3)
        #expect(golden.text[2] == "1")
        let config = try Self.goldenConfig(golden.frames[1])
        let ours = try Self.ours(for: golden.frames[1], config: config, statistic: nil)
        #expect(String(decoding: ours, as: UTF8.self) == golden.text[1])
    }

    @Test func showConfigOfNoneLengthTokenServerMatches() throws {
        let golden = try Self.replies("tokens_none")[0]
        var config = try Self.goldenConfig(golden.frames[1])
        config.maxSeqLen = nil
        config.poolingStrategy = 0
        config.showTokensToClient = true
        config.maxBatchSize = 3
        let ours = try Self.ours(for: golden.frames[1], config: config, statistic: nil)
        #expect(String(decoding: ours, as: UTF8.self) == golden.text[1])
    }

    /// Splits `{..., "statistic": {...}, ...}` into the statistic object text and the rest.
    static func cutStatistic(_ text: String) throws -> (statistic: String, rest: String) {
        let start = try #require(text.range(of: "\"statistic\": {"))
        let objStart = text.index(before: start.upperBound)
        let end = try #require(text[objStart...].firstIndex(of: "}"))
        return (String(text[objStart ... end]), text.replacingCharacters(in: objStart ... end, with: "{}"))
    }

    static func keysAndValues(_ object: String) -> [(String, String)] {
        let body = object.dropFirst().dropLast()
        return body.components(separatedBy: ", \"").map { item in
            let parts = item.components(separatedBy: "\": ")
            return (parts[0].replacingOccurrences(of: "\"", with: ""), parts.count > 1 ? parts[1] : "")
        }
    }

    @Test func showStatusMatchesTheOriginalAfterTheSameRequests() throws {
        let replies = try Self.replies("default")
        let golden = try #require(replies.last)
        var stats = ServerStatistic()
        let id = Array("golden-client-0001".utf8)
        let requests: [(String, Int)] = [("SHOW_CONFIG", 0), ("[]", 8), ("[]", 3), ("[]", 1), ("SHOW_STATUS", 0)]
        for (i, (payload, n)) in requests.enumerated() {
            stats.update(ClientRequest(client: id, payload: Array(payload.utf8), reqID: Array(String(i + 1).utf8),
                                       msgLen: n, msgLenBytes: Array(String(n).utf8)))
        }
        let config = try Self.goldenConfig(golden.frames[1])
        let ours = String(decoding: try Self.ours(for: golden.frames[1], config: config, statistic: stats.value), as: UTF8.self)
        let (oStat, oRest) = try Self.cutStatistic(ours)
        let (gStat, gRest) = try Self.cutStatistic(golden.text[1])
        #expect(oRest == gRest)
        let o = Self.keysAndValues(oStat), g = Self.keysAndValues(gStat)
        #expect(o.map(\.0) == g.map(\.0))
        for ((key, ov), (_, gv)) in zip(o, g) {
            if (key.contains("interval") || key.contains("per_second")) && !key.hasPrefix("num_") {
                // Times differ; the JSON type (float) must not.
                #expect(ov.contains(".") || ov.contains("e"), "\(key): \(ov)")
                #expect(gv.contains(".") || gv.contains("e"), "\(key): \(gv)")
            } else {
                #expect(ov == gv, "\(key)")
            }
        }
    }

    @Test func encodeHeadersMatchTheOriginal() throws {
        let d = try Self.replies("default")
        #expect(d[1].text[1] == String(decoding: PipelineFrames.header(dtype: "float32", shape: [8, 384], tokens: nil), as: UTF8.self))
        #expect(d[1].frames[2].count == 8 * 384 * 4)
        let fp16 = try Self.replies("split_fp16")
        #expect(fp16[0].text[1] == String(decoding: PipelineFrames.header(dtype: "float16", shape: [8, 768], tokens: nil), as: UTF8.self))
        #expect(fp16[0].frames[2].count == 8 * 768 * 2)
    }

    @Test func tokenHeaderMatchesTheOriginal() throws {
        let golden = try Self.replies("tokens_none")[1]
        let header = try Self.object(golden.frames[1])
        let tokens = try #require(header["tokens"] as? [[String]])
        let shape = try #require(header["shape"] as? [Int])
        #expect(shape.count == 3)
        let ours = PipelineFrames.header(dtype: "float32", shape: shape, tokens: tokens)
        #expect(String(decoding: ours, as: UTF8.self) == golden.text[1])
    }

    @Test func halfPrecisionBytesRoundTripTheOriginalsValues() throws {
        let golden = try Self.replies("split_fp16")[0].frames[2]
        let halves: [Float] = stride(from: 0, to: golden.count, by: 2).map {
            Float(Float16(bitPattern: UInt16(golden[$0]) | UInt16(golden[$0 + 1]) << 8))
        }
        #expect(PipelineFrames.halfBytes(halves) == golden)
    }

    @Test func errorHeaderIsAnUnknownNumpyDtype() {
        let h = String(decoding: PipelineFrames.errorHeader("payload is an empty list"), as: UTF8.self)
        #expect(h == "{\"dtype\": \"ERROR: payload is an empty list\", \"shape\": [], \"tokens\": \"\"}")
    }

    @Test func logLinesUseTheOriginalPrefix() {
        let line = ServerLogHandler.format(label: "VENTILATOR", level: .info, message: "all set, ready to serve request!",
                                           file: "ServerCore/Ventilator.swift", function: "run(ready:)", line: 97)
        #expect(line == "I:VENTILATOR:[Ven:run: 97]:all set, ready to serve request!")
    }
}

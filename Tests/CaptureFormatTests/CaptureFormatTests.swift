import CaptureFormat
import Foundation
import Testing

/// The committed captures and the index Python wrote beside them (make_captures.py write_index).
private let capturesDir = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("CompatTests/capture/captures")

private struct IndexEntry: Decodable {
    let argv: [String]
    let events: [String: Int]
    let frames: Int
    let frame_bytes: Int
    let frames_fnv1a64: String
    let expects: [String]
}

private func loadIndex() throws -> [String: IndexEntry] {
    let data = try Data(contentsOf: capturesDir.appendingPathComponent("INDEX.json"))
    return try JSONDecoder().decode([String: IndexEntry].self, from: data)
}

private func fnv1a64(_ frames: [[UInt8]]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for f in frames { for b in f { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 } }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

private func captureNames() -> [String] {
    ((try? loadIndex()) ?? [:]).keys.sorted()
}

private func bytes(of name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: capturesDir.appendingPathComponent("\(name).msgpack")))
}

@Test func indexListsTheCommittedCaptures() throws {
    let index = try loadIndex()
    #expect(index.count >= 15)
    #expect(index["default"] != nil)
}

@Test(arguments: captureNames())
func captureReadsAsPythonWroteIt(name: String) throws {
    let entry = try #require(try loadIndex()[name])
    let cap = try Capture.read(path: capturesDir.appendingPathComponent("\(name).msgpack").path)
    #expect(cap.name == name)
    #expect(cap.server.argv == entry.argv)
    #expect(cap.server.program == "bert-serving-start")
    var counts: [String: Int] = [:]
    var frames: [[UInt8]] = []
    var expects: [String] = []
    for ev in cap.events {
        switch ev {
        case let .clientToServer(_, f, expect):
            counts["c2s", default: 0] += 1
            frames += f
            if let expect { expects.append(expect.rawValue) }
        case let .serverToClient(_, f):
            counts["s2c", default: 0] += 1
            frames += f
        case .subscription:
            counts["sub", default: 0] += 1
        case .mark:
            counts["mark", default: 0] += 1
        }
    }
    #expect(counts == entry.events)
    #expect(frames.count == entry.frames)
    #expect(frames.reduce(0) { $0 + $1.count } == entry.frame_bytes)
    #expect(fnv1a64(frames) == entry.frames_fnv1a64)
    #expect(expects.sorted() == entry.expects)
}

@Test func argvCarriesThePortsAndModelDir() throws {
    let cap = try Capture.read(path: capturesDir.appendingPathComponent("default.msgpack").path)
    let argv = cap.server.argv
    let port = try #require(argv.firstIndex(of: "-port"))
    let portOut = try #require(argv.firstIndex(of: "-port_out"))
    #expect(argv[port + 1] == String(cap.server.port))
    #expect(argv[portOut + 1] == String(cap.server.portOut))
    #expect(cap.server.modelDir.map { argv.contains($0) } == true)
}

@Test func truncatedFileIsRejected() throws {
    let full = try bytes(of: "reduce_max_split")
    for cut in [1, full.count / 3, full.count - 1] {
        #expect(throws: CaptureError.self) { try Capture(bytes: Array(full[0..<cut])) }
    }
}

@Test func trailingBytesAreRejected() throws {
    let full = try bytes(of: "probe_bad_json")
    #expect(throws: CaptureError.trailingBytes(offset: full.count, total: full.count + 1)) {
        try Capture(bytes: full + [0xc0])
    }
}

@Test func otherMsgpackIsNotACapture() {
    // {"format": "other", "version": 1}
    let other: [UInt8] = [0x82, 0xa6] + Array("format".utf8) + [0xa5] + Array("other".utf8)
        + [0xa7] + Array("version".utf8) + [0x01]
    #expect(throws: CaptureError.notACapture("format is not bert-serving-capture")) { try Capture(bytes: other) }
    #expect(throws: CaptureError.notACapture("top level is not a map")) { try Capture(bytes: [0x93, 1, 2, 3]) }
    #expect(throws: CaptureError.self) { try Capture(bytes: [0xc1]) }  // never-used type byte
}

@Test func strAndBinStayDistinct() throws {
    // ["ab" as str, "ab" as bin]
    let v = try MessagePackValue.decode([0x92, 0xa2, 0x61, 0x62, 0xc4, 0x02, 0x61, 0x62])
    #expect(v == .array([.string("ab"), .binary([0x61, 0x62])]))
}

@Test func deepNestingIsBounded() {
    // 20 nested one-element arrays: within msgpack-c's stack, past the reader's limit of 16
    let deep = [UInt8](repeating: 0x91, count: 20) + [0xc0]
    #expect(throws: CaptureError.tooDeep(limit: 16)) { try MessagePackValue.decode(deep) }
    // 100 levels: msgpack-c itself refuses
    #expect(throws: CaptureError.self) { try MessagePackValue.decode([UInt8](repeating: 0x91, count: 100) + [0xc0]) }
}

/// Frames between our own threads (all `inproc://`). Unlike the client protocol these are ours
/// to define; they carry an internal job number so results never mix between clients that
/// share an identity and a `req_id`.
enum PipelineFrames {
    static let fail = Array("FAILED".utf8)
    static let reply = Array("REPLY".utf8)
    static let drain = Array("DRAIN".utf8)
    static let drained = Array("DRAINED".utf8)
    /// Sink → ventilator `[ANSWERED, job, count]`: a job's reply (or error) left; its `count`
    /// sequences no longer count against `-request_max_pending_texts`.
    static let answered = Array("ANSWERED".utf8)

    /// Job key of a (partial) job: `"<job>@<first row>"`, like the original's `client#req@i`.
    static func jobKey(_ job: UInt64, part: Int) -> [UInt8] { Array("\(job)@\(part)".utf8) }

    static func parseJobKey(_ bytes: [UInt8]) -> (job: UInt64, part: Int)? {
        let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2, let job = UInt64(String(decoding: parts[0], as: UTF8.self)),
              let part = Int(String(decoding: parts[1], as: UTF8.self)) else { return nil }
        return (job, part)
    }

    static func number(_ v: Int) -> [UInt8] { Array(String(v).utf8) }
    static func number(_ v: UInt64) -> [UInt8] { Array(String(v).utf8) }
    static func int(_ bytes: [UInt8]) -> Int? { Int(String(decoding: bytes, as: UTF8.self)) }
    static func uint64(_ bytes: [UInt8]) -> UInt64? { UInt64(String(decoding: bytes, as: UTF8.self)) }

    /// `"2,384"` / `"2,25,384"`.
    static func shape(_ s: [Int]) -> [UInt8] { Array(s.map(String.init).joined(separator: ",").utf8) }
    static func parseShape(_ bytes: [UInt8]) -> [Int]? {
        let parts = bytes.split(separator: UInt8(ascii: ","))
        let dims = parts.compactMap { Int(String(decoding: $0, as: UTF8.self)) }
        return dims.count == parts.count && !dims.isEmpty && dims.allSatisfy({ $0 >= 0 }) ? dims : nil
    }

    /// Float32 values as little-endian bytes (numpy's `<f4`, what `np.frombuffer` reads).
    static func floatBytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 4)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return out
    }

    /// Float16 values as little-endian bytes (`-fp16`: the graph casts the pooled output with
    /// `tf.cast`, round to nearest even, as `Float16(_:)` does).
    static func halfBytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 2)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: i * 2, as: UInt16.self)
            }
        }
        return out
    }

    static func floats(_ bytes: [UInt8]) -> [Float]? {
        guard bytes.count % 4 == 0 else { return nil }
        return bytes.withUnsafeBytes { raw in
            (0 ..< bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The encode reply header `{"dtype": ..., "shape": [...], "tokens": ...}` (`SinkJob.result`).
    static func header(dtype: String, shape: [Int], tokens: [[String]]?) -> [UInt8] {
        let tokensJSON: PyJSON = tokens.map { .array($0.map { .array($0.map { .string($0) }) }) } ?? .string("")
        return PyJSON.object([
            ("dtype", .string(dtype)),
            ("shape", .array(shape.map { .int($0) })),
            ("tokens", tokensJSON),
        ]).dumps()
    }

    /// Our error reply header: `np.frombuffer(..., dtype="ERROR: ...")` raises in the stock client.
    static func errorHeader(_ message: String) -> [UInt8] {
        header(dtype: "ERROR: " + message, shape: [], tokens: nil)
    }
}

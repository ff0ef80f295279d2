import Foundation
import Testing
@testable import Checkpoint

/// Damaged inputs must make the readers throw `CheckpointError`, never crash or hang: deterministic
/// random byte edits and truncations of the small fixtures, opened and read in full.
@Suite struct FuzzTests {
    /// SplitMix64: a seedable generator so failures reproduce.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ bytes: [UInt8], in range: Range<Int>, rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        if Int.random(in: 0..<8, using: &rng) == 0 {
            return Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
        }
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let i = Int.random(in: range, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: b[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1: b[i] = UInt8.random(in: 0...255, using: &rng)
            default: b[i] = [0x00, 0x7f, 0x80, 0xff][Int.random(in: 0..<4, using: &rng)]
            }
        }
        return b
    }

    /// Opens `open()` and reads every tensor; anything but success or a `CheckpointError` is a failure.
    static func exercise(_ open: () throws -> any TensorStore) -> String? {
        do {
            let store = try open()
            for name in store.tensorNames {
                _ = store.info(name)
                _ = try store.floats(name)
            }
            return nil
        } catch is CheckpointError {
            return nil
        } catch {
            return "non-CheckpointError \(error)"
        }
    }

    static func scratchDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.path + "/bss-ckpt-fuzz-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func damagedSafetensorsOnlyThrow() throws {
        let original = try Self.read(Fixtures.path("malformed/good.safetensors"))
        let dir = try Self.scratchDirectory("st")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.safetensors"
        var rng = SplitMix64(state: 1)
        var failures: [String] = []
        for round in 0..<1500 {
            try Self.write(Self.mutate(original, in: 0..<original.count, rng: &rng), to: path)
            if let f = Self.exercise({ try SafetensorsReader(path: path) }) { failures.append("round \(round): \(f)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// Index edits inside the first data block, with the block CRC resealed so the damage reaches
    /// the entry and protobuf decoders instead of stopping at the checksum.
    @Test func damagedBundleIndexOnlyThrows() throws {
        let prefix = Fixtures.path("malformed/micro/bert_model.ckpt")
        let original = try Self.read(prefix + ".index")
        let block = try Self.firstDataBlock(original)
        let dir = try Self.scratchDirectory("index")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: prefix + TensorBundleReaderShard.name, toPath: dir + "/m" + TensorBundleReaderShard.name)
        var rng = SplitMix64(state: 2)
        var failures: [String] = []
        for round in 0..<1500 {
            var bytes = Self.mutate(original, in: block, rng: &rng)
            if bytes.count == original.count {
                let crc = bytes[block.lowerBound...block.upperBound].withUnsafeBytes { CRC32C.checksum($0) }
                withUnsafeBytes(of: CRC32C.mask(crc).littleEndian) { bytes.replaceSubrange((block.upperBound + 1)...(block.upperBound + 4), with: $0) }
            }
            try Self.write(bytes, to: dir + "/m.index")
            if let f = Self.exercise({ try TensorBundleReader(prefix: dir + "/m") }) { failures.append("round \(round): \(f)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// Every changed data shard is caught (CRC-32C or length check) when its tensors are read.
    @Test func damagedDataShardIsAlwaysDetected() throws {
        let prefix = Fixtures.path("malformed/micro/bert_model.ckpt")
        let data = try Self.read(prefix + TensorBundleReaderShard.name)
        let dir = try Self.scratchDirectory("data")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: prefix + ".index", toPath: dir + "/m.index")
        var rng = SplitMix64(state: 3)
        var failures: [String] = []
        for round in 0..<300 {
            let bytes = Self.mutate(data, in: 0..<data.count, rng: &rng)
            try Self.write(bytes, to: dir + "/m" + TensorBundleReaderShard.name)
            do {
                let store = try TensorBundleReader(prefix: dir + "/m")
                for name in store.tensorNames { _ = try store.floats(name) }
                if bytes != data { failures.append("round \(round): damage not detected") }
            } catch {
                // Typed throws: `error` is a CheckpointError here.
                if bytes == data { failures.append("round \(round): intact shard rejected: \(error)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// The first data block's byte range, from the footer's index handle (see `SSTable`).
    static func firstDataBlock(_ index: [UInt8]) throws -> Range<Int> {
        try index.withUnsafeBytes { raw in
            var footer = ProtoReader(UnsafeRawBufferPointer(rebasing: raw[(raw.count - 48)...]))
            _ = (try footer.varint(), try footer.varint())
            let indexOffset = Int(try footer.varint())
            var entry = ProtoReader(UnsafeRawBufferPointer(rebasing: raw[indexOffset...]))
            _ = try entry.varint()
            let keyLength = Int(try entry.varint())
            _ = try entry.varint()
            try entry.skipBytes(keyLength)
            let offset = Int(try entry.varint()), size = Int(try entry.varint())
            return offset..<(offset + size)
        }
    }
}

/// The single shard's file-name suffix of the micro bundle.
enum TensorBundleReaderShard {
    static let name = ".data-00000-of-00001"
}

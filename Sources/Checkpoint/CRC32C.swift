import CCRC32C

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as LevelDB tables and TensorFlow
/// bundles use it: with the CPU's CRC-32C instruction where it has one (x86-64 SSE4.2, about
/// 10× faster), else slicing-by-8 (eight 256-entry tables, eight bytes per step).
enum CRC32C {
    /// Whether `checksum` uses the CPU's instruction.
    static let usesHardware = bss_crc32c_hardware_available() != 0

    /// CRC-32C of `bytes`, continuing from `crc` (0 to start).
    static func checksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard usesHardware, let base = bytes.baseAddress else { return tableChecksum(bytes, extending: crc) }
        return bss_crc32c_hardware(crc, base, bytes.count)
    }

    /// `tables[k * 256 + b]`: CRC of byte `b` followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let prev = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (prev >> 8) ^ t[Int(prev & 0xff)]
            }
        }
        return t
    }()

    /// `checksum` computed with the tables, on any CPU.
    static func tableChecksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { t in
            var c = ~crc
            var i = 0
            let n = bytes.count
            guard let base = bytes.baseAddress else { return crc }
            while i + 8 <= n {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let lo = UInt32(truncatingIfNeeded: word) ^ c
                let hi = UInt32(truncatingIfNeeded: word >> 32)
                c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = (c >> 8) ^ t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xff)]
                i += 1
            }
            return ~c
        }
    }

    /// LevelDB's checksum masking (`crc32c::Mask`): stored CRCs are masked so that a CRC of
    /// data that itself contains CRCs stays well distributed.
    static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8
    }

    /// Inverse of `mask`.
    static func unmask(_ masked: UInt32) -> UInt32 {
        let rot = masked &- 0xa282_ead8
        return (rot >> 17) | (rot << 15)
    }
}

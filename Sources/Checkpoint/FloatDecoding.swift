#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Floating-point encodings a weight may be stored in, all little-endian.
enum StoredFloat: Sendable, Equatable {
    case float32, float16, bfloat16

    var byteWidth: Int {
        switch self {
        case .float32: return 4
        case .float16, .bfloat16: return 2
        }
    }
}

/// Turns raw little-endian weight bytes into `[Float]` without per-element Swift overhead
/// for float32 (one `memcpy`) and with simple branch-light loops for the 16-bit types.
enum FloatDecoding {
    /// Decodes `count` elements of `kind` from `raw`; `raw.count` must be `count * kind.byteWidth`.
    static func decode(_ raw: UnsafeRawBufferPointer, as kind: StoredFloat, count: Int) -> [Float] {
        assert(raw.count == count * kind.byteWidth)
        guard count > 0, let src = raw.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            guard let dst = out.baseAddress else { initialized = 0; return }
            switch kind {
            case .float32:
                memcpy(dst, src, count * 4)
                #if _endian(big)
                for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: dst[i].bitPattern)) }
                #endif
            case .float16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    dst[i] = Float(bitPattern: halfToFloatBits(bits))
                }
            case .bfloat16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    dst[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            }
            initialized = count
        }
    }

    /// IEEE 754 binary16 -> binary32 bit pattern; exact for every input (subnormals, inf, NaN).
    @inline(__always)
    static func halfToFloatBits(_ h: UInt16) -> UInt32 {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        var mantissa = UInt32(h) & 0x3ff
        if exponent == 0x1f {
            return sign | 0x7f80_0000 | (mantissa << 13)
        }
        if exponent != 0 {
            return sign | ((exponent + 112) << 23) | (mantissa << 13)
        }
        if mantissa == 0 { return sign }
        // Subnormal half: value = mantissa * 2^-24; normalise into an ordinary float.
        var e: UInt32 = 113
        while mantissa & 0x400 == 0 {
            mantissa <<= 1
            e -= 1
        }
        return sign | (e << 23) | ((mantissa & 0x3ff) << 13)
    }

    /// Decodes a row-major `[rows, cols]` tensor straight into `[cols, rows]` order. float32 data
    /// at a 4-byte-aligned address (the usual case: safetensors pads its header to 8 bytes) is
    /// transposed in one pass from the mapped file; anything else is decoded, then transposed.
    static func decodeTransposed(_ raw: UnsafeRawBufferPointer, as kind: StoredFloat, rows: Int, cols: Int) -> [Float] {
        let count = rows * cols
        assert(raw.count == count * kind.byteWidth)
        guard kind == .float32, count > 0, let base = raw.baseAddress,
              UInt(bitPattern: base) % UInt(MemoryLayout<Float>.alignment) == 0 else {
            return transpose(decode(raw, as: kind, count: count), rows: rows, cols: cols)
        }
        #if _endian(big)
        return transpose(decode(raw, as: kind, count: count), rows: rows, cols: cols)
        #else
        // The mapping is read-only and only ever viewed as bytes or Float here.
        let src = UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            transposeTiles(src, into: out, rows: rows, cols: cols)
            initialized = count
        }
        #endif
    }

    /// Row-major `[rows, cols]` -> `[cols, rows]`, in cache-sized tiles.
    static func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
        assert(a.count == rows * cols)
        return [Float](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { src in transposeTiles(src, into: out, rows: rows, cols: cols) }
            initialized = a.count
        }
    }

    private static func transposeTiles(
        _ src: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int
    ) {
        let tile = 32
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + tile, rows)
            var c0 = 0
            while c0 < cols {
                let c1 = min(c0 + tile, cols)
                for r in r0..<r1 {
                    for c in c0..<c1 {
                        out[c * rows + r] = src[r * cols + c]
                    }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}

import CElementwise
import Foundation

/// Elementwise kernels of the forward pass: softmax and residual + LayerNorm call the C kernels
/// of `CElementwise` (16 lanes, cloned per x86-64 level); bias + activation after an OpenBLAS
/// product (packed oneDNN products apply them themselves) and the pooler run here on
/// `SIMD8<Float>` lanes, which Swift compiles for the x86-64 baseline (SSE2).
///
/// TensorFlow evaluates `exp`/`erf` with Eigen's vectorised float approximations, not with
/// correctly rounded libm calls; these are our own approximations of comparable accuracy
/// (relative error of exp ≈ 1e-7, absolute error of erf ≤ 2e-7). The C softmax repeats `exp`'s
/// algorithm: change both together.
enum VectorMath {
    typealias Vector = SIMD8<Float>
    static let width = Vector.scalarCount

    // exp: x = n·ln2 + r with |r| ≤ ln2/2, e^x = 2^n · e^r; ln2 split in a part exact in float
    // (0.693359375) and the rest, so n·ln2Hi is exact (Cody–Waite reduction).
    private static let log2e: Float = 1.442_695_04
    private static let ln2Hi: Float = 0.693_359_375
    private static let ln2Lo: Float = -2.121_944_4e-4
    /// 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer (ties to even),
    /// and leaves that integer in the low mantissa bits.
    private static let roundingMagic: Float = 12_582_912
    /// Below this e^x is under the smallest normal float: the result is 0, as TF's exp gives
    /// for the -10000 attention adder.
    private static let expLow: Float = -87.3
    /// 2^127 is the largest power of two the exponent trick can build.
    private static let expHigh: Float = 88.0

    /// e^x for each lane.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Clamped with masks: the generic `clamped` / pointwiseMin are not inlined.
        var xc = x.replacing(with: expLow, where: x .< expLow)
        xc.replace(with: expHigh, where: xc .> expHigh)
        var y = expClamped(xc)
        y.replace(with: 0, where: x .< expLow)
        return y
    }

    /// e^x for lanes already in [expLow, expHigh].
    @inline(__always)
    private static func expClamped(_ xc: Vector) -> Vector {
        let shifted = xc * log2e + roundingMagic
        let n = shifted - roundingMagic
        var r = xc - n * ln2Hi
        r = r - n * ln2Lo
        // Taylor series of e^r to degree 7 (truncation < 6e-9 on |r| ≤ 0.35), Horner form.
        var p = Vector(repeating: 1 / 5040)
        p = p * r + 1 / 720
        p = p * r + 1 / 120
        p = p * r + 1 / 24
        p = p * r + 1 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let magicBits = SIMD8<Int32>(repeating: Int32(bitPattern: roundingMagic.bitPattern))
        let nInt = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- magicBits
        let twoToN = unsafeBitCast((nInt &+ 127) &<< 23, to: Vector.self)
        return p * twoToN
    }

    /// erf(x) for each lane: Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7).
    @inline(__always)
    static func erf(_ x: Vector) -> Vector {
        // |x| and the sign bit by masking the IEEE sign bit (cheaper than compare-and-blend).
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let sign = bits & 0x8000_0000
        let ax = unsafeBitCast(bits & 0x7FFF_FFFF, to: Vector.self)
        let t = 1 / (1 + 0.327_591_1 * ax)
        var p = Vector(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        p = p * t
        // e^(-x²) ≤ 1; below e^expLow (|x| > 9.3) its clamped value ~1e-38 leaves 1 - p·e = 1.
        let negSquare = -(ax * ax)
        let e = expClamped(negSquare.replacing(with: expLow, where: negSquare .< expLow))
        let y = 1 - p * e
        return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | sign, to: Vector.self)
    }

    /// GELU as bert/modeling.py `gelu` defines it: `x * 0.5 * (1 + erf(x / sqrt(2)))`.
    @inline(__always)
    static func gelu(_ x: Vector) -> Vector {
        // x · (1/√2) instead of x / √2: at most one ulp apart, far below erf's own error.
        x * (0.5 * (1 + erf(x * 0.707_106_781)))
    }

    /// Applies `f` to `count` floats at `p`, in place; the tail goes through a zero-padded vector
    /// so every element gets the same arithmetic.
    @inline(__always)
    static func map(_ p: UnsafeMutablePointer<Float>, count: Int, _ f: (Vector) -> Vector) {
        let raw = UnsafeMutableRawPointer(p)
        var i = 0
        while i + width <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
            raw.storeBytes(of: f(v), toByteOffset: i * 4, as: Vector.self)
            i += width
        }
        if i < count {
            var v = Vector()
            for j in 0..<(count - i) { v[j] = p[i + j] }
            let y = f(v)
            for j in 0..<(count - i) { p[i + j] = y[j] }
        }
    }

    /// `p[i] = f(p[i] + bias[i])` for `count` floats, tail as in `map`.
    @inline(__always)
    static func mapAddingBias(
        _ p: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, count: Int, _ f: (Vector) -> Vector
    ) {
        let raw = UnsafeMutableRawPointer(p)
        let rawBias = UnsafeRawPointer(bias)
        var i = 0
        while i + width <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
                + rawBias.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
            raw.storeBytes(of: f(v), toByteOffset: i * 4, as: Vector.self)
            i += width
        }
        if i < count {
            var v = Vector()
            for j in 0..<(count - i) { v[j] = p[i + j] + bias[i + j] }
            let y = f(v)
            for j in 0..<(count - i) { p[i + j] = y[j] }
        }
    }

    /// modeling.py `dense(…, activation=act)` after the matrix product: `act(x + bias)` for each
    /// of `rows` rows of width `cols`, in place.
    static func addBiasActivate(
        _ p: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int, _ activation: Activation
    ) {
        for r in 0..<rows {
            let row = p + r * cols
            switch activation {
            case .gelu: mapAddingBias(row, bias: bias, count: cols, gelu)
            case .relu: mapAddingBias(row, bias: bias, count: cols) { $0.replacing(with: 0, where: $0 .< 0) }
            case .linear: mapAddingBias(row, bias: bias, count: cols) { $0 }
            case .tanh:
                for j in 0..<cols { row[j] = Foundation.tanh(row[j] + bias[j]) }
            }
        }
    }

    /// GELU in place over `count` floats.
    static func geluInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        map(p, count: count, gelu)
    }

    /// Row-wise softmax of a `rows × cols` matrix (leading dimension `cols`), in place, the way
    /// tf.nn.softmax computes it: `exp(x - max)`, then times `1 / sum`; with `adder`, of
    /// `x + adder` per row (`cols` floats). The C kernel uses `exp`'s algorithm on 16 lanes,
    /// compiled for AVX-512 and AVX2 too (Swift code here runs on SSE2 lanes).
    static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, adding adder: UnsafePointer<Float>? = nil) {
        bss_softmax_rows(p, rows, cols, adder)
    }

    /// `rows` LayerNorms of width `cols` over `x + residual`, written to `x` (residual may be
    /// nil): tf.contrib.layers.layer_norm — `mean`, `variance = mean((x - mean)^2)`,
    /// `inv = rsqrt(variance + 1e-12) * gamma`, `x * inv + (beta - mean * inv)` (C kernel, as softmax).
    static func addLayerNorm(
        _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
        rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>
    ) {
        bss_add_layer_norm(x, residual, rows, cols, gamma, beta)
    }
}

import Foundation
import Testing
@testable import BertEngine

/// Our exp/erf approximations against the platform's libm in Double.
@Suite struct VectorMathTests {
    static func apply(_ xs: [Float], _ f: (UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var ys = xs
        ys.withUnsafeMutableBufferPointer { f($0.baseAddress!, $0.count) }
        return ys
    }

    @Test func expIsAccurateAndUnderflowsToZero() {
        let xs = stride(from: Float(-87), through: 80, by: 0.0137).map { $0 }
        let ys = Self.apply(xs) { VectorMath.expInPlace($0, count: $1) }
        for (x, y) in zip(xs, ys) {
            let exact = Foundation.exp(Double(x))
            #expect(abs(Double(y) - exact) / exact <= 3e-7, "exp(\(x)) = \(y), libm \(exact)")
        }
        let masked = Self.apply([-10000, -100, -88, -1e30]) { VectorMath.expInPlace($0, count: $1) }
        #expect(masked == [0, 0, 0, 0])
        #expect(Self.apply([0]) { VectorMath.expInPlace($0, count: $1) } == [1])
    }

    @Test func geluMatchesTheErfFormula() {
        let xs = stride(from: Float(-12), through: 12, by: 0.00731).map { $0 }
        let ys = Self.apply(xs) { VectorMath.geluInPlace($0, count: $1) }
        for (x, y) in zip(xs, ys) {
            let d = Double(x)
            let exact = d * 0.5 * (1 + Foundation.erf(d / 2.0.squareRoot()))
            #expect(abs(Double(y) - exact) <= 3e-7 * max(1, abs(d)), "gelu(\(x)) = \(y), libm \(exact)")
        }
    }

    @Test func tailElementsGetTheSameArithmetic() {
        let xs: [Float] = (0..<19).map { Float($0) * 0.37 - 3 }
        let all = Self.apply(xs) { VectorMath.geluInPlace($0, count: $1) }
        for i in xs.indices {
            #expect(Self.apply([xs[i]]) { VectorMath.geluInPlace($0, count: $1) } == [all[i]])
        }
    }

    @Test func layerNormHasZeroMeanUnitVariance() {
        var x: [Float] = (0..<37).map { Float($0 * $0 % 11) - 4 }
        let gamma = [Float](repeating: 1, count: 37), beta = [Float](repeating: 0, count: 37)
        x.withUnsafeMutableBufferPointer { p in
            VectorMath.addLayerNorm(p.baseAddress!, residual: nil, rows: 1, cols: 37, gamma: gamma, beta: beta)
        }
        let mean = x.reduce(0, +) / 37
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 37
        #expect(abs(mean) < 1e-6)
        #expect(abs(variance - 1) < 1e-5)
    }

    /// Deterministic values in [-scale, scale).
    static func values(_ count: Int, seed: Int, scale: Float) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 2001 - 1000) / 1000 * scale }
    }

    /// The attention kernel (q·kᵀ, softmax, · v for one sequence and head) against Double at
    /// lengths around its 16-key tiles and its blocks of 4 and 8 queries, at head widths around
    /// its 16-column chunks, with and without a mask adder, on strided rows as in the fused
    /// projection. Columns of `out` past the head are left alone, and a masked key's weight is
    /// exactly 0 (its value, however large, changes nothing).
    @Test(arguments: [1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 25, 31, 32, 33, 40, 63, 64, 65, 128])
    func attentionMatchesDouble(_ n: Int) {
        for d in [1, 7, 16, 17, 26, 32, 33, 48, 64] {
            let ld = 3 * d + 5, ldo = d + 3
            let scale = 1 / Float(d).squareRoot()
            let qkv = Self.values(n * ld, seed: n * 31 + d, scale: 2)
            let adder: [Float] = (0..<n).map { $0 % 5 == 3 ? -10000 : 0 }
            for masked in [false, true] {
                let out = Self.attention(qkv, ld: ld, n: n, d: d, scale: scale, adder: masked ? adder : nil, ldo: ldo)
                for i in 0..<n {
                    var scores = (0..<n).map { j in
                        (0..<d).reduce(0.0) { $0 + Double(qkv[i * ld + $1]) * Double(qkv[j * ld + d + $1]) }
                            * Double(scale) + (masked ? Double(adder[j]) : 0)
                    }
                    let top = scores.max()!
                    scores = scores.map { Foundation.exp($0 - top) }
                    let sum = scores.reduce(0, +)
                    for c in 0..<d {
                        let expected = (0..<n).reduce(0.0) { $0 + scores[$1] / sum * Double(qkv[$1 * ld + 2 * d + c]) }
                        #expect(abs(Double(out[i * ldo + c]) - expected) <= 1e-5, "n \(n) d \(d) row \(i) col \(c) masked \(masked)")
                    }
                    #expect(out[(i * ldo + d)..<(i * ldo + ldo)].allSatisfy { $0 == 12345 }, "n \(n) d \(d) row \(i)")
                }
                if masked, n > 3 {
                    var loud = qkv
                    for j in 0..<n where adder[j] != 0 {
                        for c in 0..<d { loud[j * ld + 2 * d + c] = 1e6 }
                    }
                    #expect(Self.attention(loud, ld: ld, n: n, d: d, scale: scale, adder: adder, ldo: ldo) == out)
                }
            }
        }
    }

    /// `VectorMath.attention` over rows of `qkv` (Q | K | V at columns 0, d and 2d of rows `ld`
    /// apart), into rows `ldo` apart prefilled with 12345.
    static func attention(_ qkv: [Float], ld: Int, n: Int, d: Int, scale: Float, adder: [Float]?, ldo: Int) -> [Float] {
        var out = [Float](repeating: 12345, count: n * ldo)
        var scratch = [Float](repeating: .nan, count: VectorMath.attentionScratchCount(n: n, d: d))
        qkv.withUnsafeBufferPointer { x in
            let q = x.baseAddress!
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    if let adder {
                        adder.withUnsafeBufferPointer { a in
                            VectorMath.attention(q: q, k: q + d, v: q + 2 * d, ld: ld, n: n, d: d, scale: scale,
                                                 adding: a.baseAddress!, into: o.baseAddress!, ldo: ldo, scratch: s.baseAddress!)
                        }
                    } else {
                        VectorMath.attention(q: q, k: q + d, v: q + 2 * d, ld: ld, n: n, d: d, scale: scale,
                                             adding: nil, into: o.baseAddress!, ldo: ldo, scratch: s.baseAddress!)
                    }
                }
            }
        }
        return out
    }

    /// LayerNorm of `x + residual` at every width from 2 to 40 against Double (width 1 has
    /// variance 0: `x·inv - mean·inv` with inv ≈ 1e6 is rounding noise, in TensorFlow too).
    @Test(arguments: 2...40)
    func layerNormMatchesDoubleAtEveryWidth(_ cols: Int) {
        let rows = 2
        let x = Self.values(rows * cols, seed: cols, scale: 3)
        let residual = Self.values(rows * cols, seed: cols + 1, scale: 2)
        let gamma = Self.values(cols, seed: 5, scale: 1).map { $0 + 1 }, beta = Self.values(cols, seed: 6, scale: 1)
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            VectorMath.addLayerNorm(p.baseAddress!, residual: residual, rows: rows, cols: cols, gamma: gamma, beta: beta)
        }
        for r in 0..<rows {
            let v = (0..<cols).map { Double(x[r * cols + $0]) + Double(residual[r * cols + $0]) }
            let mean = v.reduce(0, +) / Double(cols)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            for c in 0..<cols {
                let expected = (v[c] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[c]) + Double(beta[c])
                #expect(abs(Double(out[r * cols + c]) - expected) <= 2e-5 * max(1, abs(expected)), "row \(r) col \(c)")
            }
        }
    }
}

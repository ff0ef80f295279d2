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

    @Test func softmaxRowsSumToOne() {
        var scores: [Float] = [1, 2, 3, -10000, 0.5, 0.5, 0.5, 0.5, 30, -30, 0, 1]
        scores.withUnsafeMutableBufferPointer { VectorMath.softmaxRows($0.baseAddress!, rows: 3, cols: 4) }
        #expect(scores[3] == 0)
        for r in 0..<3 {
            #expect(abs(scores[(r * 4)..<(r * 4 + 4)].reduce(0, +) - 1) < 1e-6)
        }
        #expect(scores[4...7].allSatisfy { $0 == 0.25 })
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

    /// The C kernel's 16-lane bulk and padded tail at every width up to 40, with and without a
    /// mask adder, against softmax in Double.
    @Test(arguments: 1...40)
    func softmaxMatchesDoubleAtEveryWidth(_ cols: Int) {
        let rows = 3
        let scores = Self.values(rows * cols, seed: cols, scale: 8)
        let adder: [Float] = (0..<cols).map { $0 % 5 == 3 ? -10000 : 0 }
        for masked in [false, true] {
            var out = scores
            out.withUnsafeMutableBufferPointer { p in
                adder.withUnsafeBufferPointer { a in
                    VectorMath.softmaxRows(p.baseAddress!, rows: rows, cols: cols, adding: masked ? a.baseAddress! : nil)
                }
            }
            for r in 0..<rows {
                let x = (0..<cols).map { Double(scores[r * cols + $0]) + (masked ? Double(adder[$0]) : 0) }
                let m = x.max()!
                let e = x.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for c in 0..<cols {
                    #expect(abs(Double(out[r * cols + c]) - e[c] / s) <= 1e-6, "row \(r) col \(c) masked \(masked)")
                }
            }
        }
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

import CKernels
import Foundation
import Testing
@testable import BertEngine

/// `bss_dense` (CKernels/dense.c), the engine's float32 products, against a Double re-statement
/// of `activation(input · kernel + bias)`, on every tile set this CPU runs (AVX2, and AVX-512
/// where it has it): every tile height (1–6 rows with AVX2, 1–12 with AVX-512, and the
/// near-equal split of a block), tiles of one panel and of two, blocks of rows (120) and of depth
/// (384 / 768) and their remainders, panels narrower than 16 columns, strided input and output,
/// products split by panels, and the input read where it lies or copied into scratch first.
@Suite struct PanelKernelTests {
    /// Every machine we run on has AVX2 and FMA; a CPU without them would run OpenBLAS instead,
    /// and these tests would fail there rather than pass without testing anything. The widest
    /// tiles are those /proc/cpuinfo's flags allow.
    @Test func availableOnThisMachine() {
        #expect(PanelDense.available == BLASKernel.hostCPUFlags().isSuperset(of: ["avx2", "fma"]))
        #expect(PanelDense.available)
        #expect(PanelInstructionSet.best == ReducedPrecisionTests.hostPanelInstructionSet)
    }

    /// The tile sets this CPU runs.
    static let instructionSets = PanelInstructionSet.allCases.filter { $0 <= (PanelInstructionSet.best ?? .avx2) }

    struct Product {
        let m: Int, k: Int, n: Int
        /// Row strides: the input's and the output's rows are longer than the product needs.
        var lda: Int { k + 3 }
        var ldo: Int { n + 5 }
    }

    /// `activation(input · kernel + bias)` in Double.
    static func reference(
        _ p: Product, input: [Float], kernel: [Float], bias: [Float], activation: Activation
    ) -> [Double] {
        var out = [Double](repeating: 0, count: p.m * p.n)
        for r in 0..<p.m {
            for j in 0..<p.n {
                var sum = Double(bias[j])
                for i in 0..<p.k { sum += Double(input[r * p.lda + i]) * Double(kernel[i * p.n + j]) }
                switch activation {
                case .linear: out[r * p.n + j] = sum
                case .relu: out[r * p.n + j] = max(0, sum)
                case .gelu: out[r * p.n + j] = sum * 0.5 * (1 + Foundation.erf(sum / 2.0.squareRoot()))
                case .tanh: out[r * p.n + j] = Foundation.tanh(sum)
                }
            }
        }
        return out
    }

    /// Runs `p` with the output split into `parts` panel ranges (as threads share a product),
    /// copying the input into scratch first when `scratch`; returns the whole output buffer,
    /// `m + 1` rows of `ldo`, whose cells outside the product must keep their sentinel.
    static func run(
        _ p: Product, input: [Float], kernel: [Float], bias: [Float], activation: Activation, parts: Int,
        scratch: Bool = false, instructionSet: PanelInstructionSet = .avx2
    ) -> [Float] {
        let dense = PanelDense(
            Dense(kernel: kernel, bias: bias, inFeatures: p.k, outFeatures: p.n), activation: activation,
            instructionSet: instructionSet)
        var out = [Float](repeating: sentinel, count: (p.m + 1) * p.ldo)
        // NaN: a tile reading scratch the copy did not fill would poison its sums.
        var inputScratch = [Float](repeating: .nan, count: scratch ? dense.inputScratchCount : 0)
        input.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { out in
                inputScratch.withUnsafeMutableBufferPointer { inputScratch in
                    for part in 0..<parts {
                        let panels = BertEncoder.chunk(part, of: parts, count: dense.panels)
                        bss_dense(
                            instructionSet.rawValue, input.baseAddress!, p.lda, p.m, p.k, dense.packedKernel, p.n, bias, activation.kernelCode,
                            out.baseAddress!, p.ldo, panels.lowerBound, panels.upperBound,
                            scratch ? inputScratch.baseAddress : nil)
                    }
                }
            }
        }
        return out
    }

    static let sentinel: Float = 12345

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 20, 23, 24, 25, 119, 120, 121, 250])
    func productMatchesDouble(_ m: Int) {
        for instructionSet in Self.instructionSets {
            productMatchesDouble(m, instructionSet)
        }
    }

    func productMatchesDouble(_ m: Int, _ instructionSet: PanelInstructionSet) {
        // 96 and 50 columns: ranges of 2 full panels (AVX-512's two-panel tiles), and a full panel
        // next to a narrow one; 1,600 deep: more than one AVX-512 depth block.
        for (k, n) in [(1, 1), (17, 15), (384, 16), (385, 17), (800, 40), (70, 96), (33, 50), (1600, 34)] {
            let p = Product(m: m, k: k, n: n)
            let input = VectorMathTests.values(m * p.lda, seed: m + k, scale: 1)
            let kernel = VectorMathTests.values(k * n, seed: n, scale: 1 / Float(k).squareRoot())
            let bias = VectorMathTests.values(n, seed: 3, scale: 0.5)
            for activation in [Activation.gelu, .linear] {
                let expected = Self.reference(p, input: input, kernel: kernel, bias: bias, activation: activation)
                for (parts, scratch) in [(1, false), (2, false), (3, false), (5, false), (1, true), (3, true)] {
                    let out = Self.run(
                        p, input: input, kernel: kernel, bias: bias, activation: activation, parts: parts,
                        scratch: scratch, instructionSet: instructionSet)
                    var worst = 0.0
                    for r in 0..<m {
                        for j in 0..<n { worst = max(worst, abs(Double(out[r * p.ldo + j]) - expected[r * n + j])) }
                    }
                    #expect(
                        worst <= 2e-5,
                        "\(instructionSet) m \(m) k \(k) n \(n) \(activation) parts \(parts) scratch \(scratch): max |diff| \(worst)")
                    let untouched = (0..<out.count).allSatisfy { i in
                        i / p.ldo < m && i % p.ldo < n || out[i] == Self.sentinel
                    }
                    #expect(untouched, "\(instructionSet) m \(m) k \(k) n \(n): wrote outside the product")
                }
            }
        }
    }

    /// Copying the input into scratch changes where the tiles read it, not the arithmetic: the
    /// same sums, bit for bit, so a product split by rows (with scratch) and one split by panels
    /// (without) give the encoder the same vectors.
    @Test(arguments: [5, 121, 250, 625])
    func scratchGivesTheSameBits(_ m: Int) {
        let p = Product(m: m, k: 800, n: 40)
        let input = VectorMathTests.values(m * p.lda, seed: m, scale: 1)
        let kernel = VectorMathTests.values(p.k * p.n, seed: 7, scale: 1 / Float(p.k).squareRoot())
        let bias = VectorMathTests.values(p.n, seed: 3, scale: 0.5)
        for isa in Self.instructionSets {
            let inPlace = Self.run(p, input: input, kernel: kernel, bias: bias, activation: .gelu, parts: 1, instructionSet: isa)
            let copied = Self.run(
                p, input: input, kernel: kernel, bias: bias, activation: .gelu, parts: 1, scratch: true, instructionSet: isa)
            let differing = zip(inPlace, copied).indices(where: !=)
            #expect(differing.count == 0, "\(isa) m \(m): \(differing.count) floats differ, the first at \(differing.first ?? -1)")
        }
    }

    /// The AVX-512 tiles build every sum in the order the AVX2 tiles do, one FMA per step: with
    /// one depth block (k ≤ 384 for both) the same bits; deeper, their blocks differ (768 against
    /// 384) and the sums agree to rounding. On a CPU without AVX-512 only AVX2 runs (checked by
    /// `availableOnThisMachine`), so there is nothing to compare.
    @Test(arguments: [1, 10, 12, 20, 25, 121, 250])
    func avx512AgreesWithAVX2(_ m: Int) {
        guard Self.instructionSets.contains(.avx512) else {
            #expect(ReducedPrecisionTests.hostPanelInstructionSet == .avx2)
            return
        }
        for (k, n) in [(384, 1152), (384, 50), (1536, 384), (800, 96)] {
            let p = Product(m: m, k: k, n: n)
            let input = VectorMathTests.values(m * p.lda, seed: m + k, scale: 1)
            let kernel = VectorMathTests.values(k * n, seed: n, scale: 1 / Float(k).squareRoot())
            let bias = VectorMathTests.values(n, seed: 3, scale: 0.5)
            let avx2 = Self.run(p, input: input, kernel: kernel, bias: bias, activation: .gelu, parts: 3, instructionSet: .avx2)
            let avx512 = Self.run(
                p, input: input, kernel: kernel, bias: bias, activation: .gelu, parts: 3, instructionSet: .avx512)
            if k <= 384 {
                let differing = zip(avx2, avx512).indices(where: !=)
                #expect(differing.count == 0, "m \(m) k \(k) n \(n): \(differing.count) floats differ")
            } else {
                let worst = zip(avx2, avx512).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst <= 2e-6, "m \(m) k \(k) n \(n): max |diff| \(worst)")
            }
        }
    }

    /// A batch of 1,200 tokens has its products split by rows among 2 threads (with AVX2 each
    /// part's input copied into scratch); the same sequences encoded 4 at a time (≤ 100 tokens)
    /// are split by panels and read in place. Every vector must come out the same, bit for bit,
    /// on the AVX2 tiles and on the default (the widest).
    @Test(arguments: ["AVX2", "default"])
    func rowSplitGivesTheSameVectorsAsPanelSplit(_ tiles: String) throws {
        let weights = try (tiles == "AVX2" ? MiniLM.tf1AVX2Panels : MiniLM.tf1).get()
        #expect(weights.matmulPrecision.library == .panelKernels)
        let (count, seqLen) = (48, 25)
        #expect(count * seqLen >= 2 * 2 * BertEncoder.panelRowsPerPart, "the whole batch must split by rows")
        var ids = [Int32](repeating: 0, count: count * seqLen), mask = ids
        for row in 0..<count {
            let length = 5 + row % 21  // 5 … 25 tokens: [CLS] words [SEP], the rest padding
            for p in 0..<length {
                ids[row * seqLen + p] = p == 0 ? 101 : p == length - 1 ? 102 : Int32(2000 + (row * 31 + p * 7) % 5000)
                mask[row * seqLen + p] = 1
            }
        }
        func batch(_ rows: Range<Int>) -> EncoderBatch {
            let cells = (rows.lowerBound * seqLen)..<(rows.upperBound * seqLen)
            return EncoderBatch(
                count: rows.count, seqLen: seqLen, inputIds: Array(ids[cells]), inputMask: Array(mask[cells]),
                inputTypeIds: [Int32](repeating: 0, count: cells.count))
        }
        let encoder = BertEncoder(weights: weights, threads: 2)
        let whole = try encoder.encode(batch(0..<count), pooling: .reduceMean, layers: [-1])
        var pieces: [Float] = []
        for first in stride(from: 0, to: count, by: 4) {
            pieces += try encoder.encode(batch(first..<(first + 4)), pooling: .reduceMean, layers: [-1]).values
        }
        let differing = zip(whole.values, pieces).indices(where: !=)
        #expect(whole.values.count == pieces.count)
        #expect(differing.count == 0, "\(differing.count) floats differ, the first at \(differing.first ?? -1)")
    }

    /// Bias and activation are the separate pass's arithmetic (`bss_add_bias_activate`) on the
    /// finished sums, bit for bit, for every activation, on every tile set, in two full panels
    /// (one AVX-512 tile) and a narrow last one.
    @Test(arguments: [Activation.linear, .relu, .gelu, .tanh])
    func epilogueIsTheSeparatePass(_ activation: Activation) {
        let p = Product(m: 7, k: 1, n: 37)
        // k = 1 and kernel ones: the sums are the inputs themselves, exactly.
        let input = VectorMathTests.values(p.m * p.lda, seed: 5, scale: 4)
        let kernel = [Float](repeating: 1, count: p.n)
        let bias = VectorMathTests.values(p.n, seed: 9, scale: 1)
        for isa in Self.instructionSets {
            let out = Self.run(
                p, input: input, kernel: kernel, bias: bias, activation: activation, parts: 1, instructionSet: isa)
            for r in 0..<p.m {
                var row = [Float](repeating: input[r * p.lda], count: p.n)
                row.withUnsafeMutableBufferPointer {
                    VectorMath.addBiasActivate($0.baseAddress!, bias: bias, rows: 1, cols: p.n, activation)
                }
                #expect(Array(out[(r * p.ldo)..<(r * p.ldo + p.n)]) == row, "\(isa) row \(r)")
            }
        }
    }

    @Test func packingZeroFillsTheLastPanel() {
        let (k, n) = (3, 18)
        let kernel = (0..<(k * n)).map { Float($0 + 1) }
        var packed = [Float](repeating: -1, count: bss_dense_packed_floats(k, n))
        #expect(packed.count == 2 * 16 * k)
        kernel.withUnsafeBufferPointer { bss_dense_pack($0.baseAddress!, k, n, &packed) }
        for i in 0..<k {
            for j in 0..<16 {
                #expect(packed[i * 16 + j] == kernel[i * n + j])
                #expect(packed[16 * k + i * 16 + j] == (j < 2 ? kernel[i * n + 16 + j] : 0))
            }
        }
    }
}

extension Zip2Sequence where Sequence1.Element == Float, Sequence2.Element == Float {
    /// The positions where `differ(a, b)`.
    fileprivate func indices(where differ: (Float, Float) -> Bool) -> [Int] {
        enumerated().filter { differ($0.element.0, $0.element.1) }.map(\.offset)
    }
}

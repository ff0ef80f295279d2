import CKernels

/// A dense layer's kernel packed once at load into the 16-column panels `bss_dense` reads
/// (`CKernels/dense.c`, AVX2 + FMA or AVX-512), which adds the bias and applies the activation itself.
///
/// The engine's float32 path on every CPU with AVX2 and FMA. OpenBLAS's sgemm packs the kernel
/// again on every call: measured on a 2-core AMD Zen 3, one thread, 20 rows × 384 × 1152,
/// 0.24 ms against 0.18 ms for these kernels (96 GFLOP/s), and equal within 5 % at 5,000 rows.
/// On a Zen 5 the AVX-512 tiles run 240-260 GFLOP/s on one thread from 20 rows up (AVX2's:
/// 120-127), where oneDNN's float32 matmul is slow for one sentence (see `ReducedPrecision.prepare`).
///
/// Immutable after `init`; the packed buffer is freed with the object.
final class PanelDense: @unchecked Sendable {
    let inFeatures: Int
    let outFeatures: Int
    let activation: Activation
    /// Panels of 16 output columns: threads share a product by panels.
    let panels: Int
    /// The tiles `multiply` runs on.
    let instructionSet: PanelInstructionSet
    private let bias: [Float]
    /// `bss_dense_packed_floats(inFeatures, outFeatures)` floats, 64-byte aligned (the tiles load
    /// each 64-byte panel row with aligned loads: two of 32 bytes with AVX2, one with AVX-512).
    let packedKernel: UnsafeMutablePointer<Float>

    /// `instructionSet` must be one this CPU runs (`PanelInstructionSet.best` or below).
    init(_ dense: Dense, activation: Activation, instructionSet: PanelInstructionSet) {
        self.instructionSet = instructionSet
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
        self.activation = activation
        bias = dense.bias
        panels = bss_dense_panels(outFeatures)
        let count = bss_dense_packed_floats(inFeatures, outFeatures)
        packedKernel = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        dense.kernel.withUnsafeBufferPointer { kernel in
            bss_dense_pack(kernel.baseAddress!, inFeatures, outFeatures, packedKernel)
        }
    }

    deinit { UnsafeMutableRawPointer(packedKernel).deallocate() }

    /// `out[rows, outFeatures] = activation(input[rows, inFeatures] · kernel + bias)`, the
    /// columns of `panelRange` only (the whole product when it is `0..<panels`). With
    /// `inputScratch` (`inputScratchCount` floats no other call is using) the input is copied
    /// there block by block before the panels read it; the results are the same bits.
    func multiply(
        _ input: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>, panels panelRange: Range<Int>,
        inputScratch: UnsafeMutablePointer<Float>? = nil
    ) {
        guard rows > 0, !panelRange.isEmpty else { return }
        bias.withUnsafeBufferPointer { bias in
            bss_dense(
                instructionSet.rawValue, input, inFeatures, rows, inFeatures, packedKernel, outFeatures,
                bias.baseAddress!, activation.kernelCode, out, outFeatures, panelRange.lowerBound, panelRange.upperBound,
                inputScratch)
        }
    }

    /// The floats of one `inputScratch` of `multiply`; 0 when it reads the input in place anyway
    /// (the AVX-512 tiles, which measured faster so on a Zen 5).
    var inputScratchCount: Int { bss_dense_input_scratch_floats(instructionSet.rawValue) }

    /// Whether this CPU runs the panel kernels (x86-64 with AVX2 and FMA).
    static var available: Bool { PanelInstructionSet.best != nil }
}

/// The tiles of `bss_dense`: AVX2 + FMA, or AVX-512 (wider tiles and deeper blocks, so sums agree
/// with AVX2's to rounding, not to the bit).
public enum PanelInstructionSet: Int32, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case avx2 = 1
    case avx512 = 2

    /// The widest this CPU runs; nil without AVX2 and FMA.
    public static let best = PanelInstructionSet(rawValue: bss_dense_best_isa())

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .avx2: "AVX2 + FMA"
        case .avx512: "AVX-512"
        }
    }
}

/// The dense kernels of one encoder layer, packed into panels (all four).
struct PanelLayer: Sendable {
    let qkv: PanelDense
    let attentionOutput: PanelDense
    let intermediate: PanelDense
    let output: PanelDense

    /// Packs `layer`'s kernels; `activation` is the intermediate layer's (`hidden_act`).
    init(_ layer: LayerWeights, activation: Activation, instructionSet: PanelInstructionSet) {
        qkv = PanelDense(layer.qkv, activation: .linear, instructionSet: instructionSet)
        attentionOutput = PanelDense(layer.attentionOutput, activation: .linear, instructionSet: instructionSet)
        intermediate = PanelDense(layer.intermediate, activation: activation, instructionSet: instructionSet)
        output = PanelDense(layer.output, activation: .linear, instructionSet: instructionSet)
    }
}

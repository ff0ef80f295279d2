import CDNNL
import Dispatch
import Foundation
import Testing
@testable import BertEngine
import Checkpoint

/// `-fp16`'s bfloat16 matrix products against the ORIGINAL server's float32 vectors
/// (Resources/engine_golden): cosine ≥ 0.999 per row for every pooling strategy (issue 7).
/// On a CPU without AVX512-BF16 the same tests check that the engine fell back to float32.
@Suite struct ReducedPrecisionTests {
    /// The criterion.
    static let minimumCosine = 0.999

    /// Whether this machine should run bfloat16: the CPU reports avx512_bf16 and no
    /// ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA caps oneDNN below it.
    static var hostRunsBF16: Bool {
        let environment = ProcessInfo.processInfo.environment
        let cap = (environment["ONEDNN_MAX_CPU_ISA"] ?? environment["DNNL_MAX_CPU_ISA"])?.uppercased()
        if let cap, cap != "ALL", cap != "AVX512_CORE_BF16", cap != "AVX512_CORE_AMX" { return false }
        return BLASKernel.hostCPUFlags().contains("avx512_bf16")
    }

    @Test func choiceFollowsTheCPU() throws {
        let weights = try MiniLMBF16.tf1.get()
        let choice = weights.matmulPrecision
        #expect(choice.requested == .bfloat16)
        if Self.hostRunsBF16 {
            #expect(choice.active == .bfloat16, "\(choice.summary)")
            #expect(choice.fallbackReason == nil)
            #expect(choice.implementation?.hasPrefix("brg:") == true, "\(choice.summary)")
            #expect(weights.packedLayers?.count == weights.config.layers)
        } else {
            // The fp32 fallback: no packed kernels, a reason for the log.
            #expect(choice.active == .float32, "\(choice.summary)")
            #expect(choice.fallbackReason != nil)
            #expect(weights.packedLayers == nil)
            #expect(choice.summary.contains("float32"))
        }
    }

    /// Whether this machine should run float32 on oneDNN: the CPU has the AVX-512 subsets of
    /// oneDNN's avx512_core and no ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA caps oneDNN below it.
    static var hostRunsPackedFloat32: Bool {
        let environment = ProcessInfo.processInfo.environment
        let cap = (environment["ONEDNN_MAX_CPU_ISA"] ?? environment["DNNL_MAX_CPU_ISA"])?.uppercased()
        if let cap, cap != "ALL", !cap.hasPrefix("AVX512_CORE") { return false }
        return BLASKernel.avx512Flags.isSubset(of: BLASKernel.hostCPUFlags())
    }

    /// The panel kernels' widest tiles this CPU runs, read off /proc/cpuinfo independently of
    /// the kernels' own cpuid check.
    static var hostPanelInstructionSet: PanelInstructionSet? {
        let flags = BLASKernel.hostCPUFlags()
        guard flags.isSuperset(of: ["avx2", "fma"]) else { return nil }
        return flags.contains("avx512f") ? .avx512 : .avx2
    }

    @Test func float32IsTheDefault() throws {
        let weights = try MiniLM.tf1.get()
        let choice = weights.matmulPrecision
        #expect(choice.active == .float32)
        #expect(choice.requested == .float32)
        // Our panel kernels on the widest tiles the CPU runs; every machine we run on has AVX2.
        #expect(choice.library == .panelKernels, "\(choice.summary)")
        #expect(choice.panelInstructionSet == Self.hostPanelInstructionSet, "\(choice.summary)")
        #expect(PanelInstructionSet.best == Self.hostPanelInstructionSet)
        #expect(choice.notOneDNNReason == nil)
        #expect(weights.packedLayers == nil)
        #expect(weights.panelLayers?.count == weights.config.layers)
        let tiles = try #require(choice.panelInstructionSet)
        #expect(choice.summary.contains("our \(tiles) kernels"), "\(choice.summary)")
        // The packed copy replaces the row-major one: the weights are held once.
        #expect(weights.layers.allSatisfy { $0.intermediate.kernel.isEmpty && $0.qkv.kernel.isEmpty })
    }

    @Test func openBLASOnRequest() throws {
        let weights = try MiniLM.tf1OpenBLAS.get()
        #expect(weights.matmulPrecision.library == .openBLAS)
        #expect(weights.matmulPrecision.notOneDNNReason == nil)
        #expect(weights.packedLayers == nil && weights.panelLayers == nil)
        #expect(weights.matmulPrecision.summary.contains("OpenBLAS"))
    }

    @Test func avx2PanelKernelsOnRequest() throws {
        let weights = try MiniLM.tf1AVX2Panels.get()
        let choice = weights.matmulPrecision
        #expect(choice.library == .panelKernels, "\(choice.summary)")
        #expect(choice.panelInstructionSet == .avx2)
        #expect(choice.notOneDNNReason == nil)
        #expect(weights.packedLayers == nil)
        #expect(weights.panelLayers?.allSatisfy { $0.intermediate.instructionSet == .avx2 } == true)
        #expect(choice.summary.contains("AVX2 + FMA kernels"))
    }

    /// oneDNN's float32 matmul, asked for by name: packed kernels where the CPU has AVX-512,
    /// else OpenBLAS with the reason in the log line.
    @Test func oneDNNOnRequest() throws {
        let weights = try MiniLM.tf1OneDNN.get()
        let choice = weights.matmulPrecision
        #expect(choice.active == .float32)
        if Self.hostRunsPackedFloat32 {
            #expect(choice.library == .oneDNN, "\(choice.summary)")
            #expect(choice.implementation?.hasPrefix("brg:") == true, "\(choice.summary)")
            #expect(weights.packedLayers?.first?.qkv.element == .float32)
            #expect(weights.panelLayers == nil)
        } else {
            #expect(choice.library == .openBLAS, "\(choice.summary)")
            #expect(choice.notOneDNNReason != nil)
            #expect(choice.summary.contains("not oneDNN"))
            #expect(weights.packedLayers == nil && weights.panelLayers == nil)
        }
    }

    /// The panel kernels (both tile sets) and oneDNN sum in other orders than sgemm, nothing
    /// more: every pooled value of a golden batch agrees far inside the golden tolerance.
    @Test func packedFloat32AgreesWithOpenBLAS() throws {
        let plain = try MiniLM.tf1OpenBLAS.get()
        for packed in [try MiniLM.tf1.get(), try MiniLM.tf1AVX2Panels.get(), try MiniLM.tf1OneDNN.get()] {
            for golden in Golden.cases where !golden.noPositionEmbeddings {
                let pooling = try #require(PoolingStrategy(name: golden.poolingStrategy))
                let batch = try Golden.input(golden.batches[0].input).batch
                let a = try BertEncoder(weights: packed).encode(batch, pooling: pooling, layers: golden.poolingLayer)
                let b = try BertEncoder(weights: plain).encode(batch, pooling: pooling, layers: golden.poolingLayer)
                #expect(maxAbsDiff(a.values, b.values) <= 2e-5, "\(golden.name) \(packed.matmulPrecision.summary)")
            }
        }
    }

    @Test(arguments: Golden.cases)
    func bf16MatchesOriginalServer(_ golden: Golden.Case) throws {
        let weights = try (golden.noPositionEmbeddings ? MiniLMBF16.tf1NoPositions : MiniLMBF16.tf1).get()
        #expect(weights.matmulPrecision.active == (Self.hostRunsBF16 ? .bfloat16 : .float32))
        let pooling = try #require(PoolingStrategy(name: golden.poolingStrategy))
        let encoder = BertEncoder(weights: weights)
        for batch in golden.batches {
            let input = try Golden.input(batch.input)
            let expected = try Golden.floats(batch.output)
            let output = try encoder.encode(input.batch, pooling: pooling, layers: golden.poolingLayer)
            #expect(output.shape == batch.shape, "\(golden.name) \(batch.output)")
            try #require(output.values.count == expected.count)
            // A row is one output vector: one per sentence, or one per token for NONE, whose
            // masked positions must be exactly zero in both.
            let width = output.shape.last!
            var worst = 1.0
            for start in stride(from: 0, to: expected.count, by: width) {
                let ours = output.values[start..<(start + width)], theirs = expected[start..<(start + width)]
                if theirs.allSatisfy({ $0 == 0 }) {
                    #expect(ours.allSatisfy { $0 == 0 }, "\(golden.name): masked row \(start / width) not zero")
                    continue
                }
                worst = min(worst, cosine(ours, theirs))
            }
            #expect(worst >= Self.minimumCosine, "\(golden.name) \(batch.output): worst row cosine \(worst)")
            if !Self.hostRunsBF16 {
                #expect(maxAbsDiff(output.values, expected) <= GoldenTests.tolerance)
            }
        }
    }

    /// Encoders on several threads share the packed kernels and, on oneDNN, the primitive table
    /// (both element types: the scratchpad is per encoder for each).
    @Test(arguments: ["bfloat16 (oneDNN)", "float32 (default)", "float32 (oneDNN)"])
    func concurrentEncodersAgreeWithSerial(_ library: String) throws {
        let weights = try (library.hasPrefix("bfloat16") ? MiniLMBF16.tf1
            : library.hasSuffix("(oneDNN)") ? MiniLM.tf1OneDNN : MiniLM.tf1).get()
        let golden = try #require(Golden.cases.first { $0.poolingStrategy == "REDUCE_MEAN" })
        let batch = try Golden.input(golden.batches[0].input).batch
        let serial = try BertEncoder(weights: weights).encode(batch, pooling: .reduceMean, layers: [-1])
        let results = ResultSlots<EncoderOutput>(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let encoder = BertEncoder(weights: weights, threads: 1)
            let output = try? encoder.encode(batch, pooling: .reduceMean, layers: [-1])
            results.set(i, output)
        }
        for output in results.values {
            let output = try #require(output)
            #expect(maxAbsDiff(output.values, serial.values) <= 1e-5)
        }
    }

    @Test func decisionNeedsNativeBF16() {
        let amx = ReducedPrecision.decide(requested: .bfloat16, isa: dnnl_cpu_isa_avx512_core_amx)
        #expect(amx.active == .bfloat16 && amx.isa == "avx512_core_amx")
        let zen4 = ReducedPrecision.decide(requested: .bfloat16, isa: dnnl_cpu_isa_avx512_core_bf16)
        #expect(zen4.active == .bfloat16 && zen4.isa == "avx512_core_bf16")
        for isa in [dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx2] {
            let choice = ReducedPrecision.decide(requested: .bfloat16, isa: isa)
            #expect(choice.active == .float32)
            #expect(choice.fallbackReason?.contains("no AVX512-BF16") == true)
            #expect(choice.summary.contains("computing in float32"))
        }
        #expect(ReducedPrecision.decide(requested: .float32, isa: dnnl_cpu_isa_avx512_core_amx).active == .float32)
    }

    @Test func rowShapesPadLittle() {
        let bf16 = PackedElement.bfloat16.rowMultiple
        #expect(PackedDense.rowShapes(0, multiple: bf16) == (0, 0))
        #expect(PackedDense.rowShapes(1, multiple: bf16) == (0, 16))
        #expect(PackedDense.rowShapes(6400, multiple: bf16) == (6400, 0))
        #expect(PackedDense.rowShapes(5133, multiple: bf16) == (5120, 16))
        // float32 pads the tail to 8 rows: at most 32 tail shapes per kernel shape.
        let fp32 = PackedElement.float32.rowMultiple
        #expect(PackedDense.rowShapes(25, multiple: fp32) == (0, 32))
        #expect(PackedDense.rowShapes(24, multiple: fp32) == (0, 24))
        #expect(PackedDense.rowShapes(5133, multiple: fp32) == (5120, 16))
        #expect(Set((1...8192).map { PackedDense.rowShapes($0, multiple: fp32).tail }).count == 33)
        // Tails below 32 rows run unpadded: 0…31 exact and 29 padded ones (32…256).
        let exact = PackedElement.float32.exactTailBelow
        #expect(PackedDense.rowShapes(25, multiple: fp32, exactBelow: exact) == (0, 25))
        #expect(PackedDense.rowShapes(33, multiple: fp32, exactBelow: exact) == (0, 40))
        #expect(PackedDense.rowShapes(5133, multiple: fp32, exactBelow: exact) == (5120, 13))
        #expect(Set((1...8192).map { PackedDense.rowShapes($0, multiple: fp32, exactBelow: exact).tail }).count == 61)
        #expect(PackedDense.rowShapes(5, multiple: bf16, exactBelow: PackedElement.bfloat16.exactTailBelow) == (0, 16))
        for rows in 0..<2000 {
            let padded = PackedDense.paddedRows(rows, multiple: bf16)
            #expect(padded >= rows && padded < rows + 16)
            #expect(PackedDense.paddedRowsForAnyElement(rows) >= padded)
        }
    }

    @Test func conversionRoundsToNearestEven() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 and ties to even; the vector loop handles
        // 32 values at a time, so 40 values also exercise the scalar tail.
        let values: [Float] = (0..<40).map { i in i == 0 ? 1.00390625 : Float(i) * 0.3183 - 5 }
        var bits = [UInt16](repeating: 0, count: values.count)
        guard Self.hostRunsBF16 else { return }  // the converter needs AVX512-BF16; no caller runs it elsewhere
        values.withUnsafeBufferPointer { src in
            bits.withUnsafeMutableBufferPointer { BFloat16.convert(src.baseAddress!, into: $0.baseAddress!, count: src.count) }
        }
        #expect(bits[0] == 0x3F80)
        for (value, converted) in zip(values, bits) {
            let b = value.bitPattern
            #expect(converted == UInt16((b + 0x7FFF + ((b >> 16) & 1)) >> 16), "\(value)")
        }
    }
}

/// all-MiniLM-L6-v2 (TF1 checkpoint) loaded with `-fp16`'s bfloat16 request, once per process.
enum MiniLMBF16 {
    static let tf1: Result<BertWeights, any Error> = load(noPositionEmbeddings: false)
    static let tf1NoPositions: Result<BertWeights, any Error> = load(noPositionEmbeddings: true)

    private static func load(noPositionEmbeddings: Bool) -> Result<BertWeights, any Error> {
        Result {
            let files = try ModelLocator.locate(modelDir: try Rig.model("minilm-tf1"))
            let config = try BertConfig(contentsOfFile: files.configPath)
            return try BertWeights(
                config: config, store: files.store, noPositionEmbeddings: noPositionEmbeddings, precision: .bfloat16)
        }
    }
}

/// Cosine similarity in double precision (reduce_max rows may hold -1e30).
func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        let (x, y) = (Double(x), Double(y))
        dot += x * y
        na += x * x
        nb += y * y
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// A lock-protected array for results written from `concurrentPerform` iterations.
final class ResultSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Value?]
    init(count: Int) { stored = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Value?) { lock.withLock { stored[i] = value } }
    var values: [Value?] { lock.withLock { stored } }
}


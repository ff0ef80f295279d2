import Testing
import BertEngine

/// The engine against vectors the ORIGINAL bert-serving-server 1.10.0 (TensorFlow 1.15.5) returned
/// through the stock client for the same ids (Resources/engine_golden, gen_engine_golden.py).
@Suite struct GoldenTests {
    /// Float32 differences between TF's and our summation orders and exp/erf approximations
    /// stay far below this; a wrong formula or mask does not.
    static let tolerance: Float = 1e-4

    @Test func manifestIsComplete() throws {
        let cases = try Golden.load()
        #expect(cases.count >= 20)
        let strategies = Set(cases.map(\.poolingEnum))
        #expect(strategies == Set(PoolingStrategy.allCases.map(\.rawValue)))
        #expect(cases.contains { $0.maskClsSep })
        #expect(cases.contains { $0.maxSeqLen == nil })
        #expect(cases.contains { $0.noPositionEmbeddings })
        #expect(cases.contains { $0.poolingLayer.count > 1 })
    }

    /// The default float32 path: our panel kernels on the widest tiles the CPU runs (AVX-512 or
    /// AVX2), else OpenBLAS.
    @Test(arguments: Golden.cases)
    func matchesOriginalServer(_ golden: Golden.Case) throws {
        try check(golden, weights: (golden.noPositionEmbeddings ? MiniLM.tf1NoPositions : MiniLM.tf1).get())
    }

    /// float32 on OpenBLAS sgemm, the path of CPUs without AVX2.
    @Test(arguments: Golden.cases)
    func openBLASMatchesOriginalServer(_ golden: Golden.Case) throws {
        let weights = try (golden.noPositionEmbeddings ? MiniLM.tf1NoPositionsOpenBLAS : MiniLM.tf1OpenBLAS).get()
        #expect(weights.matmulPrecision.library == .openBLAS)
        try check(golden, weights: weights)
    }

    /// float32 on our panel kernels' AVX2 tiles, the default of CPUs without AVX-512 (asked for
    /// by name here, so AVX-512 machines, whose default is the AVX-512 tiles, test them too).
    @Test(arguments: Golden.cases)
    func avx2PanelKernelsMatchOriginalServer(_ golden: Golden.Case) throws {
        let weights = try (golden.noPositionEmbeddings ? MiniLM.tf1NoPositionsAVX2Panels : MiniLM.tf1AVX2Panels).get()
        #expect(weights.matmulPrecision.library == .panelKernels, "\(weights.matmulPrecision.summary)")
        #expect(weights.matmulPrecision.panelInstructionSet == .avx2, "\(weights.matmulPrecision.summary)")
        try check(golden, weights: weights)
    }

    /// float32 on oneDNN's packed matmul, on request (where the CPU lacks AVX-512 the request
    /// falls back to OpenBLAS, which must match as well).
    @Test(arguments: Golden.cases)
    func oneDNNMatchesOriginalServer(_ golden: Golden.Case) throws {
        let weights = try (golden.noPositionEmbeddings ? MiniLM.tf1NoPositionsOneDNN : MiniLM.tf1OneDNN).get()
        let expected: MatmulLibrary = ReducedPrecisionTests.hostRunsPackedFloat32 ? .oneDNN : .openBLAS
        #expect(weights.matmulPrecision.library == expected, "\(weights.matmulPrecision.summary)")
        try check(golden, weights: weights)
    }

    private func check(_ golden: Golden.Case, weights: BertWeights) throws {
        let pooling = try #require(PoolingStrategy(name: golden.poolingStrategy))
        #expect(pooling.rawValue == golden.poolingEnum)
        let encoder = BertEncoder(weights: weights)
        for batch in golden.batches {
            let input = try Golden.input(batch.input)
            let expected = try Golden.floats(batch.output)
            let output = try encoder.encode(input.batch, pooling: pooling, layers: golden.poolingLayer)
            // The original's sink trims NONE output to the longest row when max_seq_len is NONE;
            // the ids recorded for that case are already padded to exactly that length.
            #expect(output.shape == batch.shape, "\(golden.name) \(batch.output)")
            let diff = maxAbsDiff(output.values, expected)
            #expect(diff <= Self.tolerance, "\(golden.name) \(batch.output): max |diff| = \(diff)")
        }
    }
}

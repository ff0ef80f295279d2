import Testing
@testable import BertEngine
import Checkpoint

/// The engine's packing, fused QKV, trimming and pooling against a plain re-statement of
/// modeling.py / graph.py on a tiny random model, including masks the tokenizer makes under
/// `-mask_cls_sep` (zeros inside the row) and rows with nothing unmasked.
@Suite struct TinyModelTests {
    /// Rows of length 9: a normal row, a pair with type ids, a -mask_cls_sep row, a row whose
    /// mask is all zeros (-mask_cls_sep on an empty text), and a full-length row.
    static let batch = EncoderBatch(
        count: 5, seqLen: 9,
        inputIds: [
            2, 7, 11, 3, 0, 0, 0, 0, 0,
            2, 5, 3, 9, 14, 3, 0, 0, 0,
            2, 21, 22, 23, 3, 0, 0, 0, 0,
            2, 3, 0, 0, 0, 0, 0, 0, 0,
            2, 4, 6, 8, 10, 12, 14, 16, 3,
        ],
        inputMask: [
            1, 1, 1, 1, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 1, 1, 0, 0, 0,
            0, 1, 1, 1, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 1, 1, 1, 1, 1,
        ],
        inputTypeIds: [
            0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 1, 1, 1, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])

    static let layerChoices: [[Int]] = [[-1], [-2], [0, -1], [-1, 0, -1]]

    @Test(arguments: PoolingStrategy.allCases, layerChoices)
    func matchesPlainReference(_ pooling: PoolingStrategy, _ layers: [Int]) throws {
        let store = TinyModel.store()
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: store))
        // LAST_TOKEN on the all-zero mask row is the original's gather_nd failure: tested below.
        let rows = pooling == .lastToken ? [0, 1, 2, 4] : [0, 1, 2, 3, 4]
        let batch = Self.batch.rows(rows)
        let output = try encoder.encode(batch, pooling: pooling, layers: layers)
        let expected = TinyModel.reference(store, batch, pooling: pooling, layers: layers)
        let dim = encoder.outputDimension(pooling: pooling, layerCount: layers.count)
        #expect(output.shape == (pooling == .none ? [batch.count, batch.seqLen, dim] : [batch.count, dim]))
        #expect(output.values.count == expected.count)
        let diff = zip(output.values, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(diff <= 2e-5, "max relative diff \(diff)")
    }

    /// The bias and activation that oneDNN (inside the matmul) and our panel kernels (on each
    /// finished block) apply give what the OpenBLAS path's separate pass gives, for every
    /// `hidden_act` (a wrong post-op mapping, or a bias added twice or never, fails it). A
    /// library this CPU cannot run must fall back to OpenBLAS and say why; the panel kernels run
    /// on every CPU with AVX2 (all our machines), oneDNN's packed ones on AVX-512 CPUs only.
    @Test(arguments: ["gelu", "relu", "tanh", "linear"], [MatmulLibrary.oneDNN, .panelKernels])
    func fusedBiasAndActivationMatchSeparatePass(_ activation: String, _ library: MatmulLibrary) throws {
        var config = TinyModel.config
        config.hiddenAct = activation
        let store = TinyModel.store()
        let fused = try BertWeights(config: config, store: store, library: library)
        let separate = try BertWeights(config: config, store: store, library: .openBLAS)
        #expect(separate.matmulPrecision.library == .openBLAS)
        let runs = library == .oneDNN ? ReducedPrecisionTests.hostRunsPackedFloat32 : PanelDense.available
        #expect(fused.matmulPrecision.library == (runs ? library : .openBLAS), "\(fused.matmulPrecision.summary)")
        if !runs {
            let reason = library == .oneDNN
                ? fused.matmulPrecision.notOneDNNReason : fused.matmulPrecision.notPanelKernelsReason
            #expect(reason != nil, "\(fused.matmulPrecision.summary)")
        }
        for threads in [1, 2] {
            let a = try BertEncoder(weights: fused, threads: threads).encode(Self.batch, pooling: .none, layers: [0, -1])
            let b = try BertEncoder(weights: separate, threads: threads).encode(Self.batch, pooling: .none, layers: [0, -1])
            let diff = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff <= 1e-5, "max |diff| \(diff) on \(threads) thread(s)")
        }
    }

    /// One sequence long enough for two threads has its attention split by head instead of by
    /// sequence; each head must still see the whole sequence and write its own columns.
    @Test func oneLongSequenceOnTwoThreadsMatchesReference() throws {
        let store = TinyModel.store()
        let weights = try BertWeights(config: TinyModel.config, store: store)
        let n = TinyModel.config.maxPositionEmbeddings
        let ids = (0..<n).map { Int32($0 == 0 ? 2 : $0 == n - 1 ? 3 : 4 + ($0 * 7) % 25) }
        let mask = (0..<n).map { Int32($0 % 11 == 5 ? 0 : 1) }
        let batch = EncoderBatch(count: 1, seqLen: n, inputIds: ids, inputMask: mask,
                                 inputTypeIds: (0..<n).map { Int32($0 < n / 2 ? 0 : 1) })
        let twoThreads = try BertEncoder(weights: weights, threads: 2).encode(batch, pooling: .none, layers: [-1])
        let oneThread = try BertEncoder(weights: weights, threads: 1).encode(batch, pooling: .none, layers: [-1])
        let expected = TinyModel.reference(store, batch, pooling: .none, layers: [-1])
        let diff = zip(twoThreads.values, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(diff <= 2e-5, "max relative diff \(diff)")
        #expect(twoThreads.values == oneThread.values)
    }

    /// A batch split into passes of at most `maxTokensPerPass` tokens gives every row the same
    /// output as one pass (rows are independent; only the scratch memory differs). 1 puts every
    /// row in a pass of its own, 12 splits between rows of 4, 6, 4, 9 (or 1) tokens.
    @Test(arguments: PoolingStrategy.allCases, [1, 12, 13])
    func passesOfBoundedTokensMatchOnePass(_ pooling: PoolingStrategy, _ maxTokensPerPass: Int) throws {
        let weights = try BertWeights(config: TinyModel.config, store: TinyModel.store())
        let rows = pooling == .lastToken ? [0, 1, 2, 4, 0] : [0, 1, 2, 3, 4, 0]
        let batch = Self.batch.rows(rows)
        let layers = [-1, 0]
        let onePass = try BertEncoder(weights: weights).encode(batch, pooling: pooling, layers: layers)
        let split = try BertEncoder(weights: weights, maxTokensPerPass: maxTokensPerPass)
            .encode(batch, pooling: pooling, layers: layers)
        #expect(split.shape == onePass.shape)
        let diff = zip(split.values, onePass.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff <= 1e-5, "max abs diff \(diff)")
    }

    @Test func lastTokenErrorNamesTheRowOfTheWholeBatchWhenSplit() throws {
        let weights = try BertWeights(config: TinyModel.config, store: TinyModel.store())
        #expect(throws: EngineError.noTokenToPool(row: 2)) {
            try BertEncoder(weights: weights, maxTokensPerPass: 1)
                .encode(Self.batch.rows([0, 1, 3]), pooling: .lastToken, layers: [-1])
        }
    }

    @Test func reduceMaxOverNothingIsMinus1e30AndMeanIsZero() throws {
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: TinyModel.store()))
        let empty = Self.batch.rows([3])
        let max = try encoder.encode(empty, pooling: .reduceMax, layers: [-1])
        #expect(max.values.allSatisfy { $0 == -Float(1e30) })
        let mean = try encoder.encode(empty, pooling: .reduceMean, layers: [-1])
        #expect(mean.values.allSatisfy { $0 == 0 })
        let none = try encoder.encode(empty, pooling: .none, layers: [-1])
        #expect(none.values.allSatisfy { $0 == 0 })
    }

    @Test func noPositionEmbeddingsMatchesReference() throws {
        var store = TinyModel.store()
        store.tensors["bert/embeddings/position_embeddings"] = nil  // not even read
        let weights = try BertWeights(config: TinyModel.config, store: store, noPositionEmbeddings: true)
        let output = try BertEncoder(weights: weights).encode(Self.batch, pooling: .reduceMean, layers: [-1])
        let expected = TinyModel.reference(
            TinyModel.store(), Self.batch, pooling: .reduceMean, layers: [-1], positions: false)
        let diff = zip(output.values, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(diff <= 2e-5)
        // Longer than max_position_embeddings is fine without positions.
        let long = Self.batch.rows([4]).padded(to: 50)
        #expect(try BertEncoder(weights: weights).encode(long, pooling: .firstToken, layers: [-1]).shape == [1, 8])
    }

    @Test func emptyBatchHasTheRightShape() throws {
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: TinyModel.store()))
        let empty = EncoderBatch(count: 0, seqLen: 25, inputIds: [], inputMask: [], inputTypeIds: [])
        #expect(try encoder.encode(empty, pooling: .reduceMeanMax, layers: [-1, -2]).shape == [0, 32])
        #expect(try encoder.encode(empty, pooling: .none, layers: [-1]).shape == [0, 25, 8])
    }

    // MARK: errors

    @Test func lastTokenOnAnAllZeroMaskIsAnError() throws {
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: TinyModel.store()))
        #expect(throws: EngineError.noTokenToPool(row: 1)) {
            try encoder.encode(Self.batch.rows([0, 3]), pooling: .lastToken, layers: [-1])
        }
    }

    @Test func clsPooledWithoutPoolerIsAnError() throws {
        let weights = try BertWeights(config: TinyModel.config, store: TinyModel.store(pooler: false))
        let encoder = BertEncoder(weights: weights)
        #expect(throws: EngineError.missingPooler) {
            try encoder.encode(Self.batch, pooling: .clsPooled, layers: [-2])
        }
        #expect(try encoder.encode(Self.batch, pooling: .firstToken, layers: [-2]).shape == [5, 8])
    }

    @Test(arguments: [[2], [-3], []])
    func poolingLayerOutsideTheModelIsAnError(_ layers: [Int]) throws {
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: TinyModel.store()))
        #expect(throws: EngineError.self) { try encoder.encode(Self.batch, pooling: .reduceMean, layers: layers) }
    }

    @Test func badBatchesAreErrors() throws {
        let encoder = BertEncoder(weights: try BertWeights(config: TinyModel.config, store: TinyModel.store()))
        var b = Self.batch
        b.inputIds[12] = 30
        #expect(throws: EngineError.tokenIdOutOfRange(row: 1, position: 3, id: 30, vocabSize: 30)) {
            try encoder.encode(b, pooling: .reduceMean, layers: [-1])
        }
        b = Self.batch
        b.inputMask[3] = 2
        #expect(throws: EngineError.invalidMask(row: 0, position: 3, value: 2)) {
            try encoder.encode(b, pooling: .reduceMean, layers: [-1])
        }
        b = Self.batch
        b.inputTypeIds.removeLast()
        #expect(throws: EngineError.self) { try encoder.encode(b, pooling: .reduceMean, layers: [-1]) }
        #expect(throws: EngineError.sequenceTooLong(seqLen: 41, maxPositionEmbeddings: 40)) {
            try encoder.encode(Self.batch.padded(to: 41), pooling: .reduceMean, layers: [-1])
        }
    }

    @Test func missingOrMisshapenTensorsAreNamed() throws {
        var store = TinyModel.store()
        store.tensors["bert/encoder/layer_1/attention/self/key/kernel"] = nil
        #expect(throws: CheckpointError.missingTensor(
            path: "MemoryStore", tensor: "bert/encoder/layer_1/attention/self/key/kernel")) {
            try BertWeights(config: TinyModel.config, store: store)
        }
        store = TinyModel.store()
        store.tensors["bert/encoder/layer_0/intermediate/dense/kernel"] = ([12, 8], [Float](repeating: 0, count: 96))
        #expect(throws: CheckpointError.shapeMismatch(
            path: "MemoryStore", tensor: "bert/encoder/layer_0/intermediate/dense/kernel",
            expected: [8, 12], actual: [12, 8])) {
            try BertWeights(config: TinyModel.config, store: store)
        }
        // The word embeddings are read on a second thread; their error is still the one reported
        // when a later tensor is broken too, as a read in file order would.
        store = TinyModel.store()
        store.tensors["bert/embeddings/word_embeddings"] = nil
        store.tensors["bert/encoder/layer_0/output/dense/bias"] = nil
        #expect(throws: CheckpointError.missingTensor(path: "MemoryStore", tensor: "bert/embeddings/word_embeddings")) {
            try BertWeights(config: TinyModel.config, store: store)
        }
        store.tensors["bert/embeddings/word_embeddings"] = TinyModel.store().tensors["bert/embeddings/word_embeddings"]
        #expect(throws: CheckpointError.missingTensor(path: "MemoryStore", tensor: "bert/encoder/layer_0/output/dense/bias")) {
            try BertWeights(config: TinyModel.config, store: store)
        }
        var config = TinyModel.config
        config.hiddenAct = "swish"
        #expect(throws: EngineError.unsupportedActivation("swish")) {
            try BertWeights(config: config, store: TinyModel.store())
        }
    }
}

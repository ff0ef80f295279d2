import Checkpoint

/// A dense layer in the layout `cblas_sgemm` takes without transposing: `kernel` row-major
/// `[inFeatures, outFeatures]` (TensorFlow's own layout), `bias` `[outFeatures]`.
struct Dense: Sendable {
    let kernel: [Float]
    let bias: [Float]
    let inFeatures: Int
    let outFeatures: Int
}

extension Dense {
    /// The same layer with an empty kernel, once a packed copy replaces it.
    var withoutKernel: Dense { Dense(kernel: [], bias: bias, inFeatures: inFeatures, outFeatures: outFeatures) }
}

/// LayerNorm parameters (`gamma`, `beta`), each `[hidden]`.
struct LayerNormWeights: Sendable {
    let gamma: [Float]
    let beta: [Float]
}

/// One encoder layer, named after the checkpoint hierarchy `bert/encoder/layer_<i>/…`.
struct LayerWeights: Sendable {
    /// `attention/self/{query,key,value}` fused column-wise into one `[hidden, 3·hidden]` dense.
    let qkv: Dense
    /// `attention/output/dense`.
    let attentionOutput: Dense
    /// `attention/output/LayerNorm`.
    let attentionNorm: LayerNormWeights
    /// `intermediate/dense`.
    let intermediate: Dense
    /// `output/dense`.
    let output: Dense
    /// `output/LayerNorm`.
    let outputNorm: LayerNormWeights

    /// The layer without its float32 kernels (biases and norms kept).
    var withoutKernels: LayerWeights {
        LayerWeights(
            qkv: qkv.withoutKernel, attentionOutput: attentionOutput.withoutKernel, attentionNorm: attentionNorm,
            intermediate: intermediate.withoutKernel, output: output.withoutKernel, outputNorm: outputNorm)
    }
}

/// The weights of one BERT model, read once from a `TensorStore` and shared read-only by every
/// worker; immutable after `init`, so any number of threads may use it at once.
public final class BertWeights: Sendable {
    public let config: BertConfig
    /// False under `-no_position_embeddings` (modeling.py `use_position_embeddings=False`).
    public let usesPositionEmbeddings: Bool
    let activation: Activation
    /// `bert/embeddings/word_embeddings`, `[vocab, hidden]`.
    let wordEmbeddings: [Float]
    /// `bert/embeddings/position_embeddings`, `[maxPositions, hidden]`; empty when unused.
    let positionEmbeddings: [Float]
    /// `bert/embeddings/token_type_embeddings`, `[typeVocab, hidden]`.
    let tokenTypeEmbeddings: [Float]
    /// `bert/embeddings/LayerNorm`.
    let embeddingNorm: LayerNormWeights
    let layers: [LayerWeights]
    /// `bert/pooler/dense`; nil when the checkpoint has none (then only CLS_POOLED fails).
    let pooler: Dense?
    /// The precision the encoders' dense matrix products run in, and why (for the start-up log).
    public let matmulPrecision: MatmulPrecisionChoice
    /// Every layer's dense kernels packed for oneDNN (bfloat16 or float32, as `matmulPrecision`
    /// says) when oneDNN runs them; the row-major float32 copies in `layers` are then dropped
    /// (only their biases are used), so the weights are held once. nil on the other libraries.
    let packedLayers: [PackedLayer]?
    /// Every layer's dense kernels packed into panels when our panel kernels run them (the
    /// row-major copies dropped likewise); nil on the other libraries.
    let panelLayers: [PanelLayer]?

    /// Reads and checks every tensor the forward pass needs.
    /// - Parameters:
    ///   - config: the model's `bert_config.json`.
    ///   - store: the checkpoint, in Google-BERT names and layout.
    ///   - noPositionEmbeddings: `-no_position_embeddings`: position embeddings are neither read nor added.
    ///   - precision: `.bfloat16` converts the encoder layers' kernels to bfloat16 once, here, on
    ///     CPUs with AVX512-BF16; elsewhere the model runs in float32 and `matmulPrecision` says why.
    ///   - library: for float32, nil (default) takes the fastest this CPU has: our panel kernels
    ///     (AVX-512 or AVX2 + FMA), else OpenBLAS; a library named is used where the CPU runs it,
    ///     OpenBLAS otherwise (for comparisons).
    ///   - panelInstructionSet: the panel kernels' tiles; nil (default) the widest this CPU runs
    ///     (a wider one than the CPU has is lowered to that).
    /// - Throws: `EngineError` for an invalid config, `CheckpointError` (`.missingTensor`,
    ///   `.shapeMismatch`, …) naming the file and tensor for weights that do not fit it.
    public convenience init(
        config: BertConfig, store: any TensorStore, noPositionEmbeddings: Bool = false,
        precision: MatmulPrecision = .float32, library: MatmulLibrary? = nil,
        panelInstructionSet: PanelInstructionSet? = nil
    ) throws {
        try config.validate()
        let h = config.hidden
        let loader = TensorLoader(store: store)
        // The word embeddings (half of MiniLM's bytes) are read and checked on a second thread
        // while this one reads and packs the layers: start-up is time to the first answer.
        let vocabSize = config.vocabSize
        let words = BackgroundResult { try loader.load("bert/embeddings/word_embeddings", [vocabSize, h]) }
        do {
            try self.init(config: config, loader: loader, noPositionEmbeddings: noPositionEmbeddings,
                          precision: precision, library: library, panelInstructionSet: panelInstructionSet,
                          wordEmbeddings: words)
        } catch {
            // A broken word-embedding tensor is reported first, as a read in file order would.
            _ = try words.value()
            throw error
        }
    }

    /// Everything but the word embeddings, which `wordEmbeddings` is reading meanwhile.
    private init(
        config: BertConfig, loader: TensorLoader, noPositionEmbeddings: Bool, precision: MatmulPrecision,
        library: MatmulLibrary?, panelInstructionSet: PanelInstructionSet?, wordEmbeddings: BackgroundResult<[Float]>
    ) throws {
        self.config = config
        activation = try Activation(config.hiddenAct)
        usesPositionEmbeddings = !noPositionEmbeddings
        let h = config.hidden
        positionEmbeddings = noPositionEmbeddings
            ? [] : try loader.load("bert/embeddings/position_embeddings", [config.maxPositionEmbeddings, h])
        tokenTypeEmbeddings = try loader.load("bert/embeddings/token_type_embeddings", [config.typeVocabSize, h])
        embeddingNorm = try loader.layerNorm("bert/embeddings/LayerNorm", h)
        func readLayer(_ i: Int) throws -> LayerWeights {
            let p = "bert/encoder/layer_\(i)/"
            let q = try loader.dense(p + "attention/self/query", h, h)
            let k = try loader.dense(p + "attention/self/key", h, h)
            let v = try loader.dense(p + "attention/self/value", h, h)
            return LayerWeights(
                qkv: Self.fuse([q, k, v]),
                attentionOutput: try loader.dense(p + "attention/output/dense", h, h),
                attentionNorm: try loader.layerNorm(p + "attention/output/LayerNorm", h),
                intermediate: try loader.dense(p + "intermediate/dense", h, config.intermediate),
                output: try loader.dense(p + "output/dense", config.intermediate, h),
                outputNorm: try loader.layerNorm(p + "output/LayerNorm", h))
        }
        // Layer 0 decides the library and element type; every later layer is packed as soon as
        // it is read and its float32 kernels dropped, so loading never holds the whole model
        // twice (BERT-base: 796 MB peak when all layers were read before packing, 499 on OpenBLAS).
        var layers = [try readLayer(0)]
        layers.reserveCapacity(config.layers)
        let (choice, first) = ReducedPrecision.prepare(
            requested: precision, library: library, panelInstructionSet: panelInstructionSet, layers: layers,
            activation: activation)
        matmulPrecision = choice
        switch first {
        case .oneDNN(var packed, let element):
            layers[0] = layers[0].withoutKernels
            let engine = try OneDNN.engine.get()
            for i in 1..<config.layers {
                let layer = try readLayer(i)
                packed.append(try PackedLayer(layer, element: element, activation: activation, engine: engine))
                layers.append(layer.withoutKernels)
            }
            (packedLayers, panelLayers) = (packed, nil)
        case .panels(var panels):
            layers[0] = layers[0].withoutKernels
            for i in 1..<config.layers {
                let layer = try readLayer(i)
                panels.append(PanelLayer(layer, activation: activation, instructionSet: panels[0].qkv.instructionSet))
                layers.append(layer.withoutKernels)
            }
            (packedLayers, panelLayers) = (nil, panels)
        case .none:
            for i in 1..<config.layers { layers.append(try readLayer(i)) }
            (packedLayers, panelLayers) = (nil, nil)
        }
        self.layers = layers
        if loader.store.info("bert/pooler/dense/kernel") != nil || loader.store.info("bert/pooler/dense/bias") != nil {
            pooler = try loader.dense("bert/pooler/dense", h, h)
        } else {
            pooler = nil
        }
        self.wordEmbeddings = try wordEmbeddings.value()
    }

    /// Concatenates dense layers with the same input along the output axis:
    /// `[in, a] ‖ [in, b] ‖ … -> [in, a + b + …]`, biases likewise.
    private static func fuse(_ parts: [Dense]) -> Dense {
        let inFeatures = parts[0].inFeatures
        let outFeatures = parts.reduce(0) { $0 + $1.outFeatures }
        var kernel = [Float](repeating: 0, count: inFeatures * outFeatures)
        var bias: [Float] = []
        bias.reserveCapacity(outFeatures)
        var column = 0
        for part in parts {
            for row in 0..<inFeatures {
                for j in 0..<part.outFeatures {
                    kernel[row * outFeatures + column + j] = part.kernel[row * part.outFeatures + j]
                }
            }
            bias.append(contentsOf: part.bias)
            column += part.outFeatures
        }
        return Dense(kernel: kernel, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// Reads tensors from a store, checking each shape against the configuration first.
private struct TensorLoader {
    let store: any TensorStore

    func load(_ name: String, _ shape: [Int]) throws(CheckpointError) -> [Float] {
        let values = try store.floats(name, expectedShape: shape)
        let count = shape.reduce(1, *)
        guard values.count == count else {
            throw .shapeMismatch(path: store.storePath, tensor: name, expected: shape, actual: [values.count])
        }
        return values
    }

    func dense(_ scope: String, _ inFeatures: Int, _ outFeatures: Int) throws(CheckpointError) -> Dense {
        Dense(
            kernel: try load(scope + "/kernel", [inFeatures, outFeatures]),
            bias: try load(scope + "/bias", [outFeatures]),
            inFeatures: inFeatures, outFeatures: outFeatures)
    }

    func layerNorm(_ scope: String, _ width: Int) throws(CheckpointError) -> LayerNormWeights {
        LayerNormWeights(gamma: try load(scope + "/gamma", [width]), beta: try load(scope + "/beta", [width]))
    }
}

import BertEngine
import Checkpoint
import Logging
import WordPiece

/// The shipped backend: Google BERT's tokenizer and `convert_lst_to_features` (WordPiece) and the
/// BERT forward pass with the configured pooling (BertEngine), loaded once and shared read-only
/// by every worker; each worker gets its own `BertEncoder` (scratch buffers).
public struct BertBackend: PipelineBackend {
    public let converter: FeatureConverter
    public let weights: BertWeights
    public let pooling: PoolingStrategy
    public let layers: [Int]
    /// Threads each worker's encoder uses (matrix products, attention, elementwise passes).
    public let encoderThreads: Int
    /// `max_position_embeddings` of the model (the sink pads NONE-length rows to it).
    public var maxPositionEmbeddings: Int { weights.config.maxPositionEmbeddings }

    /// Loads vocabulary, config and weights as `optimize_graph` + `BertWorker` do.
    /// - Throws: `CheckpointError`, `EngineError`, `VocabularyError` naming the file at fault.
    public init(config: ServerConfig, logger: Logger) throws {
        guard let pooling = PoolingStrategy(rawValue: config.poolingStrategy) else {
            throw StartupError(component: "VENTILATOR", message: "unknown pooling strategy \(config.poolingStrategy)")
        }
        let files = try ModelLocator.locate(modelDir: config.modelDir, tunedModelDir: config.tunedModelDir,
                                            configName: config.configName, checkpointName: config.ckptName)
        logger.info("model config: \(files.configPath)")
        logger.info("checkpoint\(config.tunedModelDir == nil ? "" : " (override by the fine-tuned model)"): \(files.checkpointPath)")
        let bertConfig = try BertConfig(contentsOfFile: files.configPath)
        // Read on a second thread while the weights load here; its errors still come first.
        let vocabPath = files.vocabPath
        let pendingVocabulary = BackgroundResult { try Vocabulary(contentsOfFile: vocabPath) }
        logger.info("load parameters from checkpoint...")
        // -fp16: the original computes its graph in float16; we run the dense matrix products in
        // bfloat16 where the CPU has AVX512-BF16 (float32 elsewhere) and send float16 either way.
        do {
            weights = try BertWeights(config: bertConfig, store: files.store,
                                      noPositionEmbeddings: config.noPositionEmbeddings,
                                      precision: config.fp16 ? .bfloat16 : .float32)
        } catch {
            _ = try pendingVocabulary.value()
            throw error
        }
        let vocabulary = try pendingVocabulary.value()
        let precision = weights.matmulPrecision
        if precision.active != precision.requested {
            logger.warning("-fp16: \(precision.summary)")
        } else if config.fp16 {
            logger.info("-fp16: \(precision.summary)")
        } else {
            logger.info("\(precision.summary)")
        }
        converter = FeatureConverter(
            tokenizer: FullTokenizer(vocabulary: vocabulary, doLowerCase: config.doLowerCase),
            maxSeqLen: config.maxSeqLen, maxPositionEmbeddings: bertConfig.maxPositionEmbeddings,
            maskClsSep: config.maskClsSep, noSpecialToken: config.noSpecialToken)
        self.pooling = pooling
        self.layers = config.poolingLayer
        // The threads chosen for each worker's matrix products (BLAS.threads, set before the load).
        encoderThreads = BertEncoder.configureThreads(for: weights, threads: BLAS.threads)
    }

    public func tokenize(_ payload: EncodePayload) -> TokenizedBatch {
        switch payload {
        case .texts(let t): TokenizedBatch(features: converter.convert(.texts(t)))
        case .tokenized(let t): TokenizedBatch(features: converter.convert(.tokenized(t)))
        }
    }

    public func makeEncoder(worker index: Int) throws -> any SequenceEncoder {
        BertSequenceEncoder(backend: self, encoder: BertEncoder(weights: weights, threads: encoderThreads))
    }
}

/// One worker's encoder; used on that worker's thread only.
final class BertSequenceEncoder: SequenceEncoder {
    let backend: BertBackend
    let encoder: BertEncoder

    init(backend: BertBackend, encoder: BertEncoder) {
        self.backend = backend
        self.encoder = encoder
    }

    func encode(_ batch: TokenizedBatch) throws -> EncodedSequences {
        let features = batch.features
        let seqLen = features.first?.inputIds.count ?? 0
        var ids: [Int32] = [], mask: [Int32] = [], types: [Int32] = []
        ids.reserveCapacity(features.count * seqLen)
        mask.reserveCapacity(features.count * seqLen)
        types.reserveCapacity(features.count * seqLen)
        for f in features {
            guard f.inputIds.count == seqLen, f.inputMask.count == seqLen, f.inputTypeIds.count == seqLen else {
                throw StartupError(component: "WORKER", message: "features of unequal length in one batch")
            }
            ids += f.inputIds
            mask += f.inputMask
            types += f.inputTypeIds
        }
        let output = try encoder.encode(
            EncoderBatch(count: features.count, seqLen: seqLen, inputIds: ids, inputMask: mask, inputTypeIds: types),
            pooling: backend.pooling, layers: backend.layers)
        return EncodedSequences(tokens: features.map(\.tokens), shape: output.shape, values: output.values)
    }
}

/// Everything the engine can reject: a model that does not match its configuration, or a batch
/// the original graph would also have refused. Each case names what an operator needs to act.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `bert_config.json` / `config.json` could not be read or holds an impossible value.
    case invalidConfig(path: String, reason: String)
    /// `hidden_act` is not one of modeling.py `get_activation`'s names.
    case unsupportedActivation(String)
    /// The flat input arrays do not hold `count × seqLen` values.
    case malformedBatch(String)
    /// A word-piece id outside `[0, vocab_size)` (tf.gather fails on it in the original).
    case tokenIdOutOfRange(row: Int, position: Int, id: Int32, vocabSize: Int)
    /// The padded length exceeds `max_position_embeddings`.
    case sequenceTooLong(seqLen: Int, maxPositionEmbeddings: Int)
    /// `input_mask` holds something other than 0 or 1.
    case invalidMask(row: Int, position: Int, value: Int32)
    /// A `pooling_layer` entry that does not index `all_encoder_layers`.
    case poolingLayerOutOfRange(layer: Int, layers: Int)
    /// An empty `pooling_layer` list.
    case noPoolingLayer
    /// LAST_TOKEN on a row whose mask is all zeros: the original's `gather_nd` at index -1 fails.
    case noTokenToPool(row: Int)
    /// CLS_POOLED needs `bert/pooler/dense/{kernel,bias}`, which the checkpoint lacks.
    case missingPooler
    /// oneDNN failed a bfloat16 matrix product it had accepted at load time (out of memory, or a
    /// row count it cannot compile); restart without `-fp16` to run in float32.
    case matmulFailed(String)

    public var description: String {
        switch self {
        case let .invalidConfig(path, reason): "invalid BERT config \(path): \(reason)"
        case let .unsupportedActivation(name): "Unsupported activation: \(name)"
        case let .malformedBatch(reason): "malformed batch: \(reason)"
        case let .tokenIdOutOfRange(row, position, id, vocabSize):
            "token id \(id) at row \(row), position \(position) is outside the vocabulary [0, \(vocabSize))"
        case let .sequenceTooLong(seqLen, maxPositionEmbeddings):
            "sequence length \(seqLen) exceeds max_position_embeddings \(maxPositionEmbeddings)"
        case let .invalidMask(row, position, value):
            "input_mask[\(row)][\(position)] is \(value), expected 0 or 1"
        case let .poolingLayerOutOfRange(layer, layers):
            "pooling_layer \(layer) does not index one of the \(layers) encoder layers"
        case .noPoolingLayer: "pooling_layer is empty"
        case let .noTokenToPool(row): "row \(row) has no unmasked token to pool (LAST_TOKEN)"
        case .missingPooler: "CLS_POOLED needs bert/pooler/dense, which this checkpoint lacks"
        case let .matmulFailed(reason): "bfloat16 matrix product failed: \(reason); without -fp16 the model runs in float32"
        }
    }
}

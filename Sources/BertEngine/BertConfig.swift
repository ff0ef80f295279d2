import Foundation

/// The model hyper-parameters of a Google `bert_config.json` or a Hugging Face `config.json`
/// (both use the same snake_case keys for what the forward pass needs).
///
/// Missing keys take the defaults of `modeling.BertConfig.__init__` (bert/modeling.py), as
/// `BertConfig.from_dict` does; only `vocab_size` has none.
public struct BertConfig: Sendable, Decodable, Equatable {
    /// Width of every encoder layer and of the pooler (`hidden_size`).
    public var hidden: Int
    /// Number of encoder layers (`num_hidden_layers`).
    public var layers: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var heads: Int
    /// Width of the feed-forward layer (`intermediate_size`).
    public var intermediate: Int
    /// Rows of the word-piece embedding table (`vocab_size`).
    public var vocabSize: Int
    /// Rows of the position embedding table (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Rows of the token-type embedding table (`type_vocab_size`).
    public var typeVocabSize: Int
    /// Activation of the feed-forward layer (`hidden_act`), as modeling.py `get_activation` reads it.
    public var hiddenAct: String

    /// Width of one attention head.
    public var headDim: Int { hidden / max(heads, 1) }

    private enum CodingKeys: String, CodingKey {
        case hidden = "hidden_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case intermediate = "intermediate_size"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
        case hiddenAct = "hidden_act"
    }

    /// A configuration from explicit values (tests, tools).
    public init(
        hidden: Int, layers: Int, heads: Int, intermediate: Int, vocabSize: Int,
        maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 16, hiddenAct: String = "gelu"
    ) {
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.hiddenAct = hiddenAct
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hidden = try c.decodeIfPresent(Int.self, forKey: .hidden) ?? 768
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? 12
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? 12
        intermediate = try c.decodeIfPresent(Int.self, forKey: .intermediate) ?? 3072
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 16
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
    }

    /// Reads and validates a JSON configuration file.
    /// - Throws: `EngineError.invalidConfig` naming the file and the problem.
    public init(contentsOfFile path: String) throws(EngineError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .invalidConfig(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        do {
            self = try JSONDecoder().decode(BertConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidConfig(path: path, reason: "missing key \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalidConfig(path: path, reason: "\"\(key)\" has the wrong type")
        } catch {
            throw .invalidConfig(path: path, reason: "not a JSON object with BERT keys (\(error))")
        }
        do {
            try validate()
        } catch let EngineError.invalidConfig(_, reason) {
            throw .invalidConfig(path: path, reason: reason)
        } catch {
            throw error
        }
    }

    /// Checks the values a forward pass relies on (modeling.py `attention_layer` rejects a hidden
    /// size that is not a multiple of the head count; the rest would fail at the first matmul).
    /// - Throws: `EngineError.invalidConfig` or `.unsupportedActivation`.
    public func validate() throws(EngineError) {
        let positive: [(String, Int)] = [
            ("hidden_size", hidden), ("num_hidden_layers", layers), ("num_attention_heads", heads),
            ("intermediate_size", intermediate), ("vocab_size", vocabSize),
            ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize),
        ]
        for (key, value) in positive where value <= 0 {
            throw .invalidConfig(path: "", reason: "\(key) must be positive, got \(value)")
        }
        if hidden % heads != 0 {
            throw .invalidConfig(
                path: "",
                reason: "The hidden size (\(hidden)) is not a multiple of the number of attention heads (\(heads))")
        }
        _ = try Activation(hiddenAct)
    }
}

/// The activations modeling.py `get_activation` knows; anything else is its ValueError.
enum Activation: Sendable, Equatable {
    case linear, relu, gelu, tanh

    init(_ name: String) throws(EngineError) {
        switch name.lowercased() {
        case "", "linear": self = .linear
        case "relu": self = .relu
        case "gelu": self = .gelu
        case "tanh": self = .tanh
        default: throw .unsupportedActivation(name.lowercased())
        }
    }
}

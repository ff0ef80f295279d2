import Foundation
import Testing
import BertEngine

@Suite struct ConfigTests {
    static func write(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "bert-engine-config-\(UUID().uuidString).json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func googleAndHuggingFaceConfigsOfMiniLMAgree() throws {
        let google = try BertConfig(contentsOfFile: try Rig.model("minilm-tf1") + "/bert_config.json")
        let hf = try BertConfig(contentsOfFile: try Rig.model("minilm-hf") + "/config.json")
        #expect(google == hf)
        #expect(google == BertConfig(
            hidden: 384, layers: 6, heads: 12, intermediate: 1536, vocabSize: 30522,
            maxPositionEmbeddings: 512, typeVocabSize: 2, hiddenAct: "gelu"))
        #expect(google.headDim == 32)
    }

    /// modeling.py BertConfig.__init__ defaults fill missing keys, as BertConfig.from_dict does.
    @Test func missingKeysTakeModelingPyDefaults() throws {
        let path = try Self.write(#"{"vocab_size": 100}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try BertConfig(contentsOfFile: path)
        #expect(config == BertConfig(
            hidden: 768, layers: 12, heads: 12, intermediate: 3072, vocabSize: 100,
            maxPositionEmbeddings: 512, typeVocabSize: 16, hiddenAct: "gelu"))
    }

    @Test(arguments: [
        (#"{"hidden_size": 768}"#, "vocab_size"),
        (#"{"vocab_size": 10, "hidden_size": 10, "num_attention_heads": 4}"#, "not a multiple"),
        (#"{"vocab_size": 10, "num_hidden_layers": 0}"#, "num_hidden_layers must be positive"),
        (#"{"vocab_size": "ten"}"#, "vocab_size"),
        ("[1, 2]", "not a JSON object"),
    ])
    func invalidConfigsNameTheProblem(_ json: String, _ fragment: String) throws {
        let path = try Self.write(json)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: EngineError.self) { try BertConfig(contentsOfFile: path) }
        guard case let .invalidConfig(errorPath, reason)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(reason.contains(fragment), "\(reason)")
    }

    @Test func unreadableFileIsAnError() {
        #expect(throws: EngineError.self) { try BertConfig(contentsOfFile: "/nonexistent/bert_config.json") }
    }

    /// get_activation: case-insensitive names; anything else is "Unsupported activation".
    @Test(arguments: ["gelu", "GELU", "relu", "tanh", "linear", ""])
    func knownActivationsAreAccepted(_ name: String) throws {
        var config = BertConfig(hidden: 8, layers: 1, heads: 2, intermediate: 8, vocabSize: 4)
        config.hiddenAct = name
        try config.validate()
    }

    @Test func unknownActivationIsRejected() {
        var config = BertConfig(hidden: 8, layers: 1, heads: 2, intermediate: 8, vocabSize: 4)
        config.hiddenAct = "gelu_new"
        #expect(throws: EngineError.unsupportedActivation("gelu_new")) { try config.validate() }
    }

    @Test func poolingStrategyNamesAndAliases() {
        #expect(PoolingStrategy(name: "CLS_TOKEN") == .firstToken)
        #expect(PoolingStrategy(name: "SEP_TOKEN") == .lastToken)
        #expect(PoolingStrategy(name: "reduce_mean") == nil)
        for strategy in PoolingStrategy.allCases {
            #expect(PoolingStrategy(name: strategy.name) == strategy)
        }
        #expect(PoolingStrategy.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6])
    }
}

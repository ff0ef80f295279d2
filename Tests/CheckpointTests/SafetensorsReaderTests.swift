import Testing
@testable import Checkpoint

@Suite struct SafetensorsReaderTests {
    @Test func miniLMHasEveryGoogleTensorWithTransposedKernels() throws {
        let dir = try Rig.model("minilm-hf")
        let store = try SafetensorsReader(path: dir + "/model.safetensors")
        #expect(store.tensorNames.count == 5 + 2 + 6 * 16)
        #expect(store.info("bert/embeddings/word_embeddings") == TensorInfo(
            name: "bert/embeddings/word_embeddings", shape: [30522, 384], dtype: .float32))
        #expect(store.info("bert/encoder/layer_5/intermediate/dense/kernel")?.shape == [384, 1536])
        #expect(store.info("bert/encoder/layer_0/output/dense/kernel")?.shape == [1536, 384])
        #expect(store.info("bert/embeddings/LayerNorm/gamma")?.shape == [384])
        #expect(store.info("bert/pooler/dense/kernel")?.shape == [384, 384])
        #expect(!store.tensorNames.contains { $0.contains("position_ids") })
        let kernel = try store.floats("bert/encoder/layer_0/intermediate/dense/kernel")
        #expect(kernel.count == 384 * 1536)
    }

    @Test(arguments: [
        ("embeddings.word_embeddings.weight", "bert/embeddings/word_embeddings", false),
        ("bert.embeddings.LayerNorm.weight", "bert/embeddings/LayerNorm/gamma", false),
        ("embeddings.LayerNorm.beta", "bert/embeddings/LayerNorm/beta", false),
        ("encoder.layer.11.attention.self.value.weight", "bert/encoder/layer_11/attention/self/value/kernel", true),
        ("bert.encoder.layer.3.attention.self.key.bias", "bert/encoder/layer_3/attention/self/key/bias", false),
        ("encoder.layer.0.attention.output.dense.weight", "bert/encoder/layer_0/attention/output/dense/kernel", true),
        ("encoder.layer.0.attention.output.LayerNorm.bias", "bert/encoder/layer_0/attention/output/LayerNorm/beta", false),
        ("encoder.layer.1.intermediate.dense.weight", "bert/encoder/layer_1/intermediate/dense/kernel", true),
        ("encoder.layer.1.output.LayerNorm.weight", "bert/encoder/layer_1/output/LayerNorm/gamma", false),
        ("pooler.dense.weight", "bert/pooler/dense/kernel", true),
    ])
    func hfNamesMapToGoogleNames(hf: String, google: String, transpose: Bool) {
        #expect(HFNames.google(for: hf) == HFNames.Mapping(googleName: google, transpose: transpose))
    }

    @Test(arguments: ["embeddings.position_ids", "cls.predictions.bias", "encoder.layer.x.output.dense.weight", "bert.pooler"])
    func nonEncoderNamesAreSkipped(hf: String) {
        #expect(HFNames.google(for: hf) == nil)
    }
}

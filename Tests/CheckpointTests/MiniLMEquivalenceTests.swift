import Testing
@testable import Checkpoint

/// The rig's all-MiniLM-L6-v2 as a TF1 bundle (converted by TF 1.15.5) and as the original
/// Hugging Face safetensors: every tensor must read back bit-identical in Google layout.
@Suite struct MiniLMEquivalenceTests {
    @Test func tf1AndSafetensorsHoldIdenticalTensors() throws {
        let tf = try ModelLocator.locate(modelDir: try Rig.model("minilm-tf1"))
        let hf = try ModelLocator.locate(modelDir: try Rig.model("minilm-hf"))
        #expect(tf.format == .tensorFlowCheckpoint)
        #expect(hf.format == .safetensors)
        #expect(tf.store.tensorNames.count == 103)
        #expect(tf.store.tensorNames == hf.store.tensorNames)
        for name in tf.store.tensorNames {
            #expect(tf.store.info(name) == hf.store.info(name), "\(name)")
            let a = try tf.store.floats(name), b = try hf.store.floats(name)
            #expect(a.count == tf.store.info(name)?.elementCount)
            #expect(a.elementsEqual(b) { $0.bitPattern == $1.bitPattern }, "\(name) differs")
        }
    }
}

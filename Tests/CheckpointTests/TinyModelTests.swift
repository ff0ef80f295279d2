import Testing
@testable import Checkpoint

/// The 2-layer hidden=32 fixture model, saved by TF 1.15.5 and as safetensors with the same values.
@Suite struct TinyModelTests {
    static let layerCount = 2

    /// Every name google-research/bert `modeling.py` creates for the fixture model.
    static var modelNames: [String] {
        var names = [
            "bert/embeddings/word_embeddings", "bert/embeddings/token_type_embeddings",
            "bert/embeddings/position_embeddings", "bert/embeddings/LayerNorm/gamma", "bert/embeddings/LayerNorm/beta",
            "bert/pooler/dense/kernel", "bert/pooler/dense/bias",
        ]
        for i in 0..<layerCount {
            let g = "bert/encoder/layer_\(i)/"
            for part in ["query", "key", "value"] {
                names += [g + "attention/self/\(part)/kernel", g + "attention/self/\(part)/bias"]
            }
            for dense in ["attention/output/dense", "intermediate/dense", "output/dense"] {
                names += [g + dense + "/kernel", g + dense + "/bias"]
            }
            for norm in ["attention/output/LayerNorm", "output/LayerNorm"] {
                names += [g + norm + "/gamma", g + norm + "/beta"]
            }
        }
        return names.sorted()
    }

    static func expectIdentical(_ a: any TensorStore, _ b: any TensorStore, names: [String]) throws {
        for name in names {
            #expect(a.info(name)?.shape == b.info(name)?.shape, "\(name)")
            let x = try a.floats(name), y = try b.floats(name)
            #expect(x.count == a.info(name)?.elementCount, "\(name)")
            #expect(x.elementsEqual(y) { $0.bitPattern == $1.bitPattern }, "\(name) differs")
        }
    }

    @Test func tf1AndSafetensorsTwinsAreIdentical() throws {
        let tf = try ModelLocator.locate(modelDir: Fixtures.path("tiny-tf1"))
        let hf = try ModelLocator.locate(modelDir: Fixtures.path("tiny-hf"))
        #expect(tf.format == .tensorFlowCheckpoint)
        #expect(hf.format == .safetensors)
        #expect(tf.store.tensorNames == Self.modelNames)
        // tiny-hf uses the `bert.` prefix and also holds position_ids and an MLM head bias.
        #expect(hf.store.tensorNames == Self.modelNames)
        #expect(tf.store.info("bert/encoder/layer_1/intermediate/dense/kernel")
            == TensorInfo(name: "bert/encoder/layer_1/intermediate/dense/kernel", shape: [32, 64], dtype: .float32))
        #expect(hf.store.info("bert/encoder/layer_1/output/dense/kernel")?.shape == [64, 32])
        try Self.expectIdentical(tf.store, hf.store, names: Self.modelNames)
    }

    /// TensorFlow's sharded Saver over two CPU devices: tensors live in `-00000-of-00002` and
    /// `-00001-of-00002`, and read back identical to the single-shard bundle.
    @Test func twoShardBundleMatchesSingleShard() throws {
        let sharded = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1-two-shards/bert_model.ckpt"))
        let plain = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1/bert_model.ckpt"))
        #expect(sharded.tensorNames == Self.modelNames)
        try Self.expectIdentical(sharded, plain, names: Self.modelNames)
    }

    @Test func locatorReportsModelFiles() throws {
        let dir = Fixtures.path("tiny-tf1")
        let tf = try ModelLocator.locate(modelDir: dir)
        #expect(tf.configPath == dir + "/bert_config.json")
        #expect(tf.vocabPath == dir + "/vocab.txt")
        #expect(tf.checkpointPath == dir + "/bert_model.ckpt")
        #expect(tf.store.storePath == dir + "/bert_model.ckpt")
        let hfDir = Fixtures.path("tiny-hf")
        let hf = try ModelLocator.locate(modelDir: hfDir)
        #expect(hf.configPath == hfDir + "/config.json")
        #expect(hf.checkpointPath == hfDir + "/model.safetensors")
    }

    /// graph.py: `config_fp = model_dir/config_name`, `init_checkpoint = (tuned_model_dir or model_dir)/ckpt_name`.
    @Test func tunedModelDirSuppliesOnlyTheCheckpoint() throws {
        let base = Fixtures.path("tiny-tf1"), tuned = Fixtures.path("tiny-tf1-fp16")
        let files = try ModelLocator.locate(modelDir: base, tunedModelDir: tuned)
        #expect(files.configPath == base + "/bert_config.json")
        #expect(files.vocabPath == base + "/vocab.txt")
        #expect(files.checkpointPath == tuned + "/bert_model.ckpt")
        #expect(files.store.info("bert/pooler/dense/bias")?.dtype == .float16)
    }

    /// A Hugging Face folder as `-tuned_model_dir`: its safetensors replace the checkpoint,
    /// the config and vocabulary still come from `-model_dir`.
    @Test func tunedModelDirMayBeHuggingFace() throws {
        let base = Fixtures.path("tiny-tf1"), tuned = Fixtures.path("tiny-hf")
        let files = try ModelLocator.locate(modelDir: base, tunedModelDir: tuned)
        #expect(files.format == .safetensors)
        #expect(files.configPath == base + "/bert_config.json")
        #expect(files.vocabPath == base + "/vocab.txt")
        #expect(files.checkpointPath == tuned + "/model.safetensors")
    }

    @Test func customCheckpointAndConfigNames() throws {
        let dir = Fixtures.path("tiny-tf1")
        let error = #expect(throws: CheckpointError.self) {
            try ModelLocator.locate(modelDir: dir, checkpointName: "model.ckpt-1000")
        }
        #expect(error == .missingFile(path: dir + "/model.ckpt-1000.index",
                                      lookedFor: "TensorFlow checkpoint 'model.ckpt-1000' (-ckpt_name) in -model_dir"))
        let configError = #expect(throws: CheckpointError.self) {
            try ModelLocator.locate(modelDir: dir, configName: "other_config.json")
        }
        #expect(configError == .missingFile(path: dir + "/other_config.json", lookedFor: "BERT config (-config_name) in -model_dir"))
        // An absolute -ckpt_name replaces the directory, as os.path.join does.
        let files = try ModelLocator.locate(modelDir: Fixtures.path("tiny-tf1-fp16"), checkpointName: dir + "/bert_model.ckpt")
        #expect(files.checkpointPath == dir + "/bert_model.ckpt")
    }

    @Test func float16BundleConvertsExactly() throws {
        let store = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1-fp16/bert_model.ckpt"))
        let reference = try SafetensorsReader(path: Fixtures.path("reference-f16-as-f32.safetensors"))
        let edge = "bert/embeddings/f16_edge_embeddings"
        #expect(store.info(edge)?.dtype == .float16)
        #expect(store.tensorNames == (Self.modelNames + [edge]).sorted())
        try Self.expectIdentical(store, reference, names: Self.modelNames + [edge])
    }

    @Test func float16SafetensorsConvertsExactly() throws {
        let store = try SafetensorsReader(path: Fixtures.path("tiny-hf-f16/model.safetensors"))
        let reference = try SafetensorsReader(path: Fixtures.path("reference-f16-as-f32.safetensors"))
        #expect(store.info("bert/pooler/dense/kernel")?.dtype == .float16)
        try Self.expectIdentical(store, reference, names: Self.modelNames)
    }

    @Test func bfloat16SafetensorsConvertsExactly() throws {
        let store = try SafetensorsReader(path: Fixtures.path("tiny-hf-bf16/model.safetensors"))
        let reference = try SafetensorsReader(path: Fixtures.path("reference-bf16-as-f32.safetensors"))
        #expect(store.info("bert/pooler/dense/kernel")?.dtype == .bfloat16)
        try Self.expectIdentical(store, reference, names: Self.modelNames)
    }

    #if !(os(macOS) && arch(x86_64))
    /// Swift's own `Float16` (hardware or compiler-rt conversion) is the oracle for all 65536 inputs.
    @Test func halfConversionMatchesFloat16ForEveryBitPattern() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits)).bitPattern
            let actual = FloatDecoding.halfToFloatBits(bits)
            let bothNaN = Float(bitPattern: expected).isNaN && Float(bitPattern: actual).isNaN
            if expected != actual && !bothNaN { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif

    /// A training checkpoint's adam_m / adam_v slots are overwritten with 0xff bytes in this copy;
    /// the model's weights still load, because the reader only touches the tensors asked for.
    @Test func optimizerSlotsAreNeverRead() throws {
        let garbled = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1-adam-garbled-slots/bert_model.ckpt"))
        let plain = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1/bert_model.ckpt"))
        #expect(garbled.tensorNames.count == Self.modelNames.count * 3 + 1)
        #expect(garbled.info("global_step") == TensorInfo(name: "global_step", shape: [], dtype: .int64))
        try Self.expectIdentical(garbled, plain, names: Self.modelNames)
        // The slots really are corrupt: asking for one fails its checksum.
        let slot = "bert/pooler/dense/kernel/adam_m"
        let error = #expect(throws: CheckpointError.self) { try garbled.floats(slot) }
        guard case let .checksumMismatch(path, tensor, _, _) = error else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("tiny-tf1-adam-garbled-slots/bert_model.ckpt.data-00000-of-00001"))
        #expect(tensor == slot)
        // And the untouched training checkpoint reads its slots fine.
        let intact = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1-adam/bert_model.ckpt"))
        #expect(try intact.floats(slot).count == 32 * 32)
    }

    @Test func expectedShapeIsChecked() throws {
        let store = try TensorBundleReader(prefix: Fixtures.path("tiny-tf1/bert_model.ckpt"))
        let kernel = "bert/encoder/layer_0/intermediate/dense/kernel"
        #expect(try store.floats(kernel, expectedShape: [32, 64]).count == 32 * 64)
        let error = #expect(throws: CheckpointError.self) { try store.floats(kernel, expectedShape: [64, 32]) }
        #expect(error == .shapeMismatch(path: store.prefix, tensor: kernel, expected: [64, 32], actual: [32, 64]))
    }
}

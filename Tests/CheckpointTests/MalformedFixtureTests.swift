import Testing
@testable import Checkpoint

/// One damaged file per `CheckpointError` case (Resources/malformed, made by
/// make_checkpoint_fixtures.py by editing TensorFlow's own output). TensorFlow 1.15.5 rejects the
/// damaged bundles too (DataLossError / OutOfRangeError; see Resources/README.md).
@Suite struct MalformedFixtureTests {
    static func bad(_ name: String) -> String { Fixtures.path("malformed/" + name) }
    static func prefix(_ name: String) -> String { bad(name) + "/bert_model.ckpt" }
    static let shard = ".data-00000-of-00001"
    static let beta = "bert/embeddings/LayerNorm/beta"
    static let gamma = "bert/embeddings/LayerNorm/gamma"
    static let poolerBias = "bert/pooler/dense/bias"

    /// The `CheckpointError` `body` throws, or nil when it succeeds (or throws something else).
    static func error(_ body: () throws -> Void) -> CheckpointError? {
        do {
            try body()
            return nil
        } catch let error as CheckpointError {
            return error
        } catch {
            return nil
        }
    }

    @Test func intactMicroBundleReads() throws {
        let store = try TensorBundleReader(prefix: Self.prefix("micro"))
        #expect(store.tensorNames == [Self.beta, Self.gamma, Self.poolerBias])
        for name in store.tensorNames { #expect(try store.floats(name).count == 32) }
    }

    // MARK: missing files

    @Test func missingModelDir() {
        let dir = Self.bad("does-not-exist")
        #expect(Self.error { _ = try ModelLocator.locate(modelDir: dir) }
            == .missingFile(path: dir, lookedFor: "-model_dir directory"))
    }

    @Test func missingCheckpoint() {
        let dir = Self.bad("no-checkpoint")
        #expect(Self.error { _ = try ModelLocator.locate(modelDir: dir) }
            == .missingFile(path: dir + "/bert_model.ckpt.index",
                            lookedFor: "TensorFlow checkpoint 'bert_model.ckpt' (-ckpt_name) in -model_dir"))
    }

    @Test func missingCheckpointInTunedDir() {
        let tuned = Self.bad("no-checkpoint")
        #expect(Self.error { _ = try ModelLocator.locate(modelDir: Fixtures.path("tiny-tf1"), tunedModelDir: tuned) }
            == .missingFile(path: tuned + "/bert_model.ckpt.index",
                            lookedFor: "TensorFlow checkpoint 'bert_model.ckpt' (-ckpt_name) in -tuned_model_dir"))
    }

    @Test func missingSafetensors() {
        let dir = Self.bad("hf-no-safetensors")
        #expect(Self.error { _ = try ModelLocator.locate(modelDir: dir) }
            == .missingFile(path: dir + "/bert_model.ckpt.index",
                            lookedFor: "TensorFlow checkpoint 'bert_model.ckpt' (-ckpt_name), or a Hugging Face model.safetensors"))
    }

    @Test func missingDataShard() {
        let p = Self.prefix("missing-shard")
        #expect(Self.error { _ = try TensorBundleReader(prefix: p) }
            == .missingFile(path: p + Self.shard, lookedFor: "data shard 0 of 1 named by \(p).index"))
    }

    @Test func missingTensor() throws {
        let store = try TensorBundleReader(prefix: Self.prefix("micro"))
        #expect(Self.error { _ = try store.floats("bert/encoder/layer_0/output/dense/kernel") }
            == .missingTensor(path: store.prefix, tensor: "bert/encoder/layer_0/output/dense/kernel"))
    }

    // MARK: shapes and dtypes

    @Test func configDisagreesWithWeights() throws {
        let files = try ModelLocator.locate(modelDir: Self.bad("wrong-shape"))
        let hidden = try Fixtures.hiddenSize(configPath: files.configPath)
        #expect(hidden == 48)
        #expect(Self.error { _ = try files.store.floats(Self.gamma, expectedShape: [hidden]) }
            == .shapeMismatch(path: Self.prefix("wrong-shape"), tensor: Self.gamma, expected: [48], actual: [32]))
    }

    @Test func float64WeightIsRejected() throws {
        let store = try TensorBundleReader(prefix: Self.prefix("float64-weight"))
        #expect(store.info(Self.gamma)?.dtype == .float64)
        #expect(Self.error { _ = try store.floats(Self.gamma) }
            == .unsupportedDType(path: store.indexPath, tensor: Self.gamma, dtype: "DT_DOUBLE"))
    }

    @Test func unknownBundleDTypeIsRejected() throws {
        let store = try TensorBundleReader(prefix: Self.prefix("unknown-dtype"))
        #expect(store.info(Self.beta)?.dtype == .other)
        #expect(Self.error { _ = try store.floats(Self.beta) }
            == .unsupportedDType(path: store.indexPath, tensor: Self.beta, dtype: "DataType 99"))
        #expect(try store.floats(Self.gamma).count == 32)
    }

    @Test func unknownSafetensorsDTypeIsRejected() throws {
        let path = Self.bad("unknown-dtype.safetensors")
        let store = try SafetensorsReader(path: path)
        #expect(Self.error { _ = try store.floats(Self.gamma) }
            == .unsupportedDType(path: path, tensor: store.errorName(Self.gamma), dtype: "X9"))
        // Errors name the tensor as the file stores it, so an operator can find it.
        #expect(store.errorName(Self.gamma).hasPrefix("embeddings.LayerNorm.") && store.errorName(Self.gamma).contains(Self.gamma))
        #expect(try store.floats(Self.beta).count == 32)
    }

    // MARK: damaged bundles

    @Test func truncatedDataShard() throws {
        let p = Self.prefix("truncated-shard")
        let store = try TensorBundleReader(prefix: p)
        #expect(try store.floats(Self.beta).count == 32)
        #expect(Self.error { _ = try store.floats(Self.poolerBias) }
            == .truncated(path: p + Self.shard, tensor: Self.poolerBias, need: 384, have: 364))
    }

    /// The stored and computed CRCs are the numbers TensorFlow 1.15.5 reports for this file:
    /// "Checksum does not match: stored 2613177579 vs. calculated on the restored bytes 3669684567".
    @Test func dataChecksumMismatch() throws {
        let p = Self.prefix("crc-mismatch")
        let store = try TensorBundleReader(prefix: p)
        #expect(try store.floats(Self.gamma).count == 32)
        #expect(Self.error { _ = try store.floats(Self.poolerBias) }
            == .checksumMismatch(path: p + Self.shard, tensor: Self.poolerBias, expected: 2_613_177_579, actual: 3_669_684_567))
    }

    @Test func indexBlockChecksumMismatch() {
        let p = Self.prefix("index-crc-mismatch")
        let error = Self.error { _ = try TensorBundleReader(prefix: p) }
        guard case let .checksumMismatch(path, tensor, expected, actual) = error else {
            Issue.record("expected checksumMismatch, got \(String(describing: error))")
            return
        }
        #expect(path == p + ".index")
        #expect(tensor.isEmpty)
        #expect(expected != actual)
    }

    @Test func truncatedIndex() {
        let p = Self.prefix("truncated-index")
        #expect(Self.error { _ = try TensorBundleReader(prefix: p) }
            == .truncated(path: p + ".index", tensor: "", need: 48, have: 30))
    }

    @Test(arguments: ["index-no-footer", "garbled-index"])
    func indexWithoutMagic(fixture: String) {
        let p = Self.prefix(fixture)
        let error = Self.error { _ = try TensorBundleReader(prefix: p) }
        guard case let .malformed(path, detail) = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(path == p + ".index")
        #expect(detail.contains("magic"))
    }

    @Test func compressedBlockIsRejected() {
        let p = Self.prefix("compressed-block")
        #expect(Self.error { _ = try TensorBundleReader(prefix: p) }
            == .unsupportedCompression(path: p + ".index", kind: 1))
    }

    // MARK: damaged safetensors

    @Test func safetensorsShorterThanLengthField() {
        let path = Self.bad("short-header.safetensors")
        #expect(Self.error { _ = try SafetensorsReader(path: path) } == .truncated(path: path, tensor: "", need: 8, have: 5))
    }

    @Test func safetensorsHeaderPastEnd() {
        let path = Self.bad("header-past-end.safetensors")
        #expect(Self.error { _ = try SafetensorsReader(path: path) }
            == .truncated(path: path, tensor: "", need: (1 << 40) + 8, have: 100))
    }

    @Test func safetensorsOffsetsPastEnd() {
        let path = Self.bad("offsets-past-end.safetensors")
        #expect(Self.error { _ = try SafetensorsReader(path: path) }
            == .outOfBounds(path: path, tensor: "embeddings.LayerNorm.bias", offset: 128, length: 128 + 4096, available: 256))
    }

    @Test func safetensorsOffsetsDisagreeWithShape() {
        let path = Self.bad("offsets-wrong-length.safetensors")
        #expect(Self.error { _ = try SafetensorsReader(path: path) }
            == .malformed(path: path, detail: "tensor 'embeddings.LayerNorm.bias' data_offsets span 124 bytes, but F32 [32] needs 128"))
    }

    @Test func safetensorsHeaderIsNotJSON() {
        let path = Self.bad("not-json.safetensors")
        let error = Self.error { _ = try SafetensorsReader(path: path) }
        guard case let .malformed(p, detail) = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(p == path)
        #expect(detail.hasPrefix("header is not valid JSON"))
    }

    @Test(arguments: [
        CheckpointError.missingFile(path: "/m/x", lookedFor: "vocabulary"),
        .unreadable(path: "/m/x", reason: "Permission denied"),
        .truncated(path: "/m/x", tensor: "t", need: 10, have: 5),
        .malformed(path: "/m/x", detail: "bad"),
        .outOfBounds(path: "/m/x", tensor: "t", offset: 1, length: 2, available: 0),
        .checksumMismatch(path: "/m/x", tensor: "t", expected: 1, actual: 2),
        .unsupportedCompression(path: "/m/x", kind: 1),
        .missingTensor(path: "/m/x", tensor: "t"),
        .shapeMismatch(path: "/m/x", tensor: "t", expected: [1], actual: [2]),
        .unsupportedDType(path: "/m/x", tensor: "t", dtype: "DT_STRING"),
    ])
    func everyErrorIsOneLineStartingWithItsPath(error: CheckpointError) {
        #expect(error.description.hasPrefix("/m/x: "))
        #expect(!error.description.contains("\n"))
    }

    @Test func errorsPrintOneLineNamingFileAndTensor() {
        let text = CheckpointError.shapeMismatch(path: "/m/bert_model.ckpt", tensor: "bert/pooler/dense/kernel",
                                                 expected: [768, 768], actual: [384, 384]).description
        #expect(text == "/m/bert_model.ckpt: tensor 'bert/pooler/dense/kernel' has shape [384, 384], the model configuration expects [768, 768]")
        #expect(!text.contains("\n"))
    }
}

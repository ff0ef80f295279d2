#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a model's weights are stored.
public enum ModelFormat: String, Sendable, Equatable {
    /// Google BERT: `bert_config.json`, `vocab.txt`, `bert_model.ckpt.{index,data-…}`.
    case tensorFlowCheckpoint
    /// Hugging Face: `config.json`, `vocab.txt`, `model.safetensors`.
    case safetensors
}

/// The files of one model, found and opened; `store` reads its weights.
public struct ModelFiles: Sendable {
    /// Which layout was found.
    public let format: ModelFormat
    /// `bert_config.json` (TF) or `config.json` (HF); both carry the google-research/bert keys
    /// (`hidden_size`, `num_hidden_layers`, …) the engine reads.
    public let configPath: String
    /// `vocab.txt` in `-model_dir`.
    public let vocabPath: String
    /// The checkpoint prefix (TF) or the `.safetensors` file (HF).
    public let checkpointPath: String
    /// The opened weights, in Google-BERT naming and layout.
    public let store: any TensorStore
}

/// Finds a model's config, vocabulary and weights the way `bert-serving-start` does.
///
/// Port of the path logic of `optimize_graph` (bert_serving/server/graph.py) and
/// `BertWorker` (`vocab.txt` in `model_dir`): `config_fp = model_dir/config_name`,
/// `init_checkpoint = (tuned_model_dir or model_dir)/ckpt_name`. When the TF checkpoint
/// is absent, a Hugging Face folder (`config.json` + `model.safetensors`) is used instead.
public enum ModelLocator {
    /// The Hugging Face config file name.
    public static let hfConfigName = "config.json"
    /// The Hugging Face weights file name.
    public static let safetensorsName = "model.safetensors"
    /// The vocabulary file, always read from `-model_dir` (bert_serving/server/__init__.py).
    public static let vocabName = "vocab.txt"

    /// Locates and opens the model.
    /// - Parameters:
    ///   - modelDir: `-model_dir`: config and vocabulary always come from here.
    ///   - tunedModelDir: `-tuned_model_dir`: when given, the checkpoint is read from here instead.
    ///   - configName: `-config_name` (default `bert_config.json`).
    ///   - checkpointName: `-ckpt_name` (default `bert_model.ckpt`).
    /// - Throws: `CheckpointError.missingFile` naming what was looked for, or any reader error.
    public static func locate(
        modelDir: String, tunedModelDir: String? = nil,
        configName: String = "bert_config.json", checkpointName: String = "bert_model.ckpt"
    ) throws(CheckpointError) -> ModelFiles {
        let checkpointDir = (tunedModelDir?.isEmpty == false ? tunedModelDir : nil) ?? modelDir
        let prefix = join(checkpointDir, checkpointName)
        let tfConfig = join(modelDir, configName)
        let hfConfig = join(modelDir, hfConfigName)
        let safetensors = join(checkpointDir, safetensorsName)
        let vocab = join(modelDir, vocabName)

        guard isDirectory(modelDir) else {
            throw .missingFile(path: modelDir, lookedFor: "-model_dir directory")
        }
        if let tunedModelDir, !tunedModelDir.isEmpty, !isDirectory(tunedModelDir) {
            throw .missingFile(path: tunedModelDir, lookedFor: "-tuned_model_dir directory")
        }

        let hasTFCheckpoint = exists(prefix + ".index")
        let hasTFConfig = exists(tfConfig)
        let useTF = hasTFCheckpoint || (hasTFConfig && !exists(safetensors))
        let format: ModelFormat = useTF ? .tensorFlowCheckpoint : .safetensors
        let configPath: String
        switch format {
        case .tensorFlowCheckpoint:
            configPath = tfConfig
            guard hasTFConfig else {
                throw .missingFile(path: tfConfig, lookedFor: "BERT config (-config_name) in -model_dir")
            }
            guard hasTFCheckpoint else {
                throw .missingFile(path: prefix + ".index", lookedFor: "TensorFlow checkpoint '\(checkpointName)' (-ckpt_name) in \(tunedModelDir == nil ? "-model_dir" : "-tuned_model_dir")")
            }
        case .safetensors:
            // A folder with neither TF files nor safetensors: report what a TF model needs,
            // the layout bert-serving-start documents, and mention the HF alternative.
            guard exists(safetensors) else {
                throw .missingFile(path: prefix + ".index", lookedFor: "TensorFlow checkpoint '\(checkpointName)' (-ckpt_name), or a Hugging Face \(safetensorsName)")
            }
            configPath = hasTFConfig ? tfConfig : hfConfig
            guard exists(configPath) else {
                throw .missingFile(path: hfConfig, lookedFor: "model config (\(configName) or \(hfConfigName)) next to \(safetensorsName)")
            }
        }
        guard exists(vocab) else {
            throw .missingFile(path: vocab, lookedFor: "WordPiece vocabulary in -model_dir")
        }
        let store: any TensorStore
        let checkpointPath: String
        switch format {
        case .tensorFlowCheckpoint:
            store = try TensorBundleReader(prefix: prefix)
            checkpointPath = prefix
        case .safetensors:
            store = try SafetensorsReader(path: safetensors)
            checkpointPath = safetensors
        }
        return ModelFiles(format: format, configPath: configPath, vocabPath: vocab,
                          checkpointPath: checkpointPath, store: store)
    }

    /// `os.path.join` for the two-argument case: an absolute second part replaces the first.
    static func join(_ dir: String, _ name: String) -> String {
        if name.hasPrefix("/") || dir.isEmpty { return name }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

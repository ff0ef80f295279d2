import Foundation
import Testing
import BertEngine
import Checkpoint

/// The ground-truth rig built by CompatTests/reference/setup.sh (BSS_RIG_DIR, default
/// ~/.cache/bert-serving-swift/rig). Tests that need it fail, never skip, when it is missing.
enum Rig {
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["BSS_RIG_DIR"], !dir.isEmpty { return dir }
        return NSHomeDirectory() + "/.cache/bert-serving-swift/rig"
    }

    /// `<rig>/<name>`, after checking that `<rig>/<name>/.done` exists.
    static func model(_ name: String) throws -> String {
        let dir = directory + "/" + name
        guard FileManager.default.fileExists(atPath: dir + "/.done") else { throw RigMissing(path: dir) }
        return dir
    }

    struct RigMissing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "rig model \(path) is missing: run CompatTests/reference/setup.sh (or set BSS_RIG_DIR)"
        }
    }
}

/// all-MiniLM-L6-v2 from the rig, loaded once per test process and shared by all tests.
enum MiniLM {
    /// The TF1 checkpoint the original server ran on when the goldens were made.
    static let tf1: Result<BertWeights, any Error> = load("minilm-tf1", noPositionEmbeddings: false)
    /// The same model under `-no_position_embeddings`.
    static let tf1NoPositions: Result<BertWeights, any Error> = load("minilm-tf1", noPositionEmbeddings: true)
    /// The Hugging Face safetensors twin.
    static let safetensors: Result<BertWeights, any Error> = load("minilm-hf", noPositionEmbeddings: false)
    /// `tf1` and `tf1NoPositions` with the dense layers on OpenBLAS sgemm (the last resort, on
    /// CPUs without AVX2).
    static let tf1OpenBLAS: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: false, library: .openBLAS)
    static let tf1NoPositionsOpenBLAS: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: true, library: .openBLAS)
    /// `tf1` and `tf1NoPositions` on our panel kernels' AVX2 tiles (the default of CPUs without
    /// AVX-512; asked for by name, so that AVX-512 machines, whose default is the AVX-512 tiles,
    /// test them too).
    static let tf1AVX2Panels: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: false, library: .panelKernels, panels: .avx2)
    static let tf1NoPositionsAVX2Panels: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: true, library: .panelKernels, panels: .avx2)
    /// `tf1` and `tf1NoPositions` on oneDNN's packed float32 matmul (on request only; on a CPU
    /// without AVX-512, OpenBLAS with the reason).
    static let tf1OneDNN: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: false, library: .oneDNN)
    static let tf1NoPositionsOneDNN: Result<BertWeights, any Error> =
        load("minilm-tf1", noPositionEmbeddings: true, library: .oneDNN)

    private static func load(
        _ name: String, noPositionEmbeddings: Bool, library: MatmulLibrary? = nil, panels: PanelInstructionSet? = nil
    ) -> Result<BertWeights, any Error> {
        Result {
            let files = try ModelLocator.locate(modelDir: try Rig.model(name))
            let config = try BertConfig(contentsOfFile: files.configPath)
            return try BertWeights(
                config: config, store: files.store, noPositionEmbeddings: noPositionEmbeddings, library: library,
                panelInstructionSet: panels)
        }
    }
}

/// Tests/BertEngineTests/Resources/engine_golden, written by CompatTests/reference/gen_engine_golden.py
/// from the ORIGINAL server's replies.
enum Golden {
    struct Manifest: Decodable {
        let cases: [Case]
    }

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String
        let poolingStrategy: String
        let poolingEnum: Int
        let poolingLayer: [Int]
        let maxSeqLen: Int?
        let maskClsSep: Bool
        let noPositionEmbeddings: Bool
        let batches: [Batch]
        var testDescription: String { name }

        enum CodingKeys: String, CodingKey {
            case name, batches
            case poolingStrategy = "pooling_strategy", poolingEnum = "pooling_enum", poolingLayer = "pooling_layer"
            case maxSeqLen = "max_seq_len", maskClsSep = "mask_cls_sep", noPositionEmbeddings = "no_position_embeddings"
        }
    }

    struct Batch: Decodable, Sendable {
        let input: String
        let output: String
        let shape: [Int]
    }

    struct Input: Decodable, Sendable {
        let count: Int
        let seqLen: Int
        let inputIds: [Int32]
        let inputMask: [Int32]
        let inputTypeIds: [Int32]
        let tokens: [[String]]

        enum CodingKeys: String, CodingKey {
            case count, tokens
            case seqLen = "seq_len", inputIds = "input_ids", inputMask = "input_mask", inputTypeIds = "input_type_ids"
        }

        var batch: EncoderBatch {
            EncoderBatch(
                count: count, seqLen: seqLen, inputIds: inputIds, inputMask: inputMask, inputTypeIds: inputTypeIds)
        }
    }

    static var directory: String {
        (Bundle.module.url(forResource: "Resources", withExtension: nil)?.path ?? "Resources-not-bundled")
            + "/engine_golden"
    }

    /// The cases of manifest.json (empty when it cannot be read; `manifestIsComplete` then fails).
    static let cases: [Case] = (try? load()) ?? []

    static func load() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data).cases
    }

    static let inputs: Result<[String: Input], any Error> = Result {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/inputs.json"))
        return try JSONDecoder().decode([String: Input].self, from: data)
    }

    static func input(_ key: String) throws -> Input {
        guard let input = try inputs.get()[key] else { throw MissingInput(key: key) }
        return input
    }

    struct MissingInput: Error { let key: String }

    /// A little-endian float32 file.
    static func floats(_ file: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}

/// Largest |a[i] - b[i]| (infinity when the lengths differ).
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .nan }
        m = max(m, d)
    }
    return m
}

extension EncoderBatch {
    /// Rows `rows` of this batch, in that order.
    func rows(_ rows: [Int]) -> EncoderBatch {
        func pick(_ a: [Int32]) -> [Int32] { rows.flatMap { a[($0 * seqLen)..<(($0 + 1) * seqLen)] } }
        return EncoderBatch(
            count: rows.count, seqLen: seqLen, inputIds: pick(inputIds), inputMask: pick(inputMask),
            inputTypeIds: pick(inputTypeIds))
    }

    /// The same rows padded (with zeros) or cut to `length` positions.
    func padded(to length: Int) -> EncoderBatch {
        func pad(_ a: [Int32]) -> [Int32] {
            (0..<count).flatMap { r in
                (0..<length).map { p in p < seqLen ? a[r * seqLen + p] : 0 }
            }
        }
        return EncoderBatch(
            count: count, seqLen: length, inputIds: pad(inputIds), inputMask: pad(inputMask),
            inputTypeIds: pad(inputTypeIds))
    }

    /// Length of the longest row's attended prefix.
    var longestRow: Int {
        (0..<count).map { r in
            ((0..<seqLen).last { inputMask[r * seqLen + $0] != 0 } ?? -1) + 1
        }.max() ?? 0
    }
}

extension EncoderOutput {
    /// Row `i` (all of its values, `[seqLen, dim]` for NONE).
    func row(_ i: Int) -> ArraySlice<Float> {
        let stride = shape.dropFirst().reduce(1, *)
        return values[(i * stride)..<((i + 1) * stride)]
    }
}

import Foundation
import Testing
@testable import WordPiece

/// Fixtures written by CompatTests/reference/gen_tokenizer_golden.py from the ORIGINAL tokenizer.
enum Golden {
    static let resources: URL = {
        Bundle.module.url(forResource: "Resources", withExtension: nil)
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")
    }()

    static func path(_ name: String) -> String {
        resources.appendingPathComponent(name).path
    }

    /// The MiniLM (bert-base-uncased) vocabulary the goldens were made with.
    static let vocabulary: Vocabulary? = try? Vocabulary(contentsOfFile: path("vocab.txt"))

    static func requireVocabulary() throws -> Vocabulary {
        try #require(vocabulary, "cannot load \(path("vocab.txt"))")
    }

    /// One JSON value per line (split on "\n" only: texts may hold U+2028 or U+0085).
    static func lines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let data = try Data(contentsOf: resources.appendingPathComponent(name))
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(T.self, from: Data($0)) }
    }

    /// A corpus line: category, text, uncased and cased tokens of `FullTokenizer.tokenize`.
    struct CorpusRecord: Decodable {
        var c: String
        var s: String
        var u: [String]
        var k: [String]
    }

    /// A batch line of `tokenizer_features_<config>.jsonl`.
    struct FeatureBatch: Decodable {
        enum Input: Decodable {
            case indices([Int])
            case tokenLists([[String]])

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let indices = try? container.decode([Int].self) {
                    self = .indices(indices)
                } else {
                    self = .tokenLists(try container.decode([[String]].self))
                }
            }
        }

        struct Feature: Decodable {
            var t: [String]?
            var i: [Int32]
            var m: String
            var y: String
        }

        var `in`: Input
        var f: [Feature]?
        var crash: String?
    }

    /// Expands "value*count,value*count" run-length encoding.
    static func expandRuns(_ encoded: String) -> [Int32] {
        var values: [Int32] = []
        for run in encoded.split(separator: ",") {
            let parts = run.split(separator: "*")
            guard parts.count == 2, let value = Int32(parts[0]), let count = Int(parts[1]) else { continue }
            values += [Int32](repeating: value, count: count)
        }
        return values
    }

    /// The golden features, padded back to full rows.
    static func expand(_ features: [FeatureBatch.Feature]) -> [(tokens: [String]?, features: InputFeatures)] {
        features.map { feature in
            let mask = expandRuns(feature.m)
            let types = expandRuns(feature.y)
            let ids = feature.i + [Int32](repeating: 0, count: max(0, mask.count - feature.i.count))
            return (feature.t, InputFeatures(tokens: feature.t ?? [], inputIds: ids, inputMask: mask, inputTypeIds: types))
        }
    }

    /// Settings of each golden config: (max_seq_len, do_lower_case, mask_cls_sep, no_special_token).
    static let configs: [String: (maxSeqLen: Int?, lower: Bool, maskClsSep: Bool, noSpecialToken: Bool)] = [
        "u25": (25, true, false, false), "u64": (64, true, false, false), "uNone": (nil, true, false, false),
        "c25": (25, false, false, false), "c64": (64, false, false, false), "cNone": (nil, false, false, false),
        "u25-mask": (25, true, true, false), "u25-nst": (25, true, false, true), "uNone-nst": (nil, true, false, true),
        "t25": (25, true, false, false), "t64": (64, true, false, false), "tNone": (nil, true, false, false),
        "t25-mask": (25, true, true, false), "t25-nst": (25, true, false, true), "tNone-nst": (nil, true, false, true),
        "t25-mask-nst": (25, true, true, true),
    ]

    static let maxPositionEmbeddings = 512

    /// The rig with the original server (BSS_RIG_DIR, default ~/.cache/bert-serving-swift/rig).
    static var rigDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["BSS_RIG_DIR"], !dir.isEmpty {
            return dir
        }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/bert-serving-swift/rig"
    }
}

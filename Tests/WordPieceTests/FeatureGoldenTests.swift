import Foundation
import Testing
@testable import WordPiece

/// `FeatureConverter.convert` against `convert_lst_to_features` of the original, per worker setting.
@Suite struct FeatureGoldenTests {
    static let textConfigs = ["u25", "u64", "uNone", "c25", "c64", "cNone", "u25-mask", "u25-nst", "uNone-nst"]
    static let tokenizedConfigs = ["t25", "t64", "tNone", "t25-mask", "t25-nst", "tNone-nst", "t25-mask-nst"]

    static func converter(_ config: String) throws -> FeatureConverter {
        let settings = try #require(Golden.configs[config])
        let tokenizer = FullTokenizer(vocabulary: try Golden.requireVocabulary(), doLowerCase: settings.lower)
        return FeatureConverter(
            tokenizer: tokenizer, maxSeqLen: settings.maxSeqLen, maxPositionEmbeddings: Golden.maxPositionEmbeddings,
            maskClsSep: settings.maskClsSep, noSpecialToken: settings.noSpecialToken)
    }

    /// Compares one batch; golden rows without tokens compare ids, mask and type ids only.
    static func compare(
        _ actual: [InputFeatures], _ expected: [Golden.FeatureBatch.Feature], label: String
    ) -> String? {
        let golden = Golden.expand(expected)
        guard actual.count == golden.count else {
            return "\(label): \(actual.count) rows, expected \(golden.count)"
        }
        for (row, (mine, theirs)) in zip(actual, golden).enumerated() {
            if let tokens = theirs.tokens, tokens != mine.tokens {
                return "\(label) row \(row): tokens \(mine.tokens) != \(tokens)"
            }
            if mine.inputIds != theirs.features.inputIds || mine.inputMask != theirs.features.inputMask
                || mine.inputTypeIds != theirs.features.inputTypeIds {
                return "\(label) row \(row): got ids \(mine.inputIds) mask \(mine.inputMask) types \(mine.inputTypeIds), "
                    + "expected ids \(theirs.features.inputIds) mask \(theirs.features.inputMask) "
                    + "types \(theirs.features.inputTypeIds)"
            }
        }
        return nil
    }

    @Test(arguments: textConfigs)
    func plainTextFeaturesMatchOriginal(config: String) throws {
        let converter = try Self.converter(config)
        let corpus = try Golden.lines("tokenizer_corpus.jsonl", as: Golden.CorpusRecord.self)
        let batches = try Golden.lines("tokenizer_features_\(config).jsonl", as: Golden.FeatureBatch.self)
        // Where the original crashed (-no_special_token on text longer than max_seq_len), we truncate
        // like the same setting without -no_special_token: compare with that config's golden instead.
        let fallbackName = config.replacingOccurrences(of: "-nst", with: "")
        var fallback: [[Int]: [Golden.FeatureBatch.Feature]] = [:]
        if fallbackName != config {
            for batch in try Golden.lines("tokenizer_features_\(fallbackName).jsonl", as: Golden.FeatureBatch.self) {
                if case let .indices(indices) = batch.in, let features = batch.f {
                    fallback[indices] = features
                }
            }
        }
        var failures: [String] = []
        var compared = 0
        var crashed = 0
        for batch in batches {
            guard case let .indices(indices) = batch.in else {
                failures.append("unexpected token lists in \(config)")
                continue
            }
            let texts = indices.map { corpus[$0].s }
            let actual = converter.convert(.texts(texts))
            let expected: [Golden.FeatureBatch.Feature]
            if let features = batch.f {
                expected = features
            } else if let features = fallback[indices] {
                crashed += 1
                expected = features
            } else {
                failures.append("\(config) lines \(indices): original raised \(batch.crash ?? "?"), no fallback")
                continue
            }
            compared += actual.count
            if let failure = Self.compare(actual, expected, label: "\(config) lines \(indices)") {
                failures.append(failure)
            }
        }
        print("\(config): \(compared) rows compared, \(crashed) batches where the original crashed")
        #expect(compared > 500)
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    @Test(arguments: tokenizedConfigs)
    func tokenizedFeaturesMatchOriginal(config: String) throws {
        let converter = try Self.converter(config)
        let batches = try Golden.lines("tokenizer_features_\(config).jsonl", as: Golden.FeatureBatch.self)
        var failures: [String] = []
        var compared = 0
        for (line, batch) in batches.enumerated() {
            guard case let .tokenLists(lists) = batch.in, let expected = batch.f else {
                failures.append("\(config) line \(line + 1): no features (\(batch.crash ?? "indices"))")
                continue
            }
            let actual = converter.convert(.tokenized(lists))
            compared += actual.count
            if let failure = Self.compare(actual, expected, label: "\(config) line \(line + 1)") {
                failures.append(failure)
            }
        }
        #expect(compared >= 400)
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(5).joined(separator: "\n"))")
    }
}

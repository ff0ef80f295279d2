import Foundation
import Testing
@testable import WordPiece

/// `FullTokenizer.tokenize` against the original's output on ≥ 5,000 strings across all categories.
@Suite struct TokenizerGoldenTests {
    @Test(arguments: [true, false])
    func fullTokenizerMatchesOriginal(doLowerCase: Bool) throws {
        let tokenizer = FullTokenizer(vocabulary: try Golden.requireVocabulary(), doLowerCase: doLowerCase)
        let corpus = try Golden.lines("tokenizer_corpus.jsonl", as: Golden.CorpusRecord.self)
        #expect(corpus.count >= 5000)
        var mismatches: [String] = []
        for (line, record) in corpus.enumerated() {
            let expected = doLowerCase ? record.u : record.k
            let actual = tokenizer.tokenize(record.s)
            if actual != expected {
                mismatches.append("line \(line + 1) [\(record.c)] \(record.s.debugDescription): "
                    + "expected \(expected), got \(actual)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test func corpusCoversEveryGeneralCategory() throws {
        let corpus = try Golden.lines("tokenizer_corpus.jsonl", as: Golden.CorpusRecord.self)
        var counts: [String: Int] = [:]
        for record in corpus {
            counts[record.c, default: 0] += 1
        }
        print("tokenizer corpus per category:", counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " "))
        let categories = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
                          "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Co", "Cs"]
        for category in categories {
            #expect(counts[category, default: 0] >= 100, "category \(category)")
        }
        #expect(counts["adversarial", default: 0] >= 200)
    }
}

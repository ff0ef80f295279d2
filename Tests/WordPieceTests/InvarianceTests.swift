import Testing
@testable import WordPiece

@Suite struct InvarianceTests {
    static func converter(maxSeqLen: Int?) throws -> FeatureConverter {
        FeatureConverter(
            tokenizer: FullTokenizer(vocabulary: try Golden.requireVocabulary(), doLowerCase: true),
            maxSeqLen: maxSeqLen, maxPositionEmbeddings: 512, maskClsSep: false, noSpecialToken: false)
    }

    /// With a fixed max_seq_len, a text gives the same row alone and inside any batch, in input order.
    @Test func rowDoesNotDependOnItsBatch() throws {
        let converter = try Self.converter(maxSeqLen: 25)
        let corpus = try Golden.lines("tokenizer_corpus.jsonl", as: Golden.CorpusRecord.self)
        let texts = corpus.map(\.s).filter { !$0.isEmpty }.prefix(300)
        let together = converter.convert(.texts(Array(texts)))
        let alone = texts.flatMap { converter.convert(.texts([$0])) }
        #expect(together == alone)
        #expect(together.allSatisfy { $0.inputIds.count == 25 && $0.inputMask.count == 25 && $0.inputTypeIds.count == 25 })
    }

    /// Every Unicode scalar, in long runs and alone, tokenizes without trapping.
    @Test func everyScalarIsAccepted() throws {
        let tokenizer = FullTokenizer(vocabulary: try Golden.requireVocabulary(), doLowerCase: true)
        var scalars = String.UnicodeScalarView()
        var total = 0
        for value in stride(from: UInt32(0), through: 0x10FFFF, by: 5) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            scalars.append(scalar)
            if scalars.count == 4096 {
                total += tokenizer.tokenizeToIds(String(scalars)).count
                scalars.removeAll()
            }
        }
        total += tokenizer.tokenizeToIds(String(scalars)).count
        #expect(total > 0)
        let converter = try Self.converter(maxSeqLen: nil)
        let rows = converter.convert(.texts(["\u{FFFD}", "\u{0}", "\u{10FFFF}", "\u{E000} ||| \u{FEFF}"]))
        #expect(rows.map(\.tokens) == [["[CLS]", "[SEP]"], ["[CLS]", "[SEP]"], ["[CLS]", "[SEP]"], ["[CLS]", "[SEP]"]])
    }
}

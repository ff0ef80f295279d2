import Testing
@testable import WordPiece

/// Spot checks of tokenization.py behaviours that surprise; expected values printed by the original.
@Suite struct TokenizerBehaviourTests {
    static func tokenize(_ text: String, lower: Bool = true) throws -> [String] {
        let vocabulary = try Golden.requireVocabulary()
        return FullTokenizer(vocabulary: vocabulary, doLowerCase: lower).tokenize(text)
    }

    @Test func tablesAreUnicode11() {
        #expect(UnicodeTables.unicodeVersion == "11.0.0")
    }

    @Test func greedyLongestMatch() throws {
        #expect(try Self.tokenize("unaffable") == ["una", "##ffa", "##ble"])
    }

    /// Code points assigned after Unicode 11 are Cn there, and _clean_text deletes them.
    @Test func laterCodePointsAreDeleted() throws {
        #expect(try Self.tokenize("yawn\u{1F971}face") == ["ya", "##wn", "##face"])
        #expect(try Self.tokenize("\u{1FAE0} \u{30000}") == [])
    }

    /// U+0085 is Cc (deleted, not whitespace); U+2028 is Zl (kept by _clean_text, split by str.split).
    @Test func controlsAndLineSeparators() throws {
        #expect(try Self.tokenize("a\u{85}b") == ["ab"])
        #expect(try Self.tokenize("a\u{2028}b") == ["a", "b"])
        #expect(try Self.tokenize("zero\u{200B}width") == ["zero", "##wi", "##dt", "##h"])
    }

    /// CPython's str.lower applies Final_Sigma within each whitespace token.
    @Test func finalSigma() throws {
        let basic = BasicTokenizer(doLowerCase: true)
        #expect(basic.tokenize("ΣΑΣ ΑΣ. Σ") == ["σας", "ας", ".", "σ"])
    }

    /// Accent stripping follows NFD + drop Mn, with canonical reordering of combining marks.
    @Test func accentsAndCanonicalOrder() throws {
        let basic = BasicTokenizer(doLowerCase: true)
        #expect(basic.nfd(PythonText.scalars("q\u{307}\u{323}")) == PythonText.scalars("q\u{323}\u{307}"))
        #expect(basic.tokenize("Café CAFE\u{301} \u{212B}") == ["cafe", "cafe", "a"])
        #expect(basic.tokenize("İ") == ["i"])
    }

    @Test func wordsOverOneHundredCodePointsAreUnknown() throws {
        #expect(try Self.tokenize(String(repeating: "a", count: 100)) != ["[UNK]"])
        #expect(try Self.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
    }

    @Test func pairsSplitAtTheLastSeparator() {
        #expect(PythonText.splitPair(PythonText.scalars("a ||| ||| b")).map { PythonText.string($0.first) } == "a |||")
        #expect(PythonText.splitPair(PythonText.scalars("a|||b")) == nil)
        #expect(PythonText.splitPair(PythonText.scalars("a\nb ||| c")) == nil)
    }

    /// -no_special_token on plain text past max_seq_len: the original's worker dies; we truncate.
    @Test func noSpecialTokenPlainTextIsTruncated() throws {
        let vocabulary = try Golden.requireVocabulary()
        let converter = FeatureConverter(
            tokenizer: FullTokenizer(vocabulary: vocabulary, doLowerCase: true), maxSeqLen: 5,
            maxPositionEmbeddings: 512, maskClsSep: false, noSpecialToken: true)
        let features = converter.convert(.texts(["one two three four five six"]))
        #expect(features.map(\.tokens) == [["[CLS]", "one", "two", "three", "[SEP]"]])
        #expect(features.first?.inputIds.count == 5)
    }

    @Test func emptyTextsAreSkippedAndEmptyBatchesGiveNothing() throws {
        let vocabulary = try Golden.requireVocabulary()
        let converter = FeatureConverter(
            tokenizer: FullTokenizer(vocabulary: vocabulary, doLowerCase: true), maxSeqLen: nil,
            maxPositionEmbeddings: 512, maskClsSep: false, noSpecialToken: false)
        #expect(converter.convert(.texts([])).isEmpty)
        #expect(converter.convert(.texts([""])).isEmpty)
        #expect(converter.convert(.tokenized([])).isEmpty)
        #expect(converter.convert(.texts(["", " "])).map(\.tokens) == [["[CLS]", "[SEP]"]])
    }
}

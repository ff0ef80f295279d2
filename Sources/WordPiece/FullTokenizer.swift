/// Port of `FullTokenizer` (bert/tokenization.py): `BasicTokenizer` then `WordpieceTokenizer`.
///
/// Immutable and `Sendable`: one instance can serve every worker thread.
public struct FullTokenizer: Sendable {
    /// The vocabulary word pieces come from.
    public let vocabulary: Vocabulary
    /// The basic (pre-WordPiece) tokenizer.
    public let basicTokenizer: BasicTokenizer
    /// The WordPiece tokenizer.
    public let wordpieceTokenizer: WordpieceTokenizer

    /// Creates a tokenizer; `doLowerCase` is false with `-cased_tokenization`.
    public init(vocabulary: Vocabulary, doLowerCase: Bool) {
        self.vocabulary = vocabulary
        basicTokenizer = BasicTokenizer(doLowerCase: doLowerCase)
        wordpieceTokenizer = WordpieceTokenizer(vocabulary: vocabulary)
    }

    /// Port of `FullTokenizer.tokenize`: the word pieces of `text`.
    public func tokenize(_ text: String) -> [String] {
        tokenizeToIds(text).map { vocabulary.token(at: $0) ?? "[UNK]" }
    }

    /// The ids of the word pieces of `text` (`convert_tokens_to_ids(tokenize(text))`).
    public func tokenizeToIds(_ text: String) -> [Int32] {
        tokenizeToIds(scalars: PythonText.scalars(text))
    }

    func tokenizeToIds(scalars: [UInt32]) -> [Int32] {
        var ids: [Int32] = []
        for token in basicTokenizer.tokenize(scalars: scalars) {
            wordpieceTokenizer.tokenize(word: token, into: &ids)
        }
        return ids
    }

    /// Port of `FullTokenizer.mark_unk_tokens`: tokens not in the vocabulary become `[UNK]`.
    public func markUnknownTokens(_ tokens: [String]) -> [String] {
        tokens.map { vocabulary.id(of: $0) == nil ? "[UNK]" : $0 }
    }
}

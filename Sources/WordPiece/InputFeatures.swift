/// Port of `InputFeatures` (bert/extract_features.py): one row of the encoder's input.
public struct InputFeatures: Sendable, Equatable {
    /// `[CLS] tokens_a [SEP] (tokens_b [SEP])`, unpadded (what `-show_tokens_to_client` sends).
    public var tokens: [String]
    /// Vocabulary ids of `tokens`, zero-padded to the sequence length.
    public var inputIds: [Int32]
    /// 1 for real tokens (0 for [CLS]/[SEP] with `-mask_cls_sep`), 0 for padding.
    public var inputMask: [Int32]
    /// 0 for the first segment and padding, 1 for the second segment.
    public var inputTypeIds: [Int32]

    /// Creates a feature row.
    public init(tokens: [String], inputIds: [Int32], inputMask: [Int32], inputTypeIds: [Int32]) {
        self.tokens = tokens
        self.inputIds = inputIds
        self.inputMask = inputMask
        self.inputTypeIds = inputTypeIds
    }
}

/// One request's texts: plain strings, or pre-tokenized lists (`is_tokenized` in the original).
public enum TextBatch: Sendable, Equatable {
    /// Plain strings; `"first ||| second"` is a sentence pair.
    case texts([String])
    /// Lists of tokens; the first `"|||"` token separates a pair. Tokens are not lower-cased or split.
    case tokenized([[String]])
}

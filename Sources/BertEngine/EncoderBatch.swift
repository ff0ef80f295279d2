/// One batch as the tokenizer produced it: flat row-major `[count, seqLen]` arrays, already padded
/// (to `max_seq_len`, or to the longest row when that is NONE), as extract_features.py
/// `convert_lst_to_features` lays them out.
public struct EncoderBatch: Sendable, Equatable {
    /// Number of sequences.
    public var count: Int
    /// Padded length of every sequence.
    public var seqLen: Int
    /// Word-piece ids, `[count * seqLen]`.
    public var inputIds: [Int32]
    /// 1 for tokens that are attended to and pooled, 0 for padding (and for [CLS]/[SEP] under
    /// `-mask_cls_sep`); it is also the attention mask.
    public var inputMask: [Int32]
    /// Segment ids (0 for the first sentence, 1 for the second of a pair).
    public var inputTypeIds: [Int32]

    public init(count: Int, seqLen: Int, inputIds: [Int32], inputMask: [Int32], inputTypeIds: [Int32]) {
        self.count = count
        self.seqLen = seqLen
        self.inputIds = inputIds
        self.inputMask = inputMask
        self.inputTypeIds = inputTypeIds
    }

    /// The sequences `rows` of this batch, as a batch of their own.
    func subBatch(_ rows: Range<Int>) -> EncoderBatch {
        let values = rows.lowerBound * seqLen..<rows.upperBound * seqLen
        return EncoderBatch(
            count: rows.count, seqLen: seqLen, inputIds: Array(inputIds[values]),
            inputMask: Array(inputMask[values]), inputTypeIds: Array(inputTypeIds[values]))
    }
}

/// What the encoder returns: row-major float32 values of `shape`, which is `[count, dim]`, or
/// `[count, seqLen, dim]` for `PoolingStrategy.none`.
public struct EncoderOutput: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

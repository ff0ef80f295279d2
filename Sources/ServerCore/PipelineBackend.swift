/// Turns the sequences of one (partial) job into word pieces and vectors.
///
/// The server creates one `SequenceEncoder` per worker thread, on that thread, and uses it only
/// there; the backend itself is shared read-only state (vocabulary, weights).
public protocol PipelineBackend: Sendable {
    /// Builds worker `index`'s encoder (its own scratch buffers).
    func makeEncoder(worker index: Int) throws -> any SequenceEncoder
}

/// One worker's encoder: used by one thread only.
public protocol SequenceEncoder: AnyObject {
    /// Encodes every sequence of `payload`, in order.
    /// - Returns: the word pieces of each sequence (`InputFeatures.tokens`) and the pooled
    ///   output, `[count, dim]` or `[count, seqLen, dim]` (NONE pooling) as float32.
    func encode(_ payload: EncodePayload) throws -> EncodedSequences
}

/// The result of encoding one batch.
public struct EncodedSequences: Sendable, Equatable {
    public var tokens: [[String]]
    public var shape: [Int]
    public var values: [Float]

    public init(tokens: [[String]], shape: [Int], values: [Float]) {
        self.tokens = tokens
        self.shape = shape
        self.values = values
    }
}

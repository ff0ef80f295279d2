import WordPiece

/// Turns the sequences of one (partial) job into word pieces and vectors, in two steps: the
/// backend tokenizes, an encoder computes.
///
/// A worker tokenizes a job on its own thread, or on a helper queue when the job waited behind the
/// one being encoded (`Worker`), so `tokenize` may run beside an encode. The server creates one
/// `SequenceEncoder` per worker, on the worker's thread, and uses it only there; the backend itself
/// is shared read-only state (vocabulary, weights).
public protocol PipelineBackend: Sendable {
    /// `convert_lst_to_features` for every sequence of `payload`, in order; thread-safe.
    func tokenize(_ payload: EncodePayload) -> TokenizedBatch
    /// Builds worker `index`'s encoder (its own scratch buffers).
    func makeEncoder(worker index: Int) throws -> any SequenceEncoder
}

/// One worker's encoder: used by one thread only.
public protocol SequenceEncoder: AnyObject {
    /// Encodes every sequence of `batch`, in order.
    /// - Returns: the word pieces of each sequence (`InputFeatures.tokens`) and the pooled
    ///   output, `[count, dim]` or `[count, seqLen, dim]` (NONE pooling) as float32.
    func encode(_ batch: TokenizedBatch) throws -> EncodedSequences
}

/// The sequences of one (partial) job as the backend's tokenizer left them.
public struct TokenizedBatch: Sendable, Equatable {
    public var features: [InputFeatures]
    public var count: Int { features.count }

    public init(features: [InputFeatures]) { self.features = features }
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

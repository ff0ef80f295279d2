/// Port of the sink's `pending_jobs` / `SinkJob` (bert_serving/server/__init__.py) as a state
/// machine without I/O: register a job, add partial results in any order, take finished jobs.
///
/// Jobs are keyed by an internal job number the ventilator assigns, so two clients sharing an
/// identity and a `req_id` never mix (the original keys by `identity#req_id`).
/// A value type owned by the sink thread.
public struct JobTable: Sendable {
    /// How the sink assembles results (`SinkJob.__init__` arguments).
    public struct Settings: Sendable, Equatable {
        public var withTokens: Bool
        public var maxSeqLenUnset: Bool
        public var maxPositionEmbeddings: Int
        public var fixedEmbedLength: Bool
        public init(withTokens: Bool, maxSeqLenUnset: Bool, maxPositionEmbeddings: Int, fixedEmbedLength: Bool) {
            self.withTokens = withTokens
            self.maxSeqLenUnset = maxSeqLenUnset
            self.maxPositionEmbeddings = maxPositionEmbeddings
            self.fixedEmbedLength = fixedEmbedLength
        }
    }

    /// A completed job: the embedding of every sequence in request order, or why it failed.
    public struct Finished: Sendable, Equatable {
        public let job: UInt64
        public let client: [UInt8]
        public let reqID: [UInt8]
        /// Sequences the job declared (`msg_len`).
        public let count: Int
        public let outcome: Outcome
    }

    public enum Outcome: Sendable, Equatable {
        /// `shape` is `[N, D]` (pooled) or `[N, T, D]` (NONE pooling); `tokens` is nil unless
        /// `show_tokens_to_client`.
        case embeddings(shape: [Int], values: [Float], tokens: [[String]]?)
        case failure(String)
    }

    struct Partial: Sendable {
        let partID: Int
        let shape: [Int]
        let values: [Float]
    }

    struct Job: Sendable {
        var client: [UInt8] = []
        var reqID: [UInt8] = []
        var checksum = 0
        var partials: [Partial] = []
        var tokens: [(partID: Int, tokens: [[String]])] = []
        var progressEmbeds = 0
        var progressTokens = 0
        var failure: String? = nil
    }

    public let settings: Settings
    private var jobs: [UInt64: Job] = [:]
    private var order: [UInt64] = []
    /// Failed jobs already answered: late partials of theirs are dropped, not re-registered.
    private var retired: Set<UInt64> = []

    public init(settings: Settings) { self.settings = settings }

    /// Number of jobs registered or partially received and not yet taken.
    public var pendingCount: Int { jobs.count }

    /// `(E, T, A)` of the original's `collect` log line.
    public func progress(_ job: UInt64) -> (embeds: Int, tokens: Int, checksum: Int) {
        let j = jobs[job]
        return (j?.progressEmbeds ?? 0, j?.progressTokens ?? 0, j?.checksum ?? 0)
    }

    private mutating func touch(_ job: UInt64) -> Bool {
        if retired.contains(job) { return false }
        if jobs[job] == nil {
            jobs[job] = Job()
            order.append(job)
        }
        return true
    }

    /// `ServerCmd.new_job`: the ventilator announces `count` sequences for `client`/`reqID`.
    public mutating func register(job: UInt64, client: [UInt8], reqID: [UInt8], count: Int) {
        guard touch(job) else { return }
        jobs[job]?.client = client
        jobs[job]?.reqID = reqID
        jobs[job]?.checksum = count
    }

    /// `add_embed`: rows `partID ..< partID + shape[0]` of the job.
    public mutating func addEmbeddings(job: UInt64, partID: Int, shape: [Int], values: [Float]) {
        guard touch(job), let rows = shape.first else { return }
        jobs[job]?.partials.append(Partial(partID: partID, shape: shape, values: values))
        jobs[job]?.progressEmbeds += rows
    }

    /// `add_token`: the word pieces of rows `partID ..< partID + tokens.count`.
    public mutating func addTokens(job: UInt64, partID: Int, tokens: [[String]]) {
        guard touch(job) else { return }
        jobs[job]?.tokens.append((partID, tokens))
        jobs[job]?.progressTokens += tokens.count
    }

    /// A worker (or the ventilator) could not compute part of the job: the job fails as a whole.
    public mutating func fail(job: UInt64, message: String) {
        guard touch(job) else { return }
        if jobs[job]?.failure == nil { jobs[job]?.failure = message }
    }

    /// `is_done` jobs (and failed registered jobs), removed from the table, in registration order.
    public mutating func takeFinished() -> [Finished] {
        var done: [Finished] = []
        var keep: [UInt64] = []
        for id in order {
            guard let j = jobs[id] else { continue }
            if j.checksum > 0, let failure = j.failure {
                done.append(Finished(job: id, client: j.client, reqID: j.reqID, count: j.checksum, outcome: .failure(failure)))
                jobs[id] = nil
                retired.insert(id)
                continue
            }
            let complete = j.checksum > 0 && j.progressEmbeds == j.checksum
                && (!settings.withTokens || j.progressTokens == j.checksum)
            if complete {
                done.append(Finished(job: id, client: j.client, reqID: j.reqID, count: j.checksum, outcome: assemble(j)))
                jobs[id] = nil
            } else {
                keep.append(id)
            }
        }
        order = keep
        return done
    }

    /// `SinkJob.result`: rows placed at their `partID`; NONE-pooling rows padded to
    /// `max_position_embeddings` when `max_seq_len` is NONE and trimmed back to the longest
    /// row unless `fixed_embed_length`.
    func assemble(_ j: Job) -> Outcome {
        guard let first = j.partials.first, first.shape.count >= 2 else {
            return .failure("internal error: no embeddings for the job")
        }
        let rowShape = Array(first.shape.dropFirst())
        let n = j.checksum
        let values: [Float]
        let shape: [Int]
        if rowShape.count == 1 {
            let d = rowShape[0]
            var out = [Float](repeating: 0, count: n * d)
            for p in j.partials {
                guard p.shape.count == 2, p.shape[1] == d, p.partID >= 0, p.partID + p.shape[0] <= n,
                      p.values.count == p.shape[0] * d else {
                    return .failure("internal error: partial result of shape \(p.shape) does not fit [\(n), \(d)]")
                }
                out.replaceSubrange(p.partID * d ..< (p.partID + p.shape[0]) * d, with: p.values)
            }
            values = out
            shape = [n, d]
        } else if rowShape.count == 2 {
            let d = rowShape[1]
            let allocT = settings.maxSeqLenUnset ? settings.maxPositionEmbeddings : rowShape[0]
            var effective = 0
            for p in j.partials {
                guard p.shape.count == 3, p.shape[2] == d, p.shape[1] <= allocT, p.partID >= 0,
                      p.partID + p.shape[0] <= n, p.values.count == p.shape[0] * p.shape[1] * d else {
                    return .failure("internal error: partial result of shape \(p.shape) does not fit [\(n), \(allocT), \(d)]")
                }
                effective = max(effective, p.shape[1])
            }
            let t = settings.maxSeqLenUnset && !settings.fixedEmbedLength ? effective : allocT
            var out = [Float](repeating: 0, count: n * t * d)
            for p in j.partials {
                let pt = p.shape[1]
                for r in 0 ..< p.shape[0] {
                    let dst = ((p.partID + r) * t) * d
                    let src = r * pt * d
                    out.replaceSubrange(dst ..< dst + pt * d, with: p.values[src ..< src + pt * d])
                }
            }
            values = out
            shape = [n, t, d]
        } else {
            return .failure("internal error: unexpected result rank \(first.shape.count)")
        }
        var tokens: [[String]]? = nil
        if settings.withTokens {
            // `_insert` keeps partial token lists sorted by partID; chained in that order.
            tokens = j.tokens.sorted { $0.partID < $1.partID }.flatMap { $0.tokens }
        }
        return .embeddings(shape: shape, values: values, tokens: tokens)
    }
}

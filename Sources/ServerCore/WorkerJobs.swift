import Dispatch
import Synchronization
import ZeroMQ

/// One (partial) job as a worker encodes it.
enum WorkerJob: Sendable {
    /// Sequences to encode: the job's key frame and its sequences as the backend tokenized them.
    case encode(key: [UInt8], batch: TokenizedBatch)
    /// A part that cannot be encoded (its payload did not parse): the sink answers it with
    /// `message`, counting `count` sequences.
    case fail(key: [UInt8], message: String, count: Int)
}

/// One (partial) job as a worker received and checked it, before tokenization.
enum ReceivedJob: Sendable {
    case encode(key: [UInt8], payload: EncodePayload)
    case fail(key: [UInt8], message: String, count: Int)

    /// The job with its sequences tokenized on the calling thread.
    func tokenized(by backend: any PipelineBackend) -> WorkerJob {
        switch self {
        case .encode(let key, let payload): .encode(key: key, batch: backend.tokenize(payload))
        case .fail(let key, let message, let count): .fail(key: key, message: message, count: count)
        }
    }
}

/// A job received while the one before it is encoded, tokenized meanwhile on `queue`.
final class JobAhead: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let job = Mutex<WorkerJob?>(nil)

    init(_ received: ReceivedJob, backend: any PipelineBackend, queue: DispatchQueue) {
        queue.async { [self] in
            let tokenized = received.tokenized(by: backend)
            job.withLock { $0 = tokenized }
            done.signal()
        }
    }

    /// Blocks until the tokenization is done. Called once.
    func wait() -> WorkerJob {
        done.wait()
        return job.withLock { $0! }
    }
}

/// A worker's ventilator sockets, read as the original's poll loop reads them: each socket that
/// a poll found readable gives one message, in socket order (0, the priority lane, first), before
/// the next poll. Used by one thread only, like its sockets.
struct Inbox {
    private let receivers: [Socket]
    private let poller: Poller
    /// Sockets of the last poll not read yet.
    private var round: [Int] = []

    init(_ receivers: [Socket]) {
        self.receivers = receivers
        poller = Poller(receivers)
    }

    /// The next message and the index of its socket; nil when nothing arrived within the timeout
    /// (-1: wait for ever, 0: only what is already there).
    mutating func next(timeoutMilliseconds: Int) throws(ZMQError) -> ([[UInt8]], Int)? {
        if round.isEmpty {
            let readable = try poller.poll(timeoutMilliseconds: timeoutMilliseconds)
            round = readable.indices.filter { readable[$0] }
            if round.isEmpty { return nil }
        }
        let i = round.removeFirst()
        return (try receivers[i].receive(), i)
    }
}

import Dispatch
import Synchronization

/// The jobs a worker's receiving thread has tokenized and its encoding thread has not taken yet:
/// a queue of at most `capacity`, so that the receiver tokenizes the next job while the encoder
/// computes the current one, but never pulls more from the ventilator than it can soon encode.
/// One producer and one consumer; either side may close it, which wakes the other.
final class JobHandoff: Sendable {
    private struct State {
        var queue: [WorkerJob] = []
        var closed = false
    }

    private let state = Mutex(State())
    /// Free places in the queue.
    private let places: DispatchSemaphore
    /// Queued jobs (and one extra signal once closed).
    private let queued = DispatchSemaphore(value: 0)

    init(capacity: Int) {
        places = DispatchSemaphore(value: max(1, capacity))
    }

    /// Blocks until there is a place, then queues `job`.
    /// - Returns: false once the handoff is closed (`job` is dropped).
    func put(_ job: WorkerJob) -> Bool {
        places.wait()
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.queue.append(job)
            return true
        }
        if accepted { queued.signal() } else { places.signal() }
        return accepted
    }

    /// Blocks until a job is queued and takes it, oldest first.
    /// - Returns: nil once the handoff is closed and empty.
    func take() -> WorkerJob? {
        queued.wait()
        let job = state.withLock { s -> WorkerJob? in s.queue.isEmpty ? nil : s.queue.removeFirst() }
        if job != nil { places.signal() } else { queued.signal() }
        return job
    }

    /// Wakes both sides: `put` refuses from now on, `take` returns what is left, then nil.
    func close() {
        state.withLock { $0.closed = true }
        queued.signal()
        places.signal()
    }
}

/// One (partial) job on its way from a worker's receiving thread to its encoding thread.
enum WorkerJob: Sendable {
    /// Sequences to encode: the job's key frame and its sequences as the backend tokenized them.
    case encode(key: [UInt8], batch: TokenizedBatch)
    /// A part that cannot be encoded (its payload did not parse): the sink answers it with
    /// `message`, counting `count` sequences.
    case fail(key: [UInt8], message: String, count: Int)
}

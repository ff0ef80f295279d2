import Synchronization

/// Jobs already answered with an error (a part failed, or `-request_timeout` passed): their
/// remaining parts are skipped by the workers instead of computing vectors nobody receives.
///
/// Written by the sink, read by every worker; holds the most recent `capacity` jobs, so a part
/// that waited longer than that many cancellations is computed and then dropped by the sink
/// (which never answers a job twice).
final class CancelledJobs: Sendable {
    private struct State {
        var members: Set<UInt64> = []
        /// Insertion order, oldest first from `head`.
        var order: [UInt64] = []
        var head = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 65_536) { self.capacity = max(1, capacity) }

    func cancel(_ job: UInt64) {
        state.withLock { s in
            guard s.members.insert(job).inserted else { return }
            s.order.append(job)
            if s.members.count > capacity {
                s.members.remove(s.order[s.head])
                s.head += 1
                // Compact once the forgotten prefix dominates, so `order` stays O(capacity).
                if s.head > capacity {
                    s.order.removeFirst(s.head)
                    s.head = 0
                }
            }
        }
    }

    func isCancelled(_ job: UInt64) -> Bool { state.withLock { $0.members.contains(job) } }

    var count: Int { state.withLock { $0.members.count } }
}

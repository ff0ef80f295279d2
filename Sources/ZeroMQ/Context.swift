import CZeroMQ
import Synchronization

/// A libzmq context: owns the I/O threads and the `inproc://` namespace.
///
/// Thread-safe; share one per server. Sockets keep their context alive; the context is
/// terminated (`zmq_ctx_term`) when the last reference goes away, which waits for all its
/// sockets to be closed.
public final class Context: @unchecked Sendable {
    // @unchecked: libzmq documents contexts as thread safe ("zmq_ctx_*: ... Individual ØMQ
    // sockets are not thread safe ... contexts are"), and `handle` is never reassigned.
    let handle: UnsafeMutableRawPointer
    private let terminated = Mutex(false)

    /// Creates a context (`zmq_ctx_new`).
    /// - Throws: `ZMQError` when libzmq cannot allocate one (e.g. too many open files).
    public init() throws(ZMQError) {
        guard let ctx = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        handle = ctx
    }

    /// Makes every blocking call on this context's sockets fail with `ETERM`
    /// (`zmq_ctx_shutdown`), so each owning thread can close its sockets and exit.
    public func shutdown() {
        _ = zmq_ctx_shutdown(handle)
    }

    /// Terminates the context (`zmq_ctx_term`) once every socket of it is closed, after their
    /// linger periods have flushed what they still had to send. Idempotent; also run by deinit.
    /// Call it from a thread that owns no open socket of this context, or it blocks forever.
    public func terminate() {
        let first = terminated.withLock { done -> Bool in
            if done { return false }
            done = true
            return true
        }
        guard first else { return }
        // zmq_ctx_term: "blocks until ... all sockets open within context have been closed";
        // it may be interrupted by a signal (EINTR), in which case it must be called again.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    deinit { terminate() }
}

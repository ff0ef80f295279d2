import CZeroMQ

/// A failed libzmq call: the operation, `zmq_errno()` read right after it, and `zmq_strerror`.
public struct ZMQError: Error, Equatable, CustomStringConvertible {
    /// The libzmq function (and its argument, e.g. the endpoint) that failed.
    public let operation: String
    /// `zmq_errno()` immediately after the failure.
    public let errno: Int32
    /// `zmq_strerror(errno)`.
    public let message: String

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
        self.message = String(cString: zmq_strerror(errno))
    }

    /// Reads `zmq_errno()` now; call it right after the failing C call.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, errno: zmq_errno())
    }

    /// The context was shut down or terminated (`ETERM`): the owning loop should end.
    public var isTerminated: Bool { errno == ETERM }
    /// A timeout or a non-blocking call that would block (`EAGAIN`).
    public var isTimeout: Bool { errno == EAGAIN }

    public var description: String { "\(operation): \(message) (errno \(errno))" }
}

/// The libzmq library version, e.g. `4.3.4`.
public func zmqVersionString() -> String {
    var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
}

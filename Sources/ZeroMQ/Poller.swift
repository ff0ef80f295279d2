import CZeroMQ

/// `zmq_poll` over a fixed list of sockets, for readability.
///
/// Holds its sockets; like them it belongs to one thread.
public struct Poller {
    private let sockets: [Socket]

    public init(_ sockets: [Socket]) { self.sockets = sockets }

    /// Waits until at least one socket is readable or `timeoutMilliseconds` passed (-1: forever).
    /// - Returns: one flag per socket, in the order given at init; all false on timeout.
    /// - Throws: `ZMQError` (`ETERM` when the context shuts down). `EINTR` returns no events.
    public func poll(timeoutMilliseconds: Int) throws(ZMQError) -> [Bool] {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count)
        for s in sockets {
            items.append(zmq_pollitem_t(socket: try s.raw("zmq_poll"), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeoutMilliseconds) }
        if rc < 0 {
            let e = zmq_errno()
            if e == EINTR { return Array(repeating: false, count: sockets.count) }
            throw ZMQError(operation: "zmq_poll", errno: e)
        }
        return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
    }
}

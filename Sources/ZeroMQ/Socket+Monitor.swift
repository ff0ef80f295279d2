import CZeroMQ

/// One event read from a socket monitor (`zmq_socket_monitor`): what happened and on which endpoint.
public struct SocketEvent: Sendable, Equatable {
    /// `ZMQ_EVENT_CONNECTED`, `ZMQ_EVENT_DISCONNECTED`, …
    public let event: Int32
    /// The event's value (a file descriptor, an errno or an interval, depending on the event).
    public let value: UInt32
    /// The endpoint the event is about, e.g. `tcp://127.0.0.1:5555`.
    public let endpoint: String

    /// Decodes a monitor message: frame 0 holds a native-endian 16-bit event and 32-bit value
    /// (zmq_socket_monitor(3), version 1 format), frame 1 the endpoint. Nil for anything else.
    public init?(message: [[UInt8]]) {
        guard message.count == 2, message[0].count == 6 else { return nil }
        (event, value) = message[0].withUnsafeBytes { raw in
            (Int32(raw.loadUnaligned(fromByteOffset: 0, as: UInt16.self)), raw.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        }
        endpoint = String(decoding: message[1], as: UTF8.self)
    }
}

extension Socket {
    /// Publishes this socket's `events` (a mask of `ZMQ_EVENT_*`) on a `PAIR` socket bound at
    /// the `inproc://` `endpoint` (`zmq_socket_monitor`); connect a `.pair` socket there to read them.
    public func monitor(_ endpoint: String, events: Int32) throws(ZMQError) {
        let h = try raw("zmq_socket_monitor")
        if zmq_socket_monitor(h, endpoint, events) != 0 { throw ZMQError.last("zmq_socket_monitor(\(endpoint))") }
    }
}

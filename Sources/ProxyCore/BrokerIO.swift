/// What the broker's state machine asks of its sockets; `Broker` implements it with ZeroMQ,
/// the tests with a recorder.
public protocol BrokerIO {
    /// Queues `frames` on backend `index`'s request socket without blocking.
    /// - Returns: false when it could not be queued (no live connection to that backend).
    mutating func send(toBackend index: Int, _ frames: [[UInt8]]) -> Bool
    /// Publishes a reply `[identity, ...]` for `client` on the client-facing result socket.
    mutating func reply(to client: [UInt8], _ frames: [[UInt8]], isConfig: Bool)
}

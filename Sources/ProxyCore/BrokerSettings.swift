/// The proxy's timing and identity, fixed at start.
public struct BrokerSettings: Sendable, Equatable {
    /// Seconds between two health probes (SHOW_STATUS with the probe identity) of one backend.
    public var healthInterval: Double = 1
    /// A probe unanswered this long marks its backend down.
    public var healthTimeout: Double = 2
    /// Seconds a backend has to answer one forwarded request; also how long a request may wait
    /// for a healthy backend when none is up.
    public var requestTimeout: Double = 60
    /// Tries per request: the first, then one retry on another backend. After that the client
    /// gets an error reply.
    public var maxAttempts = 2
    /// The proxy's own `-port` / `-port_out`, reported in SHOW_CONFIG as a single server reports its ports.
    public var port: Int
    public var portOut: Int

    public init(port: Int, portOut: Int) {
        self.port = port
        self.portOut = portOut
    }
}

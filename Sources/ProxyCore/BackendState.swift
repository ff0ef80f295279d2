import ServerCore

/// What the broker knows about one backend: health, load and counters. Owned by `BrokerState`.
public struct BackendState: Sendable {
    public let address: BackendAddress
    /// Healthy: its latest probe was answered in time and its connection is up. Requests go
    /// only to healthy backends; a backend starts unhealthy until its first probe is answered.
    public internal(set) var isUp = false
    /// Requests forwarded and not yet answered, and the sequences in them (the balancing weight).
    public internal(set) var inFlight = 0
    public internal(set) var inFlightTexts = 0
    /// Requests forwarded to it (first tries and retries) and the sequences in them.
    public internal(set) var requests = 0
    public internal(set) var sequences = 0
    /// Replies it sent that went on to a client.
    public internal(set) var replies = 0
    /// Requests taken away from it: it went down or missed the deadline while they were in flight.
    public internal(set) var requestsLost = 0
    /// Up -> down transitions.
    public internal(set) var downTransitions = 0
    /// When it last went up or down (broker clock, seconds), nil before the first change.
    public internal(set) var lastChange: Double?
    /// Why it is down, for logs and SHOW_STATUS.
    public internal(set) var downReason = "not probed yet"
    /// Round trip of the latest answered probe (seconds).
    public internal(set) var probeRoundTrip: Double?
    /// Its latest SHOW_STATUS body (from the probe), parsed.
    public internal(set) var status: PyJSON?
    /// When its latest probe was answered.
    public internal(set) var statusTime: Double?

    /// The probe in flight: its req_id and when it was sent.
    var probe: (reqID: [UInt8], sentAt: Double)?
    /// When the next probe is due.
    var nextProbe: Double = 0

    init(address: BackendAddress) { self.address = address }
}

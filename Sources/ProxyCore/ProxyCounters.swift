/// Proxy-wide counters (per-backend ones live in `BackendState`).
public struct ProxyCounters: Sendable, Equatable {
    /// Encode requests from clients (everything but the three commands the proxy answers itself).
    public var requests = 0
    /// TERMINATION, SHOW_CONFIG and SHOW_STATUS requests.
    public var commands = 0
    /// Backend replies passed on to clients.
    public var replies = 0
    /// Second tries after a backend went down or missed the deadline.
    public var retries = 0
    /// Tries that missed `-request_timeout`.
    public var deadlineMisses = 0
    /// Error replies the proxy made itself (tries exhausted, no healthy backend in time).
    public var errorReplies = 0
    /// Backend replies to tries already given up, dropped.
    public var lateReplies = 0
    /// Client messages without a usable identity / req_id, dropped.
    public var malformed = 0
    /// Probes unanswered in time or answered with something else.
    public var probesFailed = 0

    public init() {}
}

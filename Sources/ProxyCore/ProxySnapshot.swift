import Foundation

/// A copy of the broker's counters for the HTTP thread (`/metrics`, `/ready`), published by the
/// broker after each loop turn.
public struct ProxySnapshot: Sendable {
    public var backends: [BackendState] = []
    public var counters = ProxyCounters()
    public var inFlight = 0
    public var waiting = 0
    /// Replies waiting for their client's subscription.
    public var heldReplies = 0
    /// Add to a broker-clock time to get Unix time (seconds).
    public var unixOffset = 0.0
    /// Broker clock when the proxy started.
    public var startedAt = 0.0

    public init() {}

    /// At least one backend is healthy.
    public var isReady: Bool { backends.contains(where: \.isUp) }

    /// The Prometheus text exposition (format 0.0.4) of the proxy's metrics, `bss_proxy_*`.
    public func prometheusText() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP bss_proxy_\(name) \(help)\n# TYPE bss_proxy_\(name) \(type)\n"
            for s in samples { out += "bss_proxy_\(name)\(s.labels) \(s.value)\n" }
        }
        func perBackend(_ value: (BackendState) -> String) -> [(labels: String, value: String)] {
            backends.map { (labels: "{backend=\"\(Self.escape($0.address.description))\"}", value: value($0)) }
        }
        func one(_ v: Int) -> [(labels: String, value: String)] { [(labels: "", value: String(v))] }

        family("backend_up", "gauge", "1 while the backend answers health probes and is connected, else 0.",
               perBackend { $0.isUp ? "1" : "0" })
        family("backend_requests_total", "counter", "Requests forwarded to the backend (first tries and retries).",
               perBackend { String($0.requests) })
        family("backend_sequences_total", "counter", "Sequences in the requests forwarded to the backend.",
               perBackend { String($0.sequences) })
        family("backend_replies_total", "counter", "Backend replies passed on to clients.", perBackend { String($0.replies) })
        family("backend_requests_lost_total", "counter", "Requests taken from the backend because it went down or missed the deadline.",
               perBackend { String($0.requestsLost) })
        family("backend_in_flight", "gauge", "Requests forwarded to the backend and not answered yet.", perBackend { String($0.inFlight) })
        family("backend_down_transitions_total", "counter", "Times the backend went from up to down.",
               perBackend { String($0.downTransitions) })
        family("backend_last_change_timestamp_seconds", "gauge", "Unix time of the backend's latest up/down change (0: none yet).",
               perBackend { $0.lastChange.map { Self.number($0 + unixOffset) } ?? "0" })
        family("backend_probe_round_trip_seconds", "gauge", "Round trip of the backend's latest answered health probe.",
               perBackend { $0.probeRoundTrip.map(Self.number) ?? "NaN" })
        family("requests_total", "counter", "Encode requests received from clients.", one(counters.requests))
        family("commands_total", "counter", "SHOW_CONFIG, SHOW_STATUS and TERMINATION requests received.", one(counters.commands))
        family("replies_total", "counter", "Backend replies passed on to clients.", one(counters.replies))
        family("retries_total", "counter", "Requests sent to a second backend after the first went down or missed the deadline.", one(counters.retries))
        family("deadline_misses_total", "counter", "Tries that missed -request_timeout.", one(counters.deadlineMisses))
        family("error_replies_total", "counter", "Error replies made by the proxy (tries exhausted, no healthy backend).", one(counters.errorReplies))
        family("late_replies_dropped_total", "counter", "Backend replies to tries already given up, dropped.", one(counters.lateReplies))
        family("malformed_total", "counter", "Client messages without identity or req_id, dropped.", one(counters.malformed))
        family("probes_failed_total", "counter", "Health probes unanswered in time or answered wrongly.", one(counters.probesFailed))
        family("in_flight", "gauge", "Requests forwarded and not answered yet.", one(inFlight))
        family("waiting", "gauge", "Requests waiting for a healthy backend.", one(waiting))
        family("held_replies", "gauge", "Replies waiting for their client's subscription.", one(heldReplies))
        family("backends_up", "gauge", "Healthy backends.", one(backends.filter(\.isUp).count))
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ d: Double) -> String {
        d.isFinite ? String(d) : (d.isNaN ? "NaN" : (d < 0 ? "-Inf" : "+Inf"))
    }
}

import Prometheus

/// The `/metrics` collectors (Prometheus text format through swift-prometheus).
///
/// Thread-safe: the registry and its collectors are `Sendable` and lock internally.
public final class HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let sequences: Counter
    private let tokens: Counter
    private let batchSize: ValueHistogram
    private let backendInFlight: Gauge
    private let httpInFlight: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        sequences = registry.makeCounter(descriptor: .init(namespace: "bss", metricName: "encoded_sequences", unitName: "total", helpText: "Sequences encoded through the HTTP front."))
        tokens = registry.makeCounter(descriptor: .init(namespace: "bss", metricName: "prompt_tokens", unitName: "total", helpText: "Tokens counted for /v1/embeddings usage (and /encode when the server shows tokens)."))
        batchSize = registry.makeValueHistogram(
            descriptor: .init(namespace: "bss", metricName: "request_batch_size", unitName: "sequences", helpText: "Sequences per encode request."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
        backendInFlight = registry.makeGauge(descriptor: .init(namespace: "bss", metricName: "bridge_queue_depth", unitName: "requests", helpText: "Requests handed to the ZeroMQ bridge and not yet answered."))
        httpInFlight = registry.makeGauge(descriptor: .init(namespace: "bss", metricName: "http_in_flight", unitName: "requests", helpText: "HTTP requests being served."))
        // Create the label sets scrapers expect to see from the start.
        for route in ["/encode", "/v1/embeddings"] {
            _ = latency(route: route)
        }
    }

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    func latency(route: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "bss", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "HTTP request latency by route."),
            labels: [("route", route)], buckets: Self.latencyBuckets)
    }

    func backendLatency(kind: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "bss", subsystem: "bridge", metricName: "round_trip", unitName: "seconds", helpText: "ZeroMQ round trip through the server pipeline, by command."),
            labels: [("kind", kind)], buckets: Self.latencyBuckets)
    }

    /// Counts one answered HTTP request.
    func request(route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "bss", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests by route and status code."),
            labels: [("route", route), ("code", String(status))]
        ).increment()
        latency(route: route).record(duration)
    }

    /// Counts one error by kind (`bad_request`, `too_many_connections`, `payload_too_large`, `limit_exceeded`,
    /// `backend_timeout`, `backend_unavailable`, `server_error`, `not_found`).
    public func error(kind: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "bss", subsystem: "http", metricName: "errors", unitName: "total", helpText: "HTTP errors by kind."),
            labels: [("kind", kind)]
        ).increment()
    }

    func encoded(sequences n: Int) {
        sequences.increment(by: Int64(n))
        batchSize.record(Double(n))
    }

    func counted(tokens n: Int) { tokens.increment(by: Int64(n)) }

    /// Times one call into the backend and keeps the queue-depth gauge.
    func measureBackend<T>(kind: String, _ body: () async throws(BackendError) -> T) async throws(BackendError) -> T {
        backendInFlight.increment()
        let start = ContinuousClock.now
        defer {
            backendInFlight.decrement()
            backendLatency(kind: kind).record(ContinuousClock.now - start)
        }
        return try await body()
    }

    func httpStarted() { httpInFlight.increment() }
    func httpFinished() { httpInFlight.decrement() }

    /// The exposition text.
    public func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

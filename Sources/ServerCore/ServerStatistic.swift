/// Reference point of `ServerStatistic.monotonicSeconds`.
private let statisticEpoch = ContinuousClock.now

/// Port of `ServerStatistic` (bert_serving/server/__init__.py): request counters the ventilator
/// updates for every well-formed request and reports as SHOW_STATUS `statistic`.
///
/// A value type owned by the ventilator thread.
public struct ServerStatistic: Sendable {
    private var histClient = CappedHistogram<Int>(capacity: 500, asDouble: { Double($0) })
    private var histMsgLen: [Int: Int] = [:]
    private var msgLenOrder: [Int] = []
    private var clientLastActiveTime = CappedHistogram<Double>(capacity: 500, asDouble: { $0 })
    private var numDataReq = 0
    private var numSysReq = 0
    private var numTotalSeq = 0
    private var lastReqTime: Double
    private var lastTwoReqInterval: [Double] = []
    private let numLastTwoReq = 200
    private let clock: @Sendable () -> Double

    /// - Parameter clock: seconds on a monotonic clock (`time.perf_counter`).
    public init(clock: @escaping @Sendable () -> Double = ServerStatistic.monotonicSeconds) {
        self.clock = clock
        lastReqTime = clock()
    }

    /// `time.perf_counter()`.
    public static func monotonicSeconds() -> Double {
        let d = statisticEpoch.duration(to: .now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The identity of `bert-serving-healthcheck` (the Docker HEALTHCHECK probe): its requests are
    /// answered but left out of the statistics, so health probes do not inflate the client counts.
    public static let probeIdentity: [UInt8] = Array("bert-serving-healthcheck".utf8)

    /// `update(request)`; requests of `probeIdentity` are not counted.
    public mutating func update(_ request: ClientRequest) {
        if request.client == Self.probeIdentity { return }
        histClient.set(request.client, (histClient[request.client] ?? 0) + 1)
        if request.command != nil {
            numSysReq += 1
        } else {
            let msgLen = request.msgLen ?? 0
            if histMsgLen[msgLen] == nil { msgLenOrder.append(msgLen) }
            histMsgLen[msgLen, default: 0] += 1
            // Saturating: a digit-only msg_len beyond Int arrives as Int.max (Python's int is unbounded).
            let (sum, overflow) = numTotalSeq.addingReportingOverflow(msgLen)
            numTotalSeq = overflow ? Int.max : sum
            numDataReq += 1
            let tmp = clock()
            clientLastActiveTime.set(request.client, tmp)
            if lastTwoReqInterval.count < numLastTwoReq {
                lastTwoReqInterval.append(tmp - lastReqTime)
            } else {
                lastTwoReqInterval.removeFirst()
            }
            lastReqTime = tmp
        }
    }

    /// `value`: the `statistic` object of SHOW_STATUS, keys in the original's order.
    public var value: PyJSON {
        func minMaxAvg(_ name: String, _ stat: [Double], avg: Double? = nil, json: (Double) -> PyJSON) -> [(String, PyJSON)] {
            guard let mn = stat.min(), let mx = stat.max() else { return [] }
            let a = avg ?? stat.reduce(0, +) / Double(stat.count)
            return [
                ("avg_\(name)", .double(a)),
                ("min_\(name)", json(mn)),
                ("max_\(name)", json(mx)),
                ("num_min_\(name)", .int(stat.filter { $0 == mn }.count)),
                ("num_max_\(name)", .int(stat.filter { $0 == mx }.count)),
            ]
        }
        let now = clock()
        let numActive = clientLastActiveTime.values.filter { now - $0 < 180 }.count
        var avgMsgLen: Double? = nil
        if !histMsgLen.isEmpty {
            let total = histMsgLen.reduce(0) { $0 + $1.key * $1.value }
            avgMsgLen = Double(total) / Double(histMsgLen.values.reduce(0, +))
        }
        var items: [(String, PyJSON)] = [
            ("num_data_request", .int(numDataReq)),
            ("num_total_seq", .int(numTotalSeq)),
            ("num_sys_request", .int(numSysReq)),
            ("num_total_request", .int(numDataReq + numSysReq)),
            ("num_total_client", .int(histClient.totalSize())),
            ("num_active_client", .int(numActive)),
        ]
        items += histClient.statMap("request_per_client") { .int($0) }
        items += minMaxAvg("size_per_request", msgLenOrder.map(Double.init), avg: avgMsgLen) { .int(Int($0)) }
        items += minMaxAvg("last_two_interval", lastTwoReqInterval) { .double($0) }
        items += minMaxAvg("request_per_second", lastTwoReqInterval.map { 1 / $0 }) { .double($0) }
        return .object(items)
    }
}

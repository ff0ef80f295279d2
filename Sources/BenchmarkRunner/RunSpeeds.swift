/// The speeds of one run, computed as benchmark.py does.
public struct RunSpeeds: Sendable, Equatable {
    /// `int(mean(clients_speed))`.
    public var average: Int
    /// `int(max(clients_speed))`.
    public var maximum: Int
    /// `int(min(clients_speed))`.
    public var minimum: Int

    /// - Parameters:
    ///   - batchSize: `client_batch_size`.
    ///   - clientTimes: per client, the seconds of each `encode` in order.
    /// - Returns: nil when there is no client or no timing.
    public init?(batchSize: Int, clientTimes: [[Double]]) {
        var speeds: [Double] = []
        for times in clientTimes {
            guard let average = Self.averageTime(times), average > 0 else { return nil }
            speeds.append(Double(batchSize) / average)
        }
        guard let maximum = speeds.max(), let minimum = speeds.min() else { return nil }
        let mean = speeds.reduce(0, +) / Double(speeds.count)
        guard let a = Self.truncated(mean), let hi = Self.truncated(maximum), let lo = Self.truncated(minimum) else {
            return nil
        }
        self.average = a
        self.maximum = hi
        self.minimum = lo
    }

    /// `mean(time_all[2:])`: the first two `encode`s are warm-up. With two or fewer the original
    /// takes the mean of nothing (NaN) and crashes on `int(nan)`; we average all of them.
    public static func averageTime(_ times: [Double]) -> Double? {
        let used = times.count > 2 ? Array(times.dropFirst(2)) : times
        guard !used.isEmpty else { return nil }
        return used.reduce(0, +) / Double(used.count)
    }

    /// Python `int(x)`: towards zero; nil for NaN / infinity (where Python raises).
    static func truncated(_ value: Double) -> Int? {
        guard value.isFinite, abs(value) < 9.0e18 else { return nil }
        return Int(value.rounded(.towardZero))
    }
}

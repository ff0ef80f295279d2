/// Port of `CappedHistogram` (bert_serving/server/helper.py): a dict capped at `capacity` keys
/// that evicts the least recently set key into aggregate statistics.
struct CappedHistogram<Value: Comparable & Sendable>: Sendable {
    private(set) var keys: [[UInt8]] = []  // insertion order, most recently set last (OrderedDict)
    private(set) var cache: [[UInt8]: Value] = [:]
    let capacity: Int
    private var baseBins = 0
    private var baseCount: Double = 0
    private var baseMin: Value? = nil  // Python starts at float('inf')
    private var minCount = 0
    private var baseMax: Value? = nil  // Python starts at 0
    private var maxCount = 0
    private let asDouble: @Sendable (Value) -> Double

    init(capacity: Int, asDouble: @escaping @Sendable (Value) -> Double) {
        self.capacity = capacity
        self.asDouble = asDouble
    }

    subscript(key: [UInt8]) -> Value? { cache[key] }

    /// `__setitem__`: moves `key` to the end, evicting the oldest key beyond capacity.
    mutating func set(_ key: [UInt8], _ value: Value) {
        if cache[key] != nil, let i = keys.firstIndex(of: key) { keys.remove(at: i) }
        keys.append(key)
        cache[key] = value
        if keys.count > capacity { evict() }
    }

    var values: [Value] { keys.compactMap { cache[$0] } }
    func totalSize() -> Int { baseBins + keys.count }

    private mutating func evict() {
        let key = keys.removeFirst()
        guard let val = cache.removeValue(forKey: key) else { return }
        baseBins += 1
        baseCount += asDouble(val)
        if baseMin.map({ val < $0 }) ?? true {
            baseMin = val
            minCount = 1
        } else if val == baseMin {
            minCount += 1
        }
        if baseMax.map({ val > $0 }) ?? true {
            baseMax = val
            maxCount = 1
        } else if val == baseMax {
            maxCount += 1
        }
    }

    /// `get_stat_map(name)`: avg/min/max/num_min/num_max over live and evicted keys.
    func statMap(_ name: String, json: (Value) -> PyJSON) -> [(String, PyJSON)] {
        let counts = values
        guard let liveMin = counts.min(), let liveMax = counts.max() else { return [] }
        let avg = (baseCount + counts.reduce(0) { $0 + asDouble($1) }) / Double(baseBins + counts.count)
        var minV = liveMin, maxV = liveMax
        var numMin = 0, numMax = 0
        // base_min is +inf until something was evicted; base_max is 0.
        if let bm = baseMin, bm <= minV { minV = bm; numMin += minCount }
        if baseMin.map({ $0 >= minV }) ?? true { numMin += counts.filter { $0 == minV }.count }
        if let bx = baseMax, bx >= maxV { maxV = bx; numMax += maxCount }
        if baseMax.map({ $0 <= maxV }) ?? true { numMax += counts.filter { $0 == maxV }.count }
        return [
            ("avg_\(name)", .double(avg)),
            ("min_\(name)", json(minV)),
            ("max_\(name)", json(maxV)),
            ("num_min_\(name)", .int(numMin)),
            ("num_max_\(name)", .int(numMax)),
        ]
    }
}

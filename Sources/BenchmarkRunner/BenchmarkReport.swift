/// The text the original writes: the speed line per run and the `.result` file block per experiment.
public enum BenchmarkReport {
    /// `'benchmark-%d%s.result' % (args.num_worker, '-fp16' if args.fp16 else '')`, in the
    /// working directory, opened for appending.
    public static func resultFileName(numWorker: Int, fp16: Bool) -> String {
        "benchmark-\(numWorker)\(fp16 ? "-fp16" : "").result"
    }

    /// `'avg speed: %d\tmax speed: %d\tmin speed: %d'`.
    public static func speedLine(_ speeds: RunSpeeds) -> String {
        "avg speed: \(speeds.average)\tmax speed: \(speeds.maximum)\tmin speed: \(speeds.minimum)"
    }

    /// One experiment's block, appended to the result file once all its values ran:
    /// a markdown table (value, samples/s) and two Python-list lines for plotting.
    /// - Parameters:
    ///   - name: the experiment (`client_batch_size`).
    ///   - rows: each run's value label and average speed, in run order.
    public static func resultBlock(name: String, rows: [(label: String, speed: Int)]) -> String {
        var text = "\n|`\(name)`\t|samples/s|\n|---|---|\n"
        for row in rows { text += "|\(row.label)\t|\(row.speed)|\n" }
        let values = "[" + rows.map(\.label).joined(separator: ", ") + "]"
        let speeds = "[" + rows.map { String($0.speed) }.joined(separator: ", ") + "]"
        text += "\n\(name) = \(values)\nspeed = \(speeds)\n"
        return text
    }
}

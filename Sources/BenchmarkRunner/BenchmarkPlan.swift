import ArgparseCompat

/// What the benchmark knows about the model before starting any server: enough to skip
/// experiment values the model cannot run (the original hangs on them).
public struct ModelLimits: Sendable, Equatable {
    /// `num_hidden_layers`.
    public var layers: Int
    /// `max_position_embeddings`.
    public var maxPositionEmbeddings: Int

    public init(layers: Int, maxPositionEmbeddings: Int) {
        self.layers = layers
        self.maxPositionEmbeddings = maxPositionEmbeddings
    }
}

/// The client side of one run: `BenchmarkClient` in benchmark.py.
public struct ClientSettings: Sendable, Equatable {
    /// `client_batch_size`: sentences per `encode`.
    public var batchSize: Int
    /// `num_client`: concurrent clients.
    public var clientCount: Int
    /// Words per random sentence: the run's `max_seq_len` (benchmark.py uses `k=cargs.max_seq_len`).
    public var wordsPerSentence: Int
    /// `num_repeat`: timed `encode` calls per client.
    public var repeatCount: Int
}

/// One value of one experiment: a server start with `override` applied, then the clients.
public struct ExperimentRun: Sendable, Equatable {
    /// The value as the original prints it (`'%s' % cvar`), e.g. `16` or `[-1]`.
    public var label: String
    /// The setting this run changes and its value as the server receives it (`setattr(cargs, …)`).
    public var override: (dest: String, value: ParsedValue)
    public var client: ClientSettings

    public static func == (lhs: ExperimentRun, rhs: ExperimentRun) -> Bool {
        lhs.label == rhs.label && lhs.override.dest == rhs.override.dest && lhs.override.value == rhs.override.value
            && lhs.client == rhs.client
    }
}

/// One `-test_<name>` list: the runs in command-line order, and the values left out with why.
public struct Experiment: Sendable, Equatable {
    /// The setting varied: `test_client_batch_size` → `client_batch_size`.
    public var name: String
    public var runs: [ExperimentRun]
    /// Values the benchmark will not run, each with the note it prints.
    public var skipped: [(label: String, reason: String)]

    public static func == (lhs: Experiment, rhs: Experiment) -> Bool {
        lhs.name == rhs.name && lhs.runs == rhs.runs && lhs.skipped.count == rhs.skipped.count
            && zip(lhs.skipped, rhs.skipped).allSatisfy { $0.label == $1.label && $0.reason == $1.reason }
    }
}

/// The experiments of `run_benchmark` (bert_serving/server/benchmark.py), in its order: every
/// namespace attribute starting with `test_` whose list is non-empty, in `vars(args)` order;
/// inside each, the values in the order given.
public struct BenchmarkPlan: Sendable, Equatable {
    public var experiments: [Experiment]
    /// Changes the original does not make (printed once before the first server start).
    public var notes: [String]

    /// Words per sentence when `max_seq_len` is NONE (the original crashes: `random.choices(k=None)`).
    public static let wordsWhenSequenceLengthIsNone = 25

    /// Builds the plan from a `bert-serving-benchmark` namespace.
    /// - Parameter model: the model's limits, when its config could be read; values beyond
    ///   them are skipped with a note instead of starting a server that cannot serve.
    /// - Throws: `BenchmarkError.invalidSetting` when `num_repeat` < 1 or a setting has the wrong type.
    public init(arguments: ParsedArguments, model: ModelLimits?) throws(BenchmarkError) {
        notes = []
        let repeatCount = try Self.int(arguments, "num_repeat")
        guard repeatCount >= 1 else {
            throw .invalidSetting("-num_repeat must be at least 1 (got \(repeatCount))")
        }
        if repeatCount <= 2 {
            notes.append(
                "-num_repeat \(repeatCount): the original averages repeats 3 and later only and crashes with fewer; "
                    + "averaging all \(repeatCount) repeat(s) instead, warm-up included")
        }
        if case .some(.none) = arguments["max_seq_len"] {
            notes.append(
                "-max_seq_len NONE: sentences have \(Self.wordsWhenSequenceLengthIsNone) words "
                    + "(the original crashes building them)")
        }
        experiments = []
        for item in arguments.items where item.dest.hasPrefix("test_") {
            guard case .list(let values) = item.value else {
                throw .invalidSetting("-\(item.dest) must be a list (got \(item.value.pythonRepr))")
            }
            if values.isEmpty { continue }
            let name = String(item.dest.dropFirst("test_".count))
            var experiment = Experiment(name: name, runs: [], skipped: [])
            for value in values {
                let serverValue = Self.serverValue(name: name, value)
                if let reason = Self.unusable(name: name, serverValue, model: model) {
                    experiment.skipped.append((value.pythonStr, reason))
                    continue
                }
                func setting(_ dest: String) -> ParsedValue? { dest == name ? serverValue : arguments[dest] }
                let words: Int
                switch setting("max_seq_len") {
                case .some(.int(let n)): words = n
                case .some(.none): words = Self.wordsWhenSequenceLengthIsNone
                default: throw .invalidSetting("max_seq_len has an unusable value")
                }
                guard case .some(.int(let batch)) = setting("client_batch_size"),
                    case .some(.int(let clients)) = setting("num_client")
                else { throw .invalidSetting("client_batch_size / num_client have unusable values") }
                let client = ClientSettings(
                    batchSize: batch, clientCount: clients, wordsPerSentence: words, repeatCount: repeatCount)
                experiment.runs.append(
                    ExperimentRun(label: value.pythonStr, override: (name, serverValue), client: client))
            }
            experiments.append(experiment)
        }
    }

    private static func int(_ arguments: ParsedArguments, _ dest: String) throws(BenchmarkError) -> Int {
        guard case .some(.int(let value)) = arguments[dest] else {
            throw .invalidSetting("\(dest) has an unusable value \(arguments[dest]?.pythonRepr ?? "<missing>")")
        }
        return value
    }

    /// The value `setattr(cargs, name, value)` should give the server. `-test_pooling_layer -1 -2`
    /// stores plain ints, which the original hands to the server as `pooling_layer=-1`, and its
    /// graph builder then fails on `len(-1)`: we pass `[-1]`.
    static func serverValue(name: String, _ value: ParsedValue) -> ParsedValue {
        if name == "pooling_layer", case .int = value { return .list([value]) }
        return value
    }

    /// Why a value cannot run, or nil. Each of these makes the original hang (a server that never
    /// gets ready while the clients wait) or crash.
    static func unusable(name: String, _ value: ParsedValue, model: ModelLimits?) -> String? {
        switch (name, value) {
        case ("pooling_layer", .list(let layers)):
            guard let model else { return nil }
            let bad = layers.filter { layer in
                guard case .int(let l) = layer else { return true }
                return l < -model.layers || l >= model.layers
            }
            if bad.isEmpty { return nil }
            return "the model has \(model.layers) layers (pooling_layer must be in -\(model.layers)...\(model.layers - 1))"
        case ("max_seq_len", .int(let n)):
            if n <= 3 { return "max_seq_len must be > 3" }
            if let model, n > model.maxPositionEmbeddings {
                return "the model has max_position_embeddings \(model.maxPositionEmbeddings)"
            }
            return nil
        case ("client_batch_size", .int(let n)), ("num_client", .int(let n)), ("max_batch_size", .int(let n)):
            return n < 1 ? "\(name) must be at least 1" : nil
        default:
            return nil
        }
    }
}

/// Typed reads of a namespace; a value of an unexpected type (possible only through argparse
/// quirks such as `-model_dir=--`, which stores `[]`) throws `ArgparseError.unexpectedValue`.
struct NamespaceReader {
    let parsed: ParsedArguments

    private func value(_ dest: String) throws(ArgparseError) -> ParsedValue {
        guard let value = parsed[dest] else { throw .unexpectedValue(dest: dest, value: "<missing>") }
        return value
    }

    private func mismatch(_ dest: String, _ value: ParsedValue) -> ArgparseError {
        .unexpectedValue(dest: dest, value: value.pythonRepr)
    }

    func string(_ dest: String) throws(ArgparseError) -> String {
        let v = try value(dest)
        guard case .string(let s) = v else { throw mismatch(dest, v) }
        return s
    }

    func optionalString(_ dest: String) throws(ArgparseError) -> String? {
        let v = try value(dest)
        if case .none = v { return nil }
        guard case .string(let s) = v else { throw mismatch(dest, v) }
        return s
    }

    func int(_ dest: String) throws(ArgparseError) -> Int {
        let v = try value(dest)
        guard case .int(let i) = v else { throw mismatch(dest, v) }
        return i
    }

    func optionalInt(_ dest: String) throws(ArgparseError) -> Int? {
        let v = try value(dest)
        if case .none = v { return nil }
        guard case .int(let i) = v else { throw mismatch(dest, v) }
        return i
    }

    func double(_ dest: String) throws(ArgparseError) -> Double {
        let v = try value(dest)
        guard case .float(let d) = v else { throw mismatch(dest, v) }
        return d
    }

    func bool(_ dest: String) throws(ArgparseError) -> Bool {
        let v = try value(dest)
        guard case .bool(let b) = v else { throw mismatch(dest, v) }
        return b
    }

    func ints(_ dest: String) throws(ArgparseError) -> [Int] {
        let v = try value(dest)
        guard case .list(let items) = v else { throw mismatch(dest, v) }
        var out: [Int] = []
        for item in items {
            guard case .int(let i) = item else { throw mismatch(dest, v) }
            out.append(i)
        }
        return out
    }

    func intLists(_ dest: String) throws(ArgparseError) -> [[Int]] {
        let v = try value(dest)
        guard case .list(let items) = v else { throw mismatch(dest, v) }
        var out: [[Int]] = []
        for item in items {
            switch item {
            case .int(let i): out.append([i])
            case .list(let inner):
                var row: [Int] = []
                for x in inner {
                    guard case .int(let i) = x else { throw mismatch(dest, v) }
                    row.append(i)
                }
                out.append(row)
            default: throw mismatch(dest, v)
            }
        }
        return out
    }

    func enumMember(_ dest: String) throws(ArgparseError) -> EnumMember {
        let v = try value(dest)
        guard case .enumMember(let m) = v else { throw mismatch(dest, v) }
        return m
    }
}

/// Every `bert-serving-start` 1.10.0 setting, typed; field names follow the argparse `dest`s.
public struct ServerArguments: Sendable, Equatable {
    public var modelDir: String
    public var tunedModelDir: String?
    public var ckptName: String
    public var configName: String
    public var graphTmpDir: String?
    /// nil for `-max_seq_len NONE`.
    public var maxSeqLen: Int?
    /// `do_lower_case`: false with `-cased_tokenization`.
    public var doLowerCase: Bool
    public var poolingLayer: [Int]
    /// The `PoolingStrategy` value (REDUCE_MEAN = 2; CLS_TOKEN/SEP_TOKEN arrive as 4/5).
    public var poolingStrategy: Int
    /// The canonical member name (`FIRST_TOKEN` for `-pooling_strategy CLS_TOKEN`).
    public var poolingStrategyName: String
    public var maskClsSep: Bool
    public var noSpecialToken: Bool
    public var showTokensToClient: Bool
    public var noPositionEmbeddings: Bool
    public var port: Int
    public var portOut: Int
    public var httpPort: Int?
    public var httpMaxConnect: Int
    public var cors: String
    public var numWorker: Int
    public var maxBatchSize: Int
    public var priorityBatchSize: Int
    public var cpu: Bool
    public var xla: Bool
    public var fp16: Bool
    public var gpuMemoryFraction: Double
    public var deviceMap: [Int]
    public var prefetchSize: Int
    public var fixedEmbedLength: Bool
    public var verbose: Bool

    /// Reads the typed settings from a namespace of `ParserSpec.start` (or `.benchmark`).
    /// - Throws: `ArgparseError.unexpectedValue` when a value does not have its option's type.
    public init(_ parsed: ParsedArguments) throws(ArgparseError) {
        let r = NamespaceReader(parsed: parsed)
        modelDir = try r.string("model_dir")
        tunedModelDir = try r.optionalString("tuned_model_dir")
        ckptName = try r.string("ckpt_name")
        configName = try r.string("config_name")
        graphTmpDir = try r.optionalString("graph_tmp_dir")
        maxSeqLen = try r.optionalInt("max_seq_len")
        doLowerCase = try r.bool("do_lower_case")
        poolingLayer = try r.ints("pooling_layer")
        let pooling = try r.enumMember("pooling_strategy")
        poolingStrategy = pooling.value
        poolingStrategyName = pooling.name
        maskClsSep = try r.bool("mask_cls_sep")
        noSpecialToken = try r.bool("no_special_token")
        showTokensToClient = try r.bool("show_tokens_to_client")
        noPositionEmbeddings = try r.bool("no_position_embeddings")
        port = try r.int("port")
        portOut = try r.int("port_out")
        httpPort = try r.optionalInt("http_port")
        httpMaxConnect = try r.int("http_max_connect")
        cors = try r.string("cors")
        numWorker = try r.int("num_worker")
        maxBatchSize = try r.int("max_batch_size")
        priorityBatchSize = try r.int("priority_batch_size")
        cpu = try r.bool("cpu")
        xla = try r.bool("xla")
        fp16 = try r.bool("fp16")
        gpuMemoryFraction = try r.double("gpu_memory_fraction")
        deviceMap = try r.ints("device_map")
        prefetchSize = try r.int("prefetch_size")
        fixedEmbedLength = try r.bool("fixed_embed_length")
        verbose = try r.bool("verbose")
    }
}

/// `bert-serving-benchmark` settings: the server's plus the experiment table.
public struct BenchmarkArguments: Sendable, Equatable {
    public var server: ServerArguments
    public var testClientBatchSize: [Int]
    public var testMaxBatchSize: [Int]
    public var testMaxSeqLen: [Int]
    public var testNumClient: [Int]
    /// Each entry is one experiment's `pooling_layer` (the default is `[[-1], [-2], ... [-12]]`;
    /// values given on the command line are single layers).
    public var testPoolingLayer: [[Int]]
    public var waitTillReady: Int
    public var clientVocabFile: String
    public var numRepeat: Int
    /// `set_defaults(num_client=1)`.
    public var numClient: Int
    /// `set_defaults(client_batch_size=4096)`.
    public var clientBatchSize: Int

    /// Reads the typed settings from a namespace of `ParserSpec.benchmark`.
    public init(_ parsed: ParsedArguments) throws(ArgparseError) {
        let r = NamespaceReader(parsed: parsed)
        server = try ServerArguments(parsed)
        testClientBatchSize = try r.ints("test_client_batch_size")
        testMaxBatchSize = try r.ints("test_max_batch_size")
        testMaxSeqLen = try r.ints("test_max_seq_len")
        testNumClient = try r.ints("test_num_client")
        testPoolingLayer = try r.intLists("test_pooling_layer")
        waitTillReady = try r.int("wait_till_ready")
        clientVocabFile = try r.string("client_vocab_file")
        numRepeat = try r.int("num_repeat")
        numClient = try r.int("num_client")
        clientBatchSize = try r.int("client_batch_size")
    }
}

/// `bert-serving-terminate` settings.
public struct TerminateArguments: Sendable, Equatable {
    public var ip: String
    public var port: Int
    /// Milliseconds (`zmq.LINGER`).
    public var timeout: Int

    /// Reads the typed settings from a namespace of `ParserSpec.terminate`.
    public init(_ parsed: ParsedArguments) throws(ArgparseError) {
        let r = NamespaceReader(parsed: parsed)
        ip = try r.string("ip")
        port = try r.int("port")
        timeout = try r.int("timeout")
    }
}

import ArgparseCompat

extension ServerConfig {
    /// Maps a `bert-serving-start` namespace (ArgparseCompat's `get_args_parser()` port) to a config.
    /// - Throws: `StartupError` when a dest is missing or has the wrong type (a parser bug).
    public init(arguments a: ParsedArguments) throws(StartupError) {
        func fail(_ dest: String) -> StartupError {
            StartupError(component: "ARGS", message: "argument \(dest) missing or of an unexpected type: \(a[dest]?.pythonRepr ?? "absent")")
        }
        func string(_ d: String) throws(StartupError) -> String {
            guard case .string(let s) = a[d] else { throw fail(d) }
            return s
        }
        func optString(_ d: String) throws(StartupError) -> String? {
            switch a[d] {
            case .string(let s): return s
            case .some(.none), nil: return nil
            default: throw fail(d)
            }
        }
        func int(_ d: String) throws(StartupError) -> Int {
            guard case .int(let i) = a[d] else { throw fail(d) }
            return i
        }
        func optInt(_ d: String) throws(StartupError) -> Int? {
            switch a[d] {
            case .int(let i): return i
            case .some(.none), nil: return nil
            default: throw fail(d)
            }
        }
        func bool(_ d: String) throws(StartupError) -> Bool {
            guard case .bool(let b) = a[d] else { throw fail(d) }
            return b
        }
        func ints(_ d: String) throws(StartupError) -> [Int] {
            guard case .list(let items) = a[d] else { throw fail(d) }
            var out: [Int] = []
            for item in items {
                guard case .int(let i) = item else { throw fail(d) }
                out.append(i)
            }
            return out
        }
        self.init(modelDir: try string("model_dir"))
        tunedModelDir = try optString("tuned_model_dir")
        ckptName = try string("ckpt_name")
        configName = try string("config_name")
        graphTmpDir = try optString("graph_tmp_dir")
        maxSeqLen = try optInt("max_seq_len")
        doLowerCase = try bool("do_lower_case")
        poolingLayer = try ints("pooling_layer")
        guard case .enumMember(let pooling) = a["pooling_strategy"] else { throw fail("pooling_strategy") }
        poolingStrategy = pooling.value
        maskClsSep = try bool("mask_cls_sep")
        noSpecialToken = try bool("no_special_token")
        showTokensToClient = try bool("show_tokens_to_client")
        noPositionEmbeddings = try bool("no_position_embeddings")
        port = try int("port")
        portOut = try int("port_out")
        httpPort = try optInt("http_port")
        httpMaxConnect = try int("http_max_connect")
        cors = try string("cors")
        numWorker = try int("num_worker")
        maxBatchSize = try int("max_batch_size")
        priorityBatchSize = try int("priority_batch_size")
        cpu = try bool("cpu")
        xla = try bool("xla")
        fp16 = try bool("fp16")
        switch a["gpu_memory_fraction"] {
        case .float(let f): gpuMemoryFraction = f
        case .int(let i): gpuMemoryFraction = Double(i)
        default: throw fail("gpu_memory_fraction")
        }
        deviceMap = try ints("device_map")
        prefetchSize = try int("prefetch_size")
        fixedEmbedLength = try bool("fixed_embed_length")
        verbose = try bool("verbose")
        // Our own options (ParserSpec.swiftStartOptions); absent from a parser without them.
        if a["request_max_message_bytes"] != nil { maxMessageBytes = try int("request_max_message_bytes") }
        if a["request_max_texts"] != nil { maxTexts = try int("request_max_texts") }
        if a["request_max_pending_texts"] != nil { maxPendingTexts = try int("request_max_pending_texts") }
        switch a["request_timeout"] {
        case .float(let f): requestTimeout = f
        case .int(let i): requestTimeout = Double(i)
        case .some(.none), nil: requestTimeout = nil
        default: throw fail("request_timeout")
        }
        if a["bind_host"] != nil { bindHost = try string("bind_host") }
    }
}

// The three parsers of bert-serving-server 1.10.0, as data: bert_serving/server/helper.py
// get_args_parser(), get_benchmark_parser(), get_shutdown_parser(). Help texts are the originals
// with their line-continuation whitespace collapsed (argparse collapses it when printing).

/// graph.py `PoolingStrategy`: members in definition order; CLS_TOKEN / SEP_TOKEN are aliases
/// of FIRST_TOKEN / LAST_TOKEN, so `list(PoolingStrategy)` (the choices) leaves them out.
enum PoolingStrategyMembers {
    static let unique: [(name: String, value: Int)] = [
        ("NONE", 0), ("REDUCE_MAX", 1), ("REDUCE_MEAN", 2), ("REDUCE_MEAN_MAX", 3),
        ("FIRST_TOKEN", 4), ("LAST_TOKEN", 5), ("CLS_POOLED", 6),
    ]
    static let aliases: [(name: String, canonical: String)] = [("CLS_TOKEN", "FIRST_TOKEN"), ("SEP_TOKEN", "LAST_TOKEN")]

    static func member(_ name: String, _ value: Int) -> ParsedValue {
        .enumMember(EnumMember(typeName: "PoolingStrategy", name: name, value: value))
    }

    /// `PoolingStrategy.from_string`: `PoolingStrategy[s]` (case-sensitive, aliases allowed),
    /// `ValueError` otherwise.
    static let fromString = ValueType(name: "from_string") { (text: String) throws(ArgumentTypeFailure) -> ParsedValue in
        let canonical = aliases.first { PythonText.same($0.name, text) }?.canonical ?? text
        guard let found = unique.first(where: { PythonText.same($0.name, canonical) }) else { throw .invalidValue }
        return member(found.name, found.value)
    }

    static var choices: [ParsedValue] { unique.map { member($0.name, $0.value) } }
}

extension ValueType {
    /// helper.py `check_max_seq_len`: `None` for "none" in any case, else `int(value)` which
    /// must be > 3. `int()` failing raises ValueError (the `except TypeError` never fires), so
    /// argparse reports `invalid check_max_seq_len value: 'abc'`.
    public static let checkMaxSeqLen = ValueType(name: "check_max_seq_len") {
        (text: String) throws(ArgumentTypeFailure) -> ParsedValue in
        if text.unicodeScalars.allSatisfy(\.isASCII), text.lowercased() == "none" { return .none }
        guard let value = PythonText.parseInt(text) else { throw .invalidValue }
        if value <= 3 {
            throw .message(
                "\(text) is an invalid int value must be >3 "
                    + "(account for maximum three special symbols in BERT model) or NONE")
        }
        return .int(value)
    }
}

extension ParserSpec {
    /// `bert_serving.server.__version__`, printed by `-version`.
    public static let originalVersion = "1.10.0"

    static let filePaths = ArgumentGroupSpec(
        title: "File Paths",
        description: "config the path, checkpoint and filename of a pretrained/fine-tuned BERT model")
    static let bertParameters = ArgumentGroupSpec(
        title: "BERT Parameters", description: "config how BERT model and pooling works")
    static let servingConfigs = ArgumentGroupSpec(
        title: "Serving Configs", description: "config how server utilizes GPU/CPU resources")
    static let benchmarkParameters = ArgumentGroupSpec(
        title: "Benchmark parameters", description: "config the experiments of the benchmark")

    /// `get_args_parser()` options, in `add_argument` order.
    static func originalStartOptions(version: String) -> [OptionSpec] {
        let files = filePaths.title
        let bert = bertParameters.title
        let serving = servingConfigs.title
        return [
            .store(["-model_dir"], type: .string, required: true,
                   help: "directory of a pretrained BERT model", group: files),
            .store(["-tuned_model_dir"], type: .string,
                   help: "directory of a fine-tuned BERT model", group: files),
            .store(["-ckpt_name"], type: .string, default: .string("bert_model.ckpt"),
                   help: "filename of the checkpoint file. By default it is \"bert_model.ckpt\", but for a "
                       + "fine-tuned model the name could be different.", group: files),
            .store(["-config_name"], type: .string, default: .string("bert_config.json"),
                   help: "filename of the JSON config file for BERT model.", group: files),
            .store(["-graph_tmp_dir"], type: .string, default: .none,
                   help: "path to graph temp file", group: files),

            .store(["-max_seq_len"], type: .checkMaxSeqLen, default: .int(25),
                   help: "maximum length of a sequence, longer sequence will be trimmed on the right side. "
                       + "set it to NONE for dynamically using the longest sequence in a (mini)batch.", group: bert),
            .flag(["-cased_tokenization"], dest: "do_lower_case", action: .storeFalse, default: .bool(true),
                  help: "Whether tokenizer should skip the default lowercasing and accent removal."
                      + "Should be used for e.g. the multilingual cased pretrained BERT model.", group: bert),
            .store(["-pooling_layer"], type: .int, nargs: .oneOrMore, default: .list([.int(-2)]),
                   help: "the encoder layer(s) that receives pooling. "
                       + "Give a list in order to concatenate several layers into one", group: bert),
            .store(["-pooling_strategy"], type: PoolingStrategyMembers.fromString,
                   default: PoolingStrategyMembers.member("REDUCE_MEAN", 2), choices: PoolingStrategyMembers.choices,
                   help: "the pooling strategy for generating encoding vectors", group: bert),
            .flag(["-mask_cls_sep"], action: .storeTrue, default: .bool(false),
                  help: "masking the embedding on [CLS] and [SEP] with zero. When pooling_strategy is in "
                      + "{CLS_TOKEN, FIRST_TOKEN, SEP_TOKEN, LAST_TOKEN} then the embedding is preserved, "
                      + "otherwise the embedding is masked to zero before pooling", group: bert),
            .flag(["-no_special_token"], action: .storeTrue, default: .bool(false),
                  help: "add [CLS] and [SEP] in every sequence, put sequence to the model without [CLS] and [SEP] "
                      + "when True and is_tokenized=True in Client", group: bert),
            .flag(["-show_tokens_to_client"], action: .storeTrue, default: .bool(false),
                  help: "sending tokenization results to client", group: bert),
            .flag(["-no_position_embeddings"], action: .storeTrue, default: .bool(false),
                  help: "Whether to add position embeddings for the position of each token in the sequence.",
                  group: bert),

            .store(["-port", "-port_in", "-port_data"], type: .int, default: .int(5555),
                   help: "server port for receiving data from client", group: serving),
            .store(["-port_out", "-port_result"], type: .int, default: .int(5556),
                   help: "server port for sending result to client", group: serving),
            .store(["-http_port"], type: .int, default: .none,
                   help: "server port for receiving HTTP requests", group: serving),
            .store(["-http_max_connect"], type: .int, default: .int(10),
                   help: "maximum number of concurrent HTTP connections", group: serving),
            .store(["-cors"], type: .string, default: .string("*"),
                   help: "setting \"Access-Control-Allow-Origin\" for HTTP requests", group: serving),
            .store(["-num_worker"], type: .int, default: .int(1),
                   help: "number of server instances", group: serving),
            .store(["-max_batch_size"], type: .int, default: .int(256),
                   help: "maximum number of sequences handled by each worker", group: serving),
            .store(["-priority_batch_size"], type: .int, default: .int(16),
                   help: "batch smaller than this size will be labeled as high priority,"
                       + "and jumps forward in the job queue", group: serving),
            .flag(["-cpu"], action: .storeTrue, default: .bool(false),
                  help: "running on CPU (default on GPU)", group: serving),
            .flag(["-xla"], action: .storeTrue, default: .bool(false),
                  help: "enable XLA compiler (experimental)", group: serving),
            .flag(["-fp16"], action: .storeTrue, default: .bool(false),
                  help: "use float16 precision (experimental)", group: serving),
            .store(["-gpu_memory_fraction"], type: .float, default: .float(0.5),
                   help: "determine the fraction of the overall amount of memory that each visible GPU should be "
                       + "allocated per worker. Should be in range [0.0, 1.0]", group: serving),
            .store(["-device_map"], type: .int, nargs: .oneOrMore, default: .list([]),
                   help: "specify the list of GPU device ids that will be used (id starts from 0). "
                       + "If num_worker > len(device_map), then device will be reused; "
                       + "if num_worker < len(device_map), then device_map[:num_worker] will be used", group: serving),
            .store(["-prefetch_size"], type: .int, default: .int(10),
                   help: "the number of batches to prefetch on each worker. When running on a CPU-only machine, "
                       + "this is set to 0 for comparability", group: serving),
            .flag(["-fixed_embed_length"], action: .storeTrue, default: .bool(false),
                  help: "when \"max_seq_len\" is set to None, the server determines the \"max_seq_len\" according to "
                      + "the actual sequence lengths within each batch. When \"pooling_strategy=NONE\", "
                      + "this may cause two \".encode()\" from the same client results in different sizes [B, T, D]."
                      + "Turn this on to fix the \"T\" in [B, T, D] to \"max_position_embeddings\" in bert json config.",
                  group: serving),

            .flag(["-verbose"], action: .storeTrue, default: .bool(false),
                  help: "turn on tensorflow logging for debug"),
            .flag(["-version"], action: .version("%(prog)s " + version),
                  help: "show program's version number and exit"),
        ]
    }

    /// `get_args_parser()` exactly as in 1.10.0 (`bert-serving-start`).
    public static let originalStart = ParserSpec(
        description: "Start a BertServer for serving",
        groups: [filePaths, bertParameters, servingConfigs],
        options: originalStartOptions(version: originalVersion))

    /// `get_benchmark_parser()` exactly as in 1.10.0 (`bert-serving-benchmark`).
    public static let originalBenchmark = ParserSpec(
        description: "Benchmark BertServer locally",
        groups: [filePaths, bertParameters, servingConfigs, benchmarkParameters],
        options: originalStartOptions(version: originalVersion) + benchmarkOptions,
        extraDefaults: [("num_client", .int(1)), ("client_batch_size", .int(4096))])

    static var benchmarkOptions: [OptionSpec] {
        let group = benchmarkParameters.title
        func ints(_ values: [Int]) -> ParsedValue { .list(values.map { .int($0) }) }
        return [
            .store(["-test_client_batch_size"], type: .int, nargs: .zeroOrMore, default: ints([1, 16, 256, 4096]),
                   help: nil, group: group),
            .store(["-test_max_batch_size"], type: .int, nargs: .zeroOrMore, default: ints([8, 32, 128, 512]),
                   help: nil, group: group),
            .store(["-test_max_seq_len"], type: .int, nargs: .zeroOrMore, default: ints([32, 64, 128, 256]),
                   help: nil, group: group),
            .store(["-test_num_client"], type: .int, nargs: .zeroOrMore, default: ints([1, 4, 16, 64]),
                   help: nil, group: group),
            .store(["-test_pooling_layer"], type: .int, nargs: .zeroOrMore,
                   default: .list((1...12).map { ints([-$0]) }), help: nil, group: group),
            .store(["-wait_till_ready"], type: .int, default: .int(30),
                   help: "seconds to wait until server is ready to serve", group: group),
            .store(["-client_vocab_file"], type: .string, default: .string("README.md"),
                   help: "file path for building client vocabulary", group: group),
            .store(["-num_repeat"], type: .int, default: .int(10),
                   help: "number of repeats per experiment (must >2), "
                       + "as the first two results are omitted for warm-up effect", group: group),
        ]
    }

    /// `get_shutdown_parser()` exactly as in 1.10.0 (`bert-serving-terminate`).
    public static let originalTerminate = ParserSpec(
        description: "Shutting down a BertServer instance running on a specific port",
        options: [
            .store(["-ip"], type: .string, default: .string("localhost"),
                   help: "the ip address that a BertServer is running on"),
            .store(["-port", "-port_in", "-port_data"], type: .int, required: true,
                   help: "the port that a BertServer is running on"),
            .store(["-timeout"], type: .int, default: .int(5000),
                   help: "timeout (ms) for connecting to a server"),
        ])

    /// Options bert-serving-swift adds to `bert-serving-start` (and `-benchmark`). Appended after
    /// every original option, so the namespace order of the originals is unchanged. A new option
    /// string must not make any abbreviation of an original one ambiguous or change what it
    /// resolves to (checked by `ArgparseCompatTests.extensionsKeepOriginalAbbreviations`).
    ///
    /// Names start with `request_` / `bind_`, initials no original option string has, so every
    /// original abbreviation resolves as before. They are `hidden` (argparse SUPPRESS): argparse
    /// prints the usage line in every error, so a visible option would change the text of every
    /// original `ambiguous option` / `invalid value` error and `-h`; they are documented in the
    /// README instead. Defaults never bind a normal client; the original has no such limits.
    public static let swiftStartOptions: [OptionSpec] = [
        .store(["-request_max_message_bytes"], type: .int, default: .int(64 << 20),
               help: "[bert-serving-swift] largest payload frame (bytes) of one request; a larger one is "
                   + "refused with an ERROR reply before it is parsed", hidden: true, group: servingConfigs.title),
        .store(["-request_max_texts"], type: .int, default: .int(50_000),
               help: "[bert-serving-swift] most sentences in one request (msg_len); more are refused with "
                   + "an ERROR reply before the payload is parsed", hidden: true, group: servingConfigs.title),
        .store(["-request_max_pending_texts"], type: .int, default: .int(100_000),
               help: "[bert-serving-swift] most sentences accepted and not yet answered, over all clients; "
                   + "beyond it the server stops reading new requests until some are answered "
                   + "(backpressure)", hidden: true, group: servingConfigs.title),
        .store(["-request_timeout"], type: .float, default: .none,
               help: "[bert-serving-swift] seconds after which an unfinished encode request is answered "
                   + "with an ERROR reply (default: no deadline)", hidden: true, group: servingConfigs.title),
        .store(["-bind_host"], type: .string, default: .string("*"),
               help: "[bert-serving-swift] interface the -port / -port_out sockets bind to, e.g. "
                   + "127.0.0.1 (the original binds every interface, *)", hidden: true, group: servingConfigs.title),
    ]

    /// The `bert-serving-start` parser this package ships: the original plus `swiftStartOptions`.
    public static let start = ParserSpec(
        description: originalStart.description, groups: originalStart.groups,
        options: originalStart.options + swiftStartOptions)

    /// The `bert-serving-benchmark` parser this package ships.
    public static let benchmark = ParserSpec(
        description: originalBenchmark.description, groups: originalBenchmark.groups,
        options: originalBenchmark.options + swiftStartOptions, extraDefaults: originalBenchmark.extraDefaults)

    /// The `bert-serving-terminate` parser this package ships.
    public static let terminate = originalTerminate
}

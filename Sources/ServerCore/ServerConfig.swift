/// Every `bert-serving-start` 1.10.0 setting the server needs, already validated.
///
/// Immutable and `Sendable`: built once before the threads start and shared by all of them.
/// Field names mirror the argparse `dest`s of `get_args_parser()` (helper.py).
public struct ServerConfig: Sendable, Equatable {
    public var modelDir: String
    public var tunedModelDir: String? = nil
    public var ckptName = "bert_model.ckpt"
    public var configName = "bert_config.json"
    public var graphTmpDir: String? = nil
    /// nil for `-max_seq_len NONE`.
    public var maxSeqLen: Int? = 25
    public var doLowerCase = true
    public var poolingLayer: [Int] = [-2]
    /// `PoolingStrategy` enum value (NONE 0, REDUCE_MAX 1, REDUCE_MEAN 2, REDUCE_MEAN_MAX 3,
    /// FIRST_TOKEN/CLS_TOKEN 4, LAST_TOKEN/SEP_TOKEN 5, CLS_POOLED 6), as SHOW_CONFIG reports it.
    public var poolingStrategy = 2
    public var maskClsSep = false
    public var noSpecialToken = false
    public var showTokensToClient = false
    public var noPositionEmbeddings = false
    public var port = 5555
    public var portOut = 5556
    public var httpPort: Int? = nil
    public var httpMaxConnect = 10
    public var cors = "*"
    public var numWorker = 1
    public var maxBatchSize = 256
    public var priorityBatchSize = 16
    public var cpu = false
    public var xla = false
    public var fp16 = false
    public var gpuMemoryFraction = 0.5
    public var deviceMap: [Int] = []
    public var prefetchSize = 10
    public var fixedEmbedLength = false
    public var verbose = false
    /// `max_position_embeddings` of the model's `bert_config.json` (the sink pads NONE-length
    /// token embeddings to it).
    public var maxPositionEmbeddings = 512
    /// Interface the TCP sockets bind to (`*` in the original).
    public var bindHost = "*"
    /// Largest payload frame (bytes) an encode request may have (`-request_max_message_bytes`).
    public var maxMessageBytes = 64 << 20
    /// Most sequences one encode request may declare (`-request_max_texts`).
    public var maxTexts = 50_000
    /// Most sequences accepted and not yet answered, over all clients
    /// (`-request_max_pending_texts`); the ventilator stops reading requests above it.
    public var maxPendingTexts = 100_000
    /// Seconds after which an unfinished encode request gets an ERROR reply (`-request_timeout`).
    public var requestTimeout: Double? = nil

    public init(modelDir: String) { self.modelDir = modelDir }

    /// `max(8, num_worker * 2)` ventilator→worker sockets, socket 0 being the priority lane.
    public var numConcurrentSocket: Int { max(8, numWorker * 2) }

    /// `sorted(vars(args).items())` with `pooling_strategy` as its int: the argument part of
    /// SHOW_CONFIG, in the original's key order and JSON types.
    public var argumentItems: [(String, PyJSON)] {
        func opt(_ s: String?) -> PyJSON { s.map { .string($0) } ?? .null }
        func optInt(_ i: Int?) -> PyJSON { i.map { .int($0) } ?? .null }
        let items: [(String, PyJSON)] = [
            ("ckpt_name", .string(ckptName)),
            ("config_name", .string(configName)),
            ("cors", .string(cors)),
            ("cpu", .bool(cpu)),
            ("device_map", .array(deviceMap.map { .int($0) })),
            ("do_lower_case", .bool(doLowerCase)),
            ("fixed_embed_length", .bool(fixedEmbedLength)),
            ("fp16", .bool(fp16)),
            ("gpu_memory_fraction", .double(gpuMemoryFraction)),
            ("graph_tmp_dir", opt(graphTmpDir)),
            ("http_max_connect", .int(httpMaxConnect)),
            ("http_port", optInt(httpPort)),
            ("mask_cls_sep", .bool(maskClsSep)),
            ("max_batch_size", .int(maxBatchSize)),
            ("max_seq_len", optInt(maxSeqLen)),
            ("model_dir", .string(modelDir)),
            ("no_position_embeddings", .bool(noPositionEmbeddings)),
            ("no_special_token", .bool(noSpecialToken)),
            ("num_worker", .int(numWorker)),
            ("pooling_layer", .array(poolingLayer.map { .int($0) })),
            ("pooling_strategy", .int(poolingStrategy)),
            ("port", .int(port)),
            ("port_out", .int(portOut)),
            ("prefetch_size", .int(prefetchSize)),
            ("priority_batch_size", .int(priorityBatchSize)),
            ("show_tokens_to_client", .bool(showTokensToClient)),
            ("tuned_model_dir", opt(tunedModelDir)),
            ("verbose", .bool(verbose)),
            ("xla", .bool(xla)),
        ]
        return items
    }
}

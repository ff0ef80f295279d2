// Sentences/s of BertEncoder.encode against the sgemm bound measured in the same run.
//
// usage: engine-benchmark [model_dir] [--batch 256] [--seq 25] [--threads 2] [--layer -2] [--rounds 5]
//                         [--encoder-threads N]   (default: as many as OpenBLAS)
//                         [--ids FILE [--json] [--encode-only]] [--encode-openblas-threads N]
//                         [--precision fp32|fp32-openblas|fp32-panels|bf16|both|fp32-both|dnnl-panels]
// model_dir defaults to $BSS_RIG_DIR/minilm-tf1 (~/.cache/bert-serving-swift/rig/minilm-tf1).
//
// With --ids, the rows are real sentences: FILE holds one tokenized sentence per line (word-piece
// ids, [CLS] … [SEP], already cut to max_seq_len = --seq). They are encoded in consecutive batches
// of --batch, each padded to its longest row as the server does, --rounds times; the report gives
// sentences/s, per-call latency, and the sgemm bound twice: on the tokens actually present and on
// every row padded to --seq. --json adds one machine-readable line (`JSON {...}`).
//
// --precision fp32 (default) loads the model as the server does: float32 products on our panel
// kernels packed at load (AVX-512 or AVX2 + FMA tiles, the widest the CPU has), else OpenBLAS;
// fp32-openblas keeps OpenBLAS sgemm; fp32-panels asks for the panel kernels (the default's
// library); bf16 loads it as -fp16 does (bfloat16 matrix products where the CPU has AVX512-BF16).
// both (synthetic rows only) times a float32 and a bfloat16 encoder alternately; fp32-both the
// OpenBLAS and the default float32 encoders; dnnl-panels float32 on oneDNN's packed matmul (where
// the CPU has AVX-512) and on the panel kernels.
import BertEngine
import COpenBLAS
import Checkpoint
import Foundation

struct Options {
    var modelDir: String
    var batch = 256
    var seqLen = 25
    var threads = 2
    var layer = -2
    var rounds = 5
    /// Threads for attention and elementwise passes (BertEncoder(threads:)); nil: as OpenBLAS.
    var encoderThreads: Int?
    /// A file of tokenized sentences (see the usage above); nil: synthetic full-length rows.
    var idsPath: String?
    var json = false
    /// `--encode-only`: no dense-only rounds between encode passes (for profiling the encoder).
    var encodeOnly = false
    /// `--encode-openblas-threads N`: OpenBLAS threads while encoding, instead of the server's choice.
    var encodeOpenBLASThreads: Int?
    /// "fp32", "fp32-openblas", "bf16", "both" or "fp32-both".
    var precision = "fp32"
}

func parseOptions() -> Options {
    let env = ProcessInfo.processInfo.environment
    let rig = env["BSS_RIG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache/bert-serving-swift/rig"
    var options = Options(modelDir: rig + "/minilm-tf1")
    var args = CommandLine.arguments.dropFirst()
    while let arg = args.popFirst() {
        func int() -> Int {
            guard let v = args.popFirst().flatMap({ Int($0) }) else {
                FileHandle.standardError.write(Data("\(arg) needs an integer\n".utf8))
                exit(2)
            }
            return v
        }
        switch arg {
        case "--batch": options.batch = int()
        case "--seq": options.seqLen = int()
        case "--threads": options.threads = int()
        case "--layer": options.layer = int()
        case "--rounds": options.rounds = int()
        case "--encoder-threads": options.encoderThreads = int()
        case "--ids":
            guard let path = args.popFirst() else {
                FileHandle.standardError.write(Data("--ids needs a file\n".utf8))
                exit(2)
            }
            options.idsPath = path
        case "--json": options.json = true
        case "--encode-only": options.encodeOnly = true
        case "--encode-openblas-threads": options.encodeOpenBLASThreads = int()
        case "--precision":
            guard let p = args.popFirst(), ["fp32", "fp32-openblas", "fp32-panels", "bf16", "both", "fp32-both", "dnnl-panels"].contains(p) else {
                FileHandle.standardError.write(
                    Data("--precision needs fp32, fp32-openblas, fp32-panels, bf16, both, fp32-both or dnnl-panels\n".utf8))
                exit(2)
            }
            options.precision = p
        default: options.modelDir = arg
        }
    }
    return options
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The dense layers' matrix products of one forward pass, at the model's real shapes, alone:
/// what the forward pass would cost if everything but sgemm were free.
final class DenseOnly {
    let shapes: [(m: Int, n: Int, k: Int)]
    var a: [Float], b: [Float], c: [Float]

    init(tokens: Int, hidden: Int, intermediate: Int, layers: Int) {
        let perLayer = [(tokens, 3 * hidden, hidden), (tokens, hidden, hidden), (tokens, intermediate, hidden),
                        (tokens, hidden, intermediate)]
        shapes = Array(repeating: perLayer, count: layers).flatMap { $0 }
        let big = tokens * max(intermediate, 3 * hidden)
        a = (0..<big).map { Float($0 % 17) * 0.01 }
        b = (0..<(max(intermediate, 3 * hidden) * max(intermediate, hidden))).map { Float($0 % 13) * 0.01 }
        c = [Float](repeating: 0, count: big)
    }

    var flops: Double { shapes.reduce(0) { $0 + 2 * Double($1.m) * Double($1.n) * Double($1.k) } }

    func run() {
        for (m, n, k) in shapes {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, a, Int32(k), b, Int32(n), 1, &c, Int32(n))
        }
    }

    /// The same products with `tokens` rows (at most the `tokens` given at init).
    func run(tokens: Int) {
        for (_, n, k) in shapes {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tokens), Int32(n), Int32(k),
                        1, a, Int32(k), b, Int32(n), 1, &c, Int32(n))
        }
    }

    /// FLOPs of the products with `tokens` rows.
    func flops(tokens: Int) -> Double {
        shapes.reduce(0) { $0 + 2 * Double(tokens) * Double($1.n) * Double($1.k) }
    }
}

/// A percentile of `values`: the sorted value at the rounded rank (p 50 is the median).
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let index = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[min(sorted.count - 1, max(0, index))]
}

/// Runs `body` with OpenBLAS set up as the server sets it for encoders of `weights` (one thread
/// beside oneDNN, whose products and the encoder's own passes use `options.threads`), then gives
/// OpenBLAS `options.threads` again for the sgemm rounds.
func asServer<T>(_ weights: BertWeights, _ options: Options, _ body: () throws -> T) rethrows -> T {
    _ = BertEncoder.configureThreads(for: weights, threads: options.threads)
    if let n = options.encodeOpenBLASThreads { BLAS.setThreads(n) }
    defer { BLAS.setThreads(options.threads) }
    return try body()
}

/// Real sentences from a file of word-piece ids, in batches padded to their longest row; the
/// encode passes alternate with the model's dense products alone, on the tokens present and on
/// rows padded to `seq`, so the bounds see the same machine load as the encoder.
func runSentences(options: Options, config: BertConfig, weights: BertWeights, loadSeconds: Double) throws {
    guard let text = try? String(contentsOfFile: options.idsPath!, encoding: .utf8) else {
        throw EngineBenchmarkError.unreadable(options.idsPath!)
    }
    let rows: [[Int32]] = text.split(separator: "\n").map { $0.split(separator: " ").compactMap { Int32($0) } }
        .filter { !$0.isEmpty }
    guard !rows.isEmpty else { throw EngineBenchmarkError.unreadable(options.idsPath!) }
    var batches: [EncoderBatch] = []
    var lengths: [[Int]] = []
    for start in stride(from: 0, to: rows.count, by: options.batch) {
        let chunk = rows[start..<min(rows.count, start + options.batch)]
        let longest = chunk.map(\.count).max()!
        var ids = [Int32](repeating: 0, count: chunk.count * longest)
        var mask = [Int32](repeating: 0, count: chunk.count * longest)
        for (r, row) in chunk.enumerated() {
            for (p, id) in row.enumerated() {
                ids[r * longest + p] = id
                mask[r * longest + p] = 1
            }
        }
        batches.append(EncoderBatch(count: chunk.count, seqLen: longest, inputIds: ids, inputMask: mask,
                                    inputTypeIds: [Int32](repeating: 0, count: chunk.count * longest)))
        lengths.append(chunk.map(\.count))
    }
    let layersRun = options.layer < 0 ? config.layers + options.layer + 1 : options.layer + 1
    let maxTokens = max(options.batch * options.seqLen, lengths.map { $0.reduce(0, +) }.max()!)
    let dense = DenseOnly(tokens: maxTokens, hidden: config.hidden, intermediate: config.intermediate, layers: layersRun)
    // Attention's two batched products (scores and context) per layer: 2 * 2 * len^2 * hidden each row.
    func attentionFlops(_ lens: [Int]) -> Double {
        lens.reduce(0) { $0 + 4 * Double($1) * Double($1) * Double(config.hidden) } * Double(layersRun)
    }
    let presentFlops = lengths.reduce(0.0) { $0 + dense.flops(tokens: $1.reduce(0, +)) + attentionFlops($1) }
    let paddedFlops = lengths.reduce(0.0) {
        $0 + dense.flops(tokens: $1.count * options.seqLen) + attentionFlops([Int](repeating: options.seqLen, count: $1.count))
    }
    let presentDenseFlops = lengths.reduce(0.0) { $0 + dense.flops(tokens: $1.reduce(0, +)) }
    let paddedDenseFlops = lengths.reduce(0.0) { $0 + dense.flops(tokens: $1.count * options.seqLen) }

    let encoder = BertEncoder(weights: weights, threads: options.encoderThreads ?? options.threads)
    _ = try asServer(weights, options) { try encoder.encode(batches[0], pooling: .reduceMean, layers: [options.layer]) }  // workspace growth
    dense.run(tokens: lengths[0].reduce(0, +))
    var passSeconds: [Double] = [], callSeconds: [Double] = []
    var presentDense: [Double] = [], paddedDense: [Double] = []
    for _ in 0..<options.rounds {
        try asServer(weights, options) {
            let passStart = now()
            for batch in batches {
                let t = now()
                _ = try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer])
                callSeconds.append(now() - t)
            }
            passSeconds.append(now() - passStart)
        }
        if options.encodeOnly { continue }
        var t = now()
        for lens in lengths { dense.run(tokens: lens.reduce(0, +)) }
        presentDense.append(now() - t)
        t = now()
        for lens in lengths { dense.run(tokens: lens.count * options.seqLen) }
        paddedDense.append(now() - t)
    }
    let n = Double(rows.count)
    let pass = percentile(passSeconds, 50)
    if options.encodeOnly {
        print(String(format: "encode           %.1f sentences/s (median of %d passes), call p50 %.2f ms p99 %.2f ms",
                     n / pass, options.rounds, percentile(callSeconds, 50) * 1e3, percentile(callSeconds, 99) * 1e3))
        return
    }
    let presentRate = presentDenseFlops / percentile(presentDense, 50)
    let paddedRate = paddedDenseFlops / percentile(paddedDense, 50)
    let presentBound = n / (presentFlops / presentRate)
    let paddedBound = n / (paddedFlops / paddedRate)
    let meanLength = Double(lengths.joined().reduce(0, +)) / n
    print("model            \(options.modelDir) (hidden \(config.hidden), layers \(config.layers))")
    print("openblas         core \(BLAS.coreName), threads \(BLAS.threads), \(BLAS.configuration)")
    print("env              OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "-")")
    print(String(format: "weights load     %.2f s", loadSeconds))
    print(String(format: "sentences        %d, mean %.1f tokens, batches of %d padded to their longest; max_seq_len %d",
                 rows.count, meanLength, options.batch, options.seqLen))
    print(String(format: "encode           %.1f sentences/s (median of %d passes), call p50 %.2f ms p99 %.2f ms",
                 n / pass, options.rounds, percentile(callSeconds, 50) * 1e3, percentile(callSeconds, 99) * 1e3))
    print(String(format: "sgemm, present   %.1f GFLOP/s -> bound %.1f sentences/s (engine at %.0f%%)",
                 presentRate / 1e9, presentBound, n / pass / presentBound * 100))
    print(String(format: "sgemm, padded    %.1f GFLOP/s -> bound %.1f sentences/s (engine at %.0f%%)",
                 paddedRate / 1e9, paddedBound, n / pass / paddedBound * 100))
    if options.json {
        let record: [String: Any] = [
            "core": BLAS.coreName, "blas_threads": BLAS.threads, "sentences": rows.count, "batch": options.batch,
            "seq": options.seqLen, "mean_tokens": meanLength, "rounds": options.rounds,
            "sent_per_s": n / pass, "sent_per_s_all": passSeconds.map { n / $0 },
            "p50_ms": percentile(callSeconds, 50) * 1e3, "p99_ms": percentile(callSeconds, 99) * 1e3,
            "sgemm_gflops_present": presentRate / 1e9, "sgemm_gflops_padded": paddedRate / 1e9,
            "bound_present_sent_per_s": presentBound, "bound_padded_sent_per_s": paddedBound,
            "bound_present_ms_per_sentence_b1": presentFlops / presentRate / n * 1e3,
            "gflop_per_sentence_present": presentFlops / n / 1e9, "gflop_per_sentence_padded": paddedFlops / n / 1e9,
        ]
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        print("JSON " + String(decoding: data, as: UTF8.self))
    }
}

/// Two encoders on the same synthetic batch (float32 and bfloat16, or float32 on OpenBLAS and on
/// the default library), alternating round by round so both see the same machine load: best and median
/// sentences/s of each, the ratio, and how far apart their vectors are.
func comparePrecisions(options: Options, config: BertConfig, store: any TensorStore, fp32: BertWeights) throws {
    let loadStart = now()
    let names: (String, String), first: BertWeights, other: BertWeights
    if options.precision == "fp32-both" {
        (names, first, other) = (("blas", "best"), try BertWeights(config: config, store: store, library: .openBLAS), fp32)
    } else if options.precision == "dnnl-panels" {
        (names, first, other) = (
            ("dnnl", "panl"), try BertWeights(config: config, store: store, library: .oneDNN),
            try BertWeights(config: config, store: store, library: .panelKernels))
    } else {
        (names, first, other) = (("fp32", "bf16"), fp32, try BertWeights(config: config, store: store, precision: .bfloat16))
    }
    print(String(format: "second load      %.2f s", now() - loadStart))
    print("\(names.0)             " + first.matmulPrecision.summary)
    print("\(names.1)             " + other.matmulPrecision.summary)
    let count = options.batch, seqLen = options.seqLen
    var ids = [Int32](repeating: 0, count: count * seqLen)
    for r in 0..<count {
        for p in 0..<seqLen { ids[r * seqLen + p] = Int32(1000 + (r * 131 + p * 17) % 28000) }
        ids[r * seqLen] = 101
        ids[r * seqLen + seqLen - 1] = 102
    }
    let batch = EncoderBatch(
        count: count, seqLen: seqLen, inputIds: ids, inputMask: [Int32](repeating: 1, count: count * seqLen),
        inputTypeIds: [Int32](repeating: 0, count: count * seqLen))
    let encoders = [(names.0, BertEncoder(weights: first, threads: options.encoderThreads ?? options.threads)),
                    (names.1, BertEncoder(weights: other, threads: options.encoderThreads ?? options.threads))]
    var seconds: [[Double]] = [[], []]
    var outputs: [[Float]] = [[], []]
    for (i, (_, encoder)) in encoders.enumerated() {  // warm-up: workspace growth, primitive creation
        outputs[i] = try asServer(encoder.weights, options) {
            try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer]).values
        }
    }
    // Calls per round: at least ~0.2 s of work, so batch-1 timings are not all clock noise.
    let t0 = now()
    _ = try asServer(first, options) { try encoders[0].1.encode(batch, pooling: .reduceMean, layers: [options.layer]) }
    let calls = max(1, Int(0.2 / max(now() - t0, 1e-6)))
    for _ in 0..<options.rounds {
        for (i, (_, encoder)) in encoders.enumerated() {
            try asServer(encoder.weights, options) {
                let t = now()
                for _ in 0..<calls { _ = try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer]) }
                seconds[i].append((now() - t) / Double(calls))
            }
        }
    }
    var worstCosine = 1.0
    let largestDifference = zip(outputs[0], outputs[1]).map { abs($0 - $1) }.max() ?? 0
    for row in 0..<count {
        let h = config.hidden
        var dot = 0.0, na = 0.0, nb = 0.0
        for j in (row * h)..<((row + 1) * h) {
            let (a, b) = (Double(outputs[0][j]), Double(outputs[1][j]))
            dot += a * b; na += a * a; nb += b * b
        }
        worstCosine = min(worstCosine, dot / (na.squareRoot() * nb.squareRoot()))
    }
    print("batch            \(count) x \(seqLen), pooling REDUCE_MEAN layer \(options.layer), \(calls) calls x \(options.rounds) rounds, BLAS threads \(BLAS.threads)")
    for (i, (name, _)) in encoders.enumerated() {
        print(String(format: "%@             best %.1f sentences/s, median %.1f (call %.2f ms)", name,
                     Double(count) / seconds[i].min()!, Double(count) / percentile(seconds[i], 50),
                     percentile(seconds[i], 50) * 1e3))
    }
    print(String(format: "\(names.1) / \(names.0)      %.2fx (medians); worst row cosine %.6f, max |diff| %.2e",
                 percentile(seconds[0], 50) / percentile(seconds[1], 50), worstCosine, Double(largestDifference)))
    if options.json {
        let record: [String: Any] = [
            "names": [names.0, names.1], "batch": count, "seq": seqLen, "blas_threads": BLAS.threads,
            "median_ms": seconds.map { percentile($0, 50) * 1e3 }, "best_ms": seconds.map { $0.min()! * 1e3 },
            "ratio": percentile(seconds[0], 50) / percentile(seconds[1], 50), "max_abs_diff": Double(largestDifference),
        ]
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        print("JSON " + String(decoding: data, as: UTF8.self))
    }
}

enum EngineBenchmarkError: Error, CustomStringConvertible {
    case unreadable(String)
    var description: String {
        switch self {
        case .unreadable(let path): "cannot read sentences (one line of word-piece ids each) from \(path)"
        }
    }
}

// As bert-serving-start does (KernelSelection): oneDNN's OpenMP threads wait passively unless
// the user chose a policy; libgomp reads it only at load, hence the second execution.
if ProcessInfo.processInfo.environment["ENGINE_BENCHMARK_REEXEC"] == nil,
   let policy = OpenMPWaitPolicy.recommended(environment: ProcessInfo.processInfo.environment)
{
    setenv(OpenMPWaitPolicy.variable, policy, 1)
    setenv("ENGINE_BENCHMARK_REEXEC", "1", 1)
    var cArgs: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
    cArgs.append(nil)
    execv("/proc/self/exe", cArgs)
}

let options = parseOptions()
do {
    BLAS.setThreads(options.threads)
    let files = try ModelLocator.locate(modelDir: options.modelDir)
    let config = try BertConfig(contentsOfFile: files.configPath)
    let loadStart = now()
    let weights = try BertWeights(
        config: config, store: files.store, precision: options.precision == "bf16" ? .bfloat16 : .float32,
        library: options.precision == "fp32-openblas" ? .openBLAS : options.precision == "fp32-panels" ? .panelKernels : nil)
    let loadSeconds = now() - loadStart
    print("precision        \(weights.matmulPrecision.summary)")
    print("openmp           \(OpenMPWaitPolicy.variable)=\(ProcessInfo.processInfo.environment[OpenMPWaitPolicy.variable] ?? "-")")
    if ["both", "fp32-both", "dnnl-panels"].contains(options.precision) {
        try comparePrecisions(options: options, config: config, store: files.store, fp32: weights)
        exit(0)
    }
    if options.idsPath != nil {
        try runSentences(options: options, config: config, weights: weights, loadSeconds: loadSeconds)
        exit(0)
    }
    let encoder = BertEncoder(weights: weights, threads: options.encoderThreads ?? options.threads)

    // Full-length rows ([CLS] w … w [SEP]) with deterministic word ids.
    let count = options.batch, seqLen = options.seqLen
    var ids = [Int32](repeating: 0, count: count * seqLen)
    for r in 0..<count {
        for p in 0..<seqLen { ids[r * seqLen + p] = Int32(1000 + (r * 131 + p * 17) % 28000) }
        ids[r * seqLen] = 101
        ids[r * seqLen + seqLen - 1] = 102
    }
    let batch = EncoderBatch(
        count: count, seqLen: seqLen, inputIds: ids, inputMask: [Int32](repeating: 1, count: count * seqLen),
        inputTypeIds: [Int32](repeating: 0, count: count * seqLen))

    // FLOPs of the layers computed (up to the pooled one): dense layers + attention matmuls.
    let layersRun = options.layer < 0 ? config.layers + options.layer + 1 : options.layer + 1
    let tokens = count * seqLen
    let dense = DenseOnly(tokens: tokens, hidden: config.hidden, intermediate: config.intermediate, layers: layersRun)
    let attentionFlops = 2 * 2 * Double(tokens) * Double(seqLen) * Double(config.hidden) * Double(layersRun)
    let flops = dense.flops + attentionFlops

    // Encode and the sgemm-only pass alternate, so both see the same machine load; best of N.
    _ = try asServer(weights, options) { try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer]) }  // warm-up
    dense.run()
    // The same encode with attention and elementwise passes on one thread, for comparison.
    let serial = BertEncoder(weights: weights, threads: 1)
    _ = try asServer(weights, options) { try serial.encode(batch, pooling: .reduceMean, layers: [options.layer]) }
    var bestEncode = Double.infinity, bestDense = Double.infinity, bestSerial = Double.infinity
    var totalEncode = 0.0
    for _ in 0..<options.rounds {
        var t = now()
        _ = try asServer(weights, options) { try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer]) }
        let dt = now() - t
        bestEncode = min(bestEncode, dt)
        totalEncode += dt
        t = now()
        dense.run()
        bestDense = min(bestDense, now() - t)
        t = now()
        _ = try asServer(weights, options) { try serial.encode(batch, pooling: .reduceMean, layers: [options.layer]) }
        bestSerial = min(bestSerial, now() - t)
    }
    let mean = totalEncode / Double(options.rounds)
    let sgemmRate = dense.flops / bestDense / 1e9
    let bound = flops / (sgemmRate * 1e9)

    print("model            \(options.modelDir) (hidden \(config.hidden), layers \(config.layers))")
    print("openblas         core \(BLAS.coreName), threads \(BLAS.threads), \(BLAS.configuration)")
    print("env              OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "-")")
    print(String(format: "weights load     %.2f s", loadSeconds))
    print("encoder threads  \(options.encoderThreads ?? options.threads) (OpenBLAS: one beside oneDNN, as the server)")
    print("batch            \(count) x \(seqLen), pooling REDUCE_MEAN layer \(options.layer) (\(layersRun) layers run)")
    print(String(format: "encode           best %.1f ms, mean %.1f ms over %d rounds", bestEncode * 1e3, mean * 1e3, options.rounds))
    print(String(format: "sentences/s      best %.0f, mean %.0f", Double(count) / bestEncode, Double(count) / mean))
    print(String(format: "1 encoder thread best %.1f ms (%.0f sentences/s)", bestSerial * 1e3, Double(count) / bestSerial))
    print(String(format: "model GFLOP      %.1f per batch (%.1f GFLOP/s achieved)", flops / 1e9, flops / bestEncode / 1e9))
    print(String(format: "sgemm            %.1f GFLOP/s (the model's dense products alone: %.1f ms)", sgemmRate, bestDense * 1e3))
    print(String(format: "sgemm bound      %.1f ms/batch = %.0f sentences/s; engine at %.0f%% of it", bound * 1e3, Double(count) / bound, bound / bestEncode * 100))
} catch {
    FileHandle.standardError.write(Data("engine-benchmark: \(error)\n".utf8))
    exit(1)
}

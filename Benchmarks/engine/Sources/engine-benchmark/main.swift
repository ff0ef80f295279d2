// Sentences/s of BertEncoder.encode against the sgemm bound measured in the same run.
//
// usage: engine-benchmark [model_dir] [--batch 256] [--seq 25] [--threads 2] [--layer -2] [--rounds 5]
//                         [--encoder-threads N]   (default: as many as OpenBLAS)
// model_dir defaults to $BSS_RIG_DIR/minilm-tf1 (~/.cache/bert-serving-swift/rig/minilm-tf1).
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
}

let options = parseOptions()
do {
    BLAS.setThreads(options.threads)
    let files = try ModelLocator.locate(modelDir: options.modelDir)
    let config = try BertConfig(contentsOfFile: files.configPath)
    let loadStart = now()
    let weights = try BertWeights(config: config, store: files.store)
    let loadSeconds = now() - loadStart
    let encoder = BertEncoder(weights: weights, threads: options.encoderThreads)

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
    _ = try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer])  // warm-up: workspace growth
    dense.run()
    // The same encode with attention and elementwise passes on one thread, for comparison.
    let serial = BertEncoder(weights: weights, threads: 1)
    _ = try serial.encode(batch, pooling: .reduceMean, layers: [options.layer])
    var bestEncode = Double.infinity, bestDense = Double.infinity, bestSerial = Double.infinity
    var totalEncode = 0.0
    for _ in 0..<options.rounds {
        var t = now()
        _ = try encoder.encode(batch, pooling: .reduceMean, layers: [options.layer])
        let dt = now() - t
        bestEncode = min(bestEncode, dt)
        totalEncode += dt
        t = now()
        dense.run()
        bestDense = min(bestDense, now() - t)
        t = now()
        _ = try serial.encode(batch, pooling: .reduceMean, layers: [options.layer])
        bestSerial = min(bestSerial, now() - t)
    }
    let mean = totalEncode / Double(options.rounds)
    let sgemmRate = dense.flops / bestDense / 1e9
    let bound = flops / (sgemmRate * 1e9)

    print("model            \(options.modelDir) (hidden \(config.hidden), layers \(config.layers))")
    print("openblas         core \(BLAS.coreName), threads \(BLAS.threads), \(BLAS.configuration)")
    print("env              OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "-")")
    print(String(format: "weights load     %.2f s", loadSeconds))
    print("encoder threads  \(options.encoderThreads.map(String.init) ?? "as OpenBLAS")")
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

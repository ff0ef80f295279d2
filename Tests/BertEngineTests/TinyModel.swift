import Foundation
import BertEngine
import Checkpoint

/// A tensor store held in memory: Google-BERT names, row-major `[in, out]` kernels.
struct MemoryStore: TensorStore {
    var tensors: [String: (shape: [Int], values: [Float])]

    var tensorNames: [String] { tensors.keys.sorted() }

    func info(_ name: String) -> TensorInfo? {
        tensors[name].map { TensorInfo(name: name, shape: $0.shape, dtype: .float32) }
    }

    func floats(_ name: String) throws(CheckpointError) -> [Float] {
        guard let t = tensors[name] else { throw .missingTensor(path: storePath, tensor: name) }
        return t.values
    }
}

/// A 2-layer BERT with small random weights, and a plain re-statement of modeling.py and
/// graph.py over the full padded length (Double arithmetic, no packing, no fused QKV) to check
/// the engine's optimisations against.
enum TinyModel {
    static let config = BertConfig(
        hidden: 8, layers: 2, heads: 2, intermediate: 12, vocabSize: 30, maxPositionEmbeddings: 40,
        typeVocabSize: 2, hiddenAct: "gelu")

    /// Deterministic weights from a linear congruential generator, scaled like BERT's initializer.
    static func store(pooler: Bool = true) -> MemoryStore {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ count: Int, scale: Float = 0.5, offset: Float = 0) -> [Float] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return offset + scale * (Float(state >> 40) / Float(1 << 24) - 0.5)
            }
        }
        let h = config.hidden, i = config.intermediate
        var t: [String: (shape: [Int], values: [Float])] = [:]
        func put(_ name: String, _ shape: [Int], scale: Float = 0.5, offset: Float = 0) {
            t[name] = (shape, random(shape.reduce(1, *), scale: scale, offset: offset))
        }
        put("bert/embeddings/word_embeddings", [config.vocabSize, h], scale: 2)
        put("bert/embeddings/position_embeddings", [config.maxPositionEmbeddings, h])
        put("bert/embeddings/token_type_embeddings", [config.typeVocabSize, h])
        put("bert/embeddings/LayerNorm/gamma", [h], offset: 1)
        put("bert/embeddings/LayerNorm/beta", [h])
        for l in 0..<config.layers {
            let p = "bert/encoder/layer_\(l)/"
            for (name, shape) in [
                ("attention/self/query", [h, h]), ("attention/self/key", [h, h]), ("attention/self/value", [h, h]),
                ("attention/output/dense", [h, h]), ("intermediate/dense", [h, i]), ("output/dense", [i, h]),
            ] {
                put(p + name + "/kernel", shape, scale: 1.5)
                put(p + name + "/bias", [shape[1]])
            }
            for norm in ["attention/output/LayerNorm", "output/LayerNorm"] {
                put(p + norm + "/gamma", [h], offset: 1)
                put(p + norm + "/beta", [h])
            }
        }
        if pooler {
            put("bert/pooler/dense/kernel", [h, h])
            put("bert/pooler/dense/bias", [h])
        }
        return MemoryStore(tensors: t)
    }

    // MARK: reference

    private static func values(_ store: MemoryStore, _ name: String) -> [Double] {
        (store.tensors[name]?.values ?? []).map(Double.init)
    }

    private static func dense(_ store: MemoryStore, _ x: [Double], _ scope: String, _ outF: Int) -> [Double] {
        let k = values(store, scope + "/kernel"), b = values(store, scope + "/bias")
        var y = b
        for i in x.indices {
            for o in 0..<outF { y[o] += x[i] * k[i * outF + o] }
        }
        return y
    }

    private static func layerNorm(_ store: MemoryStore, _ x: [Double], _ scope: String) -> [Double] {
        let g = values(store, scope + "/gamma"), b = values(store, scope + "/beta")
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        var variance = 0.0
        for v in x { variance += (v - mean) * (v - mean) }
        variance /= n
        var y = x
        for j in x.indices { y[j] = (x[j] - mean) / (variance + 1e-12).squareRoot() * g[j] + b[j] }
        return y
    }

    /// One sequence through one modeling.py transformer layer.
    private static func layer(_ store: MemoryStore, _ l: Int, _ x: [[Double]], mask: [Double]) -> [[Double]] {
        let h = config.hidden, heads = config.heads, d = h / heads, n = x.count
        let p = "bert/encoder/layer_\(l)/"
        let q = x.map { dense(store, $0, p + "attention/self/query", h) }
        let k = x.map { dense(store, $0, p + "attention/self/key", h) }
        let v = x.map { dense(store, $0, p + "attention/self/value", h) }
        var context = [[Double]](repeating: [Double](repeating: 0, count: h), count: n)
        for head in 0..<heads {
            for i in 0..<n {
                var scores = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    var dot = 0.0
                    for c in 0..<d { dot += q[i][head * d + c] * k[j][head * d + c] }
                    // TF adds the -10000 adder in float32, whose spacing near 10000 (~0.001) makes
                    // a fully masked row's softmax coarse; do the same.
                    scores[j] = Double(Float(dot / Double(d).squareRoot()) + Float((1 - mask[j]) * -10000))
                }
                let m = scores.max() ?? 0
                let e = scores.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for c in 0..<d {
                    var acc = 0.0
                    for j in 0..<n { acc += e[j] / s * v[j][head * d + c] }
                    context[i][head * d + c] = acc
                }
            }
        }
        return (0..<n).map { i in
            let a = dense(store, context[i], p + "attention/output/dense", h)
            let attention = layerNorm(store, zip(a, x[i]).map { $0 + $1 }, p + "attention/output/LayerNorm")
            let inter = dense(store, attention, p + "intermediate/dense", config.intermediate)
                .map { (u: Double) -> Double in u * 0.5 * (1 + Foundation.erf(u / 2.0.squareRoot())) }
            let o = dense(store, inter, p + "output/dense", h)
            return layerNorm(store, zip(o, attention).map { $0 + $1 }, p + "output/LayerNorm")
        }
    }

    /// All encoder layers, `[layer][row][position][hidden]`, over the full padded length.
    static func referenceLayers(_ store: MemoryStore, _ batch: EncoderBatch, positions: Bool = true) -> [[[[Double]]]] {
        let h = config.hidden, seqLen = batch.seqLen
        let word = values(store, "bert/embeddings/word_embeddings")
        let pos = values(store, "bert/embeddings/position_embeddings")
        let type = values(store, "bert/embeddings/token_type_embeddings")
        var layers = [[[[Double]]]](repeating: [], count: config.layers)
        for r in 0..<batch.count {
            let mask = (0..<seqLen).map { Double(batch.inputMask[r * seqLen + $0]) }
            var x: [[Double]] = []
            for p in 0..<seqLen {
                let id = Int(batch.inputIds[r * seqLen + p]), tt = Int(batch.inputTypeIds[r * seqLen + p])
                var e = [Double](repeating: 0, count: h)
                for j in 0..<h {
                    e[j] = word[id * h + j]
                    if tt >= 0, tt < config.typeVocabSize { e[j] += type[tt * h + j] }
                    if positions { e[j] += pos[p * h + j] }
                }
                x.append(layerNorm(store, e, "bert/embeddings/LayerNorm"))
            }
            for l in 0..<config.layers {
                x = layer(store, l, x, mask: mask)
                layers[l].append(x)
            }
        }
        return layers
    }

    /// graph.py's pooling over `referenceLayers`.
    static func reference(
        _ store: MemoryStore, _ batch: EncoderBatch, pooling: PoolingStrategy, layers: [Int], positions: Bool = true
    ) -> [Double] {
        let all = referenceLayers(store, batch, positions: positions)
        let h = config.hidden, seqLen = batch.seqLen
        var out: [Double] = []
        for r in 0..<batch.count {
            let mask = (0..<seqLen).map { Double(batch.inputMask[r * seqLen + $0]) }
            if pooling == .clsPooled {
                let first = all[config.layers - 1][r][0]
                out += dense(store, first, "bert/pooler/dense", h).map { Foundation.tanh($0) }
                continue
            }
            // encoder_layer = concat(layers, -1): [seqLen][h * layers.count]
            let encoder: [[Double]] = (0..<seqLen).map { p in
                layers.flatMap { all[$0 < 0 ? config.layers + $0 : $0][r][p] }
            }
            let dim = h * layers.count
            let tokens = mask.reduce(0, +)
            var mean = [Double](repeating: 0, count: dim)
            var max = [Double](repeating: -.infinity, count: dim)
            for p in 0..<seqLen {
                for j in 0..<dim {
                    mean[j] += encoder[p][j] * mask[p]
                    max[j] = Swift.max(max[j], encoder[p][j] - (1 - mask[p]) * 1e30)
                }
            }
            mean = mean.map { $0 / (tokens + 1e-10) }
            switch pooling {
            case .none: for p in 0..<seqLen { out += encoder[p].map { $0 * mask[p] } }
            case .reduceMean: out += mean
            case .reduceMax: out += max
            case .reduceMeanMax: out += mean + max
            case .firstToken: out += encoder[0]
            case .lastToken: out += encoder[Int(tokens) - 1]
            case .clsPooled: break
            }
        }
        return out
    }
}

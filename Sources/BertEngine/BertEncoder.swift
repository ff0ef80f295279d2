import COpenBLAS

/// The BERT forward pass and graph.py's pooling, on OpenBLAS.
///
/// One encoder per worker thread: it owns its `Workspace`, so an encoder must not be used by
/// several threads at once; the `BertWeights` it reads may be shared by any number of encoders.
///
/// A batch is packed: each sequence keeps only its leading positions up to its last attended
/// token (all of them when none is attended), and all sequences' tokens form one contiguous
/// `[tokens, hidden]` matrix, so every dense layer is one `cblas_sgemm` over the whole batch.
/// Dropping the trailing padding is exact: the original adds -10000 to the scores of masked
/// keys, whose softmax weight then underflows to exactly 0, and pooling ignores masked positions.
public final class BertEncoder {
    public let weights: BertWeights
    let workspace = Workspace()

    public init(weights: BertWeights) {
        self.weights = weights
    }

    /// Width of one output vector for `pooling` over `layerCount` pooled layers.
    public func outputDimension(pooling: PoolingStrategy, layerCount: Int) -> Int {
        let h = weights.config.hidden
        switch pooling {
        case .clsPooled: return h
        case .reduceMeanMax: return 2 * h * layerCount
        default: return h * layerCount
        }
    }

    /// Encodes `batch` as the original graph does for `-pooling_strategy pooling -pooling_layer layers`.
    /// - Parameters:
    ///   - batch: ids, mask and type ids as convert_lst_to_features produced them.
    ///   - pooling: graph.py's pooling strategy.
    ///   - layers: `-pooling_layer`: Python indices into the encoder layers (-1 is the last),
    ///     concatenated in this order along the last axis.
    /// - Returns: `[count, dim]`, or `[count, seqLen, dim]` for `.none` with zeros at masked positions.
    /// - Throws: `EngineError` for a batch or layer list the original would also reject.
    public func encode(_ batch: EncoderBatch, pooling: PoolingStrategy, layers: [Int]) throws(EngineError)
        -> EncoderOutput
    {
        let config = weights.config
        let resolved = try resolve(layers: layers)
        let dim = outputDimension(pooling: pooling, layerCount: resolved.count)
        try validate(batch)
        if pooling == .clsPooled, weights.pooler == nil { throw .missingPooler }

        let count = batch.count
        let seqLen = batch.seqLen
        let shape = pooling == .none ? [count, seqLen, dim] : [count, dim]
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        if count == 0 { return EncoderOutput(shape: shape, values: values) }

        // Rows and their packed offsets.
        let ws = workspace
        ws.lengths.removeAll(keepingCapacity: true)
        ws.offsets.removeAll(keepingCapacity: true)
        var tokens = 0
        var maxLength = 0
        batch.inputMask.withUnsafeBufferPointer { mask in
            for row in 0..<count {
                var length = seqLen
                if let last = (0..<seqLen).last(where: { mask[row * seqLen + $0] != 0 }) {
                    length = last + 1
                }
                ws.offsets.append(tokens)
                ws.lengths.append(length)
                tokens += length
                maxLength = max(maxLength, length)
            }
        }
        ws.reserve(tokens: tokens, maxLength: maxLength, count: count, config: config)

        embed(batch)
        let lastLayer = pooling == .clsPooled ? config.layers - 1 : resolved.max() ?? 0
        var lastTokenIndex: [Int] = []
        if pooling == .lastToken {
            lastTokenIndex = try lastTokenPositions(batch)
        }
        values.withUnsafeMutableBufferPointer { out in
            for l in 0...lastLayer {
                forward(layer: weights.layers[l], tokens: tokens, mask: batch.inputMask, seqLen: seqLen)
                for (slot, layer) in resolved.enumerated() where layer == l && pooling != .clsPooled {
                    pool(
                        pooling, slot: slot, slots: resolved.count, batch: batch, dim: dim,
                        lastTokenIndex: lastTokenIndex, into: out.baseAddress!)
                }
            }
            if pooling == .clsPooled, let pooler = weights.pooler {
                poolCLS(pooler, count: count, into: out.baseAddress!)
            }
        }
        return EncoderOutput(shape: shape, values: values)
    }

    // MARK: - Checks

    /// Python indices into `all_encoder_layers` -> layer numbers.
    private func resolve(layers: [Int]) throws(EngineError) -> [Int] {
        guard !layers.isEmpty else { throw .noPoolingLayer }
        let n = weights.config.layers
        var resolved: [Int] = []
        for layer in layers {
            let index = layer < 0 ? n + layer : layer
            guard index >= 0, index < n else { throw .poolingLayerOutOfRange(layer: layer, layers: n) }
            resolved.append(index)
        }
        return resolved
    }

    private func validate(_ batch: EncoderBatch) throws(EngineError) {
        let config = weights.config
        guard batch.count >= 0, batch.seqLen >= 0 else {
            throw .malformedBatch("negative count \(batch.count) or seqLen \(batch.seqLen)")
        }
        let (total, overflow) = batch.count.multipliedReportingOverflow(by: batch.seqLen)
        guard !overflow else { throw .malformedBatch("count × seqLen overflows") }
        for (name, array) in [
            ("input_ids", batch.inputIds), ("input_mask", batch.inputMask), ("input_type_ids", batch.inputTypeIds),
        ] where array.count != total {
            throw .malformedBatch("\(name) holds \(array.count) values, expected \(batch.count) × \(batch.seqLen)")
        }
        guard batch.count == 0 || batch.seqLen > 0 else { throw .malformedBatch("sequences of length 0") }
        if weights.usesPositionEmbeddings, batch.seqLen > config.maxPositionEmbeddings {
            throw .sequenceTooLong(seqLen: batch.seqLen, maxPositionEmbeddings: config.maxPositionEmbeddings)
        }
        for i in 0..<total {
            let id = batch.inputIds[i]
            if id < 0 || Int(id) >= config.vocabSize {
                throw .tokenIdOutOfRange(
                    row: i / batch.seqLen, position: i % batch.seqLen, id: id, vocabSize: config.vocabSize)
            }
            let m = batch.inputMask[i]
            if m != 0 && m != 1 {
                throw .invalidMask(row: i / batch.seqLen, position: i % batch.seqLen, value: m)
            }
        }
    }

    /// graph.py LAST_TOKEN: position `sum(mask) - 1` of each row.
    private func lastTokenPositions(_ batch: EncoderBatch) throws(EngineError) -> [Int] {
        var positions: [Int] = []
        positions.reserveCapacity(batch.count)
        for row in 0..<batch.count {
            var sum = 0
            for p in 0..<batch.seqLen { sum += Int(batch.inputMask[row * batch.seqLen + p]) }
            guard sum > 0 else { throw .noTokenToPool(row: row) }
            positions.append(sum - 1)
        }
        return positions
    }

    // MARK: - Forward pass

    /// modeling.py `embedding_lookup` + `embedding_postprocessor`: word + token type (+ position),
    /// then LayerNorm, for every packed token.
    private func embed(_ batch: EncoderBatch) {
        let w = weights
        let h = w.config.hidden
        let ws = workspace
        let x = ws.hidden.pointer
        let typeVocab = w.config.typeVocabSize
        w.wordEmbeddings.withUnsafeBufferPointer { word in
            w.tokenTypeEmbeddings.withUnsafeBufferPointer { types in
                w.positionEmbeddings.withUnsafeBufferPointer { positions in
                    for row in 0..<batch.count {
                        for p in 0..<ws.lengths[row] {
                            let i = row * batch.seqLen + p
                            let dst = x + (ws.offsets[row] + p) * h
                            let wordRow = word.baseAddress! + Int(batch.inputIds[i]) * h
                            for j in 0..<h { dst[j] = wordRow[j] }
                            // tf.one_hot gives an all-zero row for an id outside [0, type_vocab_size).
                            let type = Int(batch.inputTypeIds[i])
                            if type >= 0, type < typeVocab {
                                let typeRow = types.baseAddress! + type * h
                                for j in 0..<h { dst[j] += typeRow[j] }
                            }
                            if w.usesPositionEmbeddings {
                                let posRow = positions.baseAddress! + p * h
                                for j in 0..<h { dst[j] += posRow[j] }
                            }
                        }
                    }
                }
            }
        }
        let tokens = (ws.offsets.last ?? 0) + (ws.lengths.last ?? 0)
        w.embeddingNorm.gamma.withUnsafeBufferPointer { gamma in
            w.embeddingNorm.beta.withUnsafeBufferPointer { beta in
                VectorMath.addLayerNorm(
                    x, residual: nil, rows: tokens, cols: h, gamma: gamma.baseAddress!, beta: beta.baseAddress!)
            }
        }
    }

    /// One modeling.py `transformer_model` layer over the packed hidden states, in place.
    private func forward(layer: LayerWeights, tokens: Int, mask: [Int32], seqLen: Int) {
        let ws = workspace
        let x = ws.hidden.pointer
        // x[T, H] · wqkv[H, 3H] + b -> qkv[T, 3H]
        linear(x, rows: tokens, layer.qkv, into: ws.qkv.pointer)
        // softmax(q·kᵀ/√d + adder) · v -> context[T, H]
        mask.withUnsafeBufferPointer { attention(mask: $0.baseAddress!, seqLen: seqLen) }
        // context[T, H] · wo[H, H] + b -> attention[T, H]; LayerNorm(attention + x)
        linear(ws.context.pointer, rows: tokens, layer.attentionOutput, into: ws.attention.pointer)
        layerNorm(ws.attention.pointer, residual: x, rows: tokens, layer.attentionNorm)
        // attention[T, H] · wi[H, I] + b -> intermediate[T, I]; activation
        linear(ws.attention.pointer, rows: tokens, layer.intermediate, into: ws.intermediate.pointer)
        let n = tokens * weights.config.intermediate
        switch weights.activation {
        case .gelu: VectorMath.geluInPlace(ws.intermediate.pointer, count: n)
        case .relu: VectorMath.reluInPlace(ws.intermediate.pointer, count: n)
        case .tanh: VectorMath.tanhInPlace(ws.intermediate.pointer, count: n)
        case .linear: break
        }
        // intermediate[T, I] · wo[I, H] + b -> x[T, H]; LayerNorm(x + attention)
        linear(ws.intermediate.pointer, rows: tokens, layer.output, into: x)
        layerNorm(x, residual: ws.attention.pointer, rows: tokens, layer.outputNorm)
    }

    /// `out[rows, out] = input[rows, in] · kernel[in, out] + bias`: the bias is broadcast into
    /// `out` first, then one sgemm accumulates onto it (beta = 1).
    private func linear(_ input: UnsafePointer<Float>, rows: Int, _ dense: Dense, into out: UnsafeMutablePointer<Float>) {
        let n = dense.outFeatures
        dense.bias.withUnsafeBufferPointer { bias in
            for r in 0..<rows {
                (out + r * n).update(from: bias.baseAddress!, count: n)
            }
        }
        dense.kernel.withUnsafeBufferPointer { kernel in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(rows), Int32(n), Int32(dense.inFeatures),
                1, input, Int32(dense.inFeatures), kernel.baseAddress!, Int32(n),
                1, out, Int32(n))
        }
    }

    private func layerNorm(
        _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>, rows: Int, _ norm: LayerNormWeights
    ) {
        norm.gamma.withUnsafeBufferPointer { gamma in
            norm.beta.withUnsafeBufferPointer { beta in
                VectorMath.addLayerNorm(
                    x, residual: residual, rows: rows, cols: weights.config.hidden,
                    gamma: gamma.baseAddress!, beta: beta.baseAddress!)
            }
        }
    }

    /// modeling.py `attention_layer` per (sequence, head) on strided views of `qkv` (lda = 3H):
    /// scores = q·kᵀ · 1/√d, plus `(1 - mask) * -10000` per key, softmax, times v.
    private func attention(mask: UnsafePointer<Int32>, seqLen: Int) {
        let config = weights.config
        let h = config.hidden
        let d = config.headDim
        let ld = 3 * h
        let scale = 1 / Float(d).squareRoot()
        let ws = workspace
        let qkv = ws.qkv.pointer
        let context = ws.context.pointer
        let scores = ws.scores.pointer
        let adder = ws.keyAdder.pointer
        for row in 0..<ws.lengths.count {
            let n = ws.lengths[row]
            let base = ws.offsets[row]
            var masked = false
            for k in 0..<n {
                let m = Float(mask[row * seqLen + k])
                adder[k] = (1 - m) * -10000
                masked = masked || m == 0
            }
            for head in 0..<config.heads {
                let q = qkv + base * ld + head * d
                let k = q + h
                let v = q + 2 * h
                // q[n, d] · k[n, d]ᵀ · scale -> scores[n, n]
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d),
                    scale, q, Int32(ld), k, Int32(ld), 0, scores, Int32(n))
                if masked {
                    for i in 0..<n {
                        let r = scores + i * n
                        for j in 0..<n { r[j] += adder[j] }
                    }
                }
                VectorMath.softmaxRows(scores, rows: n, cols: n)
                // scores[n, n] · v[n, d] -> context[n, d] (ldc = H)
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n),
                    1, scores, Int32(n), v, Int32(ld), 0, context + base * h + head * d, Int32(h))
            }
        }
    }

    // MARK: - Pooling (graph.py optimize_graph, "pooling" scope)

    /// Pools the current hidden states (one encoder layer) into column block `slot` of `out`.
    private func pool(
        _ pooling: PoolingStrategy, slot: Int, slots: Int, batch: EncoderBatch, dim: Int,
        lastTokenIndex: [Int], into out: UnsafeMutablePointer<Float>
    ) {
        let h = weights.config.hidden
        let ws = workspace
        let x = ws.hidden.pointer
        let seqLen = batch.seqLen
        batch.inputMask.withUnsafeBufferPointer { maskBuffer in
            let mask = maskBuffer.baseAddress!
            for row in 0..<batch.count {
                let n = ws.lengths[row]
                let states = x + ws.offsets[row] * h
                let rowMask = mask + row * seqLen
                switch pooling {
                case .none:
                    // mul_mask: x * mask; positions past the computed length are masked: 0.
                    for p in 0..<n {
                        let m = Float(rowMask[p])
                        let dst = out + (row * seqLen + p) * dim + slot * h
                        let src = states + p * h
                        for j in 0..<h { dst[j] = src[j] * m }
                    }
                case .reduceMean:
                    reduceMean(states, rowMask, n, into: out + row * dim + slot * h)
                case .reduceMax:
                    reduceMax(states, rowMask, n, seqLen, into: out + row * dim + slot * h)
                case .reduceMeanMax:
                    reduceMean(states, rowMask, n, into: out + row * dim + slot * h)
                    reduceMax(states, rowMask, n, seqLen, into: out + row * dim + (slots + slot) * h)
                case .firstToken:
                    (out + row * dim + slot * h).update(from: states, count: h)
                case .lastToken:
                    (out + row * dim + slot * h).update(from: states + lastTokenIndex[row] * h, count: h)
                case .clsPooled:
                    break
                }
            }
        }
    }

    /// masked_reduce_mean: `sum(x * mask) / (sum(mask) + 1e-10)`.
    private func reduceMean(
        _ states: UnsafePointer<Float>, _ mask: UnsafePointer<Int32>, _ n: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let h = weights.config.hidden
        dst.update(repeating: 0, count: h)
        var tokens: Float = 0
        for p in 0..<n where mask[p] != 0 {
            tokens += 1
            let src = states + p * h
            for j in 0..<h { dst[j] += src[j] }
        }
        let denominator = tokens + 1e-10
        for j in 0..<h { dst[j] /= denominator }
    }

    /// masked_reduce_max: `max(x - (1 - mask) * 1e30)`. A masked position contributes
    /// `x - 1e30`, which is -1e30 in float32 for any hidden value, so it is taken as such, also
    /// for the positions past the computed length.
    private func reduceMax(
        _ states: UnsafePointer<Float>, _ mask: UnsafePointer<Int32>, _ n: Int, _ seqLen: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let h = weights.config.hidden
        let maskedValue = -Float(1e30)
        let anyMasked = n < seqLen || (0..<n).contains { mask[$0] == 0 }
        dst.update(repeating: anyMasked ? maskedValue : -Float.infinity, count: h)
        for p in 0..<n where mask[p] != 0 {
            let src = states + p * h
            for j in 0..<h where src[j] > dst[j] { dst[j] = src[j] }
        }
    }

    /// modeling.py pooler: `tanh(first_token · w + b)` of the last layer.
    private func poolCLS(_ pooler: Dense, count: Int, into out: UnsafeMutablePointer<Float>) {
        let h = weights.config.hidden
        let ws = workspace
        for row in 0..<count {
            (ws.poolerIn.pointer + row * h).update(from: ws.hidden.pointer + ws.offsets[row] * h, count: h)
        }
        // first[count, H] · wp[H, H] + b -> pooled[count, H]
        linear(ws.poolerIn.pointer, rows: count, pooler, into: ws.poolerOut.pointer)
        VectorMath.tanhInPlace(ws.poolerOut.pointer, count: count * h)
        out.update(from: ws.poolerOut.pointer, count: count * h)
    }
}

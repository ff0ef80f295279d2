import COpenBLAS

/// The BERT forward pass and graph.py's pooling: the dense layers on kernels packed at load, by
/// our panel kernels (AVX-512 or AVX2) in float32 and by oneDNN in bfloat16 (`-fp16`), OpenBLAS
/// as the last resort and for the pooler; attention and the elementwise passes in C
/// kernels (`CKernels`).
///
/// One encoder per worker thread: it owns its `Workspace`, so an encoder must not be used by
/// several threads at once; the `BertWeights` it reads may be shared by any number of encoders.
///
/// A batch is packed: each sequence keeps only its leading positions up to its last attended
/// token (all of them when none is attended), and all sequences' tokens form one contiguous
/// `[tokens, hidden]` matrix, so every dense layer is one matrix product over the whole batch (or
/// over each pass of at most `maxTokensPerPass` tokens).
/// Dropping the trailing padding is exact: the original adds -10000 to the scores of masked
/// keys, whose softmax weight then underflows to exactly 0, and pooling ignores masked positions.
public final class BertEncoder {
    public let weights: BertWeights
    /// Threads for attention and the elementwise passes; nil: as many as OpenBLAS uses.
    public let threads: Int?
    /// Most tokens one forward pass computes; a larger batch is encoded in several passes.
    public let maxTokensPerPass: Int
    let workspace = Workspace()

    /// Tokens per pass by default: a batch of 256 sentences of about 25 tokens fits in one, so
    /// the matrix products stay large (thousands of rows), while 256 × 128 tokens take 4 passes
    /// instead of 4× the scratch memory (all-MiniLM-L6-v2: about 120 MB instead of 500 MB).
    public static let defaultMaxTokensPerPass = 8192

    /// - Parameters:
    ///   - weights: the model, shared with other encoders.
    ///   - threads: threads for attention and the elementwise passes between matrix products;
    ///     nil (default) uses `BLAS.threads`, read at each `encode`.
    ///   - maxTokensPerPass: the most tokens one forward pass computes (at least one row is
    ///     always computed, whatever its length); bounds the scratch memory.
    public init(weights: BertWeights, threads: Int? = nil, maxTokensPerPass: Int = defaultMaxTokensPerPass) {
        self.weights = weights
        self.threads = threads
        self.maxTokensPerPass = max(1, maxTokensPerPass)
    }

    /// Sets OpenBLAS up (process-wide) for encoders of `weights` that may each use `threads`
    /// cores, and returns the `threads` to give them. When oneDNN or the panel kernels multiply
    /// the dense kernels, OpenBLAS only computes the pooler (and, before the attention kernel,
    /// attention's small per-(sequence, head) products, which the encoder spreads over its own
    /// threads): a threaded OpenBLAS call there competed with the encoder's other thread for the
    /// cores and its idle worker spun in `sched_yield`, so OpenBLAS gets one thread
    /// (all-MiniLM-L6-v2, 32 sentences of 100–120 tokens, 2 cores: +15 % sentences/s, median of
    /// 5 A/B pairs).
    public static func configureThreads(for weights: BertWeights, threads: Int) -> Int {
        BLAS.setThreads(weights.packedLayers != nil || weights.panelLayers != nil ? 1 : threads)
        return max(1, threads)
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
        let resolved = try resolve(layers: layers)
        let dim = outputDimension(pooling: pooling, layerCount: resolved.count)
        try validate(batch)
        if pooling == .clsPooled, weights.pooler == nil { throw .missingPooler }

        let count = batch.count
        let seqLen = batch.seqLen
        let shape = pooling == .none ? [count, seqLen, dim] : [count, dim]
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        if count == 0 { return EncoderOutput(shape: shape, values: values) }

        let lastTokenIndex = pooling == .lastToken ? try lastTokenPositions(batch) : []
        let rowStride = pooling == .none ? seqLen * dim : dim
        let passes = Self.passes(batch, maxTokens: maxTokensPerPass)
        try values.withUnsafeMutableBufferPointer { (out) throws(EngineError) in
            for rows in passes {
                let whole = rows.count == count
                try encodePass(
                    whole ? batch : batch.subBatch(rows), pooling: pooling, layers: resolved, dim: dim,
                    lastTokenIndex: whole || lastTokenIndex.isEmpty ? lastTokenIndex : Array(lastTokenIndex[rows]),
                    into: out.baseAddress! + rows.lowerBound * rowStride)
            }
        }
        return EncoderOutput(shape: shape, values: values)
    }

    /// Consecutive row ranges of `batch` whose computed tokens stay within `maxTokens` each (a
    /// row longer than that gets a pass of its own), so the scratch buffers, which scale with the
    /// tokens of one pass, stay bounded whatever the batch: 256 rows of 128 tokens would
    /// otherwise need hundreds of MB of activations for a small model.
    static func passes(_ batch: EncoderBatch, maxTokens: Int) -> [Range<Int>] {
        var passes: [Range<Int>] = []
        var start = 0, tokens = 0
        for row in 0..<batch.count {
            let length = computedLength(batch, row: row)
            if row > start, tokens + length > maxTokens {
                passes.append(start..<row)
                start = row
                tokens = 0
            }
            tokens += length
        }
        if batch.count > start { passes.append(start..<batch.count) }
        return passes
    }

    /// The positions of `row` the forward pass computes: up to its last attended token, or all
    /// of them when none is attended.
    static func computedLength(_ batch: EncoderBatch, row: Int) -> Int {
        let seqLen = batch.seqLen
        return batch.inputMask.withUnsafeBufferPointer { mask in
            (0..<seqLen).last(where: { mask[row * seqLen + $0] != 0 }).map { $0 + 1 } ?? seqLen
        }
    }

    /// The forward pass and pooling of one pass's rows, into `out` (the first row's output).
    private func encodePass(
        _ batch: EncoderBatch, pooling: PoolingStrategy, layers resolved: [Int], dim: Int, lastTokenIndex: [Int],
        into out: UnsafeMutablePointer<Float>
    ) throws(EngineError) {
        let config = weights.config
        let count = batch.count
        let seqLen = batch.seqLen
        // Rows and their packed offsets.
        let ws = workspace
        ws.lengths.removeAll(keepingCapacity: true)
        ws.offsets.removeAll(keepingCapacity: true)
        var tokens = 0
        var maxLength = 0
        for row in 0..<count {
            let length = Self.computedLength(batch, row: row)
            ws.offsets.append(tokens)
            ws.lengths.append(length)
            tokens += length
            maxLength = max(maxLength, length)
        }
        ws.reserve(tokens: tokens, maxLength: maxLength, count: count, config: config)

        embed(batch)
        let lastLayer = pooling == .clsPooled ? config.layers - 1 : resolved.max() ?? 0
        // Each matrix product uses all the threads; elementwise passes and attention as many,
        // but no more than one per 16 tokens.
        let productThreads = threads ?? BLAS.threads
        let parts = max(1, min(productThreads, tokens / 16))
        ws.reserveAttention(maxLength: maxLength, headDim: config.headDim, threads: parts)
        if weights.packedLayers != nil { ReducedPrecision.setThreads(productThreads) }
        for l in 0...lastLayer {
            let products = LayerProducts(
                rowMajor: weights.layers[l], oneDNN: weights.packedLayers?[l], panels: weights.panelLayers?[l],
                threads: productThreads)
            try batch.inputMask.withUnsafeBufferPointer { (mask) throws(EngineError) in
                try forward(products, tokens: tokens, mask: mask.baseAddress!, seqLen: seqLen, parts: parts)
            }
            for (slot, layer) in resolved.enumerated() where layer == l && pooling != .clsPooled {
                pool(
                    pooling, slot: slot, slots: resolved.count, batch: batch, dim: dim,
                    lastTokenIndex: lastTokenIndex, into: out)
            }
        }
        if pooling == .clsPooled, let pooler = weights.pooler {
            poolCLS(pooler, count: count, into: out)
        }
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
    ///
    /// Each dense layer is one oneDNN matmul on the packed kernel with its bias and activation
    /// (OpenMP threads), or one panel-kernel product with them (split by panels among the
    /// encoder's threads), or one sgemm over all tokens (OpenBLAS threads) and a pass adding the
    /// bias; the residual and LayerNorm that follow are one float32 pass over the rows, split
    /// among `parts` threads, as is attention (by sequence).
    private func forward(
        _ layer: LayerProducts, tokens: Int, mask: UnsafePointer<Int32>, seqLen: Int, parts: Int
    ) throws(EngineError) {
        let ws = workspace
        let x = ws.hidden.pointer
        let qkv = ws.qkv.pointer, context = ws.context.pointer
        let attention = ws.attention.pointer, intermediate = ws.intermediate.pointer
        // x[T, H] · wqkv[H, 3H] + b -> qkv[T, 3H]
        try matmul(x, rows: tokens, layer.qkv, into: qkv, parts: parts)
        // softmax(q·kᵀ/√d + adder) · v -> context[T, H]
        // Split by sequence; with fewer sequences than threads (one long sentence), by head.
        let sequences = ws.lengths.count
        let heads = weights.config.heads
        parallel(parts) { part in
            if sequences >= parts {
                let rows = self.sequenceRange(part: part, of: parts, tokens: tokens)
                self.attention(rows: rows, heads: 0..<heads, mask: mask, seqLen: seqLen, thread: part)
            } else {
                let headRange = Self.chunk(part, of: parts, count: heads)
                self.attention(rows: 0..<sequences, heads: headRange, mask: mask, seqLen: seqLen, thread: part)
            }
        }
        // context[T, H] · wo[H, H] + b -> attention[T, H]; LayerNorm(attention + x)
        try matmul(context, rows: tokens, layer.attentionOutput, into: attention, parts: parts)
        addLayerNorm(attention, residual: x, rows: tokens, layer.weights.attentionNorm, parts)
        // act(attention[T, H] · wi[H, I] + b) -> intermediate[T, I]
        try matmul(attention, rows: tokens, layer.intermediate, activation: weights.activation, into: intermediate, parts: parts)
        // intermediate[T, I] · wo[I, H] + b -> x[T, H]; LayerNorm(x + attention)
        try matmul(intermediate, rows: tokens, layer.output, into: x, parts: parts)
        addLayerNorm(x, residual: attention, rows: tokens, layer.weights.outputNorm, parts)
    }

    /// Runs `body(0..<parts)` on this encoder's thread team of `threads` threads (as many as
    /// parts by default) when `parts > 1`; returns when all are done.
    private func parallel(_ parts: Int, threads: Int? = nil, _ body: (Int) -> Void) {
        if parts <= 1 {
            body(0)
            return
        }
        // With oneDNN, its OpenMP threads multiply and ours run only the passes between; a helper
        // of ours still spinning when a product starts would hold a core the OpenMP team needs
        // (not measured: no AVX-512 machine was at hand), so ours sleep at once there, as
        // libdispatch's did before the team.
        let spin = weights.packedLayers == nil ? ThreadTeam.defaultSpinMicroseconds : 0
        workspace.team(threads: threads ?? parts, spinMicroseconds: spin).run(parts, body)
    }

    /// The fewest rows a part of a panel-kernel product split by rows gets (about two blocks of
    /// `CKernels/dense.c`'s 120 rows): below, it is split by panels.
    static let panelRowsPerPart = 256

    /// Part `part` of `0..<count` split into `parts` contiguous near-equal chunks.
    static func chunk(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    /// The sequences (indices into `workspace.lengths`) whose first token falls in token chunk `part`.
    private func sequenceRange(part: Int, of parts: Int, tokens: Int) -> Range<Int> {
        let offsets = workspace.offsets
        let tokenRange = Self.chunk(part, of: parts, count: tokens)
        func firstSequence(atOrAfter token: Int) -> Int {
            var lo = 0, hi = offsets.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if offsets[mid] < token { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let start = part == 0 ? 0 : firstSequence(atOrAfter: tokenRange.lowerBound)
        let end = part == parts - 1 ? offsets.count : firstSequence(atOrAfter: tokenRange.upperBound)
        return start..<max(start, end)
    }

    /// `out[rows, out] = activation(input[rows, in] · kernel[in, out] + bias)`. With panels, our
    /// kernels split by panels among `product.threads` threads; with `packed`, a oneDNN matmul on
    /// the packed kernel; both were packed with this `activation` and add bias and activation
    /// themselves. Otherwise an sgemm and a pass over `out` split among `parts` threads.
    /// A float32 packed product reads `input`
    /// as it is, up to `PackedDense.paddedRows(rows, multiple: 8)` rows (the padding rows hold
    /// whatever the buffer held; their results land in `out`'s padding rows and are never read);
    /// for a bfloat16 one the input is first rounded to bfloat16 (split among `parts` threads),
    /// and `out` needs `PackedDense.paddedRows(rows, multiple: 16)` rows. Workspace buffers have both.
    private func matmul(
        _ input: UnsafePointer<Float>, rows: Int, _ product: DenseProduct,
        activation: Activation = .linear, into out: UnsafeMutablePointer<Float>, parts: Int
    ) throws(EngineError) {
        if let panels = product.panels {
            assert(panels.activation == activation, "kernel packed for another activation")
            let threads = product.threads
            // A few parts per thread, claimed as threads come free: a thread the host
            // preempts for a while then holds up the product by one small part, not by half.
            // Parts of many rows take every panel (with AVX2 each part's input is copied once, into
            // scratch of its own, and read as one stream). Measured on a 2-core Zen 3 (AVX2): the
            // four products alone at BERT-base's shapes, 5,000 rows, 0.92-0.98 of OpenBLAS sgemm
            // against 0.85-0.90 split by panels, no gain at 160 rows a part; whole encodes, both
            // splits alternated in one process, 1-6 % less time (MiniLM and BERT-base, batch 32
            // and 256). On a Zen 5 (AVX-512 tiles, which read in place) 1, 2 or 4 row parts per
            // thread and the panel split were all within noise at 256 × 25. Fewer rows are split
            // by panels, read in place.
            let rowParts = threads * min(4, rows / (threads * Self.panelRowsPerPart))
            if rowParts > 0 {
                let stride = panels.inputScratchCount
                workspace.panelInputScratch.reserve(rowParts * stride)
                let scratch = workspace.panelInputScratch.pointer
                parallel(rowParts, threads: threads) { part in
                    let chunk = Self.chunk(part, of: rowParts, count: rows)
                    panels.multiply(
                        input + chunk.lowerBound * panels.inFeatures, rows: chunk.count,
                        into: out + chunk.lowerBound * panels.outFeatures, panels: 0..<panels.panels,
                        inputScratch: stride > 0 ? scratch + part * stride : nil)
                }
                return
            }
            let parts = threads > 1 ? min(panels.panels, 4 * threads) : 1
            parallel(parts, threads: threads) { part in
                panels.multiply(input, rows: rows, into: out, panels: Self.chunk(part, of: parts, count: panels.panels))
            }
            return
        }
        let dense = product.rowMajor
        guard let packed = product.oneDNN else {
            matmul(input, rows: rows, dense, into: out)
            let width = dense.outFeatures
            dense.bias.withUnsafeBufferPointer { bias in
                let bias = bias.baseAddress!
                parallel(parts) { part in
                    let chunk = Self.chunk(part, of: parts, count: rows)
                    VectorMath.addBiasActivate(
                        out + chunk.lowerBound * width, bias: bias, rows: chunk.count, cols: width, activation)
                }
            }
            return
        }
        assert(packed.activation == FusedActivation(activation), "kernel packed for another activation")
        let ws = workspace
        let source: UnsafeMutableRawPointer
        switch packed.element {
        case .float32:
            // oneDNN's C API takes every buffer as `void *`; the matmul only reads its source.
            source = UnsafeMutableRawPointer(mutating: input)
        case .bfloat16:
            let k = packed.inFeatures
            let padded = PackedDense.paddedRows(rows, multiple: packed.element.rowMultiple)
            ws.bf16Input.reserve(padded * k)
            let converted = ws.bf16Input.pointer
            parallel(parts) { part in
                let chunk = Self.chunk(part, of: parts, count: rows)
                BFloat16.convert(
                    input + chunk.lowerBound * k, into: converted + chunk.lowerBound * k, count: chunk.count * k)
            }
            (converted + rows * k).update(repeating: 0, count: (padded - rows) * k)
            source = UnsafeMutableRawPointer(converted)
        }
        do {
            if ws.stream == nil { ws.stream = try OneDNNStream(engine: OneDNN.engine.get()) }
            try packed.multiply(source, rows: rows, into: out, stream: ws.stream!)
        } catch {
            throw .matmulFailed("\(error)")
        }
    }

    /// `out[rows, out] = input[rows, in] · kernel[in, out]` (one sgemm, beta = 0; the bias is
    /// added by the pass that follows).
    private func matmul(_ input: UnsafePointer<Float>, rows: Int, _ dense: Dense, into out: UnsafeMutablePointer<Float>) {
        let n = dense.outFeatures
        dense.kernel.withUnsafeBufferPointer { kernel in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(rows), Int32(n), Int32(dense.inFeatures),
                1, input, Int32(dense.inFeatures), kernel.baseAddress!, Int32(n),
                0, out, Int32(n))
        }
    }

    /// `x = LayerNorm(x + residual)` over `rows` rows, split among `parts` threads.
    private func addLayerNorm(
        _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>, rows: Int,
        _ norm: LayerNormWeights, _ parts: Int
    ) {
        let h = weights.config.hidden
        norm.gamma.withUnsafeBufferPointer { gamma in
            norm.beta.withUnsafeBufferPointer { beta in
                let (gamma, beta) = (gamma.baseAddress!, beta.baseAddress!)
                parallel(parts) { part in
                    let chunk = Self.chunk(part, of: parts, count: rows)
                    VectorMath.addLayerNorm(
                        x + chunk.lowerBound * h, residual: residual + chunk.lowerBound * h,
                        rows: chunk.count, cols: h, gamma: gamma, beta: beta)
                }
            }
        }
    }

    /// modeling.py `attention_layer` for sequences `rows` and `heads`, per (sequence, head) on
    /// strided views of `qkv` (lda = 3H): `softmax(q·kᵀ · 1/√d + (1 - mask) · -10000) · v`, in
    /// one C call each (it replaced two OpenBLAS sgemm calls and a softmax pass, which packed
    /// their operands for every ~25 × 25 × 32 product). Uses the scratch of `thread`.
    private func attention(
        rows: Range<Int>, heads: Range<Int>, mask: UnsafePointer<Int32>, seqLen: Int, thread: Int
    ) {
        let config = weights.config
        let h = config.hidden
        let d = config.headDim
        let ld = 3 * h
        let scale = 1 / Float(d).squareRoot()
        let ws = workspace
        let qkv = ws.qkv.pointer
        let context = ws.context.pointer
        let scratch = ws.attentionScratch.pointer + thread * ws.attentionScratchStride
        let adder = ws.keyAdder.pointer + thread * ws.maxLength
        for row in rows {
            let n = ws.lengths[row]
            let base = ws.offsets[row]
            var masked = false
            for k in 0..<n {
                let m = Float(mask[row * seqLen + k])
                adder[k] = (1 - m) * -10000
                masked = masked || m == 0
            }
            for head in heads {
                let q = qkv + base * ld + head * d
                VectorMath.attention(
                    q: q, k: q + h, v: q + 2 * h, ld: ld, n: n, d: d, scale: scale,
                    adding: masked ? UnsafePointer(adder) : nil, into: context + base * h + head * d, ldo: h,
                    scratch: scratch)
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
        // first[count, H] · wp[H, H] -> pooled[count, H]; tanh(pooled + b)
        matmul(ws.poolerIn.pointer, rows: count, pooler, into: ws.poolerOut.pointer)
        pooler.bias.withUnsafeBufferPointer { bias in
            VectorMath.addBiasActivate(ws.poolerOut.pointer, bias: bias.baseAddress!, rows: count, cols: h, .tanh)
        }
        out.update(from: ws.poolerOut.pointer, count: count * h)
    }
}

/// One dense layer as the encoder multiplies it: the row-major weights (the sgemm path's kernel
/// and bias) and the packed copy that replaced the kernel, if any.
struct DenseProduct {
    let rowMajor: Dense
    let oneDNN: PackedDense?
    let panels: PanelDense?
    /// The threads a panel-kernel product is split among.
    let threads: Int
}

/// One encoder layer's four dense products and its weights (for the LayerNorms).
struct LayerProducts {
    let weights: LayerWeights
    let qkv: DenseProduct
    let attentionOutput: DenseProduct
    let intermediate: DenseProduct
    let output: DenseProduct

    init(rowMajor layer: LayerWeights, oneDNN: PackedLayer?, panels: PanelLayer?, threads: Int) {
        weights = layer
        qkv = DenseProduct(rowMajor: layer.qkv, oneDNN: oneDNN?.qkv, panels: panels?.qkv, threads: threads)
        attentionOutput = DenseProduct(
            rowMajor: layer.attentionOutput, oneDNN: oneDNN?.attentionOutput, panels: panels?.attentionOutput,
            threads: threads)
        intermediate = DenseProduct(
            rowMajor: layer.intermediate, oneDNN: oneDNN?.intermediate, panels: panels?.intermediate, threads: threads)
        output = DenseProduct(rowMajor: layer.output, oneDNN: oneDNN?.output, panels: panels?.output, threads: threads)
    }
}


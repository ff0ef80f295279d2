/// A growable scratch buffer of floats that never shrinks; its contents are not kept on growth.
typealias ScratchBuffer = TypedScratchBuffer<Float>

/// A growable scratch buffer that never shrinks; its contents are not kept on growth.
struct TypedScratchBuffer<Element: BitwiseCopyable>: ~Copyable {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: 1)
    }

    /// Makes room for `count` elements (reallocating only when the buffer is too small).
    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: count)
        capacity = count
    }

    deinit { pointer.deallocate() }
}

/// Every scratch buffer of one forward pass (like whisper.cpp's `whisper_state`): it grows to the
/// largest batch seen and is then reused, so a steady-state `encode` allocates only its result.
///
/// Owned by one `BertEncoder`; not safe to use from several threads at once.
final class Workspace {
    /// Hidden states of the packed tokens, `[tokens, hidden]`: each layer's input and output.
    var hidden = ScratchBuffer()
    /// Fused projections `[tokens, 3·hidden]`: Q | K | V.
    var qkv = ScratchBuffer()
    /// Attention context `[tokens, hidden]`.
    var context = ScratchBuffer()
    /// Attention block output (after its LayerNorm) `[tokens, hidden]`.
    var attention = ScratchBuffer()
    /// Feed-forward activations `[tokens, intermediate]`.
    var intermediate = ScratchBuffer()
    /// Scratch of `VectorMath.attention` (kᵀ, v, key bias and scores of one (sequence, head)) per thread,
    /// `[threads, attentionScratchStride]`.
    var attentionScratch = ScratchBuffer()
    /// Attention adder of one sequence's keys per thread, `[threads, maxLength]`.
    var keyAdder = ScratchBuffer()
    /// The stride of `keyAdder` and of `attentionScratch` for the current batch.
    private(set) var maxLength = 0
    private(set) var attentionScratchStride = 0
    /// Pooler input / output `[count, hidden]`.
    var poolerIn = ScratchBuffer()
    var poolerOut = ScratchBuffer()
    /// Per sequence: computed length (leading positions up to the last attended one) and offset
    /// of its first token in the packed buffers.
    var lengths: [Int] = []
    var offsets: [Int] = []
    /// Per part of a panel-kernel product split by rows, `PanelDense.inputScratchCount` floats
    /// (none on AVX-512).
    var panelInputScratch = ScratchBuffer()
    /// The bfloat16 copy of a matrix product's input, `[paddedRows(tokens), inFeatures]`.
    var bf16Input = TypedScratchBuffer<UInt16>()
    /// This encoder's oneDNN stream, made on its first oneDNN product.
    var stream: OneDNNStream?
    /// The threads this encoder's passes are split among, made on the first split pass.
    private var threadTeam: ThreadTeam?

    /// A team of at least `threads` threads whose helpers spin `spinMicroseconds` (the one made
    /// before, unless it is smaller).
    func team(threads: Int, spinMicroseconds: UInt32) -> ThreadTeam {
        if let threadTeam, threadTeam.threads >= threads { return threadTeam }
        let team = ThreadTeam(threads: threads, spinMicroseconds: spinMicroseconds)
        threadTeam = team
        return team
    }

    /// Grows every buffer to hold `tokens` packed tokens of sequences up to `maxLength` long.
    /// Matrix-product outputs get the bfloat16 path's padding rows (< 16) in either precision.
    func reserve(tokens: Int, maxLength: Int, count: Int, config: BertConfig) {
        let rows = PackedDense.paddedRowsForAnyElement(tokens)
        hidden.reserve(rows * config.hidden)
        qkv.reserve(rows * 3 * config.hidden)
        context.reserve(rows * config.hidden)
        attention.reserve(rows * config.hidden)
        intermediate.reserve(rows * config.intermediate)
        poolerIn.reserve(count * config.hidden)
        poolerOut.reserve(count * config.hidden)
    }

    /// Grows the attention scratch for `threads` threads and sequences up to `maxLength` of heads
    /// `headDim` wide.
    func reserveAttention(maxLength: Int, headDim: Int, threads: Int) {
        self.maxLength = maxLength
        attentionScratchStride = VectorMath.attentionScratchCount(n: maxLength, d: headDim)
        attentionScratch.reserve(threads * attentionScratchStride)
        keyAdder.reserve(threads * maxLength)
    }
}

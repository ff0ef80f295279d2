import CDNNL
import Foundation
import Synchronization

/// Arithmetic of the dense layers' matrix products (`-fp16` asks for `.bfloat16`).
public enum MatmulPrecision: String, Sendable, CustomStringConvertible {
    /// float32 weights and activations (our panel kernels or oneDNN on packed kernels, or OpenBLAS sgemm).
    case float32
    /// oneDNN matmul on bfloat16 weights and activations, accumulating and writing float32.
    case bfloat16

    public var description: String { rawValue }
}

/// The library that multiplies the encoder layers' dense kernels.
public enum MatmulLibrary: String, Sendable, CustomStringConvertible {
    /// oneDNN matmul on kernels packed once at load into its blocked layout: bfloat16 always,
    /// float32 when asked for by name (for comparisons).
    case oneDNN
    /// Our own float32 kernels (`CKernels/dense.c`, AVX2 + FMA or AVX-512) on kernels packed once
    /// at load into panels of 16 columns: the float32 default wherever the CPU has AVX2 and FMA.
    case panelKernels
    /// OpenBLAS `cblas_sgemm` on the row-major kernels (it packs them on every call).
    case openBLAS

    public var description: String { rawValue }
}

/// The precision and library the engine settled on at load time, and why.
public struct MatmulPrecisionChoice: Sendable, Equatable {
    /// What the caller asked for.
    public let requested: MatmulPrecision
    /// What the encoders run.
    public let active: MatmulPrecision
    /// What multiplies the dense kernels (always oneDNN for bfloat16).
    public let library: MatmulLibrary
    /// oneDNN's CPU ISA (`dnnl_get_effective_cpu_isa`), e.g. "avx512_core_amx"; nil when oneDNN was not asked.
    public let isa: String?
    /// The oneDNN matmul implementation, e.g. "brg:avx512_core_amx_bf16" or "brg:avx512_core";
    /// nil on the other libraries.
    public let implementation: String?
    /// Why a bfloat16 request runs in float32; nil otherwise.
    public let fallbackReason: String?
    /// Why float32 runs without oneDNN although oneDNN was asked for; nil otherwise.
    public let notOneDNNReason: String?
    /// Why float32 runs on OpenBLAS although our panel kernels could have been used; nil otherwise.
    public let notPanelKernelsReason: String?
    /// The panel kernels' instruction set when they multiply; nil on the other libraries.
    public let panelInstructionSet: PanelInstructionSet?

    init(
        requested: MatmulPrecision, active: MatmulPrecision, library: MatmulLibrary, isa: String?,
        implementation: String?, fallbackReason: String? = nil, notOneDNNReason: String? = nil,
        notPanelKernelsReason: String? = nil, panelInstructionSet: PanelInstructionSet? = nil
    ) {
        self.requested = requested
        self.active = active
        self.library = library
        self.isa = isa
        self.implementation = implementation
        self.fallbackReason = fallbackReason
        self.notOneDNNReason = notOneDNNReason
        self.notPanelKernelsReason = notPanelKernelsReason
        self.panelInstructionSet = panelInstructionSet
    }

    static let float32 = MatmulPrecisionChoice(
        requested: .float32, active: .float32, library: .openBLAS, isa: nil, implementation: nil)

    /// One line for the start-up log.
    public var summary: String {
        let float32Products: String
        switch library {
        case .oneDNN:
            float32Products = "matrix products in float32 (oneDNN \(OneDNN.version), ISA \(isa ?? "?"), "
                + "\(implementation ?? "?"), kernels packed at load)"
        case .panelKernels:
            let tiles = panelInstructionSet.map { "\($0)" } ?? "?"
            float32Products = "matrix products in float32 (our \(tiles) kernels, packed at load)"
        case .openBLAS:
            float32Products = "matrix products in float32 (OpenBLAS \(BLAS.coreName)"
                + (notOneDNNReason.map { "; not oneDNN: \($0)" } ?? "")
                + (notPanelKernelsReason.map { "; not our AVX2 kernels: \($0)" } ?? "") + ")"
        }
        switch (requested, active) {
        case (.bfloat16, .bfloat16):
            return "matrix products in bfloat16 (oneDNN \(OneDNN.version), ISA \(isa ?? "?"), "
                + "\(implementation ?? "?")); embeddings, attention, softmax, GELU, LayerNorm and pooling in float32"
        case (.bfloat16, _):
            return "bfloat16 unavailable (\(fallbackReason ?? "unknown reason")): computing in float32; " + float32Products
        default:
            return float32Products
        }
    }
}

/// oneDNN, as far as the engine uses it.
enum OneDNN {
    /// "2.6.3".
    static var version: String {
        guard let v = dnnl_version() else { return "?" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// The ISA oneDNN dispatches to on this machine (honours `ONEDNN_MAX_CPU_ISA`/`DNNL_MAX_CPU_ISA`).
    static var effectiveISA: dnnl_cpu_isa_t { dnnl_get_effective_cpu_isa() }

    /// Name of a `dnnl_cpu_isa_t`, as oneDNN's verbose mode spells the ISA.
    static func name(of isa: dnnl_cpu_isa_t) -> String {
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa 0x" + String(isa.rawValue, radix: 16)
        }
    }

    /// Whether `isa` executes bfloat16 dot products natively (AVX512-BF16, possibly with AMX).
    /// The ISA values are bit sets ordered by inclusion: AMX contains every AVX512-BF16 bit.
    static func hasNativeBF16(_ isa: dnnl_cpu_isa_t) -> Bool {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return isa.rawValue & bf16 == bf16
    }

    /// The process's CPU engine.
    static let engine: Result<Engine, OneDNNError> = Result { () throws(OneDNNError) in
        var handle: dnnl_engine_t?
        try check(dnnl_engine_create(&handle, dnnl_cpu, 0), "dnnl_engine_create")
        return Engine(handle: handle!)
    }

    /// A `dnnl_engine_t`; engines may be used from any thread.
    final class Engine: @unchecked Sendable {
        let handle: dnnl_engine_t
        init(handle: dnnl_engine_t) { self.handle = handle }
    }

    static func check(_ status: dnnl_status_t, _ call: String) throws(OneDNNError) {
        guard status == dnnl_success else { throw OneDNNError(call: call, status: Int(status.rawValue)) }
    }
}

/// A oneDNN call that failed.
struct OneDNNError: Error, CustomStringConvertible {
    let call: String
    let status: Int
    var description: String { "\(call) failed with oneDNN status \(status)" }
}

/// The element type of a packed kernel and of the activations multiplied by it; the matmul
/// accumulates and writes float32 either way.
enum PackedElement: Sendable, Equatable {
    case float32
    case bfloat16

    var dataType: dnnl_data_type_t { self == .float32 ? dnnl_f32 : dnnl_bf16 }

    /// What a primitive's row count is rounded up to, so a server sees few shapes, each compiled
    /// once: bfloat16 an AMX tile's height (16); float32 8, since brgemm's f32 kernels take any
    /// row count and padding a 25-token sentence to 32 rows would cost 28 % of batch-1 latency
    /// (to 32 at most 7 rows, < 28 % below 25 tokens, a few % above 100).
    var rowMultiple: Int { self == .float32 ? 8 : 16 }

    /// Tails shorter than this are computed at their exact row count (float32 only): one
    /// sentence of 17–31 tokens, the batch-1 case, ran 6 % faster unpadded (MiniLM, oneDNN 2.6.3,
    /// Sapphire Rapids), at the price of at most 31 more shapes per kernel shape.
    var exactTailBelow: Int { self == .float32 ? 32 : 0 }
}

/// One dense layer's kernel in float32 or bfloat16, in the blocked layout oneDNN's matmul reads
/// (chosen by the primitive, not by us: it depends on the ISA), with the matmul primitives built
/// for it so far (one per row count; see `rowShapes`). Packing once at load is what sgemm
/// cannot do: OpenBLAS repacks the kernel on every call, which dominates at a few dozen rows.
///
/// The product includes the layer's bias and activation (modeling.py `dense(…, activation=…)`):
/// oneDNN adds them to each output block while it is still in registers, where a separate pass
/// over the output would read and write it once more (GELU over the intermediate layer's
/// `[tokens, 4H]` output was 7.5 % of a MiniLM 256 × 25 profile as a pass of its own).
///
/// Shared read-only by every encoder: oneDNN primitives may execute on several threads at
/// once (the library is built with DNNL_ENABLE_CONCURRENT_EXEC), and the primitive table is
/// behind a mutex.
final class PackedDense: @unchecked Sendable {
    let element: PackedElement
    let inFeatures: Int
    let outFeatures: Int
    private let engine: OneDNN.Engine
    /// The packed kernel, allocated by oneDNN in `weightsDesc`'s layout.
    private let weights: dnnl_memory_t
    private var weightsDesc: dnnl_memory_desc_t
    /// The bias, float32 `[1, out]`, added to every row.
    private let bias: dnnl_memory_t
    /// Applied after the bias; nil for a linear layer.
    let activation: FusedActivation?
    /// The implementation oneDNN picked for the representative shape, e.g.
    /// "brg:avx512_core_amx_bf16" or "brg:avx512_core" (float32).
    let implementation: String

    /// What a matmul primitive depends on (not the weights, which are an execution argument).
    private struct Shape: Hashable {
        let element: PackedElement
        let k: Int
        let n: Int
        let rows: Int
        let activation: FusedActivation?
    }
    /// Primitives built so far, shared by every packed layer of the same shape: a model has four
    /// kernel shapes, so each row count is compiled four times, not four times per layer.
    /// With `rowShapes` that bounds the table to a few hundred entries for any traffic; a
    /// primitive per (layer, exact row count) grew the soak test's RSS by 6 % in 30 s.
    private static let primitives = Mutex<[Shape: Primitive]>([:])

    /// A matmul primitive for one row count, and the scratchpad each execution passes it.
    final class Primitive: @unchecked Sendable {
        let handle: dnnl_primitive_t
        var scratchpadDesc: dnnl_memory_desc_t
        let scratchpadBytes: Int
        init(handle: dnnl_primitive_t, scratchpadDesc: dnnl_memory_desc_t) {
            self.handle = handle
            self.scratchpadDesc = scratchpadDesc
            var desc = scratchpadDesc
            scratchpadBytes = dnnl_memory_desc_get_size(&desc)
        }
        deinit { dnnl_primitive_destroy(handle) }
    }

    /// Converts `dense.kernel` (`[in, out]` row-major float32) to `element` and reorders it into
    /// the layout the matmul primitive asks for (the same for every row count: it depends on
    /// the ISA and the kernel's shape only; `primitive(rows:)` passes this exact layout).
    /// `activation` follows the bias in every product.
    init(_ dense: Dense, element: PackedElement, activation: Activation, engine: OneDNN.Engine) throws(OneDNNError) {
        self.element = element
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
        let fused = FusedActivation(activation)
        self.activation = fused
        self.engine = engine
        let (k, n) = (Int64(dense.inFeatures), Int64(dense.outFeatures))
        var plainDesc = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&plainDesc, k, n, element.dataType, dnnl_ab), "memory_desc(weights)")
        var anyDesc = dnnl_memory_desc_t()
        try OneDNN.check(
            cdnnl_matrix_desc(&anyDesc, k, n, element.dataType, dnnl_format_tag_any), "memory_desc(any)")
        let (pd, impl) = try Self.primitiveDesc(
            element: element, rows: Self.representativeRows, k: k, n: n, weights: &anyDesc,
            activation: fused, engine: engine)
        defer { dnnl_primitive_desc_destroy(pd) }
        implementation = impl
        weightsDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee

        var biasDesc = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&biasDesc, 1, n, dnnl_f32, dnnl_ab), "memory_desc(bias)")
        var packed: dnnl_memory_t?
        try OneDNN.check(cdnnl_memory_allocate(&packed, &weightsDesc, engine.handle), "memory_create(packed)")
        var biasMemory: dnnl_memory_t?
        let biasStatus = cdnnl_memory_allocate(&biasMemory, &biasDesc, engine.handle)
        if biasStatus != dnnl_success { dnnl_memory_destroy(packed) }
        try OneDNN.check(biasStatus, "memory_create(bias)")
        weights = packed!
        bias = biasMemory!
        // From here on the object is whole, so a throw runs deinit, which frees both memories.
        var biasValues: UnsafeMutableRawPointer?
        try OneDNN.check(dnnl_memory_get_data_handle(bias, &biasValues), "memory_get_data_handle(bias)")
        dense.bias.withUnsafeBytes { source in
            biasValues!.copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        switch element {
        case .float32:
            // The reorder only reads its source; oneDNN's C API takes it as `void *` regardless.
            let reordered = dense.kernel.withUnsafeBytes { plain in
                Result { () throws(OneDNNError) in
                    try Self.reorder(
                        from: &plainDesc, UnsafeMutableRawPointer(mutating: plain.baseAddress!), to: &weightsDesc,
                        weights, engine: engine)
                }
            }
            try reordered.get()
        case .bfloat16:
            let plain = UnsafeMutablePointer<UInt16>.allocate(capacity: dense.kernel.count)
            defer { plain.deallocate() }
            dense.kernel.withUnsafeBufferPointer { src in
                BFloat16.convert(src.baseAddress!, into: plain, count: src.count)
            }
            try Self.reorder(
                from: &plainDesc, UnsafeMutableRawPointer(plain), to: &weightsDesc, weights, engine: engine)
        }
    }

    deinit {
        dnnl_memory_destroy(weights)
        dnnl_memory_destroy(bias)
    }

    /// Rows of the shape the packed layout is chosen for (a batch of 256 short sentences).
    static let representativeRows: Int64 = 4096

    /// Row counts a batch of `rows` is computed as: a multiple of 256 and a remainder rounded
    /// up to `multiple` (`PackedElement.rowMultiple`) unless it is below `exactBelow`
    /// (`PackedElement.exactTailBelow`), so a server sees at most a few hundred shapes, each
    /// compiled once, instead of one per token count.
    static func rowShapes(_ rows: Int, multiple: Int, exactBelow: Int = 0) -> (bulk: Int, tail: Int) {
        let bulk = rows / 256 * 256
        let remainder = rows - bulk
        if remainder < exactBelow { return (bulk, remainder) }
        return (bulk, (remainder + multiple - 1) / multiple * multiple)
    }

    /// Rows a buffer needs for `rows` rows of input or output (the padding of `rowShapes`).
    static func paddedRows(_ rows: Int, multiple: Int) -> Int {
        let (bulk, tail) = rowShapes(rows, multiple: multiple)
        return bulk + tail
    }

    /// Rows of any element type's padding: what a workspace reserves for `rows` rows.
    static func paddedRowsForAnyElement(_ rows: Int) -> Int {
        paddedRows(rows, multiple: max(PackedElement.float32.rowMultiple, PackedElement.bfloat16.rowMultiple))
    }

    /// `dst[rows, out] = activation(src[rows, in] · kernel + bias)` with float32 accumulation; `src` holds `element`
    /// values. `src` and `dst` must hold `paddedRows(rows, multiple: element.rowMultiple)` rows;
    /// the padding rows of `dst` are overwritten.
    func multiply(
        _ src: UnsafeMutableRawPointer, rows: Int, into dst: UnsafeMutablePointer<Float>,
        stream: OneDNNStream
    ) throws(OneDNNError) {
        let (bulk, tail) = Self.rowShapes(rows, multiple: element.rowMultiple, exactBelow: element.exactTailBelow)
        if bulk > 0 { try execute(src, rows: bulk, into: dst, stream: stream) }
        if tail > 0 {
            let elementBytes = element == .float32 ? 4 : 2
            try execute(
                src + bulk * inFeatures * elementBytes, rows: tail, into: dst + bulk * outFeatures, stream: stream)
        }
    }

    private func execute(
        _ src: UnsafeMutableRawPointer, rows: Int, into dst: UnsafeMutablePointer<Float>, stream: OneDNNStream
    ) throws(OneDNNError) {
        let primitive = try primitive(rows: rows)
        var srcDesc = dnnl_memory_desc_t(), dstDesc = dnnl_memory_desc_t()
        try OneDNN.check(
            cdnnl_matrix_desc(&srcDesc, Int64(rows), Int64(inFeatures), element.dataType, dnnl_ab), "memory_desc(src)")
        try OneDNN.check(
            cdnnl_matrix_desc(&dstDesc, Int64(rows), Int64(outFeatures), dnnl_f32, dnnl_ab), "memory_desc(dst)")
        var srcMemory: dnnl_memory_t?, dstMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&srcMemory, &srcDesc, engine.handle, src), "memory_create(src)")
        defer { dnnl_memory_destroy(srcMemory) }
        try OneDNN.check(dnnl_memory_create(&dstMemory, &dstDesc, engine.handle, dst), "memory_create(dst)")
        defer { dnnl_memory_destroy(dstMemory) }
        var scratchpadMemory: dnnl_memory_t?
        try OneDNN.check(
            dnnl_memory_create(
                &scratchpadMemory, &primitive.scratchpadDesc, engine.handle,
                stream.scratchpad(bytes: primitive.scratchpadBytes)),
            "memory_create(scratchpad)")
        defer { dnnl_memory_destroy(scratchpadMemory) }
        var args = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: srcMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: bias),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dstMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpadMemory),
        ]
        try OneDNN.check(
            dnnl_primitive_execute(primitive.handle, stream.handle, Int32(args.count), &args), "matmul execute")
        try OneDNN.check(dnnl_stream_wait(stream.handle), "stream_wait")
    }

    /// The primitive for `rows` rows, built on first use.
    private func primitive(rows: Int) throws(OneDNNError) -> Primitive {
        let shape = Shape(element: element, k: inFeatures, n: outFeatures, rows: rows, activation: activation)
        if let cached = Self.primitives.withLock({ $0[shape] }) { return cached }
        var desc = weightsDesc
        let (pd, _) = try Self.primitiveDesc(
            element: element, rows: Int64(rows), k: Int64(inFeatures), n: Int64(outFeatures), weights: &desc,
            activation: activation, engine: engine)
        defer { dnnl_primitive_desc_destroy(pd) }
        var handle: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&handle, pd), "primitive_create(matmul)")
        let made = Primitive(
            handle: handle!, scratchpadDesc: dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!.pointee)
        return Self.primitives.withLock { table in
            if let raced = table[shape] { return raced }
            table[shape] = made
            return made
        }
    }

    /// A matmul `activation(element[rows, k] · element[k, n] + f32[1, n]) -> f32[rows, n]` with the
    /// given weights layout.
    private static func primitiveDesc(
        element: PackedElement, rows: Int64, k: Int64, n: Int64, weights: inout dnnl_memory_desc_t,
        activation: FusedActivation?, engine: OneDNN.Engine
    ) throws(OneDNNError) -> (dnnl_primitive_desc_t, String) {
        var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t(), bias = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&src, rows, k, element.dataType, dnnl_ab), "memory_desc(src)")
        try OneDNN.check(cdnnl_matrix_desc(&dst, rows, n, dnnl_f32, dnnl_ab), "memory_desc(dst)")
        try OneDNN.check(cdnnl_matrix_desc(&bias, 1, n, dnnl_f32, dnnl_ab), "memory_desc(bias)")
        var op = dnnl_matmul_desc_t()
        try OneDNN.check(dnnl_matmul_desc_init(&op, &src, &weights, &bias, &dst), "matmul_desc_init")
        // The library-managed scratchpad of 2.6.3's brgemm matmul is shared by concurrent
        // executions of one primitive (measured: wrong results from two workers at once, on
        // both the AMX and the AVX512-BF16 kernels), so each encoder passes its own.
        var attributes: dnnl_primitive_attr_t?
        try OneDNN.check(dnnl_primitive_attr_create(&attributes), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attributes) }
        try OneDNN.check(
            dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        if let activation {
            var postOps: dnnl_post_ops_t?
            try OneDNN.check(dnnl_post_ops_create(&postOps), "post_ops_create")
            defer { dnnl_post_ops_destroy(postOps) }
            try OneDNN.check(
                dnnl_post_ops_append_eltwise(postOps, 1, activation.algorithm, 0, 0), "post_ops_append_eltwise")
            try OneDNN.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "primitive_attr_set_post_ops")
        }
        var pd: dnnl_primitive_desc_t?
        try OneDNN.check(
            dnnl_primitive_desc_create(&pd, &op, attributes, engine.handle, nil), "primitive_desc_create(matmul)")
        var info: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        return (pd!, info.map { String(cString: $0) } ?? "?")
    }

    /// Copies `src` (in `srcDesc`'s layout) into `dst` (in `dstDesc`'s) with a oneDNN reorder.
    private static func reorder(
        from srcDesc: inout dnnl_memory_desc_t, _ src: UnsafeMutableRawPointer,
        to dstDesc: inout dnnl_memory_desc_t, _ dst: dnnl_memory_t, engine: OneDNN.Engine
    ) throws(OneDNNError) {
        var srcMemory: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&srcMemory, &srcDesc, engine.handle, src), "memory_create(plain)")
        defer { dnnl_memory_destroy(srcMemory) }
        var pd: dnnl_primitive_desc_t?
        try OneDNN.check(
            dnnl_reorder_primitive_desc_create(&pd, &srcDesc, engine.handle, &dstDesc, engine.handle, nil),
            "reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        var reorder: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&reorder, pd), "primitive_create(reorder)")
        defer { dnnl_primitive_destroy(reorder) }
        let stream = try OneDNNStream(engine: engine)
        var args = [
            dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: srcMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dst),
        ]
        try OneDNN.check(dnnl_primitive_execute(reorder, stream.handle, Int32(args.count), &args), "reorder execute")
        try OneDNN.check(dnnl_stream_wait(stream.handle), "stream_wait")
    }
}

/// A dense layer's activation as a oneDNN eltwise post-op (nil for a linear layer).
enum FusedActivation: Hashable, Sendable {
    /// modeling.py `gelu`: `x · ½(1 + erf(x/√2))`; oneDNN evaluates erf with the same
    /// Abramowitz–Stegun 7.1.26 polynomial as our C kernel (`bss_add_bias_activate`).
    case geluErf
    case relu
    case tanh

    init?(_ activation: Activation) {
        switch activation {
        case .linear: return nil
        case .gelu: self = .geluErf
        case .relu: self = .relu
        case .tanh: self = .tanh
        }
    }

    var algorithm: dnnl_alg_kind_t {
        switch self {
        case .geluErf: dnnl_eltwise_gelu_erf
        case .relu: dnnl_eltwise_relu
        case .tanh: dnnl_eltwise_tanh
        }
    }
}

/// A oneDNN stream and matmul scratchpad: one per encoder (neither is for concurrent use).
final class OneDNNStream {
    let handle: dnnl_stream_t
    private var scratchpadPointer: UnsafeMutableRawPointer?
    private var scratchpadCapacity = 0

    init(engine: OneDNN.Engine) throws(OneDNNError) {
        var stream: dnnl_stream_t?
        try OneDNN.check(dnnl_stream_create(&stream, engine.handle, dnnl_stream_default_flags.rawValue), "stream_create")
        handle = stream!
    }

    /// At least `bytes` bytes (64-byte aligned) for one execution's scratchpad; grows, never shrinks.
    func scratchpad(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchpadCapacity || scratchpadPointer == nil {
            scratchpadPointer?.deallocate()
            scratchpadCapacity = max(bytes, 64)
            scratchpadPointer = UnsafeMutableRawPointer.allocate(byteCount: scratchpadCapacity, alignment: 64)
        }
        return scratchpadPointer!
    }

    deinit {
        scratchpadPointer?.deallocate()
        dnnl_stream_destroy(handle)
    }
}

/// The dense kernels of one encoder layer, packed for oneDNN (all four of one element type).
struct PackedLayer: Sendable {
    let qkv: PackedDense
    let attentionOutput: PackedDense
    let intermediate: PackedDense
    let output: PackedDense

    /// `activation` is the intermediate layer's (`hidden_act`); the other three are linear.
    init(_ layer: LayerWeights, element: PackedElement, activation: Activation, engine: OneDNN.Engine)
        throws(OneDNNError)
    {
        qkv = try PackedDense(layer.qkv, element: element, activation: .linear, engine: engine)
        attentionOutput = try PackedDense(layer.attentionOutput, element: element, activation: .linear, engine: engine)
        intermediate = try PackedDense(layer.intermediate, element: element, activation: activation, engine: engine)
        output = try PackedDense(layer.output, element: element, activation: .linear, engine: engine)
    }
}

/// bfloat16 conversion of activations (per matrix product) and weights (once).
enum BFloat16 {
    /// `dst[i] = bfloat16(src[i])`, rounded to nearest even. Callers have checked the CPU has
    /// AVX512-BF16 (the only path that packs weights).
    static func convert(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int) {
        cdnnl_convert_to_bf16(src, dst, count)
    }

    /// Float value of a bfloat16 bit pattern.
    static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
}

/// The first layer's dense kernels as `ReducedPrecision.prepare` packed them; the model's later
/// layers are packed the same way as they are read.
enum PackedKernels {
    /// For oneDNN's matmul, as `PackedElement`.
    case oneDNN([PackedLayer], PackedElement)
    /// For our panel kernels (float32).
    case panels([PanelLayer])
    /// Not packed: OpenBLAS multiplies the row-major kernels.
    case none
}

/// Chooses the matrix-product precision and library for a model and packs its kernels.
enum ReducedPrecision {
    /// The decision for `requested` on a CPU whose oneDNN ISA is `isa`: bfloat16 only with native
    /// bfloat16 instructions (oneDNN would emulate them on plain AVX-512, slower than sgemm).
    static func decide(requested: MatmulPrecision, isa: dnnl_cpu_isa_t) -> MatmulPrecisionChoice {
        guard requested == .bfloat16 else { return .float32 }
        let name = OneDNN.name(of: isa)
        guard OneDNN.hasNativeBF16(isa) else {
            return MatmulPrecisionChoice(
                requested: requested, active: .float32, library: .openBLAS, isa: name, implementation: nil,
                fallbackReason: "this CPU has no AVX512-BF16; oneDNN's best ISA here is \(name)")
        }
        return MatmulPrecisionChoice(
            requested: requested, active: .bfloat16, library: .oneDNN, isa: name, implementation: nil)
    }

    /// Packs the first layer's kernels for the library that will multiply them: oneDNN in
    /// bfloat16 when `requested` is bfloat16 and the CPU runs it natively; else, for float32
    /// with `library` nil (the fastest), our panel kernels on the widest instruction set the CPU
    /// has (AVX-512, else AVX2 + FMA), OpenBLAS without AVX2; a `library` named is used where the
    /// CPU runs it, OpenBLAS otherwise, and `panelInstructionSet` (at most `.best`) picks the
    /// panel kernels' tiles. The choice says why; a oneDNN failure is such a reason, never an
    /// error: the model serves.
    ///
    /// Float32 left oneDNN's matmul (brg:avx512_core) for the panel kernels on AVX-512 CPUs once
    /// those had AVX-512 tiles: on a 2-core Zen 5, both alternated in one process, one sentence
    /// took 0.58× (MiniLM) / 0.83× (BERT-base) of oneDNN's time, 32 × 25 0.91-0.97×, 256 × 25
    /// 0.98-1.03× (noise); oneDNN's f32 brgemm has no small-M kernel as good.
    static func prepare(
        requested: MatmulPrecision, library: MatmulLibrary?, panelInstructionSet: PanelInstructionSet? = nil,
        layers: [LayerWeights], activation: Activation
    ) -> (MatmulPrecisionChoice, PackedKernels)
    {
        let isa = OneDNN.effectiveISA
        let decision = decide(requested: requested, isa: isa)
        var bf16FallbackReason = decision.fallbackReason
        if decision.active == .bfloat16 {
            switch pack(layers, element: .bfloat16, activation: activation) {
            // "brg:avx512_core_bf16", "brg:avx512_core_amx_bf16": JIT bfloat16 kernels. Anything
            // else (gemm:jit, ref) converts back and forth and loses to sgemm.
            case .success(let (packed, implementation))
            where implementation.hasPrefix("brg:") && implementation.hasSuffix("bf16"):
                return (MatmulPrecisionChoice(
                    requested: requested, active: .bfloat16, library: .oneDNN, isa: decision.isa,
                    implementation: implementation), .oneDNN(packed, .bfloat16))
            case .success(let (_, implementation)):
                bf16FallbackReason = "oneDNN offers only \(implementation) for bfloat16 matmul on this CPU"
            case .failure(let error):
                bf16FallbackReason = error.description
            }
        }
        let name = OneDNN.name(of: isa)
        func choice(
            _ library: MatmulLibrary, _ notOneDNN: String?, notPanels: String? = nil,
            panels: PanelInstructionSet? = nil
        ) -> MatmulPrecisionChoice {
            MatmulPrecisionChoice(
                requested: requested, active: .float32, library: library, isa: name, implementation: nil,
                fallbackReason: bf16FallbackReason, notOneDNNReason: notOneDNN, notPanelKernelsReason: notPanels,
                panelInstructionSet: panels)
        }
        switch library {
        case .openBLAS?:
            return (choice(.openBLAS, nil), .none)
        case .panelKernels?, nil:
            guard let best = PanelInstructionSet.best else {
                return (choice(.openBLAS, nil, notPanels: "this CPU lacks AVX2 or FMA"), .none)
            }
            let tiles = min(panelInstructionSet ?? best, best)
            return (choice(.panelKernels, nil, panels: tiles), .panels(layers.map {
                PanelLayer($0, activation: activation, instructionSet: tiles)
            }))
        case .oneDNN?:
            switch pack(layers, element: .float32, activation: activation) {
            // "brg:avx512_core" (and its AMX/BF16-capable relatives): kernels that read the packed
            // layout. gemm:jit (AVX2 and older, or a capped ONEDNN_MAX_CPU_ISA) keeps the plain
            // layout and repacks per call as sgemm does: OpenBLAS runs there.
            case .success(let (packed, implementation)) where implementation.hasPrefix("brg:"):
                return (MatmulPrecisionChoice(
                    requested: requested, active: .float32, library: .oneDNN, isa: name,
                    implementation: implementation, fallbackReason: bf16FallbackReason), .oneDNN(packed, .float32))
            case .success(let (_, implementation)):
                let reason = "oneDNN offers only \(implementation) for float32 matmul with ISA \(name)"
                return (choice(.openBLAS, reason), .none)
            case .failure(let error):
                return (choice(.openBLAS, error.description), .none)
            }
        }
    }

    /// Every layer's kernels packed as `element`, and the implementation oneDNN chose for them.
    private static func pack(_ layers: [LayerWeights], element: PackedElement, activation: Activation)
        -> Result<([PackedLayer], String), OneDNNError>
    {
        Result { () throws(OneDNNError) in
            let engine = try OneDNN.engine.get()
            let packed = try layers.map { (layer) throws(OneDNNError) in
                try PackedLayer(layer, element: element, activation: activation, engine: engine)
            }
            return (packed, packed.first?.qkv.implementation ?? "?")
        }
    }

    /// Sets the OpenMP team size oneDNN's matmul uses on the calling thread.
    static func setThreads(_ threads: Int) {
        _ = cdnnl_set_openmp_threads(Int32(clamping: max(1, threads)))
    }
}

/// How idle OpenMP threads (oneDNN's, in Debian's libgomp build) wait for the next matmul.
///
/// libgomp's default lets them spin for a while after each parallel region. The encoder runs
/// attention, LayerNorm and GELU between two matmuls, on OpenBLAS's and its own threads: with
/// as many threads as cores, a spinning OpenMP worker takes a core from them (measured,
/// all-MiniLM-L6-v2, 1 × 25 tokens, 2 threads on 2 cores: 116 ms per call spinning, 14 ms
/// passive, OpenBLAS 54–78 ms). libgomp reads the policy only when it loads, so a process
/// must be executed again with it set.
public enum OpenMPWaitPolicy {
    /// The variable libgomp reads.
    public static let variable = "OMP_WAIT_POLICY"

    /// "PASSIVE" unless the user chose how OpenMP threads wait (`OMP_WAIT_POLICY`, or libgomp's
    /// `GOMP_SPINCOUNT`), which is honoured; nil then.
    public static func recommended(environment: [String: String]) -> String? {
        environment[variable] == nil && environment["GOMP_SPINCOUNT"] == nil ? "PASSIVE" : nil
    }
}

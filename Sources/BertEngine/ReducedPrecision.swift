import CDNNL
import Foundation
import Synchronization

/// Arithmetic of the dense layers' matrix products (`-fp16` asks for `.bfloat16`).
public enum MatmulPrecision: String, Sendable, CustomStringConvertible {
    /// OpenBLAS sgemm.
    case float32
    /// oneDNN matmul on bfloat16 weights and activations, accumulating and writing float32.
    case bfloat16

    public var description: String { rawValue }
}

/// The precision the engine settled on at load time, and why.
public struct MatmulPrecisionChoice: Sendable, Equatable {
    /// What the caller asked for.
    public let requested: MatmulPrecision
    /// What the encoders run.
    public let active: MatmulPrecision
    /// oneDNN's CPU ISA (`dnnl_get_effective_cpu_isa`), e.g. "avx512_core_amx"; nil when oneDNN was not asked.
    public let isa: String?
    /// The oneDNN matmul implementation, e.g. "brg:avx512_core_amx_bf16"; nil for float32.
    public let implementation: String?
    /// Why a bfloat16 request runs in float32; nil otherwise.
    public let fallbackReason: String?

    static let float32 = MatmulPrecisionChoice(
        requested: .float32, active: .float32, isa: nil, implementation: nil, fallbackReason: nil)

    /// One line for the start-up log.
    public var summary: String {
        switch (requested, active) {
        case (.bfloat16, .bfloat16):
            return "matrix products in bfloat16 (oneDNN \(OneDNN.version), ISA \(isa ?? "?"), "
                + "\(implementation ?? "?")); embeddings, attention, softmax, GELU, LayerNorm and pooling in float32"
        case (.bfloat16, _):
            return "bfloat16 unavailable (\(fallbackReason ?? "unknown reason")): computing in float32"
        default:
            return "matrix products in float32 (OpenBLAS \(BLAS.coreName))"
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

/// One dense layer's kernel in bfloat16, in the blocked layout oneDNN's matmul reads, with
/// the matmul primitives built for it so far (one per row count; see `rowShapes`).
///
/// Shared read-only by every encoder: oneDNN primitives may execute on several threads at
/// once (the library is built with DNNL_ENABLE_CONCURRENT_EXEC), and the primitive table is
/// behind a mutex.
final class PackedBF16Dense: @unchecked Sendable {
    let inFeatures: Int
    let outFeatures: Int
    private let engine: OneDNN.Engine
    /// The packed kernel, allocated by oneDNN in `weightsDesc`'s layout.
    private let weights: dnnl_memory_t
    private var weightsDesc: dnnl_memory_desc_t
    /// The implementation oneDNN picked for the representative shape, e.g. "brg:avx512_core_amx_bf16".
    let implementation: String
    private let primitives = Mutex<[Int: Primitive]>([:])

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

    /// Converts `dense.kernel` (`[in, out]` row-major float32) to bfloat16 and reorders it into
    /// the layout the matmul primitive asks for (the same for every row count: it depends on
    /// the ISA and the kernel's shape only; `primitive(rows:)` passes this exact layout).
    init(_ dense: Dense, engine: OneDNN.Engine) throws(OneDNNError) {
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
        self.engine = engine
        let (k, n) = (Int64(dense.inFeatures), Int64(dense.outFeatures))
        var plainDesc = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&plainDesc, k, n, dnnl_bf16, dnnl_ab), "memory_desc(weights)")
        var anyDesc = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&anyDesc, k, n, dnnl_bf16, dnnl_format_tag_any), "memory_desc(any)")
        let (pd, impl) = try Self.primitiveDesc(
            rows: Self.representativeRows, k: k, n: n, weights: &anyDesc, engine: engine)
        defer { dnnl_primitive_desc_destroy(pd) }
        implementation = impl
        weightsDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee

        var packed: dnnl_memory_t?
        try OneDNN.check(cdnnl_memory_allocate(&packed, &weightsDesc, engine.handle), "memory_create(packed)")
        weights = packed!
        // From here on the object is whole, so a throw runs deinit, which frees `weights`.
        let plain = UnsafeMutablePointer<UInt16>.allocate(capacity: dense.kernel.count)
        defer { plain.deallocate() }
        dense.kernel.withUnsafeBufferPointer { src in
            BFloat16.convert(src.baseAddress!, into: plain, count: src.count)
        }
        try Self.reorder(from: &plainDesc, UnsafeMutableRawPointer(plain), to: &weightsDesc, weights, engine: engine)
    }

    deinit { dnnl_memory_destroy(weights) }

    /// Rows of the shape the packed layout is chosen for (a batch of 256 short sentences).
    static let representativeRows: Int64 = 4096

    /// Row counts a batch of `rows` is computed as: a multiple of 256 and a remainder padded
    /// to a multiple of 16 (an AMX tile's height), so a server sees a few dozen shapes, each
    /// compiled once, instead of one per token count. The padding costs < 16 rows.
    static func rowShapes(_ rows: Int) -> (bulk: Int, tail: Int) {
        let bulk = rows / 256 * 256
        let remainder = rows - bulk
        return (bulk, (remainder + 15) / 16 * 16)
    }

    /// Rows a destination buffer needs for `rows` rows of output (the padding of `rowShapes`).
    static func paddedRows(_ rows: Int) -> Int {
        let (bulk, tail) = rowShapes(rows)
        return bulk + tail
    }

    /// `dst[rows, out] = src[rows, in] · kernel` in bfloat16 with float32 accumulation.
    /// `src` and `dst` must hold `paddedRows(rows)` rows; the padding rows of `dst` are overwritten.
    func multiply(
        _ src: UnsafeMutablePointer<UInt16>, rows: Int, into dst: UnsafeMutablePointer<Float>,
        stream: OneDNNStream
    ) throws(OneDNNError) {
        let (bulk, tail) = Self.rowShapes(rows)
        if bulk > 0 { try execute(src, rows: bulk, into: dst, stream: stream) }
        if tail > 0 {
            try execute(src + bulk * inFeatures, rows: tail, into: dst + bulk * outFeatures, stream: stream)
        }
    }

    private func execute(
        _ src: UnsafeMutablePointer<UInt16>, rows: Int, into dst: UnsafeMutablePointer<Float>, stream: OneDNNStream
    ) throws(OneDNNError) {
        let primitive = try primitive(rows: rows)
        var srcDesc = dnnl_memory_desc_t(), dstDesc = dnnl_memory_desc_t()
        try OneDNN.check(
            cdnnl_matrix_desc(&srcDesc, Int64(rows), Int64(inFeatures), dnnl_bf16, dnnl_ab), "memory_desc(src)")
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
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dstMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpadMemory),
        ]
        try OneDNN.check(
            dnnl_primitive_execute(primitive.handle, stream.handle, Int32(args.count), &args), "matmul execute")
        try OneDNN.check(dnnl_stream_wait(stream.handle), "stream_wait")
    }

    /// The primitive for `rows` rows, built on first use.
    private func primitive(rows: Int) throws(OneDNNError) -> Primitive {
        if let cached = primitives.withLock({ $0[rows] }) { return cached }
        var desc = weightsDesc
        let (pd, _) = try Self.primitiveDesc(
            rows: Int64(rows), k: Int64(inFeatures), n: Int64(outFeatures), weights: &desc, engine: engine)
        defer { dnnl_primitive_desc_destroy(pd) }
        var handle: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&handle, pd), "primitive_create(matmul)")
        let made = Primitive(
            handle: handle!, scratchpadDesc: dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!.pointee)
        return primitives.withLock { table in
            if let raced = table[rows] { return raced }
            table[rows] = made
            return made
        }
    }

    /// A matmul `bf16[rows, k] · bf16[k, n] -> f32[rows, n]` with the given weights layout.
    private static func primitiveDesc(
        rows: Int64, k: Int64, n: Int64, weights: inout dnnl_memory_desc_t, engine: OneDNN.Engine
    ) throws(OneDNNError) -> (dnnl_primitive_desc_t, String) {
        var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t()
        try OneDNN.check(cdnnl_matrix_desc(&src, rows, k, dnnl_bf16, dnnl_ab), "memory_desc(src)")
        try OneDNN.check(cdnnl_matrix_desc(&dst, rows, n, dnnl_f32, dnnl_ab), "memory_desc(dst)")
        var op = dnnl_matmul_desc_t()
        try OneDNN.check(dnnl_matmul_desc_init(&op, &src, &weights, nil, &dst), "matmul_desc_init")
        // The library-managed scratchpad of 2.6.3's brgemm matmul is shared by concurrent
        // executions of one primitive (measured: wrong results from two workers at once, on
        // both the AMX and the AVX512-BF16 kernels), so each encoder passes its own.
        var attributes: dnnl_primitive_attr_t?
        try OneDNN.check(dnnl_primitive_attr_create(&attributes), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attributes) }
        try OneDNN.check(
            dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
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

/// The dense kernels of one encoder layer in bfloat16.
struct PackedLayer: Sendable {
    let qkv: PackedBF16Dense
    let attentionOutput: PackedBF16Dense
    let intermediate: PackedBF16Dense
    let output: PackedBF16Dense
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

/// Chooses the matrix-product precision for a model and packs its kernels when bfloat16 runs.
enum ReducedPrecision {
    /// The decision for `requested` on a CPU whose oneDNN ISA is `isa`: bfloat16 only with native
    /// bfloat16 instructions (oneDNN would emulate them on plain AVX-512, slower than sgemm).
    static func decide(requested: MatmulPrecision, isa: dnnl_cpu_isa_t) -> MatmulPrecisionChoice {
        guard requested == .bfloat16 else { return .float32 }
        let name = OneDNN.name(of: isa)
        guard OneDNN.hasNativeBF16(isa) else {
            return MatmulPrecisionChoice(
                requested: requested, active: .float32, isa: name, implementation: nil,
                fallbackReason: "this CPU has no AVX512-BF16; oneDNN's best ISA here is \(name)")
        }
        return MatmulPrecisionChoice(
            requested: requested, active: .bfloat16, isa: name, implementation: nil, fallbackReason: nil)
    }

    /// Packs every layer's kernels when `requested` is bfloat16 and the CPU runs it natively.
    /// A oneDNN failure or a reference (non-JIT) implementation falls back to float32 with the
    /// reason in the choice, never an error: the model still serves.
    static func prepare(requested: MatmulPrecision, layers: [LayerWeights])
        -> (MatmulPrecisionChoice, [PackedLayer]?)
    {
        let choice = decide(requested: requested, isa: OneDNN.effectiveISA)
        guard choice.active == .bfloat16 else { return (choice, nil) }
        func fallback(_ reason: String) -> (MatmulPrecisionChoice, [PackedLayer]?) {
            (MatmulPrecisionChoice(requested: requested, active: .float32, isa: choice.isa,
                                   implementation: nil, fallbackReason: reason), nil)
        }
        do {
            let engine = try OneDNN.engine.get()
            let packed = try layers.map { (layer) throws(OneDNNError) in
                PackedLayer(
                    qkv: try PackedBF16Dense(layer.qkv, engine: engine),
                    attentionOutput: try PackedBF16Dense(layer.attentionOutput, engine: engine),
                    intermediate: try PackedBF16Dense(layer.intermediate, engine: engine),
                    output: try PackedBF16Dense(layer.output, engine: engine))
            }
            let implementation = packed.first?.qkv.implementation ?? "?"
            // "brg:avx512_core_bf16", "brg:avx512_core_amx_bf16": JIT bfloat16 kernels. Anything
            // else (gemm:jit, ref) converts back and forth and loses to sgemm.
            guard implementation.hasPrefix("brg:"), implementation.hasSuffix("bf16") else {
                return fallback("oneDNN offers only \(implementation) for bfloat16 matmul on this CPU")
            }
            return (MatmulPrecisionChoice(requested: requested, active: .bfloat16, isa: choice.isa,
                                          implementation: implementation, fallbackReason: nil), packed)
        } catch {
            return fallback(error.description)
        }
    }

    /// Sets the OpenMP team size oneDNN's matmul uses on the calling thread.
    static func setThreads(_ threads: Int) {
        _ = cdnnl_set_openmp_threads(Int32(clamping: max(1, threads)))
    }
}

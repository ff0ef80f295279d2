import CKernels

/// Attention and the elementwise kernels of the forward pass, all in the C target `CKernels`
/// (16 lanes, cloned per x86-64 level): Swift compiles for the x86-64 baseline, so the same loops
/// written here ran on SSE2 lanes without FMA. Bias + activation runs here only after an OpenBLAS
/// product (packed oneDNN products apply them themselves) and for the pooler.
///
/// TensorFlow evaluates `exp`/`erf` with Eigen's vectorised float approximations, not with
/// correctly rounded libm calls; the C kernels use approximations of comparable accuracy
/// (relative error of exp ≈ 1e-7, absolute error of erf ≤ 2e-7).
enum VectorMath {
    /// modeling.py `dense(…, activation=act)` after the matrix product: `act(x + bias)` for each
    /// of `rows` rows of width `cols`, in place.
    static func addBiasActivate(
        _ p: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, cols: Int, _ activation: Activation
    ) {
        bss_add_bias_activate(p, bias, rows, cols, activation.kernelCode)
    }

    /// GELU in place over `count` floats.
    static func geluInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        addBiasActivate(p, bias: nil, rows: 1, cols: count, .gelu)
    }

    /// e^x in place over `count` floats, as the softmax computes it.
    static func expInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        bss_exp(p, count)
    }

    /// One head of one sequence of attention: `out = softmax(q·kᵀ · scale + adder) · v` over `n`
    /// positions of width `d` (rows `ld` floats apart in q, k, v; `ldo` in out), with
    /// `scratch` of `attentionScratchCount(n:d:)` floats.
    static func attention(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int, n: Int, d: Int,
        scale: Float, adding adder: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>, ldo: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        bss_attention(q, k, v, ld, n, d, scale, adder, out, ldo, scratch)
    }

    /// Floats of scratch `attention` needs for `n` positions of width `d`.
    static func attentionScratchCount(n: Int, d: Int) -> Int {
        bss_attention_scratch_floats(n, d)
    }

    /// `rows` LayerNorms of width `cols` over `x + residual`, written to `x` (residual may be
    /// nil): tf.contrib.layers.layer_norm — `mean`, `variance = mean((x - mean)^2)`,
    /// `inv = rsqrt(variance + 1e-12) * gamma`, `x * inv + (beta - mean * inv)`.
    static func addLayerNorm(
        _ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
        rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>
    ) {
        bss_add_layer_norm(x, residual, rows, cols, gamma, beta)
    }
}

extension Activation {
    /// The C kernels' code for this activation (`BSS_ACTIVATION_*`).
    var kernelCode: Int32 {
        switch self {
        case .linear: Int32(BSS_ACTIVATION_LINEAR)
        case .relu: Int32(BSS_ACTIVATION_RELU)
        case .gelu: Int32(BSS_ACTIVATION_GELU)
        case .tanh: Int32(BSS_ACTIVATION_TANH)
        }
    }
}

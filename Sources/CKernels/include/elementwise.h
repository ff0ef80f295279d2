#pragma once
// The passes of the BERT forward pass that sit between its dense matrix products (attention per
// sequence and head with its softmax, residual + LayerNorm, bias + activation after an OpenBLAS
// product), compiled once per x86-64 level and chosen at load time (ifunc): Swift builds for the
// baseline (SSE2) and has no per-function target attribute.
#include <stddef.h>

/// The activation of a dense layer (bert_config.json `hidden_act`; the pooler's tanh).
enum {
    BSS_ACTIVATION_LINEAR = 0,
    BSS_ACTIVATION_RELU = 1,
    /// modeling.py `gelu`: `x · ½(1 + erf(x / √2))`, erf by Abramowitz & Stegun 7.1.26.
    BSS_ACTIVATION_GELU = 2,
    BSS_ACTIVATION_TANH = 3,
};

/// `p[r][j] = activation(p[r][j] + bias[j])` over a `rows × cols` matrix, in place (`bias` may be
/// NULL): modeling.py `dense(…, activation=…)` after the matrix product.
void bss_add_bias_activate(float *p, const float *bias, size_t rows, size_t cols, int activation);

/// `e^x` in place over `count` floats, with the arithmetic of the softmax's exponential.
void bss_exp(float *p, size_t count);

/// `rows` LayerNorms of width `cols` over `x + residual` (residual may be NULL), written to `x`:
/// tf.contrib.layers.layer_norm — mean, `variance = mean((x - mean)²)`,
/// `inv = rsqrt(variance + 1e-12) · gamma`, `x · inv + (beta - mean · inv)`.
void bss_add_layer_norm(
    float *x, const float *residual, size_t rows, size_t cols, const float *gamma, const float *beta);

/// One head of one sequence of modeling.py `attention_layer`:
/// `out = softmax(q·kᵀ · scale + adder) · v` for `n` positions of width `d`, where row `i` of
/// q, k and v starts at `q + i·ld` (and so on: the Q | K | V columns of one fused projection) and
/// row `i` of out at `out + i·ldo`. `adder` (`n` floats, may be NULL) is added to every row of
/// scores, the attention mask's `(1 - mask) · -10000`; the softmax is tf.nn.softmax's:
/// `e^(x - max)` times `1 / sum`.
/// `scratch` holds `bss_attention_scratch_floats(n, d)` floats.
void bss_attention(
    const float *q, const float *k, const float *v, size_t ld, size_t n, size_t d, float scale,
    const float *adder, float *out, size_t ldo, float *scratch);

/// The scratch `bss_attention` needs for `n` positions of width `d`, in floats.
size_t bss_attention_scratch_floats(size_t n, size_t d);

#pragma once
// Dense layers on kernels packed once at load into panels of 16 columns, with their bias and
// activation applied while each output block is still in L1: the engine's float32 products.
// OpenBLAS's sgemm packs the kernel again on every call and splits a 20-row product badly over
// threads, which made one sentence cost twice what onnxruntime's packed kernels take on an AVX2
// CPU; oneDNN 2.6 has no packed float32 matmul there, and on AVX-512 its one is slow for a few rows.
#include <stddef.h>

/// The instruction sets `bss_dense` has tiles for. Within one, the sums do not depend on how a
/// product is split or on scratch; across them they agree to rounding (their depth blocks differ).
enum {
    BSS_DENSE_NONE = 0,
    /// AVX2 + FMA: tiles of up to 6 rows × 16 columns.
    BSS_DENSE_AVX2 = 1,
    /// AVX-512 F: tiles of up to 12 rows × 32 columns.
    BSS_DENSE_AVX512 = 2,
};

/// The best `BSS_DENSE_*` this CPU runs (NONE: `bss_dense` must not be called; the other
/// functions run anywhere).
int bss_dense_best_isa(void);

/// The columns of one panel.
enum { BSS_DENSE_PANEL_COLUMNS = 16 };

/// The panels of an `n`-column kernel: `n / 16` rounded up.
size_t bss_dense_panels(size_t n);

/// The floats a packed copy of a `k × n` kernel takes (`bss_dense_panels(n) · 16 · k`).
size_t bss_dense_packed_floats(size_t k, size_t n);

/// Copies the row-major `k × n` `kernel` into `packed`: panel p holds columns 16p … 16p + 15 as
/// `k` rows of 16 floats, contiguous (the last panel zero-filled past column n).
void bss_dense_pack(const float *kernel, size_t k, size_t n, float *packed);

/// The floats of the scratch `bss_dense` on `isa` may copy its input into (one block of rows ×
/// depth); 0 where it always reads the input in place (AVX-512).
size_t bss_dense_input_scratch_floats(int isa);

/// modeling.py `dense`: `out[r][j] = activation(Σᵢ in[r][i] · kernel[i][j] + bias[j])` for the `m`
/// rows and the columns of panels `panel_begin ..< panel_end` only, so threads can share one
/// product by panels (or by rows, calling it on row ranges). Rows of `in` are `lda` floats apart,
/// rows of `out` `ldo` apart; `activation` is a `BSS_ACTIVATION_*` code (elementwise.h), bias and
/// activation computed as `bss_add_bias_activate` computes them. `isa` is a `BSS_DENSE_*` this CPU
/// runs (at most `bss_dense_best_isa()`, not NONE).
///
/// `input_scratch`, when not NULL, is `bss_dense_input_scratch_floats(isa)` floats for this call
/// alone: each block of the input is copied there once and read by every panel
/// of the range as one stream. Worth it when the range has many panels (a product split by rows);
/// for a few panels the copy costs more than it saves (NULL: the input is read where it lies).
/// The sums do not depend on it. Ignored where that count is 0.
void bss_dense(
    int isa, const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch);

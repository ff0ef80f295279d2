// See dense.h. A product is computed in blocks of rows (BLOCK_ROWS) and of depth (BLOCK_DEPTH),
// each block of one panel in tiles of up to 6 rows × 16 columns whose sums stay in registers:
// 12 of AVX2's 16 vector registers accumulate, 2 hold the panel's row, 1 the broadcast input.
// The input is read where it lies (no copy): a tile's 6 input rows are short streams, and the
// block of rows × depth stays in L2 while the panels pass over it.
#include "dense.h"
#include "elementwise.h"
#include "lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum {
    PANEL = BSS_DENSE_PANEL_COLUMNS,
    TILE_ROWS = 6,
    /// 120 rows × 384 floats of input (180 KiB) stay in L2 while every panel passes over them.
    BLOCK_ROWS = 120,
    BLOCK_DEPTH = 384,
};

int bss_dense_available(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

size_t bss_dense_panels(size_t n) { return (n + PANEL - 1) / PANEL; }

size_t bss_dense_packed_floats(size_t k, size_t n) { return bss_dense_panels(n) * PANEL * k; }

void bss_dense_pack(const float *kernel, size_t k, size_t n, float *packed) {
    for (size_t p = 0; p < bss_dense_panels(n); p++) {
        const size_t first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;
        float *panel = packed + p * k * PANEL;
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < PANEL; j++) panel[i * PANEL + j] = j < width ? kernel[i * n + first + j] : 0;
        }
    }
}

#if defined(__x86_64__)

#define DENSE_TARGET __attribute__((target("avx2,fma")))

/// `ROWS` × 16 of `out` (rows `ldo` apart) = (`accumulate` ? out : 0) + in[ROWS × depth] ·
/// panel[depth × 16]. The loops over ROWS unroll, so each sum lives in a register.
#define DEFINE_TILE(ROWS) \
DENSE_TARGET static void tile_##ROWS( \
    size_t depth, const float *in, size_t lda, const float *panel, float *out, size_t ldo, int accumulate, \
    const float *ahead) { \
    __m256 lo[ROWS], hi[ROWS]; \
    for (int r = 0; r < ROWS; r++) lo[r] = hi[r] = _mm256_setzero_ps(); \
    for (size_t i = 0; i < depth; i++) { \
        _mm_prefetch((const char *)(ahead + i * PANEL), _MM_HINT_T0); \
        const __m256 left = _mm256_load_ps(panel + i * PANEL), right = _mm256_load_ps(panel + i * PANEL + 8); \
        for (int r = 0; r < ROWS; r++) { \
            const __m256 x = _mm256_broadcast_ss(in + r * lda + i); \
            lo[r] = _mm256_fmadd_ps(x, left, lo[r]); \
            hi[r] = _mm256_fmadd_ps(x, right, hi[r]); \
        } \
    } \
    for (int r = 0; r < ROWS; r++) { \
        float *o = out + r * ldo; \
        if (accumulate) { \
            lo[r] = _mm256_add_ps(lo[r], _mm256_loadu_ps(o)); \
            hi[r] = _mm256_add_ps(hi[r], _mm256_loadu_ps(o + 8)); \
        } \
        _mm256_storeu_ps(o, lo[r]); \
        _mm256_storeu_ps(o + 8, hi[r]); \
    } \
}
DEFINE_TILE(1)
DEFINE_TILE(2)
DEFINE_TILE(3)
DEFINE_TILE(4)
DEFINE_TILE(5)
DEFINE_TILE(6)

DENSE_TARGET static void tile(
    size_t rows, size_t depth, const float *in, size_t lda, const float *panel, float *out, size_t ldo,
    int accumulate, const float *ahead) {
    switch (rows) {
    case 1: tile_1(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    case 2: tile_2(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    case 3: tile_3(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    case 4: tile_4(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    case 5: tile_5(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    default: tile_6(depth, in, lda, panel, out, ldo, accumulate, ahead); break;
    }
}

DENSE_TARGET
void bss_dense(
    const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end) {
    // A last panel narrower than 16 columns is summed here: writing 16 columns into `out` would
    // run into the next row, or past the end.
    _Alignas(64) float narrow[BLOCK_ROWS * PANEL];
    const size_t depths = (k + BLOCK_DEPTH - 1) / BLOCK_DEPTH;
    for (size_t row0 = 0; row0 < m; row0 += BLOCK_ROWS) {
        const size_t rows = m - row0 < BLOCK_ROWS ? m - row0 : BLOCK_ROWS;
        // Tiles of near-equal height (20 rows: 4 × 5, not 6 + 6 + 6 + 2, whose 2-row tile has
        // too few independent sums to hide the FMA latency).
        const size_t tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
        for (size_t d = 0; d < depths; d++) {
            // Near-equal depth blocks too, each at most BLOCK_DEPTH.
            const size_t i0 = k * d / depths, i1 = k * (d + 1) / depths;
            for (size_t p = panel_begin; p < panel_end; p++) {
                const size_t first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;
                float *sums = width == PANEL ? out + row0 * ldo + first : narrow;
                const size_t lds = width == PANEL ? ldo : PANEL;
                const float *panel = packed + p * k * PANEL + i0 * PANEL;
                // The first tile brings the next panel's block into L1 as it goes, one 64-byte row
                // per step; the others prefetch their own (cached) block.
                const float *next = p + 1 < panel_end ? panel + k * PANEL : panel;
                for (size_t t = 0; t < tiles; t++) {
                    const size_t r0 = rows * t / tiles, r1 = rows * (t + 1) / tiles;
                    tile(r1 - r0, i1 - i0, in + (row0 + r0) * lda + i0, lda, panel, sums + r0 * lds, lds, d > 0,
                         t == 0 ? next : panel);
                }
                if (d + 1 < depths) continue;
                // The sums are complete: bias and activation while they are in L1, as
                // bss_add_bias_activate computes them (which also does the pooler's tanh).
                if (activation == BSS_ACTIVATION_TANH) {
                    for (size_t r = 0; r < rows; r++) {
                        float *o = out + (row0 + r) * ldo + first;
                        if (width < PANEL) memcpy(o, sums + r * lds, width * sizeof(float));
                        bss_add_bias_activate(o, bias + first, 1, width, activation);
                    }
                    continue;
                }
                const vf b = width == PANEL ? LOAD(bias + first) : LOAD_PARTIAL(bias + first, width, 0);
                for (size_t r = 0; r < rows; r++) {
                    const vf v = ACTIVATE(LOAD(sums + r * lds) + b, activation);
                    float *o = out + (row0 + r) * ldo + first;
                    if (width == PANEL) STORE(o, v);
                    else STORE_PARTIAL(o, v, width);
                }
            }
        }
    }
}

#else

// Not x86-64: bss_dense_available() is 0 and the engine never calls this; kept correct anyway.
void bss_dense(
    const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end) {
    for (size_t r = 0; r < m; r++) {
        for (size_t j = panel_begin * PANEL; j < n && j < panel_end * PANEL; j++) {
            const float *panel = packed + (j / PANEL) * k * PANEL + j % PANEL;
            float sum = 0;
            for (size_t i = 0; i < k; i++) sum += in[r * lda + i] * panel[i * PANEL];
            out[r * ldo + j] = sum;
        }
        if (panel_end > panel_begin) {
            const size_t first = panel_begin * PANEL, last = n < panel_end * PANEL ? n : panel_end * PANEL;
            bss_add_bias_activate(out + r * ldo + first, bias + first, 1, last - first, activation);
        }
    }
}

#endif

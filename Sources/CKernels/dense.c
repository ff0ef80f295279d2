// See dense.h. A product is computed in blocks of rows (BLOCK_ROWS) and of depth (BLOCK_DEPTH),
// each block of one panel in tiles of up to 6 rows × 16 columns whose sums stay in registers:
// 12 of AVX2's 16 vector registers accumulate, 2 hold the panel's row, 1 the broadcast input.
// The block of rows × depth stays in L2 while the panels pass over it. Given scratch, a block is
// first copied tile by tile into the order the tiles read it (one stream per tile, as BLIS packs
// its A); without, the tiles read their 6 input rows where they lie (6 short streams).
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

size_t bss_dense_input_scratch_floats(void) { return BLOCK_ROWS * BLOCK_DEPTH; }

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
/// panel[depth × 16], input element (r, i) at `AT(r, i, ROWS)`: `in[r · lda + i]` where it lies,
/// `in[i · ROWS + r]` packed. The loops over ROWS unroll, so each sum lives in a register.
#define DEFINE_TILE(NAME, ROWS, AT) \
DENSE_TARGET static void NAME##_##ROWS( \
    size_t depth, const float *in, size_t lda, const float *panel, float *out, size_t ldo, int accumulate, \
    const float *ahead) { \
    (void)lda; \
    __m256 lo[ROWS], hi[ROWS]; \
    for (int r = 0; r < ROWS; r++) lo[r] = hi[r] = _mm256_setzero_ps(); \
    for (size_t i = 0; i < depth; i++) { \
        _mm_prefetch((const char *)(ahead + i * PANEL), _MM_HINT_T0); \
        const __m256 left = _mm256_load_ps(panel + i * PANEL), right = _mm256_load_ps(panel + i * PANEL + 8); \
        for (int r = 0; r < ROWS; r++) { \
            const __m256 x = _mm256_broadcast_ss(in + AT(r, i, ROWS)); \
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
#define IN_PLACE(r, i, rows) ((r) * lda + (i))
#define PACKED(r, i, rows) ((i) * (rows) + (r))
#define DEFINE_TILES(NAME, AT) \
    DEFINE_TILE(NAME, 1, AT) DEFINE_TILE(NAME, 2, AT) DEFINE_TILE(NAME, 3, AT) \
    DEFINE_TILE(NAME, 4, AT) DEFINE_TILE(NAME, 5, AT) DEFINE_TILE(NAME, 6, AT) \
DENSE_TARGET static void NAME( \
    size_t rows, size_t depth, const float *in, size_t lda, const float *panel, float *out, size_t ldo, \
    int accumulate, const float *ahead) { \
    switch (rows) { \
    case 1: NAME##_1(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 2: NAME##_2(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 3: NAME##_3(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 4: NAME##_4(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 5: NAME##_5(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    default: NAME##_6(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    } \
}
DEFINE_TILES(tile_in_place, IN_PLACE)
DEFINE_TILES(tile_packed, PACKED)

/// Copies the first `rows` rows × columns `i0 ..< i1` of `in` into `packed` as `tile_packed` reads
/// them: the block's `tiles` tiles (split as `bss_dense` splits them) one after the other, each
/// `i1 - i0` steps of its `height` floats.
DENSE_TARGET static void pack_block(
    const float *in, size_t lda, size_t rows, size_t tiles, size_t i0, size_t i1, float *packed) {
    const size_t depth = i1 - i0;
    for (size_t t = 0; t < tiles; t++) {
        const size_t r0 = rows * t / tiles, height = rows * (t + 1) / tiles - r0;
        float *dst = packed + r0 * depth;
        for (size_t r = 0; r < height; r++) {
            const float *src = in + (r0 + r) * lda + i0;
            for (size_t i = 0; i < depth; i++) dst[i * height + r] = src[i];
        }
    }
}

DENSE_TARGET
void bss_dense(
    const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    // A last panel narrower than 16 columns is summed here: writing 16 columns into `out` would
    // run into the next row, or past the end.
    _Alignas(64) float narrow[BLOCK_ROWS * PANEL];
    const size_t depths = (k + BLOCK_DEPTH - 1) / BLOCK_DEPTH;
    // Near-equal row blocks, each at most BLOCK_ROWS (625 rows: 6 × ~104, not 5 × 120 + 25).
    const size_t blocks = (m + BLOCK_ROWS - 1) / BLOCK_ROWS;
    for (size_t b = 0; b < blocks; b++) {
        const size_t row0 = m * b / blocks, rows = m * (b + 1) / blocks - row0;
        // Tiles of near-equal height (20 rows: 4 × 5, not 6 + 6 + 6 + 2, whose 2-row tile has
        // too few independent sums to hide the FMA latency).
        const size_t tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
        for (size_t d = 0; d < depths; d++) {
            // Near-equal depth blocks too, each at most BLOCK_DEPTH.
            const size_t i0 = k * d / depths, i1 = k * (d + 1) / depths;
            if (input_scratch) pack_block(in + row0 * lda, lda, rows, tiles, i0, i1, input_scratch);
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
                    const float *ahead = t == 0 ? next : panel;
                    if (input_scratch) {
                        tile_packed(r1 - r0, i1 - i0, input_scratch + r0 * (i1 - i0), 0, panel, sums + r0 * lds, lds,
                                    d > 0, ahead);
                    } else {
                        tile_in_place(r1 - r0, i1 - i0, in + (row0 + r0) * lda + i0, lda, panel, sums + r0 * lds,
                                      lds, d > 0, ahead);
                    }
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
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    (void)input_scratch;
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

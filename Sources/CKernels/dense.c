// See dense.h. A product is computed in blocks of rows (BLOCK_ROWS) and of depth (BLOCK_DEPTH),
// each block of a panel (or of two, with AVX-512) in tiles whose sums stay in registers: up to
// 6 rows × 16 columns with AVX2, 12 rows × 32 columns with AVX-512.
// The block of rows × depth stays in L2 while the panels pass over it. Given scratch, a block is
// first copied tile by tile into the order the tiles read it (one stream per tile, as BLIS packs
// its A); without, the tiles read their input rows where they lie (one short stream per row).
#include "dense.h"
#include "elementwise.h"
#include "lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum {
    PANEL = BSS_DENSE_PANEL_COLUMNS,
    /// 120 rows × 384 floats of input (180 KiB) stay in L2 while every panel passes over them
    /// (AVX-512: up to 768 deep, see `dense_avx512`).
    BLOCK_ROWS = 120,
    BLOCK_DEPTH = 384,
};

size_t bss_dense_input_scratch_floats(int isa) {
    // The AVX-512 tiles read the input where it lies (see `dense_avx512`).
    return isa == BSS_DENSE_AVX2 ? BLOCK_ROWS * BLOCK_DEPTH : 0;
}

int bss_dense_best_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return BSS_DENSE_NONE;
    return __builtin_cpu_supports("avx512f") ? BSS_DENSE_AVX512 : BSS_DENSE_AVX2;
#else
    return BSS_DENSE_NONE;
#endif
}

size_t bss_dense_panels(size_t n) { return (n + PANEL - 1) / PANEL; }

size_t bss_dense_packed_floats(size_t k, size_t n) { return bss_dense_panels(n) * PANEL * k; }

void bss_dense_pack(const float *kernel, size_t k, size_t n, float *packed) {
    for (size_t p = 0; p < bss_dense_panels(n); p++) {
        const size_t first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;
        float *panel = packed + p * k * PANEL;
        // Row by row (a copy and a fill, not a test per float): BERT-base's 85 M floats are
        // packed on every start.
        for (size_t i = 0; i < k; i++) {
            memcpy(panel + i * PANEL, kernel + i * n + first, width * sizeof(float));
            if (width < PANEL) memset(panel + i * PANEL + width, 0, (PANEL - width) * sizeof(float));
        }
    }
}

#if defined(__x86_64__)

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))
#define IN_PLACE(r, i, rows) ((r) * lda + (i))
#define PACKED(r, i, rows) ((i) * (rows) + (r))
/// Loops over a tile's rows and panels unroll completely, so that every sum lives in a register
/// (clang's own heuristics stopped at 11 rows and kept the sums on the stack: half the speed).
#define UNROLL _Pragma("clang loop unroll(full)")

/// The signature of every tile: `rows` × `16 · panels` of `out` (rows `ldo` apart) =
/// (`accumulate` ? out : 0) + in[rows × depth] · the panels' `depth` rows, the tile's panels
/// `stride` floats apart; input element (r, i) at `AT(r, i, rows)`: `in[r · lda + i]` where it
/// lies, `in[i · rows + r]` packed. `ahead` is prefetched as the tile goes, one 64-byte row of
/// each of its panels per step. Every tile builds each sum in the same order (one FMA per step of
/// depth, then added to `out`), so with the same depth blocks every tile gives the same bits.
typedef void dense_tile(
    size_t rows, size_t depth, const float *in, size_t lda, const float *panel, size_t stride, float *out,
    size_t ldo, int accumulate, const float *ahead);

/// AVX2: `ROWS` × 16, one panel; 12 of the 16 ymm registers accumulate, 2 hold the panel's row,
/// 1 the broadcast input. The loops over ROWS unroll, so each sum lives in a register.
#define DEFINE_AVX2_TILE(NAME, ROWS, AT) \
AVX2_TARGET static void NAME##_##ROWS( \
    size_t depth, const float *in, size_t lda, const float *panel, float *out, size_t ldo, int accumulate, \
    const float *ahead) { \
    (void)lda; \
    __m256 lo[ROWS], hi[ROWS]; \
    UNROLL for (int r = 0; r < ROWS; r++) lo[r] = hi[r] = _mm256_setzero_ps(); \
    for (size_t i = 0; i < depth; i++) { \
        _mm_prefetch((const char *)(ahead + i * PANEL), _MM_HINT_T0); \
        const __m256 left = _mm256_load_ps(panel + i * PANEL), right = _mm256_load_ps(panel + i * PANEL + 8); \
        UNROLL for (int r = 0; r < ROWS; r++) { \
            const __m256 x = _mm256_broadcast_ss(in + AT(r, i, ROWS)); \
            lo[r] = _mm256_fmadd_ps(x, left, lo[r]); \
            hi[r] = _mm256_fmadd_ps(x, right, hi[r]); \
        } \
    } \
    UNROLL for (int r = 0; r < ROWS; r++) { \
        float *o = out + r * ldo; \
        if (accumulate) { \
            lo[r] = _mm256_add_ps(lo[r], _mm256_loadu_ps(o)); \
            hi[r] = _mm256_add_ps(hi[r], _mm256_loadu_ps(o + 8)); \
        } \
        _mm256_storeu_ps(o, lo[r]); \
        _mm256_storeu_ps(o + 8, hi[r]); \
    } \
}
#define DEFINE_AVX2_TILES(NAME, AT) \
    DEFINE_AVX2_TILE(NAME, 1, AT) DEFINE_AVX2_TILE(NAME, 2, AT) DEFINE_AVX2_TILE(NAME, 3, AT) \
    DEFINE_AVX2_TILE(NAME, 4, AT) DEFINE_AVX2_TILE(NAME, 5, AT) DEFINE_AVX2_TILE(NAME, 6, AT) \
AVX2_TARGET static void NAME( \
    size_t rows, size_t depth, const float *in, size_t lda, const float *panel, size_t stride, float *out, \
    size_t ldo, int accumulate, const float *ahead) { \
    (void)stride; \
    switch (rows) { \
    case 1: NAME##_1(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 2: NAME##_2(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 3: NAME##_3(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 4: NAME##_4(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    case 5: NAME##_5(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    default: NAME##_6(depth, in, lda, panel, out, ldo, accumulate, ahead); break; \
    } \
}
DEFINE_AVX2_TILES(avx2_in_place, IN_PLACE)
DEFINE_AVX2_TILES(avx2_packed, PACKED)

/// AVX-512: `ROWS` × 16 · `PANELS` (one or two panels), a panel's row in one zmm register. Two
/// panels of up to 12 rows take 24 of the 32 registers for sums; each broadcast input feeds two
/// FMAs, so a step loads 2 panel rows and ROWS inputs for 2 · ROWS FMAs.
#define DEFINE_AVX512_TILE(NAME, PANELS, ROWS, AT) \
AVX512_TARGET static void NAME##_##ROWS( \
    size_t depth, const float *in, size_t lda, const float *panel, size_t stride, float *out, size_t ldo, \
    int accumulate, const float *ahead) { \
    (void)lda; (void)stride; \
    __m512 sum[PANELS][ROWS]; \
    UNROLL for (int q = 0; q < PANELS; q++) UNROLL for (int r = 0; r < ROWS; r++) sum[q][r] = _mm512_setzero_ps(); \
    for (size_t i = 0; i < depth; i++) { \
        __m512 row[PANELS]; \
        UNROLL for (int q = 0; q < PANELS; q++) { \
            _mm_prefetch((const char *)(ahead + q * stride + i * PANEL), _MM_HINT_T0); \
            row[q] = _mm512_load_ps(panel + q * stride + i * PANEL); \
        } \
        UNROLL for (int r = 0; r < ROWS; r++) { \
            const __m512 x = _mm512_set1_ps(in[AT(r, i, ROWS)]); \
            UNROLL for (int q = 0; q < PANELS; q++) sum[q][r] = _mm512_fmadd_ps(x, row[q], sum[q][r]); \
        } \
    } \
    UNROLL for (int r = 0; r < ROWS; r++) { \
        UNROLL for (int q = 0; q < PANELS; q++) { \
            float *o = out + r * ldo + q * PANEL; \
            if (accumulate) sum[q][r] = _mm512_add_ps(sum[q][r], _mm512_loadu_ps(o)); \
            _mm512_storeu_ps(o, sum[q][r]); \
        } \
    } \
}
#define AVX512_CASE(NAME, ROWS) \
    case ROWS: NAME##_##ROWS(depth, in, lda, panel, stride, out, ldo, accumulate, ahead); break;
#define DEFINE_AVX512_TILES(NAME, PANELS, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 1, AT) DEFINE_AVX512_TILE(NAME, PANELS, 2, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 3, AT) DEFINE_AVX512_TILE(NAME, PANELS, 4, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 5, AT) DEFINE_AVX512_TILE(NAME, PANELS, 6, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 7, AT) DEFINE_AVX512_TILE(NAME, PANELS, 8, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 9, AT) DEFINE_AVX512_TILE(NAME, PANELS, 10, AT) \
    DEFINE_AVX512_TILE(NAME, PANELS, 11, AT) DEFINE_AVX512_TILE(NAME, PANELS, 12, AT) \
AVX512_TARGET static void NAME( \
    size_t rows, size_t depth, const float *in, size_t lda, const float *panel, size_t stride, float *out, \
    size_t ldo, int accumulate, const float *ahead) { \
    switch (rows) { \
    AVX512_CASE(NAME, 1) AVX512_CASE(NAME, 2) AVX512_CASE(NAME, 3) AVX512_CASE(NAME, 4) \
    AVX512_CASE(NAME, 5) AVX512_CASE(NAME, 6) AVX512_CASE(NAME, 7) AVX512_CASE(NAME, 8) \
    AVX512_CASE(NAME, 9) AVX512_CASE(NAME, 10) AVX512_CASE(NAME, 11) \
    default: NAME##_12(depth, in, lda, panel, stride, out, ldo, accumulate, ahead); break; \
    } \
}
DEFINE_AVX512_TILES(avx512_in_place, 1, IN_PLACE)
DEFINE_AVX512_TILES(avx512_pair_in_place, 2, IN_PLACE)

/// The tiles of one ISA: `in_place` / `packed` over one panel, `group` panels at a time where
/// the range has them (`group_in_place` / `group_packed`), tiles at most `rows` high, blocks of
/// at most `depth` (which decides the order of the sums: see `dense_avx512`). The `packed` ones
/// run only given scratch (NULL for an ISA that never takes it).
struct dense_tiles {
    size_t rows, group, depth;
    dense_tile *in_place, *packed, *group_in_place, *group_packed;
};

/// Copies the first `rows` rows × columns `i0 ..< i1` of `in` into `packed` as the packed tiles
/// read them: the block's `tiles` tiles (split as `dense_blocks` splits them) one after the
/// other, each `i1 - i0` steps of its `height` floats.
static inline __attribute__((always_inline)) void pack_block(
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

/// `bss_dense` on one ISA's tiles; inlined into each ISA's entry, so its vector code (the bias
/// and activation) is compiled for that ISA and the tile calls become direct.
static inline __attribute__((always_inline)) void dense_blocks(
    const struct dense_tiles tiles_of, const float *in, size_t lda, size_t m, size_t k, const float *packed,
    size_t n, const float *bias, int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end,
    float *input_scratch) {
    // A last panel narrower than 16 columns is summed here: writing 16 columns into `out` would
    // run into the next row, or past the end.
    _Alignas(64) float narrow[BLOCK_ROWS * PANEL];
    const size_t depths = (k + tiles_of.depth - 1) / tiles_of.depth, stride = k * PANEL;
    // Near-equal row blocks, each at most BLOCK_ROWS (625 rows: 6 × ~104, not 5 × 120 + 25).
    const size_t blocks = (m + BLOCK_ROWS - 1) / BLOCK_ROWS;
    for (size_t b = 0; b < blocks; b++) {
        const size_t row0 = m * b / blocks, rows = m * (b + 1) / blocks - row0;
        // Tiles of near-equal height (20 rows on AVX2: 4 × 5, not 6 + 6 + 6 + 2, whose 2-row tile
        // has too few independent sums to hide the FMA latency).
        const size_t tiles = (rows + tiles_of.rows - 1) / tiles_of.rows;
        for (size_t d = 0; d < depths; d++) {
            // Near-equal depth blocks too, each at most `tiles_of.depth`.
            const size_t i0 = k * d / depths, i1 = k * (d + 1) / depths;
            if (input_scratch) pack_block(in + row0 * lda, lda, rows, tiles, i0, i1, input_scratch);
            for (size_t p = panel_begin; p < panel_end;) {
                const size_t first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;
                // A group of panels only when every one is full width.
                const size_t group = p + tiles_of.group <= panel_end && first + tiles_of.group * PANEL <= n
                    ? tiles_of.group : 1;
                dense_tile *const tile_in_place = group > 1 ? tiles_of.group_in_place : tiles_of.in_place;
                dense_tile *const tile_packed = group > 1 ? tiles_of.group_packed : tiles_of.packed;
                float *sums = width == PANEL ? out + row0 * ldo + first : narrow;
                const size_t lds = width == PANEL ? ldo : PANEL;
                const float *panel = packed + p * stride + i0 * PANEL;
                // The first tile brings the next group's block into L1 as it goes, one 64-byte row
                // of each panel per step; the others prefetch their own (cached) block.
                const float *next = p + group < panel_end ? panel + group * stride : panel;
                for (size_t t = 0; t < tiles; t++) {
                    const size_t r0 = rows * t / tiles, r1 = rows * (t + 1) / tiles;
                    const float *ahead = t == 0 ? next : panel;
                    if (input_scratch) {
                        tile_packed(r1 - r0, i1 - i0, input_scratch + r0 * (i1 - i0), 0, panel, stride,
                                    sums + r0 * lds, lds, d > 0, ahead);
                    } else {
                        tile_in_place(r1 - r0, i1 - i0, in + (row0 + r0) * lda + i0, lda, panel, stride,
                                      sums + r0 * lds, lds, d > 0, ahead);
                    }
                }
                const size_t group_end = p + group;
                for (; d + 1 == depths && p < group_end; p++) {
                    const size_t first = p * PANEL, width = n - first < PANEL ? n - first : PANEL;
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
                        float *o = out + (row0 + r) * ldo + first;
                        const vf v = ACTIVATE(LOAD(width == PANEL ? o : sums + r * lds) + b, activation);
                        if (width == PANEL) STORE(o, v);
                        else STORE_PARTIAL(o, v, width);
                    }
                }
                p = group_end;
            }
        }
    }
}

AVX2_TARGET static void dense_avx2(
    const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    const struct dense_tiles tiles = {6, 1, BLOCK_DEPTH, avx2_in_place, avx2_packed, avx2_in_place, avx2_packed};
    dense_blocks(tiles, in, lda, m, k, packed, n, bias, activation, out, ldo, panel_begin, panel_end, input_scratch);
}

AVX512_TARGET static void dense_avx512(
    const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    // Measured on a Zen 5, one thread, the shapes of MiniLM and BERT-base: the input is read where
    // it lies, scratch or not (copying it first cost 1-9 % at every shape, 13-17 % at 3,200 rows ×
    // 1,536 deep, where on a Zen 3 with AVX2 it gained), and depth blocks are up to 768 deep, not
    // 384 (768 → 3,072 and 3,072 → 768 at 800 rows: 8-9 % faster, others within noise): the two
    // panels' block no longer fits L1 either way, and fewer blocks write and re-read fewer sums.
    // So for k > 384 the sums are added in another order than with AVX2 (not the same bits).
    // No scratch (`bss_dense_input_scratch_floats` asks for none), so no tiles reading packed input.
    (void)input_scratch;
    const struct dense_tiles tiles = {12, 2, 2 * BLOCK_DEPTH, avx512_in_place, NULL, avx512_pair_in_place, NULL};
    dense_blocks(tiles, in, lda, m, k, packed, n, bias, activation, out, ldo, panel_begin, panel_end, NULL);
}

void bss_dense(
    int isa, const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    if (isa == BSS_DENSE_AVX512) {
        dense_avx512(in, lda, m, k, packed, n, bias, activation, out, ldo, panel_begin, panel_end, input_scratch);
    } else {
        dense_avx2(in, lda, m, k, packed, n, bias, activation, out, ldo, panel_begin, panel_end, input_scratch);
    }
}

#else

// Not x86-64: bss_dense_best_isa() is BSS_DENSE_NONE and the engine never calls this; kept correct anyway.
void bss_dense(
    int isa, const float *in, size_t lda, size_t m, size_t k, const float *packed, size_t n, const float *bias,
    int activation, float *out, size_t ldo, size_t panel_begin, size_t panel_end, float *input_scratch) {
    (void)isa;
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

// See elementwise.h. One (sequence, head) of modeling.py's attention_layer in a single call:
// q·kᵀ, softmax and the product with v without leaving the core's caches. Keys and values are
// first copied out of the fused projection, whose rows lie 3·hidden floats apart: at that
// stride (4,608 bytes for a 384-wide model) the rows of one head fall into a few L1 sets and
// evicted each other on every block of queries.
#include "elementwise.h"
#include "lanes.h"

/// The most query rows computed together (each key or value vector loaded serves every row of
/// a block): with AVX-512, 8 for sequences longer than 32, whose products then keep 16
/// accumulators busy, 4 for shorter ones, where a block of 8 would compute more padding rows
/// than it saves; with AVX2, 4 (see bss_attention).
enum { MAX_BLOCK = 8 };

#define ROUND_UP(x) (((x) + LANES - 1) / LANES * LANES)

size_t bss_attention_scratch_floats(size_t n, size_t d) {
    const size_t keys = ROUND_UP(n), width = ROUND_UP(d);
    return keys * d + n * width + keys + MAX_BLOCK * keys;
}

/// Lanes of two vectors: `PICK(a, b, ...)` takes lane i of a for index i < 16, of b for 16 + i.
#define PICK(a, b, ...) __builtin_shufflevector((a), (b), __VA_ARGS__)

/// One step of a 16 × 16 transpose in registers: rows i and i + b (i & b == 0) swap their
/// off-diagonal blocks of b lanes. After the steps for b = 8, 4, 2, 1, `r[i][l]` is the old `r[l][i]`.
#define TRANSPOSE_STEP(r, b, ...) do { \
    for (size_t i_ = 0; i_ < LANES; i_++) { \
        if (i_ & (b)) continue; \
        const vf lo_ = r[i_], hi_ = r[i_ + (b)]; \
        TRANSPOSE_PAIR_##b(r[i_], r[i_ + (b)], lo_, hi_); \
    } \
} while (0)
#define TRANSPOSE_PAIR_8(x, y, lo, hi) \
    (x = PICK(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), \
     y = PICK(lo, hi, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#define TRANSPOSE_PAIR_4(x, y, lo, hi) \
    (x = PICK(lo, hi, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27), \
     y = PICK(lo, hi, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
#define TRANSPOSE_PAIR_2(x, y, lo, hi) \
    (x = PICK(lo, hi, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29), \
     y = PICK(lo, hi, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
#define TRANSPOSE_PAIR_1(x, y, lo, hi) \
    (x = PICK(lo, hi, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30), \
     y = PICK(lo, hi, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))

/// kᵀ: `kt[c][key] = k[key][c]` for `n` keys of width `d` (rows `ld` apart), zero for the keys
/// from n to `keys` (a multiple of 16), in 16 × 16 tiles transposed in registers.
static inline __attribute__((always_inline)) void transpose_keys(
    const float *k, size_t ld, size_t n, size_t d, size_t keys, float *kt) {
    for (size_t key0 = 0; key0 < keys; key0 += LANES) {
        for (size_t c0 = 0; c0 < d; c0 += LANES) {
            const size_t width = d - c0 < LANES ? d - c0 : LANES;
            vf r[LANES];
            for (size_t i = 0; i < LANES; i++) {
                const float *row = k + (key0 + i) * ld + c0;
                r[i] = key0 + i >= n ? SPLAT(0) : width == LANES ? LOAD(row) : LOAD_PARTIAL(row, width, 0);
            }
            TRANSPOSE_STEP(r, 8);
            TRANSPOSE_STEP(r, 4);
            TRANSPOSE_STEP(r, 2);
            TRANSPOSE_STEP(r, 1);
            for (size_t c = 0; c < width; c++) STORE(kt + (c0 + c) * keys + key0, r[c]);
        }
    }
}

/// Scores of the `block` query rows against `tiles` (1 or 2) tiles of 16 keys from key `key0`:
/// `probs[r][key] = q_r · k_key · scale + keyBias[key]`, the largest so far kept in `top[r]`.
static inline __attribute__((always_inline)) void score_tiles(
    const float *const rows[MAX_BLOCK], size_t block, const float *kt, size_t keys, size_t d, size_t key0,
    size_t tiles, float scale, const float *keyBias, float *probs, vf *top) {
    vf acc[MAX_BLOCK][2];
    for (size_t r = 0; r < block; r++)
        for (size_t t = 0; t < tiles; t++) acc[r][t] = SPLAT(0);
    const float *column = kt + key0;
    for (size_t c = 0; c < d; c++, column += keys) {
        for (size_t t = 0; t < tiles; t++) {
            const vf k = LOAD(column + t * LANES);
            for (size_t r = 0; r < block; r++) acc[r][t] += rows[r][c] * k;
        }
    }
    for (size_t t = 0; t < tiles; t++) {
        const vf bias = LOAD(keyBias + key0 + t * LANES);
        for (size_t r = 0; r < block; r++) {
            const vf s = acc[r][t] * scale + bias;
            STORE(probs + r * keys + key0 + t * LANES, s);
            top[r] = __builtin_elementwise_max(top[r], s);
        }
    }
}

/// The context of the `block` query rows for `chunks` (1 or 2) column chunks of 16 from column
/// `c0`, `lanes` of them in the last chunk: `out[r][c] = (Σ_key probs[r][key] · v[key][c]) · inverse[r]`
/// for the first `rows` rows.
static inline __attribute__((always_inline)) void context_chunks(
    size_t block, const float *probs, size_t keys, const float *values, size_t width, size_t n, size_t c0,
    size_t chunks, size_t lanes, const float *inverse, float *const outs[MAX_BLOCK], size_t rows) {
    vf acc[MAX_BLOCK][2];
    for (size_t r = 0; r < block; r++)
        for (size_t w = 0; w < chunks; w++) acc[r][w] = SPLAT(0);
    const float *value = values + c0;
    for (size_t key = 0; key < n; key++, value += width) {
        for (size_t w = 0; w < chunks; w++) {
            const vf v = LOAD(value + w * LANES);
            for (size_t r = 0; r < block; r++) acc[r][w] += probs[r * keys + key] * v;
        }
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t w = 0; w < chunks; w++) {
            const vf o = acc[r][w] * inverse[r];
            if (w + 1 < chunks || lanes == LANES) STORE(outs[r] + c0 + w * LANES, o);
            else STORE_PARTIAL(outs[r] + c0 + w * LANES, o, lanes);
        }
    }
}

/// Rows `i0 ..< i0 + block` (those below n) of the attention output, `pair` (1 or 2) tiles of
/// keys and chunks of columns at a time; see bss_attention.
static inline __attribute__((always_inline)) void query_block(
    const float *q, size_t ld, size_t n, size_t d, float scale, const float *kt, const float *values,
    const float *keyBias, float *probs, float *out, size_t ldo, size_t i0, size_t block, size_t pair) {
    const size_t keys = ROUND_UP(n), width = ROUND_UP(d);
    const size_t rows = n - i0 < block ? n - i0 : block;
    // A short last block repeats its first row in the unused slots (computed, never written).
    const float *queries[MAX_BLOCK];
    float *outs[MAX_BLOCK];
    for (size_t r = 0; r < block; r++) {
        const size_t row = i0 + (r < rows ? r : 0);
        queries[r] = q + row * ld;
        outs[r] = out + row * ldo;
    }
    // scores = q·kᵀ · scale + adder, 16 keys a tile, `pair` tiles at a time
    vf top[MAX_BLOCK];
    for (size_t r = 0; r < block; r++) top[r] = SPLAT(-__builtin_inff());
    size_t key0 = 0;
    for (; key0 + pair * LANES <= keys; key0 += pair * LANES)
        score_tiles(queries, block, kt, keys, d, key0, pair, scale, keyBias, probs, top);
    if (key0 < keys) score_tiles(queries, block, kt, keys, d, key0, 1, scale, keyBias, probs, top);
    // softmax as tf.nn.softmax: e^(x - max) · (1 / sum); the 1 / sum is applied to the
    // context row instead of to each weight (a difference of rounding only). The block's rows go
    // through each step together: one row's max, exponentials and sum form a chain of dependent
    // instructions that the core can only overlap with another row's.
    float top1[MAX_BLOCK], inverse[MAX_BLOCK];
    vf sum[MAX_BLOCK];
    for (size_t r = 0; r < block; r++) {
        top1[r] = __builtin_reduce_max(top[r]);
        sum[r] = SPLAT(0);
    }
    for (size_t j = 0; j < keys; j += LANES) {
        for (size_t r = 0; r < block; r++) {
            float *p = probs + r * keys + j;
            const vf e = EXP_LANES(LOAD(p) - top1[r]);
            STORE(p, e);
            sum[r] += e;
        }
    }
    for (size_t r = 0; r < block; r++) inverse[r] = 1 / REDUCE_ADD(sum[r]);
    // context = e · v · (1 / sum), 16 columns a chunk, `pair` chunks at a time
    size_t c0 = 0;
    for (; c0 + pair * LANES <= d; c0 += pair * LANES)
        context_chunks(block, probs, keys, values, width, n, c0, pair, LANES, inverse, outs, rows);
    if (c0 < d) {
        const size_t left = d - c0, chunks = left > LANES ? 2 : 1;  // > LANES only when pair is 2
        context_chunks(
            block, probs, keys, values, width, n, c0, chunks, left - (chunks - 1) * LANES, inverse, outs, rows);
    }
}

BSS_CLONES
void bss_attention(
    const float *q, const float *k, const float *v, size_t ld, size_t n, size_t d, float scale,
    const float *adder, float *out, size_t ldo, float *scratch) {
    if (n == 0 || d == 0) return;
    const size_t keys = ROUND_UP(n), width = ROUND_UP(d);
    // kᵀ [d][keys] (zero past n); v [n][width] (zero past d); the key bias [keys]: the adder, and
    // -inf past n, so that padding keys get weight exactly 0 and never win the max; then the
    // block's scores, later e^(score - max), [MAX_BLOCK][keys].
    float *kt = scratch;
    float *values = kt + keys * d;
    float *keyBias = values + n * width;
    float *probs = keyBias + keys;
    transpose_keys(k, ld, n, d, keys, kt);
    for (size_t key = 0; key < n; key++) {
        const float *src = v + key * ld;
        float *dst = values + key * width;
        size_t c = 0;
        for (; c + LANES <= d; c += LANES) STORE(dst + c, LOAD(src + c));
        if (c < width) STORE(dst + c, LOAD_PARTIAL(src + c, d - c, 0));
    }
    for (size_t key = 0; key < keys; key++) keyBias[key] = key < n ? (adder ? adder[key] : 0) : -__builtin_inff();

    // Constant blocks, so that each call inlines with its accumulators in registers: with
    // AVX-512 a block's 8 × 2 sums of 16 lanes take 16 of the 32 registers; AVX2 needs two
    // registers for 16 lanes and has 16, so there a block is 4 rows × 1 tile (8 registers; the
    // AVX-512 blocks spilled: Zen 3, 120 keys × 32 wide, 82 µs per (sequence, head) against 32;
    // 20 × 32: 2.4 against 1.9 µs; 6 rows a block was no faster).
    if (__builtin_cpu_supports("avx512f")) {
        const size_t block = n > 32 ? 8 : 4;
        for (size_t i0 = 0; i0 < n; i0 += block) {
            if (block == 8) query_block(q, ld, n, d, scale, kt, values, keyBias, probs, out, ldo, i0, 8, 2);
            else query_block(q, ld, n, d, scale, kt, values, keyBias, probs, out, ldo, i0, 4, 2);
        }
    } else {
        for (size_t i0 = 0; i0 < n; i0 += 4)
            query_block(q, ld, n, d, scale, kt, values, keyBias, probs, out, ldo, i0, 4, 1);
    }
}

// See elementwise.h. Written on 16-lane vector types: the AVX-512 clone keeps each in one zmm
// register, the AVX2 clone in two ymm, the baseline in four xmm. Every element goes through the
// same arithmetic whatever its position: a row's tail is computed in a padded local vector.
#include "elementwise.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#define BSS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BSS_CLONES
#endif

enum { LANES = 16 };
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));

// Helpers are macros, not inline functions: a function taking or returning a 64-byte vector has
// a different ABI in each clone, which clang refuses even for always-inline functions.
#define SPLAT(x) ((vf){0} + (float)(x))
#define LOAD(p) ({ vf v_; memcpy(&v_, (p), sizeof v_); v_; })
#define STORE(p, v) do { vf s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)
/// The first `count` (< LANES) floats at `p`, the other lanes `fill`.
/// (Element loops, not memcpy: a memcpy of a variable length is a library call per row tail.)
#define LOAD_PARTIAL(p, count, fill) ({ \
    const float *s_ = (p); \
    const size_t c_ = (count); \
    float l_[LANES]; \
    for (size_t i_ = 0; i_ < LANES; i_++) l_[i_] = i_ < c_ ? s_[i_] : (fill); \
    LOAD(l_); })
#define STORE_PARTIAL(p, v, count) do { \
    float *d_ = (p); \
    const size_t c_ = (count); \
    float l_[LANES]; \
    STORE(l_, (v)); \
    for (size_t i_ = 0; i_ < c_; i_++) d_[i_] = l_[i_]; \
} while (0)
/// Lanes of `yes` where `mask` is all ones, of `no` where it is zero.
#define SELECT(mask, yes, no) ((vf)(((mask) & (vi)(yes)) | (~(mask) & (vi)(no))))
/// Sum of the lanes, halves added pairwise (a fixed order, the same in every clone).
#define REDUCE_ADD(v) ({ \
    typedef float half_ __attribute__((vector_size(32))); \
    typedef float quarter_ __attribute__((vector_size(16))); \
    vf r_ = (v); \
    half_ h_ = __builtin_shufflevector(r_, r_, 0, 1, 2, 3, 4, 5, 6, 7) \
        + __builtin_shufflevector(r_, r_, 8, 9, 10, 11, 12, 13, 14, 15); \
    quarter_ q_ = __builtin_shufflevector(h_, h_, 0, 1, 2, 3) + __builtin_shufflevector(h_, h_, 4, 5, 6, 7); \
    (q_[0] + q_[2]) + (q_[1] + q_[3]); })

// e^x as VectorMath.exp computes it: x = n·ln2 + r (Cody–Waite, ln2 split so n·ln2Hi is exact),
// e^r by its Taylor series to degree 7, 2^n built in the exponent bits; 0 below -87.3, the
// -10000 attention adder's e^x in TensorFlow. 1.5·2^23 added rounds to an integer.
#define EXP_LANES(x) ({ \
    vf x_ = (x); \
    vf xc_ = __builtin_elementwise_min(__builtin_elementwise_max(x_, SPLAT(-87.3f)), SPLAT(88.0f)); \
    vf shifted_ = xc_ * 1.44269504f + 12582912.0f; \
    vf n_ = shifted_ - 12582912.0f; \
    vf r_ = xc_ - n_ * 0.693359375f; \
    r_ = r_ - n_ * -2.1219444e-4f; \
    vf p_ = SPLAT(1.0f / 5040); \
    p_ = p_ * r_ + 1.0f / 720; \
    p_ = p_ * r_ + 1.0f / 120; \
    p_ = p_ * r_ + 1.0f / 24; \
    p_ = p_ * r_ + 1.0f / 6; \
    p_ = p_ * r_ + 0.5f; \
    p_ = p_ * r_ + 1; \
    p_ = p_ * r_ + 1; \
    vi exponent_ = (((vi)shifted_ - (vi)SPLAT(12582912.0f)) + 127) << 23; \
    SELECT(x_ < -87.3f, SPLAT(0), p_ * (vf)exponent_); })

BSS_CLONES
void bss_softmax_rows(float *p, size_t rows, size_t cols, const float *adder) {
    const size_t bulk = cols / LANES * LANES, tail = cols - bulk;
    for (size_t r = 0; r < rows; r++) {
        float *row = p + r * cols;
        if (adder) {
            for (size_t j = 0; j < cols; j++) row[j] += adder[j];
        }
        vf top = SPLAT(-__builtin_inff());
        for (size_t j = 0; j < bulk; j += LANES) top = __builtin_elementwise_max(top, LOAD(row + j));
        if (tail) top = __builtin_elementwise_max(top, LOAD_PARTIAL(row + bulk, tail, -__builtin_inff()));
        const float m = __builtin_reduce_max(top);
        vf sum = SPLAT(0);
        for (size_t j = 0; j < bulk; j += LANES) {
            vf e = EXP_LANES(LOAD(row + j) - m);
            STORE(row + j, e);
            sum += e;
        }
        if (tail) {
            vf e = EXP_LANES(LOAD_PARTIAL(row + bulk, tail, m) - m);
            STORE_PARTIAL(row + bulk, e, tail);
            const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
            sum += SELECT(lane < (int32_t)tail, e, SPLAT(0));
        }
        const float inv = 1 / REDUCE_ADD(sum);
        for (size_t j = 0; j < cols; j++) row[j] *= inv;
    }
}

BSS_CLONES
void bss_add_layer_norm(
    float *x, const float *residual, size_t rows, size_t cols, const float *gamma, const float *beta) {
    const size_t bulk = cols / LANES * LANES, tail = cols - bulk;
    const float n = (float)cols;
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        if (residual) {
            const float *res = residual + r * cols;
            for (size_t j = 0; j < cols; j++) row[j] += res[j];
        }
        vf acc = SPLAT(0);
        for (size_t j = 0; j < bulk; j += LANES) acc += LOAD(row + j);
        if (tail) acc += LOAD_PARTIAL(row + bulk, tail, 0);
        const float mean = REDUCE_ADD(acc) / n;
        vf squares = SPLAT(0);
        for (size_t j = 0; j < bulk; j += LANES) {
            vf d = LOAD(row + j) - mean;
            squares += d * d;
        }
        if (tail) {
            vf d = LOAD_PARTIAL(row + bulk, tail, mean) - mean;
            squares += d * d;
        }
        const float rstd = 1 / __builtin_sqrtf(REDUCE_ADD(squares) / n + 1e-12f);
        for (size_t k = 0; k < cols; k++) {
            const float inv = rstd * gamma[k];
            row[k] = row[k] * inv + (beta[k] - mean * inv);
        }
    }
}

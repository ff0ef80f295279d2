// The 16-lane vector type and the lane macros shared by this target's kernels (not public: the
// module's API is include/elementwise.h). Written on 16-lane vector types: the AVX-512 clone keeps
// each in one zmm register, the AVX2 clone in two ymm, the baseline in four xmm.
#pragma once

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

// e^x, approximated as TensorFlow's Eigen kernels do rather than correctly rounded (relative error
// about 1e-7): x = n·ln2 + r with |r| <= ln2/2 (Cody–Waite, ln2 split in 0.693359375, exact in
// float, and the rest, so n·ln2Hi is exact), e^r by its Taylor series to degree 7 (truncation
// < 6e-9), 2^n built in the exponent bits (n <= 127: x clamped to 88); 0 below -87.3, under the
// smallest normal float, as TensorFlow gives for the -10000 attention adder. Adding 1.5·2^23
// rounds a float of magnitude < 2^22 to an integer and leaves it in the low mantissa bits.
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

// erf(x) by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) on |x|, the sign put back from x's
// sign bit. e^(-x^2) of the clamped argument: below e^-87.3 (|x| > 9.3) it leaves 1 - p·e = 1.
#define ERF_LANES(x) ({ \
    vi bits_ = (vi)(x); \
    const vi signBit_ = (vi){0} + INT32_MIN; /* not SPLAT(-0.0f): 0 + -0 is +0 */ \
    vi sign_ = bits_ & signBit_; \
    vf ax_ = (vf)(bits_ & ~signBit_); \
    vf t_ = 1.0f / (1.0f + 0.3275911f * ax_); \
    vf q_ = SPLAT(1.061405429f); \
    q_ = q_ * t_ - 1.453152027f; \
    q_ = q_ * t_ + 1.421413741f; \
    q_ = q_ * t_ - 0.284496736f; \
    q_ = q_ * t_ + 0.254829592f; \
    q_ = q_ * t_; \
    vf e_ = EXP_LANES(__builtin_elementwise_max(-(ax_ * ax_), SPLAT(-87.3f))); \
    (vf)((vi)(1.0f - q_ * e_) | sign_); })

// modeling.py gelu: x · ½(1 + erf(x/√2)), x · (1/√2) being at most an ulp from x / √2.
#define GELU_LANES(x) ({ vf g_ = (x); g_ * (0.5f * (1.0f + ERF_LANES(g_ * 0.707106781f))); })

/// A dense layer's activation (`BSS_ACTIVATION_*` of elementwise.h, but TANH) on 16 lanes.
#define ACTIVATE(v, activation) ( \
    (activation) == BSS_ACTIVATION_GELU ? GELU_LANES(v) \
    : (activation) == BSS_ACTIVATION_RELU ? __builtin_elementwise_max((v), SPLAT(0)) : (v))

// See elementwise.h. Every element goes through the same arithmetic whatever its position: a
// row's tail is computed in a padded local vector.
#include "elementwise.h"
#include "lanes.h"

#include <math.h>

BSS_CLONES
void bss_add_bias_activate(float *p, const float *bias, size_t rows, size_t cols, int activation) {
    const size_t bulk = cols / LANES * LANES, tail = cols - bulk;
    for (size_t r = 0; r < rows; r++) {
        float *row = p + r * cols;
        if (activation == BSS_ACTIVATION_TANH) {
            // The pooler's tanh, one row per sentence: libm's, as TensorFlow's is not vectorised here either.
            for (size_t j = 0; j < cols; j++) row[j] = tanhf(row[j] + (bias ? bias[j] : 0));
            continue;
        }
        for (size_t j = 0; j < bulk; j += LANES) {
            vf v = LOAD(row + j);
            if (bias) v += LOAD(bias + j);
            STORE(row + j, ACTIVATE(v, activation));
        }
        if (tail) {
            vf v = LOAD_PARTIAL(row + bulk, tail, 0);
            if (bias) v += LOAD_PARTIAL(bias + bulk, tail, 0);
            STORE_PARTIAL(row + bulk, ACTIVATE(v, activation), tail);
        }
    }
}

BSS_CLONES
void bss_exp(float *p, size_t count) {
    const size_t bulk = count / LANES * LANES, tail = count - bulk;
    for (size_t j = 0; j < bulk; j += LANES) STORE(p + j, EXP_LANES(LOAD(p + j)));
    if (tail) STORE_PARTIAL(p + bulk, EXP_LANES(LOAD_PARTIAL(p + bulk, tail, 0)), tail);
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

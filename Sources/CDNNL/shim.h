#pragma once
// oneDNN (Debian libdnnl-dev 2.6, OpenMP runtime): the C API the engine's bf16 matrix products use.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

// Swift cannot spell dnnl_dims_t literals or DNNL_MEMORY_ALLOCATE; these wrap what it needs.

/// A row-major `[rows, cols]` descriptor (`tag` dnnl_ab) or, with dnnl_format_tag_any, one the
/// primitive may choose.
static inline dnnl_status_t cdnnl_matrix_desc(
    dnnl_memory_desc_t *desc, int64_t rows, int64_t cols, dnnl_data_type_t type, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {rows, cols};
    return dnnl_memory_desc_init_by_tag(desc, 2, dims, type, tag);
}

/// A memory object the library allocates (the packed weights).
static inline dnnl_status_t cdnnl_memory_allocate(
    dnnl_memory_t *memory, const dnnl_memory_desc_t *desc, dnnl_engine_t engine) {
    return dnnl_memory_create(memory, desc, engine, DNNL_MEMORY_ALLOCATE);
}

/// Sets the OpenMP team size of the calling thread (oneDNN's parallel regions use it).
/// libdnnl links libgomp; its symbol is looked up at run time so nothing links OpenMP directly.
/// Returns 0 when no OpenMP runtime is loaded.
static inline int cdnnl_set_openmp_threads(int threads) {
    static void (*set_num_threads)(int) = 0;
    if (!set_num_threads) {
        void *self = dlopen(0, RTLD_LAZY);
        if (self) set_num_threads = (void (*)(int))dlsym(self, "omp_set_num_threads");
    }
    if (!set_num_threads) return 0;
    set_num_threads(threads);
    return 1;
}

/// `dst[i] = bfloat16(src[i])`, rounding to nearest even (VCVTNEPS2BF16, which also treats
/// denormals as zero). Only for CPUs with AVX512-BF16: the caller checks before calling.
__attribute__((target("avx512f,avx512bf16")))
static inline void cdnnl_convert_to_bf16(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512((void *)(dst + i), (__m512i)pair);
    }
    for (; i < count; i++) {
        uint32_t bits;
        __builtin_memcpy(&bits, src + i, 4);
        dst[i] = (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }
}

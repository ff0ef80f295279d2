#pragma once
#include <cblas.h>

// OpenBLAS extensions (declared in OpenBLAS's cblas.h): thread count and the kernel it picked.
// openblas_get_corename() names the kernel chosen at load time, from cpuid or OPENBLAS_CORETYPE.

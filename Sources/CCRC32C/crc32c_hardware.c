// The CRC-32C (Castagnoli) instruction of SSE4.2: TensorFlow checkpoints carry a CRC-32C of every
// tensor, and computing it with tables took about a quarter of the server's start-up.
// Swift cannot compile a function for a CPU feature the whole module is not built for, so this
// file does it with a target attribute, and the caller checks the CPU first.
#include "crc32c_hardware.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int bss_crc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t bss_crc32c_hardware(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = (uint32_t)~crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // unaligned load; x86-64 is little-endian, as the CRC expects
        c = _mm_crc32_u64(c, word);
        p += 8;
        count -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (count > 0) {
        c32 = _mm_crc32_u8(c32, *p);
        p++;
        count--;
    }
    return ~c32;
}

#else

int bss_crc32c_hardware_available(void) { return 0; }

uint32_t bss_crc32c_hardware(uint32_t crc, const void *data, size_t count) {
    (void)data;
    (void)count;
    return crc;  // never called: bss_crc32c_hardware_available() is 0
}

#endif

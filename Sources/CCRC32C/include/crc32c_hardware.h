#ifndef BSS_CRC32C_HARDWARE_H
#define BSS_CRC32C_HARDWARE_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction this library uses (x86-64 SSE4.2), else 0.
int bss_crc32c_hardware_available(void);

/// CRC-32C of `count` bytes at `data`, continuing from `crc` (0 to start), with the CPU's
/// CRC-32C instruction. Call only when bss_crc32c_hardware_available() returned 1.
uint32_t bss_crc32c_hardware(uint32_t crc, const void *data, size_t count);

#endif

#ifndef CLOUDLESS_CRC32_FOLD_H
#define CLOUDLESS_CRC32_FOLD_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32 (ISO-HDLC, zlib's) by carry-less multiplication: 4 × 128-bit lanes folded 64 bytes at a time, then a
   Barrett reduction (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction",
   Intel, 2009). zlib 1.2.13's table-driven crc32_z costs about 5 times as much per byte. */

/* 1 when this CPU has PCLMULQDQ and SSE4.1 (x86-64 only; 0 elsewhere). */
int cloudless_crc32_fold_available(void);

/* Runs the raw, un-inverted CRC-32 register over `length` bytes and returns it. `length` must be at least 64 and a
   multiple of 16; call only when cloudless_crc32_fold_available(). */
uint32_t cloudless_crc32_fold(uint32_t reg, const uint8_t *bytes, size_t length);

#endif

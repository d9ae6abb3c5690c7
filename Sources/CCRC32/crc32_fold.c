#include "crc32_fold.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int cloudless_crc32_fold_available(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_PCLMUL) && (ecx & bit_SSE4_1);
}

#define FOLD_TARGET __attribute__((target("pclmul,sse4.1")))

/* Constants of the bit-reflected polynomial 0x1DB710641, from the paper's appendix: x^(n) mod P for the fold
   distances (k1, k2: 4 × 128 bits; k3, k4: 128 bits; k5: 64 bits), P itself and Barrett's µ = x^64 / P. */
#define K1 0x154442bd4ULL
#define K2 0x1c6e41596ULL
#define K3 0x1751997d0ULL
#define K4 0x0ccaa009eULL
#define K5 0x163cd6124ULL
#define P_REFLECTED 0x1db710641ULL
#define MU_REFLECTED 0x1f7011641ULL

/* acc × x^distance mod P, xor'ed into the next 16 bytes: the low half times the low constant, the high half times
   the high constant. */
FOLD_TARGET static inline __m128i fold(__m128i acc, __m128i constants, __m128i next) {
    __m128i low = _mm_clmulepi64_si128(acc, constants, 0x00);
    __m128i high = _mm_clmulepi64_si128(acc, constants, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

FOLD_TARGET uint32_t cloudless_crc32_fold(uint32_t reg, const uint8_t *bytes, size_t length) {
    const __m128i *p = (const __m128i *)bytes;
    __m128i a = _mm_xor_si128(_mm_loadu_si128(p), _mm_cvtsi32_si128((int)reg));
    __m128i b = _mm_loadu_si128(p + 1);
    __m128i c = _mm_loadu_si128(p + 2);
    __m128i d = _mm_loadu_si128(p + 3);
    p += 4;
    length -= 64;

    const __m128i by64 = _mm_set_epi64x((long long)K2, (long long)K1);
    while (length >= 64) {
        a = fold(a, by64, _mm_loadu_si128(p));
        b = fold(b, by64, _mm_loadu_si128(p + 1));
        c = fold(c, by64, _mm_loadu_si128(p + 2));
        d = fold(d, by64, _mm_loadu_si128(p + 3));
        p += 4;
        length -= 64;
    }

    /* Four lanes into one, then any 16-byte blocks left. */
    const __m128i by16 = _mm_set_epi64x((long long)K4, (long long)K3);
    a = fold(a, by16, b);
    a = fold(a, by16, c);
    a = fold(a, by16, d);
    while (length >= 16) {
        a = fold(a, by16, _mm_loadu_si128(p));
        p += 1;
        length -= 16;
    }

    /* 128 → 64 bits: the low half times K4 into the high half. */
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    a = _mm_xor_si128(_mm_srli_si128(a, 8), _mm_clmulepi64_si128(a, by16, 0x10));
    /* 64 → 32 bits (plus 32 to reduce): the low 32 bits times K5 into the rest. */
    const __m128i k5 = _mm_set_epi64x(0, (long long)K5);
    a = _mm_xor_si128(_mm_srli_si128(a, 4), _mm_clmulepi64_si128(_mm_and_si128(a, low32), k5, 0x00));
    /* Barrett: q = (low 32 bits × µ) mod x^32, remainder = a ⊕ q × P; the CRC is in bits 32..63. */
    const __m128i barrett = _mm_set_epi64x((long long)MU_REFLECTED, (long long)P_REFLECTED);
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), barrett, 0x10), low32);
    a = _mm_xor_si128(a, _mm_clmulepi64_si128(q, barrett, 0x00));
    return (uint32_t)_mm_extract_epi32(a, 1);
}

#else

int cloudless_crc32_fold_available(void) { return 0; }

uint32_t cloudless_crc32_fold(uint32_t reg, const uint8_t *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return reg;
}

#endif

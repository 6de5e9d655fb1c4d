/*
 * hash.c: the library's one general-purpose hash, a word-at-a-time multiply-xorshift mix over
 * the bytes (8 at a time, then the tail with the length folded in). Used for the aggregation
 * maps' keys, event content hashes and dedup fingerprints; keys are short (16 to 100 bytes).
 */
#include <string.h>

#include "internal.h"

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

uint64_t jc_hash64(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    return mix64(h ^ tail ^ ((uint64_t)n << 56));
}


/*
 * rng.c: xoshiro256** seeded by splitmix64, and the distributions the model draws from
 * (see rng.h).
 *
 * Both generators are the published public-domain algorithms (Vigna; Blackman and Vigna),
 * written out here from their definitions. Integers below n use rejection of the short final
 * block, so every value is equally likely; Poisson counts use Knuth's method, which is exact
 * and cheap for the small means the model uses (it caps lambda at 50 to bound the loop).
 */
#include "rng.h"

#include <math.h>

#define GOLDEN_GAMMA UINT64_C(0x9e3779b97f4a7c15)
#define POISSON_MAX_LAMBDA 50.0

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += GOLDEN_GAMMA);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void gen_rng_seed(gen_rng_t *rng, uint64_t seed, uint64_t stream)
{
    uint64_t state = seed ^ (stream * UINT64_C(0xd1342543de82ef95));
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

uint64_t gen_rng_next(gen_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t gen_rng_below(gen_rng_t *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n: the short block to reject */
    for (;;) {
        uint64_t r = gen_rng_next(rng);
        if (r >= threshold)
            return r % n;
    }
}

int64_t gen_rng_range(gen_rng_t *rng, int64_t lo, int64_t hi)
{
    return lo + (int64_t)gen_rng_below(rng, (uint64_t)(hi - lo) + 1);
}

double gen_rng_unit(gen_rng_t *rng)
{
    return (double)(gen_rng_next(rng) >> 11) * 0x1.0p-53;
}

int gen_rng_chance(gen_rng_t *rng, double p)
{
    return gen_rng_unit(rng) < p;
}

int32_t gen_rng_poisson(gen_rng_t *rng, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda > POISSON_MAX_LAMBDA)
        lambda = POISSON_MAX_LAMBDA;
    double limit = exp(-lambda), product = gen_rng_unit(rng);
    int32_t k = 0;
    while (product > limit) {
        k++;
        product *= gen_rng_unit(rng);
    }
    return k;
}

int32_t gen_rng_geometric(gen_rng_t *rng, double p, int32_t cap)
{
    int32_t k = 1;
    while (k < cap && !gen_rng_chance(rng, p))
        k++;
    return k;
}

size_t gen_rng_pick(gen_rng_t *rng, const unsigned *weights, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint64_t r = gen_rng_below(rng, total);
    for (size_t i = 0; i < n; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return n - 1; /* not reached when the sum is positive */
}

uint64_t gen_hash(uint64_t a, uint64_t b)
{
    uint64_t state = a * UINT64_C(0xff51afd7ed558ccd) ^ b;
    return splitmix64(&state);
}

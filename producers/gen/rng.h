/*
 * rng.h: the generator's own seeded pseudo-random numbers (never rand()).
 *
 * xoshiro256** seeded through splitmix64, one independent stream per purpose: a stream is
 * seeded from (seed, stream id), so the visits drawn for a seed do not change when, say, the
 * malformed rate does. On top of the raw 64-bit output: unbiased integers below n, doubles in
 * [0, 1), chances, small Poisson and geometric counts, weighted choices, and a stateless
 * 64-bit hash for attributes fixed per entity (a cadre's level, a county's township count).
 */
#ifndef GEN_RNG_H
#define GEN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng_t;

/* Streams: one per part of the model, so each part's draws depend only on the seed. */
enum {
    GEN_STREAM_VISITS = 1,
    GEN_STREAM_PETITIONS,
    GEN_STREAM_DISASTERS,
    GEN_STREAM_TRAININGS,
    GEN_STREAM_ORDER,
    GEN_STREAM_MALFORMED,
    GEN_STREAM_REVISIONS,
};

/* Seed rng for stream of seed. */
void gen_rng_seed(gen_rng_t *rng, uint64_t seed, uint64_t stream);

uint64_t gen_rng_next(gen_rng_t *rng);

/* Uniform in [0, n) without modulo bias; 0 when n is 0. */
uint64_t gen_rng_below(gen_rng_t *rng, uint64_t n);

/* Uniform in [lo, hi] (lo <= hi). */
int64_t gen_rng_range(gen_rng_t *rng, int64_t lo, int64_t hi);

/* Uniform double in [0, 1). */
double gen_rng_unit(gen_rng_t *rng);

/* 1 with probability p. */
int gen_rng_chance(gen_rng_t *rng, double p);

/* A Poisson count with mean lambda (0 <= lambda <= 50; Knuth's product method). */
int32_t gen_rng_poisson(gen_rng_t *rng, double lambda);

/* A geometric count on 1, 2, 3, ... with success probability p (mean 1/p), capped at cap. */
int32_t gen_rng_geometric(gen_rng_t *rng, double p, int32_t cap);

/* An index in [0, n) drawn with probability weights[i] / sum (the sum must be positive). */
size_t gen_rng_pick(gen_rng_t *rng, const unsigned *weights, size_t n);

/* A stateless 64-bit mix of a and b (splitmix64's finaliser), for per-entity attributes. */
uint64_t gen_hash(uint64_t a, uint64_t b);

#endif

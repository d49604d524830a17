/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Random numbers for generated models: xoshiro256** seeded through
 * splitmix64, uniform floats, and normal floats by Marsaglia and Tsang's
 * ziggurat (a few nanoseconds each, so that a billion weights take
 * seconds). Deterministic: the same seed gives the same numbers on every
 * host and with any number of threads.
 */
#ifndef LLAMUX_TOOLS_RNG_H
#define LLAMUX_TOOLS_RNG_H

#include <stddef.h>
#include <stdint.h>

struct lt_rng {
	uint64_t s[4];
};

/* splitmix64's output function: a good 64-bit mixer. */
uint64_t lt_mix64(uint64_t x);
/* FNV-1a of a string, mixed: for per-tensor seeds. */
uint64_t lt_hash_str(const char *s);

void lt_rng_seed(struct lt_rng *r, uint64_t seed);
uint64_t lt_rng_next(struct lt_rng *r);
/* Uniform in [0, 1). */
float lt_rng_uniform(struct lt_rng *r);
/* n normal values with mean 0 and standard deviation sd. */
void lt_rng_normal(struct lt_rng *r, float *out, size_t n, float sd);

#endif

/*
 * hal/sim/rng.c — deterministic "random" bytes: splitmix64 from a seed
 * (1 after reset), so a test that draws random numbers sees the same ones
 * on every run and every platform.  Not cryptographic, on purpose.
 */
#include "hal/rng.h"

#include <errno.h>

#include "sim_int.h"

static uint64_t sim_rng_state = 1;

/* see sim_int.h */
void sim_rng_reset(void)
{
	sim_rng_state = 1;
}

/* see hal/sim.h */
void hal_sim_rng_seed(uint64_t seed)
{
	sim_rng_state = seed;
}

/* splitmix64 (Steele, Lea, Flood 2014): full period, good avalanche */
static uint64_t sim_rng_next(void)
{
	uint64_t z = (sim_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* see hal/rng.h */
int hal_rng_fill(void *buf, size_t n)
{
	unsigned char *p = buf;
	int err = sim_fault();

	if (err < 0)
		return -EIO; /* the only failure rng.h allows */
	if (n > 0 && !buf)
		return -EIO;
	while (n > 0) {
		uint64_t v = sim_rng_next();

		for (int i = 0; i < 8 && n > 0; i++, n--) {
			*p++ = (unsigned char)v;
			v >>= 8;
		}
	}
	return 0;
}

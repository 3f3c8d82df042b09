/*
 * hal_rng_test.c — contract of hal/rng.h on both implementations.
 */
#include "hal/rng.h"
#include "test.h"

TEST(fill_writes_every_byte)
{
	static const unsigned char zero[64];
	unsigned char a[64];

	memset(a, 0, sizeof a);
	CHECK_EQ_INT(hal_rng_fill(a, sizeof a), 0);
	/* 64 zero bytes from a working generator: chance 2^-512 */
	CHECK(memcmp(a, zero, sizeof a) != 0);
}

TEST(two_fills_differ)
{
	unsigned char a[32], b[32];

	CHECK_EQ_INT(hal_rng_fill(a, sizeof a), 0);
	CHECK_EQ_INT(hal_rng_fill(b, sizeof b), 0);
	CHECK(memcmp(a, b, sizeof a) != 0);
}

TEST(zero_length_and_odd_lengths)
{
	unsigned char big[1031];

	CHECK_EQ_INT(hal_rng_fill(big, 0), 0);
	CHECK_EQ_INT(hal_rng_fill(big, 1), 0);
	/* above getrandom's 256-byte single-call guarantee, odd size */
	CHECK_EQ_INT(hal_rng_fill(big, sizeof big), 0);
}

TEST_SUITE(hal_rng, fill_writes_every_byte, two_fills_differ,
	   zero_length_and_odd_lengths)

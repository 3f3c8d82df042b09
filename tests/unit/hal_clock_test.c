/*
 * hal_clock_test.c — contract of hal/clock.h, run against hal/sim and
 * hal/linux alike.
 */
#include "hal/clock.h"
#include "hal/poll.h"
#include "test.h"

TEST(mono_never_goes_back)
{
	uint64_t prev = hal_clock_mono_ms();

	for (int i = 0; i < 1000; i++) {
		uint64_t now = hal_clock_mono_ms();

		CHECK(now >= prev);
		prev = now;
	}
}

TEST(mono_moves_across_a_poll_timeout)
{
	uint64_t t0 = hal_clock_mono_ms();

	/* nothing to wait for: just the timeout (real or virtual) */
	CHECK_EQ_INT(hal_poll(NULL, 0, 20), 0);
	CHECK(hal_clock_mono_ms() - t0 >= 20);
}

TEST(wall_is_sane_and_after_2024)
{
	/* both sides start well after 2024-01-01 (sim: 2026-01-01) */
	CHECK(hal_clock_wall_ms() >= 1704067200000LL);
	CHECK_EQ_INT(hal_clock_wall_sane(), 1);
}

TEST_SUITE(hal_clock, mono_never_goes_back, mono_moves_across_a_poll_timeout,
	   wall_is_sane_and_after_2024)

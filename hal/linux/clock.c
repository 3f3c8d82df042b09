/*
 * hal/linux/clock.c — the two clocks on CLOCK_MONOTONIC and CLOCK_REALTIME.
 *
 * clock_gettime on these clocks goes through the vDSO and cannot fail with
 * valid arguments, so the functions have no error path; a failure would be
 * a kernel without the clock, where 0 is the least harmful answer.
 */
#include "hal/clock.h"

#include <time.h>

/* 2024-01-01T00:00:00Z in ms: 19723 days since the epoch * 86400000. */
#define CLOCK_SANE_WALL_MS 1704067200000LL

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	/* time_t is 64-bit on every target (musl >= 1.2 on 32-bit too). */
	return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

/* see hal/clock.h */
uint64_t hal_clock_mono_ms(void)
{
	return (uint64_t)clock_ms(CLOCK_MONOTONIC);
}

/* see hal/clock.h */
int64_t hal_clock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/* see hal/clock.h */
int hal_clock_wall_sane(void)
{
	return hal_clock_wall_ms() >= CLOCK_SANE_WALL_MS;
}

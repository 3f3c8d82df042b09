/*
 * hal/clock.h — time.
 *
 * Two clocks: monotonic (never jumps, starts at an arbitrary point; all
 * timers and staleness use it) and wall (epoch time, may be wrong until the
 * board has synced it; only for display and records).  The sim clock moves
 * only when a test or hal_poll() moves it (see hal/sim.h), so timer tests
 * are deterministic.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock.  Cannot fail. */
uint64_t hal_clock_mono_ms(void);

/* Milliseconds since the Unix epoch on the wall clock.  Cannot fail;
 * the value may be before 2020 on a board without an RTC (see
 * hal_clock_wall_sane). */
int64_t hal_clock_wall_ms(void);

/* 1 when the wall clock looks set (after 2024-01-01), else 0. */
int hal_clock_wall_sane(void);

#endif

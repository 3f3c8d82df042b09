/*
 * hal/linux/clock.c — the two clocks on CLOCK_MONOTONIC and CLOCK_REALTIME.
 *
 * clock_gettime on these clocks goes through the vDSO and cannot fail with
 * valid arguments, so the functions have no error path; a failure would be
 * a kernel without the clock, where 0 is the least harmful answer.
 *
 * The host board's vigild (board/host/board.h: BOARD_TEST_CLOCK) adds a
 * test-only offset to the wall clock, so a test can step the agent's
 * CLOCK_REALTIME forward and back while it runs without setting the
 * machine's clock (docs/testing.md, "Wall-clock jumps").  No device image
 * has it; a device's config and the network cannot reach an environment
 * variable.
 */
#include "hal/clock.h"

#include <time.h>

#include "board.h"

#ifdef BOARD_TEST_CLOCK
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#endif

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

#ifdef BOARD_TEST_CLOCK
/* Milliseconds to add to CLOCK_REALTIME: the signed decimal number in the
 * file VIGIL_TEST_WALL_OFFSET_FILE names, read again at every call (the
 * test rewrites it while vigild runs); 0 without the variable or the file. */
static int64_t wall_offset_ms(void)
{
	static const char *path;
	static int looked;
	char buf[24];
	ssize_t n;
	int fd;

	if (!looked) {
		path = getenv("VIGIL_TEST_WALL_OFFSET_FILE");
		looked = 1;
	}
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}
#else
static int64_t wall_offset_ms(void)
{
	return 0;
}
#endif

/* see hal/clock.h */
int64_t hal_clock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME) + wall_offset_ms();
}

/* see hal/clock.h */
int hal_clock_wall_sane(void)
{
	return hal_clock_wall_ms() >= CLOCK_SANE_WALL_MS;
}

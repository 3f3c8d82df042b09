/*
 * hal_proc_test.c — contract of hal/proc.h on both implementations:
 * argument and state checks, and the life of a child that exits 0 (the
 * sim's default child; `exit 0` under the real /bin/sh).  Output, exit
 * codes, signals and the process-group kill of real children are in
 * linux_proc_test.c.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "hal/proc.h"
#include "test.h"

/* Polls until the child ends (at most ~2 s of real time). */
static int wait_end(struct hal_proc *p, int *status)
{
	const struct timespec ms10 = { 0, 10 * 1000 * 1000 };
	int r = 0;

	for (int i = 0; i < 200 && (r = hal_proc_poll(p, status)) == 0; i++)
		nanosleep(&ms10, NULL);
	return r;
}

TEST(bad_arguments)
{
	struct hal_proc p = HAL_PROC_INIT;
	char longc[HAL_PROC_CMD_MAX + 1];
	char buf[8];
	int st;

	memset(longc, ':', sizeof longc - 1);
	longc[sizeof longc - 1] = '\0';
	CHECK_EQ_INT(hal_proc_spawn(&p, ""), -EINVAL);
	CHECK_EQ_INT(hal_proc_spawn(&p, NULL), -EINVAL);
	CHECK_EQ_INT(hal_proc_spawn(&p, longc), -EINVAL);
	CHECK_EQ_INT(hal_proc_read(&p, buf, sizeof buf), -EBADF);
	CHECK_EQ_INT(hal_proc_poll(&p, &st), -EBADF);
	CHECK_EQ_INT(hal_proc_kill(&p), -EBADF);
	hal_proc_close(&p); /* nothing to close: harmless */
	CHECK_EQ_INT(p.pid, -1);
}

TEST(child_exits_zero_and_is_reaped)
{
	struct hal_proc p = HAL_PROC_INIT;
	char buf[8];
	int st = -1, r;

	REQUIRE(hal_proc_spawn(&p, "exit 0") == 0);
	CHECK(p.pid > 0);
	CHECK(p.out_fd >= 0);
	CHECK_EQ_INT(hal_proc_spawn(&p, "exit 0"), -EALREADY);
	CHECK_EQ_INT(wait_end(&p, &st), 1);
	CHECK_EQ_INT(st, 0);
	CHECK_EQ_INT(p.pid, -1);
	CHECK_EQ_INT(hal_proc_poll(&p, &st), -EBADF);
	CHECK_EQ_INT(hal_proc_kill(&p), -EBADF);
	r = hal_proc_read(&p, buf, sizeof buf);
	CHECK_EQ_INT(r, 0); /* no output, writer gone */
	hal_proc_close(&p);
	CHECK_EQ_INT(p.out_fd, -1);
	CHECK_EQ_INT(hal_proc_read(&p, buf, sizeof buf), -EBADF);
}

TEST_SUITE(hal_proc, bad_arguments, child_exits_zero_and_is_reaped)

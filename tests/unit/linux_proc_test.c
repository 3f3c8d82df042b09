/*
 * linux_proc_test.c — hal/linux/proc.c with real children: stdout
 * through the pipe, exit codes, death by signal, the kill of a whole
 * process group (what sh started too), and the child's setup (stdin
 * /dev/null, SIGPIPE back to default although vigild ignores it).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "hal/proc.h"
#include "test.h"

/* Reads all output and waits for the end (at most ~3 s). */
static int run(const char *cmd, char *out, size_t cap, int *status)
{
	const struct timespec ms10 = { 0, 10 * 1000 * 1000 };
	struct hal_proc p = HAL_PROC_INIT;
	size_t got = 0;
	int ended = 0, r;

	if (hal_proc_spawn(&p, cmd) < 0)
		return -1;
	for (int i = 0; i < 300 && !ended; i++) {
		while (got < cap - 1 &&
		       (r = hal_proc_read(&p, out + got, cap - 1 - got)) > 0)
			got += (size_t)r;
		ended = hal_proc_poll(&p, status) == 1;
		if (!ended)
			nanosleep(&ms10, NULL);
	}
	while (got < cap - 1 &&
	       (r = hal_proc_read(&p, out + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	hal_proc_close(&p);
	return ended ? 0 : -1;
}

TEST(output_and_exit_codes)
{
	char out[64];
	int st;

	REQUIRE(run("echo hello; echo second; exit 1", out, sizeof out,
		    &st) == 0);
	CHECK_EQ_STR(out, "hello\nsecond\n");
	CHECK_EQ_INT(st, 1);
	REQUIRE(run("exit 7", out, sizeof out, &st) == 0);
	CHECK_EQ_INT(st, 7);
	CHECK_EQ_STR(out, "");
	REQUIRE(run("kill -TERM $$", out, sizeof out, &st) == 0);
	CHECK_EQ_INT(st, 256 + SIGTERM);
	/* stderr goes nowhere, stdin is empty */
	REQUIRE(run("echo err >&2; cat; echo done", out, sizeof out, &st) == 0);
	CHECK_EQ_STR(out, "done\n");
	/* SIGPIPE is default again in the child: `yes | true` ends */
	REQUIRE(run("yes | true; echo ok", out, sizeof out, &st) == 0);
	CHECK_EQ_STR(out, "ok\n");
	REQUIRE(run("/no/such/program", out, sizeof out, &st) == 0);
	CHECK_EQ_INT(st, 127);
}

TEST(kill_reaches_the_process_group)
{
	const struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	struct hal_proc p = HAL_PROC_INIT;
	char buf[64];
	int st = -1, r = 0;

	/* sh starts a background sleep that holds the pipe open too */
	REQUIRE(hal_proc_spawn(&p, "sleep 30 & sleep 30") == 0);
	nanosleep(&ms50, NULL);
	CHECK_EQ_INT(hal_proc_poll(&p, &st), 0);
	CHECK_EQ_INT(hal_proc_read(&p, buf, sizeof buf), -EAGAIN);
	CHECK_EQ_INT(hal_proc_kill(&p), 0);
	for (int i = 0; i < 100 && (r = hal_proc_poll(&p, &st)) == 0; i++)
		nanosleep(&ms50, NULL);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(st, 256 + SIGKILL);
	/* the background sleep died too: the pipe reaches end of file */
	for (int i = 0; i < 100 && (r = hal_proc_read(&p, buf, sizeof buf))
			== -EAGAIN; i++)
		nanosleep(&ms50, NULL);
	CHECK_EQ_INT(r, 0);
	hal_proc_close(&p);
}

TEST(close_kills_a_running_child)
{
	struct hal_proc p = HAL_PROC_INIT;

	REQUIRE(hal_proc_spawn(&p, "sleep 30") == 0);
	hal_proc_close(&p); /* returns at once: SIGKILL, then the reap */
	CHECK_EQ_INT(p.pid, -1);
	CHECK_EQ_INT(p.out_fd, -1);
}

TEST_SUITE(linux_proc, output_and_exit_codes,
	   kill_reaches_the_process_group, close_kills_a_running_child)

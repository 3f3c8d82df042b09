/*
 * health_cmd_test.c — the external check command (firmware/health/health_exec.c)
 * on the sim's scripted children: exit status -> result, the first stdout
 * line as the error, the timeout kill recorded once, a start failure, a
 * run still going is not doubled, SKIP without a command.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/sim.h"
#include "health.h"
#include "health_exec.h"
#include "log.h"
#include "test.h"

static struct health h;
static struct health_cmd hc;

/* "command" every 5 s (no start period), timeout 2 s. */
static const struct health_check *setup(const char *cmd)
{
	const struct health_check_def tmpl = { .name = NULL,
		.interval_ms = 5000, .timeout_ms = 5000,
		.start_period_ms = 1, .retries = 1, .debounce = 1 };

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	if (health_cmd_add(&h, &hc, &tmpl, 0) != 0)
		test_fail(__FILE__, __LINE__, "health_cmd_add");
	health_cmd_configure(&hc, cmd, 2000);
	return &h.checks[0];
}

/* The agent's order: collect, then start what is due; 100 ms ticks. */
static void run_until(uint64_t from_ms, uint64_t to_ms)
{
	for (uint64_t t = from_ms; t <= to_ms; t += 100) {
		if (t > from_ms)
			hal_sim_clock_advance(100);
		health_cmd_tick(&hc, t);
		health_run_due(&h, t);
	}
}

TEST(no_command_skips)
{
	const struct health_check *c = setup("");

	run_until(0, 0);
	CHECK_EQ_INT(c->last_result, HEALTH_SKIP);
	CHECK_EQ_STR(c->last_error, "no command configured");
	CHECK_EQ_INT(c->def.kind, HEALTH_WANTED);
	CHECK_EQ_STR(c->name, "command");
	CHECK_EQ_INT(hal_sim_proc_spawns(), 0);
}

TEST(exit_status_maps_to_results)
{
	static const struct { int status; const char *out;
			      enum health_result r; const char *err; } t[] = {
		{ 0, "all fine\n", HEALTH_PASS, "" },
		{ 1, "disk 91% full\nmore\n", HEALTH_WARN, "disk 91% full" },
		{ 2, "", HEALTH_FAIL, "exit status 2" },
		{ 255, "db down\r\n", HEALTH_FAIL, "db down" },
		{ 1, NULL, HEALTH_WARN, "exit status 1" },
		{ 256 + 11, NULL, HEALTH_FAIL, "killed by signal 11" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct hal_sim_proc s = { 0, 300, t[i].status, t[i].out };
		const struct health_check *c;

		hal_sim_reset();
		c = setup("/usr/lib/vigil/check");
		hal_sim_proc_set(&s);
		run_until(0, 200);
		CHECK_EQ_INT(c->runs, 0); /* started, not ended */
		run_until(200, 400);
		CHECK_EQ_INT(c->runs, 1);
		CHECK_EQ_INT(c->last_result, t[i].r);
		CHECK_EQ_STR(c->last_error, t[i].err);
		CHECK_EQ_STR(hal_sim_proc_last_cmd(), "/usr/lib/vigil/check");
	}
}

TEST(timeout_kills_and_records_once)
{
	const struct hal_sim_proc s = { 0, UINT32_MAX, 0, "partial" };
	const struct health_check *c = setup("sleep 100");

	hal_sim_proc_set(&s);
	run_until(0, 1900);
	CHECK_EQ_INT(c->runs, 0);
	run_until(1900, 2000);
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(c->last_result, HEALTH_FAIL);
	CHECK_EQ_STR(c->last_error, "timed out after 2000 ms");
	CHECK_EQ_INT(hal_sim_proc_kills(), 1);
	CHECK_EQ_INT(c->state, HEALTH_UNHEALTHY); /* retries 1 */
	run_until(2000, 4900); /* reaped; nothing more recorded */
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(hc.proc.pid, -1);
	CHECK_EQ_INT(hc.proc.out_fd, -1);
	run_until(4900, 5000); /* the next run starts on time */
	CHECK_EQ_INT(hal_sim_proc_spawns(), 2);
}

TEST(running_command_is_not_doubled)
{
	const struct hal_sim_proc s = { 0, 7000, 0, NULL };
	const struct health_check *c = setup("slow");

	hal_sim_proc_set(&s);
	health_cmd_configure(&hc, "slow", 60000); /* longer than interval */
	run_until(0, 6000);
	CHECK_EQ_INT(hal_sim_proc_spawns(), 1); /* the 5 s run skipped */
	CHECK_EQ_INT(c->runs, 0);
	run_until(6000, 7000);
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(c->last_result, HEALTH_PASS);
	run_until(7000, 10000);
	CHECK_EQ_INT(hal_sim_proc_spawns(), 2);
}

TEST(start_failure_fails_at_once)
{
	const struct hal_sim_proc s = { -EAGAIN, 0, 0, NULL };
	const struct health_check *c = setup("check");

	hal_sim_proc_set(&s);
	run_until(0, 0);
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(c->last_result, HEALTH_FAIL);
	CHECK(strncmp(c->last_error, "cannot start: ", 14) == 0);
}

TEST(long_and_binary_first_line_is_bounded)
{
	static char out[400];
	struct hal_sim_proc s = { 0, 0, 2, out };
	const struct health_check *c = setup("check");

	memset(out, 'x', sizeof out - 1);
	out[0] = '\x01';
	out[1] = '\x7f';
	hal_sim_proc_set(&s);
	run_until(0, 100);
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(strlen(c->last_error), HEALTH_ERR_MAX - 1);
	CHECK(strncmp(c->last_error, "??xxx", 5) == 0);
}

TEST(stop_kills_a_run_in_flight)
{
	const struct hal_sim_proc s = { 0, UINT32_MAX, 0, NULL };

	setup("forever");
	hal_sim_proc_set(&s);
	run_until(0, 100);
	CHECK(hc.proc.pid >= 0);
	health_cmd_stop(&hc);
	CHECK_EQ_INT(hc.proc.pid, -1);
	CHECK_EQ_INT(hal_sim_proc_kills(), 1);
}

TEST_SUITE(health_cmd, no_command_skips, exit_status_maps_to_results,
	   timeout_kills_and_records_once, running_command_is_not_doubled,
	   start_failure_fails_at_once, long_and_binary_first_line_is_bounded,
	   stop_kills_a_run_in_flight)

/*
 * backup_window_test.c — backup.window in the agent (backup_window.c)
 * on the sim HAL, whose wall clock the test places: a scheduled run due
 * outside the window waits for it and starts when it opens; a scheduled
 * job still running when it closes is cancelled with the reason; a
 * manual job ignores it; the published state says when it opens next.
 * The server is a sim peer that accepts and never answers, so a job
 * stays running for as long as the test wants.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "log.h"
#include "test.h"
#include "tz.h"

EV_MEM_DEFINE(bw_mem, 8, 12);

static struct ev_loop loop;
static struct backup_agent ba;
static struct backup_link pub;

static int64_t utc_ms(int64_t y, int mo, int d, int h, int mi)
{
	return (tz_days(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

/* An agent whose window is 01:00-05:30 CET, schedule every interval,
 * started at wall time now_ms; a silent server at 192.0.2.1:1256. */
static void setup(int64_t now_ms, uint64_t interval_ms)
{
	struct backup_agent_cfg cfg;
	struct hal_addr srv;

	hal_sim_reset();
	(void)log_configure(LOG_INFO, 0, 0);
	hal_sim_clock_set_wall(now_ms);
	REQUIRE(ev_init(&loop, &bw_mem) == 0);
	REQUIRE(hal_net_addr_parse("192.0.2.1", 1256, &srv) == 0);
	REQUIRE(hal_sim_net_add_peer(&(struct hal_sim_peer){
		.addr = srv, .type = HAL_SOCK_STREAM }) == 0);
	REQUIRE(hal_storage_mkdir("/data", 0700) == 0);
	REQUIRE(hal_storage_write_atomic("/data/f", "x", 1, 0600) == 0);
	backup_agent_init(&ba, &loop, &pub, NULL);
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.server, sizeof cfg.server, "tcp://192.0.2.1:1256");
	snprintf(cfg.paths, sizeof cfg.paths, "/data/f");
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "/data");
	snprintf(cfg.window, sizeof cfg.window, "01:00-05:30");
	snprintf(cfg.zone, sizeof cfg.zone, "CET-1CEST,M3.5.0,M10.5.0/3");
	cfg.interval_ms = interval_ms;
	cfg.io_timeout_ms = 3600u * 1000u;  /* silence never ends a job */
	backup_agent_configure(&ba, &cfg);
}

/* Runs the loop until the wall clock reaches t_ms (an idle sim poll
 * jumps to its timeout: never past t_ms). */
static void run_until(int64_t t_ms)
{
	while (hal_clock_wall_ms() < t_ms)
		if (ev_run_once(&loop, (int)(t_ms - hal_clock_wall_ms())) < 0)
			return;
}

TEST(scheduled_run_waits_for_the_window)
{
	const struct backup_status *st;
	const struct backup_job *j;

	/* 13:00 CET; a run falls due every 2 h */
	setup(utc_ms(2026, 1, 5, 12, 0), 2u * 3600u * 1000u);
	st = backup_agent_status(&ba);
	CHECK_EQ_STR(st->window.spec, "01:00-05:30");
	CHECK_EQ_INT(st->window.open, 0);
	CHECK_EQ_INT(st->window.next_open_s, utc_ms(2026, 1, 6, 0, 0) / 1000);
	CHECK_EQ_INT(st->window.next_close_s, 0);
	run_until(utc_ms(2026, 1, 5, 23, 59));
	CHECK(backup_agent_job(&ba, 1) == NULL);
	CHECK_EQ_INT(st->window.due, 1);
	/* one run when it opens, however many came due before */
	run_until(utc_ms(2026, 1, 6, 0, 1));
	j = backup_agent_job(&ba, 1);
	REQUIRE(j != NULL);
	CHECK(j->scheduled);
	CHECK_EQ_INT(j->state, BACKUP_JOB_RUNNING);
	CHECK(backup_agent_job(&ba, 2) == NULL);
	CHECK_EQ_INT(st->window.open, 1);
	CHECK_EQ_INT(st->window.due, 0);
	CHECK_EQ_INT(st->window.next_close_s, utc_ms(2026, 1, 6, 4, 30) / 1000);
	CHECK_EQ_INT(st->window.next_open_s, utc_ms(2026, 1, 7, 0, 0) / 1000);
	backup_agent_stop(&ba);
}

TEST(closing_window_cancels_the_scheduled_job_not_a_manual_one)
{
	const struct backup_job *j1, *j2;

	/* 05:00 CET, open; the schedule fires at 05:10 */
	setup(utc_ms(2026, 1, 5, 4, 0), 10u * 60u * 1000u);
	run_until(utc_ms(2026, 1, 5, 4, 11));
	j1 = backup_agent_job(&ba, 1);
	REQUIRE(j1 != NULL);
	CHECK(j1->scheduled);
	CHECK_EQ_INT(j1->state, BACKUP_JOB_RUNNING);
	run_until(utc_ms(2026, 1, 5, 4, 31));
	CHECK_EQ_INT(j1->state, BACKUP_JOB_CANCELLED);
	CHECK(strstr(j1->cancel_reason, "backup window 01:00-05:30 closed")
	      != NULL);
	/* a manual job outside the window runs, and is not cancelled */
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 2);
	j2 = backup_agent_job(&ba, 2);
	REQUIRE(j2 != NULL);
	run_until(utc_ms(2026, 1, 5, 5, 0));
	CHECK_EQ_INT(j2->state, BACKUP_JOB_RUNNING);
	CHECK(backup_agent_job(&ba, 3) == NULL);  /* scheduled ones wait */
	backup_agent_stop(&ba);
}

TEST(unset_wall_clock_holds_scheduled_runs)
{
	const struct backup_status *st;

	setup(utc_ms(2001, 1, 1, 2, 0), 60u * 1000u);  /* no RTC: 2001 */
	st = backup_agent_status(&ba);
	CHECK_EQ_INT(st->window.clock_set, 0);
	CHECK_EQ_INT(st->window.open, 0);
	CHECK_EQ_INT(st->window.next_open_s, 0);
	run_until(utc_ms(2001, 1, 1, 2, 5));
	CHECK(backup_agent_job(&ba, 1) == NULL);
	CHECK_EQ_INT(st->window.due, 1);
	/* the clock is set (NTP): noticed within a minute, inside the
	 * window (02:00Z is 03:00 CET), the run that waited starts */
	hal_sim_clock_set_wall(utc_ms(2026, 2, 2, 2, 0));
	run_until(utc_ms(2026, 2, 2, 2, 2));
	CHECK(backup_agent_job(&ba, 1) != NULL);
	CHECK_EQ_INT(st->window.clock_set, 1);
	backup_agent_stop(&ba);
}

TEST(no_window_changes_nothing)
{
	struct backup_agent_cfg cfg;

	setup(utc_ms(2026, 1, 5, 12, 0), 0);
	cfg = ba.cfg;
	cfg.window[0] = '\0';
	backup_agent_configure(&ba, &cfg);
	CHECK_EQ_STR(backup_agent_status(&ba)->window.spec, "");
	CHECK_EQ_INT(backup_agent_status(&ba)->window.open, 1);
	CHECK(ba.win_timer < 0);
	backup_agent_stop(&ba);
}

TEST_SUITE(backup_window, scheduled_run_waits_for_the_window,
	   closing_window_cancels_the_scheduled_job_not_a_manual_one,
	   unset_wall_clock_holds_scheduled_runs, no_window_changes_nothing)

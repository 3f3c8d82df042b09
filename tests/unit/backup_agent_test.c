/*
 * backup_agent_test.c — the pure parts of the agent's backup client on
 * the sim HAL: the job table, cancel semantics, safe mode, the
 * backup.interval schedule (a tls:// server makes every job fail at its
 * start, before any I/O) and the status words.  The walk is tested in
 * linux_walk_test.c (a real directory) and backup_engine_test.c (sim).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_agent.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "log.h"
#include "test.h"

EV_MEM_DEFINE(bat_mem, 8, 8);

static struct ev_loop loop;
static struct backup_agent ba;
static struct backup_link pub;
static int safe;

static void setup(const char *server, uint64_t interval_ms)
{
	struct backup_agent_cfg cfg;

	hal_sim_reset();
	/* records to the ring only: no stderr noise in `make check` */
	(void)log_configure(LOG_INFO, 0, 0);
	REQUIRE(ev_init(&loop, &bat_mem) == 0);
	safe = 0;
	memset(&pub, 0, sizeof pub);
	backup_agent_init(&ba, &loop, &pub, &safe);
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.server, sizeof cfg.server, "%s", server);
	snprintf(cfg.paths, sizeof cfg.paths, "/nonexistent-vigil-test");
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "/data");
	cfg.interval_ms = interval_ms;
	backup_agent_configure(&ba, &cfg);
}

TEST(refuses_without_server_and_in_safe_mode)
{
	const char *why = NULL;

	setup("", 0);
	CHECK_EQ_INT(backup_agent_now(&ba, &why), -EINVAL);
	CHECK(why && strstr(why, "backup.server"));
	CHECK_EQ_STR(backup_agent_state(&ba), "offline");
	CHECK_EQ_INT(pub.state, BACKUP_LINK_OFF);
	setup("tcp://127.0.0.1:1256", 0);
	CHECK_EQ_INT(pub.state, BACKUP_LINK_DOWN);
	CHECK_EQ_STR(backup_agent_state(&ba), "standby");
	safe = 1;
	why = NULL;
	CHECK_EQ_INT(backup_agent_now(&ba, &why), -EPERM);
	CHECK(why && strstr(why, "safe mode"));
	CHECK(backup_agent_job(&ba, 1) == NULL);
}

TEST(bad_url_fails_the_job_with_the_reason)
{
	const struct backup_job *j;

	setup("http://x", 0);
	CHECK(strstr(ba.st.cfg_error, "tcp://host:port") != NULL);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 1);
	j = backup_agent_job(&ba, 1);
	REQUIRE(j);
	CHECK_EQ_INT(j->state, BACKUP_JOB_FAILED);
	CHECK(strstr(j->error, "backup.server") != NULL);
}

TEST(tls_without_ca_fails_with_a_clear_reason)
{
	const struct backup_job *j;

	setup("tls://127.0.0.1:1257", 0);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 1);
	j = backup_agent_job(&ba, 1);
	REQUIRE(j);
	CHECK_EQ_STR(backup_job_state_name(j->state), "failed");
	CHECK(strstr(j->error, "tls:// needs a CA file") != NULL);
	CHECK(ba.cur == -1);
}

TEST(jobs_queue_behind_the_running_one_and_cancel)
{
	const struct backup_job *j1, *j2, *j3;

	setup("tcp://127.0.0.1:1256", 0);
	/* without running the loop the first job stays in "scanning" */
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 1);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 2);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), 3);
	j1 = backup_agent_job(&ba, 1);
	j2 = backup_agent_job(&ba, 2);
	j3 = backup_agent_job(&ba, 3);
	REQUIRE(j1 && j2 && j3);
	CHECK_EQ_INT(j1->state, BACKUP_JOB_RUNNING);
	CHECK_EQ_STR(j1->phase, "scanning");
	CHECK_EQ_INT(j2->state, BACKUP_JOB_QUEUED);
	CHECK_EQ_STR(backup_agent_state(&ba), "busy");
	/* a queued job is cancelled without touching the running one */
	CHECK_EQ_INT(backup_agent_cancel(&ba, 2, "not now"), 1);
	CHECK_EQ_INT(j2->state, BACKUP_JOB_CANCELLED);
	CHECK_EQ_STR(j2->cancel_reason, "not now");
	CHECK_EQ_INT(j1->state, BACKUP_JOB_RUNNING);
	CHECK_EQ_INT(backup_agent_cancel(&ba, 2, NULL), -EINVAL);
	CHECK_EQ_INT(backup_agent_cancel(&ba, 42, NULL), -ENOENT);
	/* cancelling the running job starts the next queued one */
	CHECK_EQ_INT(backup_agent_cancel(&ba, 1, ""), 1);
	CHECK_EQ_STR(j1->cancel_reason, "cancelled");
	CHECK_EQ_INT(j3->state, BACKUP_JOB_RUNNING);
	CHECK_EQ_INT(backup_agent_cancel(&ba, 0, "power work"), 1);
	CHECK_EQ_INT(j3->state, BACKUP_JOB_CANCELLED);
	CHECK_EQ_STR(j3->cancel_reason, "power work");
	CHECK_EQ_INT(backup_agent_cancel(&ba, 0, NULL), 0);
	CHECK(ba.cur == -1);
}

TEST(job_table_is_bounded_and_recycles_finished_jobs)
{
	setup("tcp://127.0.0.1:1256", 0);
	for (int i = 1; i <= BACKUP_JOBS_MAX; i++)
		CHECK_EQ_INT(backup_agent_now(&ba, NULL), i);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), -ENOSPC);
	CHECK_EQ_INT(backup_agent_cancel(&ba, 3, NULL), 1);
	CHECK_EQ_INT(backup_agent_now(&ba, NULL), BACKUP_JOBS_MAX + 1);
	CHECK(backup_agent_job(&ba, 3) == NULL);  /* its slot was reused */
	CHECK_EQ_INT(backup_agent_cancel(&ba, 0, NULL), BACKUP_JOBS_MAX);
	backup_agent_stop(&ba);
}

TEST(schedule_runs_on_interval_and_goes_on_after_failures)
{
	uint64_t t0;
	const struct backup_job *j;

	setup("tls://127.0.0.1:1257", 1000);
	t0 = hal_clock_mono_ms();
	CHECK(backup_agent_job(&ba, 1) == NULL);
	while (hal_clock_mono_ms() < t0 + 3000)
		REQUIRE(ev_run_once(&loop, 5000) >= 0);
	for (uint32_t id = 1; id <= 3; id++) {
		j = backup_agent_job(&ba, id);
		REQUIRE(j);
		CHECK(j->scheduled);
		CHECK_EQ_INT(j->state, BACKUP_JOB_FAILED);
	}
	CHECK(backup_agent_job(&ba, 4) == NULL);
	/* safe mode: the ticks are refused, no job appears */
	safe = 1;
	while (hal_clock_mono_ms() < t0 + 5000)
		REQUIRE(ev_run_once(&loop, 5000) >= 0);
	CHECK(backup_agent_job(&ba, 4) == NULL);
	backup_agent_stop(&ba);
}

TEST_SUITE(backup_agent, refuses_without_server_and_in_safe_mode,
	   bad_url_fails_the_job_with_the_reason,
	   tls_without_ca_fails_with_a_clear_reason,
	   jobs_queue_behind_the_running_one_and_cancel,
	   job_table_is_bounded_and_recycles_finished_jobs,
	   schedule_runs_on_interval_and_goes_on_after_failures)

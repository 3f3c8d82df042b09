/*
 * backup_agent.c — jobs, schedule, cancel and configuration of the
 * agent's backup client (backup_agent.h); the I/O state machine is in
 * backup_agent_run.c.
 */
#include "backup_agent_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto_platform.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/rng.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

/* see backup_agent_int.h */
void bka_publish(struct backup_agent *ba)
{
	struct backup_status *st = &ba->st;

	st->link_up = ba->c.conn.link.state == BACKUP_LINK_UP;
	st->last_error = ba->c.conn.link.last_error;
	/* the engine is bound to c.cfg at init (a zeroed agent is not) */
	st->addr = ba->c.e.cfg ? *bke_server(&ba->c.e) : ba->c.cfg.server;
	st->connected = ba->c.conn.fd >= 0;
	st->conn_seq = ba->c.conn.ups;
	st->conn = ba->c.conn.stats;
	memcpy(st->conn.client_id, ba->c.e.id.uuid, V3_ID_SIZE);
	if (ba->pub)
		*ba->pub = ba->c.conn.link;
}

/* see backup_agent.h */
const struct backup_status *backup_agent_status(const struct backup_agent *ba)
{
	return &ba->st;
}

/* see backup_agent.h */
int backup_agent_init(struct backup_agent *ba, struct ev_loop *loop,
		      struct backup_link *pub, const int *safe_mode)
{
	mem_clear(ba, sizeof *ba); /* only the pages in use become resident */
	ba->loop = loop;
	ba->pub = pub;
	ba->safe_mode = safe_mode;
	ba->cur = -1;
	ba->next_id = 1;
	ba->sched_timer = ba->step_timer = ba->io_timer = ba->retry_timer = -1;
	ba->win_timer = -1;
	ba->ffd = -1;
	bka_restore_init(ba);
	bke_init(&ba->c.e, &ba->c.cfg);
	ba->c.conn.fd = -1;
	bka_publish(ba);
	return 0;
}

/* see backup_agent_int.h */
int bka_idle(const struct backup_agent *ba)
{
	for (int i = 0; i < BACKUP_JOBS_MAX; i++)
		if (ba->st.jobs[i].state == BACKUP_JOB_QUEUED ||
		    ba->st.jobs[i].state == BACKUP_JOB_RUNNING)
			return 0;
	return ba->st.restore.state != RESTORE_RUNNING;
}

/* see backup_agent_int.h */
int bka_start_scheduled(struct backup_agent *ba)
{
	const char *why = NULL;
	int ret = backup_agent_now(ba, &why);

	ba->st.window.due = 0;          /* this is the run that was due */
	if (ret > 0) {
		for (int i = 0; i < BACKUP_JOBS_MAX; i++)
			if (ba->st.jobs[i].id == (uint32_t)ret)
				ba->st.jobs[i].scheduled = 1;
	} else {
		log_warn("backup", "scheduled run: %s", why);
	}
	return ret;
}

static int64_t on_schedule(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;

	(void)loop; /* ba has it */
	if (!bka_idle(ba)) {
		ba->runs_skipped++;
		log_info("backup", "scheduled run skipped: a %s is still "
			 "pending", ba->st.restore.state == RESTORE_RUNNING
			 ? "restore" : "backup job");
		return (int64_t)ba->cfg.interval_ms;
	}
	if (!bka_window_open(ba)) {
		if (!ba->st.window.due)
			log_info("backup", "scheduled run waits for the backup "
				 "window %s", ba->st.window.spec);
		ba->st.window.due = 1;
		bka_publish(ba);
		return (int64_t)ba->cfg.interval_ms;
	}
	(void)bka_start_scheduled(ba);
	return (int64_t)ba->cfg.interval_ms;
}

static void set_cfg_error(struct backup_agent *ba, const char *fmt,
			  const char *a)
{
	snprintf(ba->st.cfg_error, sizeof ba->st.cfg_error, fmt, a);
	log_err("backup", "%s", ba->st.cfg_error);
}

/* Parses and resolves the server URL into ba->c.cfg.server. */
static void configure_server(struct backup_agent *ba)
{
	char host[BACKUP_HOST_MAX];
	uint16_t port = 0;
	int ret;

	ba->st.configured = 0;
	ba->st.tls = 0;
	ba->st.cfg_error[0] = '\0';
	ba->st.server_text[0] = '\0';
	if (ba->cfg.server[0] == '\0')
		return;
	ret = backup_url_parse(ba->cfg.server, &ba->st.tls, host, sizeof host,
			       &port);
	if (ret < 0) {
		set_cfg_error(ba, "backup.server `%s`: expected "
			      "tcp://host:port or tls://host:port",
			      ba->cfg.server);
		return;
	}
	snprintf(ba->st.server_text, sizeof ba->st.server_text, "%s",
		 ba->cfg.server + 6);
	ba->c.cfg.tls = ba->st.tls;
	snprintf(ba->c.cfg.host, sizeof ba->c.cfg.host, "%s", host);
	/* a numeric address never blocks; a name resolves here (init or
	 * reload), never in a loop callback */
	if (backup_server_resolve(&ba->c.cfg, host, port) < 0) {
		set_cfg_error(ba, "backup.server: cannot resolve '%s'", host);
		return;
	}
	ba->st.configured = 1;
}

/* Loads me.info once per configuration (when no job runs). */
static void load_identity(struct backup_agent *ba)
{
	struct backup_client_cfg cc = ba->c.cfg;
	int ret;

	if (ba->cur >= 0)
		return;         /* the running job keeps its session */
	bka_conn_close(ba);     /* the server may have changed */
	backup_client_close(&ba->c);    /* the files may have changed */
	snprintf(cc.tls_ca, sizeof cc.tls_ca, "%s", ba->cfg.tls_ca);
	snprintf(cc.tls_cert, sizeof cc.tls_cert, "%s", ba->cfg.tls_cert);
	snprintf(cc.tls_key, sizeof cc.tls_key, "%s", ba->cfg.tls_key);
	snprintf(cc.tls_psk, sizeof cc.tls_psk, "%s", ba->cfg.tls_psk);
	cc.tls_allow12 = ba->cfg.tls_allow12;
	snprintf(cc.state_dir, sizeof cc.state_dir, "%s", ba->cfg.state_dir);
	snprintf(cc.name, sizeof cc.name, "%s",
		 ba->cfg.name[0] ? ba->cfg.name : "vigil");
	cc.retry_cap_ms = ba->cfg.retry_cap_ms;
	cc.io_timeout_ms = ba->cfg.io_timeout_ms;
	cc.max_rate = ba->cfg.max_rate;
	ret = backup_client_init(&ba->c, &cc);  /* zeroes c: link too */
	if (ret < 0) {
		/* never register anew over an unusable identity */
		set_cfg_error(ba, "%s", ba->c.e.err);
		ba->st.configured = 0;
	}
	ba->c.conn.link.state = ba->st.configured ? BACKUP_LINK_DOWN
						  : BACKUP_LINK_OFF;
	ba->c.conn.link.state_since_ms = hal_clock_mono_ms();
	bka_publish(ba);
}

/* see backup_agent.h */
int backup_agent_configure(struct backup_agent *ba,
			   const struct backup_agent_cfg *cfg)
{
	/* The arena's set-up writes all of it: only once there is a server
	 * to back up to (an agent without one keeps 256 KiB less resident). */
	if (!ba->crypto_ready && cfg->server[0]) {
		backup_crypto_init();
		ba->crypto_ready = 1;
	}
	if (ba->cur < 0 && ba->st.restore.state != RESTORE_RUNNING) {
		ba->cfg = *cfg;
		snprintf(ba->st.server, sizeof ba->st.server, "%s",
			 cfg->server);
		configure_server(ba);
		load_identity(ba);
	} else {
		/* the running job (or restore) keeps its settings and its
		 * connection; the rest applies when it ends
		 * (bka_job_finished, bka_restore's end) */
		ba->pending = *cfg;
		ba->has_pending = 1;
		ba->cfg.interval_ms = cfg->interval_ms;
		memcpy(ba->cfg.window, cfg->window, sizeof ba->cfg.window);
		memcpy(ba->cfg.zone, cfg->zone, sizeof ba->cfg.zone);
	}
	bka_window_configure(ba);
	if (ba->sched_timer > 0)
		ev_timer_cancel(ba->loop, ba->sched_timer);
	ba->sched_timer = -1;
	if (cfg->interval_ms > 0 && cfg->server[0]) {
		int id = ev_timer_add(ba->loop, (int64_t)cfg->interval_ms,
				      on_schedule, ba);

		if (id < 0)
			log_err("backup", "no timer for backup.interval");
		ba->sched_timer = id > 0 ? id : -1;
	}
	return 0;
}

/* A slot for a new job: free, else the oldest finished one. */
static int free_slot(struct backup_agent *ba)
{
	int best = -1;

	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		const struct backup_job *j = &ba->st.jobs[i];

		if (j->state == BACKUP_JOB_FREE)
			return i;
		if (j->state == BACKUP_JOB_QUEUED ||
		    j->state == BACKUP_JOB_RUNNING)
			continue;
		if (best < 0 || j->id < ba->st.jobs[best].id)
			best = i;
	}
	return best;
}

/* Starts the oldest queued job if none runs. */
static void start_next(struct backup_agent *ba)
{
	int pick = -1;

	if (ba->cur >= 0)
		return;
	if (ba->has_pending) {
		ba->has_pending = 0;
		backup_agent_configure(ba, &ba->pending);
	}
	for (int i = 0; i < BACKUP_JOBS_MAX; i++)
		if (ba->st.jobs[i].state == BACKUP_JOB_QUEUED &&
		    (pick < 0 || ba->st.jobs[i].id < ba->st.jobs[pick].id))
			pick = i;
	if (pick < 0)
		return;
	ba->cur = pick;
	ba->st.jobs[pick].state = BACKUP_JOB_RUNNING;
	ba->st.jobs[pick].started_ms = hal_clock_mono_ms();
	log_info_kv("backup", LOG_KVS(LKV_U("job", ba->st.jobs[pick].id),
				      LKV_S("trace", ba->st.jobs[pick].trace)),
		    "job %u started (trace %s)", (unsigned)ba->st.jobs[pick].id,
		    ba->st.jobs[pick].trace);
	bka_run_start(ba, pick);
}

/* 64 random bits as hex: unique enough to join two logs by; a failing
 * random source still gives a valid id (zeros), never a failed job. */
static void trace_new(char out[BACKUP_TRACE_MAX])
{
	uint8_t r[(BACKUP_TRACE_MAX - 1) / 2] = { 0 };

	(void)hal_rng_fill(r, sizeof r);
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* see backup_agent.h */
int backup_agent_now(struct backup_agent *ba, const char **why)
{
	struct backup_job *j;
	int i;

	if (ba->safe_mode && *ba->safe_mode) {
		if (why)
			*why = "refused: the agent is in safe mode "
			       "(repeated watchdog resets)";
		return -EPERM;
	}
	if (ba->cfg.server[0] == '\0') {
		if (why)
			*why = "no backup.server configured";
		return -EINVAL;
	}
	if (ba->st.restore.state == RESTORE_RUNNING) {
		if (why)
			*why = "refused: a restore is running (one transfer at "
			       "a time; `restore cancel` stops it)";
		return -EBUSY;
	}
	i = free_slot(ba);
	if (i < 0) {
		if (why)
			*why = "job table full (8 queued or running)";
		return -ENOSPC;
	}
	j = &ba->st.jobs[i];
	memset(j, 0, sizeof *j);
	j->id = ba->next_id++;
	trace_new(j->trace);
	j->state = BACKUP_JOB_QUEUED;
	j->phase = "queued";
	j->queued_ms = hal_clock_mono_ms();
	start_next(ba);
	bka_publish(ba);
	return (int)j->id;
}

/* see backup_agent.h */
void bka_job_finished(struct backup_agent *ba)
{
	struct backup_job *j = &ba->st.jobs[ba->cur];

	j->ended_ms = hal_clock_mono_ms();
	j->file[0] = '\0';
	metric_add(M_BACKUP_JOB_MS, j->ended_ms - j->started_ms);
	if (j->state == BACKUP_JOB_DONE) {
		ba->st.last_success_ms = j->ended_ms;
		j->phase = "done";
		log_info_kv("backup", LOG_KVS(LKV_U("job", j->id),
			LKV_S("trace", j->trace), LKV_U("files", j->files_done),
			LKV_U("bytes", j->bytes_done),
			LKV_U("ms", j->ended_ms - j->started_ms)),
			"job %u done: %u files, %llu bytes verified",
			 (unsigned)j->id, (unsigned)j->files_done,
			 (unsigned long long)j->bytes_done);
	} else {
		j->phase = "failed";
		log_err_kv("backup", LOG_KVS(LKV_U("job", j->id),
			LKV_S("trace", j->trace), LKV_S("err", j->error)),
			"job %u failed: %s", (unsigned)j->id,
			j->error);
	}
	log_debug("backup", "crypto arena: %zu bytes held at most so far",
		  crypto_arena_peak());
	ba->cur = -1;
	bka_publish(ba);
	/* what only this job ran (a first registration's key generation, an
	 * error path) stops counting in the resident set */
	hal_mem_drop_code();
	start_next(ba);
}

static void cancel_one(struct backup_agent *ba, int i, const char *reason)
{
	struct backup_job *j = &ba->st.jobs[i];

	if (i == ba->cur) {
		bka_run_abort(ba);
		ba->cur = -1;
	}
	j->state = BACKUP_JOB_CANCELLED;
	j->phase = "cancelled";
	j->ended_ms = hal_clock_mono_ms();
	j->file[0] = '\0';
	snprintf(j->cancel_reason, sizeof j->cancel_reason, "%s",
		 reason && reason[0] ? reason : "cancelled");
	log_info("backup", "job %u cancelled: %s", (unsigned)j->id,
		 j->cancel_reason);
}

/* see backup_agent.h */
int backup_agent_cancel(struct backup_agent *ba, uint32_t id,
			const char *reason)
{
	int n = 0;

	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		struct backup_job *j = &ba->st.jobs[i];
		int live = j->state == BACKUP_JOB_QUEUED ||
			   j->state == BACKUP_JOB_RUNNING;

		if (j->state == BACKUP_JOB_FREE || (id && j->id != id))
			continue;
		if (id && !live)
			return -EINVAL;
		if (live) {
			cancel_one(ba, i, reason);
			n++;
		}
	}
	if (id && n == 0)
		return -ENOENT;
	bka_publish(ba);
	start_next(ba);
	return n;
}

/* see backup_agent.h */
void backup_agent_stop(struct backup_agent *ba)
{
	if (ba->loop == NULL)
		return;
	backup_agent_cancel(ba, 0, "agent stopping");
	bka_restore_stop(ba);
	bka_window_stop(ba);
	if (ba->sched_timer > 0)
		ev_timer_cancel(ba->loop, ba->sched_timer);
	ba->sched_timer = -1;
	bka_conn_close(ba);
	backup_client_close(&ba->c);
	bka_publish(ba);
}

/* see backup_agent.h */
const struct backup_job *backup_agent_job(const struct backup_agent *ba,
					  uint32_t id)
{
	return backup_status_job(&ba->st, id);
}

/* see backup_agent.h */
const char *backup_agent_state(const struct backup_agent *ba)
{
	return ba ? backup_status_state(&ba->st) : "offline";
}

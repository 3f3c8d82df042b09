/*
 * backup_agent_run.c — the event-loop driver of the v3 client engine
 * (backup_engine.h) for the agent's jobs (backup_agent.h):
 *
 *   scan (count files, bytes; bounded steps) -> per file: bke_file, then
 *   whatever the engine wants, each wish one non-blocking step:
 *     CONNECT  TCP connect (EV_WRITE), TLS handshake (what TLS asks)
 *     SEND     send until -EAGAIN, then wait for writable
 *     RECV     receive until -EAGAIN, then wait for readable
 *     READ     one slice per callback (regular files are not pollable;
 *              the next one waits for the next writable event)
 *     WAIT     the retry timer;  CLOSE  ev_del and close
 *   -> the file's end (done / skipped: kept in the snapshot, 1049) -> the
 *   next file; after the last one the run's snapshot is sealed (1049)
 *   when every path was read and every failed file kept; the job fails
 *   when the engine gives up.  The connection stays open for the next
 *   job; readable while idle means the server closed it.
 *
 * Incremental runs: the job loads the last run's manifest from the state
 * directory at its start (one bounded read) and writes it back at its
 * end (atomic); unchanged files are offered by hash (1046) by the
 * engine, verified ones recorded (backup_client_file_*).
 *
 * A connect always starts from a timer (the retry timer, 0 ms for the
 * first or the name's next address), never from the callback of the
 * descriptor it replaces.  One I/O timer checks for silence: no progress
 * for cfg.io_timeout_ms fails the step (the engine decides what next).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent_int.h"
#include "backup_retry.h"
#include "hal/clock.h"
#include "hal/file.h"
#include "log.h"
#include "metrics.h"

static void pump(struct backup_agent *ba);

/* The fields every log line about job j carries (log.h). */
#define JOB_KV(j) LKV_U("job", (j)->id), LKV_S("trace", (j)->trace)
/* The last run's manifest: one agent per process, like its state dir
 * (BACKUP_MANIFEST_MAX entries, static; only the loaded part is
 * touched). */
static struct bk_manifest bka_manifest;

static struct backup_job *job(struct backup_agent *ba)
{
	return &ba->st.jobs[ba->cur];
}

static uint32_t io_timeout(const struct backup_agent *ba)
{
	return ba->cfg.io_timeout_ms ? ba->cfg.io_timeout_ms
				     : BACKUP_IO_TIMEOUT_DEFAULT_MS;
}

static void cancel_timer(struct backup_agent *ba, int *id)
{
	if (*id > 0)
		ev_timer_cancel(ba->loop, *id);
	*id = -1;
}

static int64_t on_step(struct ev_loop *loop, void *arg);

/* Runs on_step in step s at the next pass (one bounded step a pass). */
static void step_soon(struct backup_agent *ba, enum bka_step s)
{
	ba->step = s;
	if (ba->step_timer < 0) {
		int id = ev_timer_add(ba->loop, 0, on_step, ba);

		ba->step_timer = id > 0 ? id : -1;
	}
}

/* see backup_agent_int.h */
void bka_conn_close(struct backup_agent *ba)
{
	if (ba->c.conn.fd >= 0)
		ev_del(ba->loop, ba->c.conn.fd);
	bk_conn_close(&ba->c.conn);
	ba->link = BKA_LINK_NONE;
	bka_publish(ba);
}

static void file_close(struct backup_agent *ba)
{
	hal_file_close(ba->ffd);
	ba->ffd = -1;
}

/* see backup_agent_int.h */
void bka_run_abort(struct backup_agent *ba)
{
	/* closing before 1029 makes the server discard the partial file;
	 * with 1029 sent the file was complete and verified */
	if (ba->c.e.st != BKE_IDLE || ba->c.e.in_file || ba->link)
		bka_conn_close(ba);
	bke_drop(&ba->c.e);
	ba->snap = 0;
	file_close(ba);
	backup_walk_stop(&ba->walk);
	cancel_timer(ba, &ba->step_timer);
	cancel_timer(ba, &ba->io_timer);
	cancel_timer(ba, &ba->retry_timer);
	ba->step = BKA_IDLE;
}

/* The running job ends as done or failed; the connection stays up. */
/* Writes the manifest back: every verified file of the job is in it. */
static void manifest_save(struct backup_agent *ba)
{
	int ret;

	if (ba->c.mf == NULL)
		return;
	ret = bk_mf_save(ba->c.mf, ba->cfg.state_dir);
	if (ret < 0)
		log_warn("backup", "cannot write %s/%s: %s", ba->cfg.state_dir,
			 BACKUP_MANIFEST_FILE, strerror(-ret));
	if (ba->c.mf->full > 0)
		log_warn("backup", "manifest full (%u entries): %u files not "
			 "recorded", BACKUP_MANIFEST_MAX, ba->c.mf->full);
	ba->c.mf = NULL;
}

static void job_end(struct backup_agent *ba, enum backup_job_state s)
{
	manifest_save(ba);
	file_close(ba);
	backup_walk_stop(&ba->walk);
	cancel_timer(ba, &ba->io_timer);
	cancel_timer(ba, &ba->retry_timer);
	ba->step = BKA_IDLE;
	if (ba->c.conn.fd >= 0)      /* idle: only a close by the server */
		ev_mod(ba->loop, ba->c.conn.fd, EV_READ);
	job(ba)->state = s;
	bka_job_finished(ba);
}

static void job_fail(struct backup_agent *ba, const char *text)
{
	snprintf(job(ba)->error, sizeof job(ba)->error, "%s", text);
	bka_conn_close(ba);
	job_end(ba, BACKUP_JOB_FAILED);
}

static int64_t on_retry(struct ev_loop *loop, void *arg);

static void retry_in(struct backup_agent *ba, uint32_t ms)
{
	if (ba->retry_timer > 0)
		return;
	ba->retry_timer = ev_timer_add(ba->loop, (int64_t)ms, on_retry, ba);
	if (ba->retry_timer < 0)
		job_fail(ba, "no timer for the retry");
}

/* A file the engine cannot take, or that it ended SKIPPED. */
static void file_skipped(struct backup_agent *ba)
{
	struct backup_job *j = job(ba);

	j->files_failed++;
	snprintf(j->error, sizeof j->error, "%s", ba->c.e.err);
	log_warn_kv("backup", LOG_KVS(JOB_KV(j), LKV_S("err", ba->c.e.err)),
		    "job %u: %s", (unsigned)j->id, ba->c.e.err);
	file_close(ba);
	step_soon(ba, BKA_KEEP);
}

/* A failed file is not gone from the device: it stays in the run's
 * snapshot at its stored version (a path with no v3 name was never
 * stored: nothing to keep). */
static void keep_start(struct backup_agent *ba)
{
	int ret = bke_snapshot(&ba->c.e, job(ba)->file);

	if (ret < 0) {
		ba->unkept += ret != -EINVAL;
		step_soon(ba, BKA_NEXT);
		return;
	}
	ba->snap = V3X_SNAP_KEEP;
	pump(ba);
}

/* The walk is over: done, or failed when a file failed. */
static void job_finish(struct backup_agent *ba)
{
	struct backup_job *j = job(ba);
	char text[BACKUP_ERR_MAX];

	if (j->files_failed == 0) {
		job_end(ba, BACKUP_JOB_DONE);
		return;
	}
	snprintf(text, sizeof text, "%u of %u files failed; last: %.150s",
		 (unsigned)j->files_failed, (unsigned)j->files_total, j->error);
	snprintf(j->error, sizeof j->error, "%s", text);
	job_end(ba, BACKUP_JOB_FAILED);
}

/* The whole tree is walked: seal the run's snapshot when every path was
 * read and every failed file kept (and the server has sealed
 * snapshots), then finish. */
static void seal_start(struct backup_agent *ba)
{
	struct backup_job *j = job(ba);

	if (!(ba->c.e.xcaps & V3X_CAP_SNAPSHOT)) {
		job_finish(ba);
		return;
	}
	if (ba->walk.st.errors || ba->unkept ||
	    bke_snapshot(&ba->c.e, NULL) < 0) {
		log_warn_kv("backup", LOG_KVS(JOB_KV(j)), "job %u: snapshot not "
			    "sealed: %u paths unreadable, %u failed files not "
			    "kept", (unsigned)j->id, (unsigned)ba->walk.st.errors,
			    ba->unkept);
		job_finish(ba);
		return;
	}
	ba->snap = V3X_SNAP_SEAL;
	pump(ba);
}

/* The engine ended the file's request (want NOTHING). */
static void file_ended(struct backup_agent *ba, enum bke_event ev)
{
	struct backup_job *j = job(ba);
	char text[BACKUP_ERR_MAX];

	if (ev == BKE_EV_DONE) {
		uint64_t ms = hal_clock_mono_ms() - ba->file_started_ms;

		metric_add(M_BACKUP_FILE_MS, ms);
		metric_add(M_BACKUP_FILE_KIBPS, metric_kibps(ba->c.e.size, ms));
		int deduped = 0;

		(void)bke_file_sha256(&ba->c.e, &deduped);
		backup_client_file_verified(&ba->c, j->file);
		log_info_kv("backup", LOG_KVS(JOB_KV(j), LKV_S("file", j->file),
			LKV_U("bytes", ba->c.e.size), LKV_U("ms", ms)),
			"job %u: %s %.120s (%llu bytes, %llu ms)",
			(unsigned)j->id, deduped ? "unchanged, recorded by hash"
			: "sent", j->file, (unsigned long long)ba->c.e.size,
			(unsigned long long)ms);
		j->files_done++;
		ba->fbase += ba->c.e.size;
		j->bytes_done = ba->fbase;
		file_close(ba);
		step_soon(ba, BKA_NEXT);
	} else if (ev == BKE_EV_SKIPPED) {
		bk_conn_note_error(&ba->c.conn, ba->c.e.result, ba->c.e.err);
		file_skipped(ba);
	} else {
		bk_conn_note_error(&ba->c.conn, ba->c.e.result, ba->c.e.err);
		log_warn_kv("backup", LOG_KVS(JOB_KV(j),
			    LKV_S("err", ba->c.e.err)), "job %u: %s",
			    (unsigned)j->id, ba->c.e.err);
		snprintf(text, sizeof text, "%.*s%s", BACKUP_ERR_MAX - 24,
			 ba->c.e.err, ba->c.e.fatal ? "" : " (3 attempts)");
		job_fail(ba, text);
	}
}

/* The engine ended a 1049 (want NOTHING). */
static void snap_ended(struct backup_agent *ba, enum bke_event ev)
{
	struct backup_job *j = job(ba);
	struct bke *e = &ba->c.e;
	int op = ba->snap;

	ba->snap = 0;
	if (ev != BKE_EV_DONE && ev != BKE_EV_SKIPPED) {
		file_ended(ba, ev);     /* gave up: the job fails */
		return;
	}
	if (op == V3X_SNAP_KEEP) {
		ba->unkept += ev != BKE_EV_DONE || e->snap_id == 0;
		step_soon(ba, BKA_NEXT);
		return;
	}
	if (ev == BKE_EV_DONE && e->snap_id)
		log_info_kv("backup", LOG_KVS(JOB_KV(j)), "job %u: snapshot %llu "
			    "sealed: %u files", (unsigned)j->id,
			    (unsigned long long)e->snap_id,
			    (unsigned)e->snap_count);
	else
		log_warn_kv("backup", LOG_KVS(JOB_KV(j), LKV_S("err", e->err)),
			    "job %u: snapshot not sealed: %s", (unsigned)j->id,
			    e->err);
	job_finish(ba);
}

/* Logs and records what the engine decided after a failure. */
static void note_event(struct backup_agent *ba, enum bke_event ev)
{
	struct backup_job *j = job(ba);

	if (ev == BKE_EV_NEXT_ADDR) {
		log_info_kv("backup", LOG_KVS(JOB_KV(j),
			    LKV_S("err", ba->c.e.err)),
			    "job %u: %s; trying the next address",
			    (unsigned)j->id, ba->c.e.err);
	} else if (ev == BKE_EV_RETRY) {
		bk_conn_note_error(&ba->c.conn, ba->c.e.result, ba->c.e.err);
		log_warn_kv("backup", LOG_KVS(JOB_KV(j),
			    LKV_S("err", ba->c.e.err)), "job %u: %s",
			    (unsigned)j->id, ba->c.e.err);
		/* the delay in the log shows the backoff to whoever reads it */
		log_info_kv("backup", LOG_KVS(JOB_KV(j)), "job %u: retrying "
			    "in %u ms (attempt %u of %u)", (unsigned)j->id,
			    (unsigned)bke_wait_ms(&ba->c.e),
			    ba->c.e.failures + 1, BACKUP_RETRY_ATTEMPTS);
	}
}

/* Starts the TCP connect the engine wants (from a timer). */
static void start_connect(struct backup_agent *ba)
{
	struct backup_conn *cn = &ba->c.conn;
	int ret;

	job(ba)->phase = "connecting";
	bka_conn_close(ba);
	bk_conn_connecting(cn);
	ret = bk_conn_open(cn, bke_server(&ba->c.e));
	if (ret == 0 || ret == -EINPROGRESS)
		ret = ev_add(ba->loop, cn->fd, EV_WRITE, bka_on_io_cb, ba);
	bka_publish(ba);
	if (ret < 0) {
		bk_conn_close(cn);
		bke_link_failed(&ba->c.e, BKE_CONN_FAILED, ret, strerror(-ret));
		pump(ba);
		return;
	}
	ba->link = BKA_LINK_TCP;
	ba->last_progress_ms = hal_clock_mono_ms();
}

/* The handshake failed or timed out (err, cn->err says why). */
static void handshake_failed(struct backup_agent *ba, int err)
{
	int dropped = bk_conn_resume_dropped(&ba->c.conn);

	bka_conn_close(ba);
	bke_link_failed(&ba->c.e, dropped ? BKE_CONN_RESUME_FAILED
				   : BKE_CONN_HANDSHAKE_FAILED, err,
			ba->c.conn.err);
}

/* TCP is up, or the TLS handshake can go on. */
static void link_step(struct backup_agent *ba)
{
	struct backup_conn *cn = &ba->c.conn;
	int ret = bk_conn_handshake(cn, ba->c.cfg.host);

	ba->link = BKA_LINK_TLS;
	if (ret == -EAGAIN) {
		ev_mod(ba->loop, cn->fd, bk_conn_events(cn, HAL_POLLIN) ==
		       HAL_POLLOUT ? EV_WRITE : EV_READ);
		return;
	}
	if (ret < 0) {
		handshake_failed(ba, ret);
		return;
	}
	ba->link = BKA_LINK_NONE;
	bke_connected(&ba->c.e, bk_conn_up(cn));
	job(ba)->phase = "session";
	bka_publish(ba);
}

/* see backup_agent_int.h */
void bka_wait_io(struct backup_agent *ba, unsigned short dflt)
{
	unsigned short w = bk_conn_events(&ba->c.conn, dflt);

	ev_mod(ba->loop, ba->c.conn.fd, w == HAL_POLLOUT ? EV_WRITE : EV_READ);
}

/* BKE_WANT_SEND.  @retval 1 go on  @retval 0 waiting */
static int do_send(struct backup_agent *ba)
{
	size_t len;
	const uint8_t *p = bke_out(&ba->c.e, &len);
	int n = bk_conn_send(&ba->c.conn, p, len);

	if (n == -EAGAIN) {
		bka_wait_io(ba, HAL_POLLOUT);
		return 0;
	}
	if (n < 0) {
		bke_io_failed(&ba->c.e, n, bk_conn_why(&ba->c.conn, n));
		return 1;
	}
	ba->last_progress_ms = hal_clock_mono_ms();
	bke_out_ack(&ba->c.e, (size_t)n);
	return 1;
}

/* BKE_WANT_RECV.  @retval 1 go on  @retval 0 waiting */
static int do_recv(struct backup_agent *ba)
{
	size_t len;
	uint8_t *p = bke_in(&ba->c.e, &len);
	int n = bk_conn_recv(&ba->c.conn, p, len);

	if (n == -EAGAIN) {
		bka_wait_io(ba, HAL_POLLIN);
		return 0;
	}
	if (n <= 0) {
		bke_io_failed(&ba->c.e, n == 0 ? -EIO : n,
			      bk_conn_why(&ba->c.conn, n));
		return 1;
	}
	ba->last_progress_ms = hal_clock_mono_ms();
	bke_in_ack(&ba->c.e, (size_t)n);
	return 1;
}

/* BKE_WANT_READ: one slice per callback.  @retval 1 go on  @retval 0 */
static int do_read(struct backup_agent *ba)
{
	uint64_t off;
	size_t len;
	uint8_t *p;

	if (ba->slices++ > 0) {
		ev_mod(ba->loop, ba->c.conn.fd, EV_WRITE);
		return 0;
	}
	p = bke_slice(&ba->c.e, &off, &len);
	job(ba)->phase = "sending";
	bke_slice_done(&ba->c.e, hal_file_read_full(ba->ffd, off, p, len));
	ba->last_progress_ms = hal_clock_mono_ms();   /* a long kept prefix */
	job(ba)->bytes_done = ba->fbase + ba->c.e.loaded;
	return 1;
}

/* Does what the engine wants until it has to wait. */
static void pump(struct backup_agent *ba)
{
	struct bke *e = &ba->c.e;
	enum bke_event ended = BKE_EV_NONE;     /* kept past a CLOSE */

	for (;;) {
		enum bke_event ev = bke_take_event(e);

		note_event(ba, ev);
		if (ev == BKE_EV_DONE || ev == BKE_EV_SKIPPED ||
		    ev == BKE_EV_GAVE_UP)
			ended = ev;
		switch (bke_want(e)) {
		case BKE_WANT_NOTHING:
			if (ba->cur >= 0 && ended != BKE_EV_NONE) {
				if (ba->snap)
					snap_ended(ba, ended);
				else
					file_ended(ba, ended);
			}
			return;
		case BKE_WANT_CLOSE:
			bka_conn_close(ba);
			bke_closed(e);
			break;
		case BKE_WANT_CONNECT:
			retry_in(ba, 0);        /* from a timer: see above */
			return;
		case BKE_WANT_WAIT:
			/* a backoff, or a backup.max_rate pause */
			job(ba)->phase = e->st == BKE_THROTTLE ? "sending"
							       : "retrying";
			retry_in(ba, bke_wait_ms(e));
			return;
		case BKE_WANT_SEND:
			if (!do_send(ba))
				return;
			break;
		case BKE_WANT_RECV:
			if (e->st == BKE_CRC)
				job(ba)->phase = "verifying";
			if (!do_recv(ba))
				return;
			break;
		case BKE_WANT_READ:
			if (!do_read(ba))
				return;
			break;
		}
	}
}

static int64_t on_retry(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;

	(void)loop; /* ba has it */
	ba->retry_timer = -1;
	if (ba->cur < 0)
		return EV_STOP;
	if (bke_want(&ba->c.e) == BKE_WANT_WAIT)
		bke_waited(&ba->c.e);
	if (bke_want(&ba->c.e) == BKE_WANT_CONNECT)
		start_connect(ba);
	else
		pump(ba);
	bka_publish(ba);
	return EV_STOP;
}

/* Readable while nothing is expected: the server closed (or broke the
 * protocol); either way the connection is done. */
static void idle_input(struct backup_agent *ba)
{
	uint8_t b;
	int n = bk_conn_recv(&ba->c.conn, &b, 1);

	if (n == -EAGAIN) {     /* nothing, or a TLS session ticket */
		bka_wait_io(ba, HAL_POLLIN);
		return;
	}
	log_info("backup", "%s: %s", ba->c.conn.stats.peer, n == 0 ?
		 "the server closed the idle connection" :
		 "unexpected data or error on the idle connection; closed");
	bka_conn_close(ba);
	bke_drop(&ba->c.e);
}

/* see backup_agent_int.h */
void bka_on_io_cb(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct backup_agent *ba = arg;
	int ret;

	(void)loop; (void)events; /* the state says what to do */
	ba->slices = 0;
	if (ba->link == BKA_LINK_TCP) {
		ret = bk_conn_open_result(&ba->c.conn);
		if (ret < 0) {
			bka_conn_close(ba);
			bke_link_failed(&ba->c.e, BKE_CONN_FAILED, ret,
					strerror(-ret));
		} else {
			link_step(ba);
		}
		(void)fd; /* ba->c.conn.fd */
	} else if (ba->link == BKA_LINK_TLS) {
		link_step(ba);
	} else if (ba->cur < 0 || bke_want(&ba->c.e) == BKE_WANT_NOTHING) {
		idle_input(ba);
		bka_publish(ba);
		return;
	}
	if (ba->cur >= 0 && ba->link == BKA_LINK_NONE)
		pump(ba);
	bka_publish(ba);
}

/* Starts the engine on the next file of the running job. */
static void file_next(struct backup_agent *ba)
{
	struct backup_job *j = job(ba);
	int ret = backup_walk_next(&ba->walk, BACKUP_AGENT_WALK_BUDGET);
	uint64_t size = 0;

	if (ret == -EAGAIN) {
		step_soon(ba, BKA_NEXT);
		return;
	}
	if (ret == 0) {
		seal_start(ba);
		return;
	}
	snprintf(j->file, sizeof j->file, "%s", ba->walk.path);
	ba->ffd = hal_file_open(ba->walk.path, &size);
	ba->file_started_ms = hal_clock_mono_ms();
	if (ba->ffd < 0) {
		snprintf(ba->c.e.err, sizeof ba->c.e.err, "%.150s: %s",
			 ba->walk.path, ba->ffd == -EINVAL
			 ? "not a regular file" : strerror(-ba->ffd));
		file_skipped(ba);
		return;
	}
	backup_client_file_prepare(&ba->c, ba->ffd, j->file, size);
	if (bke_file(&ba->c.e, j->file, size) < 0) {
		file_skipped(ba);
		return;
	}
	ba->slices = 0;
	pump(ba);
}

static void scan(struct backup_agent *ba)
{
	struct backup_job *j = job(ba);
	int ret;

	while ((ret = backup_walk_next(&ba->walk, BACKUP_AGENT_WALK_BUDGET))
	       == 1) {
		j->files_total++;
		j->bytes_total += ba->walk.size;
	}
	if (ret == -EAGAIN) {
		step_soon(ba, BKA_SCAN);
		return;
	}
	backup_walk_start(&ba->walk, ba->cfg.paths, ',');
	j->phase = "sending";
	file_next(ba);
}

static int64_t on_step(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;
	enum bka_step s = ba->step;

	(void)loop; /* ba has it */
	ba->step_timer = -1;
	ba->step = BKA_IDLE;
	if (ba->cur < 0)
		return EV_STOP;
	if (s == BKA_SCAN)
		scan(ba);
	else if (s == BKA_NEXT)
		file_next(ba);
	else if (s == BKA_KEEP)
		keep_start(ba);
	bka_publish(ba);
	return EV_STOP;
}

/* Fails the step that made no progress for the I/O timeout. */
static void timed_out(struct backup_agent *ba, uint32_t t)
{
	char why[64];

	snprintf(why, sizeof why, "timed out (%u ms without progress)",
		 (unsigned)t);
	if (ba->link == BKA_LINK_TCP) {
		bka_conn_close(ba);
		bke_link_failed(&ba->c.e, BKE_CONN_FAILED, -ETIMEDOUT, why);
	} else if (ba->link == BKA_LINK_TLS) {
		snprintf(ba->c.conn.err, sizeof ba->c.conn.err,
			 "TLS handshake not complete after %u ms",
			 (unsigned)t);
		handshake_failed(ba, -ETIMEDOUT);
	} else {
		bke_io_failed(&ba->c.e, -ETIMEDOUT, why);
	}
	pump(ba);
}

static int64_t on_io_timer(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;
	uint32_t t = io_timeout(ba);
	uint64_t idle = hal_clock_mono_ms() - ba->last_progress_ms;
	enum bke_want w = bke_want(&ba->c.e);

	(void)loop; /* ba has it */
	/* WANT_READ waits for room to write (do_read: one slice per
	 * callback), so a peer that stops reading stalls it like a send */
	if (ba->link == BKA_LINK_NONE && w != BKE_WANT_SEND &&
	    w != BKE_WANT_RECV && w != BKE_WANT_READ)
		return t;
	if (idle < t)
		return (int64_t)(t - idle);
	if (w == BKE_WANT_SEND || w == BKE_WANT_READ)
		ba->c.conn.stats.write_errors++;
	else if (w == BKE_WANT_RECV)
		ba->c.conn.stats.read_errors++;
	timed_out(ba, t);
	bka_publish(ba);
	return t;
}

/* see backup_agent_int.h */
void bka_run_start(struct backup_agent *ba, int i)
{
	struct backup_job *j = &ba->st.jobs[i];
	int id;

	ba->fbase = 0;
	ba->unkept = 0;
	ba->snap = 0;
	bke_set_trace(&ba->c.e, j->trace);
	bke_run_begin(&ba->c.e);
	if (!ba->st.configured) {
		job_fail(ba, ba->st.cfg_error[0] ? ba->st.cfg_error
				     : "no backup.server configured");
		return;
	}
	if (ba->cfg.paths[0] == '\0') {
		job_fail(ba, "backup.paths is empty: nothing to back up");
		return;
	}
	if (bk_mf_load(&bka_manifest, ba->cfg.state_dir) == -EBADMSG)
		log_warn("backup", "%s/%s unusable; sending every file",
			 ba->cfg.state_dir, BACKUP_MANIFEST_FILE);
	ba->c.mf = &bka_manifest;
	id = ev_timer_add(ba->loop, io_timeout(ba), on_io_timer, ba);
	ba->io_timer = id > 0 ? id : -1;
	ba->last_progress_ms = hal_clock_mono_ms();
	j->phase = "scanning";
	backup_walk_start(&ba->walk, ba->cfg.paths, ',');
	step_soon(ba, BKA_SCAN);
}

/*
 * backup_agent_restore.c — the event-loop driver of the restore engine
 * (restore_engine.h) for the console's `restore` (docs/console.md), so
 * a replacement board can pull its predecessor's files without leaving
 * the agent.  Like backup_agent_run.c for the backup engine: each wish
 * of the engine is one non-blocking step,
 *
 *   CONNECT  from a timer: TCP connect (EV_WRITE), then the TLS
 *            handshake (what TLS asks); a failed address is followed by
 *            the next of backup.server's addresses
 *   SEND     send until -EAGAIN, then wait for writable
 *   RECV     receive until -EAGAIN, then wait for readable
 *   OPEN     restore_file_open (selection, parents, temporary file)
 *   WRITE    one chunk (<= RSE_CHUNK), then the rest in the next pass:
 *            a file write is not pollable, and the loop keeps serving
 *            the console, CoAP and the watchdog in between
 *   FINISH   restore_file_finish (fsync, rename, mtime)
 *   CLOSE    the connection
 * and one I/O timer fails a step silent for backup.timeout.
 *
 * Transport: the backup client's own (ba->c.conn: the same server, TLS
 * identity and ALPN vigil/2), since a restore and a backup never run at
 * the same time — which also keeps the agent within one TLS session's
 * share of the mbedTLS arena.  The backup's idle connection is closed
 * first (its engine forgets the session: the next job connects anew).
 *
 * Cancel: the connection is closed and the file being written dropped
 * (its temporary file removed); files renamed into place before are
 * complete and verified.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent_int.h"
#include "hal/clock.h"
#include "log.h"

static void rs_pump(struct backup_agent *ba);

static struct restore_job *rjob(struct backup_agent *ba)
{
	return &ba->st.restore;
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

/* Copies the engine's counts into the published job. */
static void progress(struct backup_agent *ba)
{
	struct restore_job *j = rjob(ba);
	const struct rse *e = &ba->rs.e;

	j->files_ok = e->files_ok;
	j->files_failed = e->files_failed;
	j->files_skipped = e->files_skipped;
	j->bytes = e->bytes;
	j->snapshot = e->snapshot;
	bka_publish(ba);
}

static void start_connect(struct backup_agent *ba);

/* The step timer: a connect the engine wants, or the next chunk. */
static int64_t on_step(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;

	(void)loop; /* ba has it */
	ba->rs.step_timer = -1;
	if (rjob(ba)->state != RESTORE_RUNNING)
		return EV_STOP;
	if (rse_want(&ba->rs.e) == RSE_WANT_CONNECT)
		start_connect(ba);      /* never from the old fd's callback */
	else
		rs_pump(ba);
	bka_publish(ba);
	return EV_STOP;
}

/* Continues at the next pass of the loop. */
static void step_soon(struct backup_agent *ba)
{
	int id;

	if (ba->rs.step_timer > 0)
		return;
	id = ev_timer_add(ba->loop, 0, on_step, ba);
	ba->rs.step_timer = id > 0 ? id : -1;
	if (id < 0)
		rse_io_failed(&ba->rs.e, -ENOSPC, "no timer for the restore");
}

/* Per file, from restore_files.c. */
static void report_file(const char *path, const char *why)
{
	if (why == NULL)
		log_info("restore", "restored %.200s", path);
	else
		log_warn("restore", "%.200s: %s", path, why);
}

/* The run ended (engine NOTHING, or cancelled): timers, connection,
 * the published result and its log line. */
static void rs_end(struct backup_agent *ba, enum restore_job_state s)
{
	struct restore_job *j = rjob(ba);
	const struct rse *e = &ba->rs.e;

	cancel_timer(ba, &ba->rs.step_timer);
	cancel_timer(ba, &ba->rs.io_timer);
	restore_file_abort(&ba->rs.rf);
	bka_conn_close(ba);
	progress(ba);
	j->state = s;
	j->file[0] = '\0';
	j->ended_ms = hal_clock_mono_ms();
	j->phase = restore_job_state_name(s);
	if (s == RESTORE_CANCELLED) {
		log_info("restore", "restore %u cancelled: %s", (unsigned)j->id,
			 j->cancel_reason);
	} else if (e->result < 0) {
		snprintf(j->error, sizeof j->error, "%s", e->err);
		log_err("restore", "restore %u failed: %s", (unsigned)j->id,
			j->error);
	} else {
		if (e->files_failed)
			snprintf(j->error, sizeof j->error, "%u files failed "
				 "(the log names them)", e->files_failed);
		log_kv(e->files_failed ? LOG_WARN : LOG_INFO, "restore",
		       LOG_KVS(LKV_U("restore", j->id),
			       LKV_U("files", e->files_ok),
			       LKV_U("failed", e->files_failed),
			       LKV_U("bytes", e->bytes)),
		       "restore %u %s: %u files restored and verified, %u "
		       "failed, %u skipped, %llu bytes (snapshot %llu)",
		       (unsigned)j->id, e->files_failed ? "failed" : "done",
		       e->files_ok, e->files_failed, e->files_skipped,
		       (unsigned long long)e->bytes,
		       (unsigned long long)e->snapshot);
	}
	if (ba->has_pending) {          /* a reload during the restore */
		ba->has_pending = 0;
		backup_agent_configure(ba, &ba->pending);
	}
	bka_publish(ba);
}

static const struct hal_addr *addr_of(const struct backup_agent *ba)
{
	const struct backup_client_cfg *cfg = &ba->c.cfg;

	return cfg->n_addrs ? &cfg->addrs[ba->rs.addr] : &cfg->server;
}

/* A connect or handshake failed: the next address, or the run fails. */
static void link_failed(struct backup_agent *ba, int err, const char *why)
{
	char text[RSE_ERR_MAX];

	snprintf(text, sizeof text, "%s", why);
	bka_conn_close(ba);
	ba->rs.link = BKA_LINK_NONE;
	if (ba->rs.addr + 1 < ba->c.cfg.n_addrs) {
		log_info("restore", "%s; trying the next address", text);
		ba->rs.addr++;
		step_soon(ba);
		return;
	}
	rse_io_failed(&ba->rs.e, err, text);
	rs_pump(ba);
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);

static void start_connect(struct backup_agent *ba)
{
	struct backup_conn *cn = &ba->c.conn;
	int ret;

	rjob(ba)->phase = "connecting";
	bka_conn_close(ba);
	bk_conn_connecting(cn);
	ret = bk_conn_open(cn, addr_of(ba));
	if (ret == 0 || ret == -EINPROGRESS)
		ret = ev_add(ba->loop, cn->fd, EV_WRITE, on_io, ba);
	if (ret < 0) {
		link_failed(ba, ret, strerror(-ret));
		return;
	}
	ba->rs.link = BKA_LINK_TCP;
	ba->rs.last_progress_ms = hal_clock_mono_ms();
	bka_publish(ba);
}

/* TCP is up, or the TLS handshake can go on. */
static void link_step(struct backup_agent *ba)
{
	struct backup_conn *cn = &ba->c.conn;
	int ret = bk_conn_handshake(cn, ba->c.cfg.host);

	ba->rs.link = BKA_LINK_TLS;
	if (ret == -EAGAIN) {
		ev_mod(ba->loop, cn->fd, bk_conn_events(cn, HAL_POLLIN) ==
		       HAL_POLLOUT ? EV_WRITE : EV_READ);
		return;
	}
	if (ret < 0) {
		(void)bk_conn_resume_dropped(cn);  /* next time: a full one */
		link_failed(ba, ret, cn->err[0] ? cn->err : strerror(-ret));
		return;
	}
	ba->rs.link = BKA_LINK_NONE;
	ba->rs.last_progress_ms = hal_clock_mono_ms();
	rjob(ba)->phase = "listing";
	rse_connected(&ba->rs.e, bk_conn_up(cn));
	rs_pump(ba);
}

/* RSE_WANT_SEND.  @retval 1 go on  @retval 0 waiting */
static int do_send(struct backup_agent *ba)
{
	size_t len;
	const uint8_t *p = rse_out(&ba->rs.e, &len);
	int n = bk_conn_send(&ba->c.conn, p, len);

	if (n == -EAGAIN) {
		bka_wait_io(ba, HAL_POLLOUT);
		return 0;
	}
	if (n < 0) {
		rse_io_failed(&ba->rs.e, n, bk_conn_why(&ba->c.conn, n));
		return 1;
	}
	ba->rs.last_progress_ms = hal_clock_mono_ms();
	rse_out_ack(&ba->rs.e, (size_t)n);
	return 1;
}

/* RSE_WANT_RECV.  @retval 1 go on  @retval 0 waiting */
static int do_recv(struct backup_agent *ba)
{
	size_t room;
	uint8_t *p = rse_in(&ba->rs.e, &room);
	int n = bk_conn_recv(&ba->c.conn, p, room);

	if (n == -EAGAIN) {
		bka_wait_io(ba, HAL_POLLIN);
		return 0;
	}
	if (n <= 0) {
		rse_io_failed(&ba->rs.e, n == 0 ? -EIO : n,
			      bk_conn_why(&ba->c.conn, n));
		return 1;
	}
	ba->rs.last_progress_ms = hal_clock_mono_ms();
	rse_in_ack(&ba->rs.e, (size_t)n);
	return 1;
}

/* RSE_WANT_OPEN: the published job names the file while it is written. */
static void do_open(struct backup_agent *ba)
{
	struct bka_restore *rs = &ba->rs;
	int r = restore_file_open(&rs->rf, &rs->e, &rs->o);

	snprintf(rjob(ba)->file, sizeof rjob(ba)->file, "%s",
		 r > 0 ? rs->e.path : "");
	rjob(ba)->phase = r > 0 ? "receiving" : "listing";
	rse_open_result(&rs->e, r);
}

/* Does what the engine wants until it has to wait. */
static void rs_pump(struct backup_agent *ba)
{
	struct bka_restore *rs = &ba->rs;

	for (;;) {
		switch (rse_want(&rs->e)) {
		case RSE_WANT_NOTHING:
			rs_end(ba, rs->e.result < 0 || rs->e.files_failed
				   ? RESTORE_FAILED : RESTORE_DONE);
			return;
		case RSE_WANT_CONNECT:
			if (rs->link == BKA_LINK_NONE)
				step_soon(ba);  /* on_step connects */
			return;
		case RSE_WANT_SEND:
			if (!do_send(ba))
				return;
			break;
		case RSE_WANT_RECV:
			if (!do_recv(ba))
				return;
			break;
		case RSE_WANT_OPEN:
			do_open(ba);
			break;
		case RSE_WANT_WRITE:
			restore_file_write(&rs->rf, &rs->e);
			progress(ba);
			step_soon(ba);  /* the next chunk in the next pass */
			return;
		case RSE_WANT_FINISH:
			restore_file_finish(&rs->rf, &rs->e, &rs->o);
			rjob(ba)->file[0] = '\0';
			progress(ba);
			break;
		case RSE_WANT_CLOSE:
			restore_file_abort(&rs->rf); /* a cut file goes */
			bka_conn_close(ba);
			rse_closed(&rs->e);
			break;
		}
	}
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct backup_agent *ba = arg;
	int ret;

	(void)loop; (void)fd; (void)events; /* the state says what to do */
	if (rjob(ba)->state != RESTORE_RUNNING)
		return;
	if (ba->rs.link == BKA_LINK_TCP) {
		ret = bk_conn_open_result(&ba->c.conn);
		if (ret < 0)
			link_failed(ba, ret, strerror(-ret));
		else
			link_step(ba);
	} else if (ba->rs.link == BKA_LINK_TLS) {
		link_step(ba);
	} else {
		rs_pump(ba);
	}
	bka_publish(ba);
}

/* Fails the step that made no progress for backup.timeout. */
static int64_t on_io_timer(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;
	uint32_t t = io_timeout(ba);
	uint64_t idle = hal_clock_mono_ms() - ba->rs.last_progress_ms;
	char why[64];

	(void)loop; /* ba has it */
	if (rjob(ba)->state != RESTORE_RUNNING)
		return EV_STOP;
	if (idle < t)
		return (int64_t)(t - idle);
	snprintf(why, sizeof why, "timed out (%u ms without progress)",
		 (unsigned)t);
	if (ba->rs.link != BKA_LINK_NONE && ba->c.conn.fd >= 0) {
		link_failed(ba, -ETIMEDOUT, why);
	} else {
		rse_io_failed(&ba->rs.e, -ETIMEDOUT, why);
		rs_pump(ba);
	}
	ba->rs.last_progress_ms = hal_clock_mono_ms();
	return t;
}

/* see backup_agent_int.h */
void bka_restore_init(struct backup_agent *ba)
{
	ba->rs.step_timer = ba->rs.io_timer = -1;
	restore_file_reset(&ba->rs.rf);
}

/* Why a restore cannot start now, or NULL. */
static const char *refusal(const struct backup_agent *ba,
			   const struct backup_restore_req *req, int *err)
{
	*err = -EINVAL;
	if (req->dest == NULL || req->dest[0] != '/')
		return "DEST must be an absolute path";
	if (strlen(req->dest) >= HAL_PATH_MAX ||
	    (req->pattern && strlen(req->pattern) >= HAL_PATH_MAX) ||
	    (req->device && strlen(req->device) >= V3_NAME_FIELD))
		return "DEST, PATTERN or NAME too long";
	if (ba->cfg.server[0] == '\0')
		return "no backup.server configured";
	if (!ba->st.tls)
		return "restore needs a tls:// backup.server (the TLS "
		       "identity is the device)";
	if (!ba->st.configured)
		return ba->st.cfg_error[0] ? ba->st.cfg_error
					   : "backup.server is not usable";
	*err = -EPERM;
	if (ba->safe_mode && *ba->safe_mode)
		return "refused: the agent is in safe mode (repeated "
		       "watchdog resets)";
	*err = -EBUSY;
	if (ba->st.restore.state == RESTORE_RUNNING)
		return "refused: a restore is running (`restore status`)";
	if (!bka_idle(ba))
		return "refused: a backup job is running or queued (one "
		       "transfer at a time; `backup cancel` stops it)";
	return NULL;
}

/* The published job and the options the engine's run uses. */
static void rs_setup(struct backup_agent *ba,
		     const struct backup_restore_req *req)
{
	struct restore_job *j = rjob(ba);
	struct bka_restore *rs = &ba->rs;
	uint32_t id = j->id + 1;

	memset(j, 0, sizeof *j);
	j->id = id;
	j->state = RESTORE_RUNNING;
	j->phase = "connecting";
	snprintf(j->device, sizeof j->device, "%s",
		 req->device ? req->device : ba->c.cfg.name);
	snprintf(j->dest, sizeof j->dest, "%s", req->dest);
	j->snapshot = req->snapshot;
	j->started_ms = hal_clock_mono_ms();
	snprintf(rs->pattern, sizeof rs->pattern, "%s",
		 req->pattern ? req->pattern : "");
	rs->o = (struct restore_opts){
		.device = j->device, .snapshot = req->snapshot,
		.pattern = req->pattern ? rs->pattern : NULL,
		.dest = j->dest, .overwrite = req->overwrite,
		.report = report_file,
	};
	rs->addr = 0;
	rs->link = BKA_LINK_NONE;
	rs->last_progress_ms = j->started_ms;
	restore_file_reset(&rs->rf);
}

/* see backup_agent.h */
int backup_agent_restore(struct backup_agent *ba,
			 const struct backup_restore_req *req,
			 const char **why)
{
	int err = -EINVAL, id;
	const char *no = refusal(ba, req, &err);
	char snap[24];

	if (no) {
		if (why)
			*why = no;
		return err;
	}
	/* the backup's idle session goes: this run opens its own */
	bka_conn_close(ba);
	bke_drop(&ba->c.e);
	rs_setup(ba, req);
	rse_start(&ba->rs.e, rjob(ba)->device, req->snapshot);
	id = ev_timer_add(ba->loop, io_timeout(ba), on_io_timer, ba);
	ba->rs.io_timer = id > 0 ? id : -1;
	if (req->snapshot)
		snprintf(snap, sizeof snap, "%llu",
			 (unsigned long long)req->snapshot);
	else
		snprintf(snap, sizeof snap, "latest");
	log_info("restore", "restore %u started: device %s, snapshot %s, "
		 "into %s%s", (unsigned)rjob(ba)->id, rjob(ba)->device, snap,
		 rjob(ba)->dest, req->overwrite ? " (overwrite)" : "");
	rs_pump(ba);
	bka_publish(ba);
	return (int)rjob(ba)->id;
}

/* see backup_agent.h */
int backup_agent_restore_cancel(struct backup_agent *ba, const char *reason)
{
	struct restore_job *j = rjob(ba);

	if (j->state != RESTORE_RUNNING)
		return -ENOENT;
	snprintf(j->cancel_reason, sizeof j->cancel_reason, "%s",
		 reason && reason[0] ? reason : "cancelled");
	rs_end(ba, RESTORE_CANCELLED);
	return 0;
}

/* see backup_agent_int.h */
void bka_restore_stop(struct backup_agent *ba)
{
	(void)backup_agent_restore_cancel(ba, "agent stopping");
}

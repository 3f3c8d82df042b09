/*
 * backup_agent_run.c — the non-blocking v3 state machine of the agent's
 * backup client (backup_agent.h).  The same flow as backup_client.c /
 * backup_file.c, cut into loop callbacks:
 *
 *   scan (count files, bytes) -> connect -> 1025/1026 | 1027 (session)
 *   -> per file: 1028 x total (one slice loaded per writable event)
 *      -> 1603 -> 1029 -> 1604 | 1030 + resend | third mismatch 1031
 *   -> job done; the connection stays open for the next job.
 *
 * Failures: c.err is set with bk_fail (backup_io.c); the connection is
 * closed (the server discards a file without 1029), then either the file
 * is counted as failed (a non-retryable, local cause) or the request is
 * retried after backup_retry_delay_ms, BACKUP_RETRY_ATTEMPTS in all, and
 * the job fails with the last reason.
 */
#include "backup_agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_agent_int.h"
#include "backup_client_int.h"
#include "backup_retry.h"
#include "hal/clock.h"
#include "hal/rng.h"
#include "log.h"

/* see backup_agent_int.h */
struct backup_job *bka_job(struct backup_agent *ba)
{
	return &ba->jobs[ba->cur];
}

/* see backup_agent_int.h */
uint32_t bka_io_timeout(const struct backup_agent *ba)
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

/* Runs on_step at the next pass (one bounded step per pass). */
/* see backup_agent_int.h */
void bka_step_soon(struct backup_agent *ba, int st)
{
	ba->st = st;
	if (ba->step_timer < 0) {
		int id = ev_timer_add(ba->loop, 0, bka_on_step, ba);

		ba->step_timer = id > 0 ? id : -1;
	}
}

/* see backup_agent_int.h */
void bka_conn_close(struct backup_agent *ba)
{
	if (ba->c.fd >= 0)
		ev_del(ba->loop, ba->c.fd);
	bk_io_close(&ba->c);
	bka_publish(ba);
}

/* see backup_agent_int.h */
void bka_file_close(struct backup_agent *ba)
{
	if (ba->ffd >= 0)
		close(ba->ffd);
	ba->ffd = -1;
	if (ba->enc_live)
		backup_enc_free(&ba->enc);
	ba->enc_live = 0;
	ba->in_file = 0;
}

/* see backup_agent.h */
void bka_run_abort(struct backup_agent *ba)
{
	/* closing before 1029 makes the server discard the partial file;
	 * with 1029 sent the file was complete and verified */
	if (ba->st != ST_IDLE || ba->in_file)
		bka_conn_close(ba);
	bka_file_close(ba);
	backup_iwalk_stop(&ba->walk);
	cancel_timer(ba, &ba->step_timer);
	cancel_timer(ba, &ba->io_timer);
	cancel_timer(ba, &ba->retry_timer);
	ba->st = ST_IDLE;
}

/* The running job ends as done or failed; the connection stays up. */
/* see backup_agent_int.h */
void bka_job_end(struct backup_agent *ba, enum backup_job_state s)
{
	struct backup_job *j = bka_job(ba);

	bka_file_close(ba);
	backup_iwalk_stop(&ba->walk);
	cancel_timer(ba, &ba->io_timer);
	cancel_timer(ba, &ba->retry_timer);
	ba->st = ST_IDLE;
	if (ba->c.fd >= 0)      /* idle: only a close by the server */
		ev_mod(ba->loop, ba->c.fd, EV_READ);
	j->state = s;
	bka_job_finished(ba);
}

/* see backup_agent_int.h */
void bka_job_fail(struct backup_agent *ba, const char *text)
{
	struct backup_job *j = bka_job(ba);

	snprintf(j->error, sizeof j->error, "%s", text);
	bka_conn_close(ba);
	bka_job_end(ba, BACKUP_JOB_FAILED);
}

/* Queues buf[0..len) of c.buf for sending; `then` says what follows. */
static void send_buf(struct backup_agent *ba, size_t len, int then)
{
	ba->out_len = len;
	ba->out_off = 0;
	ba->then = then;
	ba->st = ST_SEND;
	ba->last_progress_ms = hal_clock_mono_ms();
	ev_mod(ba->loop, ba->c.fd, EV_WRITE);
}

/* see backup_agent_int.h */
int bka_send_req(struct backup_agent *ba, uint16_t code, const char *name,
		    const uint8_t *key, size_t key_len, int then, int expect)
{
	struct v3_req r;
	enum v3_reason why = V3_OK;
	int n;

	memset(&r, 0, sizeof r);
	memcpy(r.client_id, ba->c.id.uuid, V3_ID_SIZE);
	r.version = bk_req_version(&ba->c);
	r.code = code;
	snprintf(r.name, sizeof r.name, "%s", name);
	r.key = key;
	r.key_len = key_len;
	n = v3_req_pack(ba->c.buf, V3_REQ_SMALL_MAX, &r, &why);
	if (n < 0)
		return bk_fail(&ba->c, n, 1, "cannot build request %u: %s",
			       code, v3_reason_str(why));
	ba->expect = expect;
	send_buf(ba, (size_t)n, then);
	return 0;
}

/* see backup_agent_int.h */
void bka_session_begin(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	uint8_t spki[BACKUP_SPKI_MAX];
	int n = 0;

	bka_job(ba)->phase = "session";
	if (!c->have_id) {
		n = bka_send_req(ba, V3_REQ_REGISTER, c->cfg.name, NULL, 0,
			     THEN_RECV, E_REG);
	} else if (c->key_acked) {
		n = bka_send_req(ba, V3_REQ_RECONNECT, c->id.name, NULL, 0,
			     THEN_RECV, E_RECON);
	} else {
		n = backup_key_spki(&c->key, spki, sizeof spki);
		n = n < 0 ? bk_fail(c, n, 1, "cannot encode the public key")
			  : bka_send_req(ba, V3_REQ_PUBKEY, c->id.name, spki,
				     (size_t)n, THEN_RECV, E_KEY);
	}
	if (n < 0)
		bka_io_fail(ba);
}

/* see backup_agent_int.h */
void bka_tls_wait(struct backup_agent *ba)
{
	if (ba->c.cfg.tls)
		ev_mod(ba->loop, ba->c.fd,
		       ba->c.tls.want == BACKUP_TLS_WANT_WRITE ? EV_WRITE
							       : EV_READ);
}

/* see backup_agent_int.h */
void bka_on_connected(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;

	c->addrs_failed = 0;
	hal_net_set_keepalive(c->fd, 60, 10, 3);
	hal_net_set_nodelay(c->fd);
	if (!c->cfg.tls) {
		bka_link_up(ba);
		return;
	}
	/* the handshake shares the connect timeout (on_io_timer) */
	ba->st = ST_HANDSHAKE;
	if (backup_tls_start(&c->tls, c->fd, c->cfg.host) < 0) {
		bk_fail(c, -EIO, 0, "%s: %s", c->stats.peer, c->tls.err);
		bka_io_fail(ba);
		return;
	}
	ev_mod(ba->loop, c->fd, EV_WRITE);      /* the ClientHello */
}

/* see backup_agent_int.h */
int bka_handshake_step(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	int ret = backup_tls_handshake(&c->tls);

	if (ret == -EAGAIN) {
		bka_tls_wait(ba);
		return 0;
	}
	if (ret < 0)
		return bk_fail(c, ret, 0, "%s: %s", c->stats.peer, c->tls.err);
	bka_link_up(ba);
	return 0;
}

/* see backup_agent_int.h */
void bka_link_up(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;

	bk_io_transport_ready(c);
	c->stats.bytes_in = c->stats.bytes_out = 0;
	c->stats.read_errors = c->stats.write_errors = 0;
	c->stats.last_read_ms = c->stats.last_write_ms = 0;
	c->stats.connected_ms = hal_clock_mono_ms();
	if (ba->conn_seq++ > 0)
		c->link.reconnects++;
	c->link.state = BACKUP_LINK_UP;
	c->link.state_since_ms = c->stats.connected_ms;
	c->link.last_activity_ms = c->stats.connected_ms;
	c->link.last_error = 0;
	c->link.last_error_text[0] = '\0';
	bka_publish(ba);
	bka_session_begin(ba);
}

/* see backup_agent_int.h */
void bka_start_connect(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	int ret;

	bka_job(ba)->phase = "connecting";
	bka_conn_close(ba);
	c->link.state = BACKUP_LINK_CONNECTING;
	c->link.state_since_ms = hal_clock_mono_ms();
	hal_net_addr_format(&c->cfg.server, c->stats.peer,
			    sizeof c->stats.peer);
	c->fd = hal_net_socket(c->cfg.server.family, HAL_SOCK_STREAM);
	if (c->fd < 0) {
		ret = c->fd;
		c->fd = -1;
	} else {
		ret = hal_net_connect(c->fd, &c->cfg.server);
	}
	if (ret == 0 || ret == -EINPROGRESS)
		ret = ev_add(ba->loop, c->fd, EV_WRITE, bka_on_io, ba);
	bka_publish(ba);
	if (ret < 0) {
		bk_fail(c, ret, 0, "connect %s: %s", c->stats.peer,
			strerror(-ret));
		bka_io_fail(ba);
		return;
	}
	ba->st = ST_CONNECT;
	ba->last_progress_ms = hal_clock_mono_ms();
}

static int64_t on_retry(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;

	(void)loop; /* ba has it */
	ba->retry_timer = -1;
	bka_start_connect(ba);
	return EV_STOP;
}

/* Reconnects after d ms (from the timer: the failing fd's callback may
 * still be on the stack). */
static void retry_in(struct backup_agent *ba, uint32_t d)
{
	bka_job(ba)->phase = "retrying";
	ba->st = ST_BACKOFF;
	ba->retry_timer = ev_timer_add(ba->loop, (int64_t)d, on_retry, ba);
	if (ba->retry_timer < 0)
		bka_job_fail(ba, "no timer for the retry");
}

/* A failure with c.err set: retry, skip the file, or fail the job. */
/* see backup_agent_int.h */
void bka_io_fail(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	struct backup_job *j = bka_job(ba);
	uint32_t rnd = 0, d;
	int had_session = c->session;  /* a fatal error is the file's */

	bka_conn_close(ba);             /* no 1029: nothing is committed */
	if (ba->st == ST_CONNECT && backup_server_next(c)) {
		/* not an attempt's failure: the name has another address */
		log_info("backup", "job %u: %s; trying the next address",
			 (unsigned)j->id, c->err);
		retry_in(ba, 0);
		return;
	}
	if (c->cfg.tls && !c->fatal && backup_tls_take_dropped(&c->tls)) {
		/* the next handshake is a full one: no backoff, no attempt
		 * lost (backup_tls logged the drop with the error) */
		retry_in(ba, 0);
		return;
	}
	log_warn("backup", "job %u: %s", (unsigned)j->id, c->err);
	if (c->fatal && ba->in_file && had_session) {
		j->files_failed++;
		snprintf(j->error, sizeof j->error, "%s", c->err);
		bka_file_close(ba);
		ba->failures = 0;
		c->fatal = 0;
		bka_step_soon(ba, ST_NEXT);
		return;
	}
	if (c->fatal || ++ba->failures >= BACKUP_RETRY_ATTEMPTS) {
		char text[BACKUP_ERR_MAX];

		snprintf(text, sizeof text, "%.*s%s", BACKUP_ERR_MAX - 24,
			 c->err, c->fatal ? "" : " (3 attempts)");
		c->fatal = 0;
		bka_job_fail(ba, text);
		return;
	}
	hal_rng_fill(&rnd, sizeof rnd);
	d = backup_retry_delay_ms(ba->failures, ba->cfg.retry_cap_ms, rnd);
	/* the delay in the log shows the backoff to whoever reads it */
	log_info("backup", "job %u: retrying in %u ms (attempt %u of %u)",
		 (unsigned)j->id, (unsigned)d, ba->failures + 1,
		 BACKUP_RETRY_ATTEMPTS);
	retry_in(ba, d);
}

/* Reads packet ba->req.packet's slice into c.buf and encrypts it (not on
 * a clear connection, where the slice is the plaintext). */
static int load_packet(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	uint8_t *s = c->buf + V3_REQ_FILE_HEAD_MAX;
	struct v3_req *r = &ba->req;
	uint64_t off = (uint64_t)(r->packet - 1) * ba->slice;
	size_t plain = r->packet < r->total ? r->data_len
					    : (size_t)(ba->fsize - off);
	size_t whole = plain & ~(size_t)(BACKUP_AES_BLOCK - 1), got = 0;
	enum v3_reason why = V3_OK;
	int n;

	while (got < plain) {
		ssize_t k = read(ba->ffd, s + got, plain - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return bk_fail(c, -EIO, 1, "%s: %s", bka_job(ba)->file,
				       k == 0 ? "file shrank while being read"
					      : strerror(errno));
		got += (size_t)k;
	}
	cksum_update(&ba->ck, s, plain);
	if (!c->clear && (backup_enc_blocks(&ba->enc, s, whole) < 0 ||
			  (r->packet == r->total &&
			   backup_enc_final(&ba->enc, s + whole,
					    plain - whole) < 0)))
		return bk_fail(c, -EIO, 1, "AES failed");
	n = v3_req_pack_head(c->buf, V3_REQ_FILE_HEAD_MAX, r, &why);
	if (n != V3_REQ_FILE_HEAD_MAX)
		return bk_fail(c, -EINVAL, 1, "%s: cannot build 1028: %s",
			       bka_job(ba)->file, v3_reason_str(why));
	bka_job(ba)->bytes_done = ba->fbase + off + plain;
	send_buf(ba, V3_REQ_FILE_HEAD_MAX + r->data_len, THEN_SLICE);
	return 0;
}

/* see backup_agent_int.h */
int bka_plan_packet(struct backup_agent *ba, uint16_t k)
{
	int ret = v3_file_packet(&ba->req, ba->fsize, ba->slice, k);

	if (ret < 0)
		return bk_fail(&ba->c, ret, 1, "%s: no packet plan",
			       bka_job(ba)->file);
	return load_packet(ba);
}

/* Starts (or restarts) the ciphertext (clear: plaintext) stream of the
 * current file. */
/* see backup_agent_int.h */
void bka_stream_begin(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	int ret = 0;

	bka_job(ba)->phase = "sending";
	if (lseek(ba->ffd, 0, SEEK_SET) != 0)
		ret = bk_fail(c, -EIO, 1, "%s: cannot rewind", bka_job(ba)->file);
	memset(&ba->req, 0, sizeof ba->req);
	memcpy(ba->req.client_id, c->id.uuid, V3_ID_SIZE);
	ba->req.version = bk_req_version(c);
	ba->req.code = V3_REQ_FILE;
	memcpy(ba->req.name, ba->fname, sizeof ba->fname);
	cksum_init(&ba->ck);
	if (ba->enc_live)
		backup_enc_free(&ba->enc);
	ba->enc_live = 0;
	if (ret == 0 && !c->clear && backup_enc_start(&ba->enc, c->aes) < 0)
		ret = bk_fail(c, -EIO, 1, "AES key setup failed");
	ba->enc_live = ret == 0 && !c->clear;
	ba->sent_1029 = 0;
	if (ret == 0)
		ret = bka_plan_packet(ba, 1);
	if (ret < 0)
		bka_io_fail(ba);
}

/* The session is ready: go on with the current file or the next one. */
/* see backup_agent_int.h */
void bka_session_ready(struct backup_agent *ba)
{
	if (ba->in_file) {
		ba->sends = 1;
		bka_stream_begin(ba);
	} else {
		bka_step_soon(ba, ST_NEXT);
	}
}


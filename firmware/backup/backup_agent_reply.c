/*
 * backup_agent_reply.c — the socket callback, the replies and the file
 * sequence of the agent's backup state machine (backup_agent_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_agent_int.h"
#include "backup_client_int.h"
#include "hal/clock.h"
#include "log.h"

static int on_register(struct backup_agent *ba, const struct v3_resp *r)
{
	struct backup_client *c = &ba->c;

	if (r->code == V3_RESP_REGISTER_FAIL)
		return bk_fail(c, -EIO, 0, "%s: registration of '%s' refused "
			       "(1601: name taken?)", c->stats.peer,
			       c->cfg.name);
	if (r->code != V3_RESP_REGISTER_OK)
		return bk_fail(c, -EBADMSG, 0, "%s: answered %u to 1025",
			       c->stats.peer, r->code);
	snprintf(c->id.name, sizeof c->id.name, "%s", c->cfg.name);
	memcpy(c->id.uuid, r->client_id, V3_ID_SIZE);
	memcpy(c->stats.client_id, r->client_id, V3_ID_SIZE);
	if (bk_new_key(c, c->cfg.pubkey == BACKUP_PUBKEY_162 ? 65537 : 17) < 0)
		return -EIO;
	c->have_id = 1;
	bka_session_begin(ba);         /* 1026 next */
	return 0;
}

static int on_key(struct backup_agent *ba, const struct v3_resp *r)
{
	struct backup_client *c = &ba->c;
	uint8_t spki[BACKUP_SPKI_MAX];

	if (r->code == V3_RESP_ERROR && c->cfg.pubkey == BACKUP_PUBKEY_AUTO &&
	    backup_key_spki(&c->key, spki, sizeof spki) ==
		    V3_PUBKEY_SIZE_E17) {
		/* the older revision takes 162-byte keys only */
		int n = bk_new_key(c, 65537);

		return n < 0 ? n : bk_fail(c, -EIO, 0, "%s: 160-byte key "
			       "refused (1607); retrying with a 162-byte key",
			       c->stats.peer);
	}
	if (r->code != V3_RESP_AES_KEY)
		return bk_fail(c, -EIO, 0, "%s: answered %u to 1026",
			       c->stats.peer, r->code);
	c->key_acked = 1;
	if (bk_take_aes(c, r) < 0)
		return -EIO;
	bka_session_ready(ba);
	return 0;
}

static int on_reconnect(struct backup_agent *ba, const struct v3_resp *r)
{
	struct backup_client *c = &ba->c;

	if (r->code == V3_RESP_RECONNECT_DENIED)
		return bk_fail(c, -EIO, 0, "%s: reconnect of '%s' denied (1606)",
			       c->stats.peer, c->id.name);
	if (r->code != V3_RESP_RECONNECT_OK)
		return bk_fail(c, -EIO, 0, "%s: answered %u to 1027",
			       c->stats.peer, r->code);
	if (bk_take_aes(c, r) < 0)
		return -EIO;
	bka_session_ready(ba);
	return 0;
}

static int on_crc(struct backup_agent *ba, const struct v3_resp *r)
{
	struct backup_client *c = &ba->c;
	uint32_t content = 0;

	if (r->code != V3_RESP_FILE_CRC)
		return bk_fail(c, -EIO, 0, "%s: answered %u to %s",
			       c->stats.peer, r->code, bka_job(ba)->file);
	v3_content_size(c->clear, ba->fsize, &content);
	if (r->content_size != content || strcmp(r->name, ba->fname) != 0)
		return bk_fail(c, -EBADMSG, 0, "%s: 1603 for another file",
			       c->stats.peer);
	if (r->cksum == ba->crc) {
		ba->sent_1029 = 1;
		return bka_send_req(ba, V3_REQ_CRC_OK, ba->fname, NULL, 0,
				    THEN_RECV, E_ACK_OK);
	}
	log_warn("backup", "%s: cksum mismatch %u (ours %u, server %u)",
		 bka_job(ba)->file, ba->sends, ba->crc, r->cksum);
	if (ba->sends < 3)
		return bka_send_req(ba, V3_REQ_CRC_RETRY, ba->fname, NULL, 0,
				    THEN_STREAM, E_CRC);
	snprintf(bka_job(ba)->error, sizeof bka_job(ba)->error,
		 "%.100s: cksum mismatch 3 times (ours %u, server %u); "
		 "aborted with 1031", bka_job(ba)->file, ba->crc, r->cksum);
	return bka_send_req(ba, V3_REQ_CRC_ABORT, ba->fname, NULL, 0,
			    THEN_RECV, E_ACK_ABORT);
}

static int on_ack(struct backup_agent *ba, const struct v3_resp *r)
{
	struct backup_job *j = bka_job(ba);

	if (r->code != V3_RESP_ACK)
		return bk_fail(&ba->c, -EIO, 0, "%s: answered %u to %u",
			       ba->c.stats.peer, r->code,
			       ba->expect == E_ACK_OK ? V3_REQ_CRC_OK
						      : V3_REQ_CRC_ABORT);
	if (ba->expect == E_ACK_OK) {
		j->files_done++;
		ba->failures = 0;
	} else {
		j->files_failed++;
	}
	ba->fbase += ba->fsize;
	j->bytes_done = ba->fbase;
	bka_file_close(ba);
	bka_step_soon(ba, ST_NEXT);
	return 0;
}

static int on_reply(struct backup_agent *ba, const struct v3_resp *r)
{
	switch (ba->expect) {
	case E_REG: return on_register(ba, r);
	case E_KEY: return on_key(ba, r);
	case E_RECON: return on_reconnect(ba, r);
	case E_CRC: return on_crc(ba, r);
	default: return on_ack(ba, r);
	}
}

static void touch(struct backup_agent *ba, int out, int n)
{
	struct backup_client *c = &ba->c;
	uint64_t now = hal_clock_mono_ms();

	if (out) {
		c->stats.bytes_out += (uint64_t)n;
		c->stats.last_write_ms = now;
	} else {
		c->stats.bytes_in += (uint64_t)n;
		c->stats.last_read_ms = now;
	}
	c->link.last_activity_ms = now;
	ba->last_progress_ms = now;
}

/* After a completed send.  @retval 0 / <0 (c.err set) */
static int after_send(struct backup_agent *ba)
{
	if (ba->then == THEN_RECV) {
		ba->st = ST_RECV;
		ba->rgot = 0;
		ba->rneed = V3_RESP_HDR_SIZE;
		ev_mod(ba->loop, ba->c.fd, EV_READ);
		return 0;
	}
	if (ba->then == THEN_STREAM) {
		ba->sends++;
		bka_stream_begin(ba);  /* failures handled inside */
		return 0;
	}
	if (ba->req.packet < ba->req.total)  /* one slice per callback */
		return bka_plan_packet(ba, (uint16_t)(ba->req.packet + 1));
	backup_enc_free(&ba->enc);
	ba->enc_live = 0;
	ba->crc = cksum_final(&ba->ck);
	bka_job(ba)->phase = "verifying";
	ba->expect = E_CRC;
	ba->then = THEN_RECV;
	return after_send(ba);
}

static int do_send(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;

	while (ba->out_off < ba->out_len) {
		int n = bk_io_send_some(c, c->buf + ba->out_off,
					ba->out_len - ba->out_off);

		if (n == -EAGAIN) {
			bka_tls_wait(ba);
			return 0;
		}
		if (n < 0) {
			c->stats.write_errors++;
			return bk_fail(c, n, 0, "%s: sending: %s",
				       c->stats.peer, bk_io_strerror(c, n));
		}
		ba->out_off += (size_t)n;
		touch(ba, 1, n);
	}
	return after_send(ba);
}

/* A complete reply in rbuf[0..rgot). */
static int parse_reply(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;
	enum v3_reason why = V3_OK;
	struct v3_resp r;
	int ret = v3_resp_hdr_parse(&r, ba->rbuf, V3_RESP_HDR_SIZE, &why);
	int refusal = r.code == V3_RESP_ERROR ||
		      r.code == V3_RESP_REGISTER_FAIL ||
		      r.code == V3_RESP_RECONNECT_DENIED;

	if (ret < 0 && !(refusal && r.payload_size <= V3_RESP_MAX -
			 V3_RESP_HDR_SIZE))
		return bk_fail(c, -EBADMSG, 0, "%s: bad reply header: %s",
			       c->stats.peer, v3_reason_str(why));
	if (ba->rneed == V3_RESP_HDR_SIZE && r.payload_size > 0) {
		ba->rneed += r.payload_size;
		return 0;               /* now the payload */
	}
	if (!refusal && v3_resp_payload_parse(&r, ba->rbuf + V3_RESP_HDR_SIZE,
					      r.payload_size, &why) < 0)
		return bk_fail(c, -EBADMSG, 0, "%s: bad %u reply: %s",
			       c->stats.peer, r.code, v3_reason_str(why));
	ba->st = ST_IDLE;               /* the handler sets the next state */
	return on_reply(ba, &r);
}

static int do_recv(struct backup_agent *ba)
{
	struct backup_client *c = &ba->c;

	while (ba->rgot < ba->rneed) {
		int n = bk_io_recv_some(c, ba->rbuf + ba->rgot,
					ba->rneed - ba->rgot);

		if (n == -EAGAIN) {
			bka_tls_wait(ba);
			return 0;
		}
		if (n <= 0) {
			c->stats.read_errors++;
			return bk_fail(c, n == 0 ? -EIO : n, 0,
				       "%s: reading a reply: %s", c->stats.peer,
				       n == 0 ? "connection closed by the server"
					      : bk_io_strerror(c, n));
		}
		ba->rgot += (size_t)n;
		touch(ba, 0, n);
		if (ba->rgot == ba->rneed) {
			int ret = parse_reply(ba);

			if (ret < 0 || ba->st != ST_RECV)
				return ret;
		}
	}
	return 0;
}

/* Readable while nothing is expected: the server closed (or broke the
 * protocol); either way the connection is done. */
static void idle_input(struct backup_agent *ba)
{
	uint8_t b;
	int n = bk_io_recv_some(&ba->c, &b, 1);

	if (n == -EAGAIN) {     /* nothing, or a TLS session ticket */
		bka_tls_wait(ba);
		return;
	}
	log_info("backup", "%s: %s", ba->c.stats.peer, n == 0 ?
		 "the server closed the idle connection" :
		 "unexpected data or error on the idle connection; closed");
	bka_conn_close(ba);
}

/* see backup_agent_int.h */
void bka_on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct backup_agent *ba = arg;
	int ret = 0;

	(void)loop; (void)events; /* the state says what to do */
	if (ba->st == ST_CONNECT) {
		ret = hal_net_connect_result(fd);
		if (ret < 0)
			ret = bk_fail(&ba->c, ret, 0, "connect %s: %s",
				      ba->c.stats.peer, strerror(-ret));
		else
			bka_on_connected(ba);
	} else if (ba->st == ST_HANDSHAKE) {
		ret = bka_handshake_step(ba);
	} else if (ba->st == ST_SEND) {
		ret = do_send(ba);
	} else if (ba->st == ST_RECV) {
		ret = do_recv(ba);
	} else {
		idle_input(ba);
	}
	if (ret < 0 && ba->cur >= 0)
		bka_io_fail(ba);
	bka_publish(ba);
}

static int file_open(struct backup_agent *ba, const char *path)
{
	struct backup_client *c = &ba->c;
	enum v3_reason why = V3_OK;
	struct stat sb;
	uint32_t content;
	int n = v3_name_from_path(ba->fname, sizeof ba->fname, path,
				  strlen(path), &why);

	if (n < 0)
		return bk_fail(c, n, 1, "%.150s: no v3 name for this path: %s",
			       path, v3_reason_str(why));
	ba->ffd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (ba->ffd < 0)
		return bk_fail(c, -errno, 1, "%.150s: %s", path,
			       strerror(errno));
	if (fstat(ba->ffd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return bk_fail(c, -EINVAL, 1, "%.150s: not a regular file",
			       path);
	ba->fsize = (uint64_t)sb.st_size;
	if (v3_cbc_size(ba->fsize, &content) < 0)
		return bk_fail(c, -EMSGSIZE, 1, "%.150s: %llu bytes is over "
			       "the v3 limit", path,
			       (unsigned long long)ba->fsize);
	ba->slice = (uint64_t)content > (uint64_t)V3_PACKETS_MAX * BACKUP_SLICE
			    ? BACKUP_SLICE_BIG : BACKUP_SLICE;
	return 0;
}

static void walk_over(struct backup_agent *ba)
{
	struct backup_job *j = bka_job(ba);

	if (j->files_failed == 0) {
		bka_job_end(ba, BACKUP_JOB_DONE);
		return;
	}
	{
		char text[BACKUP_ERR_MAX];

		snprintf(text, sizeof text, "%u of %u files failed; last: %.150s",
			 (unsigned)j->files_failed, (unsigned)j->files_total,
			 j->error);
		snprintf(j->error, sizeof j->error, "%s", text);
	}
	bka_job_end(ba, BACKUP_JOB_FAILED);
}

/* see backup_agent_int.h */
void bka_file_next(struct backup_agent *ba)
{
	struct backup_job *j = bka_job(ba);
	int ret = backup_iwalk_next(&ba->walk, BACKUP_AGENT_WALK_BUDGET);

	if (ret == -EAGAIN) {
		bka_step_soon(ba, ST_NEXT);
		return;
	}
	if (ret == 0) {
		walk_over(ba);
		return;
	}
	snprintf(j->file, sizeof j->file, "%s", ba->walk.path);
	ba->in_file = 1;
	if (file_open(ba, ba->walk.path) < 0) {
		j->files_failed++;
		snprintf(j->error, sizeof j->error, "%s", ba->c.err);
		ba->c.fatal = 0;
		log_warn("backup", "job %u: %s", (unsigned)j->id, ba->c.err);
		bka_file_close(ba);
		bka_step_soon(ba, ST_NEXT);
		return;
	}
	if (ba->c.fd >= 0 && ba->c.session)
		bka_session_ready(ba);
	else
		bka_start_connect(ba);
}

static void scan(struct backup_agent *ba)
{
	struct backup_job *j = bka_job(ba);
	int ret;

	while ((ret = backup_iwalk_next(&ba->walk, BACKUP_AGENT_WALK_BUDGET))
	       == 1) {
		j->files_total++;
		j->bytes_total += ba->walk.size;
	}
	if (ret == -EAGAIN) {
		bka_step_soon(ba, ST_SCAN);
		return;
	}
	backup_iwalk_start(&ba->walk, ba->cfg.paths);
	j->phase = "sending";
	bka_file_next(ba);
}

/* see backup_agent_int.h */
int64_t bka_on_step(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;

	(void)loop; /* ba has it */
	ba->step_timer = -1;
	if (ba->cur < 0)
		return EV_STOP;
	if (ba->st == ST_SCAN)
		scan(ba);
	else if (ba->st == ST_NEXT)
		bka_file_next(ba);
	bka_publish(ba);
	return EV_STOP;
}

static int64_t on_io_timer(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;
	uint32_t t = bka_io_timeout(ba);
	uint64_t idle = hal_clock_mono_ms() - ba->last_progress_ms;

	(void)loop; /* ba has it */
	if (ba->st != ST_CONNECT && ba->st != ST_SEND && ba->st != ST_RECV &&
	    ba->st != ST_HANDSHAKE)
		return t;
	if (idle < t)
		return (int64_t)(t - idle);
	if (ba->st == ST_SEND)
		ba->c.stats.write_errors++;
	else if (ba->st == ST_RECV)
		ba->c.stats.read_errors++;
	if (ba->st == ST_HANDSHAKE)
		bk_fail(&ba->c, -ETIMEDOUT, 0, "%s: TLS handshake not "
			"complete after %u ms", ba->c.stats.peer, (unsigned)t);
	else
		bk_fail(&ba->c, -ETIMEDOUT, 0, "%s: timed out (%u ms "
			"without progress)", ba->c.stats.peer, (unsigned)t);
	bka_io_fail(ba);
	bka_publish(ba);
	return t;
}

/* see backup_agent.h */
void bka_run_start(struct backup_agent *ba, int i)
{
	struct backup_job *j = &ba->jobs[i];
	int id;

	ba->failures = 0;
	ba->fbase = 0;
	ba->in_file = 0;
	if (!ba->configured) {
		bka_job_fail(ba, ba->cfg_error[0] ? ba->cfg_error
						  : "no backup.server configured");
		return;
	}
	if (ba->cfg.paths[0] == '\0') {
		bka_job_fail(ba, "backup.paths is empty: nothing to back up");
		return;
	}
	id = ev_timer_add(ba->loop, bka_io_timeout(ba), on_io_timer, ba);
	ba->io_timer = id > 0 ? id : -1;
	j->phase = "scanning";
	backup_iwalk_start(&ba->walk, ba->cfg.paths);
	bka_step_soon(ba, ST_SCAN);
}

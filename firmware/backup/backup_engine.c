/*
 * backup_engine.c — the v3 client engine (backup_engine.h): one state
 * enum, one switch per feed, no I/O.
 *
 * Invariants: out_off <= out_len <= BACKUP_IOBUF_SIZE; in_got <= in_need
 * <= V3_RESP_MAX; a reply is read into the last V3_RESP_MAX bytes of buf,
 * so it never overlaps a request at the start of buf.  st is IDLE
 * whenever in_file is 0 and no request runs.
 */
#include "backup_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backup_retry.h"
#include "hal/clock.h"
#include "hal/rng.h"
#include "log.h"
#include "mem.h"
#include "mbedtls/platform_util.h"
#include "v3x.h"

#define REPLY(e) ((e)->buf + BACKUP_IOBUF_SIZE - V3_RESP_MAX)

/* Records a failure; returns err. */
__attribute__((format(printf, 4, 5)))
static int fail(struct bke *e, int err, int fatal, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof e->err, fmt, ap);
	va_end(ap);
	e->fatal = fatal;
	e->result = err;
	return err;
}

static void end_file(struct bke *e)
{
	if (e->enc_live)
		backup_enc_free(&e->enc);
	e->enc_live = 0;
	e->in_file = 0;
	e->attr_set = 0;
	e->known_set = 0;
	e->snap_op = 0;
	e->path = NULL;
}

static void finish(struct bke *e, enum bke_event ev)
{
	if (ev == BKE_EV_DONE)
		e->result = 0;
	end_file(e);
	e->st = BKE_IDLE;
	e->ev = ev;
}

static void peer_text(struct bke *e)
{
	hal_net_addr_format(bke_server(e), e->peer, sizeof e->peer);
}

static void to_connect(struct bke *e)
{
	e->st = BKE_CONNECT;
	e->attempts++;
	peer_text(e);
}

/* A failure recorded with fail(): the transport goes, then retry, skip
 * the file or give up (backup_engine.h). */
static void failed(struct bke *e)
{
	int file_cause = e->fatal && e->in_file && e->session;
	uint32_t rnd = 0;

	e->session = 0;
	e->must_close = 1;
	if (file_cause) {
		finish(e, BKE_EV_SKIPPED);
		return;
	}
	if (e->fatal || ++e->failures >= BACKUP_RETRY_ATTEMPTS) {
		finish(e, BKE_EV_GAVE_UP);
		return;
	}
	(void)hal_rng_fill(&rnd, sizeof rnd); /* no entropy: no jitter */
	e->wait_ms = backup_retry_delay_ms(e->failures, e->cfg->retry_cap_ms,
					   rnd);
	e->st = BKE_BACKOFF;
	e->ev = BKE_EV_RETRY;
}

/* Packs a small request into buf; the reply is read after it is sent. */
static int send_req(struct bke *e, enum bke_state st, uint16_t code,
		    const char *name, const uint8_t *key, size_t key_len)
{
	enum v3_reason why = V3_OK;
	struct v3_req r;
	int n;

	memset(&r, 0, sizeof r);
	memcpy(r.client_id, e->id.uuid, V3_ID_SIZE);
	r.version = e->clear ? V3_VERSION_CLEAR : V3_VERSION;
	r.code = code;
	snprintf(r.name, sizeof r.name, "%s", name);
	r.key = key;
	r.key_len = key_len;
	n = v3_req_pack(e->buf, V3_REQ_SMALL_MAX, &r, &why);
	if (n < 0)
		return fail(e, n, 1, "cannot build request %u: %s", code,
			    v3_reason_str(why));
	e->st = st;
	e->code = code;
	e->out_len = (size_t)n;
	e->out_off = 0;
	e->in_need = e->in_got = 0;
	return 0;
}

/* The session request that fits what we have: 1025, 1026 or 1027. */
static int session_begin(struct bke *e)
{
	uint8_t spki[BACKUP_SPKI_MAX];
	int n;

	if (e->st != BKE_REGISTER)      /* a 1026 after 1600: the same one */
		e->run_sessions++;
	if (!e->have_id)
		return send_req(e, BKE_REGISTER, V3_REQ_REGISTER, e->cfg->name,
				NULL, 0);
	if (e->key_acked)
		return send_req(e, BKE_RECONNECT, V3_REQ_RECONNECT, e->id.name,
				NULL, 0);
	n = backup_key_spki(&e->key, spki, sizeof spki);
	if (n < 0)
		return fail(e, n, 1, "cannot encode the public key");
	return send_req(e, BKE_PUBKEY, V3_REQ_PUBKEY, e->id.name, spki,
			(size_t)n);
}

/* Plans packet k of the stream (of the bytes after base): the next slice
 * to read. */
static int plan_packet(struct bke *e, uint16_t k)
{
	int ret = v3_file_packet(&e->req, e->xfer, e->slice, k);

	if (ret < 0)
		return fail(e, ret, 1, "%s: no packet plan", e->path);
	e->st = BKE_SLICE_READ;
	return 0;
}

/* Starts (or restarts) the file's ciphertext (clear: plaintext) stream
 * of [base, base + xfer). */
static int stream_begin(struct bke *e)
{
	memset(&e->req, 0, sizeof e->req);
	memcpy(e->req.client_id, e->id.uuid, V3_ID_SIZE);
	e->req.version = e->clear ? V3_VERSION_CLEAR : V3_VERSION;
	e->req.code = V3_REQ_FILE;
	memcpy(e->req.name, e->name, sizeof e->name);
	if (e->base == 0) {     /* resumed: ck holds the kept bytes' state */
		cksum_init(&e->ck);
		sha256_init(&e->sha);
		e->ckpts = 0;
	}
	e->loaded = 0;
	if (e->enc_live)
		backup_enc_free(&e->enc);
	e->enc_live = 0;
	if (!e->clear) {
		if (backup_enc_start(&e->enc, e->aes) < 0)
			return fail(e, -EIO, 1, "AES key setup failed");
		e->enc_live = 1;
	}
	return plan_packet(e, 1);
}

/* Packs an extension request m into buf; what follows is st. */
static int send_x(struct bke *e, enum bke_state st, const struct v3x_msg *m)
{
	enum v3_reason why = V3_OK;
	int n = v3x_req_pack(e->buf, V3X_REQ_MAX, m, &why);

	if (n < 0)
		return fail(e, n, 1, "cannot build request %u: %s", m->code,
			    v3_reason_str(why));
	e->st = st;
	e->code = m->code;
	e->out_len = (size_t)n;
	e->out_off = 0;
	e->in_need = e->in_got = 0;
	return 0;
}

/* The largest segment this engine sends. */
static uint64_t segment_max(const struct bke *e)
{
	uint64_t m = e->cfg->segment_max;

	return m > 0 && m < BACKUP_SEGMENT_MAX ? m : BACKUP_SEGMENT_MAX;
}

/* The next transfer from base: the rest, or in segments its next one,
 * announced by a 1047 (no answer; its 1028s follow). */
static int xfer_begin(struct bke *e)
{
	struct v3x_msg m;

	e->xfer = e->size - e->base;
	if (!e->segmented)
		return stream_begin(e);
	if (e->xfer > segment_max(e))
		e->xfer = segment_max(e);
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_SEGMENT;
	m.size = e->size;
	m.offset = e->base;
	m.length = (uint32_t)e->xfer;
	memcpy(m.name, e->name, sizeof e->name);
	return send_x(e, BKE_SEGMENT, &m);
}

/* An extension answer to the request e->code in REPLY(e): the header,
 * then (in_need grown) its payload, which must be want or a 1649.
 * @retval 1 m holds it  @retval 0 the payload is still to come
 * @retval <0 failed (recorded) */
static int x_reply(struct bke *e, struct v3x_msg *m, uint16_t want)
{
	const uint8_t *b = REPLY(e);

	if (!v3x_resp_is_ext(b) ||
	    v3x_resp_hdr_parse(m, b, V3_RESP_HDR_SIZE, NULL) < 0)
		return fail(e, -EBADMSG, 0, "%s: bad answer to %u", e->peer,
			    e->code);
	if (e->in_need == V3_RESP_HDR_SIZE) {
		e->in_need += m->payload_size;
		return 0;
	}
	if (v3x_resp_payload_parse(m, b + V3_RESP_HDR_SIZE, m->payload_size,
				   NULL) < 0 ||
	    (m->code != want && m->code != V3X_RESP_REFUSED))
		return fail(e, -EBADMSG, 0, "%s: bad %u answer to %u", e->peer,
			    m->code, e->code);
	e->in_need = e->in_got = 0;
	return 1;
}

/* The 1647 after a segment: the server holds [0, base + xfer); the next
 * segment follows. */
static int seg_in(struct bke *e)
{
	struct v3x_msg m;
	int ret = x_reply(e, &m, V3X_RESP_SEGMENT);

	if (ret <= 0)
		return ret;
	if (m.code != V3X_RESP_SEGMENT || m.offset != e->base + e->xfer)
		return fail(e, -EBADMSG, 0, "%s: bad 1647 for %s", e->peer,
			    e->path);
	e->base = m.offset;
	e->best_base = m.offset;
	e->failures = 0;        /* progress: a later cut costs no attempt */
	return xfer_begin(e);
}

/* Feeds the slice s of the file's bytes [off, off + len) to the cksum
 * and SHA-256, keeping their state every BACKUP_CKPT_EVERY bytes. */
static void hash_slice(struct bke *e, const uint8_t *s, uint64_t off,
		       size_t len)
{
	const struct bke_ckpt *last = &e->ckpt[(e->ckpts - 1) % BACKUP_CKPTS];
	struct bke_ckpt *c = &e->ckpt[e->ckpts % BACKUP_CKPTS];

	cksum_update(&e->ck, s, len);
	sha256_update(&e->sha, s, len);
	off += len;
	if (e->ckpts > 0 && off < last->off + BACKUP_CKPT_EVERY)
		return;
	c->off = off;
	c->ck = e->ck;
	c->sha = e->sha;
	e->ckpts++;
}

/* The hash state of the file's first base bytes, as far as a
 * checkpoint has it: prefix_pos is where reading them goes on (0: from
 * the start). */
static void ckpt_restore(struct bke *e)
{
	const struct bke_ckpt *best = NULL;
	unsigned i, n = e->ckpts < BACKUP_CKPTS ? e->ckpts : BACKUP_CKPTS;

	for (i = 0; i < n; i++)
		if (e->ckpt[i].off <= e->base &&
		    (best == NULL || e->ckpt[i].off > best->off))
			best = &e->ckpt[i];
	e->prefix_pos = best ? best->off : 0;
	if (best == NULL) {
		cksum_init(&e->ck);
		sha256_init(&e->sha);
		return;
	}
	e->ck = best->ck;
	e->sha = best->sha;
}

/* The stream, or first the question how much of it the server kept
 * (vigil/2 with V3X_CAP_RESUME). */
static int offset_begin(struct bke *e)
{
	struct v3x_msg m;

	e->base = 0;
	if (!e->clear || !(e->xcaps & V3X_CAP_RESUME) || e->size == 0)
		return xfer_begin(e);
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_OFFSET;
	m.size = e->size;
	memcpy(m.name, e->name, sizeof e->name);
	return send_x(e, BKE_OFFSET, &m);
}

/* The 1645 in REPLY(e): continue after the kept bytes (their cksum
 * first, read locally), or from the start. */
static int offset_in(struct bke *e)
{
	struct v3x_msg m;
	int ret = x_reply(e, &m, V3X_RESP_OFFSET);

	if (ret <= 0)
		return ret;
	if (m.code == V3X_RESP_OFFSET && m.offset >= e->size && m.offset)
		return fail(e, -EBADMSG, 0, "%s: bad 1645", e->peer);
	e->base = m.code == V3X_RESP_OFFSET ? m.offset : 0;
	if (e->base > e->best_base) {
		/* progress since the last attempt: the cut cost no attempt */
		e->best_base = e->base;
		e->failures = 0;
	}
	if (e->base == 0)
		return xfer_begin(e);
	ckpt_restore(e);
	if (e->prefix_pos == e->base)
		return xfer_begin(e);
	e->st = BKE_PREFIX;
	return 0;
}

/* A file's first stream, after its 1044 when the server takes one. */
static int attr_begin(struct bke *e)
{
	struct v3x_msg m;

	if (!e->clear || !e->attr_set || !(e->xcaps & V3X_CAP_ATTR))
		return offset_begin(e);
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_ATTR;
	m.mode = e->attr_mode & 07777u;
	m.mtime_s = e->attr_s;
	m.mtime_ns = e->attr_ns < 1000000000u ? e->attr_ns : 0;
	memcpy(m.name, e->name, sizeof e->name);
	return send_x(e, BKE_ATTR, &m);
}

/* The server takes trace ids and has not been told this one. */
static int trace_wanted(const struct bke *e)
{
	return e->clear && (e->xcaps & V3X_CAP_TRACE) && e->trace[0] &&
	       strcmp(e->trace, e->trace_sent) != 0;
}

/* 1048; its sending ends in sent(), which goes on where we were. */
static int trace_begin(struct bke *e)
{
	struct v3x_msg m;

	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_TRACE;
	memcpy(m.name, e->trace, sizeof e->trace);
	memcpy(e->trace_sent, e->trace, sizeof e->trace);
	return send_x(e, BKE_TRACE, &m);
}

/* A file: first, when it is unchanged and the server stores content by
 * hash, the question whether it has these bytes (1046).  A file over the
 * v3 limit needs segments (V3X_CAP_LARGE), or is skipped unsent. */
static int file_begin(struct bke *e)
{
	struct v3x_msg m;

	e->sends = 1;
	e->segmented = e->clear && (e->xcaps & V3X_CAP_LARGE) &&
		       e->size > segment_max(e);
	if (e->size > V3_FILE_MAX && !e->segmented) {
		fail(e, -EMSGSIZE, 1, "%.150s: %llu bytes is over the v3 limit "
		     "of %u (needs vigil/2 with large files)", e->path,
		     (unsigned long long)e->size, V3_FILE_MAX);
		finish(e, BKE_EV_SKIPPED);
		return 0;
	}
	if (!e->clear || !e->known_set || !e->attr_set ||
	    !(e->xcaps & V3X_CAP_DEDUP))
		return attr_begin(e);
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_HAVE;
	m.size = e->size;
	memcpy(m.sha256, e->known_sha, sizeof m.sha256);
	m.mode = e->attr_mode & 07777u;
	m.mtime_s = e->attr_s;
	m.mtime_ns = e->attr_ns < 1000000000u ? e->attr_ns : 0;
	memcpy(m.name, e->name, sizeof e->name);
	return send_x(e, BKE_HAVE, &m);
}

/* The 1046 answer in REPLY(e): 1646 have (done, nothing sent), or 1646
 * not / a 1649 refusal: the bytes go as for a changed file. */
static int have_in(struct bke *e)
{
	struct v3x_msg m;
	int ret = x_reply(e, &m, V3X_RESP_HAVE);

	if (ret <= 0)
		return ret;
	if (m.code == V3X_RESP_REFUSED || !m.have)
		return attr_begin(e);
	memcpy(e->sha256, e->known_sha, sizeof e->sha256);
	e->deduped = 1;
	e->failures = 0;
	finish(e, BKE_EV_DONE);
	return 0;
}

/* 1049: keep e->name in the run's snapshot, or seal the run; a server
 * without the capability has no sealed snapshots: done, nothing sent. */
static int snap_begin(struct bke *e)
{
	struct v3x_msg m;

	if (!e->clear || !(e->xcaps & V3X_CAP_SNAPSHOT)) {
		finish(e, BKE_EV_DONE);
		return 0;
	}
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_SNAPSHOT;
	m.op = (uint8_t)e->snap_op;
	if (e->snap_op == V3X_SNAP_SEAL)
		m.sessions = e->run_sessions ? e->run_sessions : 1;
	else
		memcpy(m.name, e->name, sizeof e->name);
	return send_x(e, BKE_SNAP, &m);
}

/* The 1049 answer in REPLY(e): 1648, or a 1649 (the session stays). */
static int snap_in(struct bke *e)
{
	struct v3x_msg m;
	int ret = x_reply(e, &m, V3X_RESP_SNAPSHOT);

	if (ret <= 0)
		return ret;
	e->failures = 0;
	if (m.code == V3X_RESP_REFUSED) {
		fail(e, -EIO, 1, "%s: 1049 refused (1649 %u)", e->peer,
		     m.error);
		finish(e, BKE_EV_SKIPPED);
		return 0;
	}
	e->snap_id = m.snapshot;
	e->snap_count = m.count;
	finish(e, BKE_EV_DONE);
	return 0;
}

static int session_ready(struct bke *e)
{
	e->session = 1;
	if (trace_wanted(e))    /* a kept session, a new job */
		return trace_begin(e);
	if (e->snap_op)
		return snap_begin(e);
	if (!e->in_file) {
		finish(e, BKE_EV_DONE);
		return 0;
	}
	return file_begin(e);
}

/* vigil/2: 1040, asking for what a backup uses: attributes, content by
 * hash, large files, the trace id and sealed snapshots (resume is used
 * when the server offers it). */
static int hello_begin(struct bke *e)
{
	struct v3x_msg m;
	int n;

	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_HELLO;
	m.caps = V3X_CAP_ATTR | V3X_CAP_TRACE | V3X_CAP_DEDUP | V3X_CAP_LARGE |
		 V3X_CAP_SNAPSHOT;
	n = v3x_req_pack(e->buf, V3X_REQ_MAX, &m, NULL);
	if (n < 0)
		return fail(e, n, 1, "cannot build request 1040");
	e->st = BKE_HELLO;
	e->code = V3X_REQ_HELLO;
	e->out_len = (size_t)n;
	e->out_off = 0;
	e->in_need = e->in_got = 0;
	return 0;
}

/* The 1040 answer in REPLY(e): 1640, or the 1607 of a vigil/2 server
 * without the extension (it closes: connect again, without a hello). */
static int hello_in(struct bke *e)
{
	const uint8_t *b = REPLY(e);
	enum v3_reason why = V3_OK;
	struct v3x_msg m;

	if (!v3x_resp_is_ext(b)) {
		e->x_refused = 1;
		return fail(e, -EPROTO, 0, "%s: no vigil/2 extension (1040 "
			    "refused); connecting without it", e->peer);
	}
	if (v3x_resp_hdr_parse(&m, b, V3_RESP_HDR_SIZE, &why) < 0 ||
	    m.code != V3X_RESP_HELLO)
		return fail(e, -EBADMSG, 0, "%s: bad 1040 answer: %s", e->peer,
			    why != V3_OK ? v3_reason_str(why) : "not 1640");
	if (e->in_need == V3_RESP_HDR_SIZE) {
		e->in_need += m.payload_size;
		return 0;
	}
	if (v3x_resp_payload_parse(&m, b + V3_RESP_HDR_SIZE, m.payload_size,
				   &why) < 0)
		return fail(e, -EBADMSG, 0, "%s: bad 1640: %s", e->peer,
			    v3_reason_str(why));
	e->xcaps = m.caps;
	e->in_need = e->in_got = 0;
	return trace_wanted(e) ? trace_begin(e) : session_begin(e);
}

/* Makes an RSA-1024 key pair with exponent ex and saves the identity
 * (RSA generation blocks for tens of ms: once per device). */
static int new_key(struct bke *e, int ex)
{
	int n = backup_key_generate(&e->key, ex);

	if (n < 0)
		return fail(e, n, 1, "RSA key generation failed");
	n = backup_key_priv_der(&e->key, e->id.priv, sizeof e->id.priv);
	if (n < 0)
		return fail(e, n, 1, "cannot encode the private key");
	e->id.priv_len = (size_t)n;
	/* the state directory's last level may not exist yet; 0700: it
	 * holds a private key.  A failure shows in the save. */
	(void)hal_storage_mkdir(e->cfg->state_dir, 0700);
	n = backup_identity_save(e->cfg->state_dir, &e->id);
	if (n < 0)
		return fail(e, n, 1, "cannot save %s/%s: %s",
			    e->cfg->state_dir, BACKUP_IDENTITY_FILE,
			    strerror(-n));
	return 0;
}

/* Unwraps the session's AES key from a 1602/1605. */
static int take_aes(struct bke *e, const struct v3_resp *r)
{
	if (backup_key_unwrap(&e->key, r->key, r->key_len, e->aes,
			      &e->oaep_sha1) < 0)
		return fail(e, -EIO, 0,
			    "%s: the AES key does not decrypt with our key",
			    e->peer);
	return session_ready(e);
}

static int on_register(struct bke *e, const struct v3_resp *r)
{
	int ret;

	if (r->code == V3_RESP_REGISTER_FAIL)
		return fail(e, -EIO, 0, "%s: registration of '%s' refused "
			    "(1601: name taken?)", e->peer, e->cfg->name);
	if (r->code != V3_RESP_REGISTER_OK)
		return fail(e, -EBADMSG, 0, "%s: answered %u to 1025",
			    e->peer, r->code);
	snprintf(e->id.name, sizeof e->id.name, "%s", e->cfg->name);
	memcpy(e->id.uuid, r->client_id, V3_ID_SIZE);
	ret = new_key(e, e->cfg->pubkey == BACKUP_PUBKEY_162 ? 65537 : 17);
	if (ret < 0)
		return ret;
	e->have_id = 1;
	return session_begin(e);        /* 1026 next */
}

static int on_pubkey(struct bke *e, const struct v3_resp *r)
{
	uint8_t spki[BACKUP_SPKI_MAX];

	if (r->code == V3_RESP_ERROR &&
	    e->cfg->pubkey == BACKUP_PUBKEY_AUTO &&
	    backup_key_spki(&e->key, spki, sizeof spki) ==
		    V3_PUBKEY_SIZE_E17) {
		/* the older revision takes 162-byte keys only */
		int n = new_key(e, 65537);

		return n < 0 ? n : fail(e, -EIO, 0, "%s: 160-byte key refused "
					"(1607); retrying with a 162-byte key",
					e->peer);
	}
	if (r->code != V3_RESP_AES_KEY) {
		/* the id may be one the server does not know (a 1600 damaged
		 * on the way, a server that lost a registration without a
		 * key): register again, which gives the same id back while
		 * no key was ever taken, instead of a 1026 for that id on
		 * every attempt of every job */
		e->have_id = 0;
		return fail(e, -EIO, 0, "%s: answered %u to 1026", e->peer,
			    r->code);
	}
	e->key_acked = 1;
	return take_aes(e, r);
}

static int on_reconnect(struct bke *e, const struct v3_resp *r)
{
	if (r->code == V3_RESP_RECONNECT_DENIED)
		return fail(e, -EIO, 0, "%s: reconnect of '%s' denied (1606)",
			    e->peer, e->id.name);
	if (r->code != V3_RESP_RECONNECT_OK)
		return fail(e, -EIO, 0, "%s: answered %u to 1027", e->peer,
			    r->code);
	return take_aes(e, r);
}

/* The 1603: equal -> 1029; differs -> 1030 and again, or the third
 * time 1031. */
static int on_crc(struct bke *e, const struct v3_resp *r)
{
	uint32_t content = 0;

	if (r->code != V3_RESP_FILE_CRC)
		return fail(e, -EIO, 0, "%s: answered %u to %s", e->peer,
			    r->code, e->path);
	/* checked in bke_file; resumed: the rest's size */
	(void)v3_content_size(e->clear, e->xfer, &content);
	if (r->content_size != content || strcmp(r->name, e->name) != 0)
		return fail(e, -EBADMSG, 0, "%s: 1603 for another file",
			    e->peer);
	if (r->cksum == e->crc)
		return send_req(e, BKE_COMMIT, V3_REQ_CRC_OK, e->name, NULL, 0);
	log_warn("backup", "%s: cksum mismatch %u (ours %u, server %u)",
		 e->path, e->sends, e->crc, r->cksum);
	if (e->sends < 3)
		return send_req(e, BKE_CRC_RETRY, V3_REQ_CRC_RETRY, e->name,
				NULL, 0);
	/* the text stays: the 1604 decides only whether we say "no 1604" */
	fail(e, -EBADMSG, 1, "%.100s: cksum mismatch 3 times (ours %u, "
	     "server %u); aborted with 1031", e->path, e->crc, r->cksum);
	return send_req(e, BKE_ABORT, V3_REQ_CRC_ABORT, e->name, NULL, 0);
}

/* The 1604 after a 1029 (file done) or a 1031 (file skipped). */
static int on_ack(struct bke *e, const struct v3_resp *r)
{
	if (e->st == BKE_ABORT) {
		size_t n = strlen(e->err);

		e->result = -EBADMSG;
		if (r->code != V3_RESP_ACK) {
			snprintf(e->err + n, sizeof e->err - n, " (no 1604)");
			e->must_close = 1;
			e->session = 0;
		}
		finish(e, BKE_EV_SKIPPED);
		return 0;
	}
	if (r->code != V3_RESP_ACK)
		return fail(e, -EIO, 0, "%s: answered %u to %u", e->peer,
			    r->code, V3_REQ_CRC_OK);
	e->failures = 0;
	finish(e, BKE_EV_DONE);
	return 0;
}

static int on_reply(struct bke *e, const struct v3_resp *r)
{
	switch (e->st) {
	case BKE_REGISTER: return on_register(e, r);
	case BKE_PUBKEY: return on_pubkey(e, r);
	case BKE_RECONNECT: return on_reconnect(e, r);
	case BKE_CRC: return on_crc(e, r);
	case BKE_COMMIT:
	case BKE_ABORT: return on_ack(e, r);
	default:
		return fail(e, -EPROTO, 1, "no reply expected in state %d",
			    (int)e->st);
	}
}

/* 1601, 1606 and 1607 refuse: their payload (if any) is not parsed. */
static int is_refusal(uint16_t code)
{
	return code == V3_RESP_ERROR || code == V3_RESP_REGISTER_FAIL ||
	       code == V3_RESP_RECONNECT_DENIED;
}

/* A complete header or reply in REPLY(e)[0..in_got). */
static int reply_in(struct bke *e)
{
	const uint8_t *b = REPLY(e);
	enum v3_reason why = V3_OK;
	struct v3_resp r;
	int ret;

	if (e->st == BKE_HELLO)
		return hello_in(e);
	if (e->st == BKE_OFFSET)
		return offset_in(e);
	if (e->st == BKE_HAVE)
		return have_in(e);
	if (e->st == BKE_SEG_ACK)
		return seg_in(e);
	if (e->st == BKE_SNAP)
		return snap_in(e);
	ret = v3_resp_hdr_parse(&r, b, V3_RESP_HDR_SIZE, &why);

	if (ret < 0 && !(is_refusal(r.code) &&
			 r.payload_size <= V3_RESP_MAX - V3_RESP_HDR_SIZE))
		return fail(e, -EBADMSG, 0, "%s: bad reply header: %s",
			    e->peer, v3_reason_str(why));
	if (e->in_need == V3_RESP_HDR_SIZE && r.payload_size > 0) {
		e->in_need += r.payload_size;
		return 0;       /* now the payload */
	}
	if (!is_refusal(r.code) &&
	    v3_resp_payload_parse(&r, b + V3_RESP_HDR_SIZE, r.payload_size,
				  &why) < 0)
		return fail(e, -EBADMSG, 0, "%s: bad %u reply: %s", e->peer,
			    r.code, v3_reason_str(why));
	e->in_need = e->in_got = 0;
	return on_reply(e, &r);
}

/* A request (or 1028) is out: what follows. */
static int sent(struct bke *e)
{
	switch (e->st) {
	case BKE_SLICE_SEND:
		if (e->cfg->progress)
			e->cfg->progress(e->cfg->progress_arg, e->path,
					 (uint64_t)e->req.packet * e->slice,
					 e->req.content_size);
		if (e->req.packet < e->req.total)
			return plan_packet(e, (uint16_t)(e->req.packet + 1));
		backup_enc_free(&e->enc);
		e->enc_live = 0;
		if (e->base + e->xfer < e->size) {
			e->st = BKE_SEG_ACK;    /* a segment, not the end */
			break;
		}
		e->crc = cksum_final(&e->ck);
		sha256_finish(&e->sha, e->sha256);
		e->st = BKE_CRC;
		break;
	case BKE_CRC_RETRY:
		e->sends++;
		e->base = 0;    /* the server dropped what it had */
		return xfer_begin(e);
	case BKE_ATTR:
		return offset_begin(e);
	case BKE_TRACE:
		return e->session ? session_ready(e) : session_begin(e);
	case BKE_SEGMENT:
		return stream_begin(e);
	default:
		break;
	}
	e->in_need = V3_RESP_HDR_SIZE;
	e->in_got = 0;
	return 0;
}

/* see backup_engine.h */
void bke_init(struct bke *e, const struct backup_client_cfg *cfg)
{
	/* Not memset: that made all of buf (128 KiB) resident, where a
	 * 1 GiB file uses its first 64 KiB and the reply at its end. */
	mem_clear(e, sizeof *e);
	e->cfg = cfg;
	backup_key_init(&e->key);
	peer_text(e);
}

/* see backup_engine.h */
int bke_load_identity(struct bke *e)
{
	const char *dir = e->cfg->state_dir;
	int ret = backup_identity_load(dir, &e->id);

	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return fail(e, -EBADMSG, 1, "%s/%s: unreadable identity (%s)",
			    dir, BACKUP_IDENTITY_FILE, strerror(-ret));
	if (backup_key_import(&e->key, e->id.priv, e->id.priv_len) < 0)
		return fail(e, -EBADMSG, 1,
			    "%s/%s: the private key is not RSA-1024", dir,
			    BACKUP_IDENTITY_FILE);
	e->have_id = 1;
	e->key_acked = 1;
	return 0;
}

/* see backup_engine.h */
void bke_free(struct bke *e)
{
	end_file(e);
	backup_key_free(&e->key);
	mbedtls_platform_zeroize(e->aes, sizeof e->aes);
	mbedtls_platform_zeroize(&e->id, sizeof e->id);
	e->session = 0;
}

/* Starts a request: the session first, unless it is up. */
static int request_begin(struct bke *e)
{
	e->failures = 0;
	e->ev = BKE_EV_NONE;
	e->result = 0;
	e->fatal = 0;
	if (!e->session) {
		to_connect(e);
		return 0;
	}
	if (session_ready(e) < 0)
		failed(e);
	return 0;
}

/* see backup_engine.h */
int bke_open(struct bke *e)
{
	if (e->st != BKE_IDLE)
		return -EBUSY;
	return request_begin(e);
}

/* see backup_engine.h */
void bke_file_attr(struct bke *e, uint32_t mode, int64_t mtime_s,
		   uint32_t mtime_ns)
{
	e->attr_set = 1;
	e->attr_mode = mode;
	e->attr_s = mtime_s;
	e->attr_ns = mtime_ns;
}

/* see backup_engine.h */
void bke_file_known(struct bke *e, const uint8_t sha256[32])
{
	e->known_set = 1;
	memcpy(e->known_sha, sha256, sizeof e->known_sha);
}

/* see backup_engine.h */
const uint8_t *bke_file_sha256(const struct bke *e, int *deduped)
{
	*deduped = e->deduped;
	return e->sha256;
}

/* see backup_engine.h */
int bke_file(struct bke *e, const char *path, uint64_t size)
{
	enum v3_reason why = V3_OK;
	uint32_t content;
	int n;

	if (e->st != BKE_IDLE)
		return -EBUSY;
	e->ev = BKE_EV_SKIPPED;
	n = v3_name_from_path(e->name, sizeof e->name, path, strlen(path),
			      &why);
	if (n < 0)
		return fail(e, n, 1, "%.150s: no v3 name for this path: %s",
			    path, v3_reason_str(why));
	e->path = path;
	e->size = size;
	e->deduped = 0;
	e->base = e->best_base = 0;
	e->ckpts = 0;
	/* one transfer of up to V3_FILE_MAX needs the bigger slice near the
	 * top; segments (beyond it) are planned with BACKUP_SLICE */
	e->slice = v3_cbc_size(size, &content) == 0 &&
		   (uint64_t)content > (uint64_t)V3_PACKETS_MAX * BACKUP_SLICE
			   ? BACKUP_SLICE_BIG : BACKUP_SLICE;
	e->in_file = 1;
	return request_begin(e);
}

/* see backup_engine.h */
void bke_run_begin(struct bke *e)
{
	e->run_sessions = e->session ? 1u : 0u;
}

/* see backup_engine.h */
int bke_snapshot(struct bke *e, const char *path)
{
	enum v3_reason why = V3_OK;

	if (e->st != BKE_IDLE)
		return -EBUSY;
	if (!(e->xcaps & V3X_CAP_SNAPSHOT))
		return -EOPNOTSUPP;
	if (path != NULL && v3_name_from_path(e->name, sizeof e->name, path,
					      strlen(path), &why) < 0)
		return -EINVAL;
	e->snap_op = path ? V3X_SNAP_KEEP : V3X_SNAP_SEAL;
	e->snap_id = 0;
	e->path = path;
	return request_begin(e);
}

/* see backup_engine.h */
void bke_set_trace(struct bke *e, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	e->trace[0] = '\0';
	if (n > 0 && n <= V3X_TRACE_MAX &&
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz-") == n)
		memcpy(e->trace, id, n + 1);
}

/* see backup_engine.h */
enum bke_want bke_want(const struct bke *e)
{
	if (e->must_close)
		return BKE_WANT_CLOSE;
	switch (e->st) {
	case BKE_IDLE: return BKE_WANT_NOTHING;
	case BKE_CONNECT: return BKE_WANT_CONNECT;
	case BKE_BACKOFF:
	case BKE_THROTTLE: return BKE_WANT_WAIT;
	case BKE_SLICE_READ:
	case BKE_PREFIX: return BKE_WANT_READ;
	default:
		return e->out_off < e->out_len ? BKE_WANT_SEND : BKE_WANT_RECV;
	}
}

/* see backup_engine.h */
enum bke_event bke_event(const struct bke *e)
{
	return e->ev;
}

/* see backup_engine.h */
enum bke_event bke_take_event(struct bke *e)
{
	enum bke_event ev = e->ev;

	e->ev = BKE_EV_NONE;
	return ev;
}

/* see backup_engine.h */
const struct hal_addr *bke_server(const struct bke *e)
{
	return e->cfg->n_addrs ? &e->cfg->addrs[e->addr_cur]
			       : &e->cfg->server;
}

/* see backup_engine.h */
void bke_connected(struct bke *e, int clear)
{
	if (e->st != BKE_CONNECT)
		return;
	e->addrs_failed = 0;
	e->clear = clear;
	e->xcaps = 0;
	e->trace_sent[0] = '\0';       /* a new server: tell it again */
	if ((clear && !e->x_refused ? hello_begin(e) : session_begin(e)) < 0)
		failed(e);
}

/* After a failed connect: the name's next address, if one is untried
 * in this attempt (always onwards: the attempt after a backoff starts
 * with the address after the one that failed last). */
static int next_addr(struct bke *e)
{
	unsigned n = e->cfg->n_addrs;

	if (n < 2)
		return 0;
	e->addr_cur = (e->addr_cur + 1) % n;
	peer_text(e);
	if (++e->addrs_failed < n)
		return 1;
	e->addrs_failed = 0;
	return 0;
}

/* see backup_engine.h */
void bke_link_failed(struct bke *e, enum bke_conn_fail how, int err,
		     const char *why)
{
	if (e->st != BKE_CONNECT)
		return;
	e->session = 0;
	if (how == BKE_CONN_FAILED) {
		fail(e, err, 0, "connect %s: %s", e->peer, why);
		if (next_addr(e)) {
			e->must_close = 1;
			e->ev = BKE_EV_NEXT_ADDR;
			return;
		}
	} else {
		fail(e, err, 0, "%s: %s", e->peer, why);
		if (how == BKE_CONN_RESUME_FAILED) {
			/* the next handshake is a different (full) one */
			e->must_close = 1;
			e->ev = BKE_EV_FULL_HANDSHAKE;
			return;
		}
	}
	failed(e);
}

/* see backup_engine.h */
const uint8_t *bke_out(const struct bke *e, size_t *len)
{
	*len = e->out_len - e->out_off;
	return e->buf + e->out_off;
}

/* see backup_engine.h */
void bke_out_ack(struct bke *e, size_t n)
{
	if (bke_want(e) != BKE_WANT_SEND || n > e->out_len - e->out_off)
		return;
	e->out_off += n;
	if (e->out_off == e->out_len && sent(e) < 0)
		failed(e);
}

/* see backup_engine.h */
uint8_t *bke_in(struct bke *e, size_t *len)
{
	*len = e->in_need - e->in_got;
	return REPLY(e) + e->in_got;
}

/* see backup_engine.h */
void bke_in_ack(struct bke *e, size_t n)
{
	if (bke_want(e) != BKE_WANT_RECV || n > e->in_need - e->in_got)
		return;
	e->in_got += n;
	if (e->in_got == e->in_need && reply_in(e) < 0)
		failed(e);
}

/* see backup_engine.h */
void bke_io_failed(struct bke *e, int err, const char *why)
{
	enum bke_want w = bke_want(e);

	/* between two slices the driver waits for room to write: a peer
	 * that stopped reading fails the file as a send does */
	if ((w == BKE_WANT_SEND && e->st == BKE_SLICE_SEND) ||
	    e->st == BKE_SLICE_READ)
		fail(e, err, 0, "%s: sending %s: %s", e->peer, e->path, why);
	else if (w == BKE_WANT_SEND)
		fail(e, err, 0, "%s: sending %u: %s", e->peer, e->code, why);
	else if (w == BKE_WANT_RECV)
		fail(e, err, 0, "%s: reading a reply: %s", e->peer, why);
	else
		return;         /* nothing in flight */
	failed(e);
}

/* see backup_engine.h */
uint8_t *bke_slice(struct bke *e, uint64_t *off, size_t *len)
{
	if (e->st == BKE_PREFIX) {
		uint64_t left = e->base - e->prefix_pos;

		*off = e->prefix_pos;
		*len = left < e->slice ? (size_t)left : e->slice;
		return e->buf + V3_REQ_FILE_HEAD_MAX;
	}
	*off = e->base + (uint64_t)(e->req.packet - 1) * e->slice;
	*len = e->req.packet < e->req.total ? e->req.data_len
					    : (size_t)(e->base + e->xfer - *off);
	return e->buf + V3_REQ_FILE_HEAD_MAX;
}

/* backup.max_rate: a token bucket over the 1028s, refilled at max_rate
 * bytes/s and holding at most a quarter second of them (or one packet).
 * A packet goes when the bucket is not empty and may leave it in debt;
 * the debt is waited off before the next (BKE_THROTTLE), so over any
 * stretch longer than the bucket the rate is max_rate. */
static void throttle(struct bke *e)
{
	uint64_t rate = e->cfg->max_rate, now = hal_clock_mono_ms();
	int64_t cap = (int64_t)(rate / 4 > e->out_len ? rate / 4 : e->out_len);

	e->st = BKE_SLICE_SEND;
	if (rate == 0)
		return;
	if (!e->tokens_set) {
		e->tokens_set = 1;
		e->tokens = (int64_t)e->out_len;
	} else {
		e->tokens += (int64_t)((now - e->tokens_ms) * rate / 1000u);
		if (e->tokens > cap)
			e->tokens = cap;
	}
	e->tokens_ms = now;
	if (e->tokens > 0) {
		e->tokens -= (int64_t)e->out_len;
		return;
	}
	e->wait_ms = (uint32_t)(((uint64_t)-e->tokens * 1000u + rate - 1) / rate);
	if (e->wait_ms == 0)
		e->wait_ms = 1;
	e->st = BKE_THROTTLE;
}

/* Cksums, encrypts (not clear) and heads the slice just read. */
static int slice_ready(struct bke *e)
{
	uint64_t off;
	size_t plain;
	uint8_t *s = bke_slice(e, &off, &plain);
	size_t whole = plain & ~(size_t)(BACKUP_AES_BLOCK - 1);
	enum v3_reason why = V3_OK;
	int n;

	hash_slice(e, s, off, plain);
	if (!e->clear && (backup_enc_blocks(&e->enc, s, whole) < 0 ||
			  (e->req.packet == e->req.total &&
			   backup_enc_final(&e->enc, s + whole,
					    plain - whole) < 0)))
		return fail(e, -EIO, 1, "AES failed");
	n = v3_req_pack_head(e->buf, V3_REQ_FILE_HEAD_MAX, &e->req, &why);
	if (n != V3_REQ_FILE_HEAD_MAX)
		return fail(e, -EINVAL, 1, "%s: cannot build 1028: %s",
			    e->path, v3_reason_str(why));
	e->loaded = off + plain;
	e->code = V3_REQ_FILE;
	e->out_len = V3_REQ_FILE_HEAD_MAX + e->req.data_len;
	e->out_off = 0;
	throttle(e);
	return 0;
}

/* A slice of the kept prefix is read: cksum only. */
static int prefix_done(struct bke *e)
{
	uint64_t off;
	size_t len;
	uint8_t *s = bke_slice(e, &off, &len);

	hash_slice(e, s, off, len);
	e->prefix_pos += len;
	return e->prefix_pos == e->base ? xfer_begin(e) : 0;
}

/* see backup_engine.h */
void bke_slice_done(struct bke *e, int err)
{
	if (e->st == BKE_PREFIX && !e->must_close) {
		if (err < 0)
			fail(e, err, 1, "%s: %s", e->path, err == -ENODATA ?
			     "file shrank while being read" : strerror(-err));
		if (err < 0 || prefix_done(e) < 0)
			failed(e);
		return;
	}
	if (e->st != BKE_SLICE_READ || e->must_close)
		return;
	if (err < 0)
		fail(e, err, 1, "%s: %s", e->path, err == -ENODATA ?
		     "file shrank while being read" : strerror(-err));
	if (err < 0 || slice_ready(e) < 0)
		failed(e);
}

/* see backup_engine.h */
uint32_t bke_wait_ms(const struct bke *e)
{
	return e->wait_ms;
}

/* see backup_engine.h */
void bke_waited(struct bke *e)
{
	if (e->st == BKE_BACKOFF && !e->must_close)
		to_connect(e);
	else if (e->st == BKE_THROTTLE && !e->must_close)
		throttle(e);
}

/* see backup_engine.h */
void bke_closed(struct bke *e)
{
	e->must_close = 0;
	e->session = 0;
	if (e->st == BKE_CONNECT)
		peer_text(e);
}

/* see backup_engine.h */
void bke_drop(struct bke *e)
{
	e->session = 0;
	e->must_close = 0;
	e->out_len = e->out_off = e->in_need = e->in_got = 0;
	end_file(e);
	e->st = BKE_IDLE;
}

/*
 * backupd_session.c — one connection's CyberBackup v3 state machine: bytes
 * in, requests parsed with protocol/v3.h, answers queued with
 * bd_conn_send.
 *
 * Any rule broken by the client (bad header, bad payload, out-of-order
 * packet, request out of turn) is answered 1607 and the connection is
 * closed; the reason is logged with the connection's number and peer, and
 * nothing else in the process is affected.  1028 ciphertext is never held
 * whole: each received chunk is decrypted, checksummed and written to the
 * transfer's temp file at once.
 *
 * On a TLS connection that negotiated ALPN "vigil/2" (c->clear) requests
 * may also be version 4: its 1028 slices are the plaintext, written as
 * they come (no bd_cbc_*).  The version is per request; a transfer keeps
 * packet 1's (v3_file_rx_packet).  Anywhere else version 4 is a wrong
 * version: 1607 and close, as in pure v3.
 *
 * The original C++ client is served in plain v3 without a flag, each of
 * its differences detected where it cannot be mistaken for another
 * client's (docs/protocol/cyberbackup-v3.md, "The original C++ client"):
 * its key's form picks OAEP-SHA1 (stored with the key, for 1027), and
 * its IV block is dropped from the plaintext (enum bd_iv).
 */
#include "backupd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define MOD "conn"

/* Decrypted output of one received chunk (plus one held-back block). */
static uint8_t bd_plain[BD_RX_CHUNK + 16u];

/* Logs why c is refused, answers 1607 and lets backupd.c close it once
 * the answer is out. */
static int bd_reject(struct bd_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bd_reject(struct bd_conn *c, const char *fmt, ...)
{
	struct v3_resp r;
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_warn_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_I("code", V3_RESP_ERROR),
				 LKV_S("err", why)),
		    "#%u %s: 1607 and close: %s", c->idx, c->peer_text, why);
	bd_session_drop_partial(c);
	memset(&r, 0, sizeof r);
	r.code = V3_RESP_ERROR;
	c->st = BD_RX_CLOSING;
	return bd_conn_send(c, &r) == 0 ? 0 : -EIO;
}

/* see backupd.h */
void bd_session_drop_partial(struct bd_conn *c)
{
	int had = c->rx.next != 0 || c->file.fd >= 0;

	if (bd_store_tmp_drop(&c->file) || had)
		c->partial_cleared++;
	c->seg.set = 0;
	c->in_seg = 0;
	c->seg_between = 0;
	v3_file_rx_reset(&c->rx);
	bd_cbc_free(&c->cbc);
}

/* Sends a response carrying the client id (and maybe a wrapped key). */
static int bd_answer(struct bd_conn *c, uint16_t code, const uint8_t *id,
		     const uint8_t *key)
{
	struct v3_resp r;

	memset(&r, 0, sizeof r);
	r.code = code;
	if (id != NULL)
		memcpy(r.client_id, id, V3_ID_SIZE);
	if (key != NULL) {
		r.key = key;
		r.key_len = V3_RSA_BLOB_SIZE;
	}
	if (bd_conn_send(c, &r) != 0) {
		log_warn(MOD, "#%u %s: client does not read its answers",
			 c->idx, c->peer_text);
		return -EIO;
	}
	return 0;
}

/* Makes the session's AES key for spki, wraps it with OAEP-oaep and
 * answers code (1602/1605). */
static int bd_new_session_key(struct bd_conn *c, const uint8_t *spki,
			      size_t len, enum bd_oaep oaep, uint16_t code)
{
	uint8_t blob[V3_RSA_BLOB_SIZE];

	if (bd_crypto_wrap_new_key(spki, len, oaep, c->aes_key, blob) != 0)
		return bd_reject(c, "cannot wrap a session key for the client key");
	memcpy(c->client_id, c->req.client_id, V3_ID_SIZE);
	bd_store_uuid_hex(c->client_id, c->uuid_hex);
	memcpy(c->client_name, c->req.name, sizeof c->client_name);
	c->have_client = 1;
	c->have_key = 1;
	if (c->session_row == 0)
		c->session_row = bd_store_session_start(c->client_id,
							c->peer_text);
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("client", c->req.name),
				 LKV_S("id", c->uuid_hex), LKV_U("code", code)),
		    "#%u %s: client %s (%s) session key sent (%u%s)", c->idx,
		 c->peer_text, c->req.name, c->uuid_hex, code,
		 oaep == BD_OAEP_SHA1 ? ", OAEP-SHA1" : "");
	return bd_answer(c, code, c->client_id, blob);
}

static int bd_on_register(struct bd_conn *c)
{
	uint8_t id[V3_ID_SIZE];
	int ret = bd_store_register(c->req.name, id);

	if (ret == -EEXIST) {
		log_info(MOD, "#%u %s: register %s: name taken (1601)", c->idx,
			 c->peer_text, c->req.name);
		return bd_answer(c, V3_RESP_REGISTER_FAIL, NULL, NULL);
	}
	if (ret < 0)
		return bd_reject(c, "register: database error");
	if (ret == 1) {
		/* a client that lost its 1600 has no id to send 1027 or 1026
		 * with: 1601 would lock it out.  No key yet, so nothing to
		 * protect; this connection gets no right to replace the key
		 * (its 1026 is taken only while the client has none) */
		log_info(MOD, "#%u %s: register %s again: no key was ever sent, same id",
			 c->idx, c->peer_text, c->req.name);
		return bd_answer(c, V3_RESP_REGISTER_OK, id, NULL);
	}
	c->registered = 1;
	memcpy(c->reg_id, id, V3_ID_SIZE);
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("client", c->req.name)),
		    "#%u %s: registered %s", c->idx, c->peer_text,
		 c->req.name);
	return bd_answer(c, V3_RESP_REGISTER_OK, id, NULL);
}

/* A 1026 on a connection that did not register the client.  v3 has no
 * client authentication, so a key is never replaced from elsewhere; it is
 * set once for a client whose 1026 never arrived, and the very key the
 * client has is taken again (its 1602 was lost with the connection:
 * refusing it would lock the client out for good).
 * @retval 1 go on  @retval else refused (bd_reject's result) */
static int bd_pubkey_from_elsewhere(struct bd_conn *c)
{
	uint8_t spki[V3_PUBKEY_SIZE_E65537];
	size_t len = 0;
	enum bd_oaep oaep;
	int ret = bd_store_get_key(c->req.client_id, c->req.name, spki,
				   sizeof spki, &len, &oaep);

	if (ret == -ENOENT)     /* no key yet (or no client: set_key says) */
		return 1;
	if (ret != 0)
		return bd_reject(c, "1026 for %s: database error", c->req.name);
	if (len == c->req.key_len && memcmp(spki, c->req.key, len) == 0)
		return 1;
	return bd_reject(c, "1026 for %s: client has a key, not registered on this connection",
			 c->req.name);
}

static int bd_on_pubkey(struct bd_conn *c)
{
	/* the C++ client's form: 2 bytes of slack after a 160-byte key;
	 * vigild and the 3.0 clients send exactly 160 or 162 */
	enum bd_oaep oaep = c->req.key_slack != 0 ? BD_OAEP_SHA1
						  : BD_OAEP_SHA256;
	int ret;

	if (bd_crypto_check_spki(c->req.key, c->req.key_len) != 0)
		return bd_reject(c, "1026: not an RSA-1024 public key");
	if (!c->registered ||
	    memcmp(c->reg_id, c->req.client_id, V3_ID_SIZE) != 0) {
		ret = bd_pubkey_from_elsewhere(c);
		if (ret != 1)
			return ret;
	}
	ret = bd_store_set_key(c->req.client_id, c->req.name, c->req.key,
			       c->req.key_len, oaep);
	if (ret == -ENOENT)
		return bd_reject(c, "1026: unknown client %s", c->req.name);
	if (ret != 0)
		return bd_reject(c, "1026: database error");
	return bd_new_session_key(c, c->req.key, c->req.key_len, oaep,
				  V3_RESP_AES_KEY);
}

static int bd_on_reconnect(struct bd_conn *c)
{
	uint8_t spki[V3_PUBKEY_SIZE_E65537];
	size_t len = 0;
	enum bd_oaep oaep = BD_OAEP_SHA256;
	int ret = bd_store_get_key(c->req.client_id, c->req.name, spki,
				   sizeof spki, &len, &oaep);

	if (ret == -ENOENT) {
		log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("client", c->req.name),
					 LKV_U("code", V3_RESP_RECONNECT_DENIED)),
			    "#%u %s: reconnect %s denied: unknown id/name or no key (1606)",
			 c->idx, c->peer_text, c->req.name);
		return bd_answer(c, V3_RESP_RECONNECT_DENIED, c->req.client_id,
				 NULL);
	}
	if (ret != 0)
		return bd_reject(c, "1027: database error");
	return bd_new_session_key(c, spki, len, oaep, V3_RESP_RECONNECT_OK);
}

/* 1028-1031 need a session key of this connection and its client id. */
static int bd_check_session(struct bd_conn *c)
{
	if (!c->have_key)
		return bd_reject(c, "%u before 1026/1027 gave a session key",
				 c->req.code);
	if (memcmp(c->req.client_id, c->client_id, V3_ID_SIZE) != 0)
		return bd_reject(c, "%u with another client's id", c->req.code);
	return 1;
}

static int bd_on_verdict(struct bd_conn *c)
{
	unsigned version = 0;
	int ret = bd_check_session(c);

	if (ret != 1)
		return ret;
	/* a 1044 lasts through the resends of its file (1030), no longer */
	if (c->req.code != V3_REQ_CRC_RETRY)
		c->attr.set = 0;
	if (!c->file.complete || strcmp(c->file.name, c->req.name) != 0)
		return bd_reject(c, "%u for %s, which is not the file just received",
				 c->req.code, c->req.name);
	if (c->req.code == V3_REQ_CRC_RETRY) {
		/* the client resends: no answer, the next 1028 is packet 1 */
		bd_store_tmp_drop(&c->file);
		log_info(MOD, "#%u %s: %s: CRC mismatch, client resends",
			 c->idx, c->peer_text, c->req.name);
		return 0;
	}
	if (c->req.code == V3_REQ_CRC_ABORT) {
		bd_store_tmp_drop(&c->file);
		log_warn(MOD, "#%u %s: %s: client gave up after CRC mismatches",
			 c->idx, c->peer_text, c->req.name);
		return bd_answer(c, V3_RESP_ACK, c->client_id, NULL);
	}
	ret = bd_store_commit(c->client_id, c->uuid_hex, &c->file,
			      c->session_row, &version);
	if (ret != 0)
		return bd_reject(c, "%s: cannot store: %s", c->req.name,
				 ret == -ENOSPC ? "disk full" : "I/O error");
	c->files_ok++;
	metric_add(M_SRV_FILE_MS, c->last_rx_ms - c->file_started_ms);
	metric_add(M_SRV_FILE_KIBPS, metric_kibps(c->file.size,
		   c->last_rx_ms - c->file_started_ms));
	/* the mode before the name: a long name is cut at the line's end */
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("id", c->uuid_hex),
				 LKV_S("file", c->req.name), LKV_U("version", version),
				 LKV_U("bytes", c->file.size)),
		    "#%u %s: stored %s%s/%s v%u (%llu bytes)", c->idx,
		 c->peer_text, c->file.clear ? "(clear payload) " : "",
		 c->uuid_hex, c->req.name, version,
		 (unsigned long long)c->file.size);
	return bd_answer(c, V3_RESP_ACK, c->client_id, NULL);
}

/* A whole small request is in c->pay. */
static int bd_on_request(struct bd_conn *c)
{
	enum v3_reason why = V3_OK;

	if (v3_req_payload_parse(&c->req, c->pay, c->pay_len, &why) != 0)
		return bd_reject(c, "%u payload: %s", c->req.code,
				 v3_reason_str(why));
	if (c->file.fd >= 0 && !c->file.complete)
		return bd_reject(c, "%u in the middle of a transfer", c->req.code);
	switch (c->req.code) {
	case V3_REQ_REGISTER:
		return bd_on_register(c);
	case V3_REQ_PUBKEY:
		return bd_on_pubkey(c);
	case V3_REQ_RECONNECT:
		return bd_on_reconnect(c);
	default:
		return bd_on_verdict(c);
	}
}

static int bd_file_done(struct bd_conn *c);

/* The request being received is a version-4 (plaintext) one. */
static int bd_req_clear(const struct bd_conn *c)
{
	return c->req.version == V3_VERSION_CLEAR;
}

/* Packet 1 of a CBC transfer: how its IV block is found.  The length
 * decides when packet 1 shows the whole size (v3_cbc_iv_block); with
 * per-packet content sizes it shows up at the last packet only, so the
 * first block decides and bd_iv_confirm checks it against the length. */
static void bd_iv_start(struct bd_conn *c)
{
	c->iv_drop = 0;
	c->iv_dropped = 0;
	c->ct_head_len = 0;
	if (bd_req_clear(c))
		c->iv_mode = BD_IV_NONE;
	else if (v3_file_per_packet(&c->req))
		c->iv_mode = BD_IV_BY_BLOCK;
	else if (v3_cbc_iv_block(c->req.orig_size, c->req.content_size) == 1)
		c->iv_mode = BD_IV_DROP;
	else
		c->iv_mode = BD_IV_NONE;
	if (c->iv_mode == BD_IV_DROP) {
		c->iv_drop = V3_IV_BLOCK;
		c->iv_dropped = 1;
	}
}

/* BD_IV_BY_BLOCK: collects the first ciphertext block; once whole, it is
 * the IV block iff it is all zeros (before bd_cbc_feed emits its
 * plaintext, which lags one block). */
static void bd_iv_watch(struct bd_conn *c, const uint8_t *ct, size_t n)
{
	size_t take = V3_IV_BLOCK - c->ct_head_len;
	uint8_t any = 0;

	if (c->iv_mode != BD_IV_BY_BLOCK || take == 0)
		return;
	if (take > n)
		take = n;
	memcpy(c->ct_head + c->ct_head_len, ct, take);
	c->ct_head_len = (uint8_t)(c->ct_head_len + take);
	if (c->ct_head_len < V3_IV_BLOCK)
		return;
	for (size_t i = 0; i < V3_IV_BLOCK; i++)
		any |= c->ct_head[i];
	c->iv_dropped = any == 0;
	c->iv_drop = any == 0 ? V3_IV_BLOCK : 0;
}

/* The last packet: the length (c->rx, complete) has the last word on
 * the IV block; a first block that said otherwise is refused.
 * @retval 1 go on  @retval else refused (bd_reject's result) */
static int bd_iv_confirm(struct bd_conn *c)
{
	if (bd_req_clear(c) || c->rx.iv_block == c->iv_dropped)
		return 1;
	return bd_reject(c, "%s: %u ciphertext bytes for %u: %s IV block, but the first block %s zeros",
			 c->file.name, c->rx.received, c->req.orig_size,
			 c->rx.iv_block ? "an" : "no",
			 c->iv_dropped ? "is" : "is not");
}

/* A 1044 before packet 1 of the same name gives the file its mode and
 * mtime (kept for a resend after 1030; forgotten at the verdict). */
static void bd_take_attr(struct bd_conn *c)
{
	struct bd_attr *a = &c->attr;

	c->file.has_attr = a->set && strcmp(a->name, c->file.name) == 0;
	c->file.mode = a->mode;
	c->file.mtime_s = a->mtime_s;
	c->file.mtime_ns = a->mtime_ns;
}

/* Packet 1 of a 1028 that starts a file: the temp file (or the kept
 * bytes of a resume), the cksum, SHA-256 and cipher.
 * @retval 1 open  @retval else refused (bd_reject's result) */
static int bd_file_open(struct bd_conn *c)
{
	int ret;

	c->file_started_ms = c->req_started_ms;
	memcpy(c->file.name, c->req.name, sizeof c->file.name);
	cksum_init(&c->ck);
	if (!bd_req_clear(c) && bd_cbc_start(&c->cbc, c->aes_key) != 0)
		return bd_reject(c, "cipher setup failed");
	bd_iv_start(c);
	ret = bd_partial_take(c);
	if (ret < 0)
		return bd_reject(c, "%s: does not continue its kept bytes",
				 c->req.name);
	if (ret == 0) {
		c->file.base = 0;
		ret = bd_store_tmp_open(&c->file, c->idx);
		/* the content's address, hashed as it is written */
		sha256_init(&c->file.sha);
		c->file.sha_live = 1;
	} else {
		ret = 0;
	}
	if (ret != 0)
		return bd_reject(c, "%s: cannot open a temp file: %s",
				 c->req.name,
				 ret == -ENOSPC ? "disk full" : "I/O error");
	return 1;
}

/* Packet 1: is it the segment a 1047 announced?  A 1047 for another
 * name is forgotten; between two segments only the next one may come.
 * @retval 1 a segment  @retval 0 a whole transfer  @retval <0 refused
 * (bd_reject's result, or -EAGAIN when it answered and keeps going) */
static int bd_seg_match(struct bd_conn *c)
{
	struct bd_segment *s = &c->seg;
	int ret;

	if (!s->set || strcmp(s->name, c->req.name) != 0) {
		s->set = 0;
		if (!c->seg_between)
			return 0;
		ret = bd_reject(c, "1028 for %s between segments of %s without "
				"1047", c->req.name, c->file.name);
		return ret == 0 ? -EAGAIN : ret;
	}
	if (bd_req_clear(c) && c->req.orig_size == s->length)
		return 1;
	ret = bd_reject(c, "1028 for %s: %u bytes of version %u, its 1047 said "
			"%u clear ones", c->req.name, c->req.orig_size,
			c->req.version, s->length);
	return ret == 0 ? -EAGAIN : ret;
}

/* see backupd.h */
int bd_session_segment(struct bd_conn *c)
{
	const struct v3x_msg *m = &c->xreq;
	const struct bd_resume *r = &c->resume;

	if (!c->have_key)
		return bd_reject(c, "1047 before a session key");
	if (c->seg_between ? strcmp(m->name, c->file.name) != 0 ||
			     m->offset != c->file.size ||
			     m->size != c->file.total
			   : m->offset != 0 &&
			     !(r->set && strcmp(r->name, m->name) == 0 &&
			       r->offset == m->offset && r->total == m->size))
		return bd_reject(c, "1047 for %s at %llu of %llu: not where "
				 "its bytes end", m->name,
				 (unsigned long long)m->offset,
				 (unsigned long long)m->size);
	c->seg.set = 1;
	memcpy(c->seg.name, m->name, sizeof c->seg.name);
	c->seg.total = m->size;
	c->seg.offset = m->offset;
	c->seg.length = m->length;
	return 0;
}

/* A segment that is not the file's last is in: 1647 with the bytes
 * held; the file stays open for the next 1047. */
static int bd_seg_done(struct bd_conn *c)
{
	struct v3x_msg m;
	uint8_t b[V3_RESP_HDR_SIZE + V3X_SEGMENT_RESP_SIZE];
	int n;

	c->in_seg = 0;
	c->seg_between = 1;
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_SEGMENT;
	m.offset = c->file.size;
	n = v3x_resp_pack(b, sizeof b, &m, NULL);
	if (n < 0 || bd_conn_queue(c, b, (size_t)n) != 0)
		return -EIO;
	return 0;
}

/* The 1028 fixed part is in c->pay: check it continues the transfer. */
static int bd_on_file_head(struct bd_conn *c)
{
	enum v3_reason why = V3_OK;
	int ret;

	if (v3_req_file_head_parse(&c->req, c->pay, c->pay_len, &why) != 0)
		return bd_reject(c, "1028: %s", v3_reason_str(why));
	if ((ret = bd_check_session(c)) != 1)
		return ret;
	if (c->file.complete)
		return bd_reject(c, "1028 before the verdict on %s", c->file.name);
	ret = v3_file_rx_packet(&c->rx, &c->req, &why);
	if (ret < 0)
		return bd_reject(c, "1028 %s packet %u/%u: %s", c->req.name,
				 c->req.packet, c->req.total, v3_reason_str(why));
	c->last_packet = ret == 1;
	if (c->req.packet == 1) {
		int seg = bd_seg_match(c);

		if (seg < 0)
			return seg == -EAGAIN ? 0 : seg;
		if (!(seg && c->seg_between) && (ret = bd_file_open(c)) != 1)
			return ret;
		c->seg_between = 0;
		c->in_seg = (uint8_t)seg;
		if (seg) {
			c->file.total = c->seg.total;
			c->seg_end = c->seg.offset + c->seg.length;
			c->seg.set = 0;
		} else {
			c->file.total = c->file.base + c->req.orig_size;
		}
		c->file.clear = (uint8_t)bd_req_clear(c);
		bd_take_attr(c);
	}
	c->data_left = (uint32_t)c->req.data_len;
	c->st = BD_RX_FILE_DATA;
	if (c->data_left == 0) {
		/* only a clear empty file (one packet, so the last) has no
		 * slice: no bytes will come to finish it in bd_file_data */
		c->st = BD_RX_HDR;
		return c->last_packet ? bd_file_done(c) : 0;
	}
	return 0;
}

/* Writes plaintext; a full disk ends the connection with 1607. */
static int bd_write_plain(struct bd_conn *c, const uint8_t *p, size_t n)
{
	int ret;

	cksum_update(&c->ck, p, n);
	if (c->file.sha_live)
		sha256_update(&c->file.sha, p, n);
	ret = bd_store_tmp_write(&c->file, p, n);
	if (ret != 0)
		return bd_reject(c, "%s: cannot write: %s", c->file.name,
				 ret == -ENOSPC ? "disk full" : "I/O error");
	/* S3: a whole part goes as soon as it is here (backupd_blob.h) */
	if (bd_partial_spool(c) != 0)
		return bd_reject(c, "%s: cannot store: object store failed",
				 c->file.name);
	return 0;
}

/* Writes plaintext of a CBC stream, less what is left of its IV block. */
static int bd_write_cbc_plain(struct bd_conn *c, const uint8_t *p, size_t n)
{
	size_t skip = n < c->iv_drop ? n : c->iv_drop;

	c->iv_drop = (uint8_t)(c->iv_drop - skip);
	return bd_write_plain(c, p + skip, n - skip);
}

/* see backupd.h */
void bd_session_flush(struct bd_conn *c)
{
	int ret = bd_store_tmp_flush(&c->file);

	if (ret != 0 && c->st != BD_RX_CLOSING)
		(void)bd_reject(c, "%s: cannot write: %s", c->file.name,
				ret == -ENOSPC ? "disk full" : "I/O error");
}

/* The last slice of the last packet arrived: strip the padding (CBC
 * only), answer 1603 with the cksum of the plaintext (once all of it is
 * written). */
static int bd_file_done(struct bd_conn *c)
{
	struct v3_resp r;
	size_t n = 0;
	int ret = bd_iv_confirm(c);

	if (ret != 1)
		return ret;
	if (!bd_req_clear(c) && bd_cbc_finish(&c->cbc, bd_plain, &n) != 0)
		return bd_reject(c, "%s: bad padding (wrong key or corrupt data)",
				 c->file.name);
	if (bd_write_cbc_plain(c, bd_plain, n) != 0 || c->st == BD_RX_CLOSING)
		return 0;
	bd_session_flush(c);
	if (c->st == BD_RX_CLOSING)
		return 0;
	if (c->in_seg && c->file.size == c->seg_end &&
	    c->file.size < c->file.total)
		return bd_seg_done(c);
	if (c->file.size != c->file.total)
		return bd_reject(c, "%s: %llu bytes decrypted, header said %u",
				 c->file.name, (unsigned long long)c->file.size,
				 c->req.orig_size);
	bd_cbc_free(&c->cbc);
	c->file.crc = cksum_final(&c->ck);
	c->file.complete = 1;
	memset(&r, 0, sizeof r);
	r.code = V3_RESP_FILE_CRC;
	memcpy(r.client_id, c->client_id, V3_ID_SIZE);
	/* the whole stream: the C++ client's last packet carries only its
	 * own length */
	r.content_size = c->rx.received;
	memcpy(r.name, c->file.name, sizeof r.name);
	r.cksum = c->file.crc;
	return bd_conn_send(c, &r) == 0 ? 0 : -EIO;
}

/* Streams slice bytes of the current 1028 (ciphertext, or plaintext in
 * version 4); returns bytes used. */
static size_t bd_file_data(struct bd_conn *c, const uint8_t *buf, size_t n,
			   int *err)
{
	size_t take = n < c->data_left ? n : c->data_left, out = 0;

	if (bd_req_clear(c)) {
		*err = bd_write_plain(c, buf, take);
	} else {
		bd_iv_watch(c, buf, take);
		bd_cbc_feed(&c->cbc, buf, take, bd_plain, &out);
		*err = bd_write_cbc_plain(c, bd_plain, out);
	}
	if (*err != 0 || c->st == BD_RX_CLOSING)
		return take;
	c->data_left -= (uint32_t)take;
	if (c->data_left == 0) {
		c->st = BD_RX_HDR;
		if (c->last_packet)
			*err = bd_file_done(c);
	}
	return take;
}

/* Accumulates up to want bytes into dst (fill *have); returns bytes used. */
static size_t bd_fill(uint8_t *dst, size_t *have, size_t want,
		      const uint8_t *buf, size_t n)
{
	size_t take = want - *have;

	if (take > n)
		take = n;
	memcpy(dst + *have, buf, take);
	*have += take;
	return take;
}

/* A vigil/2 extension header is in c->hdr (backupd_restore.c answers). */
static int bd_on_ext_header(struct bd_conn *c)
{
	enum v3_reason why = V3_OK;

	if (v3x_req_hdr_parse(&c->xreq, c->hdr, sizeof c->hdr, &why) != 0)
		return bd_reject(c, "header: %s (version 4, code %u, size %u)",
				 v3_reason_str(why), c->xreq.code,
				 c->xreq.payload_size);
	if (c->file.fd >= 0 &&
	    !(c->seg_between && c->xreq.code == V3X_REQ_SEGMENT))
		return bd_reject(c, "%u in the middle of a transfer",
				 c->xreq.code);
	c->st = BD_RX_XPAYLOAD;
	return 0;
}

/* A complete extension payload is in c->pay. */
static int bd_on_ext_request(struct bd_conn *c)
{
	enum v3_reason why = V3_OK;

	if (v3x_req_payload_parse(&c->xreq, c->pay, c->pay_len, &why) != 0)
		return bd_reject(c, "%u payload: %s", c->xreq.code,
				 v3_reason_str(why));
	return bd_restore_request(c);
}

/* A complete header is in c->hdr. */
static int bd_on_header(struct bd_conn *c)
{
	enum v3_reason why = V3_OK;

	c->hdr_len = 0;
	c->pay_len = 0;
	if (c->tx_left > 0)
		return bd_reject(c, "request before the last 1643 was sent");
	if (c->clear && v3x_req_is_ext(c->hdr))
		return bd_on_ext_header(c);
	if (v3_req_hdr_parse_ext(&c->req, c->hdr, sizeof c->hdr,
				 bd_opt->max_payload,
				 c->clear ? V3_PARSE_CLEAR : 0, &why) != 0)
		return bd_reject(c, "header: %s (version %u, code %u, size %u)",
				 v3_reason_str(why), c->req.version,
				 c->req.code, c->req.payload_size);
	if (c->req.code == V3_REQ_FILE) {
		c->st = BD_RX_FILE_HEAD;
	} else if (c->req.payload_size > sizeof c->pay) {
		/* the layout check makes this impossible; kept as a guard */
		return bd_reject(c, "payload larger than any request");
	} else {
		c->st = BD_RX_PAYLOAD;
	}
	return 0;
}

/* see backupd.h */
int bd_session_feed(struct bd_conn *c, const uint8_t *buf, size_t n)
{
	int err = 0;

	while (n > 0 && err == 0 && c->st != BD_RX_CLOSING) {
		size_t used = 0;

		switch (c->st) {
		case BD_RX_HDR:
			if (c->hdr_len == 0)
				c->req_started_ms = c->last_rx_ms;
			used = bd_fill(c->hdr, &c->hdr_len, sizeof c->hdr, buf, n);
			if (c->hdr_len == sizeof c->hdr)
				err = bd_on_header(c);
			break;
		case BD_RX_PAYLOAD:
			used = bd_fill(c->pay, &c->pay_len, c->req.payload_size,
				       buf, n);
			if (c->pay_len == c->req.payload_size) {
				c->st = BD_RX_HDR;
				err = bd_on_request(c);
			}
			break;
		case BD_RX_FILE_HEAD:
			used = bd_fill(c->pay, &c->pay_len, V3_FILE_HEAD_SIZE,
				       buf, n);
			if (c->pay_len == V3_FILE_HEAD_SIZE)
				err = bd_on_file_head(c);
			break;
		case BD_RX_FILE_DATA:
			used = bd_file_data(c, buf, n, &err);
			break;
		case BD_RX_XPAYLOAD:
			used = bd_fill(c->pay, &c->pay_len, c->xreq.payload_size,
				       buf, n);
			if (c->pay_len == c->xreq.payload_size) {
				c->st = BD_RX_HDR;
				err = bd_on_ext_request(c);
			}
			break;
		case BD_RX_CLOSING:
			break;
		}
		buf += used;
		n -= used;
	}
	return err;
}

/*
 * restore_engine.c — the restore engine (restore_engine.h): named states,
 * one switch on each input.  No I/O, no allocation.
 */
#include "restore_engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const rse_err_text[V3X_ERR_MAX + 1] = {
	"?", "access denied (the TLS identity may not read this device)",
	"no such device", "no such snapshot", "no such file",
	"server error", "request out of order",
};

/* Ends the run: close the transport, result err. */
static void rse_fail(struct rse *e, int err, const char *fmt, const char *arg)
{
	snprintf(e->err, sizeof e->err, fmt, arg);
	e->result = err;
	e->out_len = e->out_off = 0;
	e->st = RSE_CLOSE;
}

/* Fails the current file only: the driver drops it, the run goes on. */
static void rse_file_fail(struct rse *e, const char *why)
{
	snprintf(e->file_err, sizeof e->file_err, "%s", why);
	e->verified = 0;
	e->st = RSE_FINISH;
}

/* Packs request m into out and expects a new answer. */
static void rse_send(struct rse *e, const struct v3x_msg *m,
		     enum rse_state next)
{
	int n = v3x_req_pack(e->out, sizeof e->out, m, NULL);

	if (n < 0) {
		rse_fail(e, -EINVAL, "cannot pack request %s", "");
		return;
	}
	e->out_len = (size_t)n;
	e->out_off = 0;
	e->in_len = 0;
	e->in_need = V3_RESP_HDR_SIZE;
	e->have_hdr = 0;
	e->st = next;
}

static void rse_send_list(struct rse *e, uint64_t after)
{
	struct v3x_msg m;

	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_LIST;
	m.snapshot = e->snapshot;
	m.after = after;
	memcpy(m.name, e->device, sizeof m.name);
	e->n = e->cur = 0;
	rse_send(e, &m, RSE_LIST);
}

static void rse_send_read(struct rse *e)
{
	const struct v3x_msg *f = rse_entry(e);
	struct v3x_msg m;

	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_READ;
	m.file_id = f->file_id;
	m.version = f->version;
	m.offset = e->off;
	m.length = e->chunk;
	memcpy(m.name, e->device, sizeof m.name);
	rse_send(e, &m, RSE_READ);
}

/* see restore_engine.h */
void rse_start(struct rse *e, const char *device, uint64_t snapshot)
{
	memset(e, 0, sizeof *e);
	snprintf(e->device, sizeof e->device, "%s", device);
	e->snapshot = snapshot;
	e->st = RSE_CONNECT;
}

/* see restore_engine.h */
enum rse_want rse_want(const struct rse *e)
{
	if (e->out_off < e->out_len)
		return RSE_WANT_SEND;
	switch (e->st) {
	case RSE_CONNECT: return RSE_WANT_CONNECT;
	case RSE_HELLO:
	case RSE_LIST:
	case RSE_READ:
	case RSE_DATA: return RSE_WANT_RECV;
	case RSE_OPEN: return RSE_WANT_OPEN;
	case RSE_WRITE: return RSE_WANT_WRITE;
	case RSE_FINISH: return RSE_WANT_FINISH;
	case RSE_CLOSE: return RSE_WANT_CLOSE;
	default: return RSE_WANT_NOTHING;
	}
}

/* see restore_engine.h */
void rse_connected(struct rse *e, int clear)
{
	struct v3x_msg m;

	if (!clear) {
		rse_fail(e, -EPROTONOSUPPORT, "%s", "the server does not speak "
			 "vigil/2 (restore needs tls:// to vigil-backupd)");
		return;
	}
	memset(&m, 0, sizeof m);
	m.code = V3X_REQ_HELLO;
	m.caps = V3X_CAP_RESTORE;
	rse_send(e, &m, RSE_HELLO);
}

/* see restore_engine.h */
void rse_io_failed(struct rse *e, int err, const char *why)
{
	rse_fail(e, err < 0 ? err : -EIO, "connection failed: %s", why);
}

/* see restore_engine.h */
const uint8_t *rse_out(const struct rse *e, size_t *len)
{
	*len = e->out_len - e->out_off;
	return e->out + e->out_off;
}

/* see restore_engine.h */
void rse_out_ack(struct rse *e, size_t n)
{
	e->out_off += n;
	if (e->out_off >= e->out_len)
		e->out_len = e->out_off = 0;
}

/* see restore_engine.h */
uint8_t *rse_in(struct rse *e, size_t *room)
{
	if (e->st == RSE_DATA) {
		*room = e->data_len - e->data_have;
		return e->data + e->data_have;
	}
	*room = e->in_need - e->in_len;
	return e->in + e->in_len;
}

/* see restore_engine.h */
const struct v3x_msg *rse_entry(const struct rse *e)
{
	return &e->batch[e->cur];
}

/* The next entry whose name maps back to a path, or the next batch. */
static void rse_next(struct rse *e)
{
	while (e->cur < e->n) {
		const struct v3x_msg *f = rse_entry(e);
		enum v3_reason why = V3_OK;

		if (v3_path_from_name(e->path, sizeof e->path, f->name,
				      strlen(f->name), &why) >= 0) {
			e->st = RSE_OPEN;
			return;
		}
		/* stored under a name no vigild makes: not restorable as a
		 * path, never written */
		e->files_failed++;
		e->cur++;
	}
	if (e->more && e->n > 0) {
		rse_send_list(e, e->batch[e->n - 1].file_id);
		return;
	}
	e->result = 0;
	e->st = RSE_CLOSE;
}

static void rse_on_hello(struct rse *e, const struct v3x_msg *m)
{
	if (m->code != V3X_RESP_HELLO || !(m->caps & V3X_CAP_RESTORE)) {
		rse_fail(e, -EPROTONOSUPPORT, "%s", "the server cannot restore");
		return;
	}
	e->chunk = m->chunk_max < RSE_CHUNK ? m->chunk_max : RSE_CHUNK;
	rse_send_list(e, 0);
}

static void rse_on_list(struct rse *e, const struct v3x_msg *m)
{
	if (m->code == V3X_RESP_ENTRY) {
		if (e->n == RSE_BATCH) {
			rse_fail(e, -EBADMSG, "%s", "listing batch too long");
			return;
		}
		e->batch[e->n++] = *m;
		e->in_len = 0;
		e->in_need = V3_RESP_HDR_SIZE;
		e->have_hdr = 0;
		return;
	}
	if (m->code != V3X_RESP_LIST_END || m->count != e->n) {
		rse_fail(e, -EBADMSG, "%s", "listing answer out of order");
		return;
	}
	e->snapshot = m->snapshot;
	e->more = m->more;
	e->cur = 0;
	rse_next(e);
}

static void rse_verify(struct rse *e)
{
	const struct v3x_msg *f = rse_entry(e);

	e->verified = cksum_final(&e->ck) == f->cksum;
	if (!e->verified)
		snprintf(e->file_err, sizeof e->file_err,
			 "cksum differs from the stored one");
	e->st = RSE_FINISH;
}

static void rse_on_data_head(struct rse *e, const struct v3x_msg *m)
{
	const struct v3x_msg *f = rse_entry(e);

	if (m->code != V3X_RESP_DATA || m->file_id != f->file_id ||
	    m->version != f->version || m->offset != e->off ||
	    m->data_len > e->chunk || m->data_len > f->size - e->off) {
		rse_fail(e, -EBADMSG, "%s", "read answer does not fit the request");
		return;
	}
	if (m->data_len == 0) {
		if (e->off == f->size)
			rse_verify(e);
		else
			rse_file_fail(e, "server sent less than the listed size");
		return;
	}
	e->data_len = m->data_len;
	e->data_have = 0;
	e->st = RSE_DATA;
}

/* A whole message (or a 1643's head) is in e->in. */
static void rse_on_message(struct rse *e)
{
	struct v3x_msg m = e->msg;
	enum v3_reason why = V3_OK;

	if (v3x_resp_payload_parse(&m, e->in + V3_RESP_HDR_SIZE,
				   e->in_len - V3_RESP_HDR_SIZE, &why) != 0) {
		rse_fail(e, -EBADMSG, "bad answer: %s", v3_reason_str(why));
		return;
	}
	if (m.code == V3X_RESP_REFUSED) {
		if (e->st == RSE_READ && m.error == V3X_ERR_NO_FILE)
			rse_file_fail(e, rse_err_text[m.error]);
		else
			rse_fail(e, -EACCES, "server refused: %s",
				 rse_err_text[m.error]);
		return;
	}
	switch (e->st) {
	case RSE_HELLO: rse_on_hello(e, &m); break;
	case RSE_LIST: rse_on_list(e, &m); break;
	case RSE_READ: rse_on_data_head(e, &m); break;
	default: rse_fail(e, -EBADMSG, "%s", "unexpected answer"); break;
	}
}

/* The 7-byte header is in: parse it and say how much payload to read. */
static void rse_on_header(struct rse *e)
{
	enum v3_reason why = V3_OK;

	if (!v3x_resp_is_ext(e->in)) {
		/* a v3 answer: 1607 from a server without the extension */
		rse_fail(e, -EPROTONOSUPPORT, "%s", "the server refused the "
			 "request (no restore extension?)");
		return;
	}
	if (v3x_resp_hdr_parse(&e->msg, e->in, V3_RESP_HDR_SIZE, &why) != 0) {
		rse_fail(e, -EBADMSG, "bad answer: %s", v3_reason_str(why));
		return;
	}
	e->have_hdr = 1;
	e->in_need = V3_RESP_HDR_SIZE + (e->msg.code == V3X_RESP_DATA
					 ? V3X_DATA_HEAD : e->msg.payload_size);
}

/* see restore_engine.h */
void rse_in_ack(struct rse *e, size_t n)
{
	if (e->st == RSE_DATA) {
		cksum_update(&e->ck, e->data + e->data_have, n);
		e->data_have += n;
		if (e->data_have == e->data_len)
			e->st = RSE_WRITE;
		return;
	}
	e->in_len += n;
	if (e->in_len < e->in_need)
		return;
	if (!e->have_hdr) {
		rse_on_header(e);
		if (e->st == RSE_CLOSE || e->in_len < e->in_need)
			return;
	}
	rse_on_message(e);
}

/* see restore_engine.h */
void rse_open_result(struct rse *e, int r)
{
	if (r <= 0) {
		if (r == 0)
			e->files_skipped++;
		else
			e->files_failed++;
		e->cur++;
		rse_next(e);
		return;
	}
	e->off = 0;
	e->file_err[0] = '\0';
	cksum_init(&e->ck);
	rse_send_read(e);
}

/* see restore_engine.h */
const uint8_t *rse_data(const struct rse *e, uint64_t *off, size_t *len)
{
	*off = e->off;
	*len = e->data_len;
	return e->data;
}

/* see restore_engine.h */
void rse_written(struct rse *e, int err)
{
	if (err < 0) {
		rse_file_fail(e, "cannot write the file");
		return;
	}
	e->off += e->data_len;
	e->bytes += e->data_len;
	if (e->off == rse_entry(e)->size)
		rse_verify(e);
	else
		rse_send_read(e);
}

/* see restore_engine.h */
void rse_finished(struct rse *e, int err)
{
	if (err == 0 && e->verified)
		e->files_ok++;
	else
		e->files_failed++;
	e->cur++;
	rse_next(e);
}

/* see restore_engine.h */
void rse_closed(struct rse *e)
{
	e->st = RSE_DONE;
}

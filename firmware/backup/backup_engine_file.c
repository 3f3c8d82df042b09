/*
 * backup_engine_file.c — the file-transfer half of the v3 client engine
 * (backup_engine.h, backup_engine_int.h): a file's stream of 1028s, one
 * slice read, cksummed, encrypted (not on vigil/2) and headed at a time,
 * then the 1603 and the 1029 / 1030 / 1031 it calls for.  No I/O, as the
 * rest of the engine.
 *
 * Invariant: in SLICE_READ and SLICE_SEND e->req plans packet
 * e->req.packet of e->req.total, and e->loaded plaintext bytes of this
 * stream went into e->ck.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_engine.h"
#include "backup_engine_int.h"
#include "log.h"

/* see backup_engine_int.h */
int bke_plan_packet(struct bke *e, uint16_t k)
{
	int ret = v3_file_packet(&e->req, e->size, e->slice, k);

	if (ret < 0)
		return bke_fail(e, ret, 1, "%s: no packet plan", e->path);
	e->st = BKE_SLICE_READ;
	return 0;
}

/* see backup_engine_int.h */
int bke_stream_begin(struct bke *e)
{
	memset(&e->req, 0, sizeof e->req);
	memcpy(e->req.client_id, e->id.uuid, V3_ID_SIZE);
	e->req.version = e->clear ? V3_VERSION_CLEAR : V3_VERSION;
	e->req.code = V3_REQ_FILE;
	memcpy(e->req.name, e->name, sizeof e->name);
	cksum_init(&e->ck);
	e->loaded = 0;
	if (e->enc_live)
		backup_enc_free(&e->enc);
	e->enc_live = 0;
	if (!e->clear) {
		if (backup_enc_start(&e->enc, e->aes) < 0)
			return bke_fail(e, -EIO, 1, "AES key setup failed");
		e->enc_live = 1;
	}
	return bke_plan_packet(e, 1);
}

/* see backup_engine_int.h */
int bke_on_crc(struct bke *e, const struct v3_resp *r)
{
	uint32_t content = 0;

	if (r->code != V3_RESP_FILE_CRC)
		return bke_fail(e, -EIO, 0, "%s: answered %u to %s", e->peer,
			    r->code, e->path);
	(void)v3_content_size(e->clear, e->size, &content); /* checked in
							     * bke_file */
	if (r->content_size != content || strcmp(r->name, e->name) != 0)
		return bke_fail(e, -EBADMSG, 0, "%s: 1603 for another file",
			    e->peer);
	if (r->cksum == e->crc)
		return bke_send_req(e, BKE_COMMIT, V3_REQ_CRC_OK, e->name, NULL, 0);
	log_warn("backup", "%s: cksum mismatch %u (ours %u, server %u)",
		 e->path, e->sends, e->crc, r->cksum);
	if (e->sends < 3)
		return bke_send_req(e, BKE_CRC_RETRY, V3_REQ_CRC_RETRY, e->name,
				NULL, 0);
	/* the text stays: the 1604 decides only whether we say "no 1604" */
	bke_fail(e, -EBADMSG, 1, "%.100s: cksum mismatch 3 times (ours %u, "
	     "server %u); aborted with 1031", e->path, e->crc, r->cksum);
	return bke_send_req(e, BKE_ABORT, V3_REQ_CRC_ABORT, e->name, NULL, 0);
}

/* see backup_engine_int.h */
int bke_on_ack(struct bke *e, const struct v3_resp *r)
{
	if (e->st == BKE_ABORT) {
		size_t n = strlen(e->err);

		e->result = -EBADMSG;
		if (r->code != V3_RESP_ACK) {
			snprintf(e->err + n, sizeof e->err - n, " (no 1604)");
			e->must_close = 1;
			e->session = 0;
		}
		bke_finish(e, BKE_EV_SKIPPED);
		return 0;
	}
	if (r->code != V3_RESP_ACK)
		return bke_fail(e, -EIO, 0, "%s: answered %u to %u", e->peer,
			    r->code, V3_REQ_CRC_OK);
	e->failures = 0;
	bke_finish(e, BKE_EV_DONE);
	return 0;
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
		return bke_fail(e, n, 1, "%.150s: no v3 name for this path: %s",
			    path, v3_reason_str(why));
	if (v3_cbc_size(size, &content) < 0)
		return bke_fail(e, -EMSGSIZE, 1, "%.150s: %llu bytes is over the "
			    "v3 limit of %u", path, (unsigned long long)size,
			    V3_FILE_MAX);
	e->path = path;
	e->size = size;
	e->slice = (uint64_t)content > (uint64_t)V3_PACKETS_MAX * BACKUP_SLICE
			   ? BACKUP_SLICE_BIG : BACKUP_SLICE;
	e->in_file = 1;
	return bke_request_begin(e);
}

/* see backup_engine.h */
uint8_t *bke_slice(struct bke *e, uint64_t *off, size_t *len)
{
	*off = (uint64_t)(e->req.packet - 1) * e->slice;
	*len = e->req.packet < e->req.total ? e->req.data_len
					    : (size_t)(e->size - *off);
	return e->buf + V3_REQ_FILE_HEAD_MAX;
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

	cksum_update(&e->ck, s, plain);
	if (!e->clear && (backup_enc_blocks(&e->enc, s, whole) < 0 ||
			  (e->req.packet == e->req.total &&
			   backup_enc_final(&e->enc, s + whole,
					    plain - whole) < 0)))
		return bke_fail(e, -EIO, 1, "AES failed");
	n = v3_req_pack_head(e->buf, V3_REQ_FILE_HEAD_MAX, &e->req, &why);
	if (n != V3_REQ_FILE_HEAD_MAX)
		return bke_fail(e, -EINVAL, 1, "%s: cannot build 1028: %s",
			    e->path, v3_reason_str(why));
	e->loaded = off + plain;
	e->st = BKE_SLICE_SEND;
	e->code = V3_REQ_FILE;
	e->out_len = V3_REQ_FILE_HEAD_MAX + e->req.data_len;
	e->out_off = 0;
	return 0;
}

/* see backup_engine.h */
void bke_slice_done(struct bke *e, int err)
{
	if (e->st != BKE_SLICE_READ || e->must_close)
		return;
	if (err < 0)
		bke_fail(e, err, 1, "%s: %s", e->path, err == -ENODATA ?
		     "file shrank while being read" : strerror(-err));
	if (err < 0 || slice_ready(e) < 0)
		bke_failed(e);
}

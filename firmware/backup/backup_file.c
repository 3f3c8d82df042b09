/*
 * backup_file.c — one file through the v3 client (backup_client.h):
 * the plaintext is read slice by slice into c->buf after the 1028 head,
 * fed to cksum, encrypted in place (AES-256-CBC, zero IV, PKCS#7 on the
 * last slice) and sent, so memory is BACKUP_IOBUF_SIZE whatever the file
 * size.  Slices are multiples of 16 bytes, so packet k carries exactly
 * the encryption of plaintext [(k - 1) * slice, k * slice) and only the
 * last packet has padding (v3_file_packet's plan).  On a connection that
 * negotiated vigil/2 (c->clear) the slices go out as read, in version-4
 * 1028s: content size = file size, no padding, no AES.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_client_int.h"
#include "backup_retry.h"
#include "cksum.h"
#include "hal/rng.h"

struct bk_file {
	const char *path;
	char name[V3_NAME_MAX + 1];
	int fd;
	uint64_t size;
	size_t slice;
	uint32_t crc;          /* cksum of the plaintext sent */
};

/* Reads exactly n bytes; a file that shrank is an error. */
static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ENODATA : -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Fills c->buf with packet k's slice (plaintext read, and encrypted
 * unless enc is NULL: the clear payload). */
static int fill_slice(struct backup_client *c, struct bk_file *f,
		      struct backup_enc *enc, struct cksum_ctx *ck,
		      const struct v3_req *r)
{
	uint8_t *s = c->buf + V3_REQ_FILE_HEAD_MAX;
	uint64_t off = (uint64_t)(r->packet - 1) * f->slice;
	size_t plain = r->packet < r->total ? r->data_len
					    : (size_t)(f->size - off);
	size_t whole = plain & ~(size_t)(BACKUP_AES_BLOCK - 1);
	int ret = read_full(f->fd, s, plain);

	if (ret < 0)
		return bk_fail(c, ret, 1, "%s: %s", f->path, ret == -ENODATA ?
			       "file shrank while being read" :
			       strerror(-ret));
	cksum_update(ck, s, plain);
	if (enc == NULL)
		return 0;
	ret = backup_enc_blocks(enc, s, whole);
	if (ret == 0 && r->packet == r->total)
		ret = backup_enc_final(enc, s + whole, plain - whole) < 0
			? -EIO : 0;
	return ret < 0 ? bk_fail(c, -EIO, 1, "AES failed") : 0;
}

static int send_packet(struct backup_client *c, struct bk_file *f,
		       struct v3_req *r)
{
	enum v3_reason why = V3_OK;
	int n = v3_req_pack_head(c->buf, V3_REQ_FILE_HEAD_MAX, r, &why);

	if (n != V3_REQ_FILE_HEAD_MAX)
		return bk_fail(c, -EINVAL, 1, "%s: cannot build 1028: %s",
			       f->path, v3_reason_str(why));
	n = bk_io_send(c, c->buf, V3_REQ_FILE_HEAD_MAX + r->data_len);
	if (n < 0)
		return bk_fail(c, n, 0, "%s: sending %s: %s", c->stats.peer,
			       f->path, n == -ETIMEDOUT ? "timed out" :
			       "connection lost");
	return 0;
}

/* Sends the whole ciphertext (clear: plaintext) stream once; f->crc
 * gets the cksum. */
static int send_stream(struct backup_client *c, struct bk_file *f)
{
	struct backup_enc enc;
	struct backup_enc *e = c->clear ? NULL : &enc;
	struct cksum_ctx ck;
	struct v3_req r;
	int ret = 0;

	if (lseek(f->fd, 0, SEEK_SET) != 0)
		return bk_fail(c, -EIO, 1, "%s: cannot rewind", f->path);
	memset(&r, 0, sizeof r);
	memcpy(r.client_id, c->id.uuid, V3_ID_SIZE);
	r.version = bk_req_version(c);
	r.code = V3_REQ_FILE;
	memcpy(r.name, f->name, sizeof f->name);
	cksum_init(&ck);
	if (e != NULL && backup_enc_start(e, c->aes) < 0)
		return bk_fail(c, -EIO, 1, "AES key setup failed");
	for (uint32_t k = 1; ret == 0; k++) {
		ret = v3_file_packet(&r, f->size, f->slice, (uint16_t)k);
		if (ret < 0) {
			ret = bk_fail(c, ret, 1, "%s: no packet plan", f->path);
			break;
		}
		ret = fill_slice(c, f, e, &ck, &r);
		if (ret == 0)
			ret = send_packet(c, f, &r);
		if (ret == 0 && c->cfg.progress)
			c->cfg.progress(c->cfg.progress_arg, f->path,
					(uint64_t)k * f->slice, r.content_size);
		if (r.packet == r.total)
			break;
	}
	if (e != NULL)
		backup_enc_free(e);
	f->crc = cksum_final(&ck);
	return ret;
}

/* Sends a 1029/1031 and expects 1604. */
static int finish(struct backup_client *c, struct bk_file *f, uint16_t code)
{
	struct v3_resp r;
	int ret = bk_io_req(c, code, f->name, NULL, 0);

	if (ret == 0)
		ret = bk_io_resp(c, &r);
	if (ret == 0 && r.code != V3_RESP_ACK)
		ret = bk_fail(c, -EIO, 0, "%s: answered %u to %u",
			      c->stats.peer, r.code, code);
	return ret;
}

/* Reads the 1603 and checks it describes what we sent. */
static int crc_reply(struct backup_client *c, struct bk_file *f,
		     uint32_t *server_crc)
{
	struct v3_resp r;
	uint32_t content = 0;
	int ret = bk_io_resp(c, &r);

	if (ret < 0)
		return ret;
	if (r.code != V3_RESP_FILE_CRC)
		return bk_fail(c, -EIO, 0, "%s: answered %u to %s",
			       c->stats.peer, r.code, f->path);
	v3_content_size(c->clear, f->size, &content);
	if (r.content_size != content || strcmp(r.name, f->name) != 0)
		return bk_fail(c, -EBADMSG, 0, "%s: 1603 for another file",
			       c->stats.peer);
	*server_crc = r.cksum;
	return 0;
}

/* One attempt: session if needed, then up to 3 sends of the stream. */
static int file_once(struct backup_client *c, struct bk_file *f)
{
	uint32_t srv = 0;
	int ret = 0;

	for (unsigned send = 1; send <= 3; send++) {
		ret = send_stream(c, f);
		if (ret == 0)
			ret = crc_reply(c, f, &srv);
		if (ret < 0)
			return ret;
		if (srv == f->crc)
			return finish(c, f, V3_REQ_CRC_OK);
		if (send == 3)
			break;
		ret = bk_io_req(c, V3_REQ_CRC_RETRY, f->name, NULL, 0);
		if (ret < 0)
			return ret;
	}
	ret = finish(c, f, V3_REQ_CRC_ABORT);
	return bk_fail(c, -EBADMSG, 1, "%s: cksum mismatch 3 times (ours "
		       "%u, server %u); aborted with 1031%s", f->path, f->crc,
		       srv, ret < 0 ? " (no 1604)" : "");
}

static int file_open(struct backup_client *c, struct bk_file *f)
{
	struct stat sb;
	uint32_t content;
	enum v3_reason why = V3_OK;
	int n = v3_name_from_path(f->name, sizeof f->name, f->path,
				  strlen(f->path), &why);

	if (n < 0)
		return bk_fail(c, n, 1, "%s: no v3 name for this path: %s",
			       f->path, v3_reason_str(why));
	f->fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return bk_fail(c, -errno, 1, "%s: %s", f->path,
			       strerror(errno));
	if (fstat(f->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return bk_fail(c, -EINVAL, 1, "%s: not a regular file",
			       f->path);
	f->size = (uint64_t)sb.st_size;
	if (v3_cbc_size(f->size, &content) < 0)
		return bk_fail(c, -EMSGSIZE, 1, "%s: %llu bytes is over the "
			       "v3 limit of %u", f->path,
			       (unsigned long long)f->size, V3_FILE_MAX);
	f->slice = (uint64_t)content > (uint64_t)V3_PACKETS_MAX * BACKUP_SLICE
			   ? BACKUP_SLICE_BIG : BACKUP_SLICE;
	return 0;
}

/* see backup_client.h */
int backup_client_send_file(struct backup_client *c, const char *path)
{
	struct bk_file f = { .path = path, .fd = -1 };
	int ret = file_open(c, &f), sent = 0;

	for (unsigned a = 1; ret == 0 && a <= BACKUP_RETRY_ATTEMPTS; a++) {
		c->attempts++;
		ret = c->session ? 0 : bk_session_once(c);
		if (ret == 0) {
			sent = 1;
			ret = file_once(c, &f);
		}
		if (ret == 0 || c->fatal || a == BACKUP_RETRY_ATTEMPTS)
			break;
		bk_io_close(c);         /* the stream state is unknown */
		bk_backoff(c, a);
		ret = 0;
	}
	/* a failure mid-stream leaves half a 1028 on the connection: the
	 * next file must not start on it */
	if (ret != 0 && sent)
		bk_io_close(c);
	if (f.fd >= 0)
		close(f.fd);
	return ret;
}

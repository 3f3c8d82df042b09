/*
 * backupd_partial.c — cut uploads kept for a resume (docs/protocol/
 * cyberbackup-v3.md, "Resuming a cut upload"): a version-4 transfer that
 * the network cut (not one the server refused) keeps its temp file under
 * <data>/.resume with a `partials` row: client, name, whole size, bytes
 * received and the running cksum register.  A 1045 of the same client
 * and name finds it (1645 offset), packet 1 of the next 1028 appends to
 * it.  Rows older than --partial-expiry are dropped with their files.
 *
 * On S3 (--store s3://) the kept bytes are the parts of the file's
 * multipart upload (backupd_blob.h): the row is written when the first
 * part is in the store and moved on with every part (path s3:upload/...,
 * upload_id, received = the bytes those parts hold, crc over them), so
 * an instance killed mid-transfer leaves it too, and any instance that
 * shares the metadata continues it.  The bytes after the last whole part
 * are not kept: the offset a client is given is what the store holds.
 */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/clock.h"
#include "log.h"

#define MOD "partial"

static unsigned bd_partial_seq;
static uint64_t bd_partial_expired;
static uint64_t bd_partial_kept;
static uint64_t bd_partial_next_sweep;

/* Frees what a partial row (path, upload id) holds: the kept file, or
 * the multipart upload's parts. */
static void bd_partial_free(const char *rel, const char *upload)
{
	char p[BD_PATH_MAX];
	struct bd_blob_up up;
	const char *key = bd_blob_key(rel);

	if (key != NULL) {
		if (!bd_blob_s3() || upload == NULL)
			return;
		memset(&up, 0, sizeof up);
		snprintf(up.key, sizeof up.key, "%s", key);
		snprintf(up.id, sizeof up.id, "%s", upload);
		bd_blob_up_abort(&up);
	} else if (snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(), rel) <
		   (int)sizeof p) {
		unlink(p);
	}
}

/* see backupd.h */
void bd_partial_done(const uint8_t id[V3_ID_SIZE], const char *name)
{
	struct bd_stmt *s = bd_prep("DELETE FROM partials"
				  " WHERE client_id=? AND name=?");

	if (s == NULL)
		return;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	bd_db_step(s);
	bd_db_finalize(s);
}

/* Removes the partial (client id, name): its file or parts, and row. */
static void bd_partial_forget(const uint8_t id[V3_ID_SIZE], const char *name)
{
	struct bd_stmt *s = bd_prep("SELECT path, upload_id FROM partials"
				  " WHERE client_id=? AND name=?");

	if (s == NULL)
		return;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	if (bd_db_step(s) == BD_DB_ROW)
		bd_partial_free((const char *)bd_db_column_text(s, 0),
				(const char *)bd_db_column_text(s, 1));
	bd_db_finalize(s);
	bd_partial_done(id, name);
}

/* The row of c's file: received bytes with their cksum register at rel
 * (S3: the upload's, which replaces the row the last part wrote). */
static int bd_partial_insert(const struct bd_conn *c, const char *rel)
{
	const struct bd_file *f = &c->file;
	int s3 = f->up.id[0] != '\0';
	struct bd_stmt *s = bd_prep(
		"INSERT INTO partials(client_id, name, size,"
		" received, crc, path, updated_ms, upload_id)"
		" VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(client_id, name) DO UPDATE"
		" SET size = excluded.size, received = excluded.received,"
		" crc = excluded.crc, path = excluded.path,"
		" updated_ms = excluded.updated_ms, upload_id = excluded.upload_id");

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, c->client_id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, f->name);
	bd_db_bind_int64(s, 3, (int64_t)f->total);
	bd_db_bind_int64(s, 4, (int64_t)(s3 ? f->up.sent : f->size));
	bd_db_bind_int64(s, 5, s3 ? f->up.ck.crc : c->ck.crc);
	bd_db_bind_text(s, 6, rel);
	bd_db_bind_int64(s, 7, hal_clock_wall_ms());
	if (s3)
		bd_db_bind_text(s, 8, f->up.id);
	if (bd_db_step(s) != BD_DB_DONE) {
		bd_db_finalize(s);
		return -EIO;
	}
	bd_db_finalize(s);
	return 0;
}

/* 1 when a cut would keep what c receives: a vigil/2 transfer of a
 * client with a session, resume on, the file not all here yet. */
static int bd_partial_resumable(const struct bd_conn *c)
{
	const struct bd_file *f = &c->file;

	return bd_opt->partial_expiry_s != 0 && f->clear && c->have_key &&
	       !f->complete && f->size < f->total;
}

/* see backupd.h */
int bd_partial_spool(struct bd_conn *c)
{
	struct bd_file *f = &c->file;
	char rel[BD_PATH_MAX];
	int n;

	if (!bd_blob_s3() || f->fd < 0 || f->complete ||
	    f->size - f->up.sent < BD_BLOB_PART)
		return 0;
	if (bd_store_tmp_flush(f) != 0)
		return -EIO;
	n = bd_blob_up_spool(f->fd, f->size, &f->up);
	if (n <= 0 || !bd_partial_resumable(c))
		return n < 0 ? n : 0;
	snprintf(rel, sizeof rel, BD_BLOB_S3_PREFIX "%s", f->up.key);
	if (bd_partial_insert(c, rel) != 0)
		log_warn(MOD, "#%u %s: %s: parts not recorded for a resume",
			 c->idx, c->peer_text, f->name);
	else
		log_debug(MOD, "#%u %s: %s: %u part(s), %llu bytes in the "
			  "store", c->idx, c->peer_text, f->name, f->up.parts,
			  (unsigned long long)f->up.sent);
	return 0;
}

/* A cut on S3: the row the last part wrote is the partial; the local
 * bytes after it go.  @retval 1 kept  @retval 0 nothing kept */
static int bd_partial_keep_s3(struct bd_conn *c)
{
	struct bd_file *f = &c->file;

	/* what came since the last part went, when it makes one more */
	if (bd_partial_spool(c) != 0 || f->up.id[0] == '\0' ||
	    f->up.sent == 0)
		return 0;
	log_info(MOD, "#%u %s: kept %llu of %llu bytes of %s for a resume "
		 "(in the object store; %llu received after them dropped)",
		 c->idx, c->peer_text, (unsigned long long)f->up.sent,
		 (unsigned long long)f->total, f->name,
		 (unsigned long long)(f->size - f->up.sent));
	memset(&f->up, 0, sizeof f->up);     /* the row owns the upload */
	bd_store_tmp_drop(f);
	v3_file_rx_reset(&c->rx);
	c->partial_kept++;
	bd_partial_kept++;
	return 1;
}

/* see backupd.h */
int bd_partial_keep(struct bd_conn *c)
{
	struct bd_file *f = &c->file;
	char rel[BD_PATH_MAX], path[BD_PATH_MAX];

	/* an open, unfinished file: in a transfer (also in its last
	 * packet's data, when rx already counts it as ended) or between
	 * two segments */
	if (bd_opt->partial_expiry_s == 0 || !f->clear || f->fd < 0 ||
	    f->complete || !c->have_key || f->size == 0 ||
	    f->size >= f->total || c->ck.len != f->size ||
	    bd_store_tmp_flush(f) != 0)
		return 0;
	if (bd_blob_s3())
		return bd_partial_keep_s3(c);
	/* unique among instances sharing the directory and across runs */
	snprintf(rel, sizeof rel, ".resume/%s-%s-%llu-%u-%u.kept", c->uuid_hex,
		 bd_opt->instance ? bd_opt->instance : "",
		 (unsigned long long)hal_clock_wall_ms(), c->idx,
		 ++bd_partial_seq);
	if (snprintf(path, sizeof path, "%s/%s", bd_store_data_dir(), rel) >=
	    (int)sizeof path)
		return 0;
	bd_partial_forget(c->client_id, f->name);
	if (rename(f->tmp, path) != 0)
		return 0;
	if (bd_partial_insert(c, rel) != 0) {
		unlink(path);
		return 0;
	}
	close(f->fd);
	f->fd = -1;
	f->tmp[0] = '\0';
	v3_file_rx_reset(&c->rx);
	c->partial_kept++;
	bd_partial_kept++;
	log_info(MOD, "#%u %s: kept %llu of %llu bytes of %s for a resume",
		 c->idx, c->peer_text, (unsigned long long)f->size,
		 (unsigned long long)f->total, f->name);
	return 1;
}

/* The partial row of (id, name) into r.  @retval 1 found  0 none */
static int bd_partial_find(const struct bd_conn *c, const char *name,
			   struct bd_resume *r)
{
	struct bd_stmt *s = bd_prep("SELECT size, received, crc, path, upload_id"
				  " FROM partials WHERE client_id=? AND name=?");
	int found = 0;

	if (s == NULL)
		return 0;
	bd_db_bind_blob(s, 1, c->client_id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	if (bd_db_step(s) == BD_DB_ROW) {
		r->total = (uint64_t)bd_db_column_int64(s, 0);
		r->offset = (uint64_t)bd_db_column_int64(s, 1);
		r->crc = (uint32_t)bd_db_column_int64(s, 2);
		found = snprintf(r->path, sizeof r->path, "%s/%s",
				 bd_store_data_dir(),
				 (const char *)bd_db_column_text(s, 3)) <
			(int)sizeof r->path;
		snprintf(r->upload, sizeof r->upload, "%s",
			 bd_db_column_is_null(s, 4) ? ""
			 : (const char *)bd_db_column_text(s, 4));
	}
	bd_db_finalize(s);
	return found;
}

/* 1 when the multipart upload of S3 partial r holds its bytes (whole
 * parts from the first, at least r->offset of them), else 0. */
static int bd_partial_held(const struct bd_resume *r)
{
	uint64_t held = 0;

	if (!bd_blob_s3() || r->upload[0] == '\0' ||
	    bd_blob_up_held(bd_blob_key(r->path), r->upload, &held) != 0)
		return 0;
	return held >= r->offset && r->offset % BD_BLOB_PART == 0;
}

/* see backupd.h */
uint64_t bd_partial_offset(struct bd_conn *c, const char *name, uint64_t size)
{
	struct bd_resume *r = &c->resume;
	struct stat st;

	memset(r, 0, sizeof *r);
	if (!bd_partial_find(c, name, r))
		return 0;
	if (r->total != size || r->offset >= size ||
	    (bd_blob_key(r->path) != NULL ? !bd_partial_held(r)
	     : stat(r->path, &st) != 0 ||
	       (uint64_t)st.st_size != r->offset)) {
		/* another size (the file changed) or a damaged partial */
		bd_partial_forget(c->client_id, name);
		memset(r, 0, sizeof *r);
		return 0;
	}
	r->set = 1;
	memcpy(r->name, name, sizeof r->name);
	return r->offset;
}

/* Continues S3 partial c->resume: a temp file whose first offset bytes
 * are a hole (they are in the upload's parts), the upload's state.  The
 * row stays: it is what the store holds until the commit.
 * @retval 1  @retval -EIO */
static int bd_partial_take_s3(struct bd_conn *c)
{
	struct bd_resume *r = &c->resume;
	struct bd_file *f = &c->file;

	if (bd_store_tmp_open(f, c->idx) != 0)
		return -EIO;
	if (ftruncate(f->fd, (off_t)r->offset) != 0 ||
	    lseek(f->fd, (off_t)r->offset, SEEK_SET) < 0) {
		bd_store_tmp_drop(f);
		return -EIO;
	}
	snprintf(f->up.key, sizeof f->up.key, "%s", bd_blob_key(r->path));
	snprintf(f->up.id, sizeof f->up.id, "%s", r->upload);
	f->up.sent = r->offset;
	f->up.parts = (unsigned)(r->offset / BD_BLOB_PART);
	f->up.ck.crc = r->crc;
	f->up.ck.len = r->offset;
	f->size = f->base = r->offset;
	f->sha_live = 0;
	c->ck.crc = r->crc;
	c->ck.len = r->offset;
	log_info(MOD, "#%u %s: %s resumed at %llu of %llu bytes (from the "
		 "object store)", c->idx, c->peer_text, r->name,
		 (unsigned long long)r->offset, (unsigned long long)r->total);
	return 1;
}

/* Deletes the partial row of (id, name).  @retval 1 this call deleted
 * it  @retval 0 it was gone (or the database failed) */
static int bd_partial_claim(const uint8_t id[V3_ID_SIZE], const char *name)
{
	struct bd_stmt *s = bd_prep("DELETE FROM partials"
				    " WHERE client_id=? AND name=? RETURNING 1");
	int rc;

	if (s == NULL)
		return 0;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_ROW;
}

/* see backupd.h */
int bd_partial_take(struct bd_conn *c)
{
	struct bd_resume *r = &c->resume;
	struct bd_file *f = &c->file;

	if (!r->set || strcmp(r->name, c->req.name) != 0 ||
	    c->req.version != V3_VERSION_CLEAR) {
		r->set = 0;
		return 0;
	}
	r->set = 0;
	/* the rest in one transfer, or (1047) a segment starting there */
	if (c->seg.set ? c->seg.offset != r->offset || c->seg.total != r->total
		       : (uint64_t)c->req.orig_size != r->total - r->offset)
		return -EINVAL;
	if (bd_blob_key(r->path) != NULL)
		return bd_partial_take_s3(c);
	f->fd = open(r->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (f->fd < 0)
		return -EIO;
	memcpy(f->tmp, r->path, sizeof f->tmp);
	f->size = r->offset;
	f->base = r->offset;
	c->ck.crc = r->crc;
	c->ck.len = r->offset;
	/* the connection owns the bytes now (a new cut keeps them again),
	 * unless another instance sharing the database took them first */
	if (!bd_partial_claim(c->client_id, r->name)) {
		close(f->fd);
		f->fd = -1;
		f->tmp[0] = '\0';
		return -EINVAL;
	}
	log_info(MOD, "#%u %s: %s resumed at %llu of %llu bytes", c->idx,
		 c->peer_text, r->name, (unsigned long long)r->offset,
		 (unsigned long long)r->total);
	return 1;
}

/* see backupd.h */
void bd_partial_expire(uint64_t now_mono)
{
	struct bd_stmt *s;
	uint64_t cutoff;
	unsigned n = 0;

	if (now_mono < bd_partial_next_sweep)
		return;
	bd_partial_next_sweep = now_mono + 60000u;
	cutoff = (uint64_t)hal_clock_wall_ms() -
		 (uint64_t)bd_opt->partial_expiry_s * 1000u;
	s = bd_prep("SELECT path, upload_id FROM partials"
		    " WHERE updated_ms < ?");
	if (s == NULL)
		return;
	bd_db_bind_int64(s, 1, (int64_t)cutoff);
	while (bd_db_step(s) == BD_DB_ROW) {
		/* S3: the stale upload is aborted (its parts freed) */
		bd_partial_free((const char *)bd_db_column_text(s, 0),
				(const char *)bd_db_column_text(s, 1));
		n++;
	}
	bd_db_finalize(s);
	s = bd_prep("DELETE FROM partials WHERE updated_ms < ?");
	if (s == NULL)
		return;
	bd_db_bind_int64(s, 1, (int64_t)cutoff);
	bd_db_step(s);
	bd_db_finalize(s);
	if (n > 0) {
		bd_partial_expired += n;
		log_info(MOD, "expired %u partial upload(s)", n);
	}
}

/* see backupd.h */
void bd_partial_counts(uint64_t *kept, uint64_t *expired)
{
	*kept = bd_partial_kept;
	*expired = bd_partial_expired;
}

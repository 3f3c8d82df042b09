/*
 * backupd_partial.c — cut uploads kept for a resume (docs/protocol/
 * cyberbackup-v3.md, "Resuming a cut upload"): a version-4 transfer that
 * the network cut (not one the server refused) keeps its temp file under
 * <data>/.resume with a `partials` row: client, name, whole size, bytes
 * received and the running cksum register.  A 1045 of the same client
 * and name finds it (1645 offset), packet 1 of the next 1028 appends to
 * it.  Rows older than --partial-expiry are dropped with their files.
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

/* Removes the partial (client id, name): its file and row. */
static void bd_partial_forget(const uint8_t id[V3_ID_SIZE], const char *name)
{
	struct bd_stmt *s = bd_prep("SELECT path FROM partials"
				  " WHERE client_id=? AND name=?");
	char p[BD_PATH_MAX];

	if (s == NULL)
		return;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	if (bd_db_step(s) == BD_DB_ROW &&
	    snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(),
		     (const char *)bd_db_column_text(s, 0)) < (int)sizeof p)
		unlink(p);
	bd_db_finalize(s);
	s = bd_prep("DELETE FROM partials WHERE client_id=? AND name=?");
	if (s == NULL)
		return;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	bd_db_step(s);
	bd_db_finalize(s);
}

static int bd_partial_insert(const struct bd_conn *c, const char *rel)
{
	struct bd_stmt *s = bd_prep(
		"INSERT INTO partials(client_id, name, size, received, crc,"
		" path, updated_ms) VALUES(?,?,?,?,?,?,?)");

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, c->client_id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, c->file.name);
	bd_db_bind_int64(s, 3, (int64_t)c->file.total);
	bd_db_bind_int64(s, 4, (int64_t)c->file.size);
	bd_db_bind_int64(s, 5, c->ck.crc);
	bd_db_bind_text(s, 6, rel);
	bd_db_bind_int64(s, 7, hal_clock_wall_ms());
	if (bd_db_step(s) != BD_DB_DONE) {
		bd_db_finalize(s);
		return -EIO;
	}
	bd_db_finalize(s);
	return 0;
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
	struct bd_stmt *s = bd_prep("SELECT size, received, crc, path FROM partials"
				  " WHERE client_id=? AND name=?");
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
	}
	bd_db_finalize(s);
	return found;
}

/* see backupd.h */
uint64_t bd_partial_offset(struct bd_conn *c, const char *name, uint64_t size)
{
	struct bd_resume *r = &c->resume;
	struct stat st;

	memset(r, 0, sizeof *r);
	if (!bd_partial_find(c, name, r))
		return 0;
	if (r->total != size || stat(r->path, &st) != 0 ||
	    (uint64_t)st.st_size != r->offset || r->offset >= size) {
		/* another size (the file changed) or a damaged partial */
		bd_partial_forget(c->client_id, name);
		memset(r, 0, sizeof *r);
		return 0;
	}
	r->set = 1;
	memcpy(r->name, name, sizeof r->name);
	return r->offset;
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
	s = bd_prep("SELECT path FROM partials WHERE updated_ms < ?");
	if (s == NULL)
		return;
	bd_db_bind_int64(s, 1, (int64_t)cutoff);
	while (bd_db_step(s) == BD_DB_ROW) {
		char p[BD_PATH_MAX];

		if (snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(),
			     (const char *)bd_db_column_text(s, 0)) <
		    (int)sizeof p && unlink(p) == 0)
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

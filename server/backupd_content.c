/*
 * backupd_content.c — the store's content, addressed by SHA-256
 * (docs/backupd.md, "Content-addressed store"): every version's bytes
 * live once under <data>/.content/<first 2 hex>/<64 hex>, with a
 * `content` row (sha256, size, cksum, path).  A version's own path
 * (<data>/<client>/<name>/v<N>) is a hard link to it, so a second
 * device, a second path or an unchanged file's next snapshot adds a
 * directory entry and a row, never the bytes.  A 1046 (docs/protocol/cyberbackup-v3.md,
 * "Incremental runs") records a version from stored content without a
 * transfer; prune (bd_content_gc) deletes content no version references.
 *
 * 1046 confirmations are committed in batches (BD_BATCH_ROWS, or at the
 * next upload's commit, the sweep, a close or shutdown: bd_content_batch
 * _end), each in a savepoint of the batch's transaction: a commit is a
 * WAL fsync, which cost ~3.6 ms per unchanged file on ext4 (2000 files
 * 7.2 s) against 0.1 ms without it.  A crash loses at most the last
 * batch's rows — never content, and never an upload — so the snapshot
 * then lists the file's previous version, and the next run records it
 * again (its manifest still offers it).
 *
 * The file system and the database change together: new content is
 * linked inside the commit's transaction and unlinked again when it
 * rolls back; a crash between the two leaves an unreferenced file that
 * the next commit of the same bytes takes over (link replaces it).
 */
#define _GNU_SOURCE     /* O_CLOEXEC */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/clock.h"
#include "hex.h"
#include "log.h"

#define MOD "store"
/* Confirmations per batch (one commit): at least BD_BATCH_ROWS files
 * per fsync, and the batch lasts at most until the next sweep. */
#define BD_BATCH_ROWS 256u

static int bd_batch_open;
static unsigned bd_batch_rows;

/* SHA-256 of the file at path.  @retval 0  @retval -EIO */
static int bd_hash_file(const char *path, uint8_t out[32])
{
	static uint8_t buf[BD_RX_CHUNK];
	struct sha256_ctx sha;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -EIO;
	sha256_init(&sha);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sha256_update(&sha, buf, (size_t)n);
	if (n < 0)
		ret = -EIO;
	sha256_finish(&sha, out);
	close(fd);
	return ret;
}

/* see backupd.h */
int bd_content_digest(struct bd_file *f, char hex[BD_SHA_HEX])
{
	uint8_t d[32];

	if (f->sha_live && f->base == 0) {
		sha256_finish(&f->sha, d);
		f->sha_live = 0;
	} else if (bd_hash_file(f->tmp, d) != 0) {
		return -EIO;
	}
	hex_encode(d, sizeof d, hex);
	return 0;
}

/* The stored content of hex: absolute path to path.
 * @retval 1 found  @retval 0 none  @retval -EIO */
static int bd_content_find(const char *hex, char *path, size_t cap,
			   uint64_t *size, uint32_t *cksum)
{
	struct bd_stmt *s = bd_prep("SELECT path, size, cksum FROM content"
				  " WHERE sha256=?");
	int rc, ret = 0;

	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, hex);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW) {
		ret = snprintf(path, cap, "%s/%s", bd_store_data_dir(),
			       (const char *)bd_db_column_text(s, 0)) <
		      (int)cap ? 1 : -EIO;
		*size = (uint64_t)bd_db_column_int64(s, 1);
		*cksum = (uint32_t)bd_db_column_int64(s, 2);
	} else if (rc != BD_DB_DONE) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

static int bd_content_insert(const char *hex, const struct bd_file *f,
			     const char *rel)
{
	struct bd_stmt *s = bd_prep("INSERT INTO content(sha256, size, cksum,"
				  " path) VALUES(?,?,?,?) ON CONFLICT DO NOTHING");
	int rc;

	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, hex);
	bd_db_bind_int64(s, 2, (int64_t)f->size);
	bd_db_bind_int64(s, 3, f->crc);
	bd_db_bind_text(s, 4, rel);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_DONE ? 0 : -EIO;
}

/* Links f's temp file as new content at path (a stale file of a crashed
 * run is replaced: it holds the same bytes or is garbage).
 * @retval 0  @retval -ENOSPC / -EIO */
static int bd_content_link(const struct bd_file *f, const char *path)
{
	char dir[BD_PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || (size_t)(slash - path) >= sizeof dir)
		return -EIO;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return errno == ENOSPC ? -ENOSPC : -EIO;
	if (link(f->tmp, path) == 0)
		return 0;
	/* rename: the name never goes missing for an instance reading it */
	if (errno == EEXIST && rename(f->tmp, path) == 0)
		return 0;
	return errno == ENOSPC ? -ENOSPC : -EIO;
}

/* see backupd.h */
int bd_content_put(const struct bd_file *f, const char *hex, char *path,
		   size_t cap, int *created)
{
	char rel[BD_PATH_MAX];
	uint64_t size = 0;
	uint32_t cksum = 0;
	int ret = bd_content_find(hex, path, cap, &size, &cksum);

	*created = 0;
	if (ret < 0)
		return ret;
	if (ret == 1) {
		if (size != f->size) {
			log_err(MOD, "content %s: stored with %llu bytes, now "
				"%llu", hex, (unsigned long long)size,
				(unsigned long long)f->size);
			return -EIO;
		}
		return 0;
	}
	/* S3: bd_blob_put stored the object before the transaction */
	if (snprintf(rel, sizeof rel, bd_blob_s3() ? BD_BLOB_S3_PREFIX
		     "content/%.0s%s" : ".content/%.2s/%s", hex, hex) >=
	    (int)sizeof rel ||
	    snprintf(path, cap, "%s/%s", bd_store_data_dir(), rel) >= (int)cap)
		return -EIO;
	ret = bd_blob_s3() ? 0 : bd_content_link(f, path);
	if (ret != 0)
		return ret;
	*created = 1;
	return bd_content_insert(hex, f, rel);
}

/* see backupd.h */
void bd_content_undo(const char *path)
{
	/* a file or object shared by instances stays: another one may
	 * have committed the same bytes meanwhile, and the next upload of
	 * them takes it over */
	if (bd_blob_key(path) == NULL && !bd_db_is_pg(bd_store_db()))
		unlink(path);
}

/* 1 when client id has a version of content hex (it has had the bytes:
 * a client can never claim content it did not send by its hash alone),
 * 0 not, -EIO. */
static int bd_content_known_to(const uint8_t id[V3_ID_SIZE], const char *hex)
{
	struct bd_stmt *s = bd_prep(
		"SELECT 1 FROM versions v JOIN files f ON f.id = v.file_id"
		" WHERE v.sha256 = ? AND f.client_id = ? LIMIT 1");
	int rc;

	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, hex);
	bd_db_bind_blob(s, 2, id, V3_ID_SIZE);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_ROW ? 1 : rc == BD_DB_DONE ? 0 : -EIO;
}

/* Records the version of m's name from stored content at path (a 1046
 * found it).  @retval 1 (version to *version)  @retval -EIO */
static int bd_content_record(struct bd_conn *c, const struct v3x_msg *m,
			     const char *hex, const char *path,
			     uint32_t cksum, unsigned *version)
{
	static struct bd_file f;
	char vpath[BD_PATH_MAX];
	int64_t file_id = 0, v;

	v = bd_store_next_version(c->client_id, m->name, &file_id);
	if (v <= 0 || bd_store_link_named(path, c->uuid_hex, m->name, &v, vpath,
					  sizeof vpath) != 0)
		return -EIO;
	memset(&f, 0, sizeof f);
	f.size = m->size;
	f.crc = cksum;
	f.has_attr = 1;
	f.mode = m->mode;
	f.mtime_s = m->mtime_s;
	f.mtime_ns = m->mtime_ns;
	if (bd_store_insert_version(file_id, v, &f, vpath, hex,
				    c->session_row) != 0) {
		if (strcmp(vpath, path) != 0)
			unlink(vpath);
		return -EIO;
	}
	*version = (unsigned)v;
	return 1;
}

/* see backupd.h */
void bd_content_batch_end(void)
{
	if (!bd_batch_open)
		return;
	bd_batch_open = 0;
	if (bd_db_commit(bd_store_db()) ==
	    BD_DB_OK)
		return;
	log_err(MOD, "committing %u recorded file(s): %s", bd_batch_rows,
		bd_db_errmsg(bd_store_db()));
	bd_db_rollback(bd_store_db());
}

/* The batch's transaction, opened when none is.  @retval 0 / -EIO */
static int bd_batch_begin(void)
{
	if (bd_batch_open)
		return 0;
	if (bd_db_begin(bd_store_db(), 0) != BD_DB_OK)
		return -EIO;
	bd_batch_open = 1;
	bd_batch_rows = 0;
	return 0;
}

/* see backupd.h */
int bd_content_have(struct bd_conn *c, const struct v3x_msg *m,
		    unsigned *version)
{
	char hex[BD_SHA_HEX], path[BD_PATH_MAX];
	uint64_t size = 0;
	uint32_t cksum = 0;
	struct stat st;
	int ret;

	hex_encode(m->sha256, sizeof m->sha256, hex);
	if (bd_batch_begin() != 0 ||
	    bd_db_exec(bd_store_db(), "SAVEPOINT have") != BD_DB_OK)
		return -EIO;
	ret = bd_content_find(hex, path, sizeof path, &size, &cksum);
	/* an object is stored before its row: the row says it is there */
	if (ret == 1 && (size != m->size ||
			 (bd_blob_key(path) == NULL &&
			  (stat(path, &st) != 0 ||
			   (uint64_t)st.st_size != size))))
		ret = 0;        /* another size, or the file is gone: send */
	if (ret == 1)
		ret = bd_content_known_to(c->client_id, hex);
	if (ret == 1)
		ret = bd_content_record(c, m, hex, path, cksum, version);
	if (ret != 1)
		bd_db_exec(bd_store_db(), "ROLLBACK TO have");
	if (bd_db_exec(bd_store_db(), "RELEASE have") !=
	    BD_DB_OK)
		ret = -EIO;
	if (ret == 1 && ++bd_batch_rows >= BD_BATCH_ROWS)
		bd_content_batch_end();
	return ret;
}

/* see backupd.h */
int bd_content_gc(uint64_t *freed)
{
	struct bd_stmt *s = bd_prep(
		"SELECT sha256, path, size FROM content c WHERE NOT EXISTS"
		" (SELECT 1 FROM versions v WHERE v.sha256 = c.sha256)");
	struct bd_stmt *d = bd_prep("DELETE FROM content WHERE sha256 = ?");
	int n = 0, rc;

	if (s == NULL || d == NULL) {
		bd_db_finalize(s);
		bd_db_finalize(d);
		return -EIO;
	}
	while ((rc = bd_db_step(s)) == BD_DB_ROW) {
		char p[BD_PATH_MAX];

		if (snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(),
			     (const char *)bd_db_column_text(s, 1)) <
		    (int)sizeof p && bd_blob_delete(p) != 0)
			log_warn(MOD, "%s: not deleted (unreferenced now)", p);
		*freed += (uint64_t)bd_db_column_int64(s, 2);
		bd_db_bind_text(d, 1, bd_db_column_text(s, 0));
		rc = bd_db_step(d);
		bd_db_reset(d);
		if (rc != BD_DB_DONE)
			break;
		n++;
	}
	bd_db_finalize(s);
	bd_db_finalize(d);
	return rc == BD_DB_DONE ? n : -EIO;
}

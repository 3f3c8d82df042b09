/*
 * backupd_store.c — metadata in SQLite (<data>/backupd.sqlite) and file
 * versions under <data>/<client uuid>/<file name>/v<N>.
 *
 * A file is received into <data>/.tmp (same file system, never inside a
 * client's directory), and only a verified one (1029) is linked to its
 * final name: link(2) never replaces an existing version, and readers of
 * a client's directory never see a partial file.  The version row and the
 * link are made inside one SQLite transaction; a failure undoes both.
 * Leftover temp files from a crash are removed at startup.
 */
#define _GNU_SOURCE     /* sync_file_range */
#include "backupd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/clock.h"
#include "hex.h"
#include "log.h"

#define MOD "store"

static struct bd_db *bd_db;
static const char *bd_where;    /* PostgreSQL connection string, or NULL */
static char bd_data[BD_PATH_MAX / 2];
static char bd_tmp_dir[BD_PATH_MAX];   /* <data>/.tmp[/<instance>] */
static unsigned bd_tmp_seq;

static const char bd_schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS clients("
	" id BLOB PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" created_ms INTEGER NOT NULL, last_seen_ms INTEGER);"
	"CREATE TABLE IF NOT EXISTS keys("
	" client_id BLOB PRIMARY KEY REFERENCES clients(id),"
	" spki BLOB NOT NULL, updated_ms INTEGER NOT NULL,"
	" oaep_hash TEXT NOT NULL DEFAULT 'sha256');"
	"CREATE TABLE IF NOT EXISTS sessions("
	" id INTEGER PRIMARY KEY, client_id BLOB, peer TEXT,"
	" started_ms INTEGER NOT NULL, ended_ms INTEGER,"
	" files_ok INTEGER, partial_cleared INTEGER, end_reason TEXT,"
	" sealed INTEGER);"
	"CREATE TABLE IF NOT EXISTS files("
	" id INTEGER PRIMARY KEY, client_id BLOB NOT NULL REFERENCES clients(id),"
	" name TEXT NOT NULL, UNIQUE(client_id, name));"
	"CREATE TABLE IF NOT EXISTS versions("
	" file_id INTEGER NOT NULL REFERENCES files(id), version INTEGER NOT NULL,"
	" size INTEGER NOT NULL, cksum INTEGER NOT NULL, path TEXT NOT NULL,"
	" stored_ms INTEGER NOT NULL, session_id INTEGER,"
	" mode INTEGER, mtime_s INTEGER, mtime_ns INTEGER, sha256 TEXT,"
	" PRIMARY KEY(file_id, version));"
	"CREATE TABLE IF NOT EXISTS content("
	" sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	" cksum INTEGER NOT NULL, path TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS partials("
	" client_id BLOB NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,"
	" received INTEGER NOT NULL, crc INTEGER NOT NULL, path TEXT NOT NULL,"
	" updated_ms INTEGER NOT NULL, PRIMARY KEY(client_id, name));"
	"CREATE TABLE IF NOT EXISTS pruned(session_id INTEGER PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS kept("
	" file_id INTEGER NOT NULL, session_id INTEGER NOT NULL,"
	" PRIMARY KEY(file_id, session_id));"
	"CREATE TABLE IF NOT EXISTS stats(bytes_freed INTEGER NOT NULL);"
	"INSERT INTO stats SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM stats);"
	"CREATE TABLE IF NOT EXISTS grants("
	" device TEXT NOT NULL, reader TEXT NOT NULL,"
	" PRIMARY KEY(device, reader));";

/* Columns added after the first release: a database made before gets
 * them (existing rows keep the default: keys were wrapped with SHA-256,
 * versions stored before 1044 have no attributes). */
static const struct {
	const char *probe, *alter, *what;
} bd_upgrades[] = {
	{ "SELECT oaep_hash FROM keys LIMIT 0",
	  "ALTER TABLE keys ADD COLUMN oaep_hash TEXT NOT NULL DEFAULT 'sha256'",
	  "added keys.oaep_hash (existing keys: sha256)" },
	{ "SELECT mode FROM versions LIMIT 0",
	  "ALTER TABLE versions ADD COLUMN mode INTEGER;"
	  "ALTER TABLE versions ADD COLUMN mtime_s INTEGER;"
	  "ALTER TABLE versions ADD COLUMN mtime_ns INTEGER",
	  "added versions.mode, mtime_s, mtime_ns (existing versions: none)" },
	{ "SELECT sha256 FROM versions LIMIT 0",
	  "ALTER TABLE versions ADD COLUMN sha256 TEXT",
	  "added versions.sha256 (existing versions: stored by name only)" },
	{ "SELECT sealed FROM sessions LIMIT 0",
	  "ALTER TABLE sessions ADD COLUMN sealed INTEGER",
	  "added sessions.sealed (existing sessions: unsealed)" },
	{ "SELECT upload_id FROM partials LIMIT 0",
	  "ALTER TABLE partials ADD COLUMN upload_id TEXT",
	  "added partials.upload_id (S3 multipart uploads)" },
};

/* After the upgrades: the indexes the content lookups of 1046 and prune
 * need (a device's versions of one content), and a device's sessions
 * for the snapshot membership (BD_SQL_LO). */
static const char bd_indexes[] =
	"CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256);"
	"CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_id, id);";

/* Adds the columns a SQLite database lacks (PostgreSQL databases:
 * backupd_store_pg.c).  @retval 0  @retval -EIO */
static int bd_schema_upgrade(void)
{
	size_t i;

	if (bd_db_is_pg(bd_db))
		return bd_store_pg_schema(bd_db);
	for (i = 0; i < sizeof bd_upgrades / sizeof bd_upgrades[0]; i++) {
		struct bd_stmt *s = NULL;

		if (bd_db_prepare(bd_db, bd_upgrades[i].probe, &s) == BD_DB_OK) {
			bd_db_finalize(s);
			continue;
		}
		if (bd_db_exec(bd_db, bd_upgrades[i].alter) != BD_DB_OK) {
			log_err(MOD, "database: %s: %s", bd_upgrades[i].alter,
				bd_db_errmsg(bd_db));
			return -EIO;
		}
		log_info(MOD, "database: %s", bd_upgrades[i].what);
	}
	return bd_db_exec(bd_db, bd_indexes) == BD_DB_OK ? 0 : -EIO;
}

/* Opens the metadata database (the PostgreSQL one given to
 * bd_store_use_db, else <data>/backupd.sqlite) with the schema of
 * bd_schema, brought up to date unless read-only.  @retval 0 / -EIO */
static int bd_store_open_db(enum bd_db_mode mode, int busy_ms)
{
	char p[BD_PATH_MAX];
	const char *where = bd_where != NULL ? bd_where : p;

	snprintf(p, sizeof p, "%s/backupd.sqlite", bd_data);
	if (bd_db_open(where, mode, busy_ms, &bd_db) != 0)
		return -EIO;
	if (mode == BD_DB_READONLY)
		return 0;
	if (!bd_db_is_pg(bd_db) && bd_db_exec(bd_db, bd_schema) != BD_DB_OK) {
		log_err(MOD, "database %s: %s", p, bd_db_errmsg(bd_db));
		return -EIO;
	}
	return bd_schema_upgrade();
}

/* see backupd.h */
void bd_store_use_db(const char *conninfo)
{
	bd_where = conninfo;
}

/* snprintf that reports truncation: a path that does not fit is refused,
 * never shortened.  @retval 0 / -EIO */
static int bd_pathf(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bd_pathf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= cap) ? -EIO : 0;
}

static int bd_errno_to_ret(int e)
{
	return (e == ENOSPC || e == EDQUOT) ? -ENOSPC : -EIO;
}

/* Removes temp files a previous run left behind. */
static void bd_clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;
	char p[BD_PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (bd_pathf(p, sizeof p, "%s/%s", dir, e->d_name) == 0 &&
		    unlink(p) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		log_warn(MOD, "startup: removed %u partial file(s) of a previous run", n);
}

/* see backupd.h */
int bd_store_open(const char *data_dir)
{
	char p[BD_PATH_MAX];
	int fd;

	if (strlen(data_dir) >= sizeof bd_data - 64) {
		log_err(MOD, "data directory path too long");
		return -EIO;
	}
	strcpy(bd_data, data_dir);
	if (mkdir(bd_data, 0700) != 0 && errno != EEXIST) {
		log_err(MOD, "cannot create %s: %s", bd_data, strerror(errno));
		return -EIO;
	}
	snprintf(p, sizeof p, "%s/.tmp", bd_data);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		log_err(MOD, "cannot create %s: %s", p, strerror(errno));
		return -EIO;
	}
	/* an instance sharing the data directory cleans only its own */
	if (bd_opt->instance != NULL)
		snprintf(p, sizeof p, "%s/.tmp/%s", bd_data, bd_opt->instance);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		log_err(MOD, "cannot create %s: %s", p, strerror(errno));
		return -EIO;
	}
	memcpy(bd_tmp_dir, p, sizeof bd_tmp_dir);
	bd_clean_tmp(p);
	snprintf(p, sizeof p, "%s/.resume", bd_data);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		log_err(MOD, "cannot create %s: %s", p, strerror(errno));
		return -EIO;
	}
	snprintf(p, sizeof p, "%s/.content", bd_data);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		log_err(MOD, "cannot create %s: %s", p, strerror(errno));
		return -EIO;
	}
	snprintf(p, sizeof p, "%s/backupd.sqlite", bd_data);
	/* created 0600 before SQLite would make it 0644 (its journals take
	 * the database's mode): it names every device and file */
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err(MOD, "cannot create %s: %s", p, strerror(errno));
		return -EIO;
	}
	if (fchmod(fd, 0600) != 0)      /* one made by an older version */
		log_warn(MOD, "%s: cannot make it 0600: %s", p,
			 strerror(errno));
	close(fd);
	return bd_store_open_db(BD_DB_CREATE, 1000);
}

/* see backupd.h */
struct bd_db *bd_store_db(void)
{
	return bd_db;
}

/* see backupd.h */
int bd_store_open_existing(const char *data_dir)
{
	if (strlen(data_dir) >= sizeof bd_data - 64) {
		log_err(MOD, "data directory path too long");
		return -EIO;
	}
	strcpy(bd_data, data_dir);
	return bd_store_open_db(BD_DB_READWRITE, 10000);
}

/* see backupd.h */
int bd_store_open_readonly(const char *data_dir)
{
	if (strlen(data_dir) >= sizeof bd_data - 64) {
		log_err(MOD, "data directory path too long");
		return -EIO;
	}
	strcpy(bd_data, data_dir);
	return bd_store_open_db(BD_DB_READONLY, 5000);
}

/* see backupd.h */
void bd_store_close(void)
{
	if (bd_db != NULL) {
		bd_content_batch_end();
		bd_db_close(bd_db);
	}
	bd_db = NULL;
	bd_blob_close();
}

/* see backupd.h */
const char *bd_store_data_dir(void)
{
	return bd_data;
}

/* see backupd.h */
struct bd_stmt *bd_prep(const char *sql)
{
	struct bd_stmt *s = NULL;

	if (bd_db_prepare(bd_db, sql, &s) != BD_DB_OK) {
		log_err(MOD, "sql: %s", bd_db_errmsg(bd_db));
		return NULL;
	}
	return s;
}

/* Runs a statement to completion; its BD_DB_ result. */
static int bd_step_done(struct bd_stmt *s)
{
	int rc = bd_db_step(s);

	bd_db_finalize(s);
	return rc;
}

/* The id of name when it was registered but never got a key (its 1600
 * was lost, or the client stopped before 1026): such a client has no
 * key and so no files.  @retval 1 found  @retval -EEXIST not keyless
 * @retval -EIO */
static int bd_keyless_id(const char *name, uint8_t id[V3_ID_SIZE])
{
	struct bd_stmt *s = bd_prep(
		"SELECT c.id FROM clients c LEFT JOIN keys k ON k.client_id = c.id"
		" WHERE c.name=? AND k.client_id IS NULL");
	int rc, ret = -EEXIST;

	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, name);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW && bd_db_column_bytes(s, 0) == V3_ID_SIZE) {
		memcpy(id, bd_db_column_blob(s, 0), V3_ID_SIZE);
		ret = 1;
	} else if (rc != BD_DB_DONE) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

/* see backupd.h */
int bd_store_register(const char *name, uint8_t id[V3_ID_SIZE])
{
	struct bd_stmt *s;
	int rc;

	if (bd_random(id, V3_ID_SIZE) != 0)
		return -EIO;
	s = bd_prep("INSERT INTO clients(id, name, created_ms) VALUES(?,?,?)");
	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	bd_db_bind_int64(s, 3, hal_clock_wall_ms());
	rc = bd_step_done(s);
	if (rc == BD_DB_CONSTRAINT)
		return bd_keyless_id(name, id);
	return rc == BD_DB_DONE ? 0 : -EIO;
}

/* 1 when (id, name) is a registered client, 0 when not, -EIO. */
static int bd_client_known(const uint8_t id[V3_ID_SIZE], const char *name)
{
	struct bd_stmt *s = bd_prep("SELECT 1 FROM clients WHERE id=? AND name=?");
	int rc;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	if (rc == BD_DB_ROW)
		return 1;
	return rc == BD_DB_DONE ? 0 : -EIO;
}

/* see backupd.h */
int bd_store_set_key(const uint8_t id[V3_ID_SIZE], const char *name,
		     const uint8_t *spki, size_t len, enum bd_oaep oaep)
{
	struct bd_stmt *s;
	int known = bd_client_known(id, name);

	if (known <= 0)
		return known == 0 ? -ENOENT : -EIO;
	s = bd_prep("INSERT INTO keys(client_id, spki, updated_ms,"
		    " oaep_hash) VALUES(?,?,?,?) ON CONFLICT(client_id) DO UPDATE"
		    " SET spki = excluded.spki, updated_ms = excluded.updated_ms,"
		    " oaep_hash = excluded.oaep_hash");
	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_blob(s, 2, spki, len);
	bd_db_bind_int64(s, 3, hal_clock_wall_ms());
	bd_db_bind_text(s, 4, oaep == BD_OAEP_SHA1 ? "sha1" : "sha256");
	return bd_step_done(s) == BD_DB_DONE ? 0 : -EIO;
}

/* see backupd.h */
int bd_store_get_key(const uint8_t id[V3_ID_SIZE], const char *name,
		     uint8_t *spki, size_t cap, size_t *len,
		     enum bd_oaep *oaep)
{
	struct bd_stmt *s = bd_prep(
		"SELECT k.spki, k.oaep_hash = 'sha1' FROM keys k"
		" JOIN clients c ON c.id = k.client_id WHERE c.id=? AND c.name=?");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW) {
		size_t n = (size_t)bd_db_column_bytes(s, 0);

		ret = -EIO;
		if (n <= cap) {
			memcpy(spki, bd_db_column_blob(s, 0), n);
			*len = n;
			*oaep = bd_db_column_int(s, 1) ? BD_OAEP_SHA1
							 : BD_OAEP_SHA256;
			ret = 0;
		}
	} else if (rc != BD_DB_DONE) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

/* see backupd.h */
int bd_store_tmp_open(struct bd_file *f, unsigned conn_idx)
{
	uint8_t r[4];

	if (bd_random(r, sizeof r) != 0)
		return -EIO;
	if (bd_pathf(f->tmp, sizeof f->tmp,
		     "%s/c%u-%u-%02x%02x%02x%02x.part", bd_tmp_dir, conn_idx,
		     ++bd_tmp_seq, r[0], r[1], r[2], r[3]) != 0)
		return -EIO;
	memset(&f->up, 0, sizeof f->up);
	f->fd = open(f->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return bd_errno_to_ret(errno);
	f->size = 0;
	return 0;
}

/* Received data is staged here and written in big pieces: the records
 * of a TLS connection are 4 KiB, and writing each on its own costs the
 * file system partial-block work (measured: ~5x the CPU of 64 KiB
 * writes).  One buffer for the whole server: all writes happen while
 * one connection's input is processed, and the loop empties it
 * (bd_store_tmp_flush) before it waits again. */
static uint8_t bd_stage[BD_STAGE_MAX];
static size_t bd_stage_len;
static struct bd_file *bd_stage_owner;

/* Writes n bytes at p to fd.  @retval 0 / -ENOSPC / -EIO */
static int bd_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return bd_errno_to_ret(errno);
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* see backupd.h */
int bd_store_tmp_flush(struct bd_file *f)
{
	int ret;

	if (bd_stage_owner != f || bd_stage_len == 0)
		return 0;
	ret = bd_write_all(f->fd, bd_stage, bd_stage_len);
	/* start writing back now, so the fsync at 1029 has little left */
	if (ret == 0)
		(void)sync_file_range(f->fd, (off_t)(f->size - bd_stage_len),
				      (off_t)bd_stage_len, SYNC_FILE_RANGE_WRITE);
	bd_stage_len = 0;
	bd_stage_owner = NULL;
	return ret;
}

/* see backupd.h */
int bd_store_tmp_write(struct bd_file *f, const uint8_t *p, size_t n)
{
	if (bd_stage_owner != f && bd_stage_len > 0) {
		int ret = bd_store_tmp_flush(bd_stage_owner);

		if (ret != 0)
			return ret;
	}
	bd_stage_owner = f;
	while (n > 0) {
		size_t k = sizeof bd_stage - bd_stage_len;
		int ret;

		if (k > n)
			k = n;
		memcpy(bd_stage + bd_stage_len, p, k);
		bd_stage_len += k;
		f->size += k;
		p += k;
		n -= k;
		if (bd_stage_len == sizeof bd_stage &&
		    (ret = bd_store_tmp_flush(f)) != 0)
			return ret;
		bd_stage_owner = f;
	}
	return 0;
}

/* see backupd.h */
int bd_store_tmp_drop(struct bd_file *f)
{
	int had = f->fd >= 0;

	if (bd_stage_owner == f) {
		bd_stage_len = 0;
		bd_stage_owner = NULL;
	}

	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
	}
	bd_blob_up_abort(&f->up);      /* parts of a file not stored */
	f->fd = -1;
	f->tmp[0] = '\0';
	f->complete = 0;
	f->sha_live = 0;
	return had;
}

/* see backupd.h */
int64_t bd_store_next_version(const uint8_t id[V3_ID_SIZE], const char *name,
			      int64_t *file_id)
{
	struct bd_stmt *s = bd_prep(
		"INSERT INTO files(client_id, name) VALUES(?,?) ON CONFLICT DO NOTHING");
	int64_t v = -EIO;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	if (bd_step_done(s) != BD_DB_DONE)
		return -EIO;
	s = bd_prep("SELECT f.id, COALESCE(MAX(v.version), 0) + 1 FROM files f"
		    " LEFT JOIN versions v ON v.file_id = f.id"
		    " WHERE f.client_id=? AND f.name=? GROUP BY f.id");
	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	if (bd_db_step(s) == BD_DB_ROW) {
		*file_id = bd_db_column_int64(s, 0);
		v = bd_db_column_int64(s, 1);
	}
	bd_db_finalize(s);
	return v;
}

static int bd_mkdir(const char *p)
{
	if (mkdir(p, 0700) == 0 || errno == EEXIST)
		return 0;
	return bd_errno_to_ret(errno);
}

static int bd_fsync_dir(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -EIO;
	if (fsync(fd) != 0)
		ret = bd_errno_to_ret(errno);
	close(fd);
	return ret;
}

/* Links the stored content src to dir/v<version> (skipping numbers a
 * crashed run left on disk), so the client's directory shows each
 * version by name while the bytes exist once; final path to out.  A
 * content already linked as often as the file system allows (EMLINK: a
 * common content, say the empty file) is named by its content path.
 * @retval 0 / -ENOSPC / -EIO */
static int bd_link_version(const char *src, const char *dir,
			   int64_t *version, char *out, size_t cap)
{
	int tries;

	for (tries = 0; tries < 100; tries++, (*version)++) {
		if (bd_pathf(out, cap, "%s/v%lld", dir, (long long)*version))
			return -EIO;
		if (link(src, out) == 0)
			return 0;
		if (errno == EMLINK)
			return bd_pathf(out, cap, "%s", src);
		if (errno != EEXIST)
			return bd_errno_to_ret(errno);
	}
	return -EIO;
}

/* see backupd.h */
int bd_store_link_named(const char *src, const char *uuid_hex,
			const char *name, int64_t *version, char *out,
			size_t cap)
{
	char dir[BD_PATH_MAX];
	int ret = bd_pathf(dir, sizeof dir, "%s/%s", bd_data, uuid_hex);

	if (bd_blob_key(src) != NULL)   /* an object: no per-version name */
		return bd_pathf(out, cap, "%s", src);
	if (ret != 0 || (ret = bd_mkdir(dir)) != 0)
		return ret;
	ret = bd_pathf(dir, sizeof dir, "%s/%s/%s", bd_data, uuid_hex, name);
	if (ret != 0 || (ret = bd_mkdir(dir)) != 0)
		return ret;
	return bd_link_version(src, dir, version, out, cap);
}

/* see backupd.h */
int bd_store_insert_version(int64_t file_id, int64_t version,
			    const struct bd_file *f, const char *path,
			    const char *sha_hex, int64_t session_row)
{
	struct bd_stmt *s = bd_prep(
		"INSERT INTO versions(file_id, version, size, cksum, path,"
		" stored_ms, session_id, mode, mtime_s, mtime_ns, sha256)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?)");

	if (s == NULL)
		return -EIO;
	bd_db_bind_int64(s, 1, file_id);
	bd_db_bind_int64(s, 2, version);
	bd_db_bind_int64(s, 3, (int64_t)f->size);
	bd_db_bind_int64(s, 4, f->crc);
	bd_db_bind_text(s, 5, path + strlen(bd_data) + 1);
	bd_db_bind_int64(s, 6, hal_clock_wall_ms());
	bd_db_bind_int64(s, 7, session_row);
	if (f->has_attr) {
		bd_db_bind_int64(s, 8, f->mode);
		bd_db_bind_int64(s, 9, f->mtime_s);
		bd_db_bind_int64(s, 10, f->mtime_ns);
	}
	bd_db_bind_text(s, 11, sha_hex);
	return bd_step_done(s) == BD_DB_DONE ? 0 : -EIO;
}

/* The content's digest to hex and, on S3, its object: a file of more
 * than a part goes as (the rest of) its multipart upload, a smaller one
 * by one PUT.  @retval 0  @retval -EIO */
static int bd_store_object(struct bd_file *f, char hex[BD_SHA_HEX])
{
	int live = f->sha_live && f->base == 0;

	if (bd_blob_s3() && f->size > BD_BLOB_PART &&
	    bd_blob_up_spool(f->fd, f->size, &f->up) < 0)
		return -EIO;
	if (f->up.key[0] == '\0' || live)
		if (bd_content_digest(f, hex) != 0)
			return -EIO;
	if (f->up.key[0] != '\0')
		return bd_blob_up_finish(f->fd, f->size, &f->up, live, hex)
		       ? -EIO : 0;
	if (bd_blob_s3() && bd_blob_put(hex, f->fd, f->size) != 0)
		return -EIO;
	return 0;
}

/* see backupd.h */
int bd_store_commit(const uint8_t id[V3_ID_SIZE], const char *uuid_hex,
		    struct bd_file *f, int64_t session_row, unsigned *version)
{
	char dir[BD_PATH_MAX], path[BD_PATH_MAX], content[BD_PATH_MAX];
	char hex[BD_SHA_HEX];
	int64_t file_id = 0, v;
	int ret = bd_store_tmp_flush(f), created = 0;

	/* S3 keeps the bytes: the temp file need not survive a crash */
	if (ret != 0 || (!bd_blob_s3() && fsync(f->fd) != 0)) {
		ret = ret != 0 ? ret : bd_errno_to_ret(errno);
		bd_store_tmp_drop(f);
		return ret;
	}
	/* S3: the object first, outside the transaction (it may take a
	 * while); a rollback leaves it for the next upload of its bytes */
	if ((ret = bd_store_object(f, hex)) != 0)
		goto fail;
	ret = bd_pathf(dir, sizeof dir, "%s/%s/%s", bd_data, uuid_hex, f->name);
	if (ret != 0)
		goto fail;
	ret = -EIO;
	bd_content_batch_end();
	if (bd_db_begin(bd_db, 0) != BD_DB_OK)
		goto fail;
	v = bd_store_next_version(id, f->name, &file_id);
	if (v <= 0)
		goto rollback;
	if ((ret = bd_content_put(f, hex, content, sizeof content,
				  &created)) != 0 ||
	    (ret = bd_store_link_named(content, uuid_hex, f->name, &v, path,
					sizeof path)) != 0)
		goto rollback;
	if ((ret = bd_store_insert_version(file_id, v, f, path, hex,
					   session_row)) != 0 ||
	    bd_db_commit(bd_db) != BD_DB_OK) {
		if (strcmp(path, content) != 0)
			unlink(path);
		ret = -EIO;
		goto rollback;
	}
	if (bd_blob_key(content) == NULL)
		bd_fsync_dir(dir);
	if (bd_blob_s3())
		bd_partial_done(id, f->name);
	bd_store_tmp_drop(f);
	*version = (unsigned)v;
	return 0;
rollback:
	bd_db_rollback(bd_db);
	if (created)
		bd_content_undo(content);
fail:
	bd_store_tmp_drop(f);
	return ret;
}

/* see backupd.h */
int64_t bd_store_session_start(const uint8_t id[V3_ID_SIZE], const char *peer)
{
	struct bd_stmt *s = bd_prep(
		"INSERT INTO sessions(client_id, peer, started_ms) VALUES(?,?,?) RETURNING id");
	int64_t row = 0;

	if (s == NULL)
		return 0;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, peer);
	bd_db_bind_int64(s, 3, hal_clock_wall_ms());
	if (bd_db_step(s) == BD_DB_ROW)
		row = bd_db_column_int64(s, 0);
	bd_db_finalize(s);
	s = bd_prep("UPDATE clients SET last_seen_ms=? WHERE id=?");
	if (s != NULL) {
		bd_db_bind_int64(s, 1, hal_clock_wall_ms());
		bd_db_bind_blob(s, 2, id, V3_ID_SIZE);
		bd_step_done(s);
	}
	return row;
}

/* see backupd.h */
void bd_store_session_end(int64_t row, unsigned files_ok,
			  unsigned partial_cleared, const char *reason)
{
	struct bd_stmt *s;

	if (row <= 0)
		return;
	s = bd_prep("UPDATE sessions SET ended_ms=?, files_ok=?,"
		    " partial_cleared=?, end_reason=? WHERE id=?");
	if (s == NULL)
		return;
	bd_db_bind_int64(s, 1, hal_clock_wall_ms());
	bd_db_bind_int64(s, 2, files_ok);
	bd_db_bind_int64(s, 3, partial_cleared);
	bd_db_bind_text(s, 4, reason);
	bd_db_bind_int64(s, 5, row);
	bd_step_done(s);
}

/* see backupd.h */
void bd_store_uuid_hex(const uint8_t id[V3_ID_SIZE], char out[BD_UUID_HEX])
{
	hex_encode(id, V3_ID_SIZE, out);
}

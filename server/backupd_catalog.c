/*
 * backupd_catalog.c — the store seen as snapshots, for restore
 * (docs/protocol/cyberbackup-v3.md, "Extension: restore"): a device is a
 * v3 client (by name), a snapshot is a session that stored files, and
 * snapshot S holds each file's newest version stored in a session <= S.
 * Files stored over plain v3 are in it like any other.
 */
#include "backupd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"

#define MOD "store"

/* see backupd.h */
int bd_catalog_device(const char *name, uint8_t id[V3_ID_SIZE])
{
	sqlite3_stmt *s = bd_prep("SELECT id FROM clients WHERE name=?");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == V3_ID_SIZE) {
		memcpy(id, sqlite3_column_blob(s, 0), V3_ID_SIZE);
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		ret = -EIO;
	}
	sqlite3_finalize(s);
	return ret;
}

/* see backupd.h */
int bd_catalog_may_read(const char *identity, const char *device)
{
	sqlite3_stmt *s;
	int rc;

	if (identity[0] == '\0')
		return 0;
	if (strcmp(identity, device) == 0)
		return 1;
	s = bd_prep("SELECT 1 FROM grants WHERE device=? AND reader=?");
	if (s == NULL)
		return -EIO;
	sqlite3_bind_text(s, 1, device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, identity, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* Runs the grant change on db.  @retval SQLite result (DONE: ok) */
static int bd_grant_apply(sqlite3 *db, const char *device,
			  const char *reader, int revoke)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK;

	if (!revoke)
		rc = sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS grants("
				  "device TEXT NOT NULL, reader TEXT NOT NULL,"
				  " PRIMARY KEY(device, reader))", NULL, NULL,
				  NULL);
	if (rc != SQLITE_OK ||
	    sqlite3_prepare_v2(db, revoke
			       ? "DELETE FROM grants WHERE device=? AND reader=?"
			       : "INSERT OR IGNORE INTO grants(device, reader)"
				 " VALUES(?,?)", -1, &s, NULL) != SQLITE_OK)
		return SQLITE_ERROR;
	sqlite3_bind_text(s, 1, device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, reader, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc;
}

/* see backupd.h */
int bd_catalog_grant(const char *data_dir, const char *spec, int revoke)
{
	const char *eq = strchr(spec, '=');
	char db_path[BD_PATH_MAX], device[V3_NAME_FIELD];
	sqlite3 *db = NULL;
	int rc = SQLITE_ERROR;

	if (eq == NULL || eq == spec || eq[1] == '\0' ||
	    (size_t)(eq - spec) >= sizeof device) {
		fprintf(stderr, "vigil-backupd: want DEVICE=READER, got '%s'\n",
			spec);
		return 2;
	}
	memcpy(device, spec, (size_t)(eq - spec));
	device[eq - spec] = '\0';
	snprintf(db_path, sizeof db_path, "%s/backupd.sqlite", data_dir);
	/* not bd_store_open: it would clean a running server's temp files */
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = bd_grant_apply(db, device, eq + 1, revoke);
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "vigil-backupd: %s: %s\n", db_path,
			db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return 1;
	}
	sqlite3_close(db);
	fprintf(stderr, "vigil-backupd: %s %s to read %s\n",
		revoke ? "no longer allowing" : "allowing", eq + 1, device);
	return 0;
}

/* see backupd.h */
int bd_catalog_snapshot(const uint8_t id[V3_ID_SIZE], uint64_t snapshot,
			uint64_t *out)
{
	sqlite3_stmt *s = bd_prep(
		"SELECT MAX(v.session_id) FROM versions v"
		" JOIN files f ON f.id = v.file_id"
		" WHERE f.client_id=?1 AND (?2 = 0 OR v.session_id = ?2)"
		" AND v.session_id NOT IN (SELECT session_id FROM pruned)");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_blob(s, 1, id, V3_ID_SIZE, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)snapshot);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = (uint64_t)sqlite3_column_int64(s, 0);
		ret = 0;
	} else if (rc != SQLITE_ROW) {
		ret = -EIO;
	}
	sqlite3_finalize(s);
	return ret;
}

/* One row of the listing into e. */
static void bd_catalog_row(sqlite3_stmt *s, struct v3x_msg *e)
{
	const unsigned char *name = sqlite3_column_text(s, 8);
	size_t n = (size_t)sqlite3_column_bytes(s, 8);

	memset(e, 0, sizeof *e);
	e->code = V3X_RESP_ENTRY;
	e->file_id = (uint64_t)sqlite3_column_int64(s, 0);
	e->version = (uint32_t)sqlite3_column_int64(s, 1);
	e->size = (uint64_t)sqlite3_column_int64(s, 2);
	e->cksum = (uint32_t)sqlite3_column_int64(s, 3);
	if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
		e->mode = (uint32_t)sqlite3_column_int64(s, 4) & 07777u;
		e->mtime_s = sqlite3_column_int64(s, 5);
		e->mtime_ns = (uint32_t)sqlite3_column_int64(s, 6);
	} else {
		/* stored without 1044 (plain v3): the time it was stored */
		e->mtime_s = sqlite3_column_int64(s, 7) / 1000;
	}
	if (e->mtime_ns >= 1000000000u)
		e->mtime_ns = 0;
	if (name != NULL && n < sizeof e->name)
		memcpy(e->name, name, n);
}

/* see backupd.h */
int bd_catalog_list(const uint8_t id[V3_ID_SIZE], uint64_t snapshot,
		    uint64_t after, struct v3x_msg *e, unsigned max, int *more)
{
	sqlite3_stmt *s = bd_prep(
		"SELECT f.id, v.version, v.size, v.cksum, v.mode, v.mtime_s,"
		" v.mtime_ns, v.stored_ms, f.name FROM files f"
		" JOIN versions v ON v.file_id = f.id"
		" WHERE f.client_id=?1 AND f.id > ?2 AND v.version ="
		" (SELECT MAX(w.version) FROM versions w"
		"  WHERE w.file_id = f.id AND w.session_id <= ?3)"
		" ORDER BY f.id LIMIT ?4");
	unsigned n = 0;
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_blob(s, 1, id, V3_ID_SIZE, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)snapshot);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)max + 1);
	*more = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == max) {
			*more = 1;
			break;
		}
		bd_catalog_row(s, &e[n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_err(MOD, "listing: database error %d", rc);
		return -EIO;
	}
	return (int)n;
}

/* One integer from sql, 0 on any failure. */
static uint64_t bd_catalog_count(const char *sql)
{
	sqlite3_stmt *s = bd_prep(sql);
	uint64_t v = 0;

	if (s == NULL)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* see backupd.h */
void bd_catalog_counts(struct bd_store_counts *n)
{
	n->snapshots = bd_catalog_count(
		"SELECT COUNT(DISTINCT session_id) FROM versions WHERE session_id"
		" NOT IN (SELECT session_id FROM pruned)");
	n->files = bd_catalog_count("SELECT COUNT(*) FROM files");
	n->versions = bd_catalog_count("SELECT COUNT(*) FROM versions");
	/* the content once, and what versions of before the content store
	 * hold on their own */
	n->bytes_stored = bd_catalog_count(
		"SELECT (SELECT COALESCE(SUM(size), 0) FROM content) +"
		" (SELECT COALESCE(SUM(size), 0) FROM versions"
		" WHERE sha256 IS NULL)");
	n->bytes_logical = bd_catalog_count(
		"SELECT COALESCE(SUM(size), 0) FROM versions");
	n->contents = bd_catalog_count("SELECT COUNT(*) FROM content");
	n->partials = bd_catalog_count("SELECT COUNT(*) FROM partials");
	n->bytes_freed = bd_catalog_count("SELECT COALESCE(SUM(bytes_freed), 0)"
					  " FROM stats");
}

/* 1 when rel (under the data directory) exists. */
static int bd_catalog_exists(const char *rel)
{
	char p[BD_PATH_MAX];

	if (bd_blob_key(rel) != NULL)   /* an object: there before its row */
		return 1;
	return snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(), rel) <
	       (int)sizeof p && access(p, F_OK) == 0;
}

/* see backupd.h */
int bd_catalog_version(const uint8_t id[V3_ID_SIZE], uint64_t file_id,
		       uint32_t version, char *path, size_t cap,
		       uint64_t *size)
{
	sqlite3_stmt *s = bd_prep(
		"SELECT v.path, v.size, c.path FROM versions v"
		" JOIN files f ON f.id = v.file_id"
		" LEFT JOIN content c ON c.sha256 = v.sha256"
		" WHERE f.client_id=? AND f.id=? AND v.version=?");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_blob(s, 1, id, V3_ID_SIZE, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)file_id);
	sqlite3_bind_int64(s, 3, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);

		/* a version's own link lost in a crash: its content */
		if (p != NULL && sqlite3_column_type(s, 2) != SQLITE_NULL &&
		    !bd_catalog_exists((const char *)p)) {
			p = sqlite3_column_text(s, 2);
			n = (size_t)sqlite3_column_bytes(s, 2);
		}
		ret = -EIO;
		if (p != NULL && n < cap) {
			memcpy(path, p, n);
			path[n] = '\0';
			*size = (uint64_t)sqlite3_column_int64(s, 1);
			ret = 0;
		}
	} else if (rc != SQLITE_DONE) {
		ret = -EIO;
	}
	sqlite3_finalize(s);
	return ret;
}

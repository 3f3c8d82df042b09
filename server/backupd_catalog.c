/*
 * backupd_catalog.c — the store seen as snapshots, for restore
 * (docs/protocol/cyberbackup-v3.md, "Extension: restore"): a device is a
 * v3 client (by name), a snapshot is a session that stored files (or
 * sealed a run), and snapshot S holds each file's newest version stored
 * in a session <= S, of the files it has as members: every file until
 * the device's first sealed run, then those the newest sealed run <= S
 * stored or kept and what was stored after it (BD_SQL_MEMBER).  Files
 * stored over plain v3 are in it like any other.
 */
#include "backupd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal/clock.h"
#include "log.h"

#define MOD "store"

/* see backupd.h */
int bd_catalog_device(const char *name, uint8_t id[V3_ID_SIZE])
{
	struct bd_stmt *s = bd_prep("SELECT id FROM clients WHERE name=?");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, name);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW && bd_db_column_bytes(s, 0) == V3_ID_SIZE) {
		memcpy(id, bd_db_column_blob(s, 0), V3_ID_SIZE);
		ret = 0;
	} else if (rc != BD_DB_DONE) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

/* see backupd.h */
int bd_catalog_may_read(const char *identity, const char *device)
{
	struct bd_stmt *s;
	int rc;

	if (identity[0] == '\0')
		return 0;
	if (strcmp(identity, device) == 0)
		return 1;
	s = bd_prep("SELECT 1 FROM grants WHERE device=? AND reader=?");
	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, device);
	bd_db_bind_text(s, 2, identity);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_ROW ? 1 : rc == BD_DB_DONE ? 0 : -EIO;
}

/* Runs the grant change.  @retval BD_DB_DONE ok, else the error */
static int bd_grant_apply(const char *device, const char *reader, int revoke)
{
	struct bd_stmt *s = bd_prep(revoke
			       ? "DELETE FROM grants WHERE device=? AND reader=?"
			       : "INSERT INTO grants(device, reader)"
				 " VALUES(?,?) ON CONFLICT DO NOTHING");
	int rc;

	if (s == NULL)
		return BD_DB_ERROR;
	bd_db_bind_text(s, 1, device);
	bd_db_bind_text(s, 2, reader);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc;
}

/* see backupd.h */
int bd_catalog_grant(const char *data_dir, const char *spec, int revoke)
{
	const char *eq = strchr(spec, '=');
	char device[V3_NAME_FIELD];
	int rc = BD_DB_ERROR;

	if (eq == NULL || eq == spec || eq[1] == '\0' ||
	    (size_t)(eq - spec) >= sizeof device) {
		fprintf(stderr, "vigil-backupd: want DEVICE=READER, got '%s'\n",
			spec);
		return 2;
	}
	memcpy(device, spec, (size_t)(eq - spec));
	device[eq - spec] = '\0';
	/* not bd_store_open: it would clean a running server's temp files */
	if (bd_store_open_existing(data_dir) == 0)
		rc = bd_grant_apply(device, eq + 1, revoke);
	if (rc != BD_DB_DONE) {
		fprintf(stderr, "vigil-backupd: %s: %s\n", data_dir,
			bd_store_db() ? bd_db_errmsg(bd_store_db())
				      : "cannot open the database");
		bd_store_close();
		return 1;
	}
	bd_store_close();
	fprintf(stderr, "vigil-backupd: %s %s to read %s\n",
		revoke ? "no longer allowing" : "allowing", eq + 1, device);
	return 0;
}

/* see backupd.h */
int bd_catalog_snapshot(const uint8_t id[V3_ID_SIZE], uint64_t snapshot,
			uint64_t *out)
{
	struct bd_stmt *s = bd_prep(
		"SELECT MAX(x.id) FROM (" BD_SQL_SNAPS("?1") ") x"
		" WHERE (?2 = 0 OR x.id = ?2)"
		" AND x.id NOT IN (SELECT session_id FROM pruned)");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_int64(s, 2, (int64_t)snapshot);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW && !bd_db_column_is_null(s, 0)) {
		*out = (uint64_t)bd_db_column_int64(s, 0);
		ret = 0;
	} else if (rc != BD_DB_ROW) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

/* The statement sql with client id as ?1 and the integers a, b bound to
 * ?2 and ?3 (b ignored where sql has no ?3), stepped once: its first
 * column (0 for NULL), or -EIO. */
static int64_t bd_catalog_int(const char *sql, const uint8_t id[V3_ID_SIZE],
			      int64_t a, int64_t b)
{
	struct bd_stmt *s = bd_prep(sql);
	int64_t v = -EIO;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_int64(s, 2, a);
	bd_db_bind_int64(s, 3, b);
	if (bd_db_step(s) == BD_DB_ROW)
		v = bd_db_column_int64(s, 0);
	bd_db_finalize(s);
	return v;
}

/* see backupd.h */
int bd_catalog_keep(const uint8_t id[V3_ID_SIZE], int64_t session,
		    const char *name)
{
	struct bd_stmt *s = bd_prep("SELECT id FROM files"
				  " WHERE client_id = ? AND name = ?");
	int64_t file = 0;
	int rc;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_text(s, 2, name);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW)
		file = bd_db_column_int64(s, 0);
	bd_db_finalize(s);
	if (rc != BD_DB_ROW)
		return rc == BD_DB_DONE ? 0 : -EIO;
	s = bd_prep("INSERT INTO kept(file_id, session_id) VALUES(?, ?)"
		    " ON CONFLICT DO NOTHING");
	if (s == NULL)
		return -EIO;
	bd_db_bind_int64(s, 1, file);
	bd_db_bind_int64(s, 2, session);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_DONE ? 1 : -EIO;
}

/* see backupd.h */
int bd_catalog_seal(const uint8_t id[V3_ID_SIZE], int64_t session,
		    uint32_t sessions, uint32_t *files)
{
	/* the run's first session: the sessions-th newest of the client's
	 * up to this one (fewer exist: its first) */
	int64_t lo = bd_catalog_int(
		"SELECT MIN(r.id) FROM (SELECT id FROM sessions"
		" WHERE client_id = ?1 AND id <= ?2 ORDER BY id DESC LIMIT ?3) r",
		id, session, sessions);
	struct bd_stmt *s;
	int64_t n;
	int rc;

	if (lo <= 0)
		return -EIO;
	s = bd_prep("UPDATE sessions SET sealed = ?, ended_ms = ? WHERE id = ?");
	if (s == NULL)
		return -EIO;
	bd_db_bind_int64(s, 1, lo);
	bd_db_bind_int64(s, 2, hal_clock_wall_ms());
	bd_db_bind_int64(s, 3, session);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	if (rc != BD_DB_DONE)
		return -EIO;
	n = bd_catalog_int("SELECT COUNT(*) FROM files f WHERE f.client_id = ?1"
			   " AND EXISTS (SELECT 1 FROM versions w WHERE"
			   " w.file_id = f.id AND w.session_id <= ?2) AND "
			   BD_SQL_MEMBER("f.id", "?2", "?3"), id, session, lo);
	if (n < 0)
		return -EIO;
	*files = (uint32_t)n;
	return 0;
}

/* One row of the listing into e. */
static void bd_catalog_row(struct bd_stmt *s, struct v3x_msg *e)
{
	const char *name = bd_db_column_text(s, 8);
	size_t n = (size_t)bd_db_column_bytes(s, 8);

	memset(e, 0, sizeof *e);
	e->code = V3X_RESP_ENTRY;
	e->file_id = (uint64_t)bd_db_column_int64(s, 0);
	e->version = (uint32_t)bd_db_column_int64(s, 1);
	e->size = (uint64_t)bd_db_column_int64(s, 2);
	e->cksum = (uint32_t)bd_db_column_int64(s, 3);
	if (!bd_db_column_is_null(s, 4)) {
		e->mode = (uint32_t)bd_db_column_int64(s, 4) & 07777u;
		e->mtime_s = bd_db_column_int64(s, 5);
		e->mtime_ns = (uint32_t)bd_db_column_int64(s, 6);
	} else {
		/* stored without 1044 (plain v3): the time it was stored */
		e->mtime_s = bd_db_column_int64(s, 7) / 1000;
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
	struct bd_stmt *s = bd_prep(
		"SELECT f.id, v.version, v.size, v.cksum, v.mode, v.mtime_s,"
		" v.mtime_ns, v.stored_ms, f.name FROM files f"
		" JOIN versions v ON v.file_id = f.id"
		" WHERE f.client_id=?1 AND f.id > ?2 AND v.version ="
		" (SELECT MAX(w.version) FROM versions w"
		"  WHERE w.file_id = f.id AND w.session_id <= ?3)"
		" AND " BD_SQL_MEMBER("f.id", "?3", "?5")
		" ORDER BY f.id LIMIT ?4");
	int64_t lo = bd_catalog_int("SELECT " BD_SQL_LO("?1", "?2"), id,
				    (int64_t)snapshot, 0);
	unsigned n = 0;
	int rc;

	if (s == NULL || lo < 0) {
		bd_db_finalize(s);
		return -EIO;
	}
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_int64(s, 2, (int64_t)after);
	bd_db_bind_int64(s, 3, (int64_t)snapshot);
	bd_db_bind_int64(s, 4, (int64_t)max + 1);
	bd_db_bind_int64(s, 5, lo);
	*more = 0;
	while ((rc = bd_db_step(s)) == BD_DB_ROW) {
		if (n == max) {
			*more = 1;
			break;
		}
		bd_catalog_row(s, &e[n++]);
	}
	bd_db_finalize(s);
	if (rc != BD_DB_ROW && rc != BD_DB_DONE) {
		log_err(MOD, "listing: database error %d", rc);
		return -EIO;
	}
	return (int)n;
}

/* One integer from sql, 0 on any failure. */
static uint64_t bd_catalog_count(const char *sql)
{
	struct bd_stmt *s = bd_prep(sql);
	uint64_t v = 0;

	if (s == NULL)
		return 0;
	if (bd_db_step(s) == BD_DB_ROW)
		v = (uint64_t)bd_db_column_int64(s, 0);
	bd_db_finalize(s);
	return v;
}

/* see backupd.h */
void bd_catalog_counts(struct bd_store_counts *n)
{
	n->snapshots = bd_catalog_count(
		"SELECT COUNT(*) FROM (SELECT session_id AS id FROM versions"
		" UNION SELECT id FROM sessions WHERE sealed IS NOT NULL) x"
		" WHERE x.id NOT IN (SELECT session_id FROM pruned)");
	n->sealed = bd_catalog_count(
		"SELECT COUNT(*) FROM sessions WHERE sealed IS NOT NULL"
		" AND id NOT IN (SELECT session_id FROM pruned)");
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
	struct bd_stmt *s = bd_prep(
		"SELECT v.path, v.size, c.path FROM versions v"
		" JOIN files f ON f.id = v.file_id"
		" LEFT JOIN content c ON c.sha256 = v.sha256"
		" WHERE f.client_id=? AND f.id=? AND v.version=?");
	int rc, ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	bd_db_bind_int64(s, 2, (int64_t)file_id);
	bd_db_bind_int64(s, 3, version);
	rc = bd_db_step(s);
	if (rc == BD_DB_ROW) {
		const char *p = bd_db_column_text(s, 0);
		size_t n = (size_t)bd_db_column_bytes(s, 0);

		/* a version's own link lost in a crash: its content */
		if (p != NULL && !bd_db_column_is_null(s, 2) &&
		    !bd_catalog_exists((const char *)p)) {
			p = bd_db_column_text(s, 2);
			n = (size_t)bd_db_column_bytes(s, 2);
		}
		ret = -EIO;
		if (p != NULL && n < cap) {
			memcpy(path, p, n);
			path[n] = '\0';
			*size = (uint64_t)bd_db_column_int64(s, 1);
			ret = 0;
		}
	} else if (rc != BD_DB_DONE) {
		ret = -EIO;
	}
	bd_db_finalize(s);
	return ret;
}

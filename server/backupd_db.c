/*
 * backupd_db.c — the metadata database shim (backupd_db.h): the API and
 * its SQLite backend, a thin layer over sqlite3_*.  The PostgreSQL
 * backend is backupd_db_pg.c; each call here hands a PostgreSQL handle
 * to it.
 */
#include "backupd_db.h"
#include "backupd_db_pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"

#define MOD "store"

struct bd_db {
	sqlite3 *lite;
	struct bd_pg *pg;
};

struct bd_stmt {
	struct bd_db *db;
	sqlite3_stmt *lite;
	struct bd_pg_stmt *pg;
};

/* see backupd_db.h */
int bd_db_where_is_pg(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	       strncmp(where, "postgres://", 11) == 0 ||
	       strchr(where, '=') != NULL;
}

static int bd_db_open_lite(struct bd_db *db, const char *path,
			   enum bd_db_mode mode, int busy_ms)
{
	int flags = mode == BD_DB_READONLY ? SQLITE_OPEN_READONLY
		    : mode == BD_DB_READWRITE ? SQLITE_OPEN_READWRITE
		    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (sqlite3_open_v2(path, &db->lite, flags, NULL) != SQLITE_OK) {
		log_err(MOD, "cannot open %s: %s", path,
			db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
		sqlite3_close(db->lite);
		return -EIO;
	}
	sqlite3_busy_timeout(db->lite, busy_ms);
	return 0;
}

/* see backupd_db.h */
int bd_db_open(const char *where, enum bd_db_mode mode, int busy_ms,
	       struct bd_db **out)
{
	struct bd_db *db = calloc(1, sizeof *db);
	int ret;

	*out = NULL;
	if (db == NULL)
		return -EIO;
	ret = bd_db_where_is_pg(where) ? bd_pg_open(where, &db->pg)
	      : bd_db_open_lite(db, where, mode, busy_ms);
	if (ret != 0) {
		free(db);
		return -EIO;
	}
	*out = db;
	return 0;
}

/* see backupd_db.h */
void bd_db_close(struct bd_db *db)
{
	if (db == NULL)
		return;
	if (db->pg != NULL)
		bd_pg_close(db->pg);
	else
		sqlite3_close(db->lite);
	free(db);
}

/* see backupd_db.h */
int bd_db_is_pg(const struct bd_db *db)
{
	return db->pg != NULL;
}

/* see backupd_db.h */
const char *bd_db_errmsg(const struct bd_db *db)
{
	return db->pg != NULL ? bd_pg_errmsg(db->pg) : sqlite3_errmsg(db->lite);
}

/* see backupd_db.h */
int bd_db_exec(struct bd_db *db, const char *sql)
{
	if (db->pg != NULL)
		return bd_pg_exec(db->pg, sql);
	return sqlite3_exec(db->lite, sql, NULL, NULL, NULL) == SQLITE_OK
	       ? BD_DB_OK : BD_DB_ERROR;
}

/* see backupd_db.h */
int bd_db_begin(struct bd_db *db, int exclusive)
{
	if (db->pg != NULL)
		return bd_pg_begin(db->pg, exclusive);
	/* one writer at a time is what SQLite is: exclusive or not */
	return bd_db_exec(db, "BEGIN IMMEDIATE");
}

/* see backupd_db.h */
int bd_db_commit(struct bd_db *db)
{
	if (db->pg != NULL)
		return bd_pg_end(db->pg, 1);
	return bd_db_exec(db, "COMMIT");
}

/* see backupd_db.h */
int bd_db_rollback(struct bd_db *db)
{
	if (db->pg != NULL)
		return bd_pg_end(db->pg, 0);
	return bd_db_exec(db, "ROLLBACK");
}

/* see backupd_db.h */
int bd_db_prepare(struct bd_db *db, const char *sql, struct bd_stmt **out)
{
	struct bd_stmt *s = calloc(1, sizeof *s);
	int ok;

	*out = NULL;
	if (s == NULL)
		return BD_DB_ERROR;
	s->db = db;
	ok = db->pg != NULL ? bd_pg_prepare(db->pg, sql, &s->pg) == 0
	     : sqlite3_prepare_v2(db->lite, sql, -1, &s->lite, NULL) ==
	       SQLITE_OK;
	if (!ok) {
		free(s);
		return BD_DB_ERROR;
	}
	*out = s;
	return BD_DB_OK;
}

/* see backupd_db.h */
void bd_db_bind_int64(struct bd_stmt *s, int i, int64_t v)
{
	if (s->pg != NULL)
		bd_pg_bind_int64(s->pg, i, v);
	else
		sqlite3_bind_int64(s->lite, i, v);
}

/* see backupd_db.h */
void bd_db_bind_text(struct bd_stmt *s, int i, const char *v)
{
	if (s->pg != NULL)
		bd_pg_bind(s->pg, i, v, strlen(v), BD_PG_TEXT);
	else
		sqlite3_bind_text(s->lite, i, v, -1, SQLITE_TRANSIENT);
}

/* see backupd_db.h */
void bd_db_bind_blob(struct bd_stmt *s, int i, const void *p, size_t n)
{
	if (s->pg != NULL)
		bd_pg_bind(s->pg, i, p, n, BD_PG_BYTEA);
	else
		sqlite3_bind_blob(s->lite, i, p, (int)n, SQLITE_TRANSIENT);
}

/* SQLite's result codes, the extended ones folded to their base. */
static int bd_db_lite_rc(int rc)
{
	rc &= 0xff;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT)
		return rc;
	return BD_DB_ERROR;
}

/* see backupd_db.h */
int bd_db_step(struct bd_stmt *s)
{
	if (s->pg != NULL)
		return bd_pg_step(s->pg);
	return bd_db_lite_rc(sqlite3_step(s->lite));
}

/* see backupd_db.h */
void bd_db_reset(struct bd_stmt *s)
{
	if (s->pg != NULL)
		bd_pg_reset(s->pg);
	else
		sqlite3_reset(s->lite);
}

/* see backupd_db.h */
void bd_db_finalize(struct bd_stmt *s)
{
	if (s == NULL)
		return;
	if (s->pg != NULL)
		bd_pg_finalize(s->pg);
	else
		sqlite3_finalize(s->lite);
	free(s);
}

/* see backupd_db.h */
int64_t bd_db_column_int64(struct bd_stmt *s, int i)
{
	if (s->pg != NULL)
		return bd_pg_column_int64(s->pg, i);
	return sqlite3_column_int64(s->lite, i);
}

/* see backupd_db.h */
int bd_db_column_int(struct bd_stmt *s, int i)
{
	return (int)bd_db_column_int64(s, i);
}

/* see backupd_db.h */
const char *bd_db_column_text(struct bd_stmt *s, int i)
{
	if (s->pg != NULL)
		return bd_pg_column_text(s->pg, i);
	return (const char *)sqlite3_column_text(s->lite, i);
}

/* see backupd_db.h */
const void *bd_db_column_blob(struct bd_stmt *s, int i)
{
	if (s->pg != NULL)
		return bd_pg_column_blob(s->pg, i, NULL);
	return sqlite3_column_blob(s->lite, i);
}

/* see backupd_db.h */
int bd_db_column_bytes(struct bd_stmt *s, int i)
{
	size_t n = 0;

	if (s->pg == NULL)
		return sqlite3_column_bytes(s->lite, i);
	(void)bd_pg_column_blob(s->pg, i, &n);
	return (int)n;
}

/* see backupd_db.h */
int bd_db_column_is_null(struct bd_stmt *s, int i)
{
	if (s->pg != NULL)
		return bd_pg_column_is_null(s->pg, i);
	return sqlite3_column_type(s->lite, i) == SQLITE_NULL;
}

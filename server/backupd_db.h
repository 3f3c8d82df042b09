/*
 * backupd_db.h — vigil-backupd's metadata database, SQLite or PostgreSQL
 * (docs/backupd.md, "Metadata backends").
 *
 * The calls mirror the shapes of the sqlite3 API the store was written
 * against (prepare with ? or ?N placeholders, bind, step to a row or to
 * done, column_*, finalize), so each query's SQL stays beside the code
 * that uses it and one text serves both engines.  What differs between
 * the engines is kept in here: placeholders become $N for PostgreSQL,
 * blobs travel as BYTEA, booleans read as 0/1, a transaction that wants
 * to write is BEGIN IMMEDIATE on SQLite and BEGIN plus a shared advisory
 * lock on PostgreSQL (prune takes it exclusively, which is what SQLite's
 * single writer gives for free), and a PostgreSQL connection that died
 * is opened again on the next statement outside a transaction.
 */
#ifndef VIGIL_BACKUPD_DB_H
#define VIGIL_BACKUPD_DB_H

#include <stddef.h>
#include <stdint.h>

/* Results of bd_db_step and bd_db_exec (the values SQLite uses). */
enum {
	BD_DB_OK = 0,
	BD_DB_ERROR = 1,
	BD_DB_CONSTRAINT = 19,  /* a unique or foreign key was violated */
	BD_DB_ROW = 100,
	BD_DB_DONE = 101,
};

/* How bd_db_open opens a SQLite file (PostgreSQL ignores it). */
enum bd_db_mode {
	BD_DB_CREATE,           /* read-write, created when missing */
	BD_DB_READWRITE,        /* read-write, must exist */
	BD_DB_READONLY,
};

struct bd_db;
struct bd_stmt;

/* Opens the database: where is a PostgreSQL connection string (a
 * postgresql:// or postgres:// URI, or key=value conninfo with an '=')
 * or else a SQLite file path.  busy_ms: how long SQLite waits for a
 * lock.  @retval 0 (*out set)  @retval -EIO (logged; *out NULL) */
int bd_db_open(const char *where, enum bd_db_mode mode, int busy_ms,
	       struct bd_db **out);
void bd_db_close(struct bd_db *db);
/* 1 when where names a PostgreSQL database (see bd_db_open). */
int bd_db_where_is_pg(const char *where);
/* 1 for a PostgreSQL connection. */
int bd_db_is_pg(const struct bd_db *db);
/* The last error's text. */
const char *bd_db_errmsg(const struct bd_db *db);

/* Runs sql (one or more statements, no parameters).
 * @retval BD_DB_OK  @retval BD_DB_ERROR (message: bd_db_errmsg) */
int bd_db_exec(struct bd_db *db, const char *sql);
/* Opens a write transaction: exclusive = 1 waits until every other
 * writer's transaction (of any instance) has ended and keeps them out.
 * @retval BD_DB_OK / BD_DB_ERROR */
int bd_db_begin(struct bd_db *db, int exclusive);
/* Ends the open transaction.  @retval BD_DB_OK  @retval BD_DB_ERROR
 * (for commit: nothing of it was kept) */
int bd_db_commit(struct bd_db *db);
int bd_db_rollback(struct bd_db *db);

/* Prepares sql.  @retval 0  @retval BD_DB_ERROR (*out NULL) */
int bd_db_prepare(struct bd_db *db, const char *sql, struct bd_stmt **out);
/* Parameters count from 1; an unbound one is NULL.  Values are copied.
 * A parameter the statement does not have is ignored, on both backends
 * (bd_catalog_int binds ?3 to statements that have two). */
void bd_db_bind_int64(struct bd_stmt *s, int i, int64_t v);
void bd_db_bind_text(struct bd_stmt *s, int i, const char *v);
void bd_db_bind_blob(struct bd_stmt *s, int i, const void *p, size_t n);
/* Runs the statement (first call) or moves to its next row.
 * @retval BD_DB_ROW / BD_DB_DONE / BD_DB_CONSTRAINT / BD_DB_ERROR */
int bd_db_step(struct bd_stmt *s);
/* Back to before the first step; bindings stay. */
void bd_db_reset(struct bd_stmt *s);
void bd_db_finalize(struct bd_stmt *s);

/* The current row's column i (from 0).  NULL reads as 0 / NULL. */
int64_t bd_db_column_int64(struct bd_stmt *s, int i);
int bd_db_column_int(struct bd_stmt *s, int i);
const char *bd_db_column_text(struct bd_stmt *s, int i);
const void *bd_db_column_blob(struct bd_stmt *s, int i);
/* Bytes of a text or blob column. */
int bd_db_column_bytes(struct bd_stmt *s, int i);
int bd_db_column_is_null(struct bd_stmt *s, int i);

#endif

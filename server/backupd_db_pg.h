/*
 * backupd_db_pg.h — the PostgreSQL backend of the metadata shim
 * (backupd_db.h), over libpq.  Only backupd_db.c calls it.
 */
#ifndef VIGIL_BACKUPD_DB_PG_H
#define VIGIL_BACKUPD_DB_PG_H

#include <stddef.h>
#include <stdint.h>

struct bd_pg;
struct bd_pg_stmt;

enum bd_pg_kind { BD_PG_TEXT, BD_PG_BYTEA };

/* @retval 0  @retval -EIO (logged) */
int bd_pg_open(const char *conninfo, struct bd_pg **out);
void bd_pg_close(struct bd_pg *pg);
const char *bd_pg_errmsg(const struct bd_pg *pg);
int bd_pg_exec(struct bd_pg *pg, const char *sql);
int bd_pg_begin(struct bd_pg *pg, int exclusive);
/* Commits (commit = 1) or rolls back the open transaction. */
int bd_pg_end(struct bd_pg *pg, int commit);

int bd_pg_prepare(struct bd_pg *pg, const char *sql, struct bd_pg_stmt **out);
void bd_pg_bind_int64(struct bd_pg_stmt *s, int i, int64_t v);
void bd_pg_bind(struct bd_pg_stmt *s, int i, const void *p, size_t n,
		enum bd_pg_kind kind);
int bd_pg_step(struct bd_pg_stmt *s);
void bd_pg_reset(struct bd_pg_stmt *s);
void bd_pg_finalize(struct bd_pg_stmt *s);
int64_t bd_pg_column_int64(struct bd_pg_stmt *s, int i);
const char *bd_pg_column_text(struct bd_pg_stmt *s, int i);
/* A column's bytes (BYTEA decoded), their count to *n when n != NULL. */
const void *bd_pg_column_blob(struct bd_pg_stmt *s, int i, size_t *n);
int bd_pg_column_is_null(struct bd_pg_stmt *s, int i);

#endif

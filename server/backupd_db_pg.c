/*
 * backupd_db_pg.c — the PostgreSQL backend of the metadata shim
 * (backupd_db.h), over libpq.
 *
 * Statements are the store's SQLite texts with ? and ?N turned into $N;
 * they run with PQexecParams when first stepped, and their rows are read
 * from the whole result (the store's results are small or bounded by a
 * LIMIT).  Parameters go as text (int64 typed INT8) or binary (BYTEA);
 * results come back as text, BYTEA decoded here, booleans as 1/0.
 *
 * Several vigil-backupd instances share one database: a write
 * transaction takes a shared advisory lock and prune an exclusive one,
 * so prune's deletes never race an instance that links new versions to
 * the content prune is about to delete (SQLite's one writer gives the
 * same for free).  Everything else is left to constraints.
 *
 * A lost connection (PostgreSQL restarted, or down) fails the statement
 * that met it; outside a transaction the statement is tried once more on
 * a new connection, inside one the whole transaction fails (every later
 * statement of it, and its COMMIT) so nothing half-done is kept.  While
 * the server stays away a new connection is tried at most once a second,
 * and each try is bounded by connect_timeout (3 s unless the connection
 * string says otherwise).
 */
#include "backupd_db_pg.h"
#include "backupd_db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <postgresql/libpq-fe.h>   /* no -I: its own includes are quoted */

#include "hex.h"
#include "log.h"

#define MOD "store"
#define BD_PG_PARAMS 16
/* Type OIDs (pg_type.h is not a client header). */
#define BD_PG_OID_BYTEA 17u
#define BD_PG_OID_INT8 20u
/* The advisory lock writers share and prune takes alone ("vigl"). */
#define BD_PG_LOCK_WRITE "1986619244"
#define BD_PG_RETRY_MS 1000u

struct bd_pg {
	PGconn *conn;
	int in_tx;              /* between bd_pg_begin and bd_pg_end */
	int tx_broken;          /* the connection died inside it */
	uint64_t next_try_ms;   /* no reconnect attempt before */
	char err[256];
};

struct bd_pg_stmt {
	struct bd_pg *pg;
	char *sql;
	int nparams;
	Oid types[BD_PG_PARAMS];
	char *vals[BD_PG_PARAMS];
	int lens[BD_PG_PARAMS], fmts[BD_PG_PARAMS];
	PGresult *res;
	int row, failed;
	int reads;              /* a SELECT: it changes nothing to undo */
	/* the last BYTEA decoded, of (blob_row, blob_col) */
	unsigned char *blob;
	size_t blob_len, blob_cap;
	int blob_row, blob_col;
};

static uint64_t bd_pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Keeps msg (its first line) as the error text. */
static void bd_pg_set_err(struct bd_pg *pg, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (n >= sizeof pg->err)
		n = sizeof pg->err - 1;
	memcpy(pg->err, msg, n);
	pg->err[n] = '\0';
}

/* Server notices (a CREATE ... IF NOT EXISTS that skipped) to the log. */
static void bd_pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug(MOD, "database: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* see backupd_db_pg.h */
int bd_pg_open(const char *conninfo, struct bd_pg **out)
{
	/* connect_timeout first: the connection string's own overrides it */
	static const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *vals[] = { "3", conninfo, NULL };
	struct bd_pg *pg = calloc(1, sizeof *pg);

	*out = NULL;
	if (pg == NULL)
		return -EIO;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		bd_pg_set_err(pg, pg->conn ? PQerrorMessage(pg->conn)
					   : "out of memory");
		log_err(MOD, "cannot connect to the PostgreSQL database: %s",
			pg->err);
		PQfinish(pg->conn);
		free(pg);
		return -EIO;
	}
	PQsetNoticeProcessor(pg->conn, bd_pg_notice, NULL);
	*out = pg;
	return 0;
}

/* see backupd_db_pg.h */
void bd_pg_close(struct bd_pg *pg)
{
	PQfinish(pg->conn);
	free(pg);
}

/* see backupd_db_pg.h */
const char *bd_pg_errmsg(const struct bd_pg *pg)
{
	return pg->err;
}

/* A working connection: the one there is, or a new one when it died
 * (not more often than every BD_PG_RETRY_MS).  @retval 0 / -EIO */
static int bd_pg_alive(struct bd_pg *pg)
{
	uint64_t now;

	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	now = bd_pg_now_ms();
	if (now < pg->next_try_ms) {
		bd_pg_set_err(pg, "the PostgreSQL database is unreachable");
		return -EIO;
	}
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pg->next_try_ms = now + BD_PG_RETRY_MS;
		bd_pg_set_err(pg, PQerrorMessage(pg->conn));
		log_warn(MOD, "database: reconnecting failed: %s", pg->err);
		return -EIO;
	}
	log_info(MOD, "database: connected again");
	return 0;
}

/* Runs s (or the plain sql when s is NULL), once more on a new
 * connection when the old one died outside a transaction.
 * @retval the result (OK or a SQL error)  @retval NULL connection lost */
static PGresult *bd_pg_run(struct bd_pg *pg, const struct bd_pg_stmt *s,
			   const char *sql)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		PGresult *r;
		ExecStatusType st;

		if (pg->tx_broken) {
			bd_pg_set_err(pg, "the transaction was lost with the "
				      "database connection");
			return NULL;
		}
		if (bd_pg_alive(pg) != 0)
			return NULL;
		r = s != NULL ? PQexecParams(pg->conn, s->sql, s->nparams,
					     s->types,
					     (const char *const *)s->vals,
					     s->lens, s->fmts, 0)
			      : PQexec(pg->conn, sql);
		st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return r;
		bd_pg_set_err(pg, r != NULL ? PQresultErrorMessage(r)
					    : PQerrorMessage(pg->conn));
		if (PQstatus(pg->conn) == CONNECTION_OK)
			return r;       /* a SQL error: the caller looks */
		PQclear(r);
		log_warn(MOD, "database: connection lost: %s", pg->err);
		if (pg->in_tx) {
			pg->tx_broken = 1;
			return NULL;
		}
	}
	return NULL;
}

/* BD_DB_CONSTRAINT for integrity violations (SQLSTATE class 23). */
static int bd_pg_error_rc(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return state != NULL && strncmp(state, "23", 2) == 0
	       ? BD_DB_CONSTRAINT : BD_DB_ERROR;
}

/* see backupd_db_pg.h */
int bd_pg_exec(struct bd_pg *pg, const char *sql)
{
	PGresult *r = bd_pg_run(pg, NULL, sql);
	ExecStatusType st = PQresultStatus(r);

	PQclear(r);
	return r != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
	       ? BD_DB_OK : BD_DB_ERROR;
}

/* see backupd_db_pg.h */
int bd_pg_begin(struct bd_pg *pg, int exclusive)
{
	if (bd_pg_exec(pg, "BEGIN") != BD_DB_OK)
		return BD_DB_ERROR;
	pg->in_tx = 1;
	if (bd_pg_exec(pg, exclusive
		       ? "SELECT pg_advisory_xact_lock(" BD_PG_LOCK_WRITE ")"
		       : "SELECT pg_advisory_xact_lock_shared("
			 BD_PG_LOCK_WRITE ")") == BD_DB_OK)
		return BD_DB_OK;
	bd_pg_end(pg, 0);
	return BD_DB_ERROR;
}

/* see backupd_db_pg.h */
int bd_pg_end(struct bd_pg *pg, int commit)
{
	PGresult *r;
	int ok;

	if (pg->tx_broken) {
		pg->in_tx = pg->tx_broken = 0;
		return commit ? BD_DB_ERROR : BD_DB_OK;
	}
	r = bd_pg_run(pg, NULL, commit ? "COMMIT" : "ROLLBACK");
	/* COMMIT of a transaction that failed earlier answers ROLLBACK */
	ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
	     (!commit || strcmp(PQcmdStatus(r), "COMMIT") == 0);
	if (r != NULL && !ok && commit)
		bd_pg_set_err(pg, "the transaction failed and was rolled back");
	PQclear(r);
	pg->in_tx = pg->tx_broken = 0;
	return ok ? BD_DB_OK : BD_DB_ERROR;
}

/* Copies sql with ? (numbered in order) and ?N made $N, skipping
 * quoted text; the highest number to s->nparams.  @retval 0 / -EIO */
static int bd_pg_translate(struct bd_pg_stmt *s, const char *sql)
{
	size_t len = strlen(sql), o = 0;
	const char *p;
	int quoted = 0, next = 0;

	s->sql = malloc(len * 3 + 1);   /* "?" grows to at most "$16" */
	if (s->sql == NULL)
		return -EIO;
	for (p = sql; *p != '\0'; p++) {
		int n;

		if (*p == '\'')
			quoted = !quoted;
		if (*p != '?' || quoted) {
			s->sql[o++] = *p;
			continue;
		}
		if (p[1] >= '0' && p[1] <= '9') {
			char *end;

			n = (int)strtol(p + 1, &end, 10);
			p = end - 1;
		} else {
			n = ++next;
		}
		if (n < 1 || n > BD_PG_PARAMS)
			return -EIO;
		o += (size_t)sprintf(s->sql + o, "$%d", n);
		if (n > s->nparams)
			s->nparams = n;
	}
	s->sql[o] = '\0';
	return 0;
}

/* see backupd_db_pg.h */
int bd_pg_prepare(struct bd_pg *pg, const char *sql, struct bd_pg_stmt **out)
{
	struct bd_pg_stmt *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL)
		return -EIO;
	s->pg = pg;
	s->blob_row = -1;
	s->reads = strncmp(sql, "SELECT", 6) == 0;
	if (bd_pg_translate(s, sql) != 0) {
		bd_pg_set_err(pg, "statement has a bad parameter number");
		bd_pg_finalize(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

/* see backupd_db_pg.h */
void bd_pg_bind(struct bd_pg_stmt *s, int i, const void *p, size_t n,
		enum bd_pg_kind kind)
{
	char *v;

	if (i < 1 || i > s->nparams || n > INT32_MAX)
		return;
	v = malloc(n + 1);
	if (v == NULL)
		return;         /* stays NULL: the statement fails its check */
	memcpy(v, p, n);
	v[n] = '\0';
	free(s->vals[i - 1]);
	s->vals[i - 1] = v;
	s->lens[i - 1] = (int)n;
	s->fmts[i - 1] = kind == BD_PG_BYTEA;
	s->types[i - 1] = kind == BD_PG_BYTEA ? BD_PG_OID_BYTEA : 0;
}

/* see backupd_db_pg.h */
void bd_pg_bind_int64(struct bd_pg_stmt *s, int i, int64_t v)
{
	char t[24];

	snprintf(t, sizeof t, "%" PRId64, v);
	bd_pg_bind(s, i, t, strlen(t), BD_PG_TEXT);
	if (i >= 1 && i <= s->nparams)
		s->types[i - 1] = BD_PG_OID_INT8;
}

/* Runs s; inside a transaction in a savepoint of its own: a failed
 * statement (a name already taken) aborts a whole PostgreSQL transaction
 * where SQLite fails only the statement, and the transaction may be a
 * batch other connections' statements share (backupd_content.c).  A
 * SELECT goes without: the store's reads fail only with the connection,
 * and each savepoint is two more round trips. */
static PGresult *bd_pg_run_stmt(struct bd_pg *pg, const struct bd_pg_stmt *s)
{
	PGresult *r;
	int ok;

	if (!pg->in_tx || s->reads)
		return bd_pg_run(pg, s, NULL);
	if (bd_pg_exec(pg, "SAVEPOINT bd_stmt") != BD_DB_OK)
		return NULL;
	r = bd_pg_run(pg, s, NULL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	     PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!pg->tx_broken)
		(void)bd_pg_exec(pg, ok ? "RELEASE bd_stmt"
					: "ROLLBACK TO bd_stmt; RELEASE bd_stmt");
	return r;
}

/* see backupd_db_pg.h */
int bd_pg_step(struct bd_pg_stmt *s)
{
	if (s->res == NULL) {
		PGresult *r;
		ExecStatusType st;

		if (s->failed)
			return BD_DB_ERROR;
		r = bd_pg_run_stmt(s->pg, s);
		st = PQresultStatus(r);
		if (r == NULL ||
		    (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
			int rc = bd_pg_error_rc(r);

			PQclear(r);
			s->failed = 1;
			return rc;
		}
		s->res = r;
		s->row = -1;
	}
	if (PQresultStatus(s->res) != PGRES_TUPLES_OK)
		return BD_DB_DONE;
	if (s->row + 1 < PQntuples(s->res)) {
		s->row++;
		return BD_DB_ROW;
	}
	s->row = PQntuples(s->res);
	return BD_DB_DONE;
}

/* see backupd_db_pg.h */
void bd_pg_reset(struct bd_pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	s->failed = 0;
	s->blob_row = -1;
}

/* see backupd_db_pg.h */
void bd_pg_finalize(struct bd_pg_stmt *s)
{
	int i;

	PQclear(s->res);
	for (i = 0; i < BD_PG_PARAMS; i++)
		free(s->vals[i]);
	free(s->blob);
	free(s->sql);
	free(s);
}

/* 1 when the current row has a non-NULL column i. */
static int bd_pg_has(const struct bd_pg_stmt *s, int i)
{
	return s->res != NULL && s->row >= 0 && s->row < PQntuples(s->res) &&
	       i >= 0 && i < PQnfields(s->res) &&
	       !PQgetisnull(s->res, s->row, i);
}

/* see backupd_db_pg.h */
int bd_pg_column_is_null(struct bd_pg_stmt *s, int i)
{
	return !bd_pg_has(s, i);
}

/* see backupd_db_pg.h */
int64_t bd_pg_column_int64(struct bd_pg_stmt *s, int i)
{
	const char *v;

	if (!bd_pg_has(s, i))
		return 0;
	v = PQgetvalue(s->res, s->row, i);
	if (v[0] == 't' || v[0] == 'f')         /* a boolean */
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

/* see backupd_db_pg.h */
const char *bd_pg_column_text(struct bd_pg_stmt *s, int i)
{
	return bd_pg_has(s, i) ? PQgetvalue(s->res, s->row, i) : NULL;
}

/* Decodes the hex form (\x...) of BYTEA text v into s->blob.
 * @retval 0  @retval -EIO */
static int bd_pg_unhex(struct bd_pg_stmt *s, const char *v, size_t len)
{
	size_t n, k;

	if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2 != 0)
		return -EIO;
	n = (len - 2) / 2;
	if (n + 1 > s->blob_cap) {
		unsigned char *b = realloc(s->blob, n + 1);

		if (b == NULL)
			return -EIO;
		s->blob = b;
		s->blob_cap = n + 1;
	}
	for (k = 0; k < n; k++) {
		int hi = hex_digit(v[2 + 2 * k]), lo = hex_digit(v[3 + 2 * k]);

		if (hi < 0 || lo < 0)
			return -EIO;
		s->blob[k] = (unsigned char)(hi << 4 | lo);
	}
	s->blob_len = n;
	return 0;
}

/* see backupd_db_pg.h */
const void *bd_pg_column_blob(struct bd_pg_stmt *s, int i, size_t *n)
{
	const char *v;
	size_t len;

	if (n != NULL)
		*n = 0;
	if (!bd_pg_has(s, i))
		return NULL;
	v = PQgetvalue(s->res, s->row, i);
	len = (size_t)PQgetlength(s->res, s->row, i);
	if (PQftype(s->res, i) != BD_PG_OID_BYTEA) {
		if (n != NULL)
			*n = len;
		return v;
	}
	if (s->blob_row != s->row || s->blob_col != i) {
		s->blob_row = -1;
		if (bd_pg_unhex(s, v, len) != 0)
			return NULL;
		s->blob_row = s->row;
		s->blob_col = i;
	}
	if (n != NULL)
		*n = s->blob_len;
	return s->blob;
}

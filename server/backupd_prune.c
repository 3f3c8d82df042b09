/*
 * backupd_prune.c — `vigil-backupd prune --data DIR [--keep-last N]
 * [--keep-daily D] [--keep-weekly W]`: retention.  Per device, the
 * snapshots kept are the N newest, the newest of each of the last D days
 * (UTC) that has one, and the newest of each of the last W weeks (7-day
 * periods from the epoch, UTC).  Every other snapshot is marked pruned
 * (it can no longer be listed or restored), and every stored version no
 * kept snapshot references — a kept snapshot S references each file's
 * newest version stored in a session <= S, of the files it holds
 * (BD_SQL_MEMBER: a sealed run's) — is deleted with its name,
 * then every content no version references any more (backupd_content.c)
 * with its bytes.  The bytes freed (content, and versions stored before
 * the content store, which own their bytes) add up in the `stats` table
 * for --status.  Runs on the
 * database of a running server (its transactions wait for each other).
 */
#include "backupd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/clock.h"

#define PRUNE_SNAPS_MAX 65536u
#define DAY_MS 86400000ll

struct bd_keep {
	long last, daily, weekly;
};

struct bd_snap {
	int64_t id, started_ms;
	int64_t lo;             /* BD_SQL_LO: which files it holds */
	int keep;
};

static struct bd_snap bd_snaps[PRUNE_SNAPS_MAX];

/* The device's live snapshots, newest first.  @retval count  @retval -EIO */
static int bd_prune_snaps(const uint8_t id[V3_ID_SIZE])
{
	struct bd_stmt *s = bd_prep(
		"SELECT x.id, COALESCE(s.started_ms, 0), " BD_SQL_LO("?1", "x.id")
		" FROM (" BD_SQL_SNAPS("?1") ") x LEFT JOIN sessions s"
		" ON s.id = x.id WHERE x.id NOT IN"
		" (SELECT session_id FROM pruned) ORDER BY x.id DESC");
	int n = 0;

	if (s == NULL)
		return -EIO;
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	while (bd_db_step(s) == BD_DB_ROW && n < (int)PRUNE_SNAPS_MAX) {
		bd_snaps[n].id = bd_db_column_int64(s, 0);
		bd_snaps[n].started_ms = bd_db_column_int64(s, 1);
		bd_snaps[n].lo = bd_db_column_int64(s, 2);
		bd_snaps[n].keep = 0;
		n++;
	}
	bd_db_finalize(s);
	return n;
}

/* Marks the newest snapshot of each of the last `periods` periods of
 * period_ms (counted back from now's period) as kept. */
static void bd_keep_periods(int n, long periods, int64_t period_ms,
			    int64_t now)
{
	int64_t newest = now / period_ms, last = -1;
	int i;

	for (i = 0; i < n; i++) {
		int64_t p = bd_snaps[i].started_ms / period_ms;

		if (p <= newest - periods)
			break;
		if (p != last)          /* newest first: the period's newest */
			bd_snaps[i].keep = 1;
		last = p;
	}
}

static int bd_exec(const char *sql)
{
	return bd_db_exec(bd_store_db(), sql) == BD_DB_OK ? 0 : -EIO;
}

/* Deletes the versions of client id that no kept snapshot (in table
 * keep_snap) references; their bytes to *freed.  @retval count / -EIO */
static int bd_prune_versions(const uint8_t id[V3_ID_SIZE], uint64_t *freed)
{
	static const char dead[] =
		"SELECT v.file_id, v.version, v.path, v.size, v.sha256 IS NULL"
		" FROM versions v"
		" JOIN files f ON f.id = v.file_id WHERE f.client_id = ?1"
		" AND NOT EXISTS (SELECT 1 FROM keep_snap k WHERE v.version ="
		" (SELECT MAX(w.version) FROM versions w WHERE w.file_id ="
		" v.file_id AND w.session_id <= k.id) AND "
		BD_SQL_MEMBER("v.file_id", "k.id", "k.lo") ")";
	struct bd_stmt *s = bd_prep(dead), *d = bd_prep(
		"DELETE FROM versions WHERE file_id = ? AND version = ?");
	int n = 0;

	if (s == NULL || d == NULL) {
		bd_db_finalize(s);
		bd_db_finalize(d);
		return -EIO;
	}
	bd_db_bind_blob(s, 1, id, V3_ID_SIZE);
	while (bd_db_step(s) == BD_DB_ROW) {
		const char *rel = (const char *)bd_db_column_text(s, 2);
		char p[BD_PATH_MAX];

		/* a version named by its content path (EMLINK) leaves the
		 * content to bd_content_gc */
		if (rel != NULL && strncmp(rel, ".content/", 9) != 0 &&
		    bd_blob_key(rel) == NULL &&
		    snprintf(p, sizeof p, "%s/%s", bd_store_data_dir(), rel) <
		    (int)sizeof p)
			unlink(p);
		if (bd_db_column_int(s, 4))   /* owns its bytes */
			*freed += (uint64_t)bd_db_column_int64(s, 3);
		bd_db_bind_int64(d, 1, bd_db_column_int64(s, 0));
		bd_db_bind_int64(d, 2, bd_db_column_int64(s, 1));
		bd_db_step(d);
		bd_db_reset(d);
		n++;
	}
	bd_db_finalize(s);
	bd_db_finalize(d);
	return n;
}

/* Records the kept set in keep_snap and the others as pruned. */
static int bd_prune_mark(int n)
{
	struct bd_stmt *k = bd_prep("INSERT INTO keep_snap(id, lo) VALUES(?, ?)");
	struct bd_stmt *p = bd_prep("INSERT INTO pruned(session_id)"
				  " VALUES(?) ON CONFLICT DO NOTHING");
	int i, pruned = 0;

	if (k == NULL || p == NULL) {
		bd_db_finalize(k);
		bd_db_finalize(p);
		return -EIO;
	}
	for (i = 0; i < n; i++) {
		struct bd_stmt *s = bd_snaps[i].keep ? k : p;

		bd_db_bind_int64(s, 1, bd_snaps[i].id);
		if (s == k)
			bd_db_bind_int64(k, 2, bd_snaps[i].lo);
		bd_db_step(s);
		bd_db_reset(s);
		pruned += !bd_snaps[i].keep;
	}
	bd_db_finalize(k);
	bd_db_finalize(p);
	return pruned;
}

/* One device.  @retval 0  @retval -EIO */
static int bd_prune_device(const uint8_t id[V3_ID_SIZE], const char *name,
			   const struct bd_keep *k, uint64_t *freed_all)
{
	int64_t now = hal_clock_wall_ms();
	uint64_t freed = 0;
	int n, i, pruned, deleted;

	n = bd_prune_snaps(id);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < k->last; i++)
		bd_snaps[i].keep = 1;
	bd_keep_periods(n, k->daily, DAY_MS, now);
	bd_keep_periods(n, k->weekly, 7 * DAY_MS, now);
	/* exclusive: no instance links a version to content meanwhile */
	if (bd_exec("CREATE TEMP TABLE IF NOT EXISTS keep_snap("
		    "id BIGINT PRIMARY KEY, lo BIGINT NOT NULL)") != 0 ||
	    bd_db_begin(bd_store_db(), 1) != BD_DB_OK)
		return -EIO;
	if (bd_exec("DELETE FROM keep_snap") != 0) {
		bd_db_rollback(bd_store_db());
		return -EIO;
	}
	pruned = bd_prune_mark(n);
	deleted = pruned < 0 ? -EIO : bd_prune_versions(id, &freed);
	if (deleted < 0 || bd_content_gc(&freed) < 0 ||
	    bd_db_commit(bd_store_db()) != BD_DB_OK) {
		bd_db_rollback(bd_store_db());
		return -EIO;
	}
	*freed_all += freed;
	printf("%s: %d snapshots, %d kept, %d pruned, %d versions deleted, "
	       "%llu bytes freed\n", name, n, n - pruned, pruned, deleted,
	       (unsigned long long)freed);
	return 0;
}

/* Every device in turn; the bytes freed added to stats. */
static int bd_prune_all(const struct bd_keep *k)
{
	struct bd_stmt *s = bd_prep("SELECT id, name FROM clients ORDER BY name");
	uint64_t freed = 0;
	int ret = 0;

	if (s == NULL)
		return -EIO;
	while (ret == 0 && bd_db_step(s) == BD_DB_ROW) {
		uint8_t id[V3_ID_SIZE];

		if (bd_db_column_bytes(s, 0) != V3_ID_SIZE)
			continue;
		memcpy(id, bd_db_column_blob(s, 0), V3_ID_SIZE);
		ret = bd_prune_device(id, (const char *)bd_db_column_text(s, 1),
				      k, &freed);
	}
	bd_db_finalize(s);
	s = bd_prep("UPDATE stats SET bytes_freed = bytes_freed + ?");
	if (s != NULL) {
		bd_db_bind_int64(s, 1, (int64_t)freed);
		bd_db_step(s);
		bd_db_finalize(s);
	}
	return ret;
}

static int bd_prune_usage(const char *msg)
{
	fprintf(stderr, "vigil-backupd prune: %s\nUsage: vigil-backupd prune "
		"--data DIR [--db CONNINFO] [--keep-last N] [--keep-daily D]\n"
		"       [--keep-weekly W] [--store s3://BUCKET --s3-endpoint URL "
		"[--s3-credentials FILE] [--orphan-age S]]\n",
		msg);
	return 2;
}

/* 1 when a content row names the stored path, 0 not, -EIO. */
static int bd_prune_referenced(void *arg, const char *path)
{
	struct bd_stmt *s = bd_prep("SELECT 1 FROM content WHERE path = ?");
	int rc;

	(void)arg;
	if (s == NULL)
		return -EIO;
	bd_db_bind_text(s, 1, path);
	rc = bd_db_step(s);
	bd_db_finalize(s);
	return rc == BD_DB_ROW ? 1 : rc == BD_DB_DONE ? 0 : -EIO;
}

/* S3: deletes objects older than age_s that no row names (a crash
 * between an upload and its commit leaves them).  @retval 0 / -EIO */
static int bd_prune_orphans(uint32_t age_s)
{
	int n = bd_blob_sweep(age_s, bd_prune_referenced, NULL);

	if (n < 0)
		return -EIO;
	printf("bucket: %d unreferenced object(s) older than %u s deleted\n",
	       n, (unsigned)age_s);
	return 0;
}

/* see backupd.h */
int bd_prune_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "keep-last", required_argument, NULL, 'l' },
		{ "keep-daily", required_argument, NULL, 'D' },
		{ "keep-weekly", required_argument, NULL, 'W' },
		{ "db", required_argument, NULL, 'b' },
		{ "orphan-age", required_argument, NULL, 'o' },
		BD_BLOB_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bd_blob_opts store = { 0 };
	struct bd_keep k = { 0, 0, 0 };
	const char *data = NULL;
	long orphan_age = 3600;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end = NULL;
		long v = optarg ? strtol(optarg, &end, 10) : -1;
		int taken = bd_blob_opt(&store, ch, optarg);

		if (taken < 0)
			return bd_prune_usage("bad store option");
		if (taken > 0)
			continue;
		if (ch == 'd' || ch == 'b') {
			if (ch == 'd')
				data = optarg;
			else
				bd_store_use_db(optarg);
			continue;
		}
		if (ch == '?' || end == optarg || *end != '\0' || v < 0 ||
		    v > 100000)
			return bd_prune_usage("bad option or value");
		if (ch == 'o')
			orphan_age = v;
		else if (ch == 'l')
			k.last = v;
		else if (ch == 'D')
			k.daily = v;
		else
			k.weekly = v;
	}
	if (data == NULL || optind != argc)
		return bd_prune_usage("--data DIR is required");
	if (k.last + k.daily + k.weekly == 0)
		return bd_prune_usage("keeping nothing: give --keep-last, "
				      "--keep-daily or --keep-weekly");
	if (bd_store_open_existing(data) != 0)
		return 1;
	if (bd_blob_open(&store) != 0) {
		bd_store_close();
		return 1;
	}
	ret = bd_prune_all(&k);
	if (ret == 0 && bd_blob_s3())
		ret = bd_prune_orphans((uint32_t)orphan_age);
	bd_store_close();
	if (ret != 0) {
		fprintf(stderr, "vigil-backupd prune: database error\n");
		return 1;
	}
	return 0;
}

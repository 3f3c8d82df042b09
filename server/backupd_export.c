/*
 * backupd_export.c — `vigil-backupd export --data DIR --device NAME
 * [--snapshot ID|latest] DEST`: an operator on the server writes a
 * device's snapshot as files under DEST, as `vigild restore` would
 * (the backed-up path /srv/a lands in DEST/srv/a; mode and mtime from
 * the 1044 attributes, 0644 and the stored time without them).  Each
 * stored file is checked against its cksum while it is copied to a
 * temporary name, and renamed into place only when it matches; existing
 * files are never replaced.  The database is opened read-only, so a
 * running server is not disturbed.
 */
#define _GNU_SOURCE     /* O_CLOEXEC */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT_BATCH 64u

static struct v3x_msg bd_ex_entries[EXPORT_BATCH];
static uint8_t bd_ex_buf[BD_TX_CHUNK];

struct bd_export {
	const char *dest;
	unsigned ok, failed, skipped;
};

/* mkdir -p of path's parents (0755). */
static int bd_ex_parents(char *path)
{
	char *s;

	for (s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			*s = '/';
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

/* Copies fd_in to fd_out, computing the cksum.  @retval 0 / -errno */
static int bd_ex_copy(int in, int out, uint64_t size, uint32_t *crc)
{
	struct cksum_ctx ck;
	uint64_t left = size;

	cksum_init(&ck);
	while (left > 0) {
		size_t n = left < sizeof bd_ex_buf ? (size_t)left : sizeof bd_ex_buf;
		ssize_t r = read(in, bd_ex_buf, n);

		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		cksum_update(&ck, bd_ex_buf, (size_t)r);
		if (write(out, bd_ex_buf, (size_t)r) != r)
			return -EIO;
		left -= (uint64_t)r;
	}
	*crc = cksum_final(&ck);
	return fsync(out) == 0 ? 0 : -errno;
}

/* One stored file to target.  @retval NULL done, else why not */
static const char *bd_ex_file(const struct v3x_msg *f, const char *stored,
			      char *target, int *skipped)
{
	char tmp[BD_PATH_MAX + 16];
	struct timespec ts[2];
	struct stat st;
	uint32_t crc = 0;
	uint64_t at = 0;
	int in, out, ret;

	if (lstat(target, &st) == 0) {
		*skipped = 1;
		return "exists (kept)";
	}
	if (bd_ex_parents(target) != 0)
		return "cannot create its directory";
	snprintf(tmp, sizeof tmp, "%s.export-tmp", target);
	in = bd_blob_open_range(stored, f->size, 0, f->size, &at);
	if (in < 0)
		return in == -ENOENT ? "stored file missing"
				     : "store unavailable";
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		   f->mode ? f->mode : 0644u);
	if (out < 0) {
		close(in);
		return "cannot create the temporary file";
	}
	ret = bd_ex_copy(in, out, f->size, &crc);
	close(in);
	if (close(out) != 0 && ret == 0)
		ret = -EIO;
	if (ret == 0 && crc != f->cksum)
		ret = -EBADMSG;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)f->mtime_s;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)f->mtime_ns;
	if (ret == 0 && (fchmodat(AT_FDCWD, tmp, f->mode ? f->mode : 0644u, 0) != 0 ||
			 utimensat(AT_FDCWD, tmp, ts, 0) != 0 ||
			 rename(tmp, target) != 0))
		ret = -errno;
	if (ret != 0) {
		unlink(tmp);
		return ret == -EBADMSG ? "cksum differs from the stored one"
				       : strerror(-ret);
	}
	return NULL;
}

static void bd_ex_one(struct bd_export *x, const uint8_t id[V3_ID_SIZE],
		      const struct v3x_msg *f)
{
	char path[V3_NAME_MAX + 2], target[BD_PATH_MAX];
	char rel[BD_PATH_MAX], stored[BD_PATH_MAX];
	uint64_t size = 0;
	const char *why = "not a mapped name";
	int skipped = 0;

	if (v3_path_from_name(path, sizeof path, f->name, strlen(f->name),
			      NULL) >= 0) {
		why = "path too long";
		if ((size_t)snprintf(target, sizeof target, "%s%s", x->dest,
				     path) < sizeof target &&
		    bd_catalog_version(id, f->file_id, f->version, rel,
				       sizeof rel, &size) == 0 &&
		    (size_t)snprintf(stored, sizeof stored, "%s/%s",
				     bd_store_data_dir(), rel) < sizeof stored)
			why = bd_ex_file(f, stored, target, &skipped);
	}
	if (why == NULL) {
		x->ok++;
		printf("exported %s\n", path);
		return;
	}
	if (skipped)
		x->skipped++;
	else
		x->failed++;
	fprintf(stderr, "vigil-backupd export: %s: %s\n", f->name, why);
}

/* Every file of the snapshot, batch by batch.  @retval 0 / -EIO */
static int bd_ex_all(struct bd_export *x, const uint8_t id[V3_ID_SIZE],
		     uint64_t snap)
{
	uint64_t after = 0;
	int more = 1;

	while (more) {
		int n = bd_catalog_list(id, snap, after, bd_ex_entries,
					EXPORT_BATCH, &more), i;

		if (n < 0)
			return -EIO;
		for (i = 0; i < n; i++)
			bd_ex_one(x, id, &bd_ex_entries[i]);
		if (n > 0)
			after = bd_ex_entries[n - 1].file_id;
	}
	return 0;
}

static int bd_ex_usage(const char *msg)
{
	fprintf(stderr, "vigil-backupd export: %s\nUsage: vigil-backupd export "
		"--data DIR [--db CONNINFO] --device NAME [--snapshot ID|latest] DEST\n"
		"       [--store s3://BUCKET --s3-endpoint URL "
		"[--s3-credentials FILE]]\n", msg);
	return 2;
}

/* see backupd.h */
int bd_export_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'n' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'b' },
		BD_BLOB_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bd_blob_opts store = { 0 };
	const char *data = NULL, *device = NULL;
	struct bd_export x = { 0 };
	uint8_t id[V3_ID_SIZE];
	uint64_t snap = 0;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int taken = bd_blob_opt(&store, ch, optarg);

		if (taken < 0)
			return bd_ex_usage("bad store option");
		if (taken > 0)
			continue;
		if (ch == 'd')
			data = optarg;
		else if (ch == 'n')
			device = optarg;
		else if (ch == 'b')
			bd_store_use_db(optarg);
		else if (ch == 's' && strcmp(optarg, "latest") != 0)
			snap = strtoull(optarg, NULL, 10);
		else if (ch != 's')
			return bd_ex_usage("unknown option");
	}
	if (data == NULL || device == NULL || optind + 1 != argc)
		return bd_ex_usage("--data, --device and one DEST are required");
	x.dest = argv[optind];
	if (bd_store_open_readonly(data) != 0)
		return 1;
	if (bd_blob_open(&store) != 0) {
		bd_store_close();
		return 1;
	}
	ret = bd_catalog_device(device, id);
	if (ret == 0)
		ret = bd_catalog_snapshot(id, snap, &snap);
	if (ret == 0)
		ret = bd_ex_all(&x, id, snap);
	bd_store_close();
	if (ret != 0) {
		fprintf(stderr, "vigil-backupd export: %s\n", ret == -ENOENT
			? "no such device or snapshot" : "database error");
		return 1;
	}
	fprintf(stderr, "vigil-backupd export: %u files exported, %u failed, "
		"%u kept (snapshot %llu)\n", x.ok, x.failed, x.skipped,
		(unsigned long long)snap);
	return x.failed ? 1 : 0;
}

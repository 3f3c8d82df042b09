/*
 * backup_manifest.h — the client's record of its last backups (path,
 * size, mtime, mode, SHA-256 of the content), kept in the state
 * directory, so that a run can tell unchanged files from size and mtime
 * alone and offer their hash instead of their bytes (1046,
 * docs/protocol/cyberbackup-v3.md "Incremental runs").  The server
 * confirms by hash: a wrong or stale entry costs a transfer, never a
 * wrong backup.
 *
 * Memory: one caller-owned struct bk_manifest of BACKUP_MANIFEST_MAX
 * entries (72 bytes each: 1.1 MiB for 16384), filled by bk_mf_load and
 * written whole by bk_mf_save.  Entries are keyed by the first 16 bytes
 * of the SHA-256 of the path (a collision needs 2^64 paths).  On disk
 * the file is the struct's image (magic, count, entries in key order),
 * written atomically; it is local state of one device, so it is in the
 * host's byte order, and a file that does not check out is ignored (the
 * next run sends every file and writes a new one).
 *
 * A run looks up each file (bk_mf_find) and records each file it backed
 * up (bk_mf_put); entries of files this run did not see are kept, so a
 * run over part of the tree does not forget the rest.  When the table is
 * full, new paths are not recorded (counted in `full`): those files are
 * sent whole on the next run, as without a manifest.
 */
#ifndef VIGIL_BACKUP_MANIFEST_H
#define VIGIL_BACKUP_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define BACKUP_MANIFEST_MAX 16384u
#define BACKUP_MANIFEST_FILE "manifest"
#define BACKUP_MANIFEST_MAGIC 0x3146474du /* "MGF1" */
#define BK_MF_KEY 16
#define BK_MF_SHA 32

struct bk_mf_entry {
	uint8_t key[BK_MF_KEY];         /* SHA-256(path)[0..16) */
	uint8_t sha[BK_MF_SHA];         /* SHA-256 of the content */
	uint64_t size;
	int64_t mtime_s;
	uint32_t mtime_ns;
	uint32_t mode;
};

struct bk_manifest {
	uint32_t sorted;        /* f.e[0..sorted) in key order (loaded) */
	uint32_t full;          /* paths not recorded: the table was full */
	struct {
		uint32_t magic;
		uint32_t count;
		struct bk_mf_entry e[BACKUP_MANIFEST_MAX];
	} f;
};

/* Empties m. */
void bk_mf_init(struct bk_manifest *m);

/* Loads dir/manifest into m (empty when there is none).
 * @retval count loaded  @retval -EBADMSG it exists but does not check
 * out (m is empty)  @retval -ENAMETOOLONG */
int bk_mf_load(struct bk_manifest *m, const char *dir);

/* The entry of path when it has exactly this size and mtime, else NULL. */
const struct bk_mf_entry *bk_mf_find(const struct bk_manifest *m,
				     const char *path, uint64_t size,
				     int64_t mtime_s, uint32_t mtime_ns);

/* Records path's state after a verified backup.
 * @retval 0  @retval -ENOSPC the table is full (m->full counts it) */
int bk_mf_put(struct bk_manifest *m, const char *path,
	      const struct bk_mf_entry *st);

/* Writes m atomically to dir/manifest (sorting the new entries in).
 * @retval 0  @retval <0 as hal_storage_write_atomic */
int bk_mf_save(struct bk_manifest *m, const char *dir);

#endif

/*
 * backup_manifest.c — the client's last-run manifest (backup_manifest.h).
 *
 * Invariant: f.e[0..sorted) is in strictly ascending key order; entries
 * put during a run either overwrite one of those or are appended after
 * count.  bk_mf_save sorts, drops duplicate keys (the last put of a path
 * wins) and makes everything sorted again.
 */
#include "backup_manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/storage.h"
#include "mbedtls/sha256.h"

#define HEAD_SIZE (2 * sizeof(uint32_t))

static void path_key(const char *path, uint8_t key[BK_MF_KEY])
{
	uint8_t d[32];

	/* only fails for a bad hash id: 0 is SHA-256 */
	(void)mbedtls_sha256((const unsigned char *)path, strlen(path), d, 0);
	memcpy(key, d, BK_MF_KEY);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct bk_mf_entry *)a)->key,
		      ((const struct bk_mf_entry *)b)->key, BK_MF_KEY);
}

static int manifest_path(char *out, size_t cap, const char *dir)
{
	int n = snprintf(out, cap, "%s/%s", dir, BACKUP_MANIFEST_FILE);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* see backup_manifest.h */
void bk_mf_init(struct bk_manifest *m)
{
	m->sorted = 0;
	m->full = 0;
	m->f.magic = BACKUP_MANIFEST_MAGIC;
	m->f.count = 0;
}

/* The loaded image checks out: magic, count, length, key order. */
static int image_ok(const struct bk_manifest *m, size_t len)
{
	uint32_t i;

	if (len < HEAD_SIZE || m->f.magic != BACKUP_MANIFEST_MAGIC ||
	    m->f.count > BACKUP_MANIFEST_MAX ||
	    len != HEAD_SIZE + m->f.count * sizeof(struct bk_mf_entry))
		return 0;
	for (i = 1; i < m->f.count; i++)
		if (key_cmp(&m->f.e[i - 1], &m->f.e[i]) >= 0)
			return 0;
	return 1;
}

/* see backup_manifest.h */
int bk_mf_load(struct bk_manifest *m, const char *dir)
{
	char path[HAL_PATH_MAX];
	int n = manifest_path(path, sizeof path, dir);

	if (n < 0)
		return n;
	n = hal_storage_read(path, &m->f, sizeof m->f);
	if (n == -ENOENT) {
		bk_mf_init(m);
		return 0;
	}
	if (n < 0 || !image_ok(m, (size_t)n)) {
		bk_mf_init(m);
		return -EBADMSG;
	}
	m->sorted = m->f.count;
	m->full = 0;
	return (int)m->f.count;
}

/* The loaded entry of key, or NULL.  O(log n). */
static struct bk_mf_entry *find_key(const struct bk_manifest *m,
				    const uint8_t key[BK_MF_KEY])
{
	struct bk_mf_entry probe;

	memcpy(probe.key, key, BK_MF_KEY);
	return bsearch(&probe, m->f.e, m->sorted, sizeof probe, key_cmp);
}

/* see backup_manifest.h */
const struct bk_mf_entry *bk_mf_find(const struct bk_manifest *m,
				     const char *path, uint64_t size,
				     int64_t mtime_s, uint32_t mtime_ns)
{
	uint8_t key[BK_MF_KEY];
	const struct bk_mf_entry *e;

	path_key(path, key);
	e = find_key(m, key);
	if (e == NULL || e->size != size || e->mtime_s != mtime_s ||
	    e->mtime_ns != mtime_ns)
		return NULL;
	return e;
}

/* see backup_manifest.h */
int bk_mf_put(struct bk_manifest *m, const char *path,
	      const struct bk_mf_entry *st)
{
	uint8_t key[BK_MF_KEY];
	struct bk_mf_entry *e;

	path_key(path, key);
	e = find_key(m, key);
	if (e == NULL) {
		if (m->f.count == BACKUP_MANIFEST_MAX) {
			m->full++;
			return -ENOSPC;
		}
		e = &m->f.e[m->f.count++];
	}
	*e = *st;
	memcpy(e->key, key, BK_MF_KEY);
	return 0;
}

/* Sorts the entries and keeps one per key.  A path put twice in one run
 * (named twice on the command line) is appended twice; either entry is a
 * state of the file seen in this run, and a stale one only costs a
 * transfer next time (its size or mtime no longer matches). */
static void sort_unique(struct bk_manifest *m)
{
	uint32_t i, out = 0;

	qsort(m->f.e, m->f.count, sizeof m->f.e[0], key_cmp);
	for (i = 0; i < m->f.count; i++) {
		if (out > 0 && key_cmp(&m->f.e[out - 1], &m->f.e[i]) == 0)
			continue;
		m->f.e[out++] = m->f.e[i];
	}
	m->f.count = out;
	m->sorted = out;
}

/* see backup_manifest.h */
int bk_mf_save(struct bk_manifest *m, const char *dir)
{
	char path[HAL_PATH_MAX];
	int n = manifest_path(path, sizeof path, dir);

	if (n < 0)
		return n;
	sort_unique(m);
	m->f.magic = BACKUP_MANIFEST_MAGIC;
	return hal_storage_write_atomic(path, &m->f,
					HEAD_SIZE + m->f.count *
					sizeof(struct bk_mf_entry), 0600);
}

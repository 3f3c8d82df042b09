/*
 * backupd_blob.c — the content stores of backupd_blob.h.
 *
 * Local files are today's layout (backupd_content.c links them; nothing
 * here changes it).  S3 objects are named content/<sha256 hex>: the same
 * bytes have the same key, so a second upload of them (another device,
 * another instance sharing the bucket) finds the object by a HEAD and
 * sends nothing.  An object is written by one PUT or one multipart
 * upload, which S3 makes visible only when complete: a listing or a
 * restore never sees a part.  Reads fetch byte ranges (at most
 * BD_BLOB_PART per GET) through one shared buffer.
 *
 * Every S3 call blocks the server's one event loop while it runs, within
 * --s3-timeout-ms (docs/backupd.md, "S3 store": what that costs).
 */
#define _GNU_SOURCE     /* O_TMPFILE, fallocate */
#include "backupd_blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backupd.h"
#include "backupd_s3.h"
#include "hex.h"
#include "log.h"

#define MOD "store"
#define BD_BLOB_KEY_FMT "content/%s"

static int bd_blob_on_s3;
/* The parts' ETags of the one upload being completed (~780 KiB). */
static char bd_blob_etags[BD_S3_PARTS_MAX][BD_S3_ETAG_MAX];
/* Object bytes read back (restore, export, a resumed upload's hash). */
static uint8_t bd_blob_buf[BD_BLOB_PART];
/* The object ranges fetched last, each in an unlinked temp file: a
 * restore asks for a file's chunks in order, 1 MiB each, and one GET
 * serves eight of them; BD_BLOB_RANGES restores at once each keep
 * theirs (the least recently used goes).  Objects never change (their
 * name is their hash). */
#define BD_BLOB_RANGES 8u
struct bd_blob_range {
	char key[BD_S3_KEY_MAX];
	uint64_t start, end;
	uint64_t used;            /* bd_blob_uses when last used */
	int fd;                   /* -1: empty */
};
static struct bd_blob_range bd_blob_ranges[BD_BLOB_RANGES];
static uint64_t bd_blob_uses;
static char bd_blob_bucket[64];

/* see backupd_blob.h */
int bd_blob_opt(struct bd_blob_opts *o, int ch, const char *arg)
{
	char *end;
	unsigned long v;

	switch (ch) {
	case BD_BLOB_OPT_STORE:
		o->store = arg;
		return strcmp(arg, "file") == 0 ||
		       (strncmp(arg, "s3://", 5) == 0 && arg[5] != '\0' &&
			strchr(arg + 5, '/') == NULL) ? 1 : -1;
	case BD_BLOB_OPT_ENDPOINT:
		o->endpoint = arg;
		return strncmp(arg, "http://", 7) == 0 ||
		       strncmp(arg, "https://", 8) == 0 ? 1 : -1;
	case BD_BLOB_OPT_CRED:
		o->credentials = arg;
		return 1;
	case BD_BLOB_OPT_REGION:
		o->region = arg;
		return 1;
	case BD_BLOB_OPT_TIMEOUT:
		errno = 0;
		v = strtoul(arg, &end, 10);
		o->timeout_ms = (uint32_t)v;
		return errno == 0 && *end == '\0' && v >= 100 &&
		       v <= 3600000 ? 1 : -1;
	default:
		return 0;
	}
}

/* Empties the read ranges (closing their files when they were open). */
static void bd_blob_ranges_reset(int open)
{
	unsigned i;

	for (i = 0; i < BD_BLOB_RANGES; i++) {
		if (open && bd_blob_ranges[i].fd >= 0)
			close(bd_blob_ranges[i].fd);
		memset(&bd_blob_ranges[i], 0, sizeof bd_blob_ranges[i]);
		bd_blob_ranges[i].fd = -1;
	}
}

/* see backupd_blob.h */
int bd_blob_open(const struct bd_blob_opts *o)
{
	struct bd_s3_config c;
	int ret;

	if (o->store == NULL || strcmp(o->store, "file") == 0)
		return 0;
	if (o->endpoint == NULL) {
		log_err(MOD, "--store %s needs --s3-endpoint URL", o->store);
		return -1;
	}
	snprintf(bd_blob_bucket, sizeof bd_blob_bucket, "%s", o->store + 5);
	memset(&c, 0, sizeof c);
	c.endpoint = o->endpoint;
	c.bucket = bd_blob_bucket;
	c.region = o->region;
	c.cred_file = o->credentials;
	c.timeout_ms = o->timeout_ms;
	if (bd_s3_open(&c) != 0)
		return -1;
	ret = bd_s3_check();
	if (ret != 0) {
		log_err(MOD, "bucket %s at %s: %s", bd_blob_bucket, o->endpoint,
			ret == -ENOENT ? "no such bucket" : strerror(-ret));
		bd_s3_close();
		return -1;
	}
	bd_blob_on_s3 = 1;
	bd_blob_ranges_reset(0);
	log_info(MOD, "content in bucket %s at %s", bd_blob_bucket,
		 o->endpoint);
	return 0;
}

/* see backupd_blob.h */
void bd_blob_close(void)
{
	if (bd_blob_on_s3) {
		bd_blob_ranges_reset(1);
		bd_s3_close();
	}
	bd_blob_on_s3 = 0;
}

/* see backupd_blob.h */
int bd_blob_s3(void)
{
	return bd_blob_on_s3;
}

/* see backupd_blob.h */
const char *bd_blob_key(const char *path)
{
	const char *data = bd_store_data_dir();
	size_t n = strlen(data);

	if (strncmp(path, data, n) == 0 && path[n] == '/')
		path += n + 1;
	return strncmp(path, BD_BLOB_S3_PREFIX, 3) == 0 ? path + 3 : NULL;
}

/* see backupd_blob.h */
int bd_blob_put(const char *hex, int fd, uint64_t size)
{
	char key[BD_S3_KEY_MAX];
	uint64_t have = 0;
	int ret;

	snprintf(key, sizeof key, BD_BLOB_KEY_FMT, hex);
	ret = bd_s3_head(key, &have);
	if (ret == 0 && have == size)
		return 0;      /* the same bytes are there (by their hash) */
	if (ret != 0 && ret != -ENOENT)
		return ret;
	return bd_s3_put_fd(key, fd, 0, size, hex);
}

/* An unlinked read-write file under <data>/.tmp.  @retval fd / -EIO */
static int bd_blob_tmpfile(void)
{
	char dir[BD_PATH_MAX];
	int fd;

	snprintf(dir, sizeof dir, "%s/.tmp", bd_store_data_dir());
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		log_err(MOD, "%s: no temporary file: %s", dir, strerror(errno));
	return fd < 0 ? -EIO : fd;
}

/* Fetches key's [off, off + len) into fd.  @retval 0  @retval <0 */
static int bd_blob_fetch(const char *key, uint64_t off, uint64_t len, int fd)
{
	while (len > 0) {
		size_t n = len < sizeof bd_blob_buf ? (size_t)len
						    : sizeof bd_blob_buf;
		int ret = bd_s3_get(key, off, bd_blob_buf, n);

		if (ret != 0)
			return ret == -ERANGE ? -ENOENT : ret;
		if (write(fd, bd_blob_buf, n) != (ssize_t)n)
			return -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

/* The range holding key's [off, off + len), or NULL. */
static struct bd_blob_range *bd_blob_range_find(const char *key, uint64_t off,
						uint64_t len)
{
	unsigned i;

	for (i = 0; i < BD_BLOB_RANGES; i++) {
		struct bd_blob_range *c = &bd_blob_ranges[i];

		if (c->fd >= 0 && strcmp(c->key, key) == 0 &&
		    off >= c->start && off <= c->end && len <= c->end - off)
			return c;
	}
	return NULL;
}

/* An empty range, or the least recently used one (emptied). */
static struct bd_blob_range *bd_blob_range_free(void)
{
	struct bd_blob_range *c = &bd_blob_ranges[0];
	unsigned i;

	for (i = 0; i < BD_BLOB_RANGES && c->fd >= 0; i++)
		if (bd_blob_ranges[i].fd < 0 ||
		    bd_blob_ranges[i].used < c->used)
			c = &bd_blob_ranges[i];
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return c;
}

/* Fetches key's bytes from off, at least len and up to BD_BLOB_PART
 * (within size), into a range.  @retval range  @retval NULL (*err) */
static struct bd_blob_range *bd_blob_range_fill(const char *key,
						uint64_t size, uint64_t off,
						uint64_t len, int *err)
{
	struct bd_blob_range *c;
	uint64_t end = off + (len > BD_BLOB_PART ? len : BD_BLOB_PART);
	int fd = bd_blob_tmpfile(), ret;

	*err = fd;
	if (fd < 0)
		return NULL;
	if (end > size)
		end = size;
	ret = end > off ? bd_blob_fetch(key, off, end - off, fd) : 0;
	if (ret != 0) {
		close(fd);
		*err = ret;
		return NULL;
	}
	c = bd_blob_range_free();
	snprintf(c->key, sizeof c->key, "%s", key);
	c->fd = fd;
	c->start = off;
	c->end = end;
	return c;
}

/* see backupd_blob.h */
int bd_blob_open_range(const char *path, uint64_t size, uint64_t off,
		       uint64_t len, uint64_t *fd_off)
{
	const char *key = bd_blob_key(path);
	struct bd_blob_range *c;
	struct stat st;
	int fd, ret;

	if (key == NULL) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 &&
		    (uint64_t)st.st_size == size) {
			*fd_off = off;
			return fd;
		}
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	if (!bd_blob_on_s3) {
		log_err(MOD, "%s is in S3: give --store s3://BUCKET and "
			"--s3-endpoint", path);
		return -EIO;
	}
	c = bd_blob_range_find(key, off, len);
	if (c == NULL && (c = bd_blob_range_fill(key, size, off, len,
						 &ret)) == NULL)
		return ret;
	c->used = ++bd_blob_uses;
	*fd_off = off - c->start;
	fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -EIO;
	/* a reader that read()s (export) starts at its range */
	if (lseek(fd, (off_t)*fd_off, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* see backupd_blob.h */
int bd_blob_delete(const char *path)
{
	const char *key = bd_blob_key(path);

	if (key == NULL)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
	if (!bd_blob_on_s3) {
		log_err(MOD, "%s is in S3: not deleted without --store", path);
		return -EIO;
	}
	return bd_s3_delete(key);
}

/* Reads fd's [off, off + len) through the shared buffer into the cksum.
 * @retval 0  @retval -EIO */
static int bd_blob_cksum_range(int fd, uint64_t off, uint64_t len,
			       struct cksum_ctx *ck)
{
	static uint8_t buf[256u * 1024u];

	while (len > 0) {
		size_t n = len < sizeof buf ? (size_t)len : sizeof buf;

		if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
			return -EIO;
		cksum_update(ck, buf, n);
		off += n;
		len -= n;
	}
	return 0;
}

/* Starts the multipart upload of up under a fresh upload/<random> key.
 * @retval 0  @retval <0 */
static int bd_blob_up_start(struct bd_blob_up *up)
{
	uint8_t r[16];

	if (bd_random(r, sizeof r) != 0)
		return -EIO;
	memcpy(up->key, "upload/", 7);
	hex_encode(r, sizeof r, up->key + 7);
	up->sent = 0;
	up->parts = 0;
	cksum_init(&up->ck);
	if (bd_s3_mpu_create(up->key, up->id) != 0) {
		up->key[0] = '\0';
		return -EIO;
	}
	return 0;
}

/* see backupd_blob.h */
int bd_blob_up_spool(int fd, uint64_t end, struct bd_blob_up *up)
{
	static int warned;
	char etag[BD_S3_ETAG_MAX];
	int n = 0;

	while (end - up->sent >= BD_BLOB_PART) {
		if (up->key[0] == '\0' && bd_blob_up_start(up) != 0)
			return -EIO;
		if (bd_blob_cksum_range(fd, up->sent, BD_BLOB_PART, &up->ck) ||
		    bd_s3_mpu_part(up->key, up->id, up->parts + 1, fd,
				   up->sent, BD_BLOB_PART, etag) != 0)
			return -EIO;
		/* the part is in the store: its local bytes are not needed */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)up->sent, BD_BLOB_PART) != 0 && !warned++)
			log_warn(MOD, "cannot free sent parts of temp files "
				 "(%s): they use local disk until the commit",
				 strerror(errno));
		up->sent += BD_BLOB_PART;
		up->parts++;
		n++;
	}
	return n;
}

/* The ETags of the parts, checked to be 1..n in order. */
struct bd_blob_parts {
	char (*etags)[BD_S3_ETAG_MAX];
	unsigned n;
	uint64_t bytes;
	int gap;
};

static int bd_blob_on_part(void *arg, unsigned part, const char *etag,
			   uint64_t size)
{
	struct bd_blob_parts *p = arg;

	if (part != p->n + 1 || p->n >= BD_S3_PARTS_MAX) {
		p->gap = 1;
		return 0;
	}
	snprintf(p->etags[p->n++], BD_S3_ETAG_MAX, "%s", etag);
	p->bytes += size;
	return 0;
}

/* SHA-256 hex of key's first size bytes, read back by ranges.
 * @retval 0  @retval <0 */
static int bd_blob_hash_object(const char *key, uint64_t size, char hex[65])
{
	struct sha256_ctx sha;
	uint64_t off = 0;
	int ret = 0;

	sha256_init(&sha);
	while (ret == 0 && off < size) {
		size_t n = size - off < sizeof bd_blob_buf
			   ? (size_t)(size - off) : sizeof bd_blob_buf;

		ret = bd_s3_get(key, off, bd_blob_buf, n);
		if (ret == 0)
			sha256_update(&sha, bd_blob_buf, n);
		off += n;
	}
	bd_s3_sha_hex(&sha, hex);
	return ret;
}

/* The last part and the completion.  @retval 0  @retval <0 */
static int bd_blob_up_complete(int fd, uint64_t size, struct bd_blob_up *up)
{
	struct bd_blob_parts p = { bd_blob_etags, 0, 0, 0 };
	char etag[BD_S3_ETAG_MAX];

	if (size > up->sent &&
	    bd_s3_mpu_part(up->key, up->id, up->parts + 1, fd, up->sent,
			   size - up->sent, etag) != 0)
		return -EIO;
	if (bd_s3_mpu_parts(up->key, up->id, bd_blob_on_part, &p) < 0)
		return -EIO;
	if (p.gap || p.bytes != size) {
		log_err(MOD, "%s: the upload holds %llu bytes in %u parts, "
			"not %llu", up->key, (unsigned long long)p.bytes, p.n,
			(unsigned long long)size);
		return -EIO;
	}
	return bd_s3_mpu_complete(up->key, up->id, bd_blob_etags, p.n);
}

/* see backupd_blob.h */
int bd_blob_up_finish(int fd, uint64_t size, struct bd_blob_up *up,
		      int have_hex, char hex[65])
{
	char key[BD_S3_KEY_MAX];
	uint64_t have = 0;
	int ret = bd_blob_up_complete(fd, size, up);

	if (ret != 0) {
		bd_blob_up_abort(up);
		return ret;
	}
	up->id[0] = '\0';      /* complete: an object now, not an upload */
	if (!have_hex)
		ret = bd_blob_hash_object(up->key, size, hex);
	snprintf(key, sizeof key, BD_BLOB_KEY_FMT, hex);
	if (ret == 0 && ((ret = bd_s3_head(key, &have)) == -ENOENT ||
			 (ret == 0 && have != size))) {
		ret = size <= BD_S3_COPY_MAX ? bd_s3_copy(up->key, key) : -EFBIG;
		if (ret == -EFBIG)
			log_err(MOD, "%s: %llu bytes: more than one S3 copy "
				"takes (5 GiB)", key, (unsigned long long)size);
	}
	if (bd_s3_delete(up->key) != 0)
		log_warn(MOD, "%s: not deleted (a copy of %s)", up->key, key);
	up->key[0] = '\0';
	return ret;
}

/* see backupd_blob.h */
void bd_blob_up_abort(struct bd_blob_up *up)
{
	if (up->key[0] != '\0' && up->id[0] != '\0' &&
	    bd_s3_mpu_abort(up->key, up->id) != 0)
		log_warn(MOD, "%s: upload %s not aborted (expiry tries again)",
			 up->key, up->id);
	up->key[0] = '\0';
	up->id[0] = '\0';
}

/* see backupd_blob.h */
int bd_blob_up_held(const char *key, const char *id, uint64_t *held)
{
	struct bd_blob_parts p = { bd_blob_etags, 0, 0, 0 };
	int ret = bd_s3_mpu_parts(key, id, bd_blob_on_part, &p);

	*held = 0;
	if (ret < 0)
		return ret;
	/* whole parts only: a short one could only be a last part */
	*held = p.bytes == (uint64_t)p.n * BD_BLOB_PART ? p.bytes : 0;
	return 0;
}

/* What bd_blob_sweep passes to each listed object. */
struct bd_blob_sweep {
	char cutoff[BD_S3_TIME_MAX];   /* "YYYY-MM-DDTHH:MM:SS" */
	int (*referenced)(void *arg, const char *path);
	void *arg;
	int deleted;
};

static int bd_blob_on_object(void *arg, const char *key, uint64_t size,
			     const char *modified)
{
	struct bd_blob_sweep *w = arg;
	char path[BD_S3_KEY_MAX + 4];
	int ret;

	(void)size;
	/* ISO 8601 UTC times of one form compare as text */
	if (strlen(modified) < 19 || strncmp(modified, w->cutoff, 19) >= 0)
		return 0;
	snprintf(path, sizeof path, BD_BLOB_S3_PREFIX "%s", key);
	ret = w->referenced(w->arg, path);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = bd_s3_delete(key);
	if (ret == 0)
		w->deleted++;
	return ret;
}

/* see backupd_blob.h */
int bd_blob_sweep(uint32_t min_age_s,
		  int (*referenced)(void *arg, const char *path), void *arg)
{
	struct bd_blob_sweep w = { "", referenced, arg, 0 };
	time_t t = time(NULL) - (time_t)min_age_s;
	struct tm tm;
	int ret;

	if (!bd_blob_on_s3 || gmtime_r(&t, &tm) == NULL)
		return 0;
	strftime(w.cutoff, sizeof w.cutoff, "%Y-%m-%dT%H:%M:%S", &tm);
	ret = bd_s3_list("content/", bd_blob_on_object, &w);
	if (ret >= 0)
		ret = bd_s3_list("upload/", bd_blob_on_object, &w);
	return ret < 0 ? ret : w.deleted;
}

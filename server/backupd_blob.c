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
#define _GNU_SOURCE     /* O_TMPFILE */
#include "backupd_blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backupd.h"
#include "backupd_s3.h"
#include "log.h"

#define MOD "store"
#define BD_BLOB_KEY_FMT "content/%s"

static int bd_blob_on_s3;
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
	log_info(MOD, "content in bucket %s at %s", bd_blob_bucket,
		 o->endpoint);
	return 0;
}

/* see backupd_blob.h */
void bd_blob_close(void)
{
	if (bd_blob_on_s3)
		bd_s3_close();
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

/* Multipart upload of fd's [0, size) to key.  @retval 0  @retval <0 */
static int bd_blob_put_parts(const char *key, int fd, uint64_t size)
{
	static char etags[BD_S3_PARTS_MAX][BD_S3_ETAG_MAX];
	char id[BD_S3_UPLOAD_ID_MAX] = "";
	uint64_t part = BD_BLOB_PART, off;
	unsigned n = 0;
	int ret;

	/* parts grow (in MiB) when the file needs more than S3's 10000 */
	while (size / part >= BD_S3_PARTS_MAX)
		part += 1024u * 1024u;
	ret = bd_s3_mpu_create(key, id);
	for (off = 0; ret == 0 && off < size; off += part, n++) {
		uint64_t len = size - off < part ? size - off : part;

		ret = bd_s3_mpu_part(key, id, n + 1, fd, off, len, etags[n]);
	}
	if (ret == 0)
		ret = bd_s3_mpu_complete(key, id, etags, n);
	if (ret != 0 && id[0] != '\0' && bd_s3_mpu_abort(key, id) != 0)
		log_warn(MOD, "%s: multipart upload %s left behind (the "
			 "bucket's lifecycle rule or the next expiry removes "
			 "it)", key, id);
	return ret;
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
	if (size <= BD_BLOB_PART)
		return bd_s3_put_fd(key, fd, 0, size, hex);
	return bd_blob_put_parts(key, fd, size);
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
	static uint8_t buf[BD_BLOB_PART];

	while (len > 0) {
		size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
		int ret = bd_s3_get(key, off, buf, n);

		if (ret != 0)
			return ret == -ERANGE ? -ENOENT : ret;
		if (write(fd, buf, n) != (ssize_t)n)
			return -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

/* see backupd_blob.h */
int bd_blob_open_range(const char *path, uint64_t size, uint64_t off,
		       uint64_t len, uint64_t *fd_off)
{
	const char *key = bd_blob_key(path);
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
	fd = bd_blob_tmpfile();
	if (fd < 0)
		return fd;
	ret = len > 0 ? bd_blob_fetch(key, off, len, fd) : 0;
	if (ret == 0 && lseek(fd, 0, SEEK_SET) != 0)
		ret = -EIO;
	if (ret != 0) {
		close(fd);
		return ret;
	}
	*fd_off = 0;
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

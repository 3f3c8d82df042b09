/*
 * backupd_blob.h — where vigil-backupd keeps the bytes of stored content
 * (docs/backupd.md, "Content stores"): local files under the data
 * directory (the default, --store file) or objects in an S3-compatible
 * bucket (--store s3://BUCKET).  The metadata (which version is which
 * content) stays in the database either way.
 *
 * Stored paths as the database has them (relative to --data):
 *   local: .content/<2 hex>/<64 hex> (and per-version links)
 *   S3:    s3:content/<64 hex>, the object key after "s3:"
 * so a row says where its bytes are, whatever --store says now.
 */
#ifndef VIGIL_BACKUPD_BLOB_H
#define VIGIL_BACKUPD_BLOB_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "backupd_s3.h"
#include "cksum.h"

/* The stored-path prefix of objects in the bucket. */
#define BD_BLOB_S3_PREFIX "s3:"

struct bd_blob_opts {
	const char *store;        /* NULL or "file": local; "s3://BUCKET" */
	const char *endpoint;     /* --s3-endpoint URL */
	const char *credentials;  /* --s3-credentials FILE (or environment) */
	const char *region;       /* --s3-region, default us-east-1 */
	uint32_t timeout_ms;      /* --s3-timeout-ms, default 30000 */
};

/* The store options, shared by the server, export and prune. */
enum {
	BD_BLOB_OPT_STORE = 0x100, BD_BLOB_OPT_ENDPOINT, BD_BLOB_OPT_CRED,
	BD_BLOB_OPT_REGION, BD_BLOB_OPT_TIMEOUT
};
#define BD_BLOB_LONGOPTS \
	{ "store", required_argument, NULL, BD_BLOB_OPT_STORE }, \
	{ "s3-endpoint", required_argument, NULL, BD_BLOB_OPT_ENDPOINT }, \
	{ "s3-credentials", required_argument, NULL, BD_BLOB_OPT_CRED }, \
	{ "s3-region", required_argument, NULL, BD_BLOB_OPT_REGION }, \
	{ "s3-timeout-ms", required_argument, NULL, BD_BLOB_OPT_TIMEOUT }
#define BD_BLOB_USAGE \
	"  --store file|s3://BUCKET  where content is kept (default file:\n" \
	"                      under --data)\n" \
	"  --s3-endpoint URL   the S3 service, path-style (http://HOST:PORT)\n" \
	"  --s3-credentials F  access_key= and secret_key= lines (default:\n" \
	"                      VIGIL_S3_ACCESS_KEY, VIGIL_S3_SECRET_KEY)\n" \
	"  --s3-region R       SigV4 region (default us-east-1)\n" \
	"  --s3-timeout-ms N   one S3 request at most (default 30000)\n"

/* Applies a store option.  @retval 1 taken  @retval 0 not a store option
 * @retval -1 bad value */
int bd_blob_opt(struct bd_blob_opts *o, int ch, const char *arg);

/* Opens the store (S3: credentials read, bucket checked).
 * @retval 0  @retval -1 (logged) */
int bd_blob_open(const struct bd_blob_opts *o);
void bd_blob_close(void);
/* 1 when content goes to S3. */
int bd_blob_s3(void);

/* The object key of a stored path (relative, or absolute under the data
 * directory), or NULL when it is a local file. */
const char *bd_blob_key(const char *path);

/* S3: uploads the bytes [0, size) of fd (size <= BD_BLOB_PART; a larger
 * file is streamed, bd_blob_up_*) as content hex by one PUT, unless an
 * object of that size is there already.  The object appears whole or not
 * at all.  @retval 0  @retval -EIO / -ECONNREFUSED / -ETIMEDOUT */
#define BD_BLOB_PART (8u * 1024u * 1024u)
int bd_blob_put(const char *hex, int fd, uint64_t size);

/* Opens the bytes [off, off + len) of the stored path (absolute) of a
 * content of size bytes for reading (off + len <= size): a local file as
 * it is (*fd_off = off), an object's range fetched (with up to
 * BD_BLOB_PART read ahead, kept for the next call) into an unlinked file
 * under <data>/.tmp, where it starts at *fd_off.  The file position is
 * *fd_off.  The caller closes fd.  @retval fd  @retval -ENOENT missing
 * or not size bytes  @retval <0 other errors (logged) */
int bd_blob_open_range(const char *path, uint64_t size, uint64_t off,
		       uint64_t len, uint64_t *fd_off);

/* Deletes the stored content at path (absolute).  @retval 0  @retval <0 */
int bd_blob_delete(const char *path);

/* S3: deletes the objects under content/ and upload/ last modified more
 * than min_age_s ago that referenced(arg, stored path) says no row
 * names (1 named, 0 not, <0 error): what a crash between an upload and
 * its commit left.  The age spares uploads in progress.
 * @retval objects deleted  @retval <0 */
int bd_blob_sweep(uint32_t min_age_s,
		  int (*referenced)(void *arg, const char *path), void *arg);

/* ---- S3: a file streamed to a multipart upload as it is received ----
 *
 * The received bytes are spooled to the temp file as before; each time
 * a whole BD_BLOB_PART is there, it is read back (one shared buffer),
 * sent as the next part of a multipart upload to upload/<random>, and
 * punched out of the temp file, so a file never needs more than about
 * two parts of local disk.  The commit sends the rest as the last part,
 * completes the upload and names the object content/<sha256>. */
#define BD_BLOB_UP_KEY_MAX 48u
struct bd_blob_up {
	char key[BD_BLOB_UP_KEY_MAX];  /* "upload/<32 hex>", "" none */
	char id[BD_S3_UPLOAD_ID_MAX];  /* its UploadId */
	uint64_t sent;                 /* bytes in completed parts */
	unsigned parts;
	struct cksum_ctx ck;           /* cksum register over [0, sent) */
};

/* Sends every whole part of fd's [up->sent, end) (starting the upload
 * at the first).  @retval parts sent now  @retval <0 */
int bd_blob_up_spool(int fd, uint64_t end, struct bd_blob_up *up);
/* The commit of a streamed file of size bytes: the last part, the
 * upload completed, its SHA-256 (given in hex when it was hashed as
 * received, else read back from the object) to hex, and the object
 * named content/<hex> (dropped when that content is there already).
 * up is clear afterwards.  @retval 0  @retval <0 (the upload aborted) */
int bd_blob_up_finish(int fd, uint64_t size, struct bd_blob_up *up,
		      int have_hex, char hex[65]);
/* Aborts an upload in progress (the parts are freed); up is clear. */
void bd_blob_up_abort(struct bd_blob_up *up);
/* The bytes of whole parts upload id of key holds from part 1 on,
 * each BD_BLOB_PART: what a resume may continue.
 * @retval 0 (bytes to *held)  @retval -ENOENT no such upload  @retval <0 */
int bd_blob_up_held(const char *key, const char *id, uint64_t *held);

#endif

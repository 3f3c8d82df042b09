/*
 * backupd_s3.h — a small S3 client for vigil-backupd's object store
 * (docs/backupd.md, "S3 store"): libcurl with its own SigV4 signing,
 * path-style URLs (ENDPOINT/BUCKET/KEY), one reused connection, every
 * call blocking with bounded timeouts.
 *
 * Calls return 0 or a negative errno: -ENOENT (404), -EACCES (401/403),
 * -EIO (another S3 error or a transport failure, logged with the HTTP
 * status and S3's error Code), -ETIMEDOUT (no answer in time),
 * -ECONNREFUSED / -EHOSTUNREACH (the store is down).  Credentials are
 * never logged.
 */
#ifndef VIGIL_BACKUPD_S3_H
#define VIGIL_BACKUPD_S3_H

#include <stddef.h>
#include <stdint.h>

/* An object key (S3 allows 1024 bytes; ours are short). */
#define BD_S3_KEY_MAX 256u
/* An UploadId (radosgw: ~40 characters; AWS: up to ~130). */
#define BD_S3_UPLOAD_ID_MAX 256u
/* An ETag with its quotes. */
#define BD_S3_ETAG_MAX 80u
/* A ListObjectsV2 continuation token. */
#define BD_S3_TOKEN_MAX 1024u
/* S3's smallest part (but the last) and most parts of one upload. */
#define BD_S3_PART_MIN (5u * 1024u * 1024u)
#define BD_S3_PARTS_MAX 10000u

struct bd_s3_config {
	const char *endpoint;   /* "http://127.0.0.1:7480" */
	const char *bucket;
	const char *region;     /* SigV4 region, "us-east-1" by default */
	const char *cred_file;  /* access_key= / secret_key= lines, or NULL:
				 * VIGIL_S3_ACCESS_KEY / VIGIL_S3_SECRET_KEY */
	uint32_t timeout_ms;    /* one request, whole (0: 30 s) */
};

/* Reads the credentials and prepares the connection (nothing is sent).
 * @retval 0  @retval -EINVAL (logged: what is missing) */
int bd_s3_open(const struct bd_s3_config *cfg);
void bd_s3_close(void);

/* Checks that the bucket answers (a HEAD of the bucket).
 * @retval 0  @retval <0 (logged) */
int bd_s3_check(void);

/* PUT key with the bytes [off, off + len) of fd (read through one shared
 * buffer; len <= BD_S3_PUT_MAX), whose SHA-256 is sha_hex (S3 checks it).
 * @retval 0  @retval <0 */
#define BD_S3_PUT_MAX (64u * 1024u * 1024u)
int bd_s3_put_fd(const char *key, int fd, uint64_t off, uint64_t len,
		 const char *sha_hex);

/* Multipart upload: create (upload id to id), one part from fd's bytes
 * [off, off + len) (its ETag to etag), complete with the parts' ETags in
 * order (part numbers 1..n), abort. */
int bd_s3_mpu_create(const char *key, char id[BD_S3_UPLOAD_ID_MAX]);
int bd_s3_mpu_part(const char *key, const char *id, unsigned part, int fd,
		   uint64_t off, uint64_t len, char etag[BD_S3_ETAG_MAX]);
int bd_s3_mpu_complete(const char *key, const char *id,
		       const char (*etags)[BD_S3_ETAG_MAX], unsigned n);
int bd_s3_mpu_abort(const char *key, const char *id);
/* The parts an upload holds (ListParts, page by page) to cb as (number,
 * ETag, size).  @retval parts  @retval -ENOENT no such upload
 * @retval <0 */
typedef int (*bd_s3_part_cb)(void *arg, unsigned part, const char *etag,
			     uint64_t size);
int bd_s3_mpu_parts(const char *key, const char *id, bd_s3_part_cb cb,
		    void *arg);

/* Server-side copy of src to dst, both in the bucket (CopyObject: at
 * most 5 GiB).  @retval 0  @retval -ENOENT  @retval <0 */
#define BD_S3_COPY_MAX (5ull << 30)
int bd_s3_copy(const char *src, const char *dst);

/* GET the bytes [off, off + len) of key into buf (len > 0).
 * @retval 0 all len bytes  @retval -ENOENT  @retval -ERANGE the object is
 * shorter  @retval <0 */
int bd_s3_get(const char *key, uint64_t off, void *buf, size_t len);

/* HEAD key: its size to *size.  @retval 0  @retval -ENOENT  @retval <0 */
int bd_s3_head(const char *key, uint64_t *size);

/* DELETE key (a missing key is not an error).  @retval 0  @retval <0 */
int bd_s3_delete(const char *key);

/* One listed object: its key, size and LastModified as S3 writes it
 * ("2026-12-06T14:00:00.000Z", UTC; "" when absent).
 * @retval 0 go on  @retval <0 stop with that error */
#define BD_S3_TIME_MAX 32u
typedef int (*bd_s3_list_cb)(void *arg, const char *key, uint64_t size,
			     const char *modified);
/* Lists every object under prefix (ListObjectsV2, page by page).
 * @retval count  @retval <0 */
int bd_s3_list(const char *prefix, bd_s3_list_cb cb, void *arg);

/* Ends the SHA-256 ctx (freed) with its digest as hex (65 bytes). */
struct sha256_ctx;
void bd_s3_sha_hex(struct sha256_ctx *ctx, char hex[65]);

/* ---- backupd_s3_xml.c: the answers' XML (no I/O) ---- */

/* The text of the first <tag> element of xml[0..len) into out.
 * @retval length  @retval -ENOENT  @retval -EBADMSG  @retval -ENOSPC */
int bd_s3_xml_text(const char *xml, size_t len, const char *tag, char *out,
		   size_t cap);
/* One ListObjectsV2 page: every <Contents> (Key, Size, LastModified)
 * to cb; the next
 * page's continuation token to token ("" on the last page).
 * @retval entries  @retval -EBADMSG / -ENOSPC / cb's error */
int bd_s3_xml_list(const char *xml, size_t len, bd_s3_list_cb cb, void *arg,
		   char *token, size_t token_cap);
/* One ListParts page: every <Part> (PartNumber, ETag, Size) to cb; the
 * next page's marker to *next (0 on the last page).
 * @retval parts  @retval -EBADMSG / -ENOSPC / cb's error */
int bd_s3_xml_parts(const char *xml, size_t len, bd_s3_part_cb cb, void *arg,
		    unsigned *next);

#endif

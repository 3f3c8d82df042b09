/*
 * backupd_s3.c — the S3 client of backupd_s3.h on libcurl's easy
 * interface: one handle, reset per request so its connection is reused,
 * SigV4 by curl (CURLOPT_AWS_SIGV4) with an explicit x-amz-content-sha256
 * header (radosgw wants it; a body's real SHA-256, so the store checks
 * what it received).  Query strings are written already in SigV4's
 * canonical order (keys sorted, values escaped), because the signature
 * covers them as curl sends them.
 *
 * Every call blocks vigil-backupd's one loop for its duration, bounded
 * by the connect timeout (3 s) and the request timeout (--s3-timeout).
 */
#define _GNU_SOURCE
#include "backupd_s3.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mbedtls/platform_util.h"
#include "sha256.h"

#include "hex.h"
#include "log.h"

#define MOD "s3"
#define BD_S3_CONNECT_MS 3000L
#define BD_S3_TIMEOUT_MS 30000u
/* XML answers (a 1000-key listing of our short keys is ~250 KiB). */
#define BD_S3_RESP_MAX (512u * 1024u)
#define BD_S3_URL_MAX 2048u
#define BD_S3_SECRET_MAX 256u
/* SHA-256 of nothing: the payload hash of a request without a body. */
#define BD_S3_EMPTY_SHA \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static CURL *bd_curl;
static char bd_endpoint[512], bd_bucket[64], bd_sigv4[96];
static char bd_access[BD_S3_SECRET_MAX], bd_secret[BD_S3_SECRET_MAX];
static uint32_t bd_timeout_ms;
static char bd_resp[BD_S3_RESP_MAX];
static size_t bd_resp_len;

/* One request. */
struct bd_s3_req {
	const char *method;       /* GET PUT POST DELETE HEAD */
	const char *key;          /* NULL: the bucket itself */
	const char *query;        /* canonical query string, or NULL */
	const char *sha;          /* payload SHA-256 hex (NULL: empty) */
	int fd;                   /* body from fd [off, off + len) */
	uint64_t off, len;
	const char *body;         /* or from memory (fd < 0) */
	size_t body_len;
	char range[64];           /* "bytes=a-b" or "" */
	uint8_t *out;             /* GET: body here, out_cap bytes */
	size_t out_cap, out_len;
	int out_over;             /* more than out_cap came */
	char *etag;               /* the ETag header to here, if not NULL */
	const char *copy_from;    /* x-amz-copy-source, or NULL */
	uint64_t length;          /* HEAD: Content-Length */
};

/* Reads "access_key = X" / "secret_key = Y" lines.  @retval 0 / -EINVAL */
static int bd_s3_cred_file(const char *path)
{
	char line[BD_S3_SECRET_MAX + 32];
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		log_err(MOD, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *v = strchr(line, '='), *k = line, *e;

		if (line[0] == '#' || v == NULL)
			continue;
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		v[strcspn(v, "\r\n")] = '\0';
		if (strcmp(k, "access_key") == 0)
			snprintf(bd_access, sizeof bd_access, "%s", v);
		else if (strcmp(k, "secret_key") == 0)
			snprintf(bd_secret, sizeof bd_secret, "%s", v);
	}
	mbedtls_platform_zeroize(line, sizeof line);
	fclose(f);
	return 0;
}

/* see backupd_s3.h */
int bd_s3_open(const struct bd_s3_config *cfg)
{
	const char *a = getenv("VIGIL_S3_ACCESS_KEY");
	const char *s = getenv("VIGIL_S3_SECRET_KEY");

	if (cfg->cred_file != NULL) {
		if (bd_s3_cred_file(cfg->cred_file) != 0)
			return -EINVAL;
	} else if (a != NULL && s != NULL) {
		snprintf(bd_access, sizeof bd_access, "%s", a);
		snprintf(bd_secret, sizeof bd_secret, "%s", s);
	}
	if (bd_access[0] == '\0' || bd_secret[0] == '\0') {
		log_err(MOD, "no credentials: give --s3-credentials FILE "
			"(access_key= and secret_key= lines) or set "
			"VIGIL_S3_ACCESS_KEY and VIGIL_S3_SECRET_KEY");
		return -EINVAL;
	}
	if (snprintf(bd_endpoint, sizeof bd_endpoint, "%s", cfg->endpoint) >=
	    (int)sizeof bd_endpoint ||
	    snprintf(bd_bucket, sizeof bd_bucket, "%s", cfg->bucket) >=
	    (int)sizeof bd_bucket || bd_bucket[0] == '\0') {
		log_err(MOD, "endpoint or bucket name too long or empty");
		return -EINVAL;
	}
	while (bd_endpoint[0] && bd_endpoint[strlen(bd_endpoint) - 1] == '/')
		bd_endpoint[strlen(bd_endpoint) - 1] = '\0';
	snprintf(bd_sigv4, sizeof bd_sigv4, "aws:amz:%s:s3",
		 cfg->region != NULL ? cfg->region : "us-east-1");
	bd_timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : BD_S3_TIMEOUT_MS;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (bd_curl = curl_easy_init()) == NULL) {
		log_err(MOD, "libcurl did not start");
		return -EINVAL;
	}
	return 0;
}

/* see backupd_s3.h */
void bd_s3_close(void)
{
	if (bd_curl != NULL) {
		curl_easy_cleanup(bd_curl);
		curl_global_cleanup();
	}
	bd_curl = NULL;
	mbedtls_platform_zeroize(bd_secret, sizeof bd_secret);
	mbedtls_platform_zeroize(bd_access, sizeof bd_access);
}

static size_t bd_s3_on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct bd_s3_req *r = arg;
	size_t want = size * n;
	ssize_t got;

	if (r->fd < 0) {
		want = want < r->body_len ? want : r->body_len;
		memcpy(buf, r->body, want);
		r->body += want;
		r->body_len -= want;
		return want;
	}
	if (want > r->len)
		want = (size_t)r->len;
	if (want == 0)
		return 0;
	got = pread(r->fd, buf, want, (off_t)r->off);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	r->off += (uint64_t)got;
	r->len -= (uint64_t)got;
	return (size_t)got;
}

static size_t bd_s3_on_write(char *p, size_t size, size_t n, void *arg)
{
	struct bd_s3_req *r = arg;
	size_t len = size * n;

	if (r->out != NULL) {
		if (len > r->out_cap - r->out_len) {
			r->out_over = 1;
			return 0;
		}
		memcpy(r->out + r->out_len, p, len);
		r->out_len += len;
		return len;
	}
	if (len >= sizeof bd_resp - bd_resp_len)
		return 0;
	memcpy(bd_resp + bd_resp_len, p, len);
	bd_resp_len += len;
	bd_resp[bd_resp_len] = '\0';
	return len;
}

static size_t bd_s3_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct bd_s3_req *r = arg;
	size_t len = size * n;

	if (r->etag != NULL && len > 6 && strncasecmp(p, "etag:", 5) == 0) {
		size_t i = 5, k = 0;

		while (i < len && p[i] == ' ')
			i++;
		while (i < len && p[i] != '\r' && p[i] != '\n' &&
		       k + 1 < BD_S3_ETAG_MAX)
			r->etag[k++] = p[i++];
		r->etag[k] = '\0';
	}
	return len;
}

/* The URL of r into url.  @retval 0 / -EINVAL */
static int bd_s3_url(const struct bd_s3_req *r, char *url, size_t cap)
{
	int n = snprintf(url, cap, "%s/%s%s%s%s%s", bd_endpoint, bd_bucket,
			 r->key != NULL ? "/" : "", r->key != NULL ? r->key : "",
			 r->query != NULL ? "?" : "",
			 r->query != NULL ? r->query : "");

	return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

/* Sets up the method and the body of r.  @retval headers list */
static struct curl_slist *bd_s3_setup(struct bd_s3_req *r)
{
	char h[BD_S3_KEY_MAX + 96];
	struct curl_slist *hl = NULL;

	snprintf(h, sizeof h, "x-amz-content-sha256: %s",
		 r->sha != NULL ? r->sha : BD_S3_EMPTY_SHA);
	hl = curl_slist_append(hl, h);
	/* no "Expect:" to drop 100-continue: curl 7.88 signs the empty
	 * header it removes, and the signature then fails (HTTP 403) */
	curl_easy_setopt(bd_curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
	if (r->copy_from != NULL) {
		snprintf(h, sizeof h, "x-amz-copy-source: /%s/%s", bd_bucket,
			 r->copy_from);
		hl = curl_slist_append(hl, h);
	}
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(bd_curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(bd_curl, CURLOPT_READFUNCTION, bd_s3_on_read);
		curl_easy_setopt(bd_curl, CURLOPT_READDATA, r);
		curl_easy_setopt(bd_curl, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(r->fd >= 0 ? r->len : r->body_len));
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(bd_curl, CURLOPT_POST, 1L);
		curl_easy_setopt(bd_curl, CURLOPT_POSTFIELDS,
				 r->body != NULL ? r->body : "");
		curl_easy_setopt(bd_curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->body_len);
		hl = curl_slist_append(hl, "Content-Type: application/xml");
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(bd_curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(bd_curl, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	if (r->range[0] != '\0')
		curl_easy_setopt(bd_curl, CURLOPT_RANGE, r->range);
	return hl;
}

/* The errno of a transport failure. */
static int bd_s3_curl_err(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

/* Logs a failed request: S3's Code from the body when there is one. */
static void bd_s3_log_fail(const struct bd_s3_req *r, long status)
{
	char code[96] = "", msg[160] = "";

	if (r->out == NULL || r->out_len == 0) {
		bd_s3_xml_text(bd_resp, bd_resp_len, "Code", code, sizeof code);
		bd_s3_xml_text(bd_resp, bd_resp_len, "Message", msg,
			       sizeof msg);
	}
	/* a HEAD's answer has no body to name the error */
	if (code[0] == '\0' && (status == 401 || status == 403))
		snprintf(code, sizeof code, "(access denied: check the "
			 "credentials and the bucket's permissions)");
	log_err(MOD, "%s %s/%s: HTTP %ld %s%s%s", r->method, bd_bucket,
		r->key != NULL ? r->key : "", status, code,
		msg[0] ? ": " : "", msg);
}

/* Runs r.  @retval HTTP status (2xx, 404, 416)  @retval <0 (logged) */
static long bd_s3_do(struct bd_s3_req *r)
{
	char url[BD_S3_URL_MAX], err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl;
	curl_off_t cl = -1;
	long status = 0;
	CURLcode rc;

	if (bd_curl == NULL || bd_s3_url(r, url, sizeof url) != 0)
		return -EINVAL;
	curl_easy_reset(bd_curl);
	bd_resp_len = 0;
	bd_resp[0] = '\0';
	curl_easy_setopt(bd_curl, CURLOPT_URL, url);
	curl_easy_setopt(bd_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(bd_curl, CURLOPT_CONNECTTIMEOUT_MS, BD_S3_CONNECT_MS);
	curl_easy_setopt(bd_curl, CURLOPT_TIMEOUT_MS, (long)bd_timeout_ms);
	curl_easy_setopt(bd_curl, CURLOPT_AWS_SIGV4, bd_sigv4);
	curl_easy_setopt(bd_curl, CURLOPT_USERNAME, bd_access);
	curl_easy_setopt(bd_curl, CURLOPT_PASSWORD, bd_secret);
	curl_easy_setopt(bd_curl, CURLOPT_WRITEFUNCTION, bd_s3_on_write);
	curl_easy_setopt(bd_curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(bd_curl, CURLOPT_HEADERFUNCTION, bd_s3_on_header);
	curl_easy_setopt(bd_curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(bd_curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(bd_curl, CURLOPT_VERBOSE, getenv("VIGIL_S3_TRACE") != NULL ? 1L : 0L);
	hl = bd_s3_setup(r);
	curl_easy_setopt(bd_curl, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(bd_curl);
	curl_easy_getinfo(bd_curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(bd_curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	curl_slist_free_all(hl);
	r->length = cl >= 0 ? (uint64_t)cl : 0;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->out_over)) {
		log_err(MOD, "%s %s/%s: %s (%s)", r->method, bd_bucket,
			r->key != NULL ? r->key : "", curl_easy_strerror(rc),
			err);
		return bd_s3_curl_err(rc);
	}
	if ((status >= 200 && status < 300) || status == 404 || status == 416)
		return status;
	bd_s3_log_fail(r, status);
	return status == 401 || status == 403 ? -EACCES : -EIO;
}

/* A request r for method and key with nothing else. */
static void bd_s3_req_init(struct bd_s3_req *r, const char *method,
			   const char *key)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->key = key;
	r->fd = -1;
}

/* 2xx → 0, 404 → -ENOENT, 416 → -ERANGE, errors as they are. */
static int bd_s3_ret(long status)
{
	if (status < 0)
		return (int)status;
	if (status == 404)
		return -ENOENT;
	if (status == 416)
		return -ERANGE;
	return 0;
}

/* see backupd_s3.h */
int bd_s3_check(void)
{
	struct bd_s3_req r;

	bd_s3_req_init(&r, "HEAD", NULL);
	return bd_s3_ret(bd_s3_do(&r));
}

/* see backupd_s3.h */
int bd_s3_put_fd(const char *key, int fd, uint64_t off, uint64_t len,
		 const char *sha_hex)
{
	struct bd_s3_req r;

	bd_s3_req_init(&r, "PUT", key);
	r.fd = fd;
	r.off = off;
	r.len = len;
	r.sha = sha_hex;
	return bd_s3_ret(bd_s3_do(&r));
}

/* see backupd_s3.h */
void bd_s3_sha_hex(struct sha256_ctx *ctx, char hex[65])
{
	uint8_t d[32];

	sha256_finish(ctx, d);
	hex_encode(d, sizeof d, hex);
}

/* SHA-256 hex of fd's [off, off + len).  @retval 0  @retval -EIO */
static int bd_s3_hash_fd(int fd, uint64_t off, uint64_t len, char hex[65])
{
	static uint8_t buf[256u * 1024u];
	struct sha256_ctx sha;
	int ret = 0;

	sha256_init(&sha);
	while (len > 0) {
		size_t want = len < sizeof buf ? (size_t)len : sizeof buf;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got <= 0) {
			ret = -EIO;
			break;
		}
		sha256_update(&sha, buf, (size_t)got);
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	bd_s3_sha_hex(&sha, hex);
	return ret;
}

/* see backupd_s3.h */
int bd_s3_mpu_create(const char *key, char id[BD_S3_UPLOAD_ID_MAX])
{
	struct bd_s3_req r;
	int ret;

	bd_s3_req_init(&r, "POST", key);
	r.query = "uploads=";
	ret = bd_s3_ret(bd_s3_do(&r));
	if (ret == 0 && bd_s3_xml_text(bd_resp, bd_resp_len, "UploadId", id,
				       BD_S3_UPLOAD_ID_MAX) <= 0) {
		log_err(MOD, "POST %s/%s?uploads: no UploadId in the answer",
			bd_bucket, key);
		ret = -EIO;
	}
	return ret;
}

/* "partNumber=N&uploadId=ID" (or just the id) into q.  @retval 0/-EINVAL */
static int bd_s3_upload_query(char *q, size_t cap, unsigned part,
			      const char *id)
{
	char *e = curl_easy_escape(bd_curl, id, 0);
	int n;

	if (e == NULL)
		return -EINVAL;
	n = part ? snprintf(q, cap, "partNumber=%u&uploadId=%s", part, e)
		 : snprintf(q, cap, "uploadId=%s", e);
	curl_free(e);
	return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

/* see backupd_s3.h */
int bd_s3_mpu_part(const char *key, const char *id, unsigned part, int fd,
		   uint64_t off, uint64_t len, char etag[BD_S3_ETAG_MAX])
{
	char q[BD_S3_UPLOAD_ID_MAX * 3 + 32], sha[65];
	struct bd_s3_req r;
	int ret;

	if (bd_s3_upload_query(q, sizeof q, part, id) != 0 ||
	    bd_s3_hash_fd(fd, off, len, sha) != 0)
		return -EIO;
	bd_s3_req_init(&r, "PUT", key);
	r.query = q;
	r.fd = fd;
	r.off = off;
	r.len = len;
	r.sha = sha;
	r.etag = etag;
	etag[0] = '\0';
	ret = bd_s3_ret(bd_s3_do(&r));
	if (ret == 0 && etag[0] == '\0') {
		log_err(MOD, "PUT %s/%s part %u: no ETag", bd_bucket, key, part);
		ret = -EIO;
	}
	return ret;
}

/* see backupd_s3.h */
int bd_s3_mpu_complete(const char *key, const char *id,
		       const char (*etags)[BD_S3_ETAG_MAX], unsigned n)
{
	static char body[BD_S3_PARTS_MAX * (BD_S3_ETAG_MAX + 64) + 128];
	char q[BD_S3_UPLOAD_ID_MAX * 3 + 32], sha[65];
	size_t len = 0;
	unsigned i;
	struct bd_s3_req r;
	struct sha256_ctx c;

	if (n == 0 || n > BD_S3_PARTS_MAX ||
	    bd_s3_upload_query(q, sizeof q, 0, id) != 0)
		return -EINVAL;
	len += (size_t)sprintf(body, "<CompleteMultipartUpload>");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "<Part><PartNumber>%u"
				       "</PartNumber><ETag>%s</ETag></Part>",
				       i + 1, etags[i]);
	len += (size_t)sprintf(body + len, "</CompleteMultipartUpload>");
	sha256_init(&c);
	sha256_update(&c, (const uint8_t *)body, len);
	bd_s3_sha_hex(&c, sha);
	bd_s3_req_init(&r, "POST", key);
	r.query = q;
	r.body = body;
	r.body_len = len;
	r.sha = sha;
	/* an error can come with status 200 in the body */
	if (bd_s3_ret(bd_s3_do(&r)) != 0 ||
	    bd_s3_xml_text(bd_resp, bd_resp_len, "Code", q, sizeof q) >= 0) {
		log_err(MOD, "completing %s/%s failed", bd_bucket, key);
		return -EIO;
	}
	return 0;
}

/* see backupd_s3.h */
int bd_s3_mpu_abort(const char *key, const char *id)
{
	char q[BD_S3_UPLOAD_ID_MAX * 3 + 32];
	struct bd_s3_req r;
	int ret;

	if (bd_s3_upload_query(q, sizeof q, 0, id) != 0)
		return -EINVAL;
	bd_s3_req_init(&r, "DELETE", key);
	r.query = q;
	ret = bd_s3_ret(bd_s3_do(&r));
	return ret == -ENOENT ? 0 : ret;
}

/* One ListParts page from marker (0: the first).  @retval parts
 * @retval <0 */
static int bd_s3_parts_page(const char *key, const char *id,
			    unsigned *marker, bd_s3_part_cb cb, void *arg)
{
	char q[BD_S3_UPLOAD_ID_MAX * 3 + 64], u[BD_S3_UPLOAD_ID_MAX * 3 + 32];
	struct bd_s3_req r;
	int n, ret;

	if (bd_s3_upload_query(u, sizeof u, 0, id) != 0)
		return -EINVAL;
	n = *marker ? snprintf(q, sizeof q, "part-number-marker=%u&%s",
			       *marker, u)
		    : snprintf(q, sizeof q, "%s", u);
	if (n < 0 || (size_t)n >= sizeof q)
		return -EINVAL;
	bd_s3_req_init(&r, "GET", key);
	r.query = q;
	ret = bd_s3_ret(bd_s3_do(&r));
	if (ret != 0)
		return ret;
	ret = bd_s3_xml_parts(bd_resp, bd_resp_len, cb, arg, marker);
	if (ret == -EBADMSG || ret == -ENOSPC)
		log_err(MOD, "parts of %s/%s: unreadable answer", bd_bucket,
			key);
	return ret;
}

/* see backupd_s3.h */
int bd_s3_mpu_parts(const char *key, const char *id, bd_s3_part_cb cb,
		    void *arg)
{
	unsigned marker = 0;
	int n = 0, ret;

	do {
		ret = bd_s3_parts_page(key, id, &marker, cb, arg);
		if (ret < 0)
			return ret;
		n += ret;
	} while (marker != 0);
	return n;
}

/* see backupd_s3.h */
int bd_s3_copy(const char *src, const char *dst)
{
	struct bd_s3_req r;
	char code[64];

	bd_s3_req_init(&r, "PUT", dst);
	r.copy_from = src;
	r.body = "";
	/* an error can come with status 200 in the body */
	if (bd_s3_ret(bd_s3_do(&r)) != 0 ||
	    bd_s3_xml_text(bd_resp, bd_resp_len, "Code", code,
			   sizeof code) >= 0) {
		log_err(MOD, "copying %s/%s to %s failed", bd_bucket, src, dst);
		return -EIO;
	}
	return 0;
}

/* see backupd_s3.h */
int bd_s3_get(const char *key, uint64_t off, void *buf, size_t len)
{
	struct bd_s3_req r;
	int ret;

	if (len == 0)
		return -EINVAL;
	bd_s3_req_init(&r, "GET", key);
	snprintf(r.range, sizeof r.range, "%" PRIu64 "-%" PRIu64, off,
		 off + len - 1);
	r.out = buf;
	r.out_cap = len;
	ret = bd_s3_ret(bd_s3_do(&r));
	if (ret == 0 && (r.out_over || r.out_len != len))
		ret = -ERANGE;
	return ret;
}

/* see backupd_s3.h */
int bd_s3_head(const char *key, uint64_t *size)
{
	struct bd_s3_req r;
	int ret;

	bd_s3_req_init(&r, "HEAD", key);
	ret = bd_s3_ret(bd_s3_do(&r));
	*size = r.length;
	return ret;
}

/* see backupd_s3.h */
int bd_s3_delete(const char *key)
{
	struct bd_s3_req r;
	int ret;

	bd_s3_req_init(&r, "DELETE", key);
	ret = bd_s3_ret(bd_s3_do(&r));
	return ret == -ENOENT ? 0 : ret;
}

/* One page of a listing.  @retval entries  @retval <0 */
static int bd_s3_list_page(const char *prefix, char *token, bd_s3_list_cb cb,
			   void *arg)
{
	char q[BD_S3_TOKEN_MAX * 3 + BD_S3_KEY_MAX * 3 + 64];
	char *p = curl_easy_escape(bd_curl, prefix, 0);
	char *t = token[0] ? curl_easy_escape(bd_curl, token, 0) : NULL;
	struct bd_s3_req r;
	int n, ret;

	if (p == NULL || (token[0] && t == NULL)) {
		curl_free(p);
		return -EIO;
	}
	n = snprintf(q, sizeof q, "%s%s%slist-type=2&max-keys=1000&prefix=%s",
		     t ? "continuation-token=" : "", t ? t : "", t ? "&" : "",
		     p);
	curl_free(p);
	curl_free(t);
	if (n < 0 || (size_t)n >= sizeof q)
		return -EINVAL;
	bd_s3_req_init(&r, "GET", NULL);
	r.query = q;
	ret = bd_s3_ret(bd_s3_do(&r));
	if (ret != 0)
		return ret;
	ret = bd_s3_xml_list(bd_resp, bd_resp_len, cb, arg, token,
			     BD_S3_TOKEN_MAX);
	if (ret == -EBADMSG || ret == -ENOSPC)
		log_err(MOD, "listing %s/%s: unreadable answer", bd_bucket,
			prefix);
	return ret;
}

/* see backupd_s3.h */
int bd_s3_list(const char *prefix, bd_s3_list_cb cb, void *arg)
{
	static char token[BD_S3_TOKEN_MAX];
	int n = 0, ret;

	token[0] = '\0';
	do {
		ret = bd_s3_list_page(prefix, token, cb, arg);
		if (ret < 0)
			return ret;
		n += ret;
	} while (token[0] != '\0');
	return n;
}

/*
 * backupd_s3_xml.c — the few pieces of S3's XML answers vigil-backupd
 * reads (docs/backupd.md, "S3 store"): an element's text (UploadId, ETag,
 * an error's Code and Message) and the entries of a ListObjectsV2 page.
 *
 * Not a general XML parser: S3 answers are flat, machine-written
 * documents, so an element is found by its literal start tag, its text
 * runs to the next '<', and the five predefined entities plus numeric
 * character references below 0x80 are decoded.  Everything is bounded by
 * the input length and the caller's buffers; anything else (a text too
 * long, an unknown entity, a missing end tag) is an error, never a guess.
 * No I/O, no allocation: tests/fuzz/s3_xml_fuzz.c feeds it anything.
 */
#include "backupd_s3.h"

#include <errno.h>
#include <string.h>

/* The first occurrence of needle in [p, end), or NULL. */
static const char *bd_xml_find(const char *p, const char *end,
			       const char *needle)
{
	size_t n = strlen(needle);

	while ((size_t)(end - p) >= n) {
		const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);

		if (q == NULL)
			return NULL;
		if (memcmp(q, needle, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

/* Decodes one entity at p (just after '&') into *out; its length to
 * *used.  @retval 0  @retval -EBADMSG */
static int bd_xml_entity(const char *p, const char *end, char *out,
			 size_t *used)
{
	static const struct { const char *name; char c; } ent[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	size_t i, left = (size_t)(end - p);
	unsigned v = 0;

	for (i = 0; i < sizeof ent / sizeof ent[0]; i++) {
		size_t n = strlen(ent[i].name);

		if (left >= n && memcmp(p, ent[i].name, n) == 0) {
			*out = ent[i].c;
			*used = n;
			return 0;
		}
	}
	if (left < 3 || p[0] != '#')
		return -EBADMSG;
	for (i = 1; i < left && i < 5 && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10u + (unsigned)(p[i] - '0');
	if (i == 1 || i >= left || p[i] != ';' || v == 0 || v >= 0x80)
		return -EBADMSG;
	*out = (char)v;
	*used = i + 1;
	return 0;
}

/* Decodes the text [p, end) into out (NUL-terminated).
 * @retval length  @retval -ENOSPC  @retval -EBADMSG */
static int bd_xml_decode(const char *p, const char *end, char *out,
			 size_t cap)
{
	size_t n = 0, used;

	while (p < end) {
		char c = *p++;

		if (c == '&') {
			if (bd_xml_entity(p, end, &c, &used) != 0)
				return -EBADMSG;
			p += used;
		}
		if (c == '\0')
			return -EBADMSG;
		if (n + 1 >= cap)
			return -ENOSPC;
		out[n++] = c;
	}
	if (cap == 0)
		return -ENOSPC;
	out[n] = '\0';
	return (int)n;
}

/* The text of the first <tag> in [p, end) into out; *next (if not NULL)
 * to just after its end tag.  @retval length  @retval -ENOENT no such
 * element  @retval -EBADMSG / -ENOSPC */
static int bd_xml_elem(const char *p, const char *end, const char *tag,
		       char *out, size_t cap, const char **next)
{
	char open[40], close[41];
	const char *s, *e;
	size_t n = strlen(tag);

	if (n + 3 > sizeof open)
		return -EINVAL;
	open[0] = '<';
	memcpy(open + 1, tag, n);
	memcpy(open + 1 + n, ">", 2);
	close[0] = '<';
	close[1] = '/';
	memcpy(close + 2, tag, n);
	memcpy(close + 2 + n, ">", 2);
	s = bd_xml_find(p, end, open);
	if (s == NULL)
		return -ENOENT;
	s += n + 2;
	e = bd_xml_find(s, end, close);
	if (e == NULL || memchr(s, '<', (size_t)(e - s)) != NULL)
		return -EBADMSG;
	if (next != NULL)
		*next = e + n + 3;
	return bd_xml_decode(s, e, out, cap);
}

/* see backupd_s3.h */
int bd_s3_xml_text(const char *xml, size_t len, const char *tag, char *out,
		   size_t cap)
{
	return bd_xml_elem(xml, xml + len, tag, out, cap, NULL);
}

/* Parses a decimal size.  @retval 0  @retval -EBADMSG */
static int bd_xml_u64(const char *s, uint64_t *v)
{
	*v = 0;
	if (*s == '\0')
		return -EBADMSG;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || *v > (UINT64_MAX - 9u) / 10u)
			return -EBADMSG;
		*v = *v * 10u + (uint64_t)(*s - '0');
	}
	return 0;
}

/* One <Contents> block [p, end) to the callback.  @retval 0 / <0 */
static int bd_xml_entry(const char *p, const char *end, bd_s3_list_cb cb,
			void *arg)
{
	char key[BD_S3_KEY_MAX], size[24], when[BD_S3_TIME_MAX];
	uint64_t v;
	int ret = bd_xml_elem(p, end, "Key", key, sizeof key, NULL);

	if (ret < 0)
		return ret == -ENOENT ? -EBADMSG : ret;
	ret = bd_xml_elem(p, end, "Size", size, sizeof size, NULL);
	if (ret < 0 || bd_xml_u64(size, &v) != 0)
		return -EBADMSG;
	ret = bd_xml_elem(p, end, "LastModified", when, sizeof when, NULL);
	if (ret == -ENOENT)
		when[0] = '\0';
	else if (ret < 0)
		return -EBADMSG;
	return cb(arg, key, v, when);
}

/* One <Part> block [p, end) to the callback.  @retval 0 / <0 */
static int bd_xml_part(const char *p, const char *end, bd_s3_part_cb cb,
		       void *arg)
{
	char num[12], etag[BD_S3_ETAG_MAX], size[24];
	uint64_t n, v;

	if (bd_xml_elem(p, end, "PartNumber", num, sizeof num, NULL) < 0 ||
	    bd_xml_u64(num, &n) != 0 || n == 0 || n > BD_S3_PARTS_MAX ||
	    bd_xml_elem(p, end, "ETag", etag, sizeof etag, NULL) <= 0 ||
	    bd_xml_elem(p, end, "Size", size, sizeof size, NULL) < 0 ||
	    bd_xml_u64(size, &v) != 0)
		return -EBADMSG;
	return cb(arg, (unsigned)n, etag, v);
}

/* The truncation flag of a page and, when set, the text of next.
 * @retval 0 last page  @retval 1 more  @retval -EBADMSG / -ENOSPC */
static int bd_xml_more(const char *xml, const char *end, const char *next,
		       char *out, size_t cap)
{
	char trunc[8];
	int ret = bd_xml_elem(xml, end, "IsTruncated", trunc, sizeof trunc,
			      NULL);

	if (ret == -ENOENT || (ret >= 0 && strcmp(trunc, "false") == 0))
		return 0;
	if (ret < 0 || strcmp(trunc, "true") != 0)
		return -EBADMSG;
	ret = bd_xml_elem(xml, end, next, out, cap, NULL);
	return ret > 0 ? 1 : ret == -ENOSPC ? -ENOSPC : -EBADMSG;
}

/* see backupd_s3.h */
int bd_s3_xml_parts(const char *xml, size_t len, bd_s3_part_cb cb, void *arg,
		    unsigned *next)
{
	const char *p = xml, *end = xml + len, *s, *e;
	char marker[12];
	uint64_t m;
	int ret, n = 0;

	*next = 0;
	if (bd_xml_find(p, end, "<ListPartsResult") == NULL)
		return -EBADMSG;
	while ((s = bd_xml_find(p, end, "<Part>")) != NULL) {
		e = bd_xml_find(s, end, "</Part>");
		if (e == NULL)
			return -EBADMSG;
		ret = bd_xml_part(s + 6, e, cb, arg);
		if (ret < 0)
			return ret;
		p = e + 7;
		n++;
	}
	ret = bd_xml_more(xml, end, "NextPartNumberMarker", marker,
			  sizeof marker);
	if (ret <= 0)
		return ret < 0 ? ret : n;
	if (bd_xml_u64(marker, &m) != 0 || m == 0 || m >= BD_S3_PARTS_MAX)
		return -EBADMSG;
	*next = (unsigned)m;
	return n;
}

/* see backupd_s3.h */
int bd_s3_xml_list(const char *xml, size_t len, bd_s3_list_cb cb, void *arg,
		   char *token, size_t token_cap)
{
	const char *p = xml, *end = xml + len, *s, *e;
	int ret, n = 0;

	token[0] = '\0';
	if (bd_xml_find(p, end, "<ListBucketResult") == NULL)
		return -EBADMSG;
	while ((s = bd_xml_find(p, end, "<Contents>")) != NULL) {
		e = bd_xml_find(s, end, "</Contents>");
		if (e == NULL)
			return -EBADMSG;
		ret = bd_xml_entry(s + 10, e, cb, arg);
		if (ret < 0)
			return ret;
		p = e + 11;
		n++;
	}
	ret = bd_xml_more(xml, end, "NextContinuationToken", token, token_cap);
	if (ret == 0)
		token[0] = '\0';
	return ret < 0 ? ret : n;
}

/*
 * coap_opt.c — CoAP option definitions and helpers: integers, Uri-Path
 * and Uri-Query, Observe (RFC 7641) and Block1/Block2 (RFC 7959).
 *
 * Getters read the parsed view (struct coap_msg) and never copy; they
 * skip options coap_classify() marked ignored and treat a recognized
 * option whose length is outside its definition as absent (§5.4.1), so
 * for recognized options they give the same answers whether or not the
 * caller classified first (unrecognized ones are visible only before).
 */
#include "coap.h"

#include <errno.h>
#include <string.h>

/* RFC 7252 §5.10 (Table 4), RFC 7641 §2, RFC 7959 §2.1 and §4. */
static const struct coap_optdef optdefs[] = {
	{ COAP_OPT_IF_MATCH, COAP_FMT_OPAQUE, true, 0, 8, "If-Match" },
	{ COAP_OPT_URI_HOST, COAP_FMT_STRING, false, 1, 255, "Uri-Host" },
	{ COAP_OPT_ETAG, COAP_FMT_OPAQUE, true, 1, 8, "ETag" },
	{ COAP_OPT_IF_NONE_MATCH, COAP_FMT_EMPTY, false, 0, 0,
	  "If-None-Match" },
	{ COAP_OPT_OBSERVE, COAP_FMT_UINT, false, 0, 3, "Observe" },
	{ COAP_OPT_URI_PORT, COAP_FMT_UINT, false, 0, 2, "Uri-Port" },
	{ COAP_OPT_LOCATION_PATH, COAP_FMT_STRING, true, 0, 255,
	  "Location-Path" },
	{ COAP_OPT_URI_PATH, COAP_FMT_STRING, true, 0, 255, "Uri-Path" },
	{ COAP_OPT_CONTENT_FORMAT, COAP_FMT_UINT, false, 0, 2,
	  "Content-Format" },
	{ COAP_OPT_MAX_AGE, COAP_FMT_UINT, false, 0, 4, "Max-Age" },
	{ COAP_OPT_URI_QUERY, COAP_FMT_STRING, true, 0, 255, "Uri-Query" },
	{ COAP_OPT_ACCEPT, COAP_FMT_UINT, false, 0, 2, "Accept" },
	{ COAP_OPT_LOCATION_QUERY, COAP_FMT_STRING, true, 0, 255,
	  "Location-Query" },
	{ COAP_OPT_BLOCK2, COAP_FMT_UINT, false, 0, 3, "Block2" },
	{ COAP_OPT_BLOCK1, COAP_FMT_UINT, false, 0, 3, "Block1" },
	{ COAP_OPT_SIZE2, COAP_FMT_UINT, false, 0, 4, "Size2" },
	{ COAP_OPT_PROXY_URI, COAP_FMT_STRING, false, 1, 1034, "Proxy-Uri" },
	{ COAP_OPT_PROXY_SCHEME, COAP_FMT_STRING, false, 1, 255,
	  "Proxy-Scheme" },
	{ COAP_OPT_SIZE1, COAP_FMT_UINT, false, 0, 4, "Size1" },
	{ COAP_OPT_ECHO, COAP_FMT_OPAQUE, false, 1, 40, "Echo" },
};

/* see coap.h */
const struct coap_optdef *coap_opt_def(uint16_t num)
{
	/* O(n), n = 20 */
	for (size_t i = 0; i < sizeof optdefs / sizeof optdefs[0]; i++) {
		if (optdefs[i].num == num)
			return &optdefs[i];
	}
	return NULL;
}

/* see coap.h */
const struct coap_opt *coap_opt_next(const struct coap_msg *m, uint16_t num,
				     size_t *pos)
{
	for (size_t i = *pos; i < m->nopts; i++) {
		const struct coap_opt *o = &m->opts[i];

		if (o->num == num && !(o->flags & COAP_OPTF_IGNORED)) {
			*pos = i + 1;
			return o;
		}
	}
	*pos = m->nopts;
	return NULL;
}

/* see coap.h */
const struct coap_opt *coap_opt_get(const struct coap_msg *m, uint16_t num)
{
	size_t pos = 0;

	return coap_opt_next(m, num, &pos);
}

/* The first option numbered num whose length fits its definition. */
static const struct coap_opt *get_valid(const struct coap_msg *m,
					uint16_t num)
{
	const struct coap_opt *o = coap_opt_get(m, num);
	const struct coap_optdef *d = coap_opt_def(num);

	if (o && d && (o->len < d->min_len || o->len > d->max_len))
		return NULL;
	return o;
}

/* see coap.h */
int coap_uint_encode(uint32_t v, uint8_t out[4])
{
	int n = v > 0xffffffu ? 4 : v > 0xffffu ? 3 : v > 0xffu ? 2 :
		v > 0 ? 1 : 0;

	for (int i = n - 1; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
	return n;
}

/* see coap.h */
int coap_uint_decode(const uint8_t *p, size_t len, uint32_t *v)
{
	uint32_t x = 0;

	if (len > 4)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		x = x << 8 | p[i];
	*v = x;
	return 0;
}

/* see coap.h */
int coap_get_uint(const struct coap_msg *m, uint16_t num, uint32_t *v)
{
	const struct coap_opt *o = get_valid(m, num);

	if (!o)
		return 0;
	if (coap_uint_decode(o->val, o->len, v) < 0)
		return -EBADMSG;
	return 1;
}

/* see coap.h */
uint32_t coap_get_max_age(const struct coap_msg *m)
{
	uint32_t v;

	if (coap_get_uint(m, COAP_OPT_MAX_AGE, &v) == 1)
		return v;
	return COAP_MAX_AGE_DEFAULT;
}

/* see coap.h */
int coap_get_etag(const struct coap_msg *m, const uint8_t **val,
		  size_t *len)
{
	const struct coap_opt *o = get_valid(m, COAP_OPT_ETAG);

	if (!o)
		return 0;
	*val = o->val;
	*len = o->len;
	return 1;
}

/* §6.5 step 4: bytes that stay literal in a path segment (RFC 3986
 * unreserved, sub-delims, ':' and '@'). */
static bool path_literal(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

/* Appends c to out[*n] if there is room for it and a final NUL. */
static bool put_char(char *out, size_t cap, size_t *n, char c)
{
	if (*n + 1 >= cap)
		return false;
	out[(*n)++] = c;
	return true;
}

/* see coap.h */
int coap_path_format(const struct coap_msg *m, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	const struct coap_opt *o;
	size_t pos = 0, n = 0;
	bool ok = true;

	while (ok && (o = coap_opt_next(m, COAP_OPT_URI_PATH, &pos))) {
		ok = put_char(out, cap, &n, '/');
		for (size_t i = 0; ok && i < o->len; i++) {
			uint8_t c = o->val[i];

			if (path_literal(c)) {
				ok = put_char(out, cap, &n, (char)c);
				continue;
			}
			ok = put_char(out, cap, &n, '%') &&
			     put_char(out, cap, &n, hex[c >> 4]) &&
			     put_char(out, cap, &n, hex[c & 0x0f]);
		}
	}
	if (ok && n == 0)
		ok = put_char(out, cap, &n, '/');       /* §6.5 step 5 */
	if (!ok) {
		if (cap > 0)
			out[0] = '\0';
		return -ENOSPC;
	}
	out[n] = '\0';
	return (int)n;
}

/* Whether the next Uri-Path option from *pos is s[0..n). */
static bool seg_equals(const struct coap_msg *m, size_t *pos, const char *s,
		       size_t n)
{
	const struct coap_opt *o = coap_opt_next(m, COAP_OPT_URI_PATH, pos);

	return o && o->len == n && (n == 0 || memcmp(o->val, s, n) == 0);
}

/* see coap.h */
bool coap_path_equals(const struct coap_msg *m, const char *path)
{
	size_t pos = 0;
	const char *s = path + (*path == '/');

	while (*s != '\0') {
		const char *e = strchr(s, '/');

		if (!e)
			return seg_equals(m, &pos, s, strlen(s)) &&
			       !coap_opt_next(m, COAP_OPT_URI_PATH, &pos);
		if (!seg_equals(m, &pos, s, (size_t)(e - s)))
			return false;
		s = e + 1;
		if (*s == '\0')        /* "/a/": a last, empty segment */
			return seg_equals(m, &pos, s, 0) &&
			       !coap_opt_next(m, COAP_OPT_URI_PATH, &pos);
	}
	return !coap_opt_next(m, COAP_OPT_URI_PATH, &pos);
}

/* see coap.h */
int coap_query_next(const struct coap_msg *m, size_t *pos,
		    struct coap_query *q)
{
	const struct coap_opt *o = coap_opt_next(m, COAP_OPT_URI_QUERY, pos);
	const uint8_t *eq;

	if (!o)
		return 0;
	eq = o->len > 0 ? memchr(o->val, '=', o->len) : NULL;
	q->key = o->val;
	q->key_len = eq ? (size_t)(eq - o->val) : o->len;
	q->has_val = eq != NULL;
	q->val = eq ? eq + 1 : NULL;
	q->val_len = eq ? o->len - q->key_len - 1 : 0;
	return 1;
}

/* see coap.h */
int coap_query_find(const struct coap_msg *m, const char *key,
		    struct coap_query *q)
{
	size_t pos = 0, klen = strlen(key);

	while (coap_query_next(m, &pos, q)) {
		if (q->key_len == klen &&
		    (klen == 0 || memcmp(q->key, key, klen) == 0))
			return 1;
	}
	return 0;
}

/* see coap.h */
int coap_get_observe(const struct coap_msg *m, uint32_t *v)
{
	return coap_get_uint(m, COAP_OPT_OBSERVE, v) == 1 ? 1 : 0;
}

/* see coap.h */
bool coap_observe_is_newer(uint32_t v1, uint64_t t1_ms, uint32_t v2,
			   uint64_t t2_ms)
{
	const uint32_t half = 1u << 23;

	v1 &= COAP_OBSERVE_SEQ_MASK;
	v2 &= COAP_OBSERVE_SEQ_MASK;
	if (v1 < v2 && v2 - v1 < half)
		return true;
	if (v1 > v2 && v1 - v2 > half)
		return true;
	/* t2 > t1 + 128 s, written so that t1 + 128 s cannot wrap */
	return t2_ms > t1_ms && t2_ms - t1_ms > COAP_OBSERVE_FRESH_MS;
}

/* see coap.h */
uint32_t coap_observe_next(uint32_t seq)
{
	return (seq + 1u) & COAP_OBSERVE_SEQ_MASK;
}

/* see coap.h */
int coap_block_decode(const uint8_t *val, size_t len, struct coap_block *b)
{
	uint32_t v;

	if (len > 3 || coap_uint_decode(val, len, &v) < 0)
		return -EBADMSG;
	b->num = v >> 4;
	b->more = (v & 0x08u) != 0;
	b->szx = (uint8_t)(v & 0x07u);
	return b->szx > COAP_SZX_MAX ? -EBADMSG : 0;
}

/* see coap.h */
int coap_block_encode(const struct coap_block *b, uint8_t out[3])
{
	uint8_t tmp[4];
	int n;

	if (b->num > COAP_BLOCK_NUM_MAX || b->szx > COAP_SZX_MAX)
		return -EINVAL;
	/* num < 2^20, so the value has at most 24 bits: n <= 3 */
	n = coap_uint_encode(b->num << 4 | (b->more ? 0x08u : 0) | b->szx,
			     tmp);
	memcpy(out, tmp, (size_t)n);
	return n;
}

/* see coap.h */
int coap_get_block(const struct coap_msg *m, uint16_t num,
		   struct coap_block *b)
{
	const struct coap_opt *o = get_valid(m, num);

	if (!o)
		return 0;
	return coap_block_decode(o->val, o->len, b) < 0 ? -EBADMSG : 1;
}

/* see coap.h */
int coap_szx_of_size(size_t size)
{
	for (int szx = COAP_SZX_MIN; szx <= COAP_SZX_MAX; szx++) {
		if (size == COAP_BLOCK_SIZE(szx))
			return szx;
	}
	return -EINVAL;
}

/* see coap.h */
int coap_szx_fit(size_t room)
{
	for (int szx = COAP_SZX_MAX; szx >= COAP_SZX_MIN; szx--) {
		if (room >= COAP_BLOCK_SIZE(szx))
			return szx;
	}
	return -EINVAL;
}

/* see coap.h */
int coap_block_shrink(struct coap_block *b, uint8_t szx_max)
{
	unsigned shift;

	if (szx_max > COAP_SZX_MAX || b->szx > COAP_SZX_MAX)
		return -EINVAL;
	if (b->szx <= szx_max)
		return 0;
	shift = (unsigned)(b->szx - szx_max);
	if (b->num > (COAP_BLOCK_NUM_MAX >> shift))
		return -EBADMSG;
	b->num <<= shift;
	b->szx = szx_max;
	return 0;
}

/* see coap.h */
int coap_block_slice(const struct coap_block *b, size_t total, size_t *off,
		     size_t *len, bool *more)
{
	size_t size, start;

	if (b->szx > COAP_SZX_MAX || b->num > COAP_BLOCK_NUM_MAX)
		return -EINVAL;
	size = COAP_BLOCK_SIZE(b->szx);
	/* num < 2^20 and size <= 2^10: start < 2^30 fits a 32-bit size_t */
	start = (size_t)b->num * size;
	if (start >= total && !(b->num == 0 && total == 0))
		return -EBADMSG;
	*off = start;
	*len = total - start < size ? total - start : size;
	*more = total - start > size;
	return 0;
}

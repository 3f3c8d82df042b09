/*
 * coap_build.c — writing CoAP messages into a caller buffer.
 *
 * The writer appends: header and token, options in ascending number, then
 * the payload (marker 0xFF only before a non-empty payload).  Each call
 * checks that its whole output fits before writing anything, so w->len
 * only ever moves to the end of a complete element.  An option's header
 * is the delta from the previous option and the value length, each as a
 * nibble (0-12), nibble 13 + 1 byte (13-268) or nibble 14 + 2 bytes
 * (269-65804); at most COAP_OPT_HDR_MAX bytes.
 *
 * A writer with buf == NULL counts without writing: coap_build uses that
 * to measure the whole message first, so nothing is written unless
 * everything fits.
 *
 * Errors are sticky (w->err): the public calls return the first error
 * again, so a sender that ignores one return still cannot send a message
 * with a piece missing.  Invariant: w->len <= w->cap <= COAP_MSG_LIMIT,
 * so every count fits an int.
 */
#include "coap.h"

#include <errno.h>
#include <string.h>

#include "hex.h"

enum { W_OPTS, W_PAYLOAD, W_EMPTY };

/* Records ret as the writer's first error if it is one; returns it. */
static int sticky(struct coap_writer *w, int ret)
{
	if (ret < 0 && w->err == 0)
		w->err = ret;
	return ret;
}

/* Appends n bytes; the caller checked the room. */
static void w_append(struct coap_writer *w, const void *src, size_t n)
{
	if (w->buf && n > 0)
		memcpy(w->buf + w->len, src, n);
	w->len += n;
}

/* see coap.h */
int coap_writer_init(struct coap_writer *w, uint8_t *buf, size_t cap,
		     uint8_t type, uint8_t code, uint16_t mid,
		     const uint8_t *token, size_t tkl)
{
	uint8_t h[COAP_HDR_LEN];

	w->buf = buf;
	w->cap = cap < COAP_MSG_LIMIT ? cap : COAP_MSG_LIMIT;
	w->len = 0;
	w->err = 0;
	w->last_opt = 0;
	w->state = code == COAP_CODE_EMPTY ? W_EMPTY : W_OPTS;
	if (type > COAP_RST || tkl > COAP_TOKEN_MAX ||
	    (code == COAP_CODE_EMPTY && tkl != 0) || (tkl > 0 && !token))
		return sticky(w, -EINVAL);
	if (COAP_HDR_LEN + tkl > w->cap)
		return sticky(w, -ENOSPC);
	h[0] = (uint8_t)(COAP_VERSION << 6u | (unsigned)type << 4 |
			 (unsigned)tkl);
	h[1] = code;
	h[2] = (uint8_t)(mid >> 8);
	h[3] = (uint8_t)mid;
	w_append(w, h, sizeof h);
	w_append(w, token, tkl);
	return (int)w->len;
}

/* Writes the nibble for v into the return value and its extended bytes
 * at h[*n...]; invariant: v <= COAP_OPT_LEN_MAX. */
static unsigned ext_field(uint32_t v, uint8_t *h, size_t *n)
{
	if (v < 13)
		return v;
	if (v < 269) {
		h[(*n)++] = (uint8_t)(v - 13);
		return 13;
	}
	v -= 269;
	h[(*n)++] = (uint8_t)(v >> 8);
	h[(*n)++] = (uint8_t)v;
	return 14;
}

/* Appends an option without looking at its definition. */
static int put_opt_raw(struct coap_writer *w, uint16_t num, const void *val,
		       size_t len)
{
	uint8_t h[COAP_OPT_HDR_MAX];
	size_t hn = 1;
	unsigned dn, ln;

	if (w->state != W_OPTS || num < w->last_opt ||
	    len > COAP_OPT_LEN_MAX || (len > 0 && !val))
		return -EINVAL;
	dn = ext_field((uint32_t)(num - w->last_opt), h, &hn);
	ln = ext_field((uint32_t)len, h, &hn);
	h[0] = (uint8_t)(dn << 4 | ln);
	if (hn > w->cap - w->len || len > w->cap - w->len - hn)
		return -ENOSPC;
	w_append(w, h, hn);
	w_append(w, val, len);
	w->last_opt = num;
	return (int)(hn + len);
}

/* see coap.h */
int coap_put_opt(struct coap_writer *w, uint16_t num, const void *val,
		 size_t len)
{
	const struct coap_optdef *d = coap_opt_def(num);

	if (w->err)
		return w->err;
	if (num == 0 || (d && (len < d->min_len || len > d->max_len)))
		return sticky(w, -EINVAL);
	return sticky(w, put_opt_raw(w, num, val, len));
}

/* see coap.h */
int coap_put_uint(struct coap_writer *w, uint16_t num, uint32_t v)
{
	uint8_t b[4];
	int n = coap_uint_encode(v, b);

	return coap_put_opt(w, num, b, (size_t)n);
}

/* see coap.h */
int coap_put_block(struct coap_writer *w, uint16_t num,
		   const struct coap_block *b)
{
	uint8_t v[3];
	int n;

	if (w->err)
		return w->err;
	n = coap_block_encode(b, v);
	if (n < 0)
		return sticky(w, n);
	return coap_put_opt(w, num, v, (size_t)n);
}

/* Decodes one segment of s up to sep or a stop character into seg;
 * returns its length, or -EINVAL.  *sp is left on the terminator. */
static int decode_seg(const char **sp, char sep, const char *stops,
		      uint8_t seg[COAP_URI_SEG_MAX])
{
	const char *s = *sp;
	size_t n = 0;

	for (; *s && *s != sep && !strchr(stops, *s); n++) {
		int hi, lo;

		if (n == COAP_URI_SEG_MAX)
			return -EINVAL;
		if (*s != '%') {
			seg[n] = (uint8_t)*s++;
			continue;
		}
		hi = hex_digit(s[1]);
		lo = hi < 0 ? -1 : hex_digit(s[2]);
		if (lo < 0)
			return -EINVAL;
		seg[n] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	*sp = s;
	return (int)n;
}

/* One option numbered num per sep-separated segment of s, up to a stop
 * character; all or nothing. */
static int put_split(struct coap_writer *w, uint16_t num, const char *s,
		     char sep, const char *stops)
{
	struct coap_writer saved = *w;
	uint8_t seg[COAP_URI_SEG_MAX];
	int total = 0;

	if (w->err)
		return w->err;
	for (;;) {
		int n = decode_seg(&s, sep, stops, seg);
		int ret = n < 0 ? n : coap_put_opt(w, num, seg, (size_t)n);

		if (ret < 0) {
			*w = saved;
			return sticky(w, ret);
		}
		total += ret;
		if (*s != sep)
			return total;
		s++;
	}
}

/* see coap.h */
int coap_put_path(struct coap_writer *w, const char *path)
{
	if (w->err)
		return w->err;
	if (*path == '/')
		path++;
	if (*path == '\0' || *path == '?' || *path == '#')
		return 0;
	return put_split(w, COAP_OPT_URI_PATH, path, '/', "?#");
}

/* see coap.h */
int coap_put_query(struct coap_writer *w, const char *query)
{
	if (w->err)
		return w->err;
	if (*query == '?')
		query++;
	if (*query == '\0' || *query == '#')
		return 0;
	return put_split(w, COAP_OPT_URI_QUERY, query, '&', "#");
}

/* see coap.h */
int coap_put_payload(struct coap_writer *w, const void *data, size_t len)
{
	size_t marker, room = w->cap - w->len;

	if (w->err)
		return w->err;
	if (len == 0)
		return 0;
	if (w->state == W_EMPTY || !data)
		return sticky(w, -EINVAL);
	marker = w->state == W_PAYLOAD ? 0 : 1;
	if (marker > room || len > room - marker)
		return sticky(w, -ENOSPC);
	if (marker) {
		uint8_t m = COAP_PAYLOAD_MARKER;

		w_append(w, &m, 1);
		w->state = W_PAYLOAD;
	}
	w_append(w, data, len);
	return (int)(marker + len);
}

/* see coap.h */
int coap_writer_finish(const struct coap_writer *w)
{
	return w->err ? w->err : (int)w->len;
}

/* The whole message of m, options in the order given by idx. */
static int emit(struct coap_writer *w, uint8_t *buf, size_t cap,
		const struct coap_msg *m, const uint8_t *idx)
{
	int ret = coap_writer_init(w, buf, cap, m->type, m->code, m->mid,
				   m->token, m->tkl);

	for (size_t i = 0; ret >= 0 && i < m->nopts; i++) {
		const struct coap_opt *o = &m->opts[idx[i]];

		ret = put_opt_raw(w, o->num, o->val, o->len);
	}
	if (ret >= 0)
		ret = coap_put_payload(w, m->payload, m->payload_len);
	return ret < 0 ? ret : (int)w->len;
}

/* see coap.h */
int coap_build(const struct coap_msg *m, uint8_t *out, size_t cap)
{
	uint8_t idx[COAP_MAX_OPTS];
	struct coap_writer w;
	int ret;

	if (m->nopts > COAP_MAX_OPTS || (m->code == COAP_CODE_EMPTY &&
	    (m->nopts > 0 || m->payload_len > 0)))
		return -EINVAL;
	/* stable insertion sort by number: O(n^2), n <= COAP_MAX_OPTS */
	for (size_t i = 0; i < m->nopts; i++) {
		size_t j = i;

		for (; j > 0 && m->opts[idx[j - 1]].num > m->opts[i].num; j--)
			idx[j] = idx[j - 1];
		idx[j] = (uint8_t)i;
	}
	ret = emit(&w, NULL, COAP_MSG_LIMIT, m, idx);
	if (ret == -ENOSPC)
		return -EMSGSIZE;
	if (ret < 0)
		return ret;
	if ((size_t)ret > cap)
		return -ENOSPC;
	return emit(&w, out, cap, m, idx);
}

/* see coap.h */
int coap_build_empty(uint8_t *out, size_t cap, uint8_t type, uint16_t mid)
{
	struct coap_writer w;

	return coap_writer_init(&w, out, cap, type, COAP_CODE_EMPTY, mid,
				NULL, 0);
}

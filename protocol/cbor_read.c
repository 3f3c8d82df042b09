/*
 * cbor_read.c — reads of one whole item on top of the pull decoder:
 * cbor_dec_skip, the typed reads and the text copies.
 *
 * Each is cbor_dec_peek (which never changes the decoder) to decide, then
 * cbor_dec_next to consume: a mismatch leaves the decoder as it was, and a
 * malformed head is made sticky by that cbor_dec_next.  Schema readers
 * call these a few dozen times per document, so the second look at the
 * head (a few ns) is not worth a private interface into cbor_dec.c.
 */
#include "cbor.h"

#include <errno.h>
#include <string.h>

/* see cbor.h */
int cbor_dec_skip(struct cbor_dec *d)
{
	struct cbor_item it;
	uint8_t base = d->depth;
	int r = cbor_dec_peek(d, &it);

	if (r < 0)
		return cbor_dec_next(d, &it);	/* stores the error */
	if (r == 0 || it.type == CBOR_END)
		return 0;
	do {
		/* inside a frame input cannot end cleanly: next gives 1 or
		 * an error until the item's END brings depth back */
		r = cbor_dec_next(d, &it);
		if (r < 0)
			return r;
	} while (d->depth > base);
	return 1;
}

/* The next item if it has type t and is no indefinite start: 1, then the
 * caller consumes it; -EBADMSG (not consumed), or a sticky error. */
static int dec_typed(struct cbor_dec *d, struct cbor_item *it, unsigned t)
{
	int r = cbor_dec_peek(d, it);

	if (r < 0)
		return cbor_dec_next(d, it);	/* stores the error */
	if (r == 0 || it->type != t || (it->flags & CBOR_INDEF))
		return -EBADMSG;
	return 1;
}

/* Consumes the item dec_typed() or a peek approved (it is well-formed:
 * cbor_dec_next returns 1 and fills the same event). */
static int consume(struct cbor_dec *d)
{
	struct cbor_item it;

	return cbor_dec_next(d, &it) == 1 ? 0 : d->err;
}

/* see cbor.h */
int cbor_dec_uint(struct cbor_dec *d, uint64_t *v)
{
	struct cbor_item it;
	int r = dec_typed(d, &it, CBOR_UINT);

	if (r < 0)
		return r;
	*v = it.val;
	return consume(d);
}

/* see cbor.h */
int cbor_dec_int(struct cbor_dec *d, int64_t *v)
{
	struct cbor_item it;
	int r = cbor_dec_peek(d, &it);

	if (r < 0)
		return cbor_dec_next(d, &it);
	if (r == 0 || (it.type != CBOR_UINT && it.type != CBOR_NEGINT) ||
	    it.val > (uint64_t)INT64_MAX)
		return -EBADMSG;
	/* -1 - val for val <= INT64_MAX stays >= INT64_MIN. */
	*v = it.type == CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
	return consume(d);
}

/* see cbor.h */
int cbor_dec_bool(struct cbor_dec *d, bool *v)
{
	struct cbor_item it;
	int r = dec_typed(d, &it, CBOR_SIMPLE);

	if (r < 0)
		return r;
	if (it.val != CBOR_SIMPLE_FALSE && it.val != CBOR_SIMPLE_TRUE)
		return -EBADMSG;
	*v = it.val == CBOR_SIMPLE_TRUE;
	return consume(d);
}

/* see cbor.h */
int cbor_dec_float(struct cbor_dec *d, double *v)
{
	struct cbor_item it;
	int r = dec_typed(d, &it, CBOR_FLOAT);

	if (r < 0)
		return r;
	*v = it.f;
	return consume(d);
}

/* see cbor.h */
int cbor_dec_text_ref(struct cbor_dec *d, const char **s, size_t *n,
		      unsigned flags)
{
	struct cbor_item it;
	int r = dec_typed(d, &it, CBOR_TEXT);

	if (r < 0)
		return r;
	if ((flags & CBOR_TEXT_UTF8) && !cbor_utf8_valid(it.ptr, it.len))
		return cbor_dec_fail(d, CBOR_R_UTF8, it.off);
	*s = (const char *)it.ptr;
	*n = it.len;
	return consume(d);
}

/* Walks the chunks of the indefinite text string whose start d just
 * consumed, copying what fits into buf[0..cap); *total: joined length. */
static int join_chunks(struct cbor_dec *d, char *buf, size_t cap,
		       unsigned flags, size_t *total)
{
	struct cbor_item it;
	size_t n = 0;
	int r;

	while ((r = cbor_dec_next(d, &it)) == 1 && it.type != CBOR_END) {
		if ((flags & CBOR_TEXT_UTF8) && !cbor_utf8_valid(it.ptr, it.len))
			return cbor_dec_fail(d, CBOR_R_UTF8, it.off);
		/* n + it.len <= d->len: both lie inside the input. */
		if (it.len < cap && n < cap - it.len)
			memcpy(buf + n, it.ptr, it.len);
		n += it.len;
	}
	*total = n;
	return r < 0 ? r : 0;
}

/* see cbor.h */
int cbor_dec_text_copy(struct cbor_dec *d, char *buf, size_t cap,
		       unsigned flags)
{
	struct cbor_dec ahead;
	struct cbor_item it;
	size_t n;
	int r = cbor_dec_peek(d, &it);

	if (cap > CBOR_BUF_MAX)	/* the length must fit the int result */
		cap = CBOR_BUF_MAX;
	if (r < 0 || r == 0 || it.type != CBOR_TEXT)
		return r < 0 ? cbor_dec_next(d, &it) : -EBADMSG;
	ahead = *d;
	r = cbor_dec_next(&ahead, &it);
	if (r < 0)
		return r;
	n = it.len;
	if (it.flags & CBOR_INDEF) {
		r = join_chunks(&ahead, buf, cap, flags, &n);
	} else if ((flags & CBOR_TEXT_UTF8) && !cbor_utf8_valid(it.ptr, n)) {
		r = cbor_dec_fail(&ahead, CBOR_R_UTF8, it.off);
	} else if (n < cap && n) {
		memcpy(buf, it.ptr, n);
	}
	if (r < 0) {
		*d = ahead;	/* malformed: the error is sticky in d */
		return r;
	}
	if (n >= cap)
		return -ENOSPC;
	buf[n] = '\0';
	*d = ahead;
	return (int)n;
}

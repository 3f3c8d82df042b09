/*
 * cbor_dec.c — the CBOR pull decoder: one event per call, well-formedness
 * checked as it goes (RFC 8949 §3, Appendix C and F).
 *
 * The general path is split in two: dec_read() looks at the bytes at pos
 * and describes the next event (or why there is none) without changing
 * the decoder, so cbor_dec_peek() is dec_read() alone; dec_commit() then
 * applies it (pos, frame counts, push/pop).  cbor_dec_next() first tries
 * dec_fast(), which does both at once for the common case (see there);
 * dec_read() stays the reference for every event.  Whole-item reads on
 * top of next/peek are in cbor_read.c.
 *
 * Frames: one per open array, map, tag or indefinite string, at most
 * CBOR_MAX_DEPTH.  `left` of a definite frame is the items still due, a
 * map's pairs counted twice; an indefinite frame counts the items read.
 * So a map's key is due exactly when `left` is even, and every child read
 * is one `left += indef ? 1 : -1` — one 8-byte read-modify-write per item
 * (a 1-byte `half` store followed by the next call's wider load of the
 * frame defeated store-to-load forwarding and cost ~25 % of decode time).
 * A map of more than 2^63-1 pairs starts at the even UINT64_MAX - 1: it
 * would need more than SIZE_MAX bytes, so its count never reaches 0 and
 * the input ends first (CBOR_R_TRUNC_ITEM).  `half` stays 0.  A child is
 * counted against its parent when its head is read; the parent's CBOR_END
 * comes once its count is 0 (definite) or at its break (indefinite).
 *
 * Invariants: pos <= len; an item's ptr/len lie inside buf[0..len).  Every
 * length is compared with what is left (`n > len - pos`) before buf + pos
 * + n is formed, so a head claiming 2^64-1 bytes is just CBOR_R_TRUNC_STRING.
 * Error offsets: the head at fault (its initial byte), the break at fault,
 * or len when input ends where an item is due.
 */
#include "cbor.h"

#include <errno.h>
#include <string.h>

/* see cbor.h */
void cbor_dec_init(struct cbor_dec *d, const uint8_t *buf, size_t len,
		   unsigned flags)
{
	memset(d, 0, sizeof *d);
	d->buf = buf;
	d->len = buf ? len : 0;
	d->flags = (uint8_t)flags;
}

/* see cbor.h */
int cbor_dec_fail(struct cbor_dec *d, enum cbor_reason r, size_t off)
{
	if (d->err)
		return d->err;
	d->reason = (uint8_t)r;
	d->err_off = off;
	d->err = r == CBOR_R_DEPTH ? -EMSGSIZE : -EBADMSG;
	return d->err;
}

/* see cbor.h */
int cbor_dec_error(const struct cbor_dec *d)
{
	return d->err;
}

/* see cbor.h */
enum cbor_reason cbor_dec_reason(const struct cbor_dec *d)
{
	return (enum cbor_reason)d->reason;
}

/* see cbor.h */
size_t cbor_dec_offset(const struct cbor_dec *d)
{
	return d->err_off;
}

/* IEEE 754 binary32 bits -> double, exactly (built from the bits: no
 * float arithmetic, so a signalling NaN stays a NaN and raises nothing). */
static double single_to_double(uint32_t s)
{
	uint64_t sign = (uint64_t)(s >> 31) << 63, b;
	unsigned exp = (s >> 23) & 0xff;
	uint64_t m = s & 0x7fffff;
	double v;

	if (exp == 0) {		/* zero or subnormal: m x 2^-149, exact */
		v = (double)m * 0x1p-149;
		return sign ? -v : v;
	}
	if (exp == 0xff)
		b = sign | UINT64_C(0x7ff) << 52 | m << 29;
	else
		b = sign | (uint64_t)(exp - 127 + 1023) << 52 | m << 29;
	memcpy(&v, &b, sizeof v);
	return v;
}

static void set_float(struct cbor_item *it, uint64_t bits)
{
	it->type = CBOR_FLOAT;
	if (it->width == 2) {
		it->f = cbor_half_to_double((uint16_t)bits);
	} else if (it->width == 4) {
		it->f = single_to_double((uint32_t)bits);
	} else {
		memcpy(&it->f, &bits, sizeof it->f);
	}
}

/* The argument of a head with ai 24..31 at pos: it->val, width, and
 * CBOR_INDEF for ai 31.  0 or a negated reason. */
static int read_arg(const struct cbor_dec *d, size_t pos, unsigned ai,
		    struct cbor_item *it)
{
	const uint8_t *p;
	size_t w;

	if (ai == 31) {
		it->val = 0;
		it->flags |= CBOR_INDEF;
		return 0;
	}
	if (ai > 27)
		return -CBOR_R_RESERVED_AI;
	w = (size_t)1 << (ai - 24);
	if (w > d->len - pos - 1)	/* pos < len: no wrap */
		return -CBOR_R_TRUNC_ARG;
	p = d->buf + pos + 1;
	switch (w) {
	case 1:
		it->val = p[0];
		break;
	case 2:
		it->val = (uint64_t)p[0] << 8 | p[1];
		break;
	case 4:
		it->val = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
			  (uint64_t)p[2] << 8 | p[3];
		break;
	default:
		it->val = 0;
		for (size_t i = 0; i < 8; i++)
			it->val = it->val << 8 | p[i];
		break;
	}
	it->width = (uint8_t)w;
	return 0;
}

/* The CBOR_END of the top frame, at pos; `brk`: closed by the break at
 * pos (checked by the caller). */
static int read_end(const struct cbor_dec *d, struct cbor_item *out,
		    size_t pos, bool brk, size_t *npos)
{
	const struct cbor_frame *top = &d->stack[d->depth - 1];
	struct cbor_item it = { 0 };

	it.type = CBOR_END;
	it.val = top->type;
	it.flags = top->indef ? CBOR_INDEF : 0;
	it.off = pos;
	it.depth = (uint8_t)(d->depth - 1);
	*npos = pos + (brk ? 1 : 0);
	*out = it;
	return 1;
}

/* A break at pos: the end of the indefinite top frame, or an error. */
static int read_break(const struct cbor_dec *d, struct cbor_item *out,
		      size_t pos, size_t *npos)
{
	const struct cbor_frame *top = d->depth ? &d->stack[d->depth - 1] : NULL;

	if (!top || !top->indef)
		return -CBOR_R_STRAY_BREAK;
	if (top->type == CBOR_MAP && (top->left & 1))
		return -CBOR_R_ODD_MAP;
	return read_end(d, out, pos, true, npos);
}

/* Major types 2 and 3 with a definite length: the body after the head. */
static int read_string(const struct cbor_dec *d, struct cbor_item *it,
		       size_t *npos)
{
	size_t pos = *npos;

	if (it->val > (uint64_t)(d->len - pos))
		return -CBOR_R_TRUNC_STRING;
	it->ptr = d->buf + pos;
	it->len = (size_t)it->val;
	*npos = pos + it->len;
	if (it->type == CBOR_TEXT && (d->flags & CBOR_DEC_UTF8) &&
	    !cbor_utf8_valid(it->ptr, it->len))
		return -CBOR_R_UTF8;
	return 0;
}

/* Major 7: simple values and floats (the break is handled before). */
static int read_major7(struct cbor_item *it, unsigned ai)
{
	it->type = CBOR_SIMPLE;
	if (ai < 24)
		return 0;
	/* f8 00..1f would duplicate e0..f7 or name reserved 24..31. */
	if (ai == 24)
		return it->val < 32 ? -CBOR_R_SIMPLE : 0;
	set_float(it, it->val);
	return 0;
}

/* Sorts the head into a type once its argument is known. */
static int read_body(const struct cbor_dec *d, struct cbor_item *it,
		     unsigned major, unsigned ai, size_t *npos)
{
	bool indef = (it->flags & CBOR_INDEF) != 0;

	it->type = (uint8_t)major;
	switch (major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
		return indef ? -CBOR_R_INDEF_TYPE : 0;
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (!indef)
			return read_string(d, it, npos);
		break;
	case CBOR_TAG:
		if (indef)
			return -CBOR_R_INDEF_TYPE;
		break;
	case 7:
		return read_major7(it, ai);
	default:		/* arrays and maps */
		break;
	}
	return d->depth == CBOR_MAX_DEPTH ? -CBOR_R_DEPTH : 0;
}

/*
 * Describes the next event without consuming it: 1 (*out, *npos set),
 * 0 at the end of input between items, or a negated reason; every error's
 * offset is d->pos.  The event is built in a local and copied out once:
 * its uint8_t fields are char-typed, so stores through `out` could alias
 * *d and would force the compiler to reload d's fields after each one.
 */
static int dec_read(const struct cbor_dec *d, struct cbor_item *out,
		    size_t *npos)
{
	const struct cbor_frame *top = NULL;
	struct cbor_item it;
	size_t pos = d->pos;
	unsigned ib, major, ai;
	int r;

	if (d->depth) {
		top = &d->stack[d->depth - 1];
		if (top->left == 0 && !top->indef)
			return read_end(d, out, pos, false, npos);
	}
	if (pos == d->len)
		return top ? -CBOR_R_TRUNC_ITEM : 0;
	ib = d->buf[pos];
	if (ib == 0xff)
		return read_break(d, out, pos, npos);
	major = ib >> 5;
	ai = ib & 31;
	it.flags = 0;
	if (top && top->type <= CBOR_TEXT) {	/* inside an indef string */
		if (major != top->type)
			return -CBOR_R_CHUNK_TYPE;
		if (ai == 31)
			return -CBOR_R_CHUNK_INDEF;
		it.flags = CBOR_CHUNK;
	} else if (top && top->type == CBOR_MAP && !(top->left & 1)) {
		it.flags = CBOR_KEY;
	}
	it.off = pos;
	it.depth = d->depth;
	it.ptr = NULL;
	it.len = 0;
	it.f = 0;
	it.width = 0;
	it.val = ai;
	if (ai >= 24 && (r = read_arg(d, pos, ai, &it)) != 0)
		return r;
	*npos = pos + 1 + it.width;
	r = read_body(d, &it, major, ai, npos);
	if (r)
		return r;
	*out = it;
	return 1;
}

/* Applies an event dec_read() described. */
static void dec_commit(struct cbor_dec *d, const struct cbor_item *it,
		       size_t npos)
{
	struct cbor_frame *f;

	d->pos = npos;
	if (it->type == CBOR_END) {
		d->depth--;
		return;
	}
	if (d->depth) {
		f = &d->stack[d->depth - 1];
		f->left += f->indef ? 1 : UINT64_MAX;	/* +1 or -1 */
	}
	if (it->type == CBOR_ARRAY || it->type == CBOR_MAP ||
	    it->type == CBOR_TAG || (it->flags & CBOR_INDEF)) {
		struct cbor_frame nf = { 0, it->type, 0, 0 };

		if (it->flags & CBOR_INDEF)
			nf.indef = 1;
		else if (it->type == CBOR_TAG)
			nf.left = 1;
		else if (it->type == CBOR_ARRAY)
			nf.left = it->val;
		else
			nf.left = it->val <= UINT64_MAX / 2 ? it->val * 2 :
				  UINT64_MAX - 1;
		d->stack[d->depth++] = nf;	/* one store: see the top */
	}
}

/* dec_read() on a decoder that may fail: errors become sticky. */
static int dec_look(struct cbor_dec *d, struct cbor_item *it, size_t *npos)
{
	int r;

	if (d->err)
		return d->err;
	r = dec_read(d, it, npos);
	if (r < 0)
		return cbor_dec_fail(d, (enum cbor_reason)-r, d->pos);
	return r;
}

/* Big-endian argument of w = 1, 2, 4 or 8 bytes at p. */
static uint64_t get_be(const uint8_t *p, size_t w)
{
	uint64_t v = 0;

	switch (w) {
	case 1:
		return p[0];
	case 2:
		return (uint64_t)p[0] << 8 | p[1];
	case 4:
		return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
		       (uint64_t)p[2] << 8 | p[3];
	default:
		for (size_t i = 0; i < 8; i++)
			v = v << 8 | p[i];
		return v;
	}
}

/* Fast path: the END of the definite top frame, whose count is 0. */
static int fast_end(struct cbor_dec *d, const struct cbor_frame *top,
		    struct cbor_item *it)
{
	memset(it, 0, sizeof *it);
	it->type = CBOR_END;
	it->val = top->type;
	it->off = d->pos;
	it->depth = --d->depth;
	return 1;
}

/* Fast path: type, string bytes or float of a head whose argument val
 * (w bytes) is read; `left` bytes follow the head.  0 sends the head to
 * the general path (it is an error or needs a check made there). */
static int fast_body(const struct cbor_dec *d, struct cbor_item *it,
		     unsigned major, unsigned ai, uint64_t val, size_t left)
{
	it->ptr = NULL;
	it->len = 0;
	it->f = 0;
	it->type = (uint8_t)major;
	switch (major) {
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (val > left || (major == CBOR_TEXT &&
				   (d->flags & CBOR_DEC_UTF8)))
			return 0;
		it->ptr = d->buf + it->off + 1 + it->width;
		it->len = (size_t)val;
		return 1;
	case CBOR_ARRAY:
	case CBOR_MAP:
	case CBOR_TAG:
		return d->depth < CBOR_MAX_DEPTH;
	case 7:
		it->type = CBOR_SIMPLE;
		if (ai >= 25)
			set_float(it, val);
		return ai != 24 || val >= 32;
	default:
		return 1;
	}
}

/* Fast path: consumes the event (no END, no break, no chunk). */
static void fast_commit(struct cbor_dec *d, struct cbor_frame *top,
			const struct cbor_item *it)
{
	uint64_t v = it->val;

	d->pos = it->off + 1 + it->width + it->len;
	if (top)
		top->left--;	/* definite: the fast path took no other */
	if (it->type >= CBOR_ARRAY && it->type <= CBOR_TAG) {
		top = &d->stack[d->depth++];
		top->left = it->type == CBOR_TAG ? 1 :
			    it->type == CBOR_ARRAY ? v :
			    v <= UINT64_MAX / 2 ? v * 2 : UINT64_MAX - 1;
		top->type = it->type;
		top->indef = 0;
		top->half = 0;
	}
}

/*
 * The common case in one pass: no error, the top frame definite (or none
 * open), a head with ai <= 27 that is no chunk, or the END of a definite
 * frame.  The event and the commit are the ones dec_read/dec_commit would
 * make (the fuzz target checks every event against cbor_dec_peek, which
 * takes the general path); anything else returns 0 and the general path
 * runs.  This roughly halves the cost of an event: the general path
 * builds the event, stores it and reads it back to commit.
 */
static int dec_fast(struct cbor_dec *restrict d, struct cbor_item *restrict it)
{
	struct cbor_frame *top = NULL;
	size_t pos = d->pos, left = d->len - pos, w = 0;
	unsigned ib, ai;
	uint64_t val;

	if (d->err)
		return 0;
	it->flags = 0;
	if (d->depth) {
		top = &d->stack[d->depth - 1];
		if (top->indef)
			return 0;
		if (top->left == 0)
			return fast_end(d, top, it);
		if (top->type == CBOR_MAP && !(top->left & 1))
			it->flags = CBOR_KEY;
	}
	if (left == 0)
		return 0;
	ib = d->buf[pos];
	ai = ib & 31;
	val = ai;
	if (ai >= 24) {
		if (ai > 27)
			return 0;
		w = (size_t)1 << (ai - 24);
		if (w >= left)
			return 0;
		val = get_be(d->buf + pos + 1, w);
	}
	it->off = pos;
	it->width = (uint8_t)w;
	it->depth = d->depth;
	it->val = val;
	if (!fast_body(d, it, ib >> 5, ai, val, left - 1 - w))
		return 0;
	fast_commit(d, top, it);
	return 1;
}

/* see cbor.h */
int cbor_dec_next(struct cbor_dec *d, struct cbor_item *it)
{
	size_t npos;
	int r;

	if (dec_fast(d, it))
		return 1;
	r = dec_look(d, it, &npos);
	if (r == 1)
		dec_commit(d, it, npos);
	return r;
}

/* see cbor.h */
int cbor_dec_peek(const struct cbor_dec *d, struct cbor_item *it)
{
	size_t npos;
	int r;

	if (d->err)
		return d->err;
	r = dec_read(d, it, &npos);
	if (r < 0)
		return r == -CBOR_R_DEPTH ? -EMSGSIZE : -EBADMSG;
	return r;
}

/*
 * cbor_enc.c — the CBOR encoder: heads in preferred serialization and
 * floats in the shortest exact width (RFC 8949 §4.1, §4.2.2).
 *
 * Commit rule: every writer first checks that its whole item fits
 * (`n > cap - len`, never `len + n > cap`: cap <= CBOR_BUF_MAX, so
 * cap - len cannot wrap and every count fits an int) and only then copies
 * and advances len.  So an item is written whole or not at all, and a
 * failed call leaves len where it was.  buf == NULL runs the same checks
 * and only counts.
 *
 * Float narrowing works on the IEEE 754 bits, never by casting a double
 * to float: a cast of an out-of-range double is undefined behaviour in C11
 * (6.3.1.5), and the bit test says exactly when a narrower width loses
 * nothing.  A double 1.m x 2^e (52 fraction bits m) fits
 *   half    normal e in [-14, 15]  with m's low 42 bits zero,
 *           subnormal e in [-24, -15] with m's low 52 - (e + 24) bits zero
 *           (the value is a multiple of 2^-24);
 *   single  normal e in [-126, 127] with m's low 29 bits zero,
 *           subnormal e in [-149, -127] with m's low 52 - (e + 149) bits
 *           zero (a multiple of 2^-149).
 * Subnormal doubles (< 2^-1022) fit neither.
 */
#include "cbor.h"

#include <errno.h>
#include <string.h>

/* see cbor.h */
void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap > CBOR_BUF_MAX ? CBOR_BUF_MAX : cap;
	e->len = 0;
	e->err = 0;
}

static int enc_fail(struct cbor_enc *e, int err)
{
	e->err = err;
	return err;
}

/* Appends head[0..hn) then body[0..bn) as one item, or nothing. */
static int put(struct cbor_enc *e, const uint8_t *head, size_t hn,
	       const void *body, size_t bn)
{
	size_t room;

	if (e->err)
		return e->err;
	room = e->cap - e->len;
	if (hn > room || bn > room - hn)
		return enc_fail(e, -ENOSPC);
	if (e->buf) {
		if (hn)	/* cbor_enc_raw(e, NULL, 0): no memcpy from NULL */
			memcpy(e->buf + e->len, head, hn);
		if (bn)
			memcpy(e->buf + e->len + hn, body, bn);
	}
	e->len += hn + bn;
	return (int)(hn + bn);
}

/* Initial byte ib | AI and the argument big-endian: hn = 1 (arg < 24),
 * 2, 3, 5 or 9 bytes (AI 24..27). */
static void put_be(uint8_t *p, uint8_t ib, uint64_t arg, size_t hn)
{
	switch (hn) {
	case 1:
		p[0] = (uint8_t)(ib | arg);
		return;
	case 2:
		p[0] = ib | 24;
		p[1] = (uint8_t)arg;
		return;
	case 3:
		p[0] = ib | 25;
		p[1] = (uint8_t)(arg >> 8);
		p[2] = (uint8_t)arg;
		return;
	case 5:
		p[0] = ib | 26;
		for (int i = 0; i < 4; i++)
			p[1 + i] = (uint8_t)(arg >> (24 - 8 * i));
		return;
	default:
		p[0] = ib | 27;
		for (int i = 0; i < 8; i++)
			p[1 + i] = (uint8_t)(arg >> (56 - 8 * i));
		return;
	}
}

/* A head for (major, arg) in its shortest form, then body[0..bn), written
 * in place (the head is at most CBOR_HEAD_MAX bytes; no temporary copy:
 * this is the encoder's hot path). */
static int put_head(struct cbor_enc *e, unsigned major, uint64_t arg,
		    const void *body, size_t bn)
{
	size_t hn = arg < 24 ? 1 : arg <= 0xff ? 2 : arg <= 0xffff ? 3 :
		    arg <= 0xffffffffu ? 5 : 9;
	size_t room;
	uint8_t *p;

	if (e->err)
		return e->err;
	room = e->cap - e->len;
	if (hn > room || bn > room - hn)
		return enc_fail(e, -ENOSPC);
	if (e->buf) {
		p = e->buf + e->len;
		put_be(p, (uint8_t)(major << 5), arg, hn);
		if (bn)
			memcpy(p + hn, body, bn);
	}
	e->len += hn + bn;
	return (int)(hn + bn);
}

/* see cbor.h */
int cbor_enc_head(struct cbor_enc *e, unsigned major, uint64_t arg)
{
	if (e->err)
		return e->err;
	if (major > 7)
		return enc_fail(e, -EINVAL);
	return put_head(e, major, arg, NULL, 0);
}

/* see cbor.h */
int cbor_enc_uint(struct cbor_enc *e, uint64_t v)
{
	return put_head(e, CBOR_UINT, v, NULL, 0);
}

/* see cbor.h */
int cbor_enc_int(struct cbor_enc *e, int64_t v)
{
	if (v >= 0)
		return put_head(e, CBOR_UINT, (uint64_t)v, NULL, 0);
	/* -1 - v without overflow: v + 1 <= 0 is representable. */
	return put_head(e, CBOR_NEGINT, (uint64_t)(-(v + 1)), NULL, 0);
}

/* see cbor.h */
int cbor_enc_negint(struct cbor_enc *e, uint64_t n)
{
	return put_head(e, CBOR_NEGINT, n, NULL, 0);
}

/* see cbor.h */
int cbor_enc_bytes(struct cbor_enc *e, const void *p, size_t n)
{
	return put_head(e, CBOR_BYTES, n, p, n);
}

/* see cbor.h */
int cbor_enc_text(struct cbor_enc *e, const char *s, size_t n)
{
	return put_head(e, CBOR_TEXT, n, s, n);
}

/* see cbor.h */
int cbor_enc_cstr(struct cbor_enc *e, const char *s)
{
	size_t n = strlen(s);

	return put_head(e, CBOR_TEXT, n, s, n);
}

/* see cbor.h */
int cbor_enc_array(struct cbor_enc *e, uint64_t count)
{
	return put_head(e, CBOR_ARRAY, count, NULL, 0);
}

/* see cbor.h */
int cbor_enc_map(struct cbor_enc *e, uint64_t pairs)
{
	return put_head(e, CBOR_MAP, pairs, NULL, 0);
}

/* see cbor.h */
int cbor_enc_tag(struct cbor_enc *e, uint64_t tag)
{
	return put_head(e, CBOR_TAG, tag, NULL, 0);
}

/* see cbor.h */
int cbor_enc_simple(struct cbor_enc *e, unsigned v)
{
	if (e->err)
		return e->err;
	/* 24..31 have no encoding (f8 18..1f is not well-formed, e0|24..31
	 * are other heads); above 255 there is no simple value. */
	if ((v >= 24 && v < 32) || v > 255)
		return enc_fail(e, -EINVAL);
	return put_head(e, 7, v, NULL, 0);
}

/* see cbor.h */
int cbor_enc_bool(struct cbor_enc *e, bool v)
{
	return cbor_enc_simple(e, v ? CBOR_SIMPLE_TRUE : CBOR_SIMPLE_FALSE);
}

/* see cbor.h */
int cbor_enc_null(struct cbor_enc *e)
{
	return cbor_enc_simple(e, CBOR_SIMPLE_NULL);
}

/* see cbor.h */
int cbor_enc_undef(struct cbor_enc *e)
{
	return cbor_enc_simple(e, CBOR_SIMPLE_UNDEF);
}

#define D_FRAC_BITS 52
#define D_FRAC_MASK ((UINT64_C(1) << D_FRAC_BITS) - 1)
#define D_EXP_MASK  0x7ffu
#define D_BIAS      1023

/* Low `n` bits of m are zero (n <= 52). */
static bool low_zero(uint64_t m, int n)
{
	return (m & ((UINT64_C(1) << n) - 1)) == 0;
}

/* A finite, nonzero, normal double's fit into a narrower format with
 * `frac` fraction bits, exponent range [emin, emax] and bias: the narrow
 * bits without sign, or -1 when some bit would be lost. */
static int64_t narrow(int e, uint64_t m, int frac, int emin, int emax)
{
	int sub_min = emin - frac; /* exponent of the smallest subnormal */
	int keep;

	if (e > emax || e < sub_min)
		return -1;
	if (e >= emin) {
		if (!low_zero(m, D_FRAC_BITS - frac))
			return -1;
		return (int64_t)((uint64_t)(e + (1 - emin)) << frac |
				 m >> (D_FRAC_BITS - frac));
	}
	keep = e - sub_min; /* fraction bits a subnormal can keep */
	if (!low_zero(m, D_FRAC_BITS - keep))
		return -1;
	return (int64_t)((m | UINT64_C(1) << D_FRAC_BITS) >>
			 (D_FRAC_BITS - keep));
}

/* The bits of v in `width` bytes (2, 4, 8), NaN as that width's quiet
 * NaN; false if v is not exact in that width. */
static bool float_bits(double v, unsigned width, uint64_t *out)
{
	uint64_t b, m, sign;
	unsigned exp;
	int64_t n;

	memcpy(&b, &v, sizeof b);
	if (width == 8) {
		*out = v != v ? UINT64_C(0x7ff8000000000000) : b;
		return true;
	}
	sign = b >> 63;
	exp = (unsigned)(b >> D_FRAC_BITS) & D_EXP_MASK;
	m = b & D_FRAC_MASK;
	if (exp == D_EXP_MASK && m != 0) {
		*out = width == 2 ? 0x7e00 : 0x7fc00000;
		return true;
	}
	if (exp == D_EXP_MASK)	/* infinity: all-ones exponent */
		n = width == 2 ? 0x7c00 : 0x7f800000;
	else if (exp == 0 && m == 0)
		n = 0;
	else if (exp == 0)	/* subnormal double: below every narrow format */
		return false;
	else if (width == 2)
		n = narrow((int)exp - D_BIAS, m, 10, -14, 15);
	else
		n = narrow((int)exp - D_BIAS, m, 23, -126, 127);
	if (n < 0)
		return false;
	*out = (uint64_t)n | sign << (width * 8 - 1);
	return true;
}

static int put_float(struct cbor_enc *e, uint64_t bits, unsigned width)
{
	uint8_t h[CBOR_HEAD_MAX];

	/* f9/fa/fb: major 7 with AI 25/26/27. */
	h[0] = width == 2 ? 0xf9 : width == 4 ? 0xfa : 0xfb;
	for (unsigned i = width; i > 0; i--) {
		h[i] = (uint8_t)bits;
		bits >>= 8;
	}
	return put(e, h, width + 1, NULL, 0);
}

/* see cbor.h */
int cbor_enc_float(struct cbor_enc *e, double v)
{
	uint64_t bits;

	if (float_bits(v, 2, &bits))
		return put_float(e, bits, 2);
	if (float_bits(v, 4, &bits))
		return put_float(e, bits, 4);
	memcpy(&bits, &v, sizeof bits);
	return put_float(e, bits, 8);
}

/* see cbor.h */
int cbor_enc_float_width(struct cbor_enc *e, double v, unsigned width)
{
	uint64_t bits;

	if (e->err)
		return e->err;
	if ((width != 2 && width != 4 && width != 8) ||
	    !float_bits(v, width, &bits))
		return enc_fail(e, -EINVAL);
	return put_float(e, bits, width);
}

/* see cbor.h */
int cbor_enc_indef(struct cbor_enc *e, enum cbor_type t)
{
	uint8_t ib;

	if (e->err)
		return e->err;
	if (t != CBOR_BYTES && t != CBOR_TEXT && t != CBOR_ARRAY &&
	    t != CBOR_MAP)
		return enc_fail(e, -EINVAL);
	ib = (uint8_t)((unsigned)t << 5 | 31);
	return put(e, &ib, 1, NULL, 0);
}

/* see cbor.h */
int cbor_enc_break(struct cbor_enc *e)
{
	static const uint8_t brk = 0xff;

	return put(e, &brk, 1, NULL, 0);
}

/* see cbor.h */
int cbor_enc_raw(struct cbor_enc *e, const void *p, size_t n)
{
	return put(e, p, n, NULL, 0);
}

/* see cbor.h */
size_t cbor_enc_len(const struct cbor_enc *e)
{
	return e->len;
}

/* see cbor.h */
int cbor_enc_error(const struct cbor_enc *e)
{
	return e->err;
}

/* see cbor.h */
int cbor_enc_finish(const struct cbor_enc *e)
{
	return e->err ? e->err : (int)e->len;
}

/* see cbor.h */
int cbor_enc_rollback(struct cbor_enc *e, size_t mark)
{
	if (mark > e->len)
		return -EINVAL;
	e->len = mark;
	e->err = 0;
	return 0;
}

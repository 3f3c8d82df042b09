/*
 * cbor_util.c — what is built on the decoder and encoder: re-encoding items
 * (cbor_copy), UTF-8 and half-float helpers, reason text.
 *
 * cbor_copy walks the item's events and writes each again through the
 * encoder, which picks the preferred head and float width by itself.  With
 * CBOR_COPY_DEFINITE an indefinite start needs its count (or joined length)
 * before its head can be written, so a copy of the decoder (a plain struct,
 * ~300 bytes) runs ahead to the break: that is the O(n * depth) of the
 * header.  On failure the decoder and encoder are put back where they were
 * (see cbor.h), which is why the decoder is saved on entry.
 */
#include "cbor.h"

#include <errno.h>
#include <string.h>

/* see cbor.h */
double cbor_half_to_double(uint16_t h)
{
	uint64_t sign = (uint64_t)(h >> 15) << 63, b;
	unsigned exp = (h >> 10) & 0x1f;
	uint64_t m = h & 0x3ff;
	double v;

	if (exp == 0) {		/* zero or subnormal: m x 2^-24, exact */
		v = (double)m * 0x1p-24;
		return sign ? -v : v;
	}
	if (exp == 0x1f)	/* infinity / NaN, payload kept */
		b = sign | UINT64_C(0x7ff) << 52 | m << 42;
	else
		b = sign | (uint64_t)(exp - 15 + 1023) << 52 | m << 42;
	memcpy(&v, &b, sizeof v);
	return v;
}

/* see cbor.h */
bool cbor_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xc2 || c > 0xf4)	/* continuation, overlong, > U+10FFFF */
			return false;
		need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong 3-byte */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates D800..DFFF */
		else if (c == 0xf0)
			lo = 0x90;		/* overlong 4-byte */
		else if (c == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
		if (need > n - i - 1)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (unsigned k = 2; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		}
		i += need + 1;
	}
	return true;
}

/* see cbor.h */
const char *cbor_reason_str(enum cbor_reason r)
{
	static const char *const text[CBOR_R_COUNT_] = {
		[CBOR_R_NONE] = "no error",
		[CBOR_R_TRUNC_ARG] = "truncated head",
		[CBOR_R_TRUNC_STRING] = "truncated string",
		[CBOR_R_TRUNC_ITEM] = "truncated item (missing content or break)",
		[CBOR_R_RESERVED_AI] = "reserved additional information 28-30",
		[CBOR_R_INDEF_TYPE] = "indefinite length on int or tag",
		[CBOR_R_STRAY_BREAK] = "break outside an indefinite item",
		[CBOR_R_ODD_MAP] = "break after a map key",
		[CBOR_R_CHUNK_TYPE] = "string chunk of the wrong type",
		[CBOR_R_CHUNK_INDEF] = "indefinite string chunk",
		[CBOR_R_SIMPLE] = "two-byte simple value below 32",
		[CBOR_R_DEPTH] = "nesting too deep",
		[CBOR_R_UTF8] = "invalid UTF-8",
		[CBOR_R_JSON_KEY] = "map key is not text (JSON)",
		[CBOR_R_JSON_NONFINITE] = "NaN or Infinity (JSON)",
		[CBOR_R_JSON_UNDEF] = "undefined (JSON)",
		[CBOR_R_JSON_SIMPLE] = "simple value (JSON)",
		[CBOR_R_TYPE] = "unexpected type",
		[CBOR_R_RANGE] = "value out of range",
	};

	if ((unsigned)r >= CBOR_R_COUNT_ || !text[r])
		return "unknown reason";
	return text[r];
}

/* The count of items (or the joined length, for strings) of the
 * indefinite item whose start d just consumed; d is not moved. */
static int count_ahead(struct cbor_dec *d, const struct cbor_item *start,
		       uint64_t *count)
{
	struct cbor_dec ahead = *d;
	struct cbor_item it;
	uint64_t n = 0;
	int r;

	if (start->type == CBOR_BYTES || start->type == CBOR_TEXT) {
		while ((r = cbor_dec_next(&ahead, &it)) == 1 &&
		       it.type != CBOR_END)
			n += it.len;
	} else {
		while ((r = cbor_dec_skip(&ahead)) == 1)
			n++;
		if (start->type == CBOR_MAP)
			n /= 2;	/* even: an odd count is CBOR_R_ODD_MAP */
	}
	if (r < 0)
		return cbor_dec_fail(d, (enum cbor_reason)ahead.reason,
				     ahead.err_off);
	*count = n;
	return 0;
}

/* An indefinite start, as is or (CBOR_COPY_DEFINITE) with its count. */
static int copy_indef(struct cbor_dec *d, struct cbor_enc *e,
		      const struct cbor_item *it, unsigned flags)
{
	uint64_t n = 0;	/* set by count_ahead; gcc -O2 cannot see that */
	int r;

	if (!(flags & CBOR_COPY_DEFINITE))
		return cbor_enc_indef(e, (enum cbor_type)it->type);
	r = count_ahead(d, it, &n);
	if (r < 0)
		return r;
	return cbor_enc_head(e, it->type, n);
}

/* One event of the item being copied, written again. */
static int copy_event(struct cbor_dec *d, struct cbor_enc *e,
		      const struct cbor_item *it, unsigned flags)
{
	bool joined = (flags & CBOR_COPY_DEFINITE) != 0;

	if (it->flags & CBOR_INDEF) {
		if (it->type == CBOR_END)
			return joined ? 0 : cbor_enc_break(e);
		return copy_indef(d, e, it, flags);
	}
	switch (it->type) {
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (joined && (it->flags & CBOR_CHUNK))
			return cbor_enc_raw(e, it->ptr, it->len);
		return it->type == CBOR_BYTES ?
			cbor_enc_bytes(e, it->ptr, it->len) :
			cbor_enc_text(e, (const char *)it->ptr, it->len);
	case CBOR_SIMPLE:
		return cbor_enc_simple(e, (unsigned)it->val);
	case CBOR_FLOAT:
		return cbor_enc_float(e, it->f);
	case CBOR_END:
		return 0;
	default:	/* ints, definite array/map heads, tags */
		return cbor_enc_head(e, it->type, it->val);
	}
}

/* see cbor.h */
int cbor_copy(struct cbor_dec *d, struct cbor_enc *e, unsigned flags)
{
	struct cbor_dec save;
	struct cbor_item it;
	size_t mark = e->len;
	uint8_t base = d->depth;
	int r;

	if (e->err)
		return e->err;
	r = cbor_dec_peek(d, &it);
	if (r <= 0 || it.type == CBOR_END)
		return r < 0 ? cbor_dec_next(d, &it) : 0;
	save = *d;
	do {
		r = cbor_dec_next(d, &it);
		if (r < 0)
			goto fail;
		r = copy_event(d, e, &it, flags);
		if (r < 0)
			goto fail;
	} while (d->depth > base);
	return 1;
fail:
	e->len = mark;		/* nothing of the item stays */
	if (!d->err)
		*d = save;	/* encoder error: the item is not consumed */
	return r;
}

/*
 * cbor_fuzz.c — libFuzzer target for the CBOR codec (protocol/cbor_*.c).
 *
 * Properties checked (__builtin_trap on violation):
 *   - decoding never reads past the input (ASan); every item's off and
 *     string bytes lie inside it, depth <= CBOR_MAX_DEPTH; an error has a
 *     reason that matches its code and an offset <= size, and sticks;
 *   - peek gives the event next gives; skip, typed reads and text_copy
 *     agree with next and end where it ends; CBOR_DEC_UTF8 fails exactly
 *     when some text string or chunk is not valid UTF-8;
 * and for well-formed input:
 *   - cbor_copy (count-only first, then for real, same length) gives an
 *     event stream equal to the input's (types, values, strings, flags,
 *     depth; floats by value, NaN as NaN), with every head and float in
 *     its shortest form, and copying the copy is byte-identical;
 *   - with CBOR_COPY_DEFINITE: no indefinite item is left, the events
 *     equal the input's with chunks joined, and it is idempotent too;
 *   - copying into a buffer too small stops at -ENOSPC on an item
 *     boundary with exactly the prefix of the full copy.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cbor.h"

#define OUT_MAX (1u << 20)

static uint8_t out1[OUT_MAX], out2[OUT_MAX], out3[OUT_MAX];
static char text[OUT_MAX];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int same_float(double a, double b)
{
	if (a != a || b != b)
		return a != a && b != b;
	return memcmp(&a, &b, sizeof a) == 0;
}

/* Everything but off, width and (for floats) the raw bits. */
static int same_event(const struct cbor_item *a, const struct cbor_item *b)
{
	if (a->type != b->type || a->flags != b->flags ||
	    a->depth != b->depth || a->len != b->len)
		return 0;
	if (a->type == CBOR_FLOAT)
		return same_float(a->f, b->f);
	if (a->val != b->val)
		return 0;
	return a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0;
}

static void check_item(const struct cbor_item *it, const uint8_t *data,
		       size_t size)
{
	require(it->off <= size && it->depth <= CBOR_MAX_DEPTH);
	require(it->type <= CBOR_END);
	if (it->ptr) {
		require(it->ptr >= data && it->len <= size &&
			(size_t)(it->ptr - data) <= size - it->len);
		require(it->type == CBOR_BYTES || it->type == CBOR_TEXT);
	} else {
		require(it->len == 0);
	}
}

/* A typed read from a copy of d must agree with the event next gives:
 * consumed to the same place when the type fits, untouched otherwise. */
static void check_typed(const struct cbor_dec *d, const struct cbor_item *it,
			size_t next_pos)
{
	struct cbor_dec t = *d;
	int fits = !(it->flags & CBOR_INDEF) && it->type != CBOR_END;
	uint64_t u;
	int64_t i;
	bool b;
	double f;
	const char *s;
	size_t n;
	int r;

	switch (it->type) {
	case CBOR_UINT:
		r = cbor_dec_uint(&t, &u);
		require(r != 0 || u == it->val);
		break;
	case CBOR_NEGINT:
		r = cbor_dec_int(&t, &i);
		fits = it->val <= (uint64_t)INT64_MAX;
		require(r != 0 || i == -1 - (int64_t)it->val);
		break;
	case CBOR_SIMPLE:
		r = cbor_dec_bool(&t, &b);
		fits = it->val == 20 || it->val == 21;
		require(r != 0 || b == (it->val == 21));
		break;
	case CBOR_FLOAT:
		r = cbor_dec_float(&t, &f);
		require(r != 0 || same_float(f, it->f));
		break;
	case CBOR_TEXT:
		r = cbor_dec_text_ref(&t, &s, &n, 0);
		require(r != 0 || (n == it->len &&
				   (const uint8_t *)s == it->ptr));
		break;
	default:
		r = cbor_dec_uint(&t, &u);
		fits = 0;
		break;
	}
	if (fits)
		require(r == 0 && t.pos == next_pos && t.depth == d->depth);
	else
		require(r == -EBADMSG && t.pos == d->pos && t.err == 0);
}

/* cbor_dec_text_copy on a text start: the joined length, consumed to where
 * walking the string ends; one byte less room is -ENOSPC, not consumed. */
static void check_text_copy(const struct cbor_dec *d,
			    const struct cbor_item *it)
{
	struct cbor_dec t = *d, w = *d;
	struct cbor_item x;
	size_t total = it->len;
	int r;

	if (it->type != CBOR_TEXT || (it->flags & CBOR_CHUNK))
		return;
	require(cbor_dec_next(&w, &x) == 1);
	if (x.flags & CBOR_INDEF) {
		total = 0;
		while ((r = cbor_dec_next(&w, &x)) == 1 && x.type != CBOR_END)
			total += x.len;
		if (r < 0) {	/* malformed inside: text_copy must say so */
			require(cbor_dec_text_copy(&t, text, sizeof text, 0) ==
				w.err && t.reason == w.reason &&
				t.err_off == w.err_off);
			return;
		}
	}
	r = cbor_dec_text_copy(&t, text, sizeof text, 0);
	require(r == (int)total && t.pos == w.pos && text[total] == '\0');
	t = *d;
	require(cbor_dec_text_copy(&t, text, total, 0) == -ENOSPC);
	require(t.pos == d->pos && t.err == 0);
}

/* Decodes everything with next (and peek, typed reads, text_copy beside
 * it); *bad_utf8: offset of the first text string or chunk that is not
 * UTF-8, SIZE_MAX if none. */
static int walk(const uint8_t *data, size_t size, struct cbor_dec *d,
		size_t *bad_utf8)
{
	struct cbor_item it, pk;
	struct cbor_dec before;
	int r, rp;

	*bad_utf8 = SIZE_MAX;
	cbor_dec_init(d, data, size, 0);
	for (;;) {
		rp = cbor_dec_peek(d, &pk);
		before = *d;
		r = cbor_dec_next(d, &it);
		require(rp == r);
		if (r != 1)
			break;
		require(same_event(&pk, &it) && pk.off == it.off);
		check_item(&it, data, size);
		check_typed(&before, &it, d->pos);
		check_text_copy(&before, &it);
		if (it.type == CBOR_TEXT && it.ptr && *bad_utf8 == SIZE_MAX &&
		    !cbor_utf8_valid(it.ptr, it.len))
			*bad_utf8 = it.off;
	}
	if (r < 0) {
		require(r == -EBADMSG || r == -EMSGSIZE);
		require(d->err == r && d->err_off <= size);
		require(d->reason > CBOR_R_NONE && d->reason <= CBOR_R_DEPTH);
		require((r == -EMSGSIZE) == (d->reason == CBOR_R_DEPTH));
		require(cbor_dec_next(d, &it) == r && cbor_dec_skip(d) == r);
	}
	return r;
}

/* skip and CBOR_DEC_UTF8 decide as the plain walk did. */
static void check_skip_and_utf8(const uint8_t *data, size_t size, int r,
				const struct cbor_dec *ref, size_t bad_utf8)
{
	struct cbor_dec d;
	struct cbor_item it;
	int s;

	cbor_dec_init(&d, data, size, 0);
	while ((s = cbor_dec_skip(&d)) == 1)
		;
	require(s == r && d.reason == ref->reason &&
		d.err_off == ref->err_off);
	cbor_dec_init(&d, data, size, CBOR_DEC_UTF8);
	while ((s = cbor_dec_next(&d, &it)) == 1)
		;
	if (bad_utf8 != SIZE_MAX)
		require(s == -EBADMSG && d.reason == CBOR_R_UTF8 &&
			d.err_off == bad_utf8);
	else
		require(s == r && d.reason == ref->reason &&
			d.err_off == ref->err_off);
}

/* Copies every item of in[0..n) into buf (NULL: count); the length. */
static size_t copy_all(const uint8_t *in, size_t n, uint8_t *buf, size_t cap,
		       unsigned flags)
{
	struct cbor_dec d;
	struct cbor_enc e;
	int r;

	cbor_dec_init(&d, in, n, 0);
	cbor_enc_init(&e, buf, cap);
	while ((r = cbor_copy(&d, &e, flags)) == 1)
		;
	require(r == 0 && cbor_enc_finish(&e) >= 0);
	return cbor_enc_len(&e);
}

/* Equal event streams (for well-formed a and b). */
static void same_stream(const uint8_t *a, size_t an, const uint8_t *b,
			size_t bn)
{
	struct cbor_dec s, t;
	struct cbor_item x, y;
	int rs, rt;

	cbor_dec_init(&s, a, an, 0);
	cbor_dec_init(&t, b, bn, 0);
	do {
		rs = cbor_dec_next(&s, &x);
		rt = cbor_dec_next(&t, &y);
		require(rs == rt && rs >= 0);
		require(rs == 0 || same_event(&x, &y));
	} while (rs == 1);
}

/* The shortest head for an argument. */
static unsigned min_width(uint64_t v)
{
	return v < 24 ? 0 : v <= 0xff ? 1 : v <= 0xffff ? 2 :
	       v <= 0xffffffffu ? 4 : 8;
}

/* Every head and float of p[0..n) in preferred form. */
static void check_preferred(const uint8_t *p, size_t n)
{
	struct cbor_dec d;
	struct cbor_item it;
	struct cbor_enc e;
	uint8_t tmp[CBOR_HEAD_MAX];

	cbor_dec_init(&d, p, n, 0);
	while (cbor_dec_next(&d, &it) == 1) {
		if (it.type == CBOR_FLOAT) {
			cbor_enc_init(&e, tmp, sizeof tmp);
			require(cbor_enc_float(&e, it.f) == 1 + it.width);
			require(it.f == it.f || it.val == 0x7e00);
		} else if (it.type != CBOR_END) {
			require(it.width == min_width(it.val));
		}
	}
}

/* Input with its indefinite items made definite (chunks joined) gives the
 * events of b. */
static void same_joined(const uint8_t *a, size_t an, const uint8_t *b,
			size_t bn)
{
	struct cbor_dec s, t;
	struct cbor_item x, y;
	int rs, rt;

	cbor_dec_init(&s, a, an, 0);
	cbor_dec_init(&t, b, bn, 0);
	while ((rs = cbor_dec_next(&s, &x)) == 1) {
		rt = cbor_dec_next(&t, &y);
		require(rt == 1 && !(y.flags & CBOR_INDEF));
		require(x.type == y.type && x.depth == y.depth);
		if (x.type == CBOR_END) {
			require(x.val == y.val);
		} else if (x.flags & CBOR_INDEF) {
			require((x.flags & CBOR_KEY) == (y.flags & CBOR_KEY));
			if (x.type > CBOR_TEXT)
				continue;
			size_t k = 0;	/* join the chunks against y */
			while (cbor_dec_next(&s, &x) == 1 && x.type != CBOR_END) {
				require(x.len <= y.len - k);
				require(x.len == 0 ||
					memcmp(y.ptr + k, x.ptr, x.len) == 0);
				k += x.len;
			}
			require(x.type == CBOR_END && k == y.len);
		} else {
			require(same_event(&x, &y));
		}
	}
	require(rs == 0 && cbor_dec_next(&t, &y) == 0);
}

/* Copy too small: whole items up to -ENOSPC, the prefix of the full copy
 * ending on an item boundary. */
static void check_enospc(const uint8_t *in, size_t n, size_t full,
			 size_t cap)
{
	struct cbor_dec d;
	struct cbor_enc e;
	size_t before;
	int r;

	cbor_dec_init(&d, in, n, 0);
	cbor_enc_init(&e, out2, cap);
	do {
		before = d.pos;
		r = cbor_copy(&d, &e, 0);
	} while (r == 1);
	require(r == -ENOSPC && d.pos == before && d.err == 0);
	require(cbor_enc_len(&e) <= cap && cbor_enc_len(&e) < full);
	require(memcmp(out2, out1, cbor_enc_len(&e)) == 0);
	cbor_dec_init(&d, out2, cbor_enc_len(&e), 0);
	while ((r = cbor_dec_skip(&d)) == 1)
		;
	require(r == 0);
}

static void check_copies(const uint8_t *data, size_t size)
{
	size_t n1, n3;

	n1 = copy_all(data, size, NULL, CBOR_BUF_MAX, 0);
	require(n1 <= size);	/* shortest heads never grow */
	require(copy_all(data, size, out1, OUT_MAX, 0) == n1);
	same_stream(data, size, out1, n1);
	check_preferred(out1, n1);
	require(copy_all(out1, n1, out2, OUT_MAX, 0) == n1);
	require(memcmp(out1, out2, n1) == 0);
	if (n1 > 0)
		check_enospc(data, size, n1, (size * 7919u) % n1);

	n3 = copy_all(data, size, NULL, CBOR_BUF_MAX, CBOR_COPY_DEFINITE);
	if (n3 > OUT_MAX)
		return;
	require(copy_all(data, size, out3, OUT_MAX, CBOR_COPY_DEFINITE) == n3);
	same_joined(data, size, out3, n3);
	check_preferred(out3, n3);
	require(copy_all(out3, n3, out2, OUT_MAX, 0) == n3);
	require(memcmp(out3, out2, n3) == 0);
	require(copy_all(out3, n3, out2, OUT_MAX, CBOR_COPY_DEFINITE) == n3);
	require(memcmp(out3, out2, n3) == 0);
	/* definite copy of the preferred copy: the same bytes */
	require(copy_all(out1, n1, out2, OUT_MAX, CBOR_COPY_DEFINITE) == n3);
	require(memcmp(out3, out2, n3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbor_dec d;
	size_t bad_utf8;
	int r;

	if (size > OUT_MAX / 2)
		return 0;
	r = walk(data, size, &d, &bad_utf8);
	check_skip_and_utf8(data, size, r, &d, bad_utf8);
	if (r == 0)
		check_copies(data, size);
	return 0;
}

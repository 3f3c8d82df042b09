/*
 * cbor_diag_fuzz.c — libFuzzer target for protocol/cbor_diag*.c (diagnostic
 * notation and JSON of any input).
 *
 * Properties checked, item by item through the input as a CBOR sequence
 * (__builtin_trap on violation):
 *   - the text never runs past the buffer (a guard zone after it must stay
 *     untouched; ASan sees the rest), ends in a NUL at the returned length
 *     and is valid UTF-8 (ASCII only with CBOR_DIAG_ASCII);
 *   - JSON that succeeds parses as JSON (RFC 8259, a bounded validator
 *     below, surrogate escapes paired);
 *   - JSON succeeds only where diag does, and where diag fails JSON fails;
 *   - cbor_diag_stream() writes the same bytes and returns the same result
 *     and reason as cbor_diag();
 *   - one byte too little is -ENOSPC and leaves the decoder untouched;
 *   - the item re-encoded by cbor_copy (preferred serialization) prints the
 *     same diag text;
 *   - the first 8 input bytes as a double: cbor_diag_float's text reads
 *     back (strtod) as exactly that double.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cbor_diag.h"

#define OUT_CAP (1u << 16)
#define GUARD 64
#define JSON_DEPTH (CBOR_MAX_DEPTH + 1)

static char out[OUT_CAP + GUARD], again[OUT_CAP + GUARD], streamed[OUT_CAP];
static uint8_t copy_buf[1u << 20];
static size_t streamed_len;

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* ---- a bounded JSON validator (RFC 8259) ---- */

struct jp {
	const char *p, *end;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' ||
				 *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int lit(struct jp *j, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int digits(struct jp *j)
{
	const char *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!(j->p < j->end && *j->p >= '1' && *j->p <= '9') || !digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.' && (j->p++, !digits(j)))
		return 0;
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return 0;
	}
	return 1;
}

/* \uXXXX at j->p (after the backslash and 'u'); -1 if malformed. */
static long hex4(struct jp *j)
{
	long v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++, j->p++) {
		char c = *j->p;

		v = v * 16 + (c >= '0' && c <= '9' ? c - '0' :
			      c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			      c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1000);
	}
	return v < 0 ? -1 : v;
}

static int string(struct jp *j)
{
	if (!lit(j, "\""))
		return 0;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		long u;

		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (j->p == j->end)
			return 0;
		c = (unsigned char)*j->p++;
		if (c != 'u') {
			if (!strchr("\"\\/bfnrt", c) || c == 0)
				return 0;
			continue;
		}
		u = hex4(j);
		if (u >= 0xdc00 && u <= 0xdfff)
			return 0; /* lone low surrogate */
		if (u >= 0xd800 && u <= 0xdbff) {
			long lo;

			if (!lit(j, "\\u"))
				return 0;
			lo = hex4(j);
			if (lo < 0xdc00 || lo > 0xdfff)
				return 0;
		}
		if (u < 0)
			return 0;
	}
	return lit(j, "\"");
}

static int value(struct jp *j, int depth);

/* Array or object body after the opening bracket. */
static int members(struct jp *j, int depth, int object)
{
	ws(j);
	if (lit(j, object ? "}" : "]"))
		return 1;
	for (;;) {
		ws(j);
		if (object) {
			if (!string(j))
				return 0;
			ws(j);
			if (!lit(j, ":"))
				return 0;
		}
		if (!value(j, depth + 1))
			return 0;
		ws(j);
		if (lit(j, object ? "}" : "]"))
			return 1;
		if (!lit(j, ","))
			return 0;
	}
}

static int value(struct jp *j, int depth)
{
	if (depth > JSON_DEPTH)
		return 0;
	ws(j);
	if (j->p == j->end)
		return 0;
	switch (*j->p) {
	case '{':
		j->p++;
		return members(j, depth, 1);
	case '[':
		j->p++;
		return members(j, depth, 0);
	case '"':
		return string(j);
	case 't':
		return lit(j, "true");
	case 'f':
		return lit(j, "false");
	case 'n':
		return lit(j, "null");
	default:
		return number(j);
	}
}

static int json_valid(const char *s, size_t n)
{
	struct jp j = { s, s + n };

	if (!value(&j, 0))
		return 0;
	ws(&j);
	return j.p == j.end;
}

/* ---- the properties ---- */

static int stream_sink(void *arg, const char *p, size_t n)
{
	(void)arg; /* one global target */
	require(n >= 1 && n <= CBOR_DIAG_CHUNK);
	if (n > sizeof streamed - streamed_len)
		return -ENOSPC;
	memcpy(streamed + streamed_len, p, n);
	streamed_len += n;
	return 0;
}

/* Checks the text of one successful call. */
static void check_text(const char *s, int r, unsigned flags)
{
	require(r > 0 && (size_t)r < OUT_CAP && s[r] == '\0');
	require(strlen(s) == (size_t)r);
	require(cbor_utf8_valid((const uint8_t *)s, (size_t)r));
	for (size_t i = 0; (flags & CBOR_DIAG_ASCII) && i < (size_t)r; i++)
		require((unsigned char)s[i] < 0x80);
	if (flags & CBOR_DIAG_JSON)
		require(json_valid(s, (size_t)r));
	for (size_t i = 0; i < GUARD; i++)
		require(s[OUT_CAP + i] == 0x5a);
}

/* One item in one mode: the text is sound; with `full`, the stream and
 * the one-byte-short buffer agree (each render of a float costs a bignum
 * walk, so the extra flag combinations skip those).  Returns cbor_diag's
 * result; *d moves past the item. */
static int one_mode(struct cbor_dec *d, unsigned flags, int full)
{
	struct cbor_dec start = *d, s = *d, shrt = *d;
	int r, rs;

	memset(out + OUT_CAP, 0x5a, GUARD);
	r = cbor_diag(d, out, OUT_CAP, flags);
	if (!full) {
		if (r > 0)
			check_text(out, r, flags);
		return r;
	}
	streamed_len = 0;
	rs = cbor_diag_stream(&s, flags, stream_sink, NULL);
	if (r > 0) {
		check_text(out, r, flags);
		require(rs == 1 && streamed_len == (size_t)r);
		require(memcmp(streamed, out, (size_t)r) == 0);
		require(cbor_diag(&shrt, again, (size_t)r, flags) == -ENOSPC);
		require(memcmp(&shrt, &start, sizeof shrt) == 0);
	} else if (r == -ENOSPC) {
		require(memcmp(d, &start, sizeof start) == 0);
	} else {
		require(r == rs);
		require(cbor_dec_reason(d) == cbor_dec_reason(&s));
		require(cbor_dec_offset(d) == cbor_dec_offset(&s));
		require(r == 0 || cbor_dec_reason(d) != CBOR_R_NONE);
	}
	return r;
}

/* The preferred re-encoding of the item at *start prints the same. */
static void copy_prints_the_same(const struct cbor_dec *start, int r)
{
	struct cbor_dec d = *start, c;
	struct cbor_enc e;

	cbor_enc_init(&e, copy_buf, sizeof copy_buf);
	if (cbor_copy(&d, &e, 0) != 1)
		return; /* e.g. larger than copy_buf */
	cbor_dec_init(&c, copy_buf, cbor_enc_len(&e), 0);
	require(cbor_diag(&c, again, OUT_CAP, 0) == r);
	require(memcmp(again, out, (size_t)r + 1) == 0);
}

static void float_reads_back(const uint8_t *data, size_t size)
{
	char s[CBOR_DIAG_FLOAT_MAX];
	double v, back;
	uint64_t a, b;

	if (size < 8)
		return;
	memcpy(&v, data, sizeof v);
	require(cbor_diag_float(v, s, sizeof s) > 0);
	if (v != v || v - v != 0)
		return; /* NaN, Infinity: words */
	back = strtod(s, NULL);
	memcpy(&a, &v, sizeof a);
	memcpy(&b, &back, sizeof b);
	require(a == b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbor_dec d;

	float_reads_back(data, size);
	cbor_dec_init(&d, data, size, 0);
	for (int item = 0; item < 32; item++) {
		struct cbor_dec start = d, j = d, ja = d, da = d;
		int r = one_mode(&d, 0, 1), rj;

		if (r > 0)
			copy_prints_the_same(&start, r); /* while out holds it */
		rj = one_mode(&j, CBOR_DIAG_JSON, 1);
		one_mode(&ja, CBOR_DIAG_JSON | CBOR_DIAG_ASCII, 0);
		one_mode(&da, CBOR_DIAG_ASCII | CBOR_DIAG_BIGNUM, 0);
		if (r == -ENOSPC || rj == -ENOSPC)
			break; /* too big for this harness: fine */
		require((rj > 0) <= (r > 0) && (r < 0) <= (rj < 0));
		if (r <= 0)
			break;
	}
	return 0;
}

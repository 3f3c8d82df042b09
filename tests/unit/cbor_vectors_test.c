/*
 * cbor_vectors_test.c — RFC 8949 Appendix A (every example, both
 * directions) and Appendix F (every not-well-formed example) against
 * protocol/cbor_*.c.
 *
 * Appendix A is written out as the RFC prints it: diagnostic notation and
 * hex.  A small diagnostic-notation reader below turns the left column into
 * the event list the decoder must produce (types, values, strings, flags,
 * depth), so one row is checked three ways:
 *   decode  hex -> events == events of the diagnostic text;
 *   encode  events -> encoder -> the preferred hex (`pref`, or the RFC hex
 *           when that is already preferred: all but the non-half
 *           Infinity/NaN rows);
 *   copy    cbor_copy(hex) == the preferred hex, and with
 *           CBOR_COPY_DEFINITE == `def` (rows with indefinite items).
 * Inputs are copied to malloc'd buffers of exactly their size, so ASan
 * sees any read past the end.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "test.h"
#include "test_util.h"

#define MAX_EV 64
#define POOL 512

struct ev {
	uint8_t type, flags, depth;
	uint64_t val;
	double f;
	const uint8_t *ptr;
	size_t len;
};

static void hexstr(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* ---- a reader for the diagnostic notation of Appendix A ---- */

struct diag {
	const char *s;
	struct ev ev[MAX_EV];
	size_t n;
	uint8_t pool[POOL];
	size_t used;
	int bad;
};

static void skip_ws(struct diag *g)
{
	while (*g->s == ' ' || *g->s == ',' || *g->s == ':')
		g->s++;
}

static struct ev *add(struct diag *g, unsigned type, uint64_t val,
		      unsigned depth)
{
	struct ev *e;

	if (g->n == MAX_EV) {
		g->bad = 1;
		return &g->ev[0];
	}
	e = &g->ev[g->n++];
	memset(e, 0, sizeof *e);
	e->type = (uint8_t)type;
	e->val = val;
	e->depth = (uint8_t)depth;
	return e;
}

static void put_utf8(struct diag *g, uint32_t c)
{
	uint8_t *p = g->pool + g->used;

	if (c < 0x80) {
		p[0] = (uint8_t)c;
		g->used += 1;
	} else if (c < 0x800) {
		p[0] = (uint8_t)(0xc0 | c >> 6);
		p[1] = (uint8_t)(0x80 | (c & 0x3f));
		g->used += 2;
	} else if (c < 0x10000) {
		p[0] = (uint8_t)(0xe0 | c >> 12);
		p[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		p[2] = (uint8_t)(0x80 | (c & 0x3f));
		g->used += 3;
	} else {
		p[0] = (uint8_t)(0xf0 | c >> 18);
		p[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
		p[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		p[3] = (uint8_t)(0x80 | (c & 0x3f));
		g->used += 4;
	}
}

/* "..." with \" \\ \uXXXX (surrogate pairs joined) or h'..' */
static void read_string(struct diag *g, struct ev *e)
{
	size_t start = g->used;

	if (*g->s == 'h') {
		g->s += 2;
		while (*g->s != '\'') {
			g->pool[g->used++] = (uint8_t)strtoul(
				(char[3]){ g->s[0], g->s[1], 0 }, NULL, 16);
			g->s += 2;
		}
	} else {
		g->s++;
		while (*g->s != '"') {
			uint32_t c = (uint8_t)*g->s++;

			if (c == '\\' && *g->s == 'u') {
				c = (uint32_t)strtoul((char[5]){ g->s[1], g->s[2],
					g->s[3], g->s[4], 0 }, NULL, 16);
				g->s += 5;
				if (c >= 0xd800 && c < 0xdc00) {
					uint32_t lo = (uint32_t)strtoul((char[5]){
						g->s[2], g->s[3], g->s[4],
						g->s[5], 0 }, NULL, 16);
					c = 0x10000 + ((c - 0xd800) << 10) +
					    (lo - 0xdc00);
					g->s += 6;
				}
				put_utf8(g, c);
				continue;
			}
			if (c == '\\')
				c = (uint8_t)*g->s++;
			g->pool[g->used++] = (uint8_t)c;
		}
	}
	g->s++;
	e->ptr = g->pool + start;
	e->len = g->used - start;
	e->val = e->len;
}

static void read_value(struct diag *g, unsigned depth, uint8_t flags);

/* [..], {..}, (_ ..): children until `close`, then the CBOR_END. */
static void read_container(struct diag *g, unsigned type, char close,
			   unsigned depth, uint8_t flags)
{
	size_t at = g->n;
	uint64_t kids = 0;
	struct ev *e = add(g, type, 0, depth);

	e->flags = flags;
	g->s++;
	if (*g->s == '_') {
		g->ev[at].flags |= CBOR_INDEF;
		g->s++;
	}
	for (skip_ws(g); *g->s != close && !g->bad; skip_ws(g)) {
		uint8_t kf = type == CBOR_MAP && kids % 2 == 0 ? CBOR_KEY :
			     type <= CBOR_TEXT ? CBOR_CHUNK : 0;
		read_value(g, depth + 1, kf);
		kids++;
	}
	g->s++;
	if (!(g->ev[at].flags & CBOR_INDEF))
		g->ev[at].val = type == CBOR_MAP ? kids / 2 : kids;
	e = add(g, CBOR_END, type, depth);
	e->flags = g->ev[at].flags & CBOR_INDEF;
}

static int word(struct diag *g, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(g->s, w, n) != 0)
		return 0;
	g->s += n;
	return 1;
}

static void read_number(struct diag *g, unsigned depth, uint8_t flags)
{
	const char *t = g->s;
	size_t n = strspn(t, "-0123456789.e+");
	char tok[40];
	struct ev *e;

	snprintf(tok, sizeof tok, "%.*s", (int)n, t);
	g->s += n;
	if (strpbrk(tok, ".e")) {
		e = add(g, CBOR_FLOAT, 0, depth);
		e->f = strtod(tok, NULL);
	} else if (tok[0] == '-') {
		/* -1 - val; -2^64 does not fit strtoull's magnitude */
		uint64_t m = strcmp(tok, "-18446744073709551616") == 0 ?
			0 : strtoull(tok + 1, NULL, 10);
		e = add(g, CBOR_NEGINT, m - 1, depth);
	} else if (*g->s == '(') {	/* tag number(content) */
		e = add(g, CBOR_TAG, strtoull(tok, NULL, 10), depth);
		e->flags = flags;
		g->s++;
		read_value(g, depth + 1, 0);
		g->s++;
		add(g, CBOR_END, CBOR_TAG, depth);
		return;
	} else {
		e = add(g, CBOR_UINT, strtoull(tok, NULL, 10), depth);
	}
	e->flags = flags;
}

static void read_value(struct diag *g, unsigned depth, uint8_t flags)
{
	struct ev *e;
	char c = *g->s;

	if (c == '[' || c == '{' || c == '(') {
		read_container(g, c == '[' ? CBOR_ARRAY : c == '{' ? CBOR_MAP :
			       g->s[3] == 'h' ? CBOR_BYTES : CBOR_TEXT,
			       c == '[' ? ']' : c == '{' ? '}' : ')', depth,
			       flags);
		return;
	}
	if (c == '"' || (c == 'h' && g->s[1] == '\'')) {
		e = add(g, c == '"' ? CBOR_TEXT : CBOR_BYTES, 0, depth);
		read_string(g, e);
	} else if (word(g, "false") || word(g, "true") || word(g, "null") ||
		   word(g, "undefined")) {
		e = add(g, CBOR_SIMPLE, g->s[-1] == 'd' ? 23 : g->s[-1] == 'l' ?
			22 : g->s[-2] == 's' ? 20 : 21, depth);
	} else if (word(g, "simple(")) {
		e = add(g, CBOR_SIMPLE, strtoull(g->s, (char **)&g->s, 10),
			depth);
		g->s++;
	} else if (word(g, "Infinity") || word(g, "-Infinity") ||
		   word(g, "NaN")) {
		e = add(g, CBOR_FLOAT, 0, depth);
		e->f = g->s[-1] == 'N' ? NAN : c == '-' ? -INFINITY : INFINITY;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		read_number(g, depth, flags);
		return;
	} else {
		g->bad = 1;
		return;
	}
	e->flags |= flags;
}

static void parse_diag(struct diag *g, const char *text)
{
	memset(g, 0, sizeof *g);
	g->s = text;
	read_value(g, 0, 0);
	if (*g->s != '\0')
		g->bad = 1;
}

/* ---- RFC 8949 Appendix A ---- */

/* diag: the RFC's left column; hex: its right column; pref: what the
 * encoder and cbor_copy write when that differs from hex; def: what
 * cbor_copy writes with CBOR_COPY_DEFINITE, for rows with indefinite
 * lengths. */
static const struct {
	const char *diag, *hex, *pref, *def;
} appa[] = {
	{ "0", "00", NULL, NULL },
	{ "1", "01", NULL, NULL },
	{ "10", "0a", NULL, NULL },
	{ "23", "17", NULL, NULL },
	{ "24", "1818", NULL, NULL },
	{ "25", "1819", NULL, NULL },
	{ "100", "1864", NULL, NULL },
	{ "1000", "1903e8", NULL, NULL },
	{ "1000000", "1a000f4240", NULL, NULL },
	{ "1000000000000", "1b000000e8d4a51000", NULL, NULL },
	{ "18446744073709551615", "1bffffffffffffffff", NULL, NULL },
	/* the RFC writes 18446744073709551616: a bignum, tag 2 */
	{ "2(h'010000000000000000')", "c249010000000000000000", NULL, NULL },
	{ "-18446744073709551616", "3bffffffffffffffff", NULL, NULL },
	/* the RFC writes -18446744073709551617: a negative bignum, tag 3 */
	{ "3(h'010000000000000000')", "c349010000000000000000", NULL, NULL },
	{ "-1", "20", NULL, NULL },
	{ "-10", "29", NULL, NULL },
	{ "-100", "3863", NULL, NULL },
	{ "-1000", "3903e7", NULL, NULL },
	{ "0.0", "f90000", NULL, NULL },
	{ "-0.0", "f98000", NULL, NULL },
	{ "1.0", "f93c00", NULL, NULL },
	{ "1.1", "fb3ff199999999999a", NULL, NULL },
	{ "1.5", "f93e00", NULL, NULL },
	{ "65504.0", "f97bff", NULL, NULL },
	{ "100000.0", "fa47c35000", NULL, NULL },
	{ "3.4028234663852886e+38", "fa7f7fffff", NULL, NULL },
	{ "1.0e+300", "fb7e37e43c8800759c", NULL, NULL },
	{ "5.960464477539063e-8", "f90001", NULL, NULL },
	{ "0.00006103515625", "f90400", NULL, NULL },
	{ "-4.0", "f9c400", NULL, NULL },
	{ "-4.1", "fbc010666666666666", NULL, NULL },
	{ "Infinity", "f97c00", NULL, NULL },
	{ "NaN", "f97e00", NULL, NULL },
	{ "-Infinity", "f9fc00", NULL, NULL },
	{ "Infinity", "fa7f800000", "f97c00", NULL },
	{ "NaN", "fa7fc00000", "f97e00", NULL },
	{ "-Infinity", "faff800000", "f9fc00", NULL },
	{ "Infinity", "fb7ff0000000000000", "f97c00", NULL },
	{ "NaN", "fb7ff8000000000000", "f97e00", NULL },
	{ "-Infinity", "fbfff0000000000000", "f9fc00", NULL },
	{ "false", "f4", NULL, NULL },
	{ "true", "f5", NULL, NULL },
	{ "null", "f6", NULL, NULL },
	{ "undefined", "f7", NULL, NULL },
	{ "simple(16)", "f0", NULL, NULL },
	{ "simple(255)", "f8ff", NULL, NULL },
	{ "0(\"2013-03-21T20:04:00Z\")",
	  "c074323031332d30332d32315432303a30343a30305a", NULL, NULL },
	{ "1(1363896240)", "c11a514b67b0", NULL, NULL },
	{ "1(1363896240.5)", "c1fb41d452d9ec200000", NULL, NULL },
	{ "23(h'01020304')", "d74401020304", NULL, NULL },
	{ "24(h'6449455446')", "d818456449455446", NULL, NULL },
	{ "32(\"http://www.example.com\")",
	  "d82076687474703a2f2f7777772e6578616d706c652e636f6d", NULL, NULL },
	{ "h''", "40", NULL, NULL },
	{ "h'01020304'", "4401020304", NULL, NULL },
	{ "\"\"", "60", NULL, NULL },
	{ "\"a\"", "6161", NULL, NULL },
	{ "\"IETF\"", "6449455446", NULL, NULL },
	{ "\"\\\"\\\\\"", "62225c", NULL, NULL },
	{ "\"\\u00fc\"", "62c3bc", NULL, NULL },
	{ "\"\\u6c34\"", "63e6b0b4", NULL, NULL },
	{ "\"\\ud800\\udd51\"", "64f0908591", NULL, NULL },
	{ "[]", "80", NULL, NULL },
	{ "[1, 2, 3]", "83010203", NULL, NULL },
	{ "[1, [2, 3], [4, 5]]", "8301820203820405", NULL, NULL },
	{ "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
	  "19, 20, 21, 22, 23, 24, 25]",
	  "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
	  NULL, NULL },
	{ "{}", "a0", NULL, NULL },
	{ "{1: 2, 3: 4}", "a201020304", NULL, NULL },
	{ "{\"a\": 1, \"b\": [2, 3]}", "a26161016162820203", NULL, NULL },
	{ "[\"a\", {\"b\": \"c\"}]", "826161a161626163", NULL, NULL },
	{ "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", "
	  "\"e\": \"E\"}", "a56161614161626142616361436164614461656145",
	  NULL, NULL },
	{ "(_ h'0102', h'030405')", "5f42010243030405ff", NULL,
	  "450102030405" },
	{ "(_ \"strea\", \"ming\")", "7f657374726561646d696e67ff", NULL,
	  "6973747265616d696e67" },
	{ "[_ ]", "9fff", NULL, "80" },
	{ "[_ 1, [2, 3], [_ 4, 5]]", "9f018202039f0405ffff", NULL,
	  "8301820203820405" },
	{ "[_ 1, [2, 3], [4, 5]]", "9f01820203820405ff", NULL,
	  "8301820203820405" },
	{ "[1, [2, 3], [_ 4, 5]]", "83018202039f0405ff", NULL,
	  "8301820203820405" },
	{ "[1, [_ 2, 3], [4, 5]]", "83019f0203ff820405", NULL,
	  "8301820203820405" },
	{ "[_ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
	  "19, 20, 21, 22, 23, 24, 25]",
	  "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", NULL,
	  "98190102030405060708090a0b0c0d0e0f101112131415161718181819" },
	{ "{_ \"a\": 1, \"b\": [_ 2, 3]}", "bf61610161629f0203ffff", NULL,
	  "a26161016162820203" },
	{ "[\"a\", {_ \"b\": \"c\"}]", "826161bf61626163ff", NULL,
	  "826161a161626163" },
	{ "{_ \"Fun\": true, \"Amt\": -2}", "bf6346756ef563416d7421ff", NULL,
	  "a26346756ef563416d7421" },
};

#define N_APPA (sizeof appa / sizeof appa[0])

static int same_float(double a, double b)
{
	if (a != a || b != b)
		return a != a && b != b;
	return memcmp(&a, &b, sizeof a) == 0;
}

/* Compares the decoder's events over p[0..n) with want[0..count). */
static int events_match(const uint8_t *p, size_t n, const struct ev *want,
			size_t count, const char *what)
{
	struct cbor_dec d;
	struct cbor_item it;
	size_t i = 0;
	int r;

	cbor_dec_init(&d, p, n, CBOR_DEC_UTF8);
	while ((r = cbor_dec_next(&d, &it)) == 1) {
		const struct ev *w = &want[i];

		if (i == count || it.type != w->type || it.flags != w->flags ||
		    it.depth != w->depth || it.len != w->len ||
		    (it.type == CBOR_FLOAT ? !same_float(it.f, w->f) :
		     it.val != w->val) ||
		    (w->len && memcmp(it.ptr, w->ptr, w->len) != 0))
			return test_fail(__FILE__, __LINE__, "%s: event %zu differs "
					 "(type %u val %llu)", what, i, it.type,
					 (unsigned long long)it.val);
		i++;
	}
	if (r != 0 || i != count)
		return test_fail(__FILE__, __LINE__, "%s: r=%d, %zu of %zu events",
				 what, r, i, count);
	return 1;
}

/* Writes an event list through the encoder, one call per event. */
static int encode_events(struct cbor_enc *e, const struct ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ev *v = &ev[i];

		if (v->flags & CBOR_INDEF) {
			if (v->type == CBOR_END)
				cbor_enc_break(e);
			else
				cbor_enc_indef(e, (enum cbor_type)v->type);
			continue;
		}
		switch (v->type) {
		case CBOR_UINT: cbor_enc_uint(e, v->val); break;
		case CBOR_NEGINT: cbor_enc_negint(e, v->val); break;
		case CBOR_BYTES: cbor_enc_bytes(e, v->ptr, v->len); break;
		case CBOR_TEXT:
			cbor_enc_text(e, (const char *)v->ptr, v->len);
			break;
		case CBOR_ARRAY: cbor_enc_array(e, v->val); break;
		case CBOR_MAP: cbor_enc_map(e, v->val); break;
		case CBOR_TAG: cbor_enc_tag(e, v->val); break;
		case CBOR_SIMPLE: cbor_enc_simple(e, (unsigned)v->val); break;
		case CBOR_FLOAT: cbor_enc_float(e, v->f); break;
		default: break;
		}
	}
	return cbor_enc_finish(e);
}

static void check_hex(const uint8_t *p, int n, const char *want,
		      const char *what, const char *diag)
{
	char got[600];

	if (n < 0) {
		test_fail(__FILE__, __LINE__, "%s %s: error %d", what, diag, n);
		return;
	}
	hexstr(p, (size_t)n, got);
	if (strcmp(got, want) != 0)
		test_fail(__FILE__, __LINE__, "%s %s: %s, want %s", what, diag,
			  got, want);
}

TEST(appendix_a_decode)
{
	static struct diag g;

	for (size_t i = 0; i < N_APPA; i++) {
		size_t n;
		uint8_t *p = test_unhex_dup(appa[i].hex, &n);

		parse_diag(&g, appa[i].diag);
		REQUIRE(p && !g.bad);
		events_match(p, n, g.ev, g.n, appa[i].diag);
		free(p);
	}
}

TEST(appendix_a_encode)
{
	static struct diag g;
	uint8_t out[256];
	struct cbor_enc e;

	for (size_t i = 0; i < N_APPA; i++) {
		const char *want = appa[i].pref ? appa[i].pref : appa[i].hex;

		parse_diag(&g, appa[i].diag);
		REQUIRE(!g.bad);
		cbor_enc_init(&e, out, sizeof out);
		check_hex(out, encode_events(&e, g.ev, g.n), want, "encode",
			  appa[i].diag);
		/* count-only mode agrees */
		cbor_enc_init(&e, NULL, CBOR_BUF_MAX);
		CHECK_EQ_INT(encode_events(&e, g.ev, g.n), strlen(want) / 2);
	}
}

/* Floats at the width the RFC row uses: exactly the RFC bytes. */
TEST(appendix_a_float_widths)
{
	static struct diag g;
	uint8_t out[16];
	struct cbor_enc e;
	size_t checked = 0;

	for (size_t i = 0; i < N_APPA; i++) {
		const char *h = appa[i].hex;
		unsigned w = h[1] == '9' ? 2 : h[1] == 'a' ? 4 : 8;

		if (h[0] != 'f' || h[1] < '9' || h[1] > 'b')
			continue;
		parse_diag(&g, appa[i].diag);
		REQUIRE(g.n == 1 && g.ev[0].type == CBOR_FLOAT);
		cbor_enc_init(&e, out, sizeof out);
		check_hex(out, cbor_enc_float_width(&e, g.ev[0].f, w), h,
			  "float_width", appa[i].diag);
		checked++;
	}
	CHECK_EQ_INT(checked, 22);
}

TEST(appendix_a_copy)
{
	uint8_t out[256];
	struct cbor_enc e;
	struct cbor_dec d;

	for (size_t i = 0; i < N_APPA; i++) {
		const char *pref = appa[i].pref ? appa[i].pref : appa[i].hex;
		size_t n;
		uint8_t *p = test_unhex_dup(appa[i].hex, &n);

		REQUIRE(p);
		cbor_dec_init(&d, p, n, 0);
		cbor_enc_init(&e, out, sizeof out);
		CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
		CHECK_EQ_INT(cbor_copy(&d, &e, 0), 0);
		check_hex(out, cbor_enc_finish(&e), pref, "copy", appa[i].diag);

		cbor_dec_init(&d, p, n, 0);
		cbor_enc_init(&e, out, sizeof out);
		CHECK_EQ_INT(cbor_copy(&d, &e, CBOR_COPY_DEFINITE), 1);
		check_hex(out, cbor_enc_finish(&e),
			  appa[i].def ? appa[i].def : pref, "copy definite",
			  appa[i].diag);
		free(p);
	}
}

/* Every row skips as one item, and all rows as one CBOR sequence decode
 * back to back. */
TEST(appendix_a_skip_and_sequence)
{
	static uint8_t seq[4096];
	size_t len = 0, items = 0;
	struct cbor_dec d;
	int r;

	for (size_t i = 0; i < N_APPA; i++)
		len += test_unhex(appa[i].hex, seq + len, sizeof seq - len);
	cbor_dec_init(&d, seq, len, 0);
	while ((r = cbor_dec_skip(&d)) == 1)
		items++;
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(items, N_APPA);
	CHECK_EQ_INT(d.pos, len);
}

TEST_SUITE(cbor_vectors, appendix_a_decode, appendix_a_encode,
	   appendix_a_float_widths, appendix_a_copy,
	   appendix_a_skip_and_sequence);

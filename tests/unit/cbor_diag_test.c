/*
 * cbor_diag_test.c — protocol/cbor_diag*.c: diagnostic notation against
 * every example of RFC 8949 Appendix A (the RFC's own left column), JSON
 * conversion and its errors, buffer limits, the streaming writer, and the
 * float spelling (shortest round trip, checked against the C library).
 * Inputs are copied to malloc'd buffers of exactly their size, so ASan
 * sees any read past the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cbor_diag.h"
#include "test.h"
#include "test_util.h"

#define OUT_MAX 4096

/* The text of the single item in hex (and checks that nothing follows);
 * returns cbor_diag's result, the text in out. */
static int render(const char *hex, unsigned flags, char *out, size_t cap)
{
	struct cbor_dec d;
	size_t n;
	uint8_t *in = test_unhex_dup(hex, &n);
	char rest[8];
	int r;

	if (!in)
		return -ENOMEM;
	cbor_dec_init(&d, in, n, 0);
	r = cbor_diag(&d, out, cap, flags);
	if (r > 0 && cbor_diag(&d, rest, sizeof rest, flags) != 0)
		r = test_fail(__FILE__, __LINE__, "%s: more than one item", hex);
	free(in);
	return r;
}

static void check_text(const char *hex, unsigned flags, const char *want)
{
	char out[OUT_MAX];
	int r = render(hex, flags, out, sizeof out);

	if (r != (int)strlen(want) || strcmp(out, want) != 0)
		test_fail(__FILE__, __LINE__, "%s -> %d \"%s\", want \"%s\"",
			  hex, r, r >= 0 ? out : "", want);
}

/* Every row of RFC 8949 Appendix A, Table 6: hex -> the RFC's text.
 * CBOR_DIAG_ASCII because the RFC escapes non-ASCII text; CBOR_DIAG_BIGNUM
 * because the appendix shows bignums as numbers. */
static const struct { const char *hex, *diag; } appendix_a[] = {
	{ "00", "0" }, { "01", "1" }, { "0a", "10" }, { "17", "23" },
	{ "1818", "24" }, { "1819", "25" }, { "1864", "100" },
	{ "1903e8", "1000" }, { "1a000f4240", "1000000" },
	{ "1b000000e8d4a51000", "1000000000000" },
	{ "1bffffffffffffffff", "18446744073709551615" },
	{ "c249010000000000000000", "18446744073709551616" },
	{ "3bffffffffffffffff", "-18446744073709551616" },
	{ "c349010000000000000000", "-18446744073709551617" },
	{ "20", "-1" }, { "29", "-10" }, { "3863", "-100" },
	{ "3903e7", "-1000" },
	{ "f90000", "0.0" }, { "f98000", "-0.0" }, { "f93c00", "1.0" },
	{ "fb3ff199999999999a", "1.1" }, { "f93e00", "1.5" },
	{ "f97bff", "65504.0" }, { "fa47c35000", "100000.0" },
	{ "fa7f7fffff", "3.4028234663852886e+38" },
	{ "fb7e37e43c8800759c", "1.0e+300" },
	{ "f90001", "5.960464477539063e-8" },
	{ "f90400", "0.00006103515625" }, { "f9c400", "-4.0" },
	{ "fbc010666666666666", "-4.1" },
	{ "f97c00", "Infinity" }, { "f97e00", "NaN" }, { "f9fc00", "-Infinity" },
	{ "fa7f800000", "Infinity" }, { "fa7fc00000", "NaN" },
	{ "faff800000", "-Infinity" },
	{ "fb7ff0000000000000", "Infinity" }, { "fb7ff8000000000000", "NaN" },
	{ "fbfff0000000000000", "-Infinity" },
	{ "f4", "false" }, { "f5", "true" }, { "f6", "null" },
	{ "f7", "undefined" }, { "f0", "simple(16)" }, { "f8ff", "simple(255)" },
	{ "c074323031332d30332d32315432303a30343a30305a",
	  "0(\"2013-03-21T20:04:00Z\")" },
	{ "c11a514b67b0", "1(1363896240)" },
	{ "c1fb41d452d9ec200000", "1(1363896240.5)" },
	{ "d74401020304", "23(h'01020304')" },
	{ "d818456449455446", "24(h'6449455446')" },
	{ "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
	  "32(\"http://www.example.com\")" },
	{ "40", "h''" }, { "4401020304", "h'01020304'" },
	{ "60", "\"\"" }, { "6161", "\"a\"" }, { "6449455446", "\"IETF\"" },
	{ "62225c", "\"\\\"\\\\\"" }, { "62c3bc", "\"\\u00fc\"" },
	{ "63e6b0b4", "\"\\u6c34\"" }, { "64f0908591", "\"\\ud800\\udd51\"" },
	{ "80", "[]" }, { "83010203", "[1, 2, 3]" },
	{ "8301820203820405", "[1, [2, 3], [4, 5]]" },
	{ "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
	  "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
	  "19, 20, 21, 22, 23, 24, 25]" },
	{ "a0", "{}" }, { "a201020304", "{1: 2, 3: 4}" },
	{ "a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}" },
	{ "826161a161626163", "[\"a\", {\"b\": \"c\"}]" },
	{ "a56161614161626142616361436164614461656145",
	  "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", "
	  "\"e\": \"E\"}" },
	{ "5f42010243030405ff", "(_ h'0102', h'030405')" },
	{ "7f657374726561646d696e67ff", "(_ \"strea\", \"ming\")" },
	{ "9fff", "[_ ]" },
	{ "9f018202039f0405ffff", "[_ 1, [2, 3], [_ 4, 5]]" },
	{ "9f01820203820405ff", "[_ 1, [2, 3], [4, 5]]" },
	{ "83018202039f0405ff", "[1, [2, 3], [_ 4, 5]]" },
	{ "83019f0203ff820405", "[1, [_ 2, 3], [4, 5]]" },
	{ "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
	  "[_ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, "
	  "18, 19, 20, 21, 22, 23, 24, 25]" },
	{ "bf61610161629f0203ffff", "{_ \"a\": 1, \"b\": [_ 2, 3]}" },
	{ "826161bf61626163ff", "[\"a\", {_ \"b\": \"c\"}]" },
	{ "bf6346756ef563416d7421ff", "{_ \"Fun\": true, \"Amt\": -2}" },
};

TEST(appendix_a_every_row)
{
	for (size_t i = 0; i < sizeof appendix_a / sizeof appendix_a[0]; i++)
		check_text(appendix_a[i].hex, CBOR_DIAG_ASCII | CBOR_DIAG_BIGNUM,
			   appendix_a[i].diag);
}

/* Without the flags: bignums as the tags they are (RFC 8949 §8), text as
 * UTF-8. */
TEST(default_flags_keep_tags_and_utf8)
{
	check_text("c249010000000000000000", 0, "2(h'010000000000000000')");
	check_text("c349010000000000000000", 0, "3(h'010000000000000000')");
	check_text("62c3bc", 0, "\"\xc3\xbc\"");
	check_text("64f0908591", 0, "\"\xf0\x90\x85\x91\"");
	check_text("63e6b0b4", 0, "\"\xe6\xb0\xb4\"");
}

TEST(bignum_flag_limits)
{
	char hex[300], want[300];

	/* 2^512 - 1 and -2^512: the largest shown as numbers (64 bytes). */
	strcpy(hex, "c25840");
	for (int i = 0; i < 64; i++)
		strcat(hex, "ff");
	check_text(hex, CBOR_DIAG_BIGNUM,
		   "1340780792994259709957402499820584612747936582059239337772"
		   "3561443721764030073546976801874298166903427690031858186486"
		   "050853753882811946569946433649006084095");
	hex[1] = '3';
	check_text(hex, CBOR_DIAG_BIGNUM,
		   "-134078079299425970995740249982058461274793658205923933777"
		   "2356144372176403007354697680187429816690342769003185818648"
		   "6050853753882811946569946433649006084096");
	/* 65 bytes: shown as the tag. */
	strcpy(hex, "c2584101");
	strcpy(want, "2(h'01");
	for (int i = 0; i < 64; i++) {
		strcat(hex, "00");
		strcat(want, "00");
	}
	strcat(want, "')");
	check_text(hex, CBOR_DIAG_BIGNUM, want);
	check_text("c240", CBOR_DIAG_BIGNUM, "0");
	check_text("c340", CBOR_DIAG_BIGNUM, "-1");
	check_text("c2420000", CBOR_DIAG_BIGNUM, "0");
	/* Not a plain byte string: the tag stays. */
	check_text("c25f4101ff", CBOR_DIAG_BIGNUM, "2((_ h'01'))");
	check_text("c201", CBOR_DIAG_BIGNUM, "2(1)");
	check_text("c26161", CBOR_DIAG_BIGNUM, "2(\"a\")");
}

TEST(text_escapes)
{
	/* " \ and every C0 control; DEL and non-ASCII stay as they are. */
	check_text("6a225c080c0a0d09001f7f", 0,
		   "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\"");
	check_text("6a225c080c0a0d09001f7f", CBOR_DIAG_JSON,
		   "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\"");
	/* U+FFFF and U+10FFFF at the edges of the surrogate split. */
	check_text("63efbfbf", CBOR_DIAG_ASCII, "\"\\uffff\"");
	check_text("64f48fbfbf", CBOR_DIAG_ASCII, "\"\\udbff\\udfff\"");
	check_text("64f0908080", CBOR_DIAG_ASCII, "\"\\ud800\\udc00\"");
	check_text("62c280", CBOR_DIAG_ASCII | CBOR_DIAG_JSON, "\"\\u0080\"");
}

TEST(special_forms)
{
	check_text("5fff", 0, "''_");
	check_text("7fff", 0, "\"\"_");
	check_text("5f40ff", 0, "(_ h'')");
	check_text("7f6060ff", 0, "(_ \"\", \"\")");
	check_text("bfff", 0, "{_ }");
	check_text("c1c2c3f6", 0, "1(2(3(null)))");
	check_text("d9d9f7a0", 0, "55799({})");
	check_text("dbffffffffffffffff00", 0, "18446744073709551615(0)");
	check_text("f3", 0, "simple(19)");
	check_text("f820", 0, "simple(32)");
	check_text("a1a1010280", 0, "{{1: 2}: []}");
	check_text("3a7fffffff", 0, "-2147483648");
	check_text("fa3dcccccd", 0, "0.10000000149011612");
	check_text("f97e01", 0, "NaN");
	check_text("fbfff8000000000001", 0, "NaN");
	check_text("f90000", CBOR_DIAG_JSON, "0.0");
}

static const struct { const char *hex, *json; } json_rows[] = {
	{ "83010203", "[1, 2, 3]" },
	{ "a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}" },
	{ "bf6346756ef563416d7421ff", "{\"Fun\": true, \"Amt\": -2}" },
	{ "9f018202039f0405ffff", "[1, [2, 3], [4, 5]]" },
	{ "7f657374726561646d696e67ff", "\"streaming\"" },
	{ "3bffffffffffffffff", "-18446744073709551616" },
	{ "1bffffffffffffffff", "18446744073709551615" },
	{ "f6", "null" }, { "f4", "false" }, { "f5", "true" },
	{ "fb7e37e43c8800759c", "1.0e+300" }, { "f98000", "-0.0" },
	{ "c11a514b67b0", "1363896240" },  /* other tags: the content */
	{ "c074323031332d30332d32315432303a30343a30305a",
	  "\"2013-03-21T20:04:00Z\"" },
	/* byte strings: base64url without padding (RFC 4648 §10 vectors) */
	{ "40", "\"\"" }, { "4166", "\"Zg\"" }, { "42666f", "\"Zm8\"" },
	{ "43666f6f", "\"Zm9v\"" }, { "44666f6f62", "\"Zm9vYg\"" },
	{ "4303fbff", "\"A_v_\"" },
	/* chunks join; a base64 group may straddle them */
	{ "5f4166426f6f4162ff", "\"Zm9vYg\"" },
	{ "5f40ff", "\"\"" }, { "5fff", "\"\"" },
	/* expected conversions, RFC 8949 §3.4.5.2, inherited by content */
	{ "d54303fbff", "\"A_v_\"" },
	{ "d64303fbff", "\"A/v/\"" }, { "d6424142", "\"QUI=\"" },
	{ "d64141", "\"QQ==\"" },
	{ "d74401020aff", "\"01020AFF\"" },
	{ "d782410a8141ff", "[\"0A\", [\"FF\"]]" },
	{ "d782d54103d64103", "[\"Aw\", \"Aw==\"]" },
	{ "d75f4101410aff", "\"010A\"" },
	/* bignums: base64url, "~" for negative */
	{ "c249010000000000000000", "\"AQAAAAAAAAAA\"" },
	{ "c349010000000000000000", "\"~AQAAAAAAAAAA\"" },
	{ "c35f4101ff", "\"~AQ\"" },
	{ "d7c24101", "\"AQ\"" },
	{ "c201", "1" },
	/* tags on a text key are looked through */
	{ "a1d8206161f5", "{\"a\": true}" },
	{ "62c3bc", "\"\xc3\xbc\"" },
};

TEST(json_conversion)
{
	for (size_t i = 0; i < sizeof json_rows / sizeof json_rows[0]; i++)
		check_text(json_rows[i].hex, CBOR_DIAG_JSON, json_rows[i].json);
}

static void check_fail(const char *hex, unsigned flags, int err,
		       enum cbor_reason reason, size_t off)
{
	struct cbor_dec d;
	char out[OUT_MAX];
	size_t n;
	uint8_t *in = test_unhex_dup(hex, &n);
	int r;

	if (!in)
		return;
	cbor_dec_init(&d, in, n, 0);
	do
		r = cbor_diag(&d, out, sizeof out, flags);
	while (r > 0);
	if (r != err || cbor_dec_reason(&d) != reason ||
	    cbor_dec_offset(&d) != off || out[0] != '\0')
		test_fail(__FILE__, __LINE__,
			  "%s: %d reason %d off %zu, want %d reason %d off %zu",
			  hex, r, (int)cbor_dec_reason(&d), cbor_dec_offset(&d),
			  err, (int)reason, off);
	/* sticky */
	if (cbor_diag(&d, out, sizeof out, flags) != err)
		test_fail(__FILE__, __LINE__, "%s: error not sticky", hex);
	free(in);
}

TEST(json_errors)
{
	check_fail("a10102", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_KEY, 1);
	check_fail("a2616101f402", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_KEY, 4);
	check_fail("a1c10102", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_KEY, 1);
	check_fail("a1410002", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_KEY, 1);
	check_fail("8201f97c00", CBOR_DIAG_JSON, -EBADMSG,
		   CBOR_R_JSON_NONFINITE, 2);
	check_fail("f9fc00", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_NONFINITE, 0);
	check_fail("fb7ff8000000000000", CBOR_DIAG_JSON, -EBADMSG,
		   CBOR_R_JSON_NONFINITE, 0);
	check_fail("a16161f7", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_UNDEF, 3);
	check_fail("f0", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_SIMPLE, 0);
	check_fail("c1f8ff", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_SIMPLE, 1);
	/* a second item fails after a good first one */
	check_fail("01f7", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_JSON_UNDEF, 1);
}

TEST(malformed_input_reports_decoder_reason)
{
	check_fail("1a0000", 0, -EBADMSG, CBOR_R_TRUNC_ARG, 0);
	check_fail("8201", 0, -EBADMSG, CBOR_R_TRUNC_ITEM, 2);
	check_fail("830102656869", 0, -EBADMSG, CBOR_R_TRUNC_STRING, 3);
	check_fail("ff", 0, -EBADMSG, CBOR_R_STRAY_BREAK, 0);
	check_fail("1c", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_RESERVED_AI, 0);
	check_fail("f818", 0, -EBADMSG, CBOR_R_SIMPLE, 0);
	check_fail("5f01ff", 0, -EBADMSG, CBOR_R_CHUNK_TYPE, 1);
	/* text must be UTF-8, in both modes, chunk by chunk */
	check_fail("8262c3bc61ff", 0, -EBADMSG, CBOR_R_UTF8, 4);
	check_fail("7f61c361bcff", CBOR_DIAG_JSON, -EBADMSG, CBOR_R_UTF8, 1);
	check_fail("63eda080", 0, -EBADMSG, CBOR_R_UTF8, 0); /* surrogate */
}

TEST(depth_limit)
{
	char hex[2 * (CBOR_MAX_DEPTH + 2) + 1] = "", want[64] = "";

	for (int i = 0; i < CBOR_MAX_DEPTH; i++)
		strcat(hex, "81");
	strcat(hex, "00");
	for (int i = 0; i < CBOR_MAX_DEPTH; i++)
		strcat(want, "[");
	strcat(want, "0");
	for (int i = 0; i < CBOR_MAX_DEPTH; i++)
		strcat(want, "]");
	check_text(hex, 0, want);
	check_text(hex, CBOR_DIAG_JSON, want);
	memmove(hex + 2, hex, strlen(hex) + 1);
	hex[0] = 'c', hex[1] = '1'; /* a tag counts as a level */
	check_fail(hex, 0, -EMSGSIZE, CBOR_R_DEPTH, CBOR_MAX_DEPTH);
}

TEST(sequence_one_item_per_call)
{
	static const uint8_t in[] = { 0x01, 0x82, 0x02, 0x03, 0x61, 0x61 };
	static const char *const want[] = { "1", "[2, 3]", "\"a\"" };
	struct cbor_dec d;
	char out[32];

	cbor_dec_init(&d, in, sizeof in, 0);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ_INT(cbor_diag(&d, out, sizeof out, 0), strlen(want[i]));
		CHECK_EQ_STR(out, want[i]);
	}
	CHECK_EQ_INT(cbor_diag(&d, out, sizeof out, 0), 0);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(cbor_diag(&d, NULL, 0, 0), 0);
	cbor_dec_init(&d, in, 0, 0);
	CHECK_EQ_INT(cbor_diag(&d, out, sizeof out, CBOR_DIAG_JSON), 0);
}

/* Every cap below the need is -ENOSPC with the decoder untouched; the
 * exact need fits. */
TEST(enospc_at_every_cap)
{
	static const char *const hexes[] = { "a26161016162820203", "f0",
		"5f42010243030405ff", "fa7f7fffff", "c249010000000000000000" };
	char out[OUT_MAX], full[OUT_MAX];

	for (size_t h = 0; h < sizeof hexes / sizeof hexes[0]; h++) {
		for (unsigned json = 0; json < 2; json++) {
			unsigned flags = json ? CBOR_DIAG_JSON : 0;
			int need = render(hexes[h], flags, full, sizeof full);
			struct cbor_dec d, before;
			size_t n;
			uint8_t *in;

			if (json && need == -EBADMSG)
				continue; /* simple(16): no JSON for it */
			REQUIRE(need > 0);
			in = test_unhex_dup(hexes[h], &n);
			REQUIRE(in);
			cbor_dec_init(&d, in, n, 0);
			before = d;
			for (size_t cap = 0; cap <= (size_t)need; cap++) {
				memset(out, 'x', sizeof out);
				CHECK_EQ_INT(cbor_diag(&d, cap ? out : NULL, cap,
						       flags), -ENOSPC);
				CHECK(memcmp(&d, &before, sizeof d) == 0);
				CHECK(cap == 0 || out[0] == '\0');
				CHECK(out[cap] == 'x'); /* nothing past cap */
			}
			CHECK_EQ_INT(cbor_diag(&d, out, (size_t)need + 1, flags),
				     need);
			CHECK_EQ_STR(out, full);
			free(in);
		}
	}
}

TEST(einval)
{
	static const uint8_t in[] = { 0x01 };
	struct cbor_dec d;
	char out[8];

	cbor_dec_init(&d, in, sizeof in, 0);
	CHECK_EQ_INT(cbor_diag(&d, NULL, 4, 0), -EINVAL);
	CHECK_EQ_INT(cbor_diag(&d, out, sizeof out, 0x80), -EINVAL);
	CHECK_EQ_INT(cbor_diag_stream(&d, 0, NULL, NULL), -EINVAL);
	CHECK_EQ_INT(cbor_diag_stream(&d, 0x100, NULL, NULL), -EINVAL);
	CHECK_EQ_INT(cbor_diag(&d, out, sizeof out, 0), 1); /* untouched */
}

struct collect {
	char buf[OUT_MAX * 4];
	size_t len, calls, biggest;
	int fail_at; /* call number that fails with -EIO (0: never) */
};

static int collect_sink(void *arg, const char *p, size_t n)
{
	struct collect *c = arg;

	c->calls++;
	if (c->fail_at && c->calls == (size_t)c->fail_at)
		return -EIO;
	if (n > c->biggest)
		c->biggest = n;
	if (n > sizeof c->buf - c->len)
		return -ENOSPC;
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

/* An array of 300 four-byte strings: ~2.7 KB of text, several chunks. */
static uint8_t *long_item(size_t *n)
{
	uint8_t *p = malloc(3 + 300 * 5);
	size_t k = 0;

	if (!p)
		return NULL;
	p[k++] = 0x99, p[k++] = 0x01, p[k++] = 0x2c;
	for (int i = 0; i < 300; i++) {
		p[k++] = 0x64;
		memcpy(p + k, "ab\ncd" + (i % 2), 4);
		k += 4;
	}
	*n = k;
	return p;
}

TEST(stream_matches_buffer)
{
	static struct collect c;
	static char out[OUT_MAX * 2];
	struct cbor_dec d, d2;
	size_t n;
	uint8_t *in = long_item(&n);

	REQUIRE(in);
	for (unsigned flags = 0; flags <= CBOR_DIAG_JSON; flags++) {
		int len;

		memset(&c, 0, sizeof c);
		cbor_dec_init(&d, in, n, 0);
		d2 = d;
		len = cbor_diag(&d, out, sizeof out, flags);
		CHECK(len > 2 * CBOR_DIAG_CHUNK);
		CHECK_EQ_INT(cbor_diag_stream(&d2, flags, collect_sink, &c), 1);
		CHECK_EQ_INT(c.len, len);
		CHECK(c.len == (size_t)len && memcmp(c.buf, out, c.len) == 0);
		CHECK(c.biggest <= CBOR_DIAG_CHUNK && c.calls >= 3);
		CHECK_EQ_INT(cbor_diag_stream(&d2, flags, collect_sink, &c), 0);
		CHECK_EQ_INT(cbor_dec_offset(&d2), 0);
	}
	free(in);
}

TEST(stream_sink_error_stops)
{
	static struct collect c;
	struct cbor_dec d;
	size_t n;
	uint8_t *in = long_item(&n);

	REQUIRE(in);
	memset(&c, 0, sizeof c);
	c.fail_at = 2;
	cbor_dec_init(&d, in, n, 0);
	CHECK_EQ_INT(cbor_diag_stream(&d, 0, collect_sink, &c), -EIO);
	CHECK_EQ_INT(c.calls, 2);
	free(in);
}

TEST(stream_errors_come_from_the_decoder)
{
	static const uint8_t in[] = { 0x82, 0x01, 0xf7 };
	static struct collect c;
	struct cbor_dec d;

	memset(&c, 0, sizeof c);
	cbor_dec_init(&d, in, sizeof in, 0);
	CHECK_EQ_INT(cbor_diag_stream(&d, CBOR_DIAG_JSON, collect_sink, &c),
		     -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_JSON_UNDEF);
	CHECK_EQ_INT(cbor_dec_offset(&d), 2);
	CHECK_EQ_INT(c.calls, 0); /* short output is never flushed early */
	cbor_dec_init(&d, in, 2, 0);
	CHECK_EQ_INT(cbor_diag_stream(&d, 0, collect_sink, &c), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TRUNC_ITEM);
}

static void check_float(double v, const char *want)
{
	char out[CBOR_DIAG_FLOAT_MAX];
	int r = cbor_diag_float(v, out, sizeof out);

	if (r != (int)strlen(want) || strcmp(out, want) != 0)
		test_fail(__FILE__, __LINE__, "%a -> %d \"%s\", want \"%s\"",
			  v, r, out, want);
}

TEST(float_spelling)
{
	/* ECMAScript layout: fixed for 1e-6 <= |v| < 1e21. */
	check_float(1e21, "1.0e+21");
	check_float(1e20, "100000000000000000000.0");
	check_float(123456789012345680000.0, "123456789012345680000.0");
	check_float(1e-6, "0.000001");
	check_float(1.5e-6, "0.0000015");
	check_float(1e-7, "1.0e-7");
	check_float(-1.25e-7, "-1.25e-7");
	check_float(0.5, "0.5");
	check_float(1e23, "1.0e+23");
	check_float(9007199254740993.0, "9007199254740992.0");
	check_float(9223372036854775808.0, "9223372036854776000.0");
	/* extremes */
	check_float(5e-324, "5.0e-324");
	check_float(-2.2250738585072014e-308, "-2.2250738585072014e-308");
	check_float(2.225073858507201e-308, "2.225073858507201e-308");
	check_float(1.7976931348623157e308, "1.7976931348623157e+308");
	check_float(0.1, "0.1");
	check_float(0.3, "0.3");
	check_float(0.1 + 0.2, "0.30000000000000004");
	check_float(2.0 / 3.0, "0.6666666666666666");
	check_float(-0.0, "-0.0");
}

TEST(float_enospc)
{
	char out[8];

	memset(out, 'x', sizeof out);
	CHECK_EQ_INT(cbor_diag_float(1.25, out, 4), -ENOSPC);
	CHECK(out[0] == '\0' && out[4] == 'x');
	CHECK_EQ_INT(cbor_diag_float(1.25, out, 5), 4);
	CHECK_EQ_STR(out, "1.25");
	CHECK_EQ_INT(cbor_diag_float(-1.0 / 0.0, out, 8), -ENOSPC);
	CHECK_EQ_INT(cbor_diag_float(1.0, NULL, 0), -ENOSPC);
}

/* Significant digits of a spelling (leading zeros and trailing zeros of
 * the fraction not counted). */
static size_t sig_digits(const char *s)
{
	size_t n = 0, zeros = 0;
	int started = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && !started)
			continue;
		started = 1;
		n++;
		zeros = *s == '0' ? zeros + 1 : 0;
	}
	return n - zeros;
}

/* Pseudo-random doubles (all bit patterns, floats, short decimals): the
 * spelling reads back exactly and no shorter "%.*e" spelling does. */
TEST(float_round_trip_is_shortest)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < 6000; i++) {
		char out[CBOR_DIAG_FLOAT_MAX], e[40];
		double v, back;
		size_t nd;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (i % 3 == 0) {
			memcpy(&v, &x, sizeof v);
		} else if (i % 3 == 1) {
			float f;
			uint32_t w = (uint32_t)x;

			memcpy(&f, &w, sizeof f);
			v = f;
		} else {
			v = (double)(x % 1000000) / (double)(1 + (x >> 40) % 10000);
		}
		if (v != v || v - v != 0 || v == 0)
			continue; /* NaN, Infinity, zero: spelled as words */
		REQUIRE(cbor_diag_float(v, out, sizeof out) > 0);
		back = strtod(out, NULL);
		if (memcmp(&back, &v, sizeof v) != 0)
			test_fail(__FILE__, __LINE__, "%a -> %s reads %a", v,
				  out, back);
		nd = sig_digits(out);
		if (nd > 1) {
			snprintf(e, sizeof e, "%.*e", (int)nd - 2, v);
			if (strtod(e, NULL) == v)
				test_fail(__FILE__, __LINE__, "%s: %s is shorter",
					  out, e);
		}
	}
}

TEST_SUITE(cbor_diag, appendix_a_every_row, default_flags_keep_tags_and_utf8,
	   bignum_flag_limits, text_escapes, special_forms, json_conversion,
	   json_errors, malformed_input_reports_decoder_reason, depth_limit,
	   sequence_one_item_per_call, enospc_at_every_cap, einval,
	   stream_matches_buffer, stream_sink_error_stops,
	   stream_errors_come_from_the_decoder, float_spelling, float_enospc,
	   float_round_trip_is_shortest)

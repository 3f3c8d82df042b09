/*
 * cbor_dec_test.c — the decoder side of protocol/cbor.h beyond the RFC
 * vectors: the event stream, peek, typed reads that do not consume on a
 * mismatch, text copies, skip, the depth limit, huge length fields, every
 * prefix of a document, UTF-8, and cbor_copy (preferred output, -ENOSPC at
 * every capacity with both sides restored, errors writing nothing).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "test.h"
#include "test_util.h"

/* ------------------------------------------------------------ decoder */

/* Decodes everything; returns the final code. */
static int drain(const uint8_t *p, size_t n, struct cbor_dec *d)
{
	struct cbor_item it;
	int r;

	cbor_dec_init(d, p, n, 0);
	while ((r = cbor_dec_next(d, &it)) == 1)
		;
	return r;
}

TEST(dec_empty_and_sequence)
{
	uint8_t buf[8];
	struct cbor_dec d;
	struct cbor_item it;

	cbor_dec_init(&d, NULL, 0, 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 0);
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);
	cbor_dec_init(&d, buf, test_unhex("0102", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.val, 1);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.val, 2);
	CHECK_EQ_INT(it.off, 1);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 0);
	CHECK_EQ_INT(cbor_dec_error(&d), 0);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_NONE);
}

/* The event stream of {"a": [1, {}], 6("x"): (_ h'01', h'')} */
TEST(dec_events_in_order)
{
	static const struct {
		uint8_t type, flags, depth, width;
		uint64_t val;
		size_t off;
	} want[] = {
		{ CBOR_MAP, 0, 0, 0, 2, 0 },
		{ CBOR_TEXT, CBOR_KEY, 1, 0, 1, 1 },
		{ CBOR_ARRAY, 0, 1, 0, 2, 3 },
		{ CBOR_UINT, 0, 2, 1, 1, 4 },
		{ CBOR_MAP, 0, 2, 0, 0, 6 },
		{ CBOR_END, 0, 2, 0, CBOR_MAP, 7 },
		{ CBOR_END, 0, 1, 0, CBOR_ARRAY, 7 },
		{ CBOR_TAG, CBOR_KEY, 1, 0, 6, 7 },
		{ CBOR_TEXT, 0, 2, 0, 1, 8 },
		{ CBOR_END, 0, 1, 0, CBOR_TAG, 10 },
		{ CBOR_BYTES, CBOR_INDEF, 1, 0, 0, 10 },
		{ CBOR_BYTES, CBOR_CHUNK, 2, 0, 1, 11 },
		{ CBOR_BYTES, CBOR_CHUNK, 2, 0, 0, 13 },
		{ CBOR_END, CBOR_INDEF, 1, 0, CBOR_BYTES, 14 },
		{ CBOR_END, 0, 0, 0, CBOR_MAP, 15 },
	};
	uint8_t buf[32];
	size_t n = test_unhex("a26161821801a0c661785f410140ff", buf, sizeof buf), i = 0;
	struct cbor_dec d;
	struct cbor_item it;

	cbor_dec_init(&d, buf, n, 0);
	while (cbor_dec_next(&d, &it) == 1 && i < sizeof want / sizeof want[0]) {
		CHECK_EQ_INT(it.type, want[i].type);
		CHECK_EQ_INT(it.flags, want[i].flags);
		CHECK_EQ_INT(it.depth, want[i].depth);
		CHECK_EQ_INT(it.width, want[i].width);
		CHECK_EQ_INT(it.val, want[i].val);
		CHECK_EQ_INT(it.off, want[i].off);
		i++;
	}
	CHECK_EQ_INT(i, sizeof want / sizeof want[0]);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 0);
}

TEST(dec_peek_does_not_consume)
{
	uint8_t buf[8];
	struct cbor_dec d;
	struct cbor_item a, b;

	cbor_dec_init(&d, buf, test_unhex("8119ffff", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_peek(&d, &a), 1);
	CHECK_EQ_INT(cbor_dec_peek(&d, &a), 1);
	CHECK_EQ_INT(cbor_dec_next(&d, &b), 1);
	CHECK_EQ_INT(a.type, b.type);
	CHECK_EQ_INT(a.val, b.val);
	CHECK_EQ_INT(cbor_dec_peek(&d, &a), 1);
	CHECK_EQ_INT(a.val, 65535);
	CHECK_EQ_INT(a.width, 2);
}

TEST(dec_typed_reads)
{
	uint8_t buf[64];
	struct cbor_dec d;
	uint64_t u;
	int64_t i;
	bool b;
	double f;
	const char *s;
	size_t n;

	cbor_dec_init(&d, buf, test_unhex("1b80000000000000003b7fffffffffffffff"
				  "3b8000000000000000f5f6fa3fc00000"
				  "626162" "6163", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_int(&d, &i), -EBADMSG);	/* 2^63: range */
	CHECK_EQ_INT(cbor_dec_bool(&d, &b), -EBADMSG);	/* type */
	CHECK_EQ_INT(cbor_dec_error(&d), 0);		/* still usable */
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), 0);
	CHECK(u == UINT64_C(0x8000000000000000));
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_int(&d, &i), 0);
	CHECK(i == INT64_MIN);
	CHECK_EQ_INT(cbor_dec_int(&d, &i), -EBADMSG);	/* -2^63 - 1 */
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
	CHECK_EQ_INT(cbor_dec_float(&d, &f), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_bool(&d, &b), 0);
	CHECK(b);
	CHECK_EQ_INT(cbor_dec_bool(&d, &b), -EBADMSG);	/* null */
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
	CHECK_EQ_INT(cbor_dec_text_ref(&d, &s, &n, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_float(&d, &f), 0);
	CHECK(f == 1.5);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_text_ref(&d, &s, &n, CBOR_TEXT_UTF8), 0);
	CHECK_EQ_INT(n, 2);
	CHECK(memcmp(s, "ab", 2) == 0);
	CHECK_EQ_INT(cbor_dec_text_ref(&d, &s, &n, 0), 0);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);	/* end of input */
	CHECK_EQ_INT(cbor_dec_next(&d, &(struct cbor_item){ 0 }), 0);
	/* cbor_dec_fail turns a mismatch into a sticky error */
	cbor_dec_init(&d, buf, test_unhex("f6", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_fail(&d, CBOR_R_TYPE, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_fail(&d, CBOR_R_RANGE, 5), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TYPE);	/* first kept */
	CHECK_EQ_INT(cbor_dec_skip(&d), -EBADMSG);
}

TEST(dec_typed_reads_at_container_end)
{
	uint8_t buf[8];
	struct cbor_dec d;
	struct cbor_item it;
	uint64_t u;

	cbor_dec_init(&d, buf, test_unhex("8101", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);	/* the array */
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), 0);
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), -EBADMSG);	/* its END */
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);		/* not consumed */
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.type, CBOR_END);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 0);
}

TEST(dec_text_copy)
{
	uint8_t buf[64];
	char out[16];
	struct cbor_dec d;

	cbor_dec_init(&d, buf, test_unhex("7f657374726561646d696e67ff" "63610062" "60"
				  "f6" "62c328", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 9, 0), -ENOSPC);
	CHECK_EQ_INT(cbor_dec_error(&d), 0);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 10, CBOR_TEXT_UTF8), 9);
	CHECK_EQ_STR(out, "streaming");
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 3, 0), -ENOSPC);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 4, 0), 3);
	CHECK_EQ_MEM(out, "a\0b", 4);	/* embedded NUL kept */
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 0, 0), -ENOSPC);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, 1, 0), 0);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, sizeof out, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_error(&d), 0);	/* null: not consumed */
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, sizeof out, CBOR_TEXT_UTF8),
		     -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_UTF8);
	CHECK_EQ_INT(cbor_dec_offset(&d), 19);
	/* a bad chunk inside an indefinite string is sticky too */
	cbor_dec_init(&d, buf, test_unhex("7f616141ffff", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, sizeof out, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_CHUNK_TYPE);
	cbor_dec_init(&d, buf, test_unhex("7f6161", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, sizeof out, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TRUNC_ITEM);
	cbor_dec_init(&d, buf, test_unhex("7f62c328ff", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_text_copy(&d, out, sizeof out, CBOR_TEXT_UTF8),
		     -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_UTF8);
}

TEST(dec_skip_whole_items)
{
	uint8_t buf[64];
	struct cbor_dec d;
	struct cbor_item it;
	uint64_t u;

	/* {"x": {"deep": [1, [_ 2, (_ "a")], 3(4)]}, "y": 7} */
	cbor_dec_init(&d, buf, test_unhex("a26178a1646465657083019f027f6161ffffc3"
				  "04" "617907", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);	/* key "x" */
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);	/* its whole value */
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);	/* "y" */
	CHECK_EQ_INT(cbor_dec_uint(&d, &u), 0);
	CHECK_EQ_INT(u, 7);
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.type, CBOR_END);
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);
	CHECK_EQ_INT(d.depth, 0);
	/* at a break: 0, and the break is still there */
	cbor_dec_init(&d, buf, test_unhex("9fff", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(cbor_dec_skip(&d), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.flags, CBOR_INDEF);
	/* odd map: skip at the break reports it */
	cbor_dec_init(&d, buf, test_unhex("bf00ff", buf, sizeof buf), 0);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
	CHECK_EQ_INT(cbor_dec_skip(&d), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_ODD_MAP);
}

/* CBOR_MAX_DEPTH open containers are fine, one more is -EMSGSIZE;
 * tags and indefinite strings count. */
TEST(dec_depth_limit)
{
	static const uint8_t opener[] = { 0x81, 0xc6, 0x9f, 0xa1 };
	uint8_t buf[64];
	struct cbor_dec d;
	struct cbor_item it;

	for (size_t k = 0; k < sizeof opener; k++) {
		size_t n = 0;

		for (int i = 0; i < CBOR_MAX_DEPTH; i++)
			buf[n++] = opener[k];
		buf[n++] = 0x5f;	/* an indefinite string: one more */
		CHECK_EQ_INT(drain(buf, n, &d), -EMSGSIZE);
		CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_DEPTH);
		CHECK_EQ_INT(cbor_dec_offset(&d), CBOR_MAX_DEPTH);
		CHECK_EQ_INT(cbor_dec_next(&d, &it), -EMSGSIZE);
		cbor_dec_init(&d, buf, n, 0);
		CHECK_EQ_INT(cbor_dec_skip(&d), -EMSGSIZE);
		buf[n - 1] = 0x00;	/* a scalar at depth 16: fine */
		if (opener[k] == 0x81 || opener[k] == 0xc6) {	/* complete */
			CHECK_EQ_INT(drain(buf, n, &d), 0);
		} else {
			CHECK_EQ_INT(drain(buf, n, &d), -EBADMSG);
			CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TRUNC_ITEM);
		}
	}
	cbor_dec_init(&d, buf, 0, 0);
	CHECK_EQ_INT(cbor_dec_fail(&d, CBOR_R_DEPTH, 3), -EMSGSIZE);
}

/* Length fields near 2^64 are compared with what is left, never added. */
TEST(dec_huge_lengths)
{
	static const struct {
		const char *hex;
		enum cbor_reason r;
	} v[] = {
		{ "5bffffffffffffffff", CBOR_R_TRUNC_STRING },
		{ "7bffffffffffffffff61", CBOR_R_TRUNC_STRING },
		{ "5b8000000000000000", CBOR_R_TRUNC_STRING },
		{ "5b0000000100000000", CBOR_R_TRUNC_STRING },	/* 2^32 */
		{ "5affffffff00", CBOR_R_TRUNC_STRING },
		{ "9bffffffffffffffff00", CBOR_R_TRUNC_ITEM },
		{ "bbffffffffffffffff0000", CBOR_R_TRUNC_ITEM },
		{ "5f5bffffffffffffffff", CBOR_R_TRUNC_STRING },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t buf[16];
		struct cbor_dec d;

		CHECK_EQ_INT(drain(buf, test_unhex(v[i].hex, buf, sizeof buf), &d), -EBADMSG);
		CHECK_EQ_INT(cbor_dec_reason(&d), v[i].r);
	}
}

/* A status-like document: every proper prefix is refused with a
 * truncation reason (or is the empty sequence), the whole decodes, and one
 * byte more is the start of a next item. */
static const char status_hex[] =
	"a4" "66646576696365" "a2" "626964" "6576672d3031"
	"66757074696d65" "1a00015180"
	"666865616c7468" "a1" "63776474" "a2" "657374617465" "626f6b"
	"65636f756e74" "03"
	"6462757073" "82" "a1" "626964" "01" "a1" "626964" "1903e8"
	"6473797374" "a2" "646c6f6164" "f93800" "6474656d70"
	"fb4047a66666666666";

TEST(dec_every_prefix)
{
	uint8_t buf[200];
	size_t n = test_unhex(status_hex, buf, sizeof buf);
	struct cbor_dec d;
	int r;

	for (size_t len = 0; len < n; len++) {
		r = drain(buf, len, &d);
		if (len == 0) {
			CHECK_EQ_INT(r, 0);
			continue;
		}
		CHECK_EQ_INT(r, -EBADMSG);
		CHECK(cbor_dec_reason(&d) == CBOR_R_TRUNC_ARG ||
		      cbor_dec_reason(&d) == CBOR_R_TRUNC_STRING ||
		      cbor_dec_reason(&d) == CBOR_R_TRUNC_ITEM);
	}
	CHECK_EQ_INT(drain(buf, n, &d), 0);
	buf[n] = 0x18;
	CHECK_EQ_INT(drain(buf, n + 1, &d), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TRUNC_ARG);
	CHECK_EQ_INT(cbor_dec_offset(&d), n);
}

TEST(dec_utf8_flag)
{
	uint8_t buf[16];
	struct cbor_dec d;

	CHECK_EQ_INT(drain(buf, test_unhex("62c328", buf, sizeof buf), &d), 0);
	cbor_dec_init(&d, buf, test_unhex("8262c328", buf, sizeof buf), CBOR_DEC_UTF8);
	CHECK_EQ_INT(cbor_dec_skip(&d), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_UTF8);
	CHECK_EQ_INT(cbor_dec_offset(&d), 1);
	/* each chunk on its own: a code point split over chunks is bad */
	cbor_dec_init(&d, buf, test_unhex("7f61c361bcff", buf, sizeof buf), CBOR_DEC_UTF8);
	CHECK_EQ_INT(cbor_dec_skip(&d), -EBADMSG);
	cbor_dec_init(&d, buf, test_unhex("7f62c3bcff", buf, sizeof buf), CBOR_DEC_UTF8);
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
	/* byte strings are not text */
	cbor_dec_init(&d, buf, test_unhex("42c328", buf, sizeof buf), CBOR_DEC_UTF8);
	CHECK_EQ_INT(cbor_dec_skip(&d), 1);
}

/* --------------------------------------------------------------- copy */

/* Non-preferred input comes out preferred; indefinite stays indefinite
 * unless CBOR_COPY_DEFINITE. */
TEST(copy_preferred)
{
	static const struct {
		const char *in, *out, *def;
	} v[] = {
		{ "1b0000000000000001", "01", "01" },
		{ "3a0000ffff", "39ffff", "39ffff" },
		{ "590001ff", "41ff", "41ff" },
		{ "9a00000001fb3ff0000000000000", "81f93c00", "81f93c00" },
		{ "fa3fc00000", "f93e00", "f93e00" },
		{ "fa7fc00001", "f97e00", "f97e00" },
		{ "fb7ff8000000000001", "f97e00", "f97e00" },
		{ "fa47c35000", "fa47c35000", "fa47c35000" },
		{ "f820", "f820", "f820" },
		{ "d9001701", "d701", "d701" },
		{ "d81801", "d81801", "d81801" },
		{ "b90001780161f4", "a16161f4", "a16161f4" },
		{ "5fff", "5fff", "40" },
		{ "7f7800ff", "7f60ff", "60" },
		{ "bf5f4101ff9fffff", "bf5f4101ff9fffff", "a1410180" },
		{ "9f" "000102030405060708090a0b0c0d0e0f1011121314151617"
		  "1818" "ff", "9f" "000102030405060708090a0b0c0d0e0f1011121314"
		  "1516171818ff", "9819" "000102030405060708090a0b0c0d0e0f10"
		  "11121314151617" "1818" },
	};
	uint8_t in[64], out[64];
	struct cbor_dec d;
	struct cbor_enc e;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int def = 0; def < 2; def++) {
			cbor_dec_init(&d, in, test_unhex(v[i].in, in, sizeof in), 0);
			cbor_enc_init(&e, out, sizeof out);
			CHECK_EQ_INT(cbor_copy(&d, &e, def ? CBOR_COPY_DEFINITE : 0),
				     1);
			CHECK_EQ_INT(cbor_copy(&d, &e, 0), 0);
			CHECK_HEX(out, cbor_enc_finish(&e),
				  def ? v[i].def : v[i].out);
		}
	}
}

/* At every capacity short of the copy: -ENOSPC, the encoder keeps its
 * prefix and nothing more, the decoder is where it was, and a retry after
 * rollback into a big enough buffer gives the full copy. */
TEST(copy_enospc_restores_both)
{
	uint8_t in[200], out[200], ref[200];
	size_t n = test_unhex(status_hex, in, sizeof in);
	struct cbor_dec d;
	struct cbor_enc e;
	int full;

	for (int def = 0; def < 2; def++) {
		unsigned fl = def ? CBOR_COPY_DEFINITE : 0;

		cbor_dec_init(&d, in, n, 0);
		cbor_enc_init(&e, ref, sizeof ref);
		cbor_enc_uint(&e, 9);
		CHECK_EQ_INT(cbor_copy(&d, &e, fl), 1);
		full = cbor_enc_finish(&e);
		CHECK_EQ_INT(full, n + 1);
		for (size_t cap = 1; cap < (size_t)full; cap++) {
			memset(out, 0xaa, sizeof out);
			cbor_dec_init(&d, in, n, 0);
			cbor_enc_init(&e, out, cap);
			cbor_enc_uint(&e, 9);
			CHECK_EQ_INT(cbor_copy(&d, &e, fl), -ENOSPC);
			CHECK_EQ_INT(cbor_enc_len(&e), 1);
			CHECK_EQ_INT(d.pos, 0);
			CHECK_EQ_INT(d.depth, 0);
			CHECK_EQ_INT(cbor_dec_error(&d), 0);
			CHECK_EQ_INT(cbor_copy(&d, &e, fl), -ENOSPC); /* sticky */
			CHECK_EQ_INT(cbor_enc_rollback(&e, 1), 0);
			e.buf = out;
			e.cap = sizeof out;
			CHECK_EQ_INT(cbor_copy(&d, &e, fl), 1);
			CHECK_EQ_INT(cbor_enc_finish(&e), full);
			CHECK_EQ_MEM(out, ref, (size_t)full);
		}
		cbor_dec_init(&d, in, n, 0);
		cbor_enc_init(&e, NULL, CBOR_BUF_MAX);	/* count only */
		CHECK_EQ_INT(cbor_copy(&d, &e, fl), 1);
		CHECK_EQ_INT(cbor_enc_finish(&e), n);
	}
}

TEST_SUITE(cbor_dec, dec_empty_and_sequence, dec_events_in_order,
	   dec_peek_does_not_consume, dec_typed_reads,
	   dec_typed_reads_at_container_end, dec_text_copy, dec_skip_whole_items,
	   dec_depth_limit, dec_huge_lengths, dec_every_prefix, dec_utf8_flag,
	   copy_preferred, copy_enospc_restores_both);

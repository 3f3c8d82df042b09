/*
 * cbor_malformed_test.c — every not-well-formed example of RFC 8949
 * Appendix F.1 against protocol/cbor_*.c: the reason, -EBADMSG, sticky,
 * through cbor_dec_next, cbor_dec_skip and cbor_copy (which writes
 * nothing), and where each kind of error is reported.  Inputs are copied
 * to malloc'd buffers of exactly their size, so ASan sees any read past
 * the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "test.h"
#include "test_util.h"

static const struct {
	const char *hex;
	enum cbor_reason reason;
} appf[] = {
	/* end of input in a head */
	{ "18", CBOR_R_TRUNC_ARG }, { "19", CBOR_R_TRUNC_ARG },
	{ "1a", CBOR_R_TRUNC_ARG }, { "1b", CBOR_R_TRUNC_ARG },
	{ "1901", CBOR_R_TRUNC_ARG }, { "1a0102", CBOR_R_TRUNC_ARG },
	{ "1b01020304050607", CBOR_R_TRUNC_ARG }, { "38", CBOR_R_TRUNC_ARG },
	{ "58", CBOR_R_TRUNC_ARG }, { "78", CBOR_R_TRUNC_ARG },
	{ "98", CBOR_R_TRUNC_ARG }, { "9a01ff00", CBOR_R_TRUNC_ARG },
	{ "b8", CBOR_R_TRUNC_ARG }, { "d8", CBOR_R_TRUNC_ARG },
	{ "f8", CBOR_R_TRUNC_ARG }, { "f900", CBOR_R_TRUNC_ARG },
	{ "fa0000", CBOR_R_TRUNC_ARG }, { "fb000000", CBOR_R_TRUNC_ARG },
	/* definite-length strings with short data */
	{ "41", CBOR_R_TRUNC_STRING }, { "61", CBOR_R_TRUNC_STRING },
	{ "5affffffff00", CBOR_R_TRUNC_STRING },
	{ "5bffffffffffffffff010203", CBOR_R_TRUNC_STRING },
	{ "7affffffff00", CBOR_R_TRUNC_STRING },
	{ "7b7fffffffffffffff010203", CBOR_R_TRUNC_STRING },
	/* definite-length maps and arrays not closed with enough items */
	{ "81", CBOR_R_TRUNC_ITEM }, { "818181818181818181", CBOR_R_TRUNC_ITEM },
	{ "8200", CBOR_R_TRUNC_ITEM }, { "a1", CBOR_R_TRUNC_ITEM },
	{ "a20102", CBOR_R_TRUNC_ITEM }, { "a100", CBOR_R_TRUNC_ITEM },
	{ "a2000000", CBOR_R_TRUNC_ITEM },
	/* tag number not followed by tag content */
	{ "c0", CBOR_R_TRUNC_ITEM },
	/* indefinite-length strings not closed by a break */
	{ "5f4100", CBOR_R_TRUNC_ITEM }, { "7f6100", CBOR_R_TRUNC_ITEM },
	/* indefinite-length maps and arrays not closed by a break */
	{ "9f", CBOR_R_TRUNC_ITEM }, { "9f0102", CBOR_R_TRUNC_ITEM },
	{ "bf", CBOR_R_TRUNC_ITEM }, { "bf01020102", CBOR_R_TRUNC_ITEM },
	{ "819f", CBOR_R_TRUNC_ITEM }, { "9f8000", CBOR_R_TRUNC_ITEM },
	{ "9f9f9f9f9fffffffff", CBOR_R_TRUNC_ITEM },
	{ "9f819f819f9fffffff", CBOR_R_TRUNC_ITEM },
	/* reserved additional information values 28..30 */
	{ "1c", CBOR_R_RESERVED_AI }, { "1d", CBOR_R_RESERVED_AI },
	{ "1e", CBOR_R_RESERVED_AI }, { "3c", CBOR_R_RESERVED_AI },
	{ "3d", CBOR_R_RESERVED_AI }, { "3e", CBOR_R_RESERVED_AI },
	{ "5c", CBOR_R_RESERVED_AI }, { "5d", CBOR_R_RESERVED_AI },
	{ "5e", CBOR_R_RESERVED_AI }, { "7c", CBOR_R_RESERVED_AI },
	{ "7d", CBOR_R_RESERVED_AI }, { "7e", CBOR_R_RESERVED_AI },
	{ "9c", CBOR_R_RESERVED_AI }, { "9d", CBOR_R_RESERVED_AI },
	{ "9e", CBOR_R_RESERVED_AI }, { "bc", CBOR_R_RESERVED_AI },
	{ "bd", CBOR_R_RESERVED_AI }, { "be", CBOR_R_RESERVED_AI },
	{ "dc", CBOR_R_RESERVED_AI }, { "dd", CBOR_R_RESERVED_AI },
	{ "de", CBOR_R_RESERVED_AI }, { "fc", CBOR_R_RESERVED_AI },
	{ "fd", CBOR_R_RESERVED_AI }, { "fe", CBOR_R_RESERVED_AI },
	/* reserved two-byte encodings of simple values */
	{ "f800", CBOR_R_SIMPLE }, { "f801", CBOR_R_SIMPLE },
	{ "f818", CBOR_R_SIMPLE }, { "f81f", CBOR_R_SIMPLE },
	/* indefinite-length string chunks not of the correct type */
	{ "5f00ff", CBOR_R_CHUNK_TYPE }, { "5f21ff", CBOR_R_CHUNK_TYPE },
	{ "5f6100ff", CBOR_R_CHUNK_TYPE }, { "5f80ff", CBOR_R_CHUNK_TYPE },
	{ "5fa0ff", CBOR_R_CHUNK_TYPE }, { "5fc000ff", CBOR_R_CHUNK_TYPE },
	{ "5fe0ff", CBOR_R_CHUNK_TYPE }, { "7f4100ff", CBOR_R_CHUNK_TYPE },
	/* indefinite-length string chunks not definite length */
	{ "5f5f4100ffff", CBOR_R_CHUNK_INDEF },
	{ "7f7f6100ffff", CBOR_R_CHUNK_INDEF },
	/* break on its own outside an indefinite-length item */
	{ "ff", CBOR_R_STRAY_BREAK },
	/* break in a definite-length array or map or a tag */
	{ "81ff", CBOR_R_STRAY_BREAK }, { "8200ff", CBOR_R_STRAY_BREAK },
	{ "a1ff", CBOR_R_STRAY_BREAK }, { "a1ff00", CBOR_R_STRAY_BREAK },
	{ "a100ff", CBOR_R_STRAY_BREAK }, { "a20000ff", CBOR_R_STRAY_BREAK },
	{ "9f81ff", CBOR_R_STRAY_BREAK },
	{ "9f829f819f9fffffffff", CBOR_R_STRAY_BREAK },
	{ "c0ff", CBOR_R_STRAY_BREAK },
	/* break in an indefinite-length map in a value position */
	{ "bf00ff", CBOR_R_ODD_MAP }, { "bf000000ff", CBOR_R_ODD_MAP },
	/* major types 0, 1, 6 with additional information 31 */
	{ "1f", CBOR_R_INDEF_TYPE }, { "3f", CBOR_R_INDEF_TYPE },
	{ "df", CBOR_R_INDEF_TYPE },
};

#define N_APPF (sizeof appf / sizeof appf[0])

/* next, skip and copy each stop at the same reason, and it sticks. */
TEST(appendix_f_not_well_formed)
{
	uint8_t out[64];

	for (size_t i = 0; i < N_APPF; i++) {
		struct cbor_dec d;
		struct cbor_item it;
		struct cbor_enc e;
		size_t n;
		uint8_t *p = test_unhex_dup(appf[i].hex, &n);
		int r;

		REQUIRE(p);
		cbor_dec_init(&d, p, n, 0);
		while ((r = cbor_dec_next(&d, &it)) == 1)
			;
		if (r != -EBADMSG || cbor_dec_reason(&d) != appf[i].reason)
			test_fail(__FILE__, __LINE__, "%s: r=%d reason %d (%s), "
				  "want %d", appf[i].hex, r, cbor_dec_reason(&d),
				  cbor_reason_str(cbor_dec_reason(&d)),
				  appf[i].reason);
		CHECK(d.err_off <= n);
		CHECK_EQ_INT(cbor_dec_next(&d, &it), -EBADMSG);
		CHECK_EQ_INT(cbor_dec_peek(&d, &it), -EBADMSG);
		CHECK_EQ_INT(cbor_dec_error(&d), -EBADMSG);

		cbor_dec_init(&d, p, n, 0);
		CHECK_EQ_INT(cbor_dec_skip(&d), -EBADMSG);
		CHECK_EQ_INT(cbor_dec_reason(&d), appf[i].reason);

		cbor_dec_init(&d, p, n, 0);
		cbor_enc_init(&e, out, sizeof out);
		CHECK_EQ_INT(cbor_copy(&d, &e, CBOR_COPY_DEFINITE), -EBADMSG);
		CHECK_EQ_INT(cbor_dec_reason(&d), appf[i].reason);
		CHECK_EQ_INT(cbor_enc_len(&e), 0);
		CHECK_EQ_INT(cbor_enc_error(&e), 0);
		free(p);
	}
}

/* Where each error is reported: the head, the break, or the end. */
TEST(appendix_f_offsets)
{
	static const struct {
		const char *hex;
		size_t off;
	} v[] = {
		{ "8119", 1 },		/* head with its argument cut */
		{ "825bffffffffffffffff01", 1 },	/* huge string */
		{ "8200", 2 },		/* item due at the end */
		{ "820001ff", 3 },	/* the stray break */
		{ "bf6161ff", 3 },	/* break after a key */
		{ "9f5f6100ff", 2 },	/* the wrong chunk */
		{ "82f81f", 1 },
		{ "8000fe", 2 },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t buf[32];
		size_t n = test_unhex(v[i].hex, buf, sizeof buf);
		struct cbor_dec d;
		struct cbor_item it;

		cbor_dec_init(&d, buf, n, 0);
		while (cbor_dec_next(&d, &it) == 1)
			;
		CHECK_EQ_INT(cbor_dec_offset(&d), v[i].off);
	}
}

TEST_SUITE(cbor_malformed, appendix_f_not_well_formed, appendix_f_offsets);

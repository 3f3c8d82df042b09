/*
 * cbor_test.c — the encoder side of protocol/cbor.h beyond the RFC vectors
 * (cbor_vectors_test.c, cbor_malformed_test.c; the decoder side is in
 * cbor_dec_test.c): every @retval, the all-or-nothing rule at every buffer
 * size, count-only mode, rollback, preferred floats (all 65536 halves,
 * random singles and doubles, boundaries).
 */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "test.h"
#include "test_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static double from_bits(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof v);
	return v;
}

/* ------------------------------------------------------------ encoder */

TEST(enc_int_boundaries)
{
	static const struct {
		int64_t v;
		const char *hex;
	} s[] = {
		{ 0, "00" }, { 23, "17" }, { 24, "1818" }, { 255, "18ff" },
		{ 256, "190100" }, { 65535, "19ffff" }, { 65536, "1a00010000" },
		{ 4294967295, "1affffffff" },
		{ 4294967296, "1b0000000100000000" },
		{ INT64_MAX, "1b7fffffffffffffff" }, { -1, "20" }, { -24, "37" },
		{ -25, "3818" }, { -256, "38ff" }, { -257, "390100" },
		{ INT64_MIN, "3b7fffffffffffffff" },
	};
	uint8_t out[16];
	struct cbor_enc e;

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		cbor_enc_init(&e, out, sizeof out);
		CHECK_HEX(out, cbor_enc_int(&e, s[i].v), s[i].hex);
	}
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_uint(&e, UINT64_MAX), "1bffffffffffffffff");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_negint(&e, UINT64_MAX), "3bffffffffffffffff");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_head(&e, 7, 20), "f4");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_tag(&e, 55799), "d9d9f7");
}

TEST(enc_strings_and_heads)
{
	uint8_t out[64];
	struct cbor_enc e;

	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_map(&e, 2), 1);
	CHECK_EQ_INT(cbor_enc_cstr(&e, "up"), 3);
	CHECK_EQ_INT(cbor_enc_bool(&e, true), 1);
	CHECK_EQ_INT(cbor_enc_text(&e, "id", 2), 3);
	CHECK_EQ_INT(cbor_enc_array(&e, 3), 1);
	CHECK_EQ_INT(cbor_enc_null(&e), 1);
	CHECK_EQ_INT(cbor_enc_undef(&e), 1);
	CHECK_EQ_INT(cbor_enc_bytes(&e, NULL, 0), 1);
	CHECK_EQ_INT(cbor_enc_indef(&e, CBOR_TEXT), 1);
	CHECK_EQ_INT(cbor_enc_text(&e, "a", 1), 2);
	CHECK_EQ_INT(cbor_enc_break(&e), 1);
	CHECK_EQ_INT(cbor_enc_raw(&e, "\xf5", 1), 1);
	CHECK_EQ_INT(cbor_enc_raw(&e, NULL, 0), 0);
	CHECK_EQ_INT(cbor_enc_simple(&e, 32), 2);
	CHECK_EQ_INT(cbor_enc_simple(&e, 19), 1);
	CHECK_HEX(out, cbor_enc_finish(&e),
		  "a2627570f562696483f6f7407f6161fff5f820f3");
}

TEST(enc_einval_is_sticky_and_writes_nothing)
{
	uint8_t out[16];
	struct cbor_enc e;

	static const unsigned bad_simple[] = { 24, 27, 31, 256, 1000 };
	for (size_t i = 0; i < sizeof bad_simple / sizeof bad_simple[0]; i++) {
		cbor_enc_init(&e, out, sizeof out);
		CHECK_EQ_INT(cbor_enc_simple(&e, bad_simple[i]), -EINVAL);
		CHECK_EQ_INT(cbor_enc_len(&e), 0);
		CHECK_EQ_INT(cbor_enc_uint(&e, 1), -EINVAL);	/* sticky */
		CHECK_EQ_INT(cbor_enc_finish(&e), -EINVAL);
	}
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_head(&e, 8, 0), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_indef(&e, CBOR_UINT), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_indef(&e, CBOR_TAG), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_float_width(&e, 1.0, 3), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_float_width(&e, 0.1, 4), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_float_width(&e, 65505.0, 2), -EINVAL);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_enc_float_width(&e, 1e300, 4), -EINVAL);
	CHECK_EQ_INT(cbor_enc_len(&e), 0);
	CHECK_EQ_INT(cbor_enc_error(&e), -EINVAL);
	CHECK_EQ_INT(cbor_enc_rollback(&e, 0), 0);
	CHECK_EQ_INT(cbor_enc_error(&e), 0);
	CHECK_EQ_INT(cbor_enc_float_width(&e, 1e300, 8), 9);
}

/* One call of each kind; returns its bytes or error. */
static int write_kind(struct cbor_enc *e, int kind)
{
	switch (kind) {
	case 0: return cbor_enc_uint(e, 0x123456789);
	case 1: return cbor_enc_int(e, -70000);
	case 2: return cbor_enc_text(e, "watchdog", 8);
	case 3: return cbor_enc_bytes(e, "\x01\x02\x03", 3);
	case 4: return cbor_enc_float(e, 1.1);
	case 5: return cbor_enc_float(e, 100000.0);
	case 6: return cbor_enc_map(e, 300);
	case 7: return cbor_enc_simple(e, 200);
	case 8: return cbor_enc_raw(e, "abcdef", 6);
	default: return cbor_enc_tag(e, 1u << 20);
	}
}

/* At every capacity short of the item: -ENOSPC, nothing written (not one
 * byte past the committed prefix), sticky, and the count-only mode (buf
 * NULL) agrees. */
TEST(enc_enospc_never_commits_partial)
{
	for (int kind = 0; kind < 10; kind++) {
		uint8_t out[32], ref[32];
		struct cbor_enc e;
		int full;

		cbor_enc_init(&e, ref, sizeof ref);
		cbor_enc_uint(&e, 7);
		full = write_kind(&e, kind);
		REQUIRE(full > 0);
		for (size_t cap = 1; cap < (size_t)full + 1; cap++) {
			memset(out, 0xaa, sizeof out);
			cbor_enc_init(&e, out, cap);
			CHECK_EQ_INT(cbor_enc_uint(&e, 7), 1);
			CHECK_EQ_INT(write_kind(&e, kind), -ENOSPC);
			CHECK_EQ_INT(cbor_enc_len(&e), 1);
			for (size_t i = 1; i < sizeof out; i++)
				CHECK_EQ_INT(out[i], 0xaa);
			CHECK_EQ_INT(cbor_enc_uint(&e, 0), -ENOSPC);
			CHECK_EQ_INT(cbor_enc_finish(&e), -ENOSPC);

			cbor_enc_init(&e, NULL, cap);
			cbor_enc_uint(&e, 7);
			CHECK_EQ_INT(write_kind(&e, kind), -ENOSPC);
		}
		cbor_enc_init(&e, out, (size_t)full + 1);
		cbor_enc_uint(&e, 7);
		CHECK_EQ_INT(write_kind(&e, kind), full);
		CHECK_EQ_MEM(out, ref, (size_t)full + 1);
		cbor_enc_init(&e, NULL, CBOR_BUF_MAX);
		cbor_enc_uint(&e, 7);
		CHECK_EQ_INT(write_kind(&e, kind), full);
		CHECK_EQ_INT(cbor_enc_finish(&e), full + 1);
	}
}

/* The pattern rollback exists for: append array elements while they fit,
 * then end the array at the last whole one. */
TEST(enc_rollback_ends_at_last_whole_element)
{
	uint8_t out[20];
	struct cbor_enc e;
	size_t mark = 0;
	int n = 0;

	cbor_enc_init(&e, out, sizeof out);
	for (;;) {
		mark = cbor_enc_len(&e);
		if (cbor_enc_text(&e, "job-0001", 8) < 0)
			break;
		n++;
	}
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(cbor_enc_error(&e), -ENOSPC);
	CHECK_EQ_INT(cbor_enc_rollback(&e, mark + 1), -EINVAL);
	CHECK_EQ_INT(cbor_enc_error(&e), -ENOSPC);	/* nothing changed */
	CHECK_EQ_INT(cbor_enc_rollback(&e, mark), 0);
	CHECK_EQ_INT(cbor_enc_finish(&e), 18);
	CHECK_EQ_INT(cbor_enc_uint(&e, 1), 1);
	CHECK_EQ_INT(cbor_enc_rollback(&e, 0), 0);
	CHECK_EQ_INT(cbor_enc_finish(&e), 0);
}

TEST(enc_cap_is_clamped)
{
	struct cbor_enc e;

	cbor_enc_init(&e, NULL, SIZE_MAX);
	CHECK(e.cap == CBOR_BUF_MAX);
	cbor_enc_init(&e, NULL, 0);
	CHECK_EQ_INT(cbor_enc_uint(&e, 0), -ENOSPC);
}

/* Every half: decoding its bits and encoding the value gives the same two
 * bytes back (preferred), NaNs give 7e00. */
TEST(enc_float_all_halves)
{
	uint8_t out[16];
	struct cbor_enc e;

	for (uint32_t h = 0; h < 0x10000; h++) {
		double v = cbor_half_to_double((uint16_t)h);
		int nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
		uint16_t want = nan ? 0x7e00 : (uint16_t)h;

		cbor_enc_init(&e, out, sizeof out);
		if (cbor_enc_float(&e, v) != 3 || out[0] != 0xf9 ||
		    out[1] != want >> 8 || out[2] != (want & 0xff)) {
			test_fail(__FILE__, __LINE__, "half %04x", (unsigned)h);
			break;
		}
	}
}

static void check_float_boundary(double v, const char *hex)
{
	uint8_t out[16];
	struct cbor_enc e;

	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_float(&e, v), hex);
}

TEST(enc_float_boundaries)
{
	check_float_boundary(0x1p-24, "f90001");	/* least half subnormal */
	check_float_boundary(0x1p-25, "fa33000000");
	check_float_boundary(1023 * 0x1p-24, "f903ff");
	check_float_boundary(0x1p-14, "f90400");	/* least half normal */
	check_float_boundary(1 + 0x1p-10, "f93c01");
	check_float_boundary(1 + 0x1p-11, "fa3f801000");
	check_float_boundary(1 + 0x1p-23, "fa3f800001");
	check_float_boundary(1 + 0x1p-24, "fb3ff0000001000000");
	check_float_boundary(65504.0, "f97bff");
	check_float_boundary(65505.0, "fa477fe100");
	check_float_boundary(65536.0, "fa47800000");
	check_float_boundary(-0.0, "f98000");
	check_float_boundary(0x1p-149, "fa00000001");	/* least single */
	check_float_boundary(3 * 0x1p-149, "fa00000003");
	check_float_boundary(0x1p-150, "fb36a0000000000000");
	check_float_boundary(0x1p-126, "fa00800000");
	check_float_boundary(FLT_MAX, "fa7f7fffff");
	check_float_boundary(0x1p128, "fb47f0000000000000");
	check_float_boundary(DBL_MAX, "fb7fefffffffffffff");
	check_float_boundary(0x1p-1074, "fb0000000000000001");
	check_float_boundary(from_bits(0x7ff0000000000001), "f97e00");
	check_float_boundary(from_bits(0xfff8000000000000), "f97e00");
}

/* Random doubles and singles: the encoding decodes to the same bits, in
 * the narrowest width that holds them, and the decoder's single->double
 * agrees with C's float->double conversion. */
TEST(enc_float_random_round_trip)
{
	uint8_t out[16];
	struct cbor_enc e, t;
	struct cbor_dec d;
	double v, got;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng();

		if (i & 1) {	/* a single: decode it from fa bits */
			uint32_t s = (uint32_t)r;
			float f;

			memcpy(&f, &s, sizeof f);
			out[0] = 0xfa;
			for (int k = 0; k < 4; k++)
				out[1 + k] = (uint8_t)(s >> (24 - 8 * k));
			cbor_dec_init(&d, out, 5, 0);
			REQUIRE(cbor_dec_float(&d, &v) == 0);
			if (f == f && memcmp(&v, &(double){ (double)f }, 8)) {
				test_fail(__FILE__, __LINE__, "single %08x",
					  (unsigned)s);
				return;
			}
		} else {
			v = from_bits(r);
		}
		cbor_enc_init(&e, out, sizeof out);
		int n = cbor_enc_float(&e, v);
		cbor_dec_init(&d, out, (size_t)n, 0);
		REQUIRE(cbor_dec_float(&d, &got) == 0);
		CHECK(v != v ? got != got : !memcmp(&v, &got, sizeof v));
		/* narrower widths refuse it */
		for (unsigned w = 2; w + 1 < (unsigned)n; w *= 2) {
			cbor_enc_init(&t, out, sizeof out);
			CHECK_EQ_INT(cbor_enc_float_width(&t, v, w), -EINVAL);
		}
	}
}

TEST(enc_float_width_nan)
{
	uint8_t out[16];
	struct cbor_enc e;
	double nan = from_bits(0x7ff0000000000123);

	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_float_width(&e, nan, 2), "f97e00");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_float_width(&e, nan, 4), "fa7fc00000");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_float_width(&e, nan, 8), "fb7ff8000000000000");
	cbor_enc_init(&e, out, sizeof out);
	CHECK_HEX(out, cbor_enc_float_width(&e, 1.5, 8), "fb3ff8000000000000");
}

/* ------------------------------------------------------------ misc */

TEST(utf8_valid_table)
{
	static const struct {
		const char *hex;
		bool ok;
	} v[] = {
		{ "", true }, { "41", true }, { "7f", true }, { "c280", true },
		{ "c3bc", true }, { "dfbf", true }, { "e0a080", true },
		{ "e6b0b4", true }, { "ed9fbf", true }, { "ee8080", true },
		{ "efbfbf", true }, { "f0908080", true }, { "f0908591", true },
		{ "f48fbfbf", true }, { "00", true },
		{ "80", false }, { "bf", false }, { "c080", false },
		{ "c1bf", false }, { "c3", false }, { "c341", false },
		{ "e08080", false }, { "e09fbf", false }, { "eda080", false },
		{ "edbfbf", false }, { "e6b0", false }, { "e6b041", false },
		{ "f0808080", false }, { "f08fbfbf", false },
		{ "f4908080", false }, { "f5808080", false }, { "f8", false },
		{ "fe", false }, { "ff", false }, { "f09085", false },
		{ "f0908541", false }, { "41c3", false },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t buf[8];
		size_t n = test_unhex(v[i].hex, buf, sizeof buf);
		uint8_t *p = malloc(n ? n : 1);	/* exact size for ASan */

		REQUIRE(p);
		memcpy(p, buf, n);
		if (cbor_utf8_valid(p, n) != v[i].ok)
			test_fail(__FILE__, __LINE__, "utf8 %s", v[i].hex);
		free(p);
	}
}

TEST(reason_str_never_null)
{
	for (int r = 0; r <= CBOR_R_COUNT_ + 1; r++)
		CHECK(cbor_reason_str((enum cbor_reason)r) != NULL);
	CHECK_EQ_STR(cbor_reason_str(CBOR_R_TRUNC_STRING), "truncated string");
	CHECK_EQ_STR(cbor_reason_str(CBOR_R_COUNT_), "unknown reason");
}

/* Inside a container: copy takes one child at a time, 0 at the end. */
TEST(copy_children_then_zero)
{
	uint8_t in[16], out[16];
	struct cbor_dec d;
	struct cbor_enc e;
	struct cbor_item it;

	cbor_dec_init(&d, in, test_unhex("83019f02ff1903e8", in, sizeof in), 0);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, CBOR_COPY_DEFINITE), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 0);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 0);
	CHECK_HEX(out, cbor_enc_finish(&e), "0181021903e8");
	CHECK_EQ_INT(cbor_dec_next(&d, &it), 1);
	CHECK_EQ_INT(it.type, CBOR_END);
}

/* A malformed item: the decoder error, and nothing of it in e. */
TEST(copy_malformed_writes_nothing)
{
	uint8_t in[32], out[32];
	struct cbor_dec d;
	struct cbor_enc e;

	cbor_dec_init(&d, in, test_unhex("0782010203f81f", in, sizeof in), 0);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), 1);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_SIMPLE);
	CHECK_EQ_INT(cbor_enc_finish(&e), 5);
	/* the run-ahead of CBOR_COPY_DEFINITE reports errors too */
	cbor_dec_init(&d, in, test_unhex("9f0102", in, sizeof in), 0);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_copy(&d, &e, CBOR_COPY_DEFINITE), -EBADMSG);
	CHECK_EQ_INT(cbor_dec_reason(&d), CBOR_R_TRUNC_ITEM);
	CHECK_EQ_INT(cbor_enc_finish(&e), 0);
	cbor_dec_init(&d, in, test_unhex("81818181818181818181818181818181815f", in, sizeof in), 0);
	cbor_enc_init(&e, out, sizeof out);
	CHECK_EQ_INT(cbor_copy(&d, &e, 0), -EMSGSIZE);
	CHECK_EQ_INT(cbor_enc_len(&e), 0);
}

TEST_SUITE(cbor, enc_int_boundaries, enc_strings_and_heads,
	   enc_einval_is_sticky_and_writes_nothing,
	   enc_enospc_never_commits_partial,
	   enc_rollback_ends_at_last_whole_element, enc_cap_is_clamped,
	   enc_float_all_halves, enc_float_boundaries,
	   enc_float_random_round_trip, enc_float_width_nan,
	   utf8_valid_table, reason_str_never_null, copy_children_then_zero,
	   copy_malformed_writes_nothing);

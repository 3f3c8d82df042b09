/*
 * coap_opt_test.c — protocol/coap_opt.c: the option table of RFC 7252
 * §5.10 (lengths at min - 1, min, max, max + 1 through the writer and the
 * classifier), option number properties, uint encode/decode, Block1/Block2
 * values (RFC 7959), Observe sequence numbers (RFC 7641), Uri-Path and
 * Uri-Query getters.
 */
#include <errno.h>
#include <string.h>

#include "coap.h"
#include "test.h"

/* A request (CON GET) with one option, parsed and classified into m;
 * returns the action, or -1 when the writer refused the option. */
static enum coap_action with_opt(struct coap_msg *m, uint8_t *b, size_t cap,
				 uint16_t num, const void *val, size_t len)
{
	struct coap_writer w;

	coap_writer_init(&w, b, cap, COAP_CON, COAP_GET, 1, NULL, 0);
	if (coap_put_opt(&w, num, val, len) < 0)
		return (enum coap_action)-1;
	return coap_recv(m, b, (size_t)coap_writer_finish(&w));
}

TEST(coap_opt_table_lengths)
{
	static const uint16_t nums[] = {
		1, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35,
		39, 60
	};
	static uint8_t val[1100], b[1200];
	struct coap_msg m;

	memset(val, 0, sizeof val);
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		const struct coap_optdef *d = coap_opt_def(nums[i]);
		struct coap_writer w;

		REQUIRE(d != NULL);
		CHECK_EQ_INT(d->num, nums[i]);
		CHECK(d->name != NULL && d->name[0] != '\0');
		CHECK_EQ_INT(with_opt(&m, b, sizeof b, d->num, val, d->min_len),
			     COAP_ACT_OK);
		CHECK_EQ_INT(with_opt(&m, b, sizeof b, d->num, val, d->max_len),
			     COAP_ACT_OK);
		coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL,
				 0);
		CHECK_EQ_INT(coap_put_opt(&w, d->num, val,
					  (size_t)d->max_len + 1), -EINVAL);
		if (d->min_len > 0) {
			coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET,
					 1, NULL, 0);
			CHECK_EQ_INT(coap_put_opt(&w, d->num, val,
						  (size_t)d->min_len - 1),
				     -EINVAL);
		}
	}
	CHECK(coap_opt_def(0) == NULL);
	CHECK(coap_opt_def(9) == NULL);
	CHECK(coap_opt_def(2) == NULL);
	CHECK(coap_opt_def(65535) == NULL);
}

TEST(coap_opt_table_values)
{
	const struct coap_optdef *d;

	d = coap_opt_def(COAP_OPT_IF_MATCH);
	CHECK(d->repeatable && d->min_len == 0 && d->max_len == 8);
	d = coap_opt_def(COAP_OPT_ETAG);
	CHECK(d->repeatable && d->min_len == 1 && d->max_len == 8);
	d = coap_opt_def(COAP_OPT_URI_HOST);
	CHECK(!d->repeatable && d->min_len == 1 && d->max_len == 255);
	d = coap_opt_def(COAP_OPT_PROXY_URI);
	CHECK(d->min_len == 1 && d->max_len == 1034);
	d = coap_opt_def(COAP_OPT_OBSERVE);
	CHECK(!d->repeatable && d->max_len == 3 && d->format == COAP_FMT_UINT);
	d = coap_opt_def(COAP_OPT_BLOCK2);
	CHECK(d->max_len == 3);
	d = coap_opt_def(COAP_OPT_SIZE2);
	CHECK(d->max_len == 4);
	d = coap_opt_def(COAP_OPT_IF_NONE_MATCH);
	CHECK(d->format == COAP_FMT_EMPTY && d->max_len == 0);
	CHECK_EQ_STR(coap_opt_def(COAP_OPT_URI_PATH)->name, "Uri-Path");
}

TEST(coap_opt_critical_length_rejected)
{
	/* a critical option one byte over its maximum, written raw through
	 * coap_build(), is 4.02 in a CON request; an elective one is ignored */
	static const uint8_t val[9] = { 0 };
	uint8_t b[64];
	struct coap_msg m, p;

	memset(&m, 0, sizeof m);
	m.type = COAP_CON;
	m.code = COAP_GET;
	m.nopts = 1;
	m.opts[0] = (struct coap_opt){ val, 9, COAP_OPT_IF_MATCH, 0 };
	REQUIRE(coap_build(&m, b, sizeof b) == 4 + 1 + 9);
	CHECK_EQ_INT(coap_recv(&p, b, 14), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(p.bad_opt, COAP_OPT_IF_MATCH);
	CHECK_EQ_INT(p.reason, COAP_R_CRIT_LENGTH);
	m.opts[0] = (struct coap_opt){ val, 9, COAP_OPT_ETAG, 0 };
	REQUIRE(coap_build(&m, b, sizeof b) == 4 + 1 + 9);
	CHECK_EQ_INT(coap_recv(&p, b, 14), COAP_ACT_OK);
	CHECK(coap_opt_get(&p, COAP_OPT_ETAG) == NULL);
}

TEST(coap_opt_number_properties)
{
	/* §5.4.6 and Table 4: C(ritical), U(nsafe), N(oCacheKey) */
	static const struct {
		unsigned num;
		bool c, u, n;
	} t[] = {
		{ COAP_OPT_IF_MATCH, true, false, false },
		{ COAP_OPT_URI_HOST, true, true, false },
		{ COAP_OPT_ETAG, false, false, false },
		{ COAP_OPT_OBSERVE, false, true, false },
		{ COAP_OPT_URI_PATH, true, true, false },
		{ COAP_OPT_CONTENT_FORMAT, false, false, false },
		{ COAP_OPT_MAX_AGE, false, true, false },
		{ COAP_OPT_BLOCK2, true, true, false },
		{ COAP_OPT_SIZE2, false, false, true },
		{ COAP_OPT_PROXY_URI, true, true, false },
		{ COAP_OPT_SIZE1, false, false, true },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		CHECK_EQ_INT(COAP_OPT_IS_CRITICAL(t[i].num), t[i].c);
		CHECK_EQ_INT(COAP_OPT_IS_UNSAFE(t[i].num), t[i].u);
		CHECK_EQ_INT(COAP_OPT_IS_NOCACHEKEY(t[i].num), t[i].n);
	}
}

TEST(coap_opt_uint_codec)
{
	uint8_t out[4];
	uint32_t v = 0;

	CHECK_EQ_INT(coap_uint_encode(0, out), 0);
	CHECK_EQ_INT(coap_uint_encode(0x80, out), 1);
	CHECK_EQ_INT(out[0], 0x80);
	CHECK_EQ_INT(coap_uint_encode(0x1234, out), 2);
	CHECK_EQ_MEM(out, "\x12\x34", 2);
	CHECK_EQ_INT(coap_uint_encode(0x10000, out), 3);
	CHECK_EQ_MEM(out, "\x01\x00\x00", 3);
	CHECK_EQ_INT(coap_uint_encode(0xdeadbeef, out), 4);
	CHECK_EQ_MEM(out, "\xde\xad\xbe\xef", 4);
	/* leading zeros are accepted on receipt (§3.2) */
	CHECK_EQ_INT(coap_uint_decode((const uint8_t *)"\x00\x00\x01", 3, &v),
		     0);
	CHECK_EQ_INT(v, 1);
	CHECK_EQ_INT(coap_uint_decode(NULL, 0, &v), 0);
	CHECK_EQ_INT(v, 0);
	CHECK_EQ_INT(coap_uint_decode((const uint8_t *)"\0\0\0\0\1", 5, &v),
		     -EBADMSG);
}

TEST(coap_opt_get_uint_unknown_long)
{
	/* option 30 (unrecognized, elective), 5 bytes */
	static const uint8_t b[] = { 0x60, 0x45, 0, 1, 0xd5, 0x11, 1, 2, 3, 4,
				     5 };
	struct coap_msg m;
	uint32_t v;

	REQUIRE(coap_recv(&m, b, sizeof b) == COAP_ACT_OK);
	/* classify ignored it (unrecognized elective): absent */
	CHECK_EQ_INT(coap_get_uint(&m, 30, &v), 0);
	REQUIRE(coap_parse(&m, b, sizeof b) == 0);
	/* unclassified: present, too long for a uint */
	CHECK_EQ_INT(coap_get_uint(&m, 30, &v), -EBADMSG);
}

TEST(coap_opt_block_values)
{
	static const struct {
		struct coap_block b;
		const char *bytes;
		int n;
	} t[] = {
		{ { 0, 0, false }, "", 0 },
		{ { 0, 2, false }, "\x02", 1 },             /* NUM 0 SZX 2 */
		{ { 1, 6, true }, "\x1e", 1 },              /* NUM 1 M 1 */
		{ { 15, 6, true }, "\xfe", 1 },
		{ { 16, 0, false }, "\x01\x00", 2 },
		{ { 4095, 4, false }, "\xff\xf4", 2 },
		{ { 4096, 4, true }, "\x01\x00\x0c", 3 },
		{ { 0xfffff, 6, false }, "\xff\xff\xf6", 3 }, /* 2^20 - 1 */
		{ { 0xfffff, 6, true }, "\xff\xff\xfe", 3 },
	};
	uint8_t out[3];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct coap_block d = { 99, 99, false };

		CHECK_EQ_INT(coap_block_encode(&t[i].b, out), t[i].n);
		CHECK_EQ_MEM(out, t[i].bytes, (size_t)t[i].n);
		CHECK_EQ_INT(coap_block_decode(out, (size_t)t[i].n, &d), 0);
		CHECK(d.num == t[i].b.num && d.szx == t[i].b.szx &&
		      d.more == t[i].b.more);
	}
}

TEST(coap_opt_block_errors)
{
	struct coap_block b = { 0x100000, 0, false }, d;
	uint8_t out[3];

	CHECK_EQ_INT(coap_block_encode(&b, out), -EINVAL);      /* 2^20 */
	b = (struct coap_block){ 0, 7, false };
	CHECK_EQ_INT(coap_block_encode(&b, out), -EINVAL);      /* SZX 7 */
	CHECK_EQ_INT(coap_block_decode((const uint8_t *)"\x17", 1, &d),
		     -EBADMSG);
	CHECK_EQ_INT(d.num, 1);                 /* still filled in */
	CHECK_EQ_INT(d.szx, 7);
	CHECK_EQ_INT(coap_block_decode((const uint8_t *)"\0\0\0\x10", 4, &d),
		     -EBADMSG);
}

TEST(coap_opt_block_sizes)
{
	CHECK_EQ_INT(COAP_BLOCK_SIZE(0), 16);
	CHECK_EQ_INT(COAP_BLOCK_SIZE(6), 1024);
	for (int szx = 0; szx <= 6; szx++)
		CHECK_EQ_INT(coap_szx_of_size(16u << szx), szx);
	CHECK_EQ_INT(coap_szx_of_size(8), -EINVAL);
	CHECK_EQ_INT(coap_szx_of_size(2048), -EINVAL);
	CHECK_EQ_INT(coap_szx_of_size(100), -EINVAL);
	CHECK_EQ_INT(coap_szx_fit(15), -EINVAL);
	CHECK_EQ_INT(coap_szx_fit(16), 0);
	CHECK_EQ_INT(coap_szx_fit(1023), 5);
	CHECK_EQ_INT(coap_szx_fit(1024), 6);
	CHECK_EQ_INT(coap_szx_fit(5000), 6);
}

TEST(coap_opt_block_shrink_and_slice)
{
	struct coap_block b = { 3, 6, false };
	size_t off = 1, len = 1;
	bool more = true;

	/* block 3 of 1024 = bytes 3072..; at 256 that is block 12 */
	CHECK_EQ_INT(coap_block_shrink(&b, 4), 0);
	CHECK(b.num == 12 && b.szx == 4);
	CHECK_EQ_INT(coap_block_shrink(&b, 6), 0);      /* no growth */
	CHECK(b.num == 12 && b.szx == 4);
	CHECK_EQ_INT(coap_block_shrink(&b, 7), -EINVAL);
	b = (struct coap_block){ 0x10000, 6, false };
	CHECK_EQ_INT(coap_block_shrink(&b, 0), -EBADMSG);
	CHECK_EQ_INT(b.szx, 6);

	b = (struct coap_block){ 0, 6, false };
	CHECK_EQ_INT(coap_block_slice(&b, 0, &off, &len, &more), 0);
	CHECK(off == 0 && len == 0 && !more);
	CHECK_EQ_INT(coap_block_slice(&b, 2500, &off, &len, &more), 0);
	CHECK(off == 0 && len == 1024 && more);
	b.num = 2;
	CHECK_EQ_INT(coap_block_slice(&b, 2500, &off, &len, &more), 0);
	CHECK(off == 2048 && len == 452 && !more);
	CHECK_EQ_INT(coap_block_slice(&b, 2048, &off, &len, &more), -EBADMSG);
	b.num = 1;
	CHECK_EQ_INT(coap_block_slice(&b, 2048, &off, &len, &more), 0);
	CHECK(off == 1024 && len == 1024 && !more);
	b.num = 0xfffff;
	CHECK_EQ_INT(coap_block_slice(&b, 5000, &off, &len, &more), -EBADMSG);
	b.szx = 7;
	CHECK_EQ_INT(coap_block_slice(&b, 5000, &off, &len, &more), -EINVAL);
}

TEST(coap_opt_block_get_put)
{
	struct coap_block in = { 5, 3, true }, out;
	struct coap_writer w;
	struct coap_msg m;
	uint8_t b[32];

	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_PUT, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_block(&w, COAP_OPT_BLOCK1, &in), 3);
	REQUIRE(coap_recv(&m, b, (size_t)coap_writer_finish(&w)) ==
		COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_block(&m, COAP_OPT_BLOCK1, &out), 1);
	CHECK(out.num == 5 && out.szx == 3 && out.more);
	CHECK_EQ_INT(coap_get_block(&m, COAP_OPT_BLOCK2, &out), 0);
	in.szx = 7;
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_PUT, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_block(&w, COAP_OPT_BLOCK1, &in), -EINVAL);
	CHECK_EQ_INT(coap_writer_finish(&w), -EINVAL);
}

TEST(coap_opt_observe_sequence)
{
	static const struct {
		uint32_t seq;
		size_t n;
	} t[] = { { 0, 0 }, { 1, 1 }, { 255, 1 }, { 256, 2 }, { 65535, 2 },
		  { 65536, 3 }, { 0xffffff, 3 } };
	struct coap_writer w;
	struct coap_msg m;
	uint8_t b[16];
	uint32_t v;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		coap_writer_init(&w, b, sizeof b, COAP_NON, COAP_CODE_CONTENT,
				 1, NULL, 0);
		CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_OBSERVE, t[i].seq),
			     (int)(1 + t[i].n));
		CHECK_EQ_INT(b[4], 0x60 | t[i].n);
		REQUIRE(coap_recv(&m, b, (size_t)coap_writer_finish(&w)) ==
			COAP_ACT_OK);
		CHECK_EQ_INT(coap_get_observe(&m, &v), 1);
		CHECK_EQ_INT(v, t[i].seq);
	}
	CHECK_EQ_INT(coap_observe_next(0), 1);
	CHECK_EQ_INT(coap_observe_next(0xfffffe), 0xffffff);
	CHECK_EQ_INT(coap_observe_next(0xffffff), 0);
	CHECK_EQ_INT(coap_get_observe(&m, &v), 1);
	REQUIRE(coap_recv(&m, b, 4) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_observe(&m, &v), 0);
}

TEST(coap_opt_observe_is_newer)
{
	const uint32_t h = 1u << 23;

	CHECK(coap_observe_is_newer(1, 0, 2, 0));
	CHECK(!coap_observe_is_newer(2, 0, 1, 0));
	CHECK(!coap_observe_is_newer(5, 0, 5, 0));
	CHECK(coap_observe_is_newer(0xffffff, 0, 0, 0));        /* wrap */
	CHECK(coap_observe_is_newer(0, 0, h - 1, 0));
	CHECK(!coap_observe_is_newer(0, 0, h, 0));              /* 2^23 */
	CHECK(coap_observe_is_newer(h + 1, 0, 0, 0));
	CHECK(!coap_observe_is_newer(h, 0, 0, 0));
	/* stale by sequence but more than 128 s later */
	CHECK(!coap_observe_is_newer(2, 1000, 1, 1000 + 128000));
	CHECK(coap_observe_is_newer(2, 1000, 1, 1000 + 128001));
	CHECK(!coap_observe_is_newer(2, 200000, 1, 1000));
	/* only the low 24 bits count */
	CHECK(coap_observe_is_newer(0x1000001, 0, 2, 0));
}

TEST(coap_opt_max_age_etag)
{
	static const uint8_t b[] = { 0x60, 0x45, 0, 1, 0x44, 1, 2, 3, 4, 0xa0 };
	static const uint8_t two[] = { 0x60, 0x45, 0, 1, 0x41, 9, 0x01, 8 };
	const uint8_t *val = NULL;
	size_t len = 0;
	struct coap_msg m;

	REQUIRE(coap_recv(&m, b, sizeof b) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_max_age(&m), 0);          /* empty = 0 */
	CHECK_EQ_INT(coap_get_etag(&m, &val, &len), 1);
	CHECK(len == 4 && val == b + 5);
	REQUIRE(coap_recv(&m, b, 4) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_max_age(&m), 60);
	CHECK_EQ_INT(coap_get_etag(&m, &val, &len), 0);
	REQUIRE(coap_recv(&m, two, sizeof two) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_etag(&m, &val, &len), 1);
	CHECK_EQ_INT(val[0], 9);
}

TEST(coap_opt_path_format_and_iterate)
{
	/* Uri-Path "a", "b c", "x/y", "" */
	static const uint8_t b[] = { 0x40, 0x01, 0, 1, 0xb1, 'a', 0x03, 'b',
				     ' ', 'c', 0x03, 'x', '/', 'y', 0x00 };
	const struct coap_opt *o;
	struct coap_msg m;
	char out[32];
	size_t pos = 0, k = 0;

	REQUIRE(coap_recv(&m, b, sizeof b) == COAP_ACT_OK);
	while ((o = coap_opt_next(&m, COAP_OPT_URI_PATH, &pos)) != NULL)
		k++;
	CHECK_EQ_INT(k, 4);
	CHECK_EQ_INT(coap_path_format(&m, out, sizeof out), 15);
	CHECK_EQ_STR(out, "/a/b%20c/x%2Fy/");
	CHECK_EQ_INT(coap_path_format(&m, out, 16), 15);        /* exact */
	CHECK_EQ_INT(coap_path_format(&m, out, 15), -ENOSPC);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(coap_path_format(&m, NULL, 0), -ENOSPC);
	CHECK(coap_path_equals(&m, "/a/b c/x/y/") == false);    /* literal */
	REQUIRE(coap_recv(&m, b, 4) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_path_format(&m, out, sizeof out), 1);
	CHECK_EQ_STR(out, "/");
	CHECK(coap_path_equals(&m, ""));
	CHECK(coap_path_equals(&m, "/"));
	CHECK(!coap_path_equals(&m, "/a"));
}

TEST(coap_opt_path_equals)
{
	static const uint8_t b[] = { 0x40, 0x01, 0, 1, 0xb6, 's', 't', 'a',
				     't', 'u', 's' };
	static const uint8_t two[] = { 0x40, 0x01, 0, 1, 0xb6, 'b', 'a', 'c',
				       'k', 'u', 'p', 0x06, 'c', 'a', 'n', 'c',
				       'e', 'l' };
	struct coap_msg m;

	REQUIRE(coap_recv(&m, b, sizeof b) == COAP_ACT_OK);
	CHECK(coap_path_equals(&m, "/status"));
	CHECK(coap_path_equals(&m, "status"));
	CHECK(!coap_path_equals(&m, "/status/"));
	CHECK(!coap_path_equals(&m, "/statu"));
	CHECK(!coap_path_equals(&m, "/status/x"));
	CHECK(!coap_path_equals(&m, "/"));
	REQUIRE(coap_recv(&m, two, sizeof two) == COAP_ACT_OK);
	CHECK(coap_path_equals(&m, "/backup/cancel"));
	CHECK(!coap_path_equals(&m, "/backup"));
	CHECK(!coap_path_equals(&m, "/backup//cancel"));
}

TEST(coap_opt_query_find)
{
	/* Uri-Query "rt=vigil.status", "obs", "=v", "k=" */
	static const uint8_t b[] = {
		0x40, 0x01, 0, 1, 0xdd, 0x02, 0x02, 'r', 't', '=', 'v', 'i',
		'g', 'i', 'l', '.', 's', 't', 'a', 't', 'u', 's', 0x03, 'o',
		'b', 's', 0x02, '=', 'v', 0x02, 'k', '='
	};
	struct coap_msg m;
	struct coap_query q;

	REQUIRE(coap_recv(&m, b, sizeof b) == COAP_ACT_OK);
	CHECK_EQ_INT(coap_query_find(&m, "rt", &q), 1);
	CHECK(q.has_val && q.val_len == 12);
	CHECK_EQ_INT(coap_query_find(&m, "obs", &q), 1);
	CHECK(!q.has_val);
	CHECK_EQ_INT(coap_query_find(&m, "", &q), 1);
	CHECK(q.has_val && q.val_len == 1 && q.val[0] == 'v');
	CHECK_EQ_INT(coap_query_find(&m, "k", &q), 1);
	CHECK(q.has_val && q.val_len == 0);
	CHECK_EQ_INT(coap_query_find(&m, "r", &q), 0);
}

TEST_SUITE(coap_opt, coap_opt_table_lengths, coap_opt_table_values,
	   coap_opt_critical_length_rejected, coap_opt_number_properties,
	   coap_opt_uint_codec, coap_opt_get_uint_unknown_long,
	   coap_opt_block_values, coap_opt_block_errors,
	   coap_opt_block_sizes, coap_opt_block_shrink_and_slice,
	   coap_opt_block_get_put, coap_opt_observe_sequence,
	   coap_opt_observe_is_newer, coap_opt_max_age_etag,
	   coap_opt_path_format_and_iterate, coap_opt_path_equals,
	   coap_opt_query_find)

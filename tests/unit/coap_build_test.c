/*
 * coap_build_test.c — protocol/coap_build.c: RFC 7252 Appendix A messages
 * built byte for byte, the extended delta/length encodings at 12, 13, 268,
 * 269 and the 65804 ceiling, minimal uint options, path/query splitting,
 * every writer @retval with no partial commit and sticky errors,
 * coap_build() and parse(build(x)) == x round trips.
 */
#include <errno.h>
#include <string.h>

#include "coap.h"
#include "test.h"

static const uint8_t fig16_req[] = {
	0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p', 'e', 'r', 'a',
	't', 'u', 'r', 'e'
};
static const uint8_t fig16_resp[] = {
	0x60, 0x45, 0x7d, 0x34, 0xff, '2', '2', '.', '3', ' ', 'C'
};
static const uint8_t fig17_req[] = {
	0x41, 0x01, 0x7d, 0x35, 0x20, 0xbb, 't', 'e', 'm', 'p', 'e', 'r',
	'a', 't', 'u', 'r', 'e'
};
static const uint8_t fig17_resp[] = {
	0x61, 0x45, 0x7d, 0x35, 0x20, 0xff, '2', '2', '.', '3', ' ', 'C'
};

TEST(coap_build_rfc_fig16)
{
	uint8_t b[64];
	struct coap_writer w;

	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET,
				      0x7d34, NULL, 0), 4);
	CHECK_EQ_INT(coap_put_path(&w, "/temperature"), 12);
	REQUIRE(coap_writer_finish(&w) == (int)sizeof fig16_req);
	CHECK_EQ_MEM(b, fig16_req, sizeof fig16_req);

	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_CONTENT, 0x7d34,
			 NULL, 0);
	CHECK_EQ_INT(coap_put_payload(&w, "22.3 C", 6), 7);
	REQUIRE(coap_writer_finish(&w) == (int)sizeof fig16_resp);
	CHECK_EQ_MEM(b, fig16_resp, sizeof fig16_resp);
}

TEST(coap_build_rfc_fig17)
{
	static const uint8_t tok[] = { 0x20 };
	uint8_t b[64];
	struct coap_writer w;
	struct coap_msg m;

	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 0x7d35, tok, 1);
	coap_put_opt(&w, COAP_OPT_URI_PATH, "temperature", 11);
	REQUIRE(coap_writer_finish(&w) == (int)sizeof fig17_req);
	CHECK_EQ_MEM(b, fig17_req, sizeof fig17_req);

	/* the server's answer: built from the parsed request's mid/token */
	REQUIRE(coap_recv(&m, fig17_req, sizeof fig17_req) == COAP_ACT_OK);
	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_CONTENT, m.mid,
			 m.token, m.tkl);
	coap_put_payload(&w, "22.3 C", 6);
	REQUIRE(coap_writer_finish(&w) == (int)sizeof fig17_resp);
	CHECK_EQ_MEM(b, fig17_resp, sizeof fig17_resp);
}

TEST(coap_build_well_known_core_observe_block2)
{
	/* CON GET /.well-known/core, Token 0xa1b2, Observe 0 (register),
	 * Block2 NUM 0 SZX 2 (64 bytes), Accept 40 */
	static const uint8_t want[] = {
		0x42, 0x01, 0x00, 0x07, 0xa1, 0xb2,
		0x60,                                   /* Observe, empty */
		0x5b, '.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n',
		0x04, 'c', 'o', 'r', 'e',
		0x61, 40,                               /* Accept 40 */
		0x61, 0x02                              /* Block2 0/0/64 */
	};
	static const uint8_t tok[] = { 0xa1, 0xb2 };
	struct coap_block blk = { 0, 2, false };
	uint8_t b[64];
	struct coap_writer w;

	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 7, tok, 2);
	coap_put_uint(&w, COAP_OPT_OBSERVE, COAP_OBSERVE_REGISTER);
	coap_put_path(&w, "/.well-known/core");
	coap_put_uint(&w, COAP_OPT_ACCEPT, COAP_CF_LINK_FORMAT);
	coap_put_block(&w, COAP_OPT_BLOCK2, &blk);
	REQUIRE(coap_writer_finish(&w) == (int)sizeof want);
	CHECK_EQ_MEM(b, want, sizeof want);
}

/* One option numbered num with len bytes of 'v' after Uri-Host ("h"),
 * written into b; checks the option header bytes that follow it. */
static void check_opt_hdr(uint16_t num, size_t len, const uint8_t *hdr,
			  size_t hn)
{
	static uint8_t b[1024], val[512];
	struct coap_writer w;
	int n;

	memset(val, 'v', sizeof val);
	coap_writer_init(&w, b, sizeof b, COAP_NON, COAP_POST, 1, NULL, 0);
	n = coap_put_opt(&w, num, val, len);
	CHECK_EQ_INT(n, (int)(hn + len));
	REQUIRE(coap_writer_finish(&w) == (int)(4 + hn + len));
	CHECK_EQ_MEM(b + 4, hdr, hn);
}

TEST(coap_build_ext_delta_boundaries)
{
	/* option numbers from 0 are deltas: 12, 13, 268, 269, 65535 */
	check_opt_hdr(12, 0, (const uint8_t *)"\xc0", 1);
	check_opt_hdr(13, 0, (const uint8_t *)"\xd0\x00", 2);
	check_opt_hdr(268, 0, (const uint8_t *)"\xd0\xff", 2);
	check_opt_hdr(269, 0, (const uint8_t *)"\xe0\x00\x00", 3);
	check_opt_hdr(65535, 0, (const uint8_t *)"\xe0\xfe\xf2", 3);
}

TEST(coap_build_ext_length_boundaries)
{
	/* option 2 (unassigned: any length) */
	check_opt_hdr(2, 12, (const uint8_t *)"\x2c", 1);
	check_opt_hdr(2, 13, (const uint8_t *)"\x2d\x00", 2);
	check_opt_hdr(2, 268, (const uint8_t *)"\x2d\xff", 2);
	check_opt_hdr(2, 269, (const uint8_t *)"\x2e\x00\x00", 3);
	/* both extended: delta 300, length 269 */
	check_opt_hdr(300, 269, (const uint8_t *)"\xee\x00\x1f\x00\x00", 5);
}

TEST(coap_build_len_65804_too_big)
{
	/* 65804 is the format's ceiling but a message is at most
	 * COAP_MSG_LIMIT bytes: the writer says -ENOSPC, build -EMSGSIZE */
	static uint8_t b[COAP_MSG_LIMIT + 16], val[COAP_OPT_LEN_MAX + 1];
	struct coap_writer w;
	struct coap_msg m;

	coap_writer_init(&w, b, sizeof b, COAP_NON, COAP_POST, 1, NULL, 0);
	CHECK_EQ_INT(w.cap, COAP_MSG_LIMIT);
	CHECK_EQ_INT(coap_put_opt(&w, 2, val, COAP_OPT_LEN_MAX), -ENOSPC);
	coap_writer_init(&w, b, sizeof b, COAP_NON, COAP_POST, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_opt(&w, 2, val, COAP_OPT_LEN_MAX + 1),
		     -EINVAL);
	/* the largest option that fits: 65535 - 4 - 3 */
	coap_writer_init(&w, b, sizeof b, COAP_NON, COAP_POST, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_opt(&w, 2, val, COAP_MSG_LIMIT - 7),
		     COAP_MSG_LIMIT - 4);
	CHECK_EQ_INT(coap_writer_finish(&w), COAP_MSG_LIMIT);

	memset(&m, 0, sizeof m);
	m.ver = 1;
	m.type = COAP_NON;
	m.code = COAP_POST;
	m.nopts = 1;
	m.opts[0].num = 2;
	m.opts[0].val = val;
	m.opts[0].len = COAP_OPT_LEN_MAX;
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EMSGSIZE);
	m.opts[0].len = COAP_OPT_LEN_MAX + 1;
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EINVAL);
}

TEST(coap_build_uint_minimal)
{
	static const struct {
		uint32_t v;
		size_t n;
	} t[] = {
		{ 0, 0 }, { 1, 1 }, { 255, 1 }, { 256, 2 }, { 65535, 2 },
		{ 65536, 3 }, { 0xffffff, 3 }, { 0x1000000, 4 },
		{ 0xffffffff, 4 }
	};
	uint8_t b[16];
	struct coap_writer w;
	struct coap_msg m;
	uint32_t v;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_CONTENT,
				 1, NULL, 0);
		/* Max-Age is 14: delta nibble 13 + one byte (1) */
		CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_MAX_AGE, t[i].v),
			     (int)(2 + t[i].n));
		CHECK_EQ_INT(b[4], 0xd0 | t[i].n);
		CHECK_EQ_INT(b[5], COAP_OPT_MAX_AGE - 13);
		if (t[i].n > 0)
			CHECK(b[6] != 0);       /* no leading zero byte */
		REQUIRE(coap_recv(&m, b, (size_t)coap_writer_finish(&w)) ==
			COAP_ACT_OK);
		CHECK_EQ_INT(coap_get_uint(&m, COAP_OPT_MAX_AGE, &v), 1);
		CHECK_EQ_INT(v, t[i].v);
	}
	/* Content-Format is 0..2 bytes: 65536 needs 3 */
	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_CONTENT, 1,
			 NULL, 0);
	CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, 65536),
		     -EINVAL);
	/* Observe is 0..3 bytes */
	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_CONTENT, 1,
			 NULL, 0);
	CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_OBSERVE, 0x1000000), -EINVAL);
}

/* The Uri-Path segments of a message built with coap_put_path(path). */
static int path_segments(const char *path, struct coap_msg *m, uint8_t *b,
			 size_t cap)
{
	struct coap_writer w;
	int ret;

	coap_writer_init(&w, b, cap, COAP_CON, COAP_GET, 1, NULL, 0);
	ret = coap_put_path(&w, path);
	if (ret < 0)
		return ret;
	coap_parse(m, b, (size_t)coap_writer_finish(&w));
	return (int)m->nopts;
}

TEST(coap_build_put_path)
{
	uint8_t b[1024];
	struct coap_msg m;

	CHECK_EQ_INT(path_segments("", &m, b, sizeof b), 0);
	CHECK_EQ_INT(path_segments("/", &m, b, sizeof b), 0);
	CHECK_EQ_INT(path_segments("/a/b%20c", &m, b, sizeof b), 2);
	CHECK_EQ_MEM(m.opts[1].val, "b c", 3);
	CHECK_EQ_INT(path_segments("/a/", &m, b, sizeof b), 2);
	CHECK_EQ_INT(m.opts[1].len, 0);
	CHECK_EQ_INT(path_segments("a/x%2Fy?q=1#f", &m, b, sizeof b), 2);
	CHECK_EQ_INT(m.opts[1].len, 3);
	CHECK_EQ_MEM(m.opts[1].val, "x/y", 3);
	CHECK_EQ_INT(path_segments("/a%2", &m, b, sizeof b), -EINVAL);
	CHECK_EQ_INT(path_segments("/a%g0", &m, b, sizeof b), -EINVAL);
	CHECK_EQ_INT(path_segments("/a%", &m, b, sizeof b), -EINVAL);
}

TEST(coap_build_put_path_segment_255)
{
	char path[1 + 256 + 1];
	uint8_t b[1024];
	struct coap_msg m;

	path[0] = '/';
	memset(path + 1, 's', 256);
	path[257] = '\0';
	CHECK_EQ_INT(path_segments(path, &m, b, sizeof b), -EINVAL);
	path[256] = '\0';                       /* 255 bytes */
	CHECK_EQ_INT(path_segments(path, &m, b, sizeof b), 1);
	CHECK_EQ_INT(m.opts[0].len, 255);
}

TEST(coap_build_put_path_all_or_nothing)
{
	uint8_t b[16];
	struct coap_writer w;

	memset(b, 0xaa, sizeof b);
	/* 4 + "aaaa" (5) + "bbbb" (5) = 14, "cc" (3) does not fit */
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_path(&w, "/aaaa/bbbb/cc"), -ENOSPC);
	CHECK_EQ_INT(w.len, 4);
	CHECK_EQ_INT(w.last_opt, 0);
	CHECK_EQ_INT(coap_writer_finish(&w), -ENOSPC);
	/* a bad escape in the last segment: nothing either */
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_path(&w, "/a/%zz"), -EINVAL);
	CHECK_EQ_INT(w.len, 4);
}

TEST(coap_build_put_query)
{
	uint8_t b[64];
	struct coap_writer w;
	struct coap_msg m;
	struct coap_query q;
	size_t pos = 0;

	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_path(&w, "/.well-known/core"), 17);
	CHECK_EQ_INT(coap_put_query(&w, "?rt=vigil.status&obs&x=a%26b"), 27);
	CHECK_EQ_INT(coap_put_query(&w, ""), 0);
	REQUIRE(coap_recv(&m, b, (size_t)coap_writer_finish(&w)) ==
		COAP_ACT_OK);
	REQUIRE(coap_query_next(&m, &pos, &q) == 1);
	CHECK(q.has_val && q.key_len == 2 && q.val_len == 12);
	CHECK_EQ_MEM(q.val, "vigil.status", 12);
	REQUIRE(coap_query_next(&m, &pos, &q) == 1);
	CHECK(!q.has_val && q.key_len == 3 && q.val == NULL);
	REQUIRE(coap_query_next(&m, &pos, &q) == 1);
	CHECK_EQ_MEM(q.val, "a&b", 3);
	CHECK_EQ_INT(coap_query_next(&m, &pos, &q), 0);
	/* a query after the path but a path after the query: order */
	CHECK_EQ_INT(coap_put_path(&w, "/x"), -EINVAL);
}

TEST(coap_build_writer_misuse)
{
	static const uint8_t tok[9] = { 0 };
	uint8_t b[32];
	struct coap_writer w;

	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, 4, COAP_GET, 1, NULL,
				      0), -EINVAL);
	CHECK_EQ_INT(coap_writer_finish(&w), -EINVAL);
	CHECK_EQ_INT(coap_put_payload(&w, "x", 1), -EINVAL);
	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1,
				      tok, 9), -EINVAL);
	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1,
				      NULL, 1), -EINVAL);
	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, COAP_RST,
				      COAP_CODE_EMPTY, 1, tok, 1), -EINVAL);
	CHECK_EQ_INT(coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1,
				      tok, 8), 12);
	CHECK_EQ_INT(coap_writer_init(&w, b, 11, COAP_CON, COAP_GET, 1, tok,
				      8), -ENOSPC);
	CHECK_EQ_INT(coap_writer_finish(&w), -ENOSPC);
	CHECK_EQ_INT(coap_put_opt(&w, COAP_OPT_URI_PATH, "a", 1), -ENOSPC);

	/* order, reserved 0, NULL value, after the payload */
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_opt(&w, 0, NULL, 0), -EINVAL);
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_opt(&w, COAP_OPT_URI_PATH, NULL, 1), -EINVAL);
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_GET, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_opt(&w, COAP_OPT_URI_PATH, "a", 1), 2);
	CHECK_EQ_INT(coap_put_opt(&w, COAP_OPT_URI_PATH, "b", 1), 2);
	CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_OBSERVE, 0), -EINVAL);
	/* sticky: even a valid call now fails, and nothing was added */
	CHECK_EQ_INT(coap_put_uint(&w, COAP_OPT_ACCEPT, 60), -EINVAL);
	CHECK_EQ_INT(w.len, 8);
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_POST, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_payload(&w, "p", 1), 2);
	CHECK_EQ_INT(coap_put_payload(&w, "q", 1), 1);      /* no marker */
	CHECK_EQ_INT(coap_put_payload(&w, NULL, 0), 0);
	CHECK_EQ_INT(coap_put_opt(&w, 60, NULL, 0), -EINVAL);
	/* Empty messages carry nothing */
	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_EMPTY, 1, NULL,
			 0);
	CHECK_EQ_INT(coap_put_payload(&w, NULL, 0), 0);
	CHECK_EQ_INT(coap_put_opt(&w, COAP_OPT_URI_PATH, "a", 1), -EINVAL);
	coap_writer_init(&w, b, sizeof b, COAP_ACK, COAP_CODE_EMPTY, 1, NULL,
			 0);
	CHECK_EQ_INT(coap_put_payload(&w, "x", 1), -EINVAL);
	coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_POST, 1, NULL, 0);
	CHECK_EQ_INT(coap_put_payload(&w, NULL, 1), -EINVAL);
}

TEST(coap_build_writer_no_partial_commit)
{
	uint8_t b[12], val[8] = "abcdefgh";
	struct coap_writer w;

	/* option: 4 header + 1 + 5 = 10; payload: 4 + marker + 7 = 12 */
	for (size_t cap = 4; cap <= sizeof b; cap++) {
		int ret;

		memset(b, 0xaa, sizeof b);
		coap_writer_init(&w, b, cap, COAP_CON, COAP_GET, 1, NULL, 0);
		ret = coap_put_opt(&w, COAP_OPT_URI_PATH, val, 5);
		if (cap < 10) {
			CHECK_EQ_INT(ret, -ENOSPC);
			CHECK_EQ_INT(w.len, 4);
			for (size_t i = 4; i < sizeof b; i++)
				CHECK_EQ_INT(b[i], 0xaa);
		} else {
			CHECK_EQ_INT(ret, 6);
		}
		coap_writer_init(&w, b, cap, COAP_CON, COAP_POST, 1, NULL, 0);
		memset(b + 4, 0xaa, sizeof b - 4);
		ret = coap_put_payload(&w, val, 7);
		CHECK_EQ_INT(ret, cap < 12 ? -ENOSPC : 8);
		if (ret < 0)
			CHECK_EQ_INT(b[4], 0xaa);
	}
}

TEST(coap_build_counting_writer)
{
	struct coap_writer w;

	CHECK_EQ_INT(coap_writer_init(&w, NULL, 100, COAP_CON, COAP_GET, 1,
				      (const uint8_t *)"tk", 2), 6);
	CHECK_EQ_INT(coap_put_path(&w, "/status"), 7);
	CHECK_EQ_INT(coap_put_payload(&w, "xyz", 3), 4);
	CHECK_EQ_INT(coap_writer_finish(&w), 17);
}

TEST(coap_build_empty_messages)
{
	uint8_t b[4];
	struct coap_msg m;

	CHECK_EQ_INT(coap_build_empty(b, sizeof b, COAP_RST, 0xbeef), 4);
	CHECK_EQ_MEM(b, "\x70\x00\xbe\xef", 4);
	CHECK_EQ_INT(coap_recv(&m, b, 4), COAP_ACT_OK);
	CHECK_EQ_INT(m.type, COAP_RST);
	CHECK_EQ_INT(coap_build_empty(b, sizeof b, COAP_ACK, 1), 4);
	CHECK_EQ_MEM(b, "\x60\x00\x00\x01", 4);
	CHECK_EQ_INT(coap_build_empty(b, 3, COAP_ACK, 1), -ENOSPC);
	CHECK_EQ_INT(coap_build_empty(b, 4, 4, 1), -EINVAL);
}

TEST(coap_build_from_array_sorts_stably)
{
	uint8_t b[64];
	struct coap_msg m, p;

	memset(&m, 0, sizeof m);
	m.type = COAP_CON;
	m.code = COAP_GET;
	m.mid = 9;
	m.nopts = 4;
	m.opts[0] = (struct coap_opt){ (const uint8_t *)"a", 1, 11, 0 };
	m.opts[1] = (struct coap_opt){ (const uint8_t *)"\x3c", 1, 17, 0 };
	m.opts[2] = (struct coap_opt){ (const uint8_t *)"b", 1, 11, 0 };
	m.opts[3] = (struct coap_opt){ NULL, 0, 6, 0 };
	REQUIRE(coap_build(&m, b, sizeof b) == 4 + 1 + 2 + 2 + 2);
	REQUIRE(coap_recv(&p, b, 11) == COAP_ACT_OK);
	CHECK_EQ_INT(p.opts[0].num, 6);
	CHECK(coap_path_equals(&p, "/a/b"));
	CHECK_EQ_INT(p.opts[3].num, 17);
	/* -ENOSPC writes nothing */
	memset(b, 0xaa, sizeof b);
	CHECK_EQ_INT(coap_build(&m, b, 10), -ENOSPC);
	CHECK_EQ_INT(b[0], 0xaa);
	/* invalid views */
	m.nopts = COAP_MAX_OPTS + 1;
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EINVAL);
	m.nopts = 1;
	m.code = COAP_CODE_EMPTY;
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EINVAL);
	m.nopts = 0;
	m.payload = (const uint8_t *)"x";
	m.payload_len = 1;
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EINVAL);
	m.payload_len = 0;
	m.tkl = 1;
	m.token = (const uint8_t *)"t";
	CHECK_EQ_INT(coap_build(&m, b, sizeof b), -EINVAL);
}

/* parse(bytes) -> build -> same bytes -> parse: same view */
static void round_trip(const uint8_t *in, size_t n)
{
	uint8_t out[512];
	struct coap_msg a, b;

	REQUIRE(coap_parse(&a, in, n) == 0);
	REQUIRE(coap_build(&a, out, sizeof out) == (int)n);
	CHECK_EQ_MEM(out, in, n);
	REQUIRE(coap_parse(&b, out, n) == 0);
	CHECK(a.type == b.type && a.code == b.code && a.mid == b.mid);
	CHECK(a.tkl == b.tkl && a.nopts == b.nopts);
	CHECK(a.payload_len == b.payload_len);
	for (size_t i = 0; i < a.nopts && i < b.nopts; i++) {
		CHECK(a.opts[i].num == b.opts[i].num);
		CHECK(a.opts[i].len == b.opts[i].len);
	}
}

TEST(coap_build_round_trips)
{
	static const uint8_t tok[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t b[512], big[300];
	struct coap_writer w;

	round_trip(fig16_req, sizeof fig16_req);
	round_trip(fig17_req, sizeof fig17_req);
	round_trip(fig17_resp, sizeof fig17_resp);
	memset(big, 'x', sizeof big);
	for (size_t tkl = 0; tkl <= 8; tkl++) {
		struct coap_block blk = { (uint32_t)tkl * 1000u, 6, true };

		coap_writer_init(&w, b, sizeof b, COAP_CON, COAP_CODE_CONTENT,
				 (uint16_t)(tkl * 7919u), tok, tkl);
		coap_put_opt(&w, COAP_OPT_ETAG, tok, tkl ? tkl : 1);
		coap_put_uint(&w, COAP_OPT_OBSERVE, (uint32_t)tkl << 16);
		coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, COAP_CF_CBOR);
		coap_put_uint(&w, COAP_OPT_MAX_AGE, 0);
		coap_put_block(&w, COAP_OPT_BLOCK2, &blk);
		coap_put_uint(&w, COAP_OPT_SIZE2, 100000);
		coap_put_opt(&w, 300, big, 13 + tkl * 30);
		coap_put_opt(&w, 65000, NULL, 0);
		coap_put_payload(&w, big, tkl * 20);
		REQUIRE(coap_writer_finish(&w) > 0);
		round_trip(b, (size_t)coap_writer_finish(&w));
	}
}

TEST_SUITE(coap_build, coap_build_rfc_fig16, coap_build_rfc_fig17,
	   coap_build_well_known_core_observe_block2,
	   coap_build_ext_delta_boundaries, coap_build_ext_length_boundaries,
	   coap_build_len_65804_too_big, coap_build_uint_minimal,
	   coap_build_put_path, coap_build_put_path_segment_255,
	   coap_build_put_path_all_or_nothing, coap_build_put_query,
	   coap_build_writer_misuse, coap_build_writer_no_partial_commit,
	   coap_build_counting_writer, coap_build_empty_messages,
	   coap_build_from_array_sorts_stably, coap_build_round_trips)

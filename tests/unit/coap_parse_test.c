/*
 * coap_parse_test.c — protocol/coap_parse.c: the RFC 7252 Appendix A
 * messages, every malformed class with the action coap.h's table gives,
 * extended delta/length boundaries on the receive side, COAP_MAX_OPTS at
 * max and max + 1, and every prefix of a message read from an exact-size
 * heap copy (ASan catches a read past the end).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap.h"
#include "test.h"

/* Parses a copy of buf in a heap block of exactly len bytes, so that any
 * read past the end is an ASan error, and classifies it.  The block stays
 * allocated (and reachable) until the next call, so the view is valid. */
static enum coap_action recv_exact(struct coap_msg *m, const uint8_t *buf,
				   size_t len, int *ret)
{
	static uint8_t *held;

	free(held);
	held = len ? malloc(len) : NULL;
	if (len)
		memcpy(held, buf, len);
	*ret = coap_parse(m, held, len);
	return coap_classify(m);
}

#define RECV(m, arr, ret) recv_exact(&(m), (arr), sizeof(arr), &(ret))

/* RFC 7252 Appendix A, Figure 16: CON GET /temperature, MID 0x7d34. */
static const uint8_t fig16_req[] = {
	0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p', 'e', 'r', 'a',
	't', 'u', 'r', 'e'
};
/* Figure 17: the same with Token 0x20, MID 0x7d35, and its ACK 2.05. */
static const uint8_t fig17_req[] = {
	0x41, 0x01, 0x7d, 0x35, 0x20, 0xbb, 't', 'e', 'm', 'p', 'e', 'r',
	'a', 't', 'u', 'r', 'e'
};
static const uint8_t fig17_resp[] = {
	0x61, 0x45, 0x7d, 0x35, 0x20, 0xff, '2', '2', '.', '3', ' ', 'C'
};

TEST(coap_parse_rfc_fig16)
{
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, fig16_req, ret), COAP_ACT_OK);
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(m.ver, 1);
	CHECK_EQ_INT(m.type, COAP_CON);
	CHECK_EQ_INT(m.code, COAP_GET);
	CHECK_EQ_INT(m.mid, 0x7d34);
	CHECK_EQ_INT(m.tkl, 0);
	REQUIRE(m.nopts == 1);
	CHECK_EQ_INT(m.opts[0].num, COAP_OPT_URI_PATH);
	CHECK_EQ_INT(m.opts[0].len, 11);
	CHECK_EQ_MEM(m.opts[0].val, "temperature", 11);
	CHECK(m.payload == NULL && m.payload_len == 0);
	CHECK(coap_path_equals(&m, "/temperature"));
}

TEST(coap_parse_rfc_fig17)
{
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, fig17_req, ret), COAP_ACT_OK);
	CHECK_EQ_INT(m.mid, 0x7d35);
	REQUIRE(m.tkl == 1);
	CHECK_EQ_INT(m.token[0], 0x20);
	CHECK(coap_path_equals(&m, "temperature"));
	CHECK_EQ_INT(RECV(m, fig17_resp, ret), COAP_ACT_OK);
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(m.type, COAP_ACK);
	CHECK_EQ_INT(m.code, COAP_CODE_CONTENT);
	CHECK_EQ_INT(m.token[0], 0x20);
	CHECK_EQ_INT(m.nopts, 0);
	REQUIRE(m.payload_len == 6);
	CHECK_EQ_MEM(m.payload, "22.3 C", 6);
}

TEST(coap_parse_short_and_version_ignored)
{
	static const uint8_t hdr[] = { 0x40, 0x01, 0x12, 0x34 };
	struct coap_msg m;
	int ret;

	for (size_t n = 0; n < 4; n++) {
		CHECK_EQ_INT(recv_exact(&m, hdr, n, &ret), COAP_ACT_IGNORE);
		CHECK_EQ_INT(ret, -EBADMSG);
		CHECK_EQ_INT(m.reason, COAP_R_SHORT);
	}
	CHECK_EQ_INT(coap_parse(&m, NULL, 0), -EBADMSG);
	for (unsigned v = 0; v < 4; v++) {
		uint8_t b[] = { (uint8_t)(v << 6), 0x01, 0x12, 0x34 };

		CHECK_EQ_INT(RECV(m, b, ret),
			     v == 1 ? COAP_ACT_OK : COAP_ACT_IGNORE);
		if (v != 1) {
			CHECK_EQ_INT(m.reason, COAP_R_VERSION);
			CHECK_EQ_INT(ret, -EBADMSG);
		}
	}
}

/* The action for a format error depends only on the type. */
static void check_reject(const uint8_t *b0, size_t len, enum coap_reason r)
{
	uint8_t b[64];
	struct coap_msg m;
	int ret;

	REQUIRE(len <= sizeof b);
	for (unsigned t = 0; t < 4; t++) {
		memcpy(b, b0, len);
		b[0] = (uint8_t)((b[0] & 0xcfu) | t << 4);
		CHECK_EQ_INT(recv_exact(&m, b, len, &ret),
			     t <= COAP_NON ? COAP_ACT_RESET : COAP_ACT_IGNORE);
		CHECK_EQ_INT(m.reason, r);
		CHECK_EQ_INT(m.mid, 0x1234);
	}
}

TEST(coap_parse_tkl_reserved)
{
	uint8_t b[4 + 15] = { 0x48, 0x01, 0x12, 0x34 };
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(recv_exact(&m, b, 12, &ret), COAP_ACT_OK);  /* TKL 8 */
	CHECK_EQ_INT(m.tkl, 8);
	for (unsigned tkl = 9; tkl <= 15; tkl++) {
		b[0] = (uint8_t)(0x40 | tkl);
		check_reject(b, 4 + tkl, COAP_R_TKL);
	}
}

TEST(coap_parse_truncated)
{
	static const uint8_t tok[] = { 0x48, 0x01, 0x12, 0x34, 1, 2, 3 };
	static const uint8_t d13[] = { 0x40, 0x01, 0x12, 0x34, 0xd0 };
	static const uint8_t d14[] = { 0x40, 0x01, 0x12, 0x34, 0xe0, 0x00 };
	static const uint8_t l13[] = { 0x40, 0x01, 0x12, 0x34, 0x0d };
	static const uint8_t l14[] = { 0x40, 0x01, 0x12, 0x34, 0xde, 0, 0 };
	static const uint8_t val[] = { 0x40, 0x01, 0x12, 0x34, 0xb3, 'a', 'b' };
	static const uint8_t l13v[] = { 0x40, 0x01, 0x12, 0x34, 0x0d, 0x00,
					1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	check_reject(tok, sizeof tok, COAP_R_TRUNCATED);
	check_reject(d13, sizeof d13, COAP_R_TRUNCATED);
	check_reject(d14, sizeof d14, COAP_R_TRUNCATED);
	check_reject(l13, sizeof l13, COAP_R_TRUNCATED);
	check_reject(l14, sizeof l14, COAP_R_TRUNCATED);
	check_reject(val, sizeof val, COAP_R_TRUNCATED);
	check_reject(l13v, sizeof l13v, COAP_R_TRUNCATED);
}

TEST(coap_parse_nibble15_reserved)
{
	static const uint8_t d15[] = { 0x40, 0x01, 0x12, 0x34, 0xf0 };
	static const uint8_t l15[] = { 0x40, 0x01, 0x12, 0x34, 0x1f, 1, 2 };
	static const uint8_t d13l15[] = { 0x40, 0x01, 0x12, 0x34, 0xdf, 0 };
	static const uint8_t after[] = { 0x40, 0x01, 0x12, 0x34, 0xb1, 'a',
					 0xf1, 'x' };

	check_reject(d15, sizeof d15, COAP_R_OPT_RESERVED);
	check_reject(l15, sizeof l15, COAP_R_OPT_RESERVED);
	check_reject(d13l15, sizeof d13l15, COAP_R_OPT_RESERVED);
	check_reject(after, sizeof after, COAP_R_OPT_RESERVED);
}

TEST(coap_parse_marker_rules)
{
	static const uint8_t empty[] = { 0x40, 0x01, 0x12, 0x34, 0xff };
	static const uint8_t opt_empty[] = { 0x40, 0x01, 0x12, 0x34, 0xb1,
					     'a', 0xff };
	/* after the marker every byte is payload, even 0xff and 0xf0 */
	static const uint8_t pay[] = { 0x40, 0x02, 0x12, 0x34, 0xff, 0xff,
				       0xf0 };
	struct coap_msg m;
	int ret;

	check_reject(empty, sizeof empty, COAP_R_EMPTY_PAYLOAD);
	check_reject(opt_empty, sizeof opt_empty, COAP_R_EMPTY_PAYLOAD);
	CHECK_EQ_INT(RECV(m, pay, ret), COAP_ACT_OK);
	CHECK_EQ_INT(m.payload_len, 2);
	CHECK_EQ_INT(m.nopts, 0);
}

TEST(coap_parse_option_number_overflow)
{
	/* 269 + 0xfef2 = 65535: the largest number; one more is an error */
	static const uint8_t max[] = { 0x40, 0x01, 0x12, 0x34, 0xe0, 0xfe,
				       0xf2 };
	static const uint8_t over[] = { 0x40, 0x01, 0x12, 0x34, 0xe0, 0xfe,
					0xf2, 0x10 };
	static const uint8_t big[] = { 0x40, 0x01, 0x12, 0x34, 0xe0, 0xff,
				       0xff };
	struct coap_msg m;
	int ret;

	RECV(m, max, ret);
	CHECK_EQ_INT(ret, 0);
	REQUIRE(m.nopts == 1);
	CHECK_EQ_INT(m.opts[0].num, 65535);
	check_reject(over, sizeof over, COAP_R_OPT_NUMBER);
	check_reject(big, sizeof big, COAP_R_OPT_NUMBER);
}

TEST(coap_parse_ext_boundaries)
{
	/* deltas 12, 13, 268, 269 as nibble 12, 13+0, 13+255, 14+0.0,
	 * giving numbers 12, 25, 293, 562; lengths 12, 13, 268, 269 */
	static uint8_t b[4 + (1 + 3 + 3 + 5) + 12 + 13 + 268 + 269];
	static const uint16_t nums[] = { 12, 25, 293, 562 };
	static const uint32_t lens[] = { 12, 13, 268, 269 };
	static const uint8_t hdrs[4][5] = {
		{ 0xcc }, { 0xdd, 0x00, 0x00 }, { 0xdd, 0xff, 0xff },
		{ 0xee, 0x00, 0x00, 0x00, 0x00 }
	};
	static const size_t hn[] = { 1, 3, 3, 5 };
	struct coap_msg m;
	size_t n = 4;
	int ret;

	memcpy(b, "\x50\x02\x12\x34", 4);       /* NON POST */
	for (size_t i = 0; i < 4; i++) {
		memcpy(b + n, hdrs[i], hn[i]);
		n += hn[i];
		memset(b + n, (int)('a' + i), lens[i]);
		n += lens[i];
	}
	REQUIRE(n == sizeof b);
	recv_exact(&m, b, n, &ret);
	CHECK_EQ_INT(ret, 0);
	REQUIRE(m.nopts == 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK_EQ_INT(m.opts[i].num, nums[i]);
		CHECK_EQ_INT(m.opts[i].len, lens[i]);
		CHECK_EQ_INT(m.opts[i].val[lens[i] - 1], 'a' + (int)i);
	}
}

TEST(coap_parse_len_65804)
{
	/* the longest option value the format can express: 14 + 0xffff */
	static uint8_t b[4 + 3 + COAP_OPT_LEN_MAX];
	struct coap_msg m;
	int ret;

	memcpy(b, "\x50\x02\x12\x34\x0e\xff\xff", 7);
	memset(b + 7, 'v', COAP_OPT_LEN_MAX);
	recv_exact(&m, b, sizeof b, &ret);
	CHECK_EQ_INT(ret, 0);
	REQUIRE(m.nopts == 1);
	CHECK_EQ_INT(m.opts[0].num, 0);
	CHECK_EQ_INT(m.opts[0].len, 65804);
	/* one byte short */
	recv_exact(&m, b, sizeof b - 1, &ret);
	CHECK_EQ_INT(ret, -EBADMSG);
	CHECK_EQ_INT(m.reason, COAP_R_TRUNCATED);
}

TEST(coap_parse_empty_messages)
{
	static const uint8_t tok[] = { 0x41, 0x00, 0x12, 0x34, 0xaa };
	static const uint8_t opt[] = { 0x40, 0x00, 0x12, 0x34, 0x60 };
	static const uint8_t pay[] = { 0x40, 0x00, 0x12, 0x34, 0xff, 'x' };
	uint8_t b[4] = { 0x40, 0x00, 0x12, 0x34 };
	static const enum coap_action want[] = {
		COAP_ACT_RESET, COAP_ACT_RESET, COAP_ACT_OK, COAP_ACT_OK
	};
	static const enum coap_reason why[] = {
		COAP_R_PING, COAP_R_TYPE_CODE, COAP_R_OK, COAP_R_OK
	};
	struct coap_msg m;
	int ret;

	for (unsigned t = 0; t < 4; t++) {
		b[0] = (uint8_t)(0x40 | t << 4);
		CHECK_EQ_INT(RECV(m, b, ret), want[t]);
		CHECK_EQ_INT(ret, 0);
		CHECK_EQ_INT(m.reason, why[t]);
	}
	check_reject(tok, sizeof tok, COAP_R_EMPTY_NOT_EMPTY);
	check_reject(opt, sizeof opt, COAP_R_EMPTY_NOT_EMPTY);
	check_reject(pay, sizeof pay, COAP_R_EMPTY_NOT_EMPTY);
}

TEST(coap_parse_code_classes)
{
	uint8_t b[4] = { 0x40, 0x00, 0x12, 0x34 };
	struct coap_msg m;
	int ret;

	for (unsigned cls = 1; cls < 8; cls++) {
		bool reserved = cls == 1 || cls == 6 || cls == 7;

		b[1] = COAP_CODE(cls, 3);
		b[0] = 0x40;                    /* CON */
		CHECK_EQ_INT(RECV(m, b, ret),
			     reserved ? COAP_ACT_RESET : COAP_ACT_OK);
		b[0] = 0x60;                    /* ACK */
		CHECK_EQ_INT(RECV(m, b, ret),
			     reserved ? COAP_ACT_IGNORE : COAP_ACT_OK);
		if (reserved)
			CHECK_EQ_INT(m.reason, COAP_R_RESERVED_CLASS);
	}
}

TEST(coap_parse_type_code_mismatch)
{
	static const uint8_t rst_resp[] = { 0x70, 0x45, 0x12, 0x34 };
	static const uint8_t ack_req[] = { 0x60, 0x01, 0x12, 0x34 };
	static const uint8_t rst_req[] = { 0x70, 0x01, 0x12, 0x34 };
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, rst_resp, ret), COAP_ACT_IGNORE);
	CHECK_EQ_INT(m.reason, COAP_R_TYPE_CODE);
	CHECK_EQ_INT(RECV(m, ack_req, ret), COAP_ACT_IGNORE);
	CHECK_EQ_INT(m.reason, COAP_R_TYPE_CODE);
	CHECK_EQ_INT(RECV(m, rst_req, ret), COAP_ACT_IGNORE);
}

/* A message of type t, code c with n options of number num each
 * (empty values) into b; returns its length. */
static size_t many_opts(uint8_t *b, uint8_t t, uint8_t c, size_t n,
			unsigned num)
{
	size_t len = 4;

	b[0] = (uint8_t)(0x40 | t << 4);
	b[1] = c;
	b[2] = 0x12;
	b[3] = 0x34;
	for (size_t i = 0; i < n; i++)
		b[len++] = i == 0 ? (uint8_t)(num << 4) : 0x00;
	return len;
}

TEST(coap_parse_max_opts)
{
	uint8_t b[64];
	struct coap_msg m;
	size_t n;
	int ret;

	/* 12 is Content-Format: repeated, elective, so just ignored */
	n = many_opts(b, COAP_CON, COAP_GET, COAP_MAX_OPTS, 12);
	CHECK_EQ_INT(recv_exact(&m, b, n, &ret), COAP_ACT_OK);
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(m.nopts, COAP_MAX_OPTS);
	n = many_opts(b, COAP_CON, COAP_GET, COAP_MAX_OPTS + 1, 12);
	CHECK_EQ_INT(recv_exact(&m, b, n, &ret), COAP_ACT_BAD_REQUEST);
	CHECK_EQ_INT(ret, -EMSGSIZE);
	CHECK_EQ_INT(m.reason, COAP_R_TOO_MANY_OPTS);
	CHECK_EQ_INT(m.nopts, COAP_MAX_OPTS);
	/* a response: rejected */
	n = many_opts(b, COAP_CON, COAP_CODE_CONTENT, COAP_MAX_OPTS + 1, 12);
	CHECK_EQ_INT(recv_exact(&m, b, n, &ret), COAP_ACT_RESET);
	/* a format error after the limit still wins */
	n = many_opts(b, COAP_CON, COAP_GET, COAP_MAX_OPTS + 1, 12);
	b[n++] = 0x02;
	CHECK_EQ_INT(recv_exact(&m, b, n, &ret), COAP_ACT_RESET);
	CHECK_EQ_INT(m.reason, COAP_R_TRUNCATED);
}

TEST(coap_parse_unknown_critical)
{
	/* option 9 (unassigned, odd: critical), then Uri-Path "x" */
	uint8_t c[] = { 0x40, 0x01, 0x12, 0x34, 0x91, 'y', 0x21, 'x' };
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, c, ret), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(m.reason, COAP_R_CRIT_UNKNOWN);
	CHECK_EQ_INT(m.bad_opt, 9);
	/* classifying again gives the same answer */
	CHECK_EQ_INT(coap_classify(&m), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(m.bad_opt, 9);
	c[0] = 0x50;                            /* NON request: reject */
	CHECK_EQ_INT(RECV(m, c, ret), COAP_ACT_RESET);
	c[1] = COAP_CODE_CONTENT;               /* NON response */
	CHECK_EQ_INT(RECV(m, c, ret), COAP_ACT_RESET);
	c[0] = 0x60;                            /* ACK response: silence */
	CHECK_EQ_INT(RECV(m, c, ret), COAP_ACT_IGNORE);
	c[0] = 0x40;                            /* CON response */
	CHECK_EQ_INT(RECV(m, c, ret), COAP_ACT_RESET);
	CHECK_EQ_INT(m.reason, COAP_R_CRIT_UNKNOWN);
}

TEST(coap_parse_unknown_elective_ignored)
{
	/* option 10 (even: elective, unassigned), then Uri-Path */
	static const uint8_t b[] = { 0x40, 0x01, 0x12, 0x34, 0xa1, 'z',
				     0x11, 'p' };
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, b, ret), COAP_ACT_OK);
	REQUIRE(m.nopts == 2);
	CHECK(m.opts[0].flags & COAP_OPTF_IGNORED);
	CHECK(coap_opt_get(&m, 10) == NULL);
	CHECK(coap_path_equals(&m, "/p"));
}

TEST(coap_parse_option_lengths)
{
	/* If-None-Match (5, critical) must be empty */
	static const uint8_t inm[] = { 0x40, 0x03, 0x12, 0x34, 0x51, 0x00 };
	/* Uri-Host (3, critical) must be 1..255 */
	static const uint8_t host[] = { 0x40, 0x01, 0x12, 0x34, 0x30 };
	/* Content-Format (12, elective) 0..2: 3 bytes are ignored */
	static const uint8_t cf[] = { 0x40, 0x02, 0x12, 0x34, 0xc3, 1, 2, 3 };
	/* Max-Age (14, elective) 0..4: 5 bytes ignored, default applies */
	static const uint8_t ma[] = { 0x60, 0x45, 0x12, 0x34, 0xd5, 0x01,
				      0, 0, 0, 0, 9 };
	struct coap_msg m;
	uint32_t v = 7;
	int ret;

	CHECK_EQ_INT(RECV(m, inm, ret), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(m.reason, COAP_R_CRIT_LENGTH);
	CHECK_EQ_INT(m.bad_opt, COAP_OPT_IF_NONE_MATCH);
	CHECK_EQ_INT(RECV(m, host, ret), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(m.bad_opt, COAP_OPT_URI_HOST);
	CHECK_EQ_INT(RECV(m, cf, ret), COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_uint(&m, COAP_OPT_CONTENT_FORMAT, &v), 0);
	CHECK_EQ_INT(v, 7);
	CHECK_EQ_INT(RECV(m, ma, ret), COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_max_age(&m), COAP_MAX_AGE_DEFAULT);
}

TEST(coap_parse_repeated_options)
{
	/* Uri-Port (7, critical, not repeatable) twice */
	static const uint8_t port[] = { 0x40, 0x01, 0x12, 0x34, 0x71, 0x10,
					0x01, 0x11 };
	/* Content-Format (12, elective) twice: the second is ignored */
	static const uint8_t cf[] = { 0x40, 0x02, 0x12, 0x34, 0xc1, 60,
				      0x01, 0x00 };
	/* Uri-Path (repeatable) three times */
	static const uint8_t path[] = { 0x40, 0x01, 0x12, 0x34, 0xb1, 'a',
					0x01, 'b', 0x00 };
	struct coap_msg m;
	uint32_t v = 0;
	int ret;

	CHECK_EQ_INT(RECV(m, port, ret), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(m.reason, COAP_R_CRIT_REPEATED);
	CHECK_EQ_INT(m.bad_opt, COAP_OPT_URI_PORT);
	CHECK_EQ_INT(RECV(m, cf, ret), COAP_ACT_OK);
	CHECK_EQ_INT(coap_get_uint(&m, COAP_OPT_CONTENT_FORMAT, &v), 1);
	CHECK_EQ_INT(v, 60);
	CHECK(m.opts[1].flags & COAP_OPTF_IGNORED);
	CHECK_EQ_INT(RECV(m, path, ret), COAP_ACT_OK);
	CHECK(coap_path_equals(&m, "/a/b/"));
}

TEST(coap_parse_block_szx7)
{
	/* Block2 (23 = 13 + 10) value 0x07: NUM 0, SZX 7 */
	uint8_t b[] = { 0x40, 0x01, 0x12, 0x34, 0xd1, 0x0a, 0x07 };
	struct coap_msg m;
	int ret;

	CHECK_EQ_INT(RECV(m, b, ret), COAP_ACT_BAD_REQUEST);
	CHECK_EQ_INT(m.reason, COAP_R_BLOCK_SZX);
	b[1] = COAP_CODE_CONTENT;
	CHECK_EQ_INT(RECV(m, b, ret), COAP_ACT_RESET);
	b[0] = 0x60;
	CHECK_EQ_INT(RECV(m, b, ret), COAP_ACT_IGNORE);
	b[6] = 0x06;
	CHECK_EQ_INT(RECV(m, b, ret), COAP_ACT_OK);
}

TEST(coap_parse_every_prefix)
{
	/* every prefix of a message with token, extended options and a
	 * payload parses without reading past its end (ASan) */
	static const uint8_t b[] = {
		0x44, 0x01, 0xab, 0xcd, 1, 2, 3, 4,
		0x60,                           /* Observe 0 */
		0x5b, '.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n',
		0x04, 'c', 'o', 'r', 'e',
		0xc1, 0x02,                     /* Block2 NUM 0 SZX 2 */
		0xe0, 0x01, 0x00,               /* option 23 + 269 + 256 */
		0xff, 'p', 'l'
	};
	struct coap_msg m;
	int ret;

	for (size_t n = 0; n <= sizeof b; n++) {
		recv_exact(&m, b, n, &ret);
		CHECK(ret == 0 || ret == -EBADMSG);
	}
	recv_exact(&m, b, sizeof b, &ret);
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(m.nopts, 5);
	CHECK_EQ_INT(m.opts[4].num, 23 + 269 + 256);
	CHECK_EQ_INT(m.payload_len, 2);
}

TEST(coap_parse_reason_and_action_text)
{
	for (int r = 0; r < COAP_R_COUNT; r++) {
		const char *s = coap_reason_str((enum coap_reason)r);

		CHECK(s != NULL && s[0] != '\0' && strcmp(s, "?") != 0);
	}
	CHECK_EQ_STR(coap_reason_str(COAP_R_COUNT), "?");
	CHECK_EQ_STR(coap_action_str(COAP_ACT_OK), "process");
	CHECK_EQ_STR(coap_action_str(COAP_ACT_IGNORE), "ignore");
	CHECK_EQ_STR(coap_action_str(COAP_ACT_RESET), "reset");
	CHECK_EQ_STR(coap_action_str(COAP_ACT_BAD_OPTION), "4.02 Bad Option");
	CHECK_EQ_STR(coap_action_str(COAP_ACT_BAD_REQUEST),
		     "4.00 Bad Request");
	CHECK_EQ_STR(coap_action_str((enum coap_action)99), "?");
}

TEST(coap_parse_recv_is_parse_then_classify)
{
	static const uint8_t b[] = { 0x40, 0x01, 0x12, 0x34, 0x91, 'y' };
	struct coap_msg m;

	CHECK_EQ_INT(coap_recv(&m, b, sizeof b), COAP_ACT_BAD_OPTION);
	CHECK_EQ_INT(m.bad_opt, 9);
	CHECK_EQ_INT(coap_recv(&m, b, 3), COAP_ACT_IGNORE);
	CHECK_EQ_INT(m.reason, COAP_R_SHORT);
}

TEST_SUITE(coap_parse, coap_parse_rfc_fig16, coap_parse_rfc_fig17,
	   coap_parse_short_and_version_ignored, coap_parse_tkl_reserved,
	   coap_parse_truncated, coap_parse_nibble15_reserved,
	   coap_parse_marker_rules, coap_parse_option_number_overflow,
	   coap_parse_ext_boundaries, coap_parse_len_65804,
	   coap_parse_empty_messages, coap_parse_code_classes,
	   coap_parse_type_code_mismatch, coap_parse_max_opts,
	   coap_parse_unknown_critical, coap_parse_unknown_elective_ignored,
	   coap_parse_option_lengths, coap_parse_repeated_options,
	   coap_parse_block_szx7, coap_parse_every_prefix,
	   coap_parse_reason_and_action_text,
	   coap_parse_recv_is_parse_then_classify)

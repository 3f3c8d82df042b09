/*
 * v3_req_test.c — CyberBackup v3 requests (protocol/v3_req.c): messages
 * built byte by byte from the protocol document (not by the packer) parse
 * to the right fields and pack back to the same bytes; every check is hit
 * at its boundary with its reason.
 */
#include <errno.h>

#include "test.h"
#include "test_util.h"
#include "v3.h"

static const uint8_t id[V3_ID_SIZE] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};

static uint8_t msg[1024];

/* A 1028 by hand: header, fixed part, slice of slice_len bytes 0xa5. */
static size_t file_msg(uint32_t content, uint32_t orig, uint32_t packet,
		       uint32_t total, const char *name, size_t slice_len)
{
	const struct test_v3_file f = { 3, content, orig, packet, total,
					name, slice_len, 0xa5 };

	return test_v3_file_req(msg, id, &f);
}

/* The DER SubjectPublicKeyInfo of an RSA-1024 key, byte by byte from
 * RFC 5280/RFC 8017 (what `openssl rsa -pubout -outform DER` writes):
 * len 160 carries e = 17, len 162 e = 65537. */
static void spki(uint8_t *k, size_t len)
{
	static const uint8_t alg[15] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
					 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
					 0x01, 0x05, 0x00 };
	uint8_t *p = k;

	*p++ = 0x30; *p++ = 0x81; *p++ = (uint8_t)(len - 3);
	memcpy(p, alg, sizeof alg);
	p += sizeof alg;
	*p++ = 0x03; *p++ = 0x81; *p++ = (uint8_t)(len - 21); *p++ = 0x00;
	*p++ = 0x30; *p++ = 0x81; *p++ = (uint8_t)(len - 25);
	*p++ = 0x02; *p++ = 0x81; *p++ = 0x81; *p++ = 0x00;
	memset(p, 0xc3, 128); /* modulus: top bit set */
	p += 128;
	*p++ = 0x02;
	if (len == 160) {
		*p++ = 0x01; *p++ = 0x11;
	} else {
		*p++ = 0x03; *p++ = 0x01; *p++ = 0x00; *p++ = 0x01;
	}
}

TEST(req_hdr_fields_little_endian)
{
	struct v3_req r;
	enum v3_reason why = V3_E_CODE;

	test_v3_req_hdr(msg, id, 3, 1025, 255);
	CHECK_EQ_INT(msg[17], 0x01); /* 1025 = 0x0401, LSB first */
	CHECK_EQ_INT(msg[18], 0x04);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, V3_REQ_HDR_SIZE,
				      V3_PAYLOAD_CAP_DEFAULT, &why), 0);
	CHECK_EQ_INT(why, V3_OK);
	CHECK_EQ_MEM(r.client_id, id, V3_ID_SIZE);
	CHECK_EQ_INT(r.version, 3);
	CHECK_EQ_INT(r.code, V3_REQ_REGISTER);
	CHECK_EQ_INT(r.payload_size, 255);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 22, 1000, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_LENGTH);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 24, 1000, NULL), -EINVAL);
}

TEST(req_hdr_version_and_code)
{
	struct v3_req r;
	enum v3_reason why;
	static const uint32_t bad_codes[] = { 0, 1024, 1032, 1600, 1607,
					      65535 };

	for (uint8_t v = 0; v < 10; v++) {
		test_v3_req_hdr(msg, id, v, 1025, 255);
		if (v == 3)
			continue;
		CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why),
			     -EBADMSG);
		CHECK_EQ_INT(why, V3_E_VERSION);
		/* filled anyway, for the log line */
		CHECK_EQ_INT(r.version, v);
		CHECK_EQ_INT(r.code, 1025);
	}
	for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
		test_v3_req_hdr(msg, id, 3, bad_codes[i], 255);
		CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why),
			     -EBADMSG);
		CHECK_EQ_INT(why, V3_E_CODE);
	}
	for (uint32_t c = 1025; c <= 1031; c++) {
		test_v3_req_hdr(msg, id, 3, c, c == 1026 ? 415 : c == 1028 ? 300 : 255);
		CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why), 0);
	}
}

TEST(req_hdr_cap_and_layout)
{
	struct v3_req r;
	enum v3_reason why;
	static const struct {
		uint32_t code, size;
		int ok;
	} cases[] = {
		{ 1025, 254, 0 }, { 1025, 255, 1 }, { 1025, 256, 0 },
		{ 1025, 0, 0 },   { 1027, 255, 1 }, { 1029, 255, 1 },
		{ 1030, 254, 0 }, { 1031, 256, 0 }, { 1026, 414, 0 },
		{ 1026, 415, 1 }, { 1026, 416, 0 }, { 1026, 417, 1 },
		{ 1026, 418, 0 }, { 1028, 0, 0 },   { 1028, 267, 0 },
		{ 1028, 268, 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		test_v3_req_hdr(msg, id, 3, cases[i].code, cases[i].size);
		CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 100000, &why),
			     cases[i].ok ? 0 : -EBADMSG);
		CHECK_EQ_INT(why, cases[i].ok ? V3_OK : V3_E_SIZE_LAYOUT);
	}
	CHECK_EQ_INT(V3_PAYLOAD_CAP_DEFAULT, 16 * 1024 * 1024 + 1024);
	test_v3_req_hdr(msg, id, 3, 1028, V3_PAYLOAD_CAP_DEFAULT);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, V3_PAYLOAD_CAP_DEFAULT,
				      &why), 0);
	test_v3_req_hdr(msg, id, 3, 1028, V3_PAYLOAD_CAP_DEFAULT + 1);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, V3_PAYLOAD_CAP_DEFAULT,
				      &why), -EMSGSIZE);
	CHECK_EQ_INT(why, V3_E_SIZE_CAP);
	test_v3_req_hdr(msg, id, 3, 1028, 0xffffffffu);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 0xffffffffu, &why), 0);
	/* the cap applies to every code */
	test_v3_req_hdr(msg, id, 3, 1025, 255);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 254, &why), -EMSGSIZE);
}

TEST(req_name_requests_round_trip)
{
	struct v3_req r, p;
	uint8_t out[V3_REQ_SMALL_MAX];
	enum v3_reason why;

	for (uint32_t c = 1025; c <= 1031; c++) {
		const char *name = c <= 1027 ? "appliance 01" : "etc_hosts";

		if (c == 1026 || c == 1028)
			continue;
		test_v3_req_hdr(msg, id, 3, c, 255);
		test_v3_name_field(msg + 23, name);
		CHECK_EQ_INT(v3_req_decode(&r, msg, 23 + 255, 1000, &why),
			     278);
		CHECK_EQ_STR(r.name, name);
		memset(&p, 0, sizeof p);
		memcpy(p.client_id, id, V3_ID_SIZE);
		p.code = (uint16_t)c;
		strcpy(p.name, name);
		CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), 278);
		CHECK_EQ_MEM(out, msg, 278);
	}
}

TEST(req_name_field_termination_and_padding)
{
	struct v3_req r;
	enum v3_reason why;

	test_v3_req_hdr(msg, id, 3, 1025, 255);
	memset(msg + 23, 'a', 255);
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_UNTERMINATED);
	msg[23 + 254] = 0; /* the longest client name: 254 characters */
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), 278);
	CHECK_EQ_INT(strlen(r.name), 254);
	/* bytes after the NUL are ignored (sloppy senders exist) */
	test_v3_name_field(msg + 23, "dev");
	msg[23 + 100] = 'x';
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), 278);
	CHECK_EQ_STR(r.name, "dev");
	/* empty, control and non-ASCII client names */
	test_v3_name_field(msg + 23, "");
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_EMPTY);
	test_v3_name_field(msg + 23, "a\tb");
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_CONTROL);
	test_v3_name_field(msg + 23, "caf\xc3\xa9");
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_NON_ASCII);
	/* a client name may hold '/' but a file name may not */
	test_v3_name_field(msg + 23, "a/b");
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), 278);
	test_v3_req_hdr(msg, id, 3, 1029, 255);
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_SEPARATOR);
}

/* A 1026 with a key of klen bytes built by spki() into msg. */
static size_t pubkey_msg(size_t klen)
{
	test_v3_req_hdr(msg, id, 3, 1026, (uint32_t)(255 + klen));
	test_v3_name_field(msg + 23, "appliance");
	spki(msg + 23 + 255, klen);
	return 23 + 255 + klen;
}

TEST(req_pubkey)
{
	struct v3_req r, p;
	uint8_t out[V3_REQ_SMALL_MAX];
	enum v3_reason why;

	for (size_t klen = 160; klen <= 162; klen += 2) {
		size_t total = pubkey_msg(klen);

		CHECK_EQ_INT(v3_req_decode(&r, msg, total, 1000, &why),
			     (int)total);
		CHECK_EQ_INT(r.key_len, klen);
		CHECK(r.key == msg + 23 + 255);
		CHECK_EQ_INT(v3_req_pack(out, sizeof out, &r, &why),
			     (int)total);
		CHECK_EQ_MEM(out, msg, total);
	}
	memset(&p, 0, sizeof p);
	p.code = V3_REQ_PUBKEY;
	strcpy(p.name, "appliance");
	p.key = msg;
	p.key_len = 161;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_KEY_SIZE);
	p.key = NULL;
	p.key_len = 160;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	/* a 160-byte key with a 3-byte exponent cannot be: refused */
	p.key = msg + 23 + 255;
	pubkey_msg(160);
	msg[23 + 255 + 158] = 0x03;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_KEY_FORMAT);
}

/* Every byte of the fixed DER structure matters; the exponent must be
 * minimal, odd and >= 3. */
TEST(req_pubkey_der_structure)
{
	struct v3_req r;
	enum v3_reason why;
	uint8_t *key = msg + 23 + 255;
	static const struct {
		size_t klen;
		uint8_t e[3];
		int ok;
	} exps[] = {
		{ 160, { 0x11 }, 1 }, { 160, { 0x03 }, 1 }, { 160, { 0xff }, 1 },
		{ 160, { 0x01 }, 0 }, { 160, { 0x00 }, 0 }, { 160, { 0x10 }, 0 },
		{ 162, { 0x01, 0x00, 0x01 }, 1 }, { 162, { 0x00, 0x01, 0x01 }, 0 },
		{ 162, { 0x01, 0x00, 0x00 }, 0 }, { 162, { 0xff, 0xff, 0xff }, 1 },
	};

	for (size_t klen = 160; klen <= 162; klen += 2) {
		/* the 29 header bytes, the modulus' top byte, e's tag and
		 * length: each changed alone is refused */
		static const size_t at[] = { 0,  1,  2,  3,  4,  5,  6,  7,
					     8,  9,  10, 11, 12, 13, 14, 15,
					     16, 17, 18, 19, 20, 21, 22, 23,
					     24, 25, 26, 27, 28, 29, 157, 158 };

		for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
			size_t total = pubkey_msg(klen);

			/* 0x7f: the modulus' top bit cleared */
			key[at[i]] = at[i] == 29 ? 0x7f
						 : (uint8_t)(key[at[i]] ^ 0x01);
			CHECK_EQ_INT(v3_req_decode(&r, msg, total, 1000, &why),
				     -EBADMSG);
			if (why != V3_E_KEY_FORMAT)
				test_fail(__FILE__, __LINE__,
					  "byte %zu of %zu: %s", at[i], klen,
					  v3_reason_str(why));
		}
	}
	for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
		size_t total = pubkey_msg(exps[i].klen);

		memcpy(key + 159, exps[i].e, exps[i].klen - 159);
		CHECK_EQ_INT(v3_req_decode(&r, msg, total, 1000, &why),
			     exps[i].ok ? (int)total : -EBADMSG);
		CHECK_EQ_INT(why, exps[i].ok ? V3_OK : V3_E_KEY_FORMAT);
	}
}

TEST(req_file_single_packet)
{
	struct v3_req r;
	uint8_t out[V3_REQ_FILE_HEAD_MAX + 64];
	enum v3_reason why;
	size_t n = file_msg(32, 20, 1, 1, "data.db", 32);

	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), (int)n);
	CHECK_EQ_INT(r.content_size, 32);
	CHECK_EQ_INT(r.orig_size, 20);
	CHECK_EQ_INT(r.packet, 1);
	CHECK_EQ_INT(r.total, 1);
	CHECK_EQ_STR(r.name, "data.db");
	CHECK(r.data == msg + V3_REQ_FILE_HEAD_MAX);
	CHECK_EQ_INT(r.data_len, 32);
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &r, &why), (int)n);
	CHECK_EQ_MEM(out, msg, n);
	/* one byte short of the slice: the single packet must hold it all */
	n = file_msg(32, 20, 1, 1, "data.db", 31);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SLICE_SIZE);
	/* empty file: 16 bytes of padding */
	n = file_msg(16, 0, 1, 1, "empty", 16);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), (int)n);
	n = file_msg(0, 0, 1, 1, "empty", 1);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_CONTENT_SIZE);
}

TEST(req_file_multi_packet_checks)
{
	struct v3_req r;
	enum v3_reason why;
	static const struct {
		uint32_t content, orig, packet, total;
		size_t slice;
		enum v3_reason why;
	} cases[] = {
		{ 64, 50, 1, 3, 16, V3_OK },
		{ 64, 50, 3, 3, 32, V3_OK },
		{ 64, 50, 2, 64, 1, V3_OK },        /* one byte per packet */
		{ 64, 50, 1, 65, 1, V3_E_PACKET_TOTAL },
		{ 64, 50, 1, 0, 16, V3_E_PACKET_TOTAL },
		{ 64, 50, 0, 3, 16, V3_E_PACKET_NUMBER },
		{ 64, 50, 4, 3, 16, V3_E_PACKET_NUMBER },
		{ 64, 64, 1, 3, 16, V3_E_CONTENT_SIZE }, /* 64 -> 80 */
		{ 64, 48, 1, 3, 16, V3_OK },             /* 48 -> 64 */
		{ 48, 50, 1, 3, 16, V3_E_CONTENT_SIZE },
		{ 64, 50, 2, 3, 65, V3_E_SLICE_SIZE },
		{ 64, 50, 2, 3, 64, V3_OK },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = file_msg(cases[i].content, cases[i].orig,
				    cases[i].packet, cases[i].total, "f",
				    cases[i].slice);
		int want = cases[i].why == V3_OK ? (int)n : -EBADMSG;

		CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), want);
		CHECK_EQ_INT(why, cases[i].why);
	}
	/* the largest file: orig 2^32 - 17, content 2^32 - 16 */
	file_msg(0xfffffff0u, V3_FILE_MAX, 1, 2, "big", 16);
	CHECK_EQ_INT(v3_req_decode(&r, msg, V3_REQ_FILE_HEAD_MAX + 16, 1000,
				   &why), V3_REQ_FILE_HEAD_MAX + 16);
	file_msg(0xfffffff0u, V3_FILE_MAX + 1, 1, 2, "big", 16);
	CHECK_EQ_INT(v3_req_decode(&r, msg, V3_REQ_FILE_HEAD_MAX + 16, 1000,
				   &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_CONTENT_SIZE);
}

TEST(req_file_streaming_head)
{
	struct v3_req r, p;
	uint8_t out[V3_REQ_FILE_HEAD_MAX];
	enum v3_reason why;

	file_msg(0x100010u, 0x100000u, 2, 17, "var_log_big.log", 0);
	test_put_le32(msg + 19, V3_FILE_HEAD_SIZE + 65536); /* the slice follows */
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, V3_PAYLOAD_CAP_DEFAULT,
				      &why), 0);
	CHECK_EQ_INT(v3_req_file_head_parse(&r, msg + 23, 266, &why), -EINVAL);
	CHECK_EQ_INT(v3_req_file_head_parse(&r, msg + 23, 267, &why), 0);
	CHECK(r.data == NULL);
	CHECK_EQ_INT(r.data_len, 65536);
	CHECK_EQ_INT(r.packet, 2);
	CHECK_EQ_STR(r.name, "var_log_big.log");
	p = r;
	CHECK_EQ_INT(v3_req_pack_head(out, sizeof out, &p, &why),
		     V3_REQ_FILE_HEAD_MAX);
	CHECK_EQ_MEM(out, msg, V3_REQ_FILE_HEAD_MAX);
	CHECK_EQ_INT(v3_req_pack_head(out, sizeof out - 1, &p, &why), -ENOSPC);
	/* pack of the whole message needs the slice */
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	/* misuse: file head of another code */
	test_v3_req_hdr(msg, id, 3, 1029, 255);
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why), 0);
	CHECK_EQ_INT(v3_req_file_head_parse(&r, msg + 23, 267, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_LENGTH);
}

TEST(req_decode_incomplete_and_payload_misuse)
{
	struct v3_req r;
	enum v3_reason why;
	size_t n = file_msg(32, 20, 1, 1, "x", 32);

	for (size_t len = 0; len < n; len += 7)
		CHECK_EQ_INT(v3_req_decode(&r, msg, len, 1000, &why), -EAGAIN);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n - 1, 1000, &why), -EAGAIN);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n + 100, 1000, &why), (int)n);
	/* a bad header is reported before the payload arrives */
	msg[16] = 4;
	CHECK_EQ_INT(v3_req_decode(&r, msg, 23, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	msg[16] = 3;
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why), 0);
	CHECK_EQ_INT(v3_req_payload_parse(&r, msg + 23, n - 24, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_LENGTH);
}

TEST(req_pack_no_partial_output)
{
	struct v3_req p;
	uint8_t out[300];
	enum v3_reason why;

	memset(&p, 0, sizeof p);
	p.code = V3_REQ_CRC_OK;
	strcpy(p.name, "a.txt");
	memset(out, 0xee, sizeof out);
	CHECK_EQ_INT(v3_req_pack(out, 277, &p, &why), -ENOSPC);
	CHECK_EQ_INT(out[0], 0xee);
	CHECK_EQ_INT(out[276], 0xee);
	CHECK_EQ_INT(v3_req_pack(out, 278, &p, &why), 278);
	p.code = 1032;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_CODE);
	p.code = V3_REQ_CRC_OK;
	strcpy(p.name, "../etc");
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_NAME_DOTDOT);
	memset(p.name, 'a', sizeof p.name); /* no NUL in the member */
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_NAME_TOO_LONG);
}

TEST_SUITE(v3_req, req_hdr_fields_little_endian, req_hdr_version_and_code,
	   req_hdr_cap_and_layout, req_name_requests_round_trip,
	   req_name_field_termination_and_padding, req_pubkey,
	   req_pubkey_der_structure,
	   req_file_single_packet, req_file_multi_packet_checks,
	   req_file_streaming_head, req_decode_incomplete_and_payload_misuse,
	   req_pack_no_partial_output)

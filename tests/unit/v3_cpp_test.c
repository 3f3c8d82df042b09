/*
 * v3_cpp_test.c — the original CyberBackup C++ client's forms in the v3
 * codec (docs/protocol/cyberbackup-v3.md, "The original C++ client"): its
 * 160-byte key in a 162-byte field, the IV block before its ciphertext
 * (told by length), per-packet content sizes.  Messages are built byte by
 * byte, not by the packer, as in v3_req_test.c.
 */
#include <errno.h>

#include "test.h"
#include "test_util.h"
#include "v3.h"

static uint8_t msg[1024];

/* Every request's client id: 16 bytes 0x42. */
static const uint8_t id42[V3_ID_SIZE] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42
};

static void req_hdr(uint32_t code, uint32_t size)
{
	test_v3_req_hdr(msg, id42, 3, code, size);
}

/* A 1026 whose 162-byte key field holds the 160-byte DER of an RSA-1024
 * key with e = 17 (RFC 5280/8017, as OpenSSL writes it) and then the
 * slack bytes s0, s1. */
static size_t slack_msg(uint8_t s0, uint8_t s1)
{
	static const uint8_t head[29] = {
		0x30, 0x81, 0x9d, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48,
		0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x81,
		0x8b, 0x00, 0x30, 0x81, 0x87, 0x02, 0x81, 0x81, 0x00
	};
	uint8_t *k = msg + 23 + 255;

	req_hdr(1026, 255 + 162);
	memset(msg + 23, 0, 255);
	memcpy(msg + 23, "cpp host", 8);
	memcpy(k, head, sizeof head);
	memset(k + 29, 0xc3, 128);      /* n: top bit set, 1024 bits */
	k[157] = 0x02;
	k[158] = 0x01;
	k[159] = 0x11;                  /* e = 17 */
	k[160] = s0;
	k[161] = s1;
	return 23 + 255 + 162;
}

/* A v3 1028 by hand; slice bytes are 0x5a. */
static size_t file_msg(uint32_t content, uint32_t orig, uint32_t packet,
		       uint32_t total, size_t slice_len)
{
	const struct test_v3_file f = { 3, content, orig, packet, total,
					"big file 3MB.bin", slice_len, 0x5a };

	return test_v3_file_req(msg, id42, &f);
}

TEST(cpp_key_with_slack)
{
	struct v3_req r, again;
	uint8_t out[V3_REQ_SMALL_MAX];
	enum v3_reason why;
	size_t n = slack_msg(0xde, 0xad);

	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), (int)n);
	CHECK_EQ_INT(r.key_len, 160);
	CHECK_EQ_INT(r.key_slack, 2);
	CHECK(r.key == msg + 23 + 255);
	/* packs back to the same field, slack as zeros */
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &r, &why), (int)n);
	CHECK_EQ_MEM(out, msg, n - 2);
	CHECK(out[n - 2] == 0 && out[n - 1] == 0);
	CHECK_EQ_INT(v3_req_decode(&again, out, n, 1000, &why), (int)n);
	CHECK_EQ_INT(again.key_slack, 2);
	/* the slack's contents do not matter */
	n = slack_msg(0, 0);
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), (int)n);
	/* a 160-byte key inside is checked as any 160-byte key */
	msg[23 + 255 + 159] = 0x10;     /* e = 16: even */
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_KEY_FORMAT);
	/* a field whose DER says another length is no key with slack */
	n = slack_msg(0, 0);
	msg[23 + 255 + 2] = 0x9e;
	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_KEY_FORMAT);
}

TEST(cpp_key_slack_pack_rules)
{
	struct v3_req r;
	uint8_t out[V3_REQ_SMALL_MAX];
	enum v3_reason why;
	size_t n = slack_msg(1, 2);

	CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), (int)n);
	r.key_slack = 1;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &r, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_KEY_SIZE);
	r.key_slack = 2;
	CHECK_EQ_INT(v3_req_pack(out, n - 1, &r, &why), -ENOSPC);
	r.key_slack = 0;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &r, &why), (int)n - 2);
}

TEST(cpp_iv_block_by_length)
{
	/* 100 bytes: padded 112, with the IV block 128 */
	CHECK_EQ_INT(v3_cbc_iv_block(100, 112), 0);
	CHECK_EQ_INT(v3_cbc_iv_block(100, 128), 1);
	CHECK_EQ_INT(v3_cbc_iv_block(100, 96), -EBADMSG);
	CHECK_EQ_INT(v3_cbc_iv_block(100, 120), -EBADMSG);
	CHECK_EQ_INT(v3_cbc_iv_block(100, 144), -EBADMSG);
	CHECK_EQ_INT(v3_cbc_iv_block(0, 16), 0);
	CHECK_EQ_INT(v3_cbc_iv_block(0, 32), 1);
	/* the largest file: 2^32 - 16 padded; 16 more does not fit a u32 */
	CHECK_EQ_INT(v3_cbc_iv_block(V3_FILE_MAX, 0xfffffff0u), 0);
	CHECK_EQ_INT(v3_cbc_iv_block(V3_FILE_MAX, 0x100000000ull), -EBADMSG);
	CHECK_EQ_INT(v3_cbc_iv_block(V3_FILE_MAX - 16, 0xfffffff0u), 1);
	CHECK_EQ_INT(v3_cbc_iv_block(V3_FILE_MAX + 1, 0xfffffff0u), -EBADMSG);
}

TEST(cpp_file_sizes)
{
	struct v3_req r;
	enum v3_reason why;
	static const struct {
		uint32_t content, orig, packet, total;
		size_t slice;
		enum v3_reason why;
	} cases[] = {
		{ 128, 100, 1, 1, 128, V3_OK },        /* IV block, one packet */
		{ 112, 100, 1, 1, 112, V3_OK },        /* today's */
		{ 144, 100, 1, 1, 144, V3_E_CONTENT_SIZE },
		{ 120, 100, 1, 1, 120, V3_E_CONTENT_SIZE },
		{ 128, 100, 1, 2, 100, V3_OK },        /* whole size with IV */
		{ 48, 100, 1, 3, 48, V3_OK },          /* per packet */
		{ 32, 100, 3, 3, 32, V3_OK },
		{ 128, 100, 1, 2, 128, V3_OK },        /* per packet, all of it */
		{ 129, 100, 1, 2, 129, V3_E_CONTENT_SIZE }, /* > 16 + padded */
		{ 48, 100, 1, 3, 47, V3_E_CONTENT_SIZE },   /* neither */
		{ 1, 100, 2, 129, 1, V3_E_PACKET_TOTAL },   /* > 128 packets */
		{ 1, 100, 2, 128, 1, V3_OK },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = file_msg(cases[i].content, cases[i].orig,
				    cases[i].packet, cases[i].total,
				    cases[i].slice);
		int want = cases[i].why == V3_OK ? (int)n : -EBADMSG;

		CHECK_EQ_INT(v3_req_decode(&r, msg, n, 1000, &why), want);
		CHECK_EQ_INT(why, cases[i].why);
	}
}

/* A parsed 1028 of the transfer below. */
static struct v3_req pkt(uint32_t content, uint16_t packet, uint16_t total,
			 size_t slice)
{
	struct v3_req r;
	enum v3_reason why;
	size_t n = file_msg(content, 100, packet, total, slice);

	memset(&r, 0, sizeof r);
	if (v3_req_decode(&r, msg, n, 1000, &why) != (int)n)
		test_fail(__FILE__, __LINE__, "packet %u: %s", packet,
			  v3_reason_str(why));
	return r;
}

TEST(cpp_rx_per_packet)
{
	struct v3_file_rx rx;
	struct v3_req r;
	enum v3_reason why;

	/* the C++ client: IV block, 48 + 48 + 32 = 16 + 112 */
	v3_file_rx_reset(&rx);
	r = pkt(48, 1, 3, 48);
	CHECK_EQ_INT(v3_file_per_packet(&r), 1);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(48, 2, 3, 48);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(32, 3, 3, 32);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 1);
	CHECK_EQ_INT(rx.next, 0);
	CHECK_EQ_INT(rx.received, 128);
	CHECK_EQ_INT(rx.iv_block, 1);
	/* per packet without the IV block: 48 + 48 + 16 = 112 */
	r = pkt(48, 1, 3, 48);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(48, 2, 3, 48);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(16, 3, 3, 16);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 1);
	CHECK_EQ_INT(rx.iv_block, 0);
	/* neither length at the last packet: 48 + 48 + 24 */
	r = pkt(48, 1, 3, 48);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(48, 2, 3, 48);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(24, 3, 3, 24);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SLICE_SIZE);
	CHECK_EQ_INT(rx.next, 0);
	/* past 16 + padded before the last packet */
	r = pkt(100, 1, 3, 100);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(29, 2, 3, 29);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SLICE_SIZE);
}

TEST(cpp_rx_forms_do_not_mix)
{
	struct v3_file_rx rx;
	struct v3_req r;
	enum v3_reason why;

	/* per packet, then a packet with the whole size */
	v3_file_rx_reset(&rx);
	r = pkt(64, 1, 2, 64);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(128, 2, 2, 64);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_MISMATCH);
	/* the whole size, then a packet carrying its own length */
	r = pkt(128, 1, 2, 64);
	CHECK_EQ_INT(v3_file_per_packet(&r), 0);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(64, 2, 2, 64);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_MISMATCH);
	/* the whole size with the IV block: told by length at the end */
	r = pkt(128, 1, 2, 64);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(128, 2, 2, 64);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 1);
	CHECK_EQ_INT(rx.iv_block, 1);
	CHECK_EQ_INT(rx.received, 128);
}

TEST_SUITE(v3_cpp, cpp_key_with_slack, cpp_key_slack_pack_rules,
	   cpp_iv_block_by_length, cpp_file_sizes, cpp_rx_per_packet,
	   cpp_rx_forms_do_not_mix)

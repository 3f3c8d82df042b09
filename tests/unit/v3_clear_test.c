/*
 * v3_clear_test.c — the vigil/2 extension in the v3 codec (protocol/v3*.c):
 * version-4 requests are refused unless the caller allows them, and their
 * 1028s carry the plaintext (content size = original size, an empty file
 * is one empty packet).  Messages are built byte by byte, not by the
 * packer, as in v3_req_test.c.
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

static void req_hdr(uint8_t version, uint32_t code, uint32_t size)
{
	test_v3_req_hdr(msg, id42, version, code, size);
}

/* A 1028 of the given version by hand; slice bytes are 0x3c. */
static size_t file_msg(uint8_t version, uint32_t content, uint32_t orig,
		       uint32_t packet, uint32_t total, size_t slice_len)
{
	const struct test_v3_file f = { version, content, orig, packet, total,
					"etc_app.conf", slice_len, 0x3c };

	return test_v3_file_req(msg, id42, &f);
}

TEST(clear_version_needs_the_flag)
{
	struct v3_req r;
	enum v3_reason why;

	req_hdr(4, 1025, 255);
	/* the old call and a caller without the flag: pure v3 */
	CHECK_EQ_INT(v3_req_hdr_parse(&r, msg, 23, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	CHECK_EQ_INT(r.version, 4); /* filled for the log line */
	CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000, 0, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000, V3_PARSE_CLEAR,
					  &why), 0);
	CHECK_EQ_INT(r.version, V3_VERSION_CLEAR);
	/* the flag adds 4 only: 3 still passes, 2 and 5 do not */
	msg[16] = 3;
	CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000, V3_PARSE_CLEAR,
					  &why), 0);
	CHECK_EQ_INT(r.version, 3);
	for (unsigned v = 0; v < 256; v++) {
		if (v == 3 || v == 4)
			continue;
		msg[16] = (uint8_t)v;
		CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000,
						  V3_PARSE_CLEAR, &why),
			     -EBADMSG);
		CHECK_EQ_INT(why, V3_E_VERSION);
	}
	/* decode: the same rule */
	req_hdr(4, 1029, 255);
	memset(msg + 23, 0, 255);
	memcpy(msg + 23, "a.txt", 5);
	CHECK_EQ_INT(v3_req_decode(&r, msg, 278, 1000, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	CHECK_EQ_INT(v3_req_decode_ext(&r, msg, 278, 1000, V3_PARSE_CLEAR,
				       &why), 278);
	CHECK_EQ_STR(r.name, "a.txt");
}

TEST(clear_file_sizes)
{
	struct v3_req r;
	enum v3_reason why;
	static const struct {
		uint8_t version;
		uint32_t content, orig, packet, total;
		size_t slice;
		enum v3_reason why;
	} cases[] = {
		{ 4, 50, 50, 1, 1, 50, V3_OK },
		{ 4, 64, 50, 1, 1, 64, V3_E_CONTENT_SIZE }, /* the CBC size */
		{ 3, 50, 50, 1, 1, 50, V3_E_CONTENT_SIZE }, /* v3 needs CBC */
		{ 4, 50, 50, 1, 1, 49, V3_E_SLICE_SIZE },   /* one packet: all */
		{ 4, 50, 50, 1, 2, 32, V3_OK },
		{ 4, 50, 50, 2, 2, 18, V3_OK },
		{ 4, 50, 50, 2, 2, 51, V3_E_SLICE_SIZE },
		{ 4, 50, 50, 1, 51, 1, V3_E_PACKET_TOTAL },
		{ 4, 1, 1, 1, 1, 1, V3_OK },
		{ 4, 0xffffffffu, 0xffffffffu, 1, 2, 16, V3_OK }, /* u32 max */
		/* the empty file: one packet, nothing after the fixed part */
		{ 4, 0, 0, 1, 1, 0, V3_OK },
		{ 4, 0, 0, 1, 2, 0, V3_E_PACKET_TOTAL },
		{ 4, 0, 0, 1, 1, 1, V3_E_SLICE_SIZE },
		{ 4, 16, 0, 1, 1, 16, V3_E_CONTENT_SIZE },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = file_msg(cases[i].version, cases[i].content,
				    cases[i].orig, cases[i].packet,
				    cases[i].total, cases[i].slice);
		int want = cases[i].why == V3_OK ? (int)n : -EBADMSG;

		CHECK_EQ_INT(v3_req_decode_ext(&r, msg, n, 1000,
					       V3_PARSE_CLEAR, &why), want);
		CHECK_EQ_INT(why, cases[i].why);
	}
	/* v3 keeps its layout: a 1028 with no slice byte is refused at the
	 * header, before the fixed part is read */
	file_msg(3, 16, 0, 1, 1, 0);
	CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000, V3_PARSE_CLEAR,
					  &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	file_msg(4, 0, 0, 1, 1, 0);
	CHECK_EQ_INT(v3_req_hdr_parse_ext(&r, msg, 23, 1000, V3_PARSE_CLEAR,
					  &why), 0);
	CHECK_EQ_INT(v3_req_file_head_parse(&r, msg + 23, 267, &why), 0);
	CHECK_EQ_INT(r.data_len, 0);
}

TEST(clear_pack_round_trip)
{
	static uint8_t out[V3_REQ_FILE_HEAD_MAX + 64];
	static const uint8_t slice[18] = "plain text, as is";
	struct v3_req p, r;
	enum v3_reason why;
	size_t n = file_msg(4, 50, 50, 2, 2, 18);

	memcpy(msg + V3_REQ_FILE_HEAD_MAX, slice, sizeof slice);
	memset(&p, 0, sizeof p);
	memset(p.client_id, 0x42, V3_ID_SIZE);
	p.version = V3_VERSION_CLEAR;
	p.code = V3_REQ_FILE;
	strcpy(p.name, "etc_app.conf");
	p.content_size = 50;
	p.orig_size = 50;
	p.packet = 2;
	p.total = 2;
	p.data = slice;
	p.data_len = sizeof slice;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), (int)n);
	CHECK_EQ_MEM(out, msg, n);
	CHECK_EQ_INT(v3_req_decode_ext(&r, out, n, 1000, V3_PARSE_CLEAR,
				       &why), (int)n);
	CHECK_EQ_INT(r.version, V3_VERSION_CLEAR);
	CHECK_EQ_MEM(r.data, slice, sizeof slice);
	/* the same fields as v3 break the CBC rule: refused, not packed */
	p.version = V3_VERSION;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_CONTENT_SIZE);
	/* a version the codec does not know */
	p.version = 5;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_VERSION);
	/* the empty file: no slice, data may be NULL */
	n = file_msg(4, 0, 0, 1, 1, 0);
	p.version = V3_VERSION_CLEAR;
	p.content_size = p.orig_size = 0;
	p.packet = p.total = 1;
	p.data = NULL;
	p.data_len = 0;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), (int)n);
	CHECK_EQ_MEM(out, msg, n);
	CHECK_EQ_INT(v3_req_pack_head(out, sizeof out, &p, &why),
		     V3_REQ_FILE_HEAD_MAX);
	/* a zeroed version packs v3, as before the extension */
	memset(&p, 0, sizeof p);
	p.code = V3_REQ_CRC_OK;
	strcpy(p.name, "a.txt");
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), 278);
	CHECK_EQ_INT(out[16], 3);
	p.version = V3_VERSION_CLEAR;
	CHECK_EQ_INT(v3_req_pack(out, sizeof out, &p, &why), 278);
	CHECK_EQ_INT(out[16], 4);
}

TEST(clear_content_size)
{
	uint32_t c = 1;

	CHECK_EQ_INT(v3_content_size(1, 0, &c), 0);
	CHECK_EQ_INT(c, 0);
	CHECK_EQ_INT(v3_content_size(1, 100, &c), 0);
	CHECK_EQ_INT(c, 100);
	CHECK_EQ_INT(v3_content_size(1, 0xffffffffu, &c), 0);
	CHECK_EQ_INT(c, 0xffffffffu);
	CHECK_EQ_INT(v3_content_size(1, 1ull << 32, &c), -EMSGSIZE);
	CHECK_EQ_INT(v3_content_size(0, 100, &c), 0);
	CHECK_EQ_INT(c, 112);
	CHECK_EQ_INT(v3_content_size(0, (uint64_t)V3_FILE_MAX + 1, &c),
		     -EMSGSIZE);
}

TEST(clear_packet_plan)
{
	struct v3_req r;

	memset(&r, 0, sizeof r);
	r.version = V3_VERSION_CLEAR;
	CHECK_EQ_INT(v3_file_packet(&r, 0, 65536, 1), 0);
	CHECK_EQ_INT(r.content_size, 0);
	CHECK_EQ_INT(r.total, 1);
	CHECK_EQ_INT(r.data_len, 0);
	CHECK_EQ_INT(v3_file_packet(&r, 0, 65536, 2), -EINVAL);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 1), 0);
	CHECK_EQ_INT(r.content_size, 100);
	CHECK_EQ_INT(r.total, 2);
	CHECK_EQ_INT(r.data_len, 64);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 2), 0);
	CHECK_EQ_INT(r.data_len, 36);
	CHECK_EQ_INT(v3_file_packet(&r, 128, 64, 2), 0);
	CHECK_EQ_INT(r.total, 2); /* no padding block: no third packet */
	CHECK_EQ_INT(r.data_len, 64);
	CHECK_EQ_INT(v3_file_packet(&r, 0xffffffffu, 1u << 20, 4096), 0);
	CHECK_EQ_INT(r.data_len, (1u << 20) - 1);
	CHECK_EQ_INT(v3_file_packet(&r, 1ull << 32, 1u << 20, 1), -EMSGSIZE);
}

/* Client plan -> pack_head -> server parse -> sequence check, clear. */
TEST(clear_client_to_server)
{
	static const uint64_t sizes[] = { 0, 1, 16, 4095, 4096, 4097, 10000 };
	static uint8_t wire[V3_REQ_FILE_HEAD_MAX];
	struct v3_file_rx rx;
	enum v3_reason why;

	v3_file_rx_reset(&rx);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct v3_req c, s;
		uint64_t sum = 0;
		uint16_t k = 1;
		int done = 0;

		memset(&c, 0, sizeof c);
		strcpy(c.name, "var_log_app.log");
		c.code = V3_REQ_FILE;
		c.version = V3_VERSION_CLEAR;
		do {
			REQUIRE(v3_file_packet(&c, sizes[i], 4096, k) == 0);
			CHECK_EQ_INT(v3_req_pack_head(wire, sizeof wire, &c, &why),
				     V3_REQ_FILE_HEAD_MAX);
			CHECK_EQ_INT(wire[16], 4);
			CHECK_EQ_INT(v3_req_hdr_parse_ext(&s, wire, 23,
							  V3_PAYLOAD_CAP_DEFAULT,
							  V3_PARSE_CLEAR, &why),
				     0);
			CHECK_EQ_INT(v3_req_file_head_parse(&s, wire + 23,
							    V3_FILE_HEAD_SIZE,
							    &why), 0);
			sum += s.data_len;
			done = v3_file_rx_packet(&rx, &s, &why);
			CHECK_EQ_INT(done, k == c.total ? 1 : 0);
			k++;
		} while (done == 0);
		CHECK_EQ_INT(sum, sizes[i]);
		CHECK_EQ_INT(rx.next, 0);
	}
}

TEST(clear_rx_version_mismatch)
{
	struct v3_file_rx rx;
	struct v3_req r;
	enum v3_reason why;

	v3_file_rx_reset(&rx);
	memset(&r, 0, sizeof r);
	r.code = V3_REQ_FILE;
	r.version = V3_VERSION_CLEAR;
	strcpy(r.name, "f");
	r.content_size = r.orig_size = 100;
	r.packet = 1;
	r.total = 2;
	r.data_len = 64;
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	/* packet 2 of the same transfer may not switch to CBC */
	r.version = V3_VERSION;
	r.packet = 2;
	r.data_len = 36;
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_MISMATCH);
	CHECK_EQ_INT(rx.next, 0);
}

TEST_SUITE(v3_clear, clear_version_needs_the_flag, clear_file_sizes,
	   clear_pack_round_trip, clear_content_size, clear_packet_plan,
	   clear_client_to_server, clear_rx_version_mismatch)

/*
 * v3_file_test.c — 1028 transfers (protocol/v3_file.c): the client's
 * packet plan, packed with v3_req_pack_head and parsed back as a server
 * does (header, fixed part, then the slice streamed), and the server's
 * sequence check with every reason it gives.
 */
#include <errno.h>

#include "test.h"
#include "v3.h"

/* A parsed 1028 as the sequence check sees it. */
static struct v3_req pkt(uint16_t packet, uint16_t total, uint32_t orig,
			 size_t slice, const char *name)
{
	struct v3_req r;

	memset(&r, 0, sizeof r);
	r.code = V3_REQ_FILE;
	r.packet = packet;
	r.total = total;
	r.orig_size = orig;
	r.content_size = (orig / 16 + 1) * 16;
	r.data_len = slice;
	strcpy(r.name, name);
	return r;
}

TEST(file_packet_plan)
{
	struct v3_req r;

	memset(&r, 0, sizeof r);
	CHECK_EQ_INT(v3_file_packet(&r, 0, 65536, 1), 0);
	CHECK_EQ_INT(r.content_size, 16); /* an empty file is one pad block */
	CHECK_EQ_INT(r.total, 1);
	CHECK_EQ_INT(r.data_len, 16);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 1), 0);
	CHECK_EQ_INT(r.content_size, 112);
	CHECK_EQ_INT(r.orig_size, 100);
	CHECK_EQ_INT(r.total, 2);
	CHECK_EQ_INT(r.data_len, 64);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 2), 0);
	CHECK_EQ_INT(r.packet, 2);
	CHECK_EQ_INT(r.data_len, 48);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 3), -EINVAL);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 64, 0), -EINVAL);
	CHECK_EQ_INT(v3_file_packet(&r, 100, 0, 1), -EINVAL);
	/* 112 = 7 * 16: slices of 16 end exactly */
	CHECK_EQ_INT(v3_file_packet(&r, 100, 16, 7), 0);
	CHECK_EQ_INT(r.total, 7);
	CHECK_EQ_INT(r.data_len, 16);
	/* the largest file, in the smallest slices that fit 65535 packets */
	CHECK_EQ_INT(v3_file_packet(&r, V3_FILE_MAX, 65537, 65535), 0);
	CHECK_EQ_INT(r.content_size, 0xfffffff0u);
	CHECK_EQ_INT(r.total, 65535);
	CHECK_EQ_INT(r.data_len, 0xfffffff0u - 65534ull * 65537u);
	CHECK_EQ_INT(v3_file_packet(&r, V3_FILE_MAX, 65536, 1), -EMSGSIZE);
	CHECK_EQ_INT(v3_file_packet(&r, (uint64_t)V3_FILE_MAX + 1, 1u << 20, 1),
		     -EMSGSIZE);
	CHECK_EQ_INT(v3_file_packet(&r, 1ull << 32, 1u << 20, 1), -EMSGSIZE);
}

/* Client plan -> pack_head -> server parse -> sequence check, packet by
 * packet, for files around slice boundaries. */
TEST(file_client_to_server)
{
	static const uint64_t sizes[] = { 0, 15, 16, 4079, 4080, 4096, 100000 };
	static uint8_t wire[V3_REQ_FILE_HEAD_MAX + 4096];
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
		do {
			REQUIRE(v3_file_packet(&c, sizes[i], 4096, k) == 0);
			/* the slice is written in place after the head */
			memset(wire + V3_REQ_FILE_HEAD_MAX, 0x5c, c.data_len);
			CHECK_EQ_INT(v3_req_pack_head(wire, sizeof wire, &c, &why),
				     V3_REQ_FILE_HEAD_MAX);
			CHECK_EQ_INT(v3_req_hdr_parse(&s, wire, V3_REQ_HDR_SIZE,
						      V3_PAYLOAD_CAP_DEFAULT,
						      &why), 0);
			CHECK_EQ_INT(v3_req_file_head_parse(&s, wire + 23,
							    V3_FILE_HEAD_SIZE,
							    &why), 0);
			CHECK_EQ_INT(s.data_len, c.data_len);
			sum += s.data_len;
			done = v3_file_rx_packet(&rx, &s, &why);
			CHECK_EQ_INT(done, k == c.total ? 1 : 0);
			k++;
		} while (done == 0);
		CHECK_EQ_INT(sum, (sizes[i] / 16 + 1) * 16);
		CHECK_EQ_INT(rx.next, 0); /* closed: ready for the next file */
	}
}

TEST(file_rx_order)
{
	struct v3_file_rx rx;
	struct v3_req r;
	enum v3_reason why;

	v3_file_rx_reset(&rx);
	r = pkt(2, 3, 40, 16, "f"); /* no packet 1 */
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_ORDER);
	r = pkt(1, 3, 40, 16, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	CHECK_EQ_INT(why, V3_OK);
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG); /* again */
	CHECK_EQ_INT(why, V3_E_PACKET_ORDER);
	CHECK_EQ_INT(rx.next, 0); /* an error drops the transfer */
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(3, 3, 40, 16, "f"); /* skips 2 */
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_ORDER);
	r = pkt(0, 3, 40, 16, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_PACKET_ORDER);
	/* one packet: complete at once */
	r = pkt(1, 1, 40, 48, "g");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 1);
	r.code = V3_REQ_CRC_OK;
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_LENGTH);
}

TEST(file_rx_mismatch_and_sizes)
{
	static const struct {
		uint16_t total;
		uint32_t orig;
		const char *name;
		size_t slice;     /* of packet 2 */
		enum v3_reason why;
	} cases[] = {
		{ 3, 40, "f", 16, V3_OK },
		{ 4, 40, "f", 16, V3_E_PACKET_MISMATCH },
		{ 3, 50, "f", 16, V3_E_PACKET_MISMATCH }, /* 50 -> 64 */
		{ 3, 40, "F", 16, V3_E_PACKET_MISMATCH },
		{ 3, 40, "f2", 16, V3_E_PACKET_MISMATCH },
		{ 3, 40, "f", 32, V3_E_SLICE_SIZE },      /* nothing left */
		{ 3, 40, "f", 33, V3_E_SLICE_SIZE },      /* past the end */
	};
	struct v3_file_rx rx;
	struct v3_req r;
	enum v3_reason why;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v3_file_rx_reset(&rx);
		r = pkt(1, 3, 40, 16, "f");   /* content 48 */
		CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
		r = pkt(2, cases[i].total, cases[i].orig, cases[i].slice,
			cases[i].name);
		CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why),
			     cases[i].why == V3_OK ? 0 : -EBADMSG);
		CHECK_EQ_INT(why, cases[i].why);
	}
	/* the last packet must complete the content exactly */
	v3_file_rx_reset(&rx);
	r = pkt(1, 2, 40, 16, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(2, 2, 40, 31, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SLICE_SIZE);
	r = pkt(1, 2, 40, 16, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 0);
	r = pkt(2, 2, 40, 32, "f");
	CHECK_EQ_INT(v3_file_rx_packet(&rx, &r, &why), 1);
	CHECK_EQ_INT(rx.next, 0);
}

TEST_SUITE(v3_file, file_packet_plan, file_client_to_server, file_rx_order,
	   file_rx_mismatch_and_sizes)

/*
 * v3_resp_test.c — CyberBackup v3 responses (protocol/v3_resp.c): every
 * code built by hand parses and packs back to the same bytes; version,
 * code, layout and key-size checks at their boundaries.
 */
#include <errno.h>

#include "test.h"
#include "test_util.h"
#include "v3.h"

static const uint8_t uuid[V3_ID_SIZE] = {
	0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c
};

static uint8_t buf[512];

static void resp_hdr(uint8_t version, uint32_t code, uint32_t size)
{
	buf[0] = version;
	buf[1] = (uint8_t)(code & 0xff);
	buf[2] = (uint8_t)(code >> 8);
	test_put_le32(buf + 3, size);
}

/* Payload size of each response code, from the protocol document. */
static uint32_t doc_size(uint32_t code)
{
	switch (code) {
	case 1601: case 1607: return 0;
	case 1602: case 1605: return 16 + 128;
	case 1603: return 16 + 4 + 255 + 4;
	default: return 16;
	}
}

TEST(resp_every_code_round_trip)
{
	for (uint32_t c = 1600; c <= 1607; c++) {
		struct v3_resp r;
		uint8_t out[V3_RESP_MAX];
		enum v3_reason why;
		uint32_t size = doc_size(c);

		memset(buf, 0, sizeof buf);
		resp_hdr(3, c, size);
		if (size >= 16)
			memcpy(buf + 7, uuid, 16);
		if (size == 144)
			memset(buf + 7 + 16, 0x5a, 128);
		if (c == 1603) {
			test_put_le32(buf + 7 + 16, 0x1234);
			memcpy(buf + 7 + 20, "var_lib_app_data.db", 19);
			test_put_le32(buf + 7 + 275, 930766865u);
		}
		CHECK_EQ_INT(v3_resp_decode(&r, buf, 7 + size, &why),
			     (int)(7 + size));
		CHECK_EQ_INT(why, V3_OK);
		CHECK_EQ_INT(r.code, c);
		if (size >= 16)
			CHECK_EQ_MEM(r.client_id, uuid, 16);
		if (size == 144) {
			CHECK(r.key == buf + 7 + 16);
			CHECK_EQ_INT(r.key_len, 128);
		}
		if (c == 1603) {
			CHECK_EQ_INT(r.content_size, 0x1234);
			CHECK_EQ_STR(r.name, "var_lib_app_data.db");
			CHECK_EQ_INT(r.cksum, 930766865u);
		}
		CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why),
			     (int)(7 + size));
		CHECK_EQ_MEM(out, buf, 7 + size);
		CHECK_EQ_INT(v3_resp_pack(out, 6 + size, &r, &why), -ENOSPC);
		CHECK_EQ_INT(why, V3_E_LENGTH);
	}
}

TEST(resp_hdr_checks)
{
	struct v3_resp r;
	enum v3_reason why;

	resp_hdr(2, 1604, 16);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	CHECK_EQ_INT(r.code, 1604);
	resp_hdr(3, 1608, 0);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_CODE);
	resp_hdr(3, 1599, 0);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	resp_hdr(3, 1025, 255);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_CODE);
	resp_hdr(3, 1607, 1);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	CHECK_EQ_INT(r.code, 1607); /* the client still knows it failed */
	resp_hdr(3, 1600, 15);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	resp_hdr(3, 1603, 278);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	resp_hdr(3, 1603, 280);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 6, &why), -EINVAL);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 8, &why), -EINVAL);
}

TEST(resp_key_sizes)
{
	struct v3_resp r;
	enum v3_reason why;
	static const uint32_t sizes[] = { 16, 16 + 127, 16 + 129, 16 + 256,
					  0xffffffffu };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		resp_hdr(3, 1602, sizes[i]);
		CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
		CHECK_EQ_INT(why, V3_E_KEY_SIZE);
	}
	resp_hdr(3, 1605, 15);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	resp_hdr(3, 1605, 144);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), 0);
}

TEST(resp_crc_name_unterminated)
{
	struct v3_resp r;
	enum v3_reason why;

	resp_hdr(3, 1603, 279);
	memset(buf + 7, 'n', 279);
	CHECK_EQ_INT(v3_resp_decode(&r, buf, 7 + 279, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_UNTERMINATED);
	buf[7 + 20 + 254] = 0;
	CHECK_EQ_INT(v3_resp_decode(&r, buf, 7 + 279, &why), 7 + 279);
	CHECK_EQ_INT(strlen(r.name), 254);
}

TEST(resp_decode_incomplete_and_misuse)
{
	struct v3_resp r;
	enum v3_reason why;

	resp_hdr(3, 1604, 16);
	for (size_t len = 0; len < 23; len++)
		CHECK_EQ_INT(v3_resp_decode(&r, buf, len, &why), -EAGAIN);
	CHECK_EQ_INT(v3_resp_decode(&r, buf, 23, &why), 23);
	CHECK_EQ_INT(v3_resp_hdr_parse(&r, buf, 7, &why), 0);
	CHECK_EQ_INT(v3_resp_payload_parse(&r, buf + 7, 15, &why), -EINVAL);
	r.code = 1025;
	CHECK_EQ_INT(v3_resp_payload_parse(&r, buf + 7, 16, &why), -EINVAL);
}

TEST(resp_pack_misuse)
{
	struct v3_resp r;
	uint8_t out[V3_RESP_MAX];
	enum v3_reason why;

	memset(&r, 0, sizeof r);
	r.code = 1602;
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_KEY_SIZE);
	r.key = buf;
	r.key_len = 127;
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), -EINVAL);
	r.key_len = 128;
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), 7 + 144);
	r.code = 1608;
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_CODE);
	r.code = 1603;
	memset(r.name, 'x', sizeof r.name);
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), -EINVAL);
	r.code = 1607;
	CHECK_EQ_INT(v3_resp_pack(out, sizeof out, &r, &why), 7);
	CHECK_EQ_INT(out[0], 3);
	CHECK_EQ_INT(out[1], 0x47); /* 1607 = 0x0647 */
	CHECK_EQ_INT(out[2], 0x06);
	CHECK_EQ_INT(out[3] | out[4] | out[5] | out[6], 0);
	CHECK_EQ_INT(v3_resp_pack(out, 6, &r, &why), -ENOSPC);
}

TEST_SUITE(v3_resp, resp_every_code_round_trip, resp_hdr_checks,
	   resp_key_sizes, resp_crc_name_unterminated,
	   resp_decode_incomplete_and_misuse, resp_pack_misuse)

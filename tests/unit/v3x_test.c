/*
 * v3x_test.c — the vigil/2 extension messages (protocol/v3x.c): each
 * layout byte by byte from docs/protocol/cyberbackup-v3.md ("Extension:
 * restore"), pack/parse round trips, and every refusal at its boundary.
 */
#include <errno.h>

#include "test.h"
#include "v3x.h"

static uint8_t buf[V3_RESP_HDR_SIZE + V3X_DATA_HEAD + 64];

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void req_hdr(uint8_t *p, uint8_t version, uint16_t code, uint32_t size)
{
	memset(p, 0, V3_REQ_HDR_SIZE);
	p[16] = version;
	p[17] = (uint8_t)(code & 0xff);
	p[18] = (uint8_t)(code >> 8);
	put32(p + 19, size);
}

TEST(v3x_list_request_layout)
{
	uint8_t m[V3X_REQ_MAX];
	struct v3x_msg x;
	enum v3_reason why;

	req_hdr(m, 4, 1041, 271);
	put64(m + 23, 7);
	put64(m + 31, 99);
	memset(m + 39, 0, 255);
	memcpy(m + 39, "board-1", 7);
	CHECK(v3x_req_is_ext(m));
	CHECK_EQ_INT(v3x_req_decode(&x, m, 23 + 271, &why), 23 + 271);
	CHECK_EQ_INT(x.code, V3X_REQ_LIST);
	CHECK(x.snapshot == 7 && x.after == 99);
	CHECK_EQ_STR(x.name, "board-1");
	CHECK_EQ_INT(v3x_req_pack(buf, sizeof buf, &x, &why), -ENOSPC);
	{
		uint8_t o[V3X_REQ_MAX];

		CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), 23 + 271);
		CHECK_EQ_MEM(o, m, 23 + 271);
	}
	/* one byte short: more needed; version 3: not ours */
	CHECK_EQ_INT(v3x_req_decode(&x, m, 23 + 270, &why), -EAGAIN);
	m[16] = 3;
	CHECK(!v3x_req_is_ext(m));
	CHECK_EQ_INT(v3x_req_decode(&x, m, 23 + 271, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
	/* an empty device name */
	m[16] = 4;
	m[39] = 0;
	CHECK_EQ_INT(v3x_req_decode(&x, m, 23 + 271, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_EMPTY);
}

TEST(v3x_request_header_rules)
{
	uint8_t m[V3_REQ_HDR_SIZE];
	struct v3x_msg x;
	enum v3_reason why;

	req_hdr(m, 4, 1042, 4);
	CHECK(v3x_req_is_ext(m));
	CHECK_EQ_INT(v3x_req_hdr_parse(&x, m, 23, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_CODE);
	req_hdr(m, 4, 1040, 5);
	CHECK_EQ_INT(v3x_req_hdr_parse(&x, m, 23, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	req_hdr(m, 4, 1043, 279);
	CHECK_EQ_INT(v3x_req_hdr_parse(&x, m, 23, &why), 0);
	req_hdr(m, 4, 1028, 279);
	CHECK(!v3x_req_is_ext(m));
	CHECK_EQ_INT(v3x_req_hdr_parse(&x, m, 22, &why), -EINVAL);
}

TEST(v3x_read_request_ranges)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_READ;
	x.file_id = 3;
	x.version = 2;
	x.offset = 1u << 20;
	x.length = V3X_CHUNK_MAX;
	strcpy(x.name, "dev");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 279);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), 23 + 279);
	CHECK(y.file_id == 3 && y.version == 2 && y.offset == 1u << 20 &&
	      y.length == V3X_CHUNK_MAX);
	/* length 0 and chunk + 1 refused, on the wire too */
	put32(o + 23 + 20, V3X_CHUNK_MAX + 1);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	x.length = 0;
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_FIELD);
	x.length = 1;
	x.version = 0;
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
}

TEST(v3x_attr_request_rules)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_ATTR;
	x.mode = 0755;
	x.mtime_s = -5;   /* before 1970 is a time too */
	x.mtime_ns = 999999999;
	strcpy(x.name, "srv_a.txt");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 271);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), 23 + 271);
	CHECK(y.mode == 0755 && y.mtime_s == -5 && y.mtime_ns == 999999999);
	put32(o + 23 + 12, 1000000000);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	x.mode = 010000;
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	x.mode = 0644;
	strcpy(x.name, "a/b");
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_NAME_SEPARATOR);
}

TEST(v3x_entry_layout)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_ENTRY_MAX];
	enum v3_reason why;
	int n;

	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_ENTRY;
	x.file_id = 0x0102030405060708ull;
	x.version = 9;
	x.size = 5ull << 32;   /* over 4 GiB: the extension's sizes are u64 */
	x.mtime_s = 1700000000;
	x.mtime_ns = 5;
	x.mode = 0600;
	x.cksum = 0xdeadbeef;
	strcpy(x.name, "tmp_x");
	n = v3x_resp_pack(o, sizeof o, &x, &why);
	REQUIRE(n == 7 + 41 + 5);
	CHECK(o[0] == 4 && o[1] == (1641 & 0xff) && o[2] == (1641 >> 8));
	CHECK(o[3] == 46 && o[7] == 8 && o[14] == 1);
	CHECK(o[7 + 40] == 5);
	CHECK_EQ_MEM(o + 48, "tmp_x", 5);
	CHECK_EQ_INT(v3x_resp_decode(&y, o, (size_t)n, &why), n);
	CHECK(y.file_id == x.file_id && y.size == x.size && y.cksum == x.cksum);
	CHECK_EQ_STR(y.name, "tmp_x");
	/* the length byte disagrees with the payload */
	o[47] = 4;
	CHECK_EQ_INT(v3x_resp_decode(&y, o, (size_t)n, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	o[47] = 5;
	o[48] = '/';
	CHECK_EQ_INT(v3x_resp_decode(&y, o, (size_t)n, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_SEPARATOR);
	o[48] = 0;
	CHECK_EQ_INT(v3x_resp_decode(&y, o, (size_t)n, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_CONTROL);
}

TEST(v3x_data_head_only)
{
	struct v3x_msg x, y;
	enum v3_reason why;
	int n;

	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_DATA;
	x.file_id = 1;
	x.version = 1;
	x.offset = 100;
	x.data = (const uint8_t *)"0123456789";
	x.data_len = 10;
	n = v3x_resp_pack(buf, sizeof buf, &x, &why);
	REQUIRE(n == 7 + 20 + 10);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, (size_t)n, &why), n);
	CHECK(y.data_len == 10 && y.data == buf + 27 && y.offset == 100);
	/* the server's form: header and head, the data sent from elsewhere */
	x.data = NULL;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 27);
	CHECK(buf[3] == 30);
	REQUIRE(v3x_resp_hdr_parse(&y, buf, 7, &why) == 0);
	CHECK_EQ_INT(v3x_resp_payload_parse(&y, buf + 7, 20, &why), 0);
	CHECK(y.data == NULL && y.data_len == 10);
	x.data_len = V3X_CHUNK_MAX + 1;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), -EINVAL);
}

TEST(v3x_small_responses)
{
	struct v3x_msg x, y;
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_HELLO;
	x.caps = V3X_CAPS_KNOWN;
	x.chunk_max = 65536;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 15);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 15, &why), 15);
	CHECK(y.caps == V3X_CAPS_KNOWN && y.chunk_max == 65536);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_LIST_END;
	x.snapshot = 12;
	x.count = 3;
	x.more = 1;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 20);
	buf[7 + 12] = 2;
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 20, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_REFUSED;
	x.refused_code = V3X_REQ_LIST;
	x.error = V3X_ERR_DENIED;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 11);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 11, &why), 11);
	CHECK(y.refused_code == 1041 && y.error == V3X_ERR_DENIED);
	buf[9] = 0;
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 11, &why), -EBADMSG);
	/* a v3 response is not an extension one */
	buf[0] = 3;
	CHECK(!v3x_resp_is_ext(buf));
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 11, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_VERSION);
}

TEST(v3x_offset_query_and_answer)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_OFFSET;
	x.size = 200ull << 20;
	strcpy(x.name, "srv_big.bin");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 263);
	CHECK(o[17] == (1045 & 0xff) && o[19] == (263 & 0xff) && o[20] == 1);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), 23 + 263);
	CHECK(y.size == 200ull << 20);
	CHECK_EQ_STR(y.name, "srv_big.bin");
	o[23 + 7] = 0x80;       /* size over 2^63 - 1 */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_OFFSET;
	x.offset = 12345678;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 15);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 15, &why), 15);
	CHECK(y.code == V3X_RESP_OFFSET && y.offset == 12345678);
	buf[3] = 9;
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 16, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
}

TEST(v3x_have_query_and_answer)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_HAVE;
	x.size = 5ull << 30;    /* over the u32 of a 1028 */
	for (unsigned i = 0; i < V3X_SHA256_SIZE; i++)
		x.sha256[i] = (uint8_t)(0xa0 + i);
	x.mode = 0640;
	x.mtime_s = -2;         /* before 1970: two's complement */
	x.mtime_ns = 999999999;
	strcpy(x.name, "srv_a.txt");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 311);
	CHECK(o[16] == 4 && o[17] == (1046 & 0xff) && o[18] == 1046 >> 8);
	CHECK(o[19] == (311 & 0xff) && o[20] == 1);
	CHECK(o[23 + 3] == 0x40 && o[23 + 4] == 1 && o[23 + 8] == 0xa0 && o[23 + 39] == 0xbf);
	CHECK(o[23 + 40] == 0xa0 && o[23 + 41] == 1);          /* 0640 */
	CHECK(o[23 + 44] == 0xfe && o[23 + 51] == 0xff);
	CHECK(o[23 + 56] == 's' && o[23 + 56 + 9] == 0);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), 23 + 311);
	CHECK(y.size == 5ull << 30 && y.mode == 0640 && y.mtime_s == -2 &&
	      y.mtime_ns == 999999999);
	CHECK(memcmp(y.sha256, x.sha256, V3X_SHA256_SIZE) == 0);
	CHECK_EQ_STR(y.name, "srv_a.txt");
	o[23 + 52 + 3] = 0x3c;  /* mtime_ns 10^9 and more */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	o[23 + 55] = 0;
	o[23 + 41] = 0x10;      /* mode beyond 07777 */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	o[23 + 41] = 1;
	o[23 + 56] = '/';       /* not a v3 file name */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	o[20] = 2;              /* size 311 + 256 */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_HAVE;
	x.have = 1;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 8);
	CHECK(buf[0] == 4 && buf[1] == (1646 & 0xff) && buf[3] == 1 &&
	      buf[7] == 1);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 8, &why), 8);
	CHECK(y.code == V3X_RESP_HAVE && y.have == 1);
	buf[7] = 2;
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 8, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	x.have = 2;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), -EINVAL);
	buf[3] = 0;             /* payload size 0 */
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 7, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
}

TEST(v3x_segment_of_a_large_file)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_SEGMENT;
	x.size = (5ull << 30) + 3;      /* 5 GiB + 3: three 2 GiB segments */
	x.offset = 4ull << 30;
	x.length = (1u << 30) + 3;      /* the last one, to the end */
	strcpy(x.name, "srv_big.img");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 275);
	CHECK(o[17] == (1047 & 0xff) && o[19] == (275 & 0xff) && o[20] == 1);
	CHECK(o[23] == 3 && o[23 + 4] == 1 && o[23 + 12] == 1 &&
	      o[23 + 16] == 3 && o[23 + 19] == 0x40);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), 23 + 275);
	CHECK(y.size == x.size && y.offset == x.offset && y.length == x.length);
	CHECK_EQ_STR(y.name, "srv_big.img");
	/* one byte past the end */
	o[23 + 16] = 4;
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	/* length 0 */
	memset(o + 23 + 16, 0, 4);
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	/* the offset at the size */
	x.offset = x.size;
	x.length = 1;
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_FIELD);
	/* a whole file of u32 max in one segment is fine */
	x.size = 0xffffffffull;
	x.offset = 0;
	x.length = 0xffffffffu;
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), 23 + 275);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_SEGMENT;
	x.offset = 2ull << 31;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 15);
	CHECK(buf[1] == (1647 & 0xff) && buf[7 + 4] == 1);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 15, &why), 15);
	CHECK(y.code == V3X_RESP_SEGMENT && y.offset == 2ull << 31);
	buf[7 + 7] = 0x80;      /* over 2^63 - 1 */
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 15, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
}

/* 1048: 32 bytes, 1..32 of [0-9a-z-], zeros after; the limits both
 * ways on pack and parse. */
TEST(v3x_trace_request)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_TRACE;
	strcpy(x.name, "9f2c01d4a7b3e655");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 32);
	CHECK(o[16] == 4 && o[17] == (1048 & 0xff) && o[18] == 1048 >> 8);
	CHECK(o[19] == 32 && memcmp(o + 23, "9f2c01d4a7b3e655", 16) == 0);
	CHECK(o[23 + 16] == 0 && o[23 + 31] == 0);
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 32, &why), 23 + 32);
	CHECK_EQ_STR(y.name, "9f2c01d4a7b3e655");
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 31, &why), -EAGAIN);
	o[23 + 20] = 'x';       /* a byte after the NUL */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 32, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	memset(o + 23, 'a', 32);        /* 32 characters: the most */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 32, &why), 23 + 32);
	CHECK_EQ_INT((int)strlen(y.name), 32);
	memset(o + 23, 0, 32);          /* empty */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 32, &why), -EBADMSG);
	o[23] = 'A';                    /* not [0-9a-z-] */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 32, &why), -EBADMSG);
	o[19] = 33;                     /* not the layout's size */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	memset(x.name, 'b', 33);        /* too long to pack */
	x.name[33] = '\0';
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	strcpy(x.name, "a b");
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	x.name[0] = '\0';
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_FIELD);
}

/* 1049: a keep names a file and carries 0 sessions; a seal carries
 * 1.. sessions and a zero name field; 1648 answers both. */
TEST(v3x_snapshot_keep_and_seal)
{
	struct v3x_msg x, y;
	uint8_t o[V3X_REQ_MAX];
	enum v3_reason why;

	memset(&x, 0, sizeof x);
	x.code = V3X_REQ_SNAPSHOT;
	x.op = V3X_SNAP_KEEP;
	strcpy(x.name, "srv_locked.db");
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 260);
	CHECK(o[16] == 4 && o[17] == (1049 & 0xff) && o[18] == 1049 >> 8);
	CHECK(o[19] == (260 & 0xff) && o[20] == 1);
	CHECK(o[23] == 1 && o[24] == 0 && o[27] == 0 && o[28] == 's' &&
	      o[28 + 13] == 0);
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), 23 + 260);
	CHECK(y.op == V3X_SNAP_KEEP && y.sessions == 0);
	CHECK_EQ_STR(y.name, "srv_locked.db");
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 259, &why), -EAGAIN);
	o[24] = 1;              /* a keep with sessions */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	o[24] = 0;
	o[28] = '/';            /* not a v3 file name */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_SEPARATOR);
	x.op = V3X_SNAP_SEAL;   /* a seal names nothing */
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	CHECK_EQ_INT(why, V3_E_FIELD);
	x.name[0] = '\0';
	x.sessions = 0;         /* at least this session */
	CHECK_EQ_INT(v3x_req_pack(o, sizeof o, &x, &why), -EINVAL);
	x.sessions = 0x01020304;
	REQUIRE(v3x_req_pack(o, sizeof o, &x, &why) == 23 + 260);
	CHECK(o[23] == 2 && o[24] == 4 && o[27] == 1 && o[28] == 0 &&
	      o[23 + 259] == 0);
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), 23 + 260);
	CHECK(y.op == V3X_SNAP_SEAL && y.sessions == 0x01020304 &&
	      y.name[0] == '\0');
	o[23 + 259] = 'x';      /* a byte in the seal's name field */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	o[23 + 259] = 0;
	memset(o + 24, 0, 4);   /* a seal of 0 sessions */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	o[24] = 1;
	o[23] = 3;              /* no such op */
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	o[23] = 0;
	CHECK_EQ_INT(v3x_req_decode(&y, o, 23 + 260, &why), -EBADMSG);
	o[19] = (261 & 0xff);   /* not the layout's size */
	CHECK_EQ_INT(v3x_req_decode(&y, o, sizeof o, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
	memset(&x, 0, sizeof x);
	x.code = V3X_RESP_SNAPSHOT;
	x.snapshot = 0x1122334455ull;
	x.count = 70000;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), 19);
	CHECK(buf[0] == 4 && buf[1] == (1648 & 0xff) && buf[2] == 1648 >> 8 &&
	      buf[3] == 12);
	CHECK(buf[7] == 0x55 && buf[11] == 0x11 && buf[15] == (70000 & 0xff) &&
	      buf[17] == 1);
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 19, &why), 19);
	CHECK(y.snapshot == 0x1122334455ull && y.count == 70000);
	memset(buf + 7, 0, 8);  /* snapshot 0 */
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 19, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_FIELD);
	buf[14] = 0x80;         /* over 2^63 - 1 */
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 19, &why), -EBADMSG);
	x.snapshot = 0;
	CHECK_EQ_INT(v3x_resp_pack(buf, sizeof buf, &x, &why), -EINVAL);
	buf[3] = 13;
	CHECK_EQ_INT(v3x_resp_decode(&y, buf, 20, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_SIZE_LAYOUT);
}

TEST_SUITE(v3x, v3x_list_request_layout, v3x_request_header_rules,
	   v3x_read_request_ranges, v3x_attr_request_rules, v3x_entry_layout,
	   v3x_data_head_only, v3x_small_responses,
	   v3x_offset_query_and_answer, v3x_have_query_and_answer,
	   v3x_segment_of_a_large_file, v3x_trace_request,
	   v3x_snapshot_keep_and_seal);

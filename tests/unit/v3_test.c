/*
 * v3_test.c — protocol/v3.c: size helpers and reason texts (names are
 * in v3_name_test.c).
 */
#include <errno.h>

#include "test.h"
#include "v3.h"

TEST(cbc_size_and_packet_count)
{
	uint32_t c = 0;
	uint16_t t = 0;

	CHECK_EQ_INT(v3_cbc_size(0, &c), 0);
	CHECK_EQ_INT(c, 16);
	CHECK_EQ_INT(v3_cbc_size(15, &c), 0);
	CHECK_EQ_INT(c, 16);
	CHECK_EQ_INT(v3_cbc_size(16, &c), 0);
	CHECK_EQ_INT(c, 32);
	CHECK_EQ_INT(v3_cbc_size(V3_FILE_MAX, &c), 0);
	CHECK_EQ_INT(c, 0xfffffff0u);
	CHECK_EQ_INT(v3_cbc_size((uint64_t)V3_FILE_MAX + 1, &c), -EMSGSIZE);
	CHECK_EQ_INT(v3_cbc_size(1ull << 40, &c), -EMSGSIZE);
	CHECK_EQ_INT(v3_packet_count(16, 1, &t), 0);
	CHECK_EQ_INT(t, 16);
	CHECK_EQ_INT(v3_packet_count(100, 64, &t), 0);
	CHECK_EQ_INT(t, 2);
	CHECK_EQ_INT(v3_packet_count(128, 64, &t), 0);
	CHECK_EQ_INT(t, 2);
	CHECK_EQ_INT(v3_packet_count(65535, 1, &t), 0);
	CHECK_EQ_INT(t, 65535);
	CHECK_EQ_INT(v3_packet_count(65536, 1, &t), -EMSGSIZE);
	/* the largest file in 64 KiB slices is one packet too many */
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, 65536, &t), -EMSGSIZE);
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, 65537, &t), 0);
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, (size_t)-1, &t), 0);
	CHECK_EQ_INT(t, 1);
	CHECK_EQ_INT(v3_packet_count(0, 1, &t), -EINVAL);
	CHECK_EQ_INT(v3_packet_count(1, 0, &t), -EINVAL);
}

TEST(reason_texts_distinct)
{
	for (int i = 0; i < V3_REASON_COUNT; i++) {
		const char *a = v3_reason_str((enum v3_reason)i);

		CHECK(a != NULL && strcmp(a, "unknown reason") != 0);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(a, v3_reason_str((enum v3_reason)j)) != 0);
	}
	CHECK_EQ_STR(v3_reason_str(V3_REASON_COUNT), "unknown reason");
	CHECK_EQ_STR(v3_reason_str((enum v3_reason)-1), "unknown reason");
}

TEST_SUITE(v3, cbc_size_and_packet_count, reason_texts_distinct)

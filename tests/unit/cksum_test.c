/*
 * cksum_test.c — the POSIX cksum CRC: known answers taken from GNU
 * coreutils `cksum`, streaming at random split points, and the build's
 * cksum_crc (accelerated where the target has it) bit-identical to the
 * table code at every length 0..4096 and every alignment.
 */
#include "cksum.h"
#include "test.h"
#include "test_util.h"

/* The pattern the known answers were taken with:
 * byte i = (i * 31 + 7) & 0xff. */
static uint8_t pattern[1u << 20];

static void fill_pattern(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)((i * 31 + 7) & 0xff);
}

TEST(known_answers)
{
	const uint8_t digits[] = "123456789";

	CHECK_EQ_INT(cksum_buf(NULL, 0), CKSUM_EMPTY);
	CHECK_EQ_INT(cksum_buf(digits, 9), CKSUM_123456789);
	fill_pattern();
	/* `cksum` of the first N bytes of the pattern (GNU coreutils 9.1). */
	CHECK_EQ_INT(cksum_buf(pattern, 300), 3461723737u);
	CHECK_EQ_INT(cksum_buf(pattern, 1000), 4115853013u);
	CHECK_EQ_INT(cksum_buf(pattern, 65536), 655604513u);
	CHECK_EQ_INT(cksum_buf(pattern, sizeof pattern), 4049371399u);
}

TEST(final_does_not_consume)
{
	struct cksum_ctx c;
	const uint8_t digits[] = "123456789";

	cksum_init(&c);
	CHECK_EQ_INT(cksum_final(&c), CKSUM_EMPTY);
	cksum_update(&c, digits, 4);
	cksum_update(&c, NULL, 0);
	(void)cksum_final(&c); /* result unused: only its side effects matter */
	cksum_update(&c, digits + 4, 5);
	CHECK_EQ_INT(cksum_final(&c), CKSUM_123456789);
	CHECK_EQ_INT(cksum_final(&c), CKSUM_123456789);
	CHECK_EQ_INT(c.len, 9);
}

TEST(streaming_random_splits)
{
	static uint8_t buf[200000];
	uint32_t whole;

	test_fill_random(buf, sizeof buf, 0x1234567u);
	whole = cksum_buf(buf, sizeof buf);
	for (uint32_t round = 0; round < 50; round++) {
		struct cksum_ctx c;
		size_t off = 0;

		test_rand_seed(0xabcdefu + round);
		cksum_init(&c);
		while (off < sizeof buf) {
			/* mostly short pieces, sometimes long ones */
			size_t n = (test_rand() & 1) ? test_rand() % 64
						  : test_rand() % 20000;

			if (n > sizeof buf - off)
				n = sizeof buf - off;
			cksum_update(&c, buf + off, n);
			off += n;
		}
		CHECK_EQ_INT(cksum_final(&c), whole);
	}
}

TEST(accelerated_equals_table_every_length)
{
	static uint8_t buf[4096 + 16];
	unsigned bad = 0;

	test_fill_random(buf, sizeof buf, 0x5eed);
	for (size_t off = 0; off < 16; off++) {
		for (size_t len = 0; len + off <= sizeof buf && len <= 4096;
		     len++) {
			uint32_t seed = (uint32_t)(len * 2654435761u);

			if (cksum_crc(seed, buf + off, len) !=
			    cksum_crc_sw(seed, buf + off, len))
				bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
}

TEST(accelerated_equals_table_large)
{
	static uint8_t buf[(1u << 20) + 64];
	unsigned bad = 0;

	test_fill_random(buf, sizeof buf, 0xfeed);
	test_rand_seed(77);
	for (int i = 0; i < 40; i++) {
		size_t off = test_rand() % 64;
		size_t len = test_rand() % ((1u << 20) + 1);
		uint32_t seed = test_rand();

		if (cksum_crc(seed, buf + off, len) !=
		    cksum_crc_sw(seed, buf + off, len))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	/* all-ones and all-zero registers over all-0xff and zero data */
	for (size_t i = 0; i < 8192; i++)
		buf[i] = 0xff;
	CHECK_EQ_INT(cksum_crc(0xffffffffu, buf, 8192),
		     cksum_crc_sw(0xffffffffu, buf, 8192));
	for (size_t i = 0; i < 8192; i++)
		buf[i] = 0;
	CHECK_EQ_INT(cksum_crc(0, buf, 8192), 0);
}

TEST(length_bytes_are_minimal_lsb_first)
{
	/* 256 zero bytes: register stays 0, then the length 256 is fed as
	 * the two bytes 0x00 0x01. */
	static const uint8_t zeros[256];
	const uint8_t len_bytes[2] = { 0x00, 0x01 };

	CHECK_EQ_INT(cksum_buf(zeros, sizeof zeros),
		     (uint32_t)~cksum_crc_sw(0, len_bytes, 2));
}

TEST_SUITE(cksum, known_answers, final_does_not_consume,
	   streaming_random_splits, accelerated_equals_table_every_length,
	   accelerated_equals_table_large, length_bytes_are_minimal_lsb_first)

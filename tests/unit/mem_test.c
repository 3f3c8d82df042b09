/*
 * mem_test.c — mem_clear zeroes every byte, wherever the non-zero ones
 * are (first, middle and a partial last piece), and hal_mem_discard
 * leaves the whole pages zero and the bytes outside them alone.
 */
#include <stdint.h>
#include <string.h>

#include "hal/mem.h"
#include "mem.h"
#include "test.h"

/* page-aligned, so that discard_keeps_the_partial_pages can start its
 * range one byte into a page wherever the linker puts buf */
static unsigned char buf[3 * 4096 + 100] __attribute__((aligned(4096)));

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return 0;
	}
	return 1;
}

TEST(clear_zeroes_every_piece)
{
	const size_t at[] = { 0, 4095, 4096, 8191, 9000, sizeof buf - 1 };

	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		memset(buf, 0, sizeof buf);
		buf[at[i]] = 0x5a;
		mem_clear(buf, sizeof buf);
		CHECK(all_zero(buf, sizeof buf));
	}
	memset(buf, 0xff, sizeof buf);
	mem_clear(buf + 1, sizeof buf - 2);
	CHECK_EQ_INT(buf[0], 0xff);
	CHECK(all_zero(buf + 1, sizeof buf - 2));
	CHECK_EQ_INT(buf[sizeof buf - 1], 0xff);
}

TEST(discard_keeps_the_partial_pages)
{
	unsigned char *p = buf + 1;      /* the first page is partial */
	size_t n = sizeof buf - 1;

	memset(buf, 0, sizeof buf);
	p[0] = 1;                        /* before the first whole page */
	p[n - 1] = 2;                    /* after the last one */
	hal_mem_discard(p, n);
	CHECK_EQ_INT(p[0], 1);
	CHECK_EQ_INT(p[n - 1], 2);
	CHECK(all_zero(buf + 4096, 4096));
}

TEST_SUITE(mem, clear_zeroes_every_piece, discard_keeps_the_partial_pages)

/*
 * arena_test.c — lib/arena.c: blocks are aligned, zeroed and disjoint;
 * freed neighbours merge so the whole arena can be taken again; a block
 * is refused when nothing fits, when n * size overflows, and a foreign or
 * second free changes nothing; the peak counts what was held at most.
 * Under ASan: only used payloads are addressable.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "test.h"

static unsigned char buf[8 * 4096 + 40];

TEST(blocks_are_aligned_zeroed_and_disjoint)
{
	struct arena a;
	unsigned char *p, *q;

	CHECK_EQ_INT(arena_init(&a, buf + 3, sizeof buf - 3), 0);
	p = arena_calloc(&a, 1, 100);
	q = arena_calloc(&a, 10, 30);
	CHECK(p && q);
	CHECK_EQ_INT((uintptr_t)p % ARENA_ALIGN, 0);
	CHECK_EQ_INT((uintptr_t)q % ARENA_ALIGN, 0);
	CHECK(q >= p + 100 || p >= q + 300);
	memset(p, 0xa5, 100);
	memset(q, 0x5a, 300);
	arena_free(&a, p);
	p = arena_calloc(&a, 1, 100);   /* the same place, zeroed again */
	CHECK(p != NULL);
	for (int i = 0; i < 100; i++)
		CHECK_EQ_INT(p[i], 0);
	CHECK_EQ_INT(q[299], 0x5a);
}

TEST(freed_neighbours_merge)
{
	struct arena a;
	void *b[6];
	unsigned char *all;

	CHECK_EQ_INT(arena_init(&a, buf, sizeof buf), 0);
	for (int i = 0; i < 6; i++) {
		b[i] = arena_calloc(&a, 1, 4000);
		CHECK(b[i] != NULL);
		memset(b[i], 0xff, 4000);
	}
	/* free out of order: each merges with what is free around it */
	arena_free(&a, b[1]);
	arena_free(&a, b[3]);
	arena_free(&a, b[2]);
	arena_free(&a, b[0]);
	arena_free(&a, b[5]);
	arena_free(&a, b[4]);
	CHECK_EQ_INT(a.in_use, 0);
	all = arena_calloc(&a, 1, a.size - ARENA_ALIGN);
	CHECK(all != NULL);
	for (size_t i = 0; i < a.size - ARENA_ALIGN; i++)
		if (all[i]) {
			CHECK_EQ_INT(all[i], 0);
			break;
		}
	CHECK(arena_calloc(&a, 1, 1) == NULL);  /* full */
}

TEST(refusals_and_foreign_frees)
{
	struct arena a;
	unsigned char other[64];
	void *p;

	CHECK_EQ_INT(arena_init(&a, buf, 20), -EINVAL);
	CHECK_EQ_INT(arena_init(&a, buf, sizeof buf), 0);
	CHECK(arena_calloc(&a, 0, 8) == NULL);
	CHECK(arena_calloc(&a, 8, 0) == NULL);
	CHECK(arena_calloc(&a, SIZE_MAX / 2, 3) == NULL);
	CHECK(arena_calloc(&a, 1, sizeof buf) == NULL);
	p = arena_calloc(&a, 1, 1000);
	CHECK(p != NULL);
	CHECK_EQ_INT(a.peak, a.in_use);
	arena_free(&a, other + 16);
	arena_free(&a, (unsigned char *)p + 1);
	CHECK(a.in_use > 0);
	arena_free(&a, p);
	arena_free(&a, p);               /* a second free: nothing */
	arena_free(&a, NULL);
	CHECK_EQ_INT(a.in_use, 0);
	CHECK(a.peak >= 1000);
	CHECK(arena_calloc(&a, 1, a.size - ARENA_ALIGN) != NULL);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

/* What ASan may see of the arena: a payload's bytes, and nothing of its
 * padding, the headers, free space or a freed block. */
TEST(asan_sees_only_used_payloads)
{
	struct arena a;
	unsigned char *p, *q;

	CHECK_EQ_INT(arena_init(&a, buf, sizeof buf), 0);
	CHECK(__asan_region_is_poisoned(a.base, a.size) == a.base);
	p = arena_calloc(&a, 1, 100);
	q = arena_calloc(&a, 3, 10);
	CHECK(p && q);
	CHECK(__asan_region_is_poisoned(p, 100) == NULL);
	CHECK(__asan_region_is_poisoned(q, 30) == NULL);
	CHECK(__asan_address_is_poisoned(p + 100));     /* padding */
	CHECK(__asan_address_is_poisoned(p - 1));       /* its header */
	CHECK(__asan_address_is_poisoned(q - 1));       /* the next header */
	CHECK(__asan_address_is_poisoned(q + 30));
	CHECK(__asan_address_is_poisoned(q + 4096));    /* free space */
	arena_free(&a, p);
	CHECK(__asan_address_is_poisoned(p));           /* freed */
	CHECK(__asan_region_is_poisoned(q, 30) == NULL);
	arena_free(&a, q);
	CHECK(__asan_region_is_poisoned(a.base, a.size) == a.base);
	p = arena_calloc(&a, 1, 5000);                  /* over freed ground */
	CHECK(p != NULL);
	CHECK(__asan_region_is_poisoned(p, 5000) == NULL);
	CHECK(__asan_address_is_poisoned(p + 5000));
}

/* two lists: TEST_SUITE names the tests by stringizing its arguments,
 * so a macro inside the list would not expand */
TEST_SUITE(arena, blocks_are_aligned_zeroed_and_disjoint, freed_neighbours_merge,
	   refusals_and_foreign_frees, asan_sees_only_used_payloads)
#else
TEST_SUITE(arena, blocks_are_aligned_zeroed_and_disjoint, freed_neighbours_merge,
	   refusals_and_foreign_frees)
#endif

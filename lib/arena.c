/*
 * arena.c — see arena.h.  A block at offset off: its header at
 * base + off, its payload at base + off + HDR; the next block starts at
 * off + size.  The blocks tile [0, a->size) exactly.
 */
#include "arena.h"

#include <errno.h>
#include <stdint.h>

#include "hal/mem.h"
#include "mem.h"

#define HDR ARENA_ALIGN            /* the header, padded to the alignment */
#define USED ((size_t)1)

/*
 * What a memory checker may see of the arena: the bytes of used payloads,
 * and nothing of the padding, free space or freed blocks, so that a read
 * or write past a block or after its free is a report, as with malloc.
 * Without this the whole static buffer is addressable and mbedTLS's heap
 * invisible to the checkers.  Release builds compile none of it.
 *   - AddressSanitizer (the test builds: unit tests, fuzzers, the servers
 *     of `make suite-asan`): the headers are poisoned too; the functions
 *     that walk them are not instrumented (ARENA_UNCHECKED).
 *   - valgrind's memcheck (-DARENA_VALGRIND: the vigild of `make
 *     suite-valgrind`): blocks are malloc-like blocks to it, so a leak
 *     or a bad free is reported with its stack; the headers in use stay
 *     addressable, since memcheck cannot exempt the walkers.
 * CHECKER_HEADER before a header is written where there was none;
 * CHECKER_OPEN/CHECKER_CLOSE around giving a free block's pages back.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#if defined(ARENA_ASAN)
#include <sanitizer/asan_interface.h>
#define ARENA_UNCHECKED __attribute__((no_sanitize_address))
#define CHECKER_INIT(a) ASAN_POISON_MEMORY_REGION((a)->base, (a)->size)
#define CHECKER_HEADER(a, off) ((void)0)
#define CHECKER_ALLOC(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define CHECKER_FREE(p) ((void)0)
#define CHECKER_OPEN(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define CHECKER_CLOSE(a, off, s) ASAN_POISON_MEMORY_REGION((a)->base + (off), s)
#elif defined(ARENA_VALGRIND)
#include <valgrind/memcheck.h>
#define ARENA_UNCHECKED
#define CHECKER_INIT(a) VALGRIND_MAKE_MEM_NOACCESS((a)->base, (a)->size)
#define CHECKER_HEADER(a, off) VALGRIND_MAKE_MEM_UNDEFINED((a)->base + (off), HDR)
/* zeroed: its pages were, mem_clear zeroes the rest */
#define CHECKER_ALLOC(p, n) VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 1)
#define CHECKER_FREE(p) VALGRIND_FREELIKE_BLOCK(p, 0)
#define CHECKER_OPEN(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define CHECKER_CLOSE(a, off, s) \
	VALGRIND_MAKE_MEM_NOACCESS((a)->base + (off) + HDR, (s) - HDR)
#else
#define ARENA_UNCHECKED
#define CHECKER_INIT(a) ((void)0)
#define CHECKER_HEADER(a, off) ((void)0)
#define CHECKER_ALLOC(p, n) ((void)0)
#define CHECKER_FREE(p) ((void)0)
#define CHECKER_OPEN(p, n) ((void)0)
#define CHECKER_CLOSE(a, off, s) ((void)0)
#endif

struct hdr {
	size_t size;                /* this block's bytes, header in; | USED */
	size_t prev;                /* the previous block's bytes, 0: first */
};

_Static_assert(sizeof(struct hdr) <= HDR, "the header fits its space");

ARENA_UNCHECKED static struct hdr *at(const struct arena *a, size_t off)
{
	return (struct hdr *)(void *)(a->base + off);
}

ARENA_UNCHECKED static size_t block_size(const struct hdr *h)
{
	return h->size & ~USED;
}

/* see arena.h */
ARENA_UNCHECKED int arena_init(struct arena *a, void *buf, size_t len)
{
	uintptr_t p = (uintptr_t)buf;
	size_t skip = (size_t)(((p + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1)) - p);

	if (len < skip + 2 * HDR)
		return -EINVAL;
	a->base = (unsigned char *)buf + skip;
	a->size = (len - skip) & ~(size_t)(ARENA_ALIGN - 1);
	a->in_use = 0;
	a->peak = 0;
	CHECKER_INIT(a);
	CHECKER_HEADER(a, 0);
	*at(a, 0) = (struct hdr){ a->size, 0 };
	return 0;
}

/* Marks the free block at off used with want bytes; the rest of it, when
 * it can hold a block, stays free after it. */
ARENA_UNCHECKED static void take(struct arena *a, size_t off, size_t want)
{
	struct hdr *h = at(a, off);
	size_t s = block_size(h);

	if (s - want >= 2 * HDR) {
		CHECKER_HEADER(a, off + want);
		*at(a, off + want) = (struct hdr){ s - want, want };
		if (off + s < a->size)
			at(a, off + s)->prev = s - want;
		s = want;
	}
	h->size = s | USED;
	a->in_use += s;
	if (a->in_use > a->peak)
		a->peak = a->in_use;
}

/* see arena.h */
ARENA_UNCHECKED void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	size_t want;

	if (n == 0 || size == 0 || n > (SIZE_MAX - 2 * HDR) / size)
		return NULL;
	want = ((n * size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1)) + HDR;
	for (size_t off = 0; off < a->size; off += block_size(at(a, off))) {
		const struct hdr *h = at(a, off);
		unsigned char *p = a->base + off + HDR;

		if ((h->size & USED) || block_size(h) < want)
			continue;
		take(a, off, want);
		CHECKER_ALLOC(p, n * size);
		/* a free block's whole pages read as zero already (free
		 * discarded them): only the rest is written */
		mem_clear(p, n * size);
		return p;
	}
	return NULL;
}

/* see arena.h */
ARENA_UNCHECKED void arena_free(struct arena *a, void *p)
{
	size_t off, s;
	struct hdr *h;

	if (!p || (unsigned char *)p < a->base + HDR ||
	    (unsigned char *)p >= a->base + a->size ||
	    ((size_t)((unsigned char *)p - a->base) % ARENA_ALIGN))
		return;                 /* not ours: nothing to free */
	off = (size_t)((unsigned char *)p - a->base) - HDR;
	h = at(a, off);
	if (!(h->size & USED))
		return;                 /* freed twice: already free */
	CHECKER_FREE(p);
	s = block_size(h);
	h->size = s;                    /* free (a second free sees it) */
	a->in_use -= s;
	if (off + s < a->size && !(at(a, off + s)->size & USED))
		s += block_size(at(a, off + s));
	if (h->prev && !(at(a, off - h->prev)->size & USED)) {
		off -= h->prev;
		s += block_size(at(a, off));
		h = at(a, off);
	}
	h->size = s;
	if (off + s < a->size)
		at(a, off + s)->prev = s;
	/* the merged block's whole pages stop counting until written again
	 * (the sim's discard writes zeros: opened for it) */
	CHECKER_OPEN(a->base + off + HDR, s - HDR);
	hal_mem_discard(a->base + off + HDR, s - HDR);
	CHECKER_CLOSE(a, off, s);
}

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

struct hdr {
	size_t size;                /* this block's bytes, header in; | USED */
	size_t prev;                /* the previous block's bytes, 0: first */
};

_Static_assert(sizeof(struct hdr) <= HDR, "the header fits its space");

static struct hdr *at(const struct arena *a, size_t off)
{
	return (struct hdr *)(void *)(a->base + off);
}

static size_t block_size(const struct hdr *h)
{
	return h->size & ~USED;
}

/* see arena.h */
int arena_init(struct arena *a, void *buf, size_t len)
{
	uintptr_t p = (uintptr_t)buf;
	size_t skip = (size_t)(((p + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1)) - p);

	if (len < skip + 2 * HDR)
		return -EINVAL;
	a->base = (unsigned char *)buf + skip;
	a->size = (len - skip) & ~(size_t)(ARENA_ALIGN - 1);
	a->in_use = 0;
	a->peak = 0;
	*at(a, 0) = (struct hdr){ a->size, 0 };
	return 0;
}

/* Marks the free block at off used with want bytes; the rest of it, when
 * it can hold a block, stays free after it. */
static void take(struct arena *a, size_t off, size_t want)
{
	struct hdr *h = at(a, off);
	size_t s = block_size(h);

	if (s - want >= 2 * HDR) {
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
void *arena_calloc(struct arena *a, size_t n, size_t size)
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
		/* a free block's whole pages read as zero already (free
		 * discarded them): only the rest is written */
		mem_clear(p, n * size);
		return p;
	}
	return NULL;
}

/* see arena.h */
void arena_free(struct arena *a, void *p)
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
	/* the merged block's whole pages stop counting until written again */
	hal_mem_discard(a->base + off + HDR, s - HDR);
}

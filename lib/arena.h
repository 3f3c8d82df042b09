/*
 * arena.h — a first-fit allocator over one static buffer, for mbedTLS
 * (crypto_platform.c hands it over with mbedtls_platform_set_calloc_free),
 * that keeps the pages nobody uses out of the resident set.
 *
 * mbedTLS's own buffer allocator writes zeros over the whole buffer at
 * set-up (256 KiB resident for a moment, the start-up's peak) and over
 * every block it hands out (a TLS context's 16 KiB IN record buffer is
 * resident though a backup client receives records of a few hundred
 * bytes).  Here the buffer is never written at set-up, calloc writes only
 * the 4 KiB pieces that are not zero already (mem_clear), and free gives
 * the whole pages inside a free block back (hal_mem_discard), so they
 * read as zero again: a block's pages count only once written.
 *
 * Blocks: a 16-byte header (this block's size and the previous one's,
 * the low bit of size marks it used) before each payload, 16-byte
 * aligned; a free block is merged with free neighbours at once.  First
 * fit over the blocks in address order: mbedTLS allocates at set-up and
 * per handshake, not per record, so the walk (tens of blocks) is rare.
 * Not thread-safe (vigild has one thread).
 */
#ifndef VIGIL_ARENA_H
#define VIGIL_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN 16u

struct arena {
	unsigned char *base;    /* ARENA_ALIGN-aligned */
	size_t size;            /* a multiple of ARENA_ALIGN */
	size_t in_use;          /* bytes of used blocks, headers included */
	size_t peak;            /* the most in_use has been */
};

/* Takes buf[0..len) (static, zero-initialized, never written before):
 * the part from the first aligned byte, rounded down to ARENA_ALIGN.
 * Writes only the first block's header.  @retval 0  @retval -EINVAL too
 * small for one block */
int arena_init(struct arena *a, void *buf, size_t len);

/* n * size zeroed bytes, ARENA_ALIGN-aligned, or NULL (no room, 0 bytes,
 * or n * size overflows). */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Frees p (NULL: nothing) from arena_calloc on a. */
void arena_free(struct arena *a, void *p);

#endif

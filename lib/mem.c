/*
 * mem.c — see mem.h.  Reading an untouched page of .bss maps the kernel's
 * shared zero page, which is not counted as the process's memory.
 */
#include "mem.h"

#include <stdint.h>
#include <string.h>

#define MEM_PIECE 4096u

/* n > 0.  p[0] == 0 and every byte equal to the one before it: one
 * memcmp, the C library's fast loop instead of one of our own per byte
 * (under the fuzzers' coverage instrumentation a byte loop over the CoAP
 * server's 76 KB was most of each run). */
static int all_zero(const unsigned char *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

/* see mem.h */
void mem_clear(void *p, size_t n)
{
	unsigned char *b = p;

	while (n > 0) {
		/* pieces end on page boundaries: a piece that straddled two
		 * pages wrote both for a byte in one of them */
		size_t to_page = MEM_PIECE - (size_t)((uintptr_t)b % MEM_PIECE);
		size_t k = n < to_page ? n : to_page;

		if (!all_zero(b, k))
			memset(b, 0, k);
		b += k;
		n -= k;
	}
}

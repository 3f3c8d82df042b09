/*
 * mem.c — see mem.h.  Reading an untouched page of .bss maps the kernel's
 * shared zero page, which is not counted as the process's memory.
 */
#include "mem.h"

#include <stdint.h>
#include <string.h>

#define MEM_PIECE 4096u

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return 0;
	}
	return 1;
}

/* see mem.h */
void mem_clear(void *p, size_t n)
{
	unsigned char *b = p;

	while (n > 0) {
		size_t k = n < MEM_PIECE ? n : MEM_PIECE;

		if (!all_zero(b, k))
			memset(b, 0, k);
		b += k;
		n -= k;
	}
}

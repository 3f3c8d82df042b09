/*
 * hal/linux/mem.c — hal_mem_discard over madvise(MADV_DONTNEED): on
 * private anonymous memory (.bss past the file's last page) the kernel
 * drops the pages, and the next touch maps a zero page.
 *
 * The page size comes from the auxiliary vector the kernel passed:
 * sysconf(3) would give the same, but musl's sysconf links its whole
 * table and getrlimit/sysinfo (~1.2 KB of vigild) for this one query.
 */
#define _DEFAULT_SOURCE /* madvise */
#include "hal/mem.h"

#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>

/* see hal/mem.h */
void hal_mem_discard(void *p, size_t n)
{
	unsigned long ps = getauxval(AT_PAGESZ);
	uintptr_t page = ps ? (uintptr_t)ps : 4096u;
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + n) & ~(page - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

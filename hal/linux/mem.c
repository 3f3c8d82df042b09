/*
 * hal/linux/mem.c — hal_mem_discard over madvise(MADV_DONTNEED): on
 * private anonymous memory (.bss past the file's last page) the kernel
 * drops the pages, and the next touch maps a zero page.  On the code
 * (hal_mem_drop_code: from the ELF headers to etext, both symbols of
 * ld's default script) the same call unmaps page-cache pages that were
 * never written: the next fetch maps them again.
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

extern char __executable_start[], etext[];

static uintptr_t page_size(void)
{
	unsigned long ps = getauxval(AT_PAGESZ);

	return ps ? (uintptr_t)ps : 4096u;
}

/* see hal/mem.h */
void hal_mem_discard(void *p, size_t n)
{
	uintptr_t page = page_size();
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + n) & ~(page - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

/* see hal/mem.h */
void hal_mem_drop_code(void)
{
	uintptr_t page = page_size();
	uintptr_t start = (uintptr_t)__executable_start & ~(page - 1);
	uintptr_t end = ((uintptr_t)etext + page - 1) & ~(page - 1);

	/* a hole between the segments only makes the call report ENOMEM */
	(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

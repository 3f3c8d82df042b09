/*
 * hal/linux/mem.c — hal_mem_discard over madvise(MADV_DONTNEED): on
 * private anonymous memory (.bss past the file's last page) the kernel
 * drops the pages, and the next touch maps a zero page.
 */
#define _DEFAULT_SOURCE /* madvise */
#include "hal/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* see hal/mem.h */
void hal_mem_discard(void *p, size_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096u;
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + n) & ~(page - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

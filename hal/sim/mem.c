/*
 * hal/sim/mem.c — hal_mem_discard on the sim: the whole pages read as
 * zero afterwards, as on Linux (there is no resident set to give back);
 * hal_mem_drop_code does nothing (no code pages to give back).
 */
#include "hal/mem.h"

#include <stdint.h>
#include <string.h>

#define SIM_PAGE 4096u

/* see hal/mem.h */
void hal_mem_discard(void *p, size_t n)
{
	uintptr_t start = ((uintptr_t)p + SIM_PAGE - 1) & ~(uintptr_t)(SIM_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + n) & ~(uintptr_t)(SIM_PAGE - 1);

	if (end > start)
		memset((void *)start, 0, end - start);
}

/* see hal/mem.h */
void hal_mem_drop_code(void)
{
}

/*
 * hal/mem.h — giving back pages of static memory that hold only zeros,
 * and the program's code pages between two uses.
 *
 * A page of .bss counts in the resident set (VmRSS, VmHWM) from its first
 * write on, even when that write was a zero (mbedTLS's arena set-up clears
 * its whole buffer).  hal_mem_discard lets such pages go: they read as
 * zero again and count only once written again (Linux: madvise
 * MADV_DONTNEED on private anonymous memory; the sim: clears them).
 */
#ifndef HAL_MEM_H
#define HAL_MEM_H

#include <stddef.h>

/*
 * The whole pages inside [p, p+n) read as zero and stop counting in the
 * resident set.  Only for zero-initialized static memory (.bss) whose
 * content is no longer needed: p..p+n must not be in use.  Parts of pages
 * at the ends are left alone.  Best effort: a kernel that refuses changes
 * nothing (and a page of .bss that shares the file's last page of .data
 * reads back from the file), so a caller that needs zeros checks
 * (mem_clear), as lib/arena.c does.
 */
void hal_mem_discard(void *p, size_t n);

/*
 * The program's code pages stop counting in the resident set; each comes
 * back from the page cache at its next use, with the 64 KiB window
 * around it that the kernel maps on a code fault (fault_around_bytes).
 * For the end of a phase whose code will not run again soon (start-up, a
 * backup job): vigild's link puts the code of a backup first and
 * together (firmware/agent/hot.ld), so only those windows come back.
 * Costs a few page faults (no I/O: the pages stay cached).  Best effort;
 * the sim does nothing.
 */
void hal_mem_drop_code(void);

#endif

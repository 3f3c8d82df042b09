/*
 * fmt.h — printf-style formatting without floating point, for vigild's
 * static link (firmware/agent/libc_vfprintf.c puts it under musl's
 * snprintf, fprintf and printf).
 *
 * Why: musl's vfprintf is one object with its floating-point path
 * (fmt_fp, frexpl), and on aarch64 that path's 128-bit long double
 * pulls libgcc's soft-float routines (__addtf3, __subtf3, __multf3, ...)
 * too: about 20 KB of vigild's file on aarch64, 13 KB on x86_64, for
 * conversions that no format string in vigild or the mbedTLS code it
 * links uses.
 *
 * What it formats, as C11 7.21.6.1 says:
 *   conversions  d i u o x X c s p %
 *   flags        - + space # 0
 *   width and precision, as digits or '*'
 *   lengths      hh h l ll j z t
 * Anything else (the floating conversions f F e E g G a A, n, L, wide
 * characters lc ls) is refused: nothing is written for the whole call,
 * it returns -EINVAL, and -Wformat has already flagged the call at
 * compile time in vigil's code.  %p prints like glibc's ("0x1f", "(nil)").
 */
#ifndef VIGIL_FMT_H
#define VIGIL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives the n bytes at s (borrowed); returns 0, or <0 to stop. */
typedef int (*fmt_sink)(void *ctx, const char *s, size_t n);

/*
 * Formats fmt with ap, handing the output to sink in pieces.
 * @retval >=0 bytes handed to sink
 * @retval -EINVAL a conversion this file does not do (nothing was handed
 *         to sink for it or after it)
 * @retval -EOVERFLOW more than INT_MAX bytes
 * @retval <0 what sink returned when it failed
 */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

#endif /* VIGIL_FMT_H */

/*
 * libc_vfprintf.c — vigild's vfprintf: lib/fmt.c under the C library's
 * name, linked only into the static vigild (the Makefile keeps it out of
 * the tests, the tools and the server, which use their libc's).
 *
 * musl's snprintf, vsnprintf, printf and fprintf all format through
 * vfprintf(); with this definition in the link, the static link takes
 * no vfprintf.lo from libc.a, and with it no floating-point formatting
 * and none of libgcc's soft long double (lib/fmt.h says what that
 * saves and which conversions remain).  A refused conversion fails the
 * call with EINVAL, as musl does for an invalid format.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "fmt.h"

static int to_file(void *ctx, const char *s, size_t n)
{
	return fwrite(s, 1, n, ctx) == n ? 0 : -EIO;
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	int ret = fmt_vformat(to_file, f, fmt, ap);

	if (ret < 0) {
		errno = ret == -EIO ? errno : -ret;
		return -1;
	}
	return ret;
}

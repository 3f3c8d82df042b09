/*
 * libc_gmtime.c — vigild's gmtime_r: lib/tz.c's civil-time split
 * (tz_gmtime) under the C library's name, linked only into the static
 * vigild (the Makefile keeps it out of the tests, the tools and the
 * server, which use their libc's), like libc_vfprintf.c.
 *
 * Its callers are the JSON log's time stamps (log_ts) and mbedTLS's
 * certificate validity check (mbedtls_platform_gmtime_r).  musl's
 * gmtime_r points tm_zone at "UTC", a string that lives in musl's time
 * zone module, so linking it took the whole TZ-variable and zoneinfo
 * reader (__tz.lo, ~4 KB on aarch64) that vigild never runs: its local
 * time is lib/tz.h's own.  With this definition the link takes neither.
 */
#include <errno.h>
#include <time.h>

#include "tz.h"

struct tm *gmtime_r(const time_t *restrict t, struct tm *restrict tm)
{
	int ret = tz_gmtime((int64_t)*t, tm);

	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return tm;
}

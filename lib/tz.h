/*
 * tz.h — local time from a POSIX TZ rule string (time.zone), evaluated
 * here rather than by the C library.
 *
 * Why not localtime(): musl's reads the TZ environment variable (vigild
 * must not depend on its environment), falls back to zoneinfo files the
 * appliances do not have, and copies a TZ string longer than 32 bytes
 * into malloc'ed memory (vigild allocates nothing after init).  A POSIX
 * TZ string is a small grammar, so it is parsed once (config load) into
 * struct tz and evaluated without allocation, I/O or global state.
 *
 * Grammar (POSIX.1-2017, 8.3; the hour range of rule times is the
 * RFC 8536 extension, -167..167):
 *   std offset [dst [offset] ,start[/time] ,end[/time]]
 *   std, dst  3..TZ_NAME_MAX letters, or <...> of letters, digits, + and -
 *   offset    [+-]hh[:mm[:ss]], hh 0..24: time WEST of UTC ("CET-1" is
 *             UTC+1); dst's default is std's minus one hour
 *   start/end Jn (1..365, Feb 29 never counted), n (0..365, counted) or
 *             Mm.w.d (month 1..12, week 1..5 with 5 = last, weekday 0..6
 *             with 0 = Sunday); time defaults to 02:00:00
 * Unlike glibc and musl, a dst name without its two rules is an error
 * (they assume the US rules of some year, which is wrong in Europe); so
 * are trailing bytes.  Examples: "UTC0", "CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0530>-5:30", "AEST-10AEDT,M10.1.0,M4.1.0/3".
 */
#ifndef VIGIL_TZ_H
#define VIGIL_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 15      /* letters of a zone name (<...> excluded) */
#define TZ_TEXT_MAX 64      /* a time.zone value, NUL included */
#define TZ_ERR_MAX 96       /* a tz_parse message, NUL included */

struct tz_rule {
	char kind;              /* 'J', 'D' (n) or 'M' */
	uint16_t day;           /* J: 1..365; D: 0..365; M: month 1..12 */
	uint8_t week, wday;     /* M only */
	int32_t time_s;         /* local seconds after midnight */
};

struct tz {
	int32_t std_east_s;     /* UTC offset of standard time, east +ve */
	int32_t dst_east_s;
	int has_dst;
	struct tz_rule start, end;
};

/* Civil time, as struct tm would hold it (year 1970.., mon 1..12). */
struct tz_civil {
	int64_t year;
	int mon, mday, hour, min, sec, wday;
};

/* Parses the NUL-terminated s into *out.  err (cap > 0, may be NULL)
 * gets what is wrong: "offset hours 25 > 24 at `25`".
 * @retval 0 parsed  @retval -EINVAL malformed (*out unspecified) */
int tz_parse(const char *s, struct tz *out, char *err, size_t cap);

/* The UTC offset (seconds, east +ve) in force at utc_s; *dst (may be
 * NULL) is set to 1 in daylight time. */
int32_t tz_offset(const struct tz *z, int64_t utc_s, int *dst);

/* The next instant after utc_s at which the offset changes, or
 * INT64_MAX without daylight time.  Here and in tz_offset, |utc_s| <
 * 2^62 (beyond, the day arithmetic would overflow). */
int64_t tz_next_change(const struct tz *z, int64_t utc_s);

/* Splits seconds since 1970-01-01T00:00 into civil fields. */
void tz_civil(int64_t s, struct tz_civil *out);

/* Days from 1970-01-01 to year-mon-mday (proleptic Gregorian). */
int64_t tz_days(int64_t year, int mon, int mday);

struct tm;
/* gmtime_r(3) over tz_civil: *tm gets the UTC fields of s (tm_isdst 0,
 * every other member zeroed); vigild's gmtime_r (firmware/agent/
 * libc_gmtime.c).  @retval 0 done  @retval -EOVERFLOW the year would
 * not fit tm_year (|s| > 1e16, as musl refuses) */
int tz_gmtime(int64_t s, struct tm *tm);

#endif

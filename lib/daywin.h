/*
 * daywin.h — a daily time window in local time (backup.window):
 * "HH:MM-HH:MM", the end excluded; an end at or before the start means
 * the window crosses midnight ("22:00-04:00").  Local time is UTC plus
 * the offset a struct tz (tz.h) says is in force.
 */
#ifndef VIGIL_DAYWIN_H
#define VIGIL_DAYWIN_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

#define DAYWIN_TEXT_MAX 16  /* "HH:MM-HH:MM" + NUL, with room */

struct daywin {
	int32_t start_s, end_s; /* seconds after local midnight */
};

/* Parses "HH:MM-HH:MM" (HH 00..23, MM 00..59; the end may be 24:00).
 * err (cap > 0, may be NULL) says what is wrong.
 * @retval 0  @retval -EINVAL malformed, or start == end (an empty or a
 * whole-day window: leave backup.window empty for "always") */
int daywin_parse(const char *s, struct daywin *out, char *err, size_t cap);

/* 1 when local second-of-day sod (0..86399) lies in the window. */
int daywin_contains(const struct daywin *w, int32_t sod);

/* At utc_s: *open says whether the window is open, and the return value
 * is the next instant (UTC seconds, > utc_s) at which that changes
 * (the close when open, else the next opening).  Across a DST change
 * the instant is the first second the window's local time is reached. */
int64_t daywin_next(const struct daywin *w, const struct tz *z,
		    int64_t utc_s, int *open);

#endif

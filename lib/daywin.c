/*
 * daywin.c — daily local time windows (daywin.h).
 */
#include "daywin.h"

#include <errno.h>
#include <stdio.h>

#define DAY_S 86400

static int two_digits(const char *p, int max, int32_t *out)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -EINVAL;
	*out = (p[0] - '0') * 10 + (p[1] - '0');
	return *out <= max ? 0 : -EINVAL;
}

/* "HH:MM" at p (5 bytes, checked by the caller's length test). */
static int hhmm(const char *p, int32_t max_h, int32_t *sod)
{
	int32_t h = 0, m = 0;

	if (two_digits(p, max_h, &h) < 0 || p[2] != ':' ||
	    two_digits(p + 3, 59, &m) < 0 || (h == 24 && m != 0))
		return -EINVAL;
	*sod = h * 3600 + m * 60;
	return 0;
}

/* see daywin.h */
int daywin_parse(const char *s, struct daywin *out, char *err, size_t cap)
{
	size_t n = 0;
	int ret;

	while (n < 12 && s[n])
		n++;
	ret = n == 11 && s[5] == '-' ? 0 : -EINVAL;
	if (ret == 0)
		ret = hhmm(s, 23, &out->start_s);
	if (ret == 0)
		ret = hhmm(s + 6, 24, &out->end_s);
	if (ret < 0) {
		if (err && cap)
			snprintf(err, cap, "expected HH:MM-HH:MM (00:00..23:59, "
				 "the end may be 24:00)");
		return ret;
	}
	if (out->end_s == DAY_S)
		out->end_s = 0;
	if (out->start_s == out->end_s) {
		if (err && cap)
			snprintf(err, cap, "start and end are the same time "
				 "(for no window, leave it empty)");
		return -EINVAL;
	}
	return 0;
}

/* see daywin.h */
int daywin_contains(const struct daywin *w, int32_t sod)
{
	if (w->start_s < w->end_s)
		return sod >= w->start_s && sod < w->end_s;
	return sod >= w->start_s || sod < w->end_s;   /* across midnight */
}

static int32_t sod_at(const struct tz *z, int64_t utc_s)
{
	int64_t l = utc_s + tz_offset(z, utc_s, NULL);
	int64_t r = l % DAY_S;

	return (int32_t)(r < 0 ? r + DAY_S : r);
}

/* The first instant after utc_s at which local time is sod, if the
 * offset east_s were in force throughout. */
static int64_t at_offset(int64_t utc_s, int32_t sod, int32_t east_s)
{
	int64_t l = utc_s + east_s;
	int64_t d = ((sod - l % DAY_S) % DAY_S + 2 * DAY_S) % DAY_S;

	return utc_s + (d ? d : DAY_S);
}

/* see daywin.h */
int64_t daywin_next(const struct daywin *w, const struct tz *z,
		    int64_t utc_s, int *open)
{
	/* The state can change only where local time passes the edge under
	 * one of the two offsets, or where the offset changes (an edge in a
	 * skipped hour): try those instants in order. */
	int is_open = daywin_contains(w, sod_at(z, utc_s));
	int32_t edge = is_open ? w->end_s : w->start_s;
	int64_t c[8], best = utc_s + 3 * DAY_S;
	unsigned n = 0;

	/* today's edge, or tomorrow's, or (a window inside the hour a DST
	 * change skips does not happen that day) the day after */
	for (int64_t k = 0; k < 3; k++) {
		c[n++] = at_offset(utc_s, edge, z->std_east_s) + k * DAY_S;
		if (z->has_dst)
			c[n++] = at_offset(utc_s, edge, z->dst_east_s) +
				 k * DAY_S;
	}
	if (z->has_dst) {
		c[n++] = tz_next_change(z, utc_s);
		c[n] = tz_next_change(z, c[n - 1]);
		n++;
	}
	for (unsigned i = 0; i < n; i++)
		if (c[i] > utc_s && c[i] < best &&
		    daywin_contains(w, sod_at(z, c[i])) != is_open)
			best = c[i];
	*open = is_open;
	return best;
}

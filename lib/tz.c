/*
 * tz.c — POSIX TZ rule strings (tz.h): a parser over a cursor that
 * never reads past the NUL, and the offset in force at an instant.
 */
#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400
#define HOUR_S 3600

struct cur {
	const char *p;
	char *err;
	size_t cap;
};

/* Records what is wrong and where: up to 12 bytes of the rest, any
 * byte that is not printable ASCII shown as '?'. */
static int fail(struct cur *c, const char *what)
{
	char at[13];
	size_t n = 0;

	for (; n < sizeof at - 1 && c->p[n]; n++)
		at[n] = c->p[n] >= 0x20 && c->p[n] < 0x7f ? c->p[n] : '?';
	at[n] = '\0';
	if (c->err && c->cap && n)
		snprintf(c->err, c->cap, "%s at `%s`", what, at);
	else if (c->err && c->cap)
		snprintf(c->err, c->cap, "%s at the end", what);
	return -EINVAL;
}

static int is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* A zone name: letters, or <letters digits + ->. */
static int parse_name(struct cur *c)
{
	size_t n = 0;

	if (*c->p == '<') {
		const char *q = c->p + 1;

		while (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-')
			q++, n++;
		if (*q != '>')
			return fail(c, "zone name without closing `>`");
		if (n < 3 || n > TZ_NAME_MAX)
			return fail(c, "zone name must have 3..15 characters");
		c->p = q + 1;
		return 0;
	}
	while (is_alpha(c->p[n]))
		n++;
	if (n < 3 || n > TZ_NAME_MAX)
		return fail(c, "zone name must have 3..15 characters");
	c->p += n;
	return 0;
}

/* The byte ch, stepped over; never past the NUL. */
static int expect(struct cur *c, char ch, const char *what)
{
	if (*c->p != ch)
		return fail(c, what);
	c->p++;
	return 0;
}

/* 1..digits decimal digits, min <= value <= max. */
static int parse_num(struct cur *c, unsigned digits, int32_t min, int32_t max,
		     int32_t *out)
{
	int32_t v = 0;
	unsigned n = 0;

	while (n < digits && is_digit(c->p[n])) {
		v = v * 10 + (c->p[n] - '0');
		n++;
	}
	if (n == 0)
		return fail(c, "number expected");
	if (is_digit(c->p[n]) || v < min || v > max)
		return fail(c, "number out of range");
	c->p += n;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] in seconds, at most max_h:00:00 either way (so
 * 24:30 is refused: an offset beyond a day, which tz.h does not allow). */
static int parse_hms(struct cur *c, int32_t max_h, int32_t *out)
{
	const char *start = c->p;
	int32_t h = 0, m = 0, s = 0, sign = 1;
	int ret;

	if (*c->p == '+' || *c->p == '-')
		sign = *c->p++ == '-' ? -1 : 1;
	ret = parse_num(c, 3, 0, max_h, &h);
	if (ret == 0 && *c->p == ':') {
		c->p++;
		ret = parse_num(c, 2, 0, 59, &m);
		if (ret == 0 && *c->p == ':') {
			c->p++;
			ret = parse_num(c, 2, 0, 59, &s);
		}
	}
	if (ret == 0 && h == max_h && (m || s)) {
		c->p = start;
		return fail(c, "hours:minutes:seconds out of range");
	}
	*out = sign * (h * HOUR_S + m * 60 + s);
	return ret;
}

static int parse_rule(struct cur *c, struct tz_rule *r)
{
	int32_t a = 0, b = 0, d = 0;
	int ret;

	r->time_s = 2 * HOUR_S;
	if (*c->p == 'J') {
		c->p++;
		r->kind = 'J';
		ret = parse_num(c, 3, 1, 365, &a);
	} else if (*c->p == 'M') {
		c->p++;
		r->kind = 'M';
		ret = parse_num(c, 2, 1, 12, &a);
		if (ret == 0)
			ret = expect(c, '.', "`.` expected in Mm.w.d");
		if (ret == 0)
			ret = parse_num(c, 1, 1, 5, &b);
		if (ret == 0)
			ret = expect(c, '.', "`.` expected in Mm.w.d");
		if (ret == 0)
			ret = parse_num(c, 1, 0, 6, &d);
	} else {
		r->kind = 'D';
		ret = parse_num(c, 3, 0, 365, &a);
	}
	if (ret < 0)
		return ret;
	r->day = (uint16_t)a;
	r->week = (uint8_t)b;
	r->wday = (uint8_t)d;
	if (*c->p == '/') {
		c->p++;
		return parse_hms(c, 167, &r->time_s);
	}
	return 0;
}

/* ",start[/time],end[/time]" after the dst name and offset. */
static int parse_rules(struct cur *c, struct tz *z)
{
	int ret = expect(c, ',', "daylight time needs its rules "
			 "(e.g. ,M3.5.0,M10.5.0/3)");

	if (ret == 0)
		ret = parse_rule(c, &z->start);
	if (ret == 0)
		ret = expect(c, ',', "`,` and the end rule expected");
	return ret < 0 ? ret : parse_rule(c, &z->end);
}

/* see tz.h */
int tz_parse(const char *s, struct tz *out, char *err, size_t cap)
{
	struct cur c = { s, err, cap };
	int32_t off = 0;
	int ret;

	if (err && cap)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	ret = parse_name(&c);
	if (ret == 0 && *c.p == '/')
		ret = fail(&c, "no zoneinfo names; give the POSIX rule");
	if (ret == 0 && !is_digit(*c.p) && *c.p != '+' && *c.p != '-')
		ret = fail(&c, "UTC offset expected (e.g. CET-1)");
	if (ret == 0)
		ret = parse_hms(&c, 24, &off);
	if (ret < 0)
		return ret;
	out->std_east_s = -off;
	out->dst_east_s = -off + HOUR_S;
	if (*c.p == '\0')
		return 0;
	out->has_dst = 1;
	ret = parse_name(&c);
	if (ret == 0 && (is_digit(*c.p) || *c.p == '+' || *c.p == '-')) {
		ret = parse_hms(&c, 24, &off);
		out->dst_east_s = -off;
	}
	if (ret == 0)
		ret = parse_rules(&c, out);
	if (ret == 0 && *c.p != '\0')
		ret = fail(&c, "unexpected text");
	return ret;
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* see tz.h */
int64_t tz_days(int64_t year, int mon, int mday)
{
	/* Hinnant's days_from_civil: March-based years make Feb 29 last */
	int64_t y = year - (mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (mon + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* see tz.h */
void tz_civil(int64_t s, struct tz_civil *out)
{
	int64_t days = (s >= 0 ? s : s - (DAY_S - 1)) / DAY_S;
	int64_t sod = s - days * DAY_S;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	out->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	out->year = yoe + era * 400 + (out->mon <= 2);
	out->hour = (int)(sod / HOUR_S);
	out->min = (int)(sod / 60 % 60);
	out->sec = (int)(sod % 60);
	/* 1970-01-01 was a Thursday (4) */
	out->wday = (int)(((days % 7) + 11) % 7);
}

/* Seconds beyond which tm_year (an int) could not hold the year;
 * 1e16 s is ~317 million years. */
#define GMTIME_MAX_S 10000000000000000LL

/* see tz.h */
int tz_gmtime(int64_t s, struct tm *tm)
{
	struct tz_civil cv;

	if (s > GMTIME_MAX_S || s < -GMTIME_MAX_S)
		return -EOVERFLOW;
	tz_civil(s, &cv);
	memset(tm, 0, sizeof *tm);
	tm->tm_year = (int)(cv.year - 1900);
	tm->tm_mon = cv.mon - 1;
	tm->tm_mday = cv.mday;
	tm->tm_hour = cv.hour;
	tm->tm_min = cv.min;
	tm->tm_sec = cv.sec;
	tm->tm_wday = cv.wday;
	tm->tm_yday = (int)(tz_days(cv.year, cv.mon, cv.mday) -
			    tz_days(cv.year, 1, 1));
	return 0;
}

static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				   31, 30, 31 };

/* Days since the epoch of the rule's day in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
	int64_t jan1 = tz_days(y, 1, 1), first;
	int len, wd, d;

	if (r->kind == 'J')     /* Feb 29 never counted */
		return jan1 + r->day - 1 + (leap(y) && r->day >= 60);
	if (r->kind == 'D')
		return jan1 + r->day;
	first = tz_days(y, r->day, 1);
	wd = (int)(((first % 7) + 11) % 7);
	d = (r->wday - wd + 7) % 7 + 7 * (r->week - 1);
	len = mdays[r->day - 1] + (r->day == 2 && leap(y));
	while (d >= len)        /* week 5: the last such weekday */
		d -= 7;
	return first + d;
}

/* The UTC instants of year y's start and end of daylight time. */
static void changes(const struct tz *z, int64_t y, int64_t *start,
		    int64_t *end)
{
	/* start is given in standard time, end in daylight time */
	*start = rule_day(&z->start, y) * DAY_S + z->start.time_s -
		 z->std_east_s;
	*end = rule_day(&z->end, y) * DAY_S + z->end.time_s - z->dst_east_s;
}

static int64_t year_of(const struct tz *z, int64_t utc_s)
{
	struct tz_civil cv;

	tz_civil(utc_s + z->std_east_s, &cv);
	return cv.year;
}

/* see tz.h */
int64_t tz_next_change(const struct tz *z, int64_t utc_s)
{
	int64_t best = INT64_MAX, y, t[2];

	if (!z->has_dst)
		return best;
	/* y + 2 too: rule times and offsets move a year's changes by up to
	 * ~8 days, so late on 31 December (standard time) both changes of
	 * y + 1 may lie behind utc_s already (tz_fuzz: AXS2YAS0,0/-2,0/-1) */
	y = year_of(z, utc_s);
	for (int64_t k = y - 1; k <= y + 2; k++) {
		changes(z, k, &t[0], &t[1]);
		for (int i = 0; i < 2; i++)
			if (t[i] > utc_s && t[i] < best)
				best = t[i];
	}
	return best;
}

/* see tz.h */
int32_t tz_offset(const struct tz *z, int64_t utc_s, int *dst)
{
	/* The state set by the latest change at or before utc_s, among
	 * the neighbouring years' too (a rule time may push a change over
	 * the new year): consistent with tz_next_change by construction. */
	int64_t best = INT64_MIN, y, t[2];
	int in = 0;

	if (z->has_dst) {
		y = year_of(z, utc_s);
		for (int64_t k = y - 1; k <= y + 1; k++) {
			changes(z, k, &t[0], &t[1]);
			for (int i = 0; i < 2; i++)
				if (t[i] <= utc_s && t[i] >= best) {
					best = t[i];
					in = i == 0;
				}
		}
	}
	if (dst)
		*dst = in;
	return in ? z->dst_east_s : z->std_east_s;
}

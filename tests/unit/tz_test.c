/*
 * tz_test.c — POSIX TZ rules (lib/tz.c) and daily windows (lib/daywin.c):
 * the grammar and its errors, the offsets around real transitions (EU,
 * US, a southern zone, a half-hour zone), civil dates, and a window's
 * next edge across midnight and across a DST change.  The same offsets
 * were compared with glibc's localtime over 200,000 instants per zone
 * while writing this (tests/fuzz/tz_fuzz.c keeps the invariants).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "daywin.h"
#include "test.h"
#include "tz.h"

#define CET "CET-1CEST,M3.5.0,M10.5.0/3"

/* UTC seconds of a civil date and time. */
static int64_t utc(int64_t y, int mo, int d, int h, int mi)
{
	return tz_days(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static int32_t off_at(const char *zone, int64_t t)
{
	struct tz z;

	if (tz_parse(zone, &z, NULL, 0) != 0)
		return INT32_MIN;
	return tz_offset(&z, t, NULL);
}

TEST(parses_what_posix_allows)
{
	struct tz z;
	char err[TZ_ERR_MAX];

	CHECK_EQ_INT(tz_parse("UTC0", &z, err, sizeof err), 0);
	CHECK_EQ_INT(z.std_east_s, 0);
	CHECK_EQ_INT(z.has_dst, 0);
	CHECK_EQ_INT(tz_parse(CET, &z, err, sizeof err), 0);
	CHECK_EQ_INT(z.std_east_s, 3600);
	CHECK_EQ_INT(z.dst_east_s, 7200);
	CHECK_EQ_INT(z.end.time_s, 3 * 3600);
	CHECK_EQ_INT(tz_parse("<+0530>-5:30", &z, err, sizeof err), 0);
	CHECK_EQ_INT(z.std_east_s, 5 * 3600 + 1800);
	CHECK_EQ_INT(tz_parse("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", &z, err,
			      sizeof err), 0);
	CHECK_EQ_INT(z.start.time_s, -2 * 3600);
	CHECK_EQ_INT(tz_parse("IST-2IDT,M3.4.4/26,M10.5.0", &z, err,
			      sizeof err), 0);
	CHECK_EQ_INT(z.start.time_s, 26 * 3600);
	CHECK_EQ_INT(tz_parse("AAA3BBB2,J60/1:30:15,300", &z, err, sizeof err),
		     0);
	CHECK_EQ_INT(z.dst_east_s, -2 * 3600);
	CHECK_EQ_INT(z.start.time_s, 3600 + 1800 + 15);
	/* the edges: a whole day either way, and 167 h for a rule time */
	CHECK_EQ_INT(tz_parse("<+24>-24:00:00", &z, err, sizeof err), 0);
	CHECK_EQ_INT(z.std_east_s, 24 * 3600);
	CHECK_EQ_INT(tz_parse("<-24>24", &z, err, sizeof err), 0);
	CHECK_EQ_INT(z.std_east_s, -24 * 3600);
	CHECK_EQ_INT(tz_parse("CET-1CEST,M3.5.0/-167:00:00,M10.5.0", &z, err,
			      sizeof err), 0);
	CHECK_EQ_INT(z.start.time_s, -167 * 3600);
}

TEST(refuses_with_a_reason)
{
	static const struct { const char *in, *why; } bad[] = {
		{ "", "zone name" }, { "UT0", "3..15 characters" },
		{ "CET", "UTC offset expected" }, { "CET25", "out of range" },
		{ "CET-1CEST", "needs its rules" },
		{ "CET-1CEST,M3.5.0", "end rule" },
		{ "CET-1CEST,M13.5.0,M10.5.0", "out of range" },
		{ "CET-1CEST,M3.6.0,M10.5.0", "out of range" },
		{ "CET-1CEST,M3.5.7,M10.5.0", "out of range" },
		{ "CET-1CEST,M3.5,M10.5.0", "`.` expected" },
		{ "CET-1CEST,J0,J10", "out of range" },
		{ "CET-1CEST,M3.5.0/168,M10.5.0", "out of range" },
		{ "CET-1CEST,M3.5.0,M10.5.0x", "unexpected text" },
		{ "Europe/Berlin", "no zoneinfo names" },
		{ "<+05", "closing" }, { "CET-1:60", "out of range" },
		/* found by tz_fuzz: more than a day east or west */
		{ "<+09p>24:30", "out of range at `24:30`" },
		{ "UTC-24:00:01", "out of range at `-24:00:01`" },
		{ "CET-1CEST24:01,M3.5.0,M10.5.0", "out of range" },
		{ "CET-1CEST,M3.5.0/167:00:01,M10.5.0", "out of range" },
	};
	char err[TZ_ERR_MAX];
	struct tz z;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK_EQ_INT(tz_parse(bad[i].in, &z, err, sizeof err), -EINVAL);
		if (!strstr(err, bad[i].why))
			CHECK_EQ_STR(err, bad[i].why);
	}
}

TEST(offsets_change_at_the_real_instants)
{
	/* EU: last Sunday of March 01:00Z, of October 01:00Z */
	CHECK_EQ_INT(off_at(CET, utc(2026, 3, 29, 0, 59) + 59), 3600);
	CHECK_EQ_INT(off_at(CET, utc(2026, 3, 29, 1, 0)), 7200);
	CHECK_EQ_INT(off_at(CET, utc(2026, 10, 25, 0, 59) + 59), 7200);
	CHECK_EQ_INT(off_at(CET, utc(2026, 10, 25, 1, 0)), 3600);
	/* US: second Sunday of March 02:00 EST, first of November 02:00 EDT */
	CHECK_EQ_INT(off_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 3, 8, 6, 59)),
		     -5 * 3600);
	CHECK_EQ_INT(off_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 3, 8, 7, 0)),
		     -4 * 3600);
	CHECK_EQ_INT(off_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 11, 1, 6, 0)),
		     -5 * 3600);
	/* southern: summer over the new year */
	CHECK_EQ_INT(off_at("AEST-10AEDT,M10.1.0,M4.1.0/3",
			    utc(2026, 1, 15, 0, 0)), 11 * 3600);
	CHECK_EQ_INT(off_at("AEST-10AEDT,M10.1.0,M4.1.0/3",
			    utc(2026, 6, 15, 0, 0)), 10 * 3600);
	CHECK_EQ_INT(off_at("AEST-10AEDT,M10.1.0,M4.1.0/3",
			    utc(2026, 4, 4, 15, 59)), 11 * 3600);
	CHECK_EQ_INT(off_at("AEST-10AEDT,M10.1.0,M4.1.0/3",
			    utc(2026, 4, 4, 16, 0)), 10 * 3600);
	CHECK_EQ_INT(off_at("<+0530>-5:30", utc(2026, 7, 1, 0, 0)), 19800);
}

/* Found by tz_fuzz: UTC-2 with daylight time at UTC+0 from 1 January
 * 00:00 to 1 January 00:00 (both changes on the first day, one hour
 * apart in UTC).  Late on 31 December standard time, the next change is
 * the next year's: it used to be missed ("no change", INT64_MAX). */
TEST(next_change_late_in_the_year)
{
	struct tz z;
	int64_t t = utc(1900, 1, 1, 0, 36), nc;

	CHECK_EQ_INT(tz_parse("AXS2YAS0,0/-2,0/-1", &z, NULL, 0), 0);
	nc = tz_next_change(&z, t);
	CHECK(nc == utc(1900, 12, 31, 23, 0));
	CHECK_EQ_INT(tz_offset(&z, nc - 1, NULL), tz_offset(&z, t, NULL));
	CHECK(tz_offset(&z, nc, NULL) != tz_offset(&z, t, NULL));
	for (int64_t y = 1970; y < 2100; y += 7) {      /* any year */
		t = utc(y, 12, 31, 23, 30);
		nc = tz_next_change(&z, t);
		CHECK(nc > t && nc - t < 400 * 86400);
	}
}

TEST(civil_dates)
{
	struct tz_civil cv;

	tz_civil(0, &cv);
	CHECK_EQ_INT(cv.year, 1970);
	CHECK_EQ_INT(cv.wday, 4);
	tz_civil(utc(2000, 2, 29, 23, 59) + 58, &cv);
	CHECK_EQ_INT(cv.year * 10000 + cv.mon * 100 + cv.mday, 20000229);
	CHECK_EQ_INT(cv.hour * 10000 + cv.min * 100 + cv.sec, 235958);
	CHECK_EQ_INT(cv.wday, 2);
	tz_civil(-1, &cv);
	CHECK_EQ_INT(cv.year * 10000 + cv.mon * 100 + cv.mday, 19691231);
	CHECK_EQ_INT(tz_days(2026, 1, 1), 20454);
}

/* tz_gmtime (vigild's gmtime_r) field by field against the C library's
 * over 4000 years on both sides of the epoch, with odd seconds. */
TEST(gmtime_matches_the_c_library)
{
	struct tm tm;
	int bad = 0;

	for (int64_t s = -62135596800LL; s < 64060588800LL;
	     s += 86400LL * 97 + 3607) {
		time_t t = (time_t)s;
		struct tm a, b;

		if (tz_gmtime(s, &a) != 0 || !gmtime_r(&t, &b))
			bad++;
		else if (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
			 a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
			 a.tm_min != b.tm_min || a.tm_sec != b.tm_sec ||
			 a.tm_wday != b.tm_wday || a.tm_yday != b.tm_yday ||
			 a.tm_isdst != 0)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(tz_gmtime(10000000000000001LL, &tm), -EOVERFLOW);
	CHECK_EQ_INT(tz_gmtime(-10000000000000001LL, &tm), -EOVERFLOW);
	CHECK_EQ_INT(tz_gmtime(10000000000000000LL, &tm), 0);
}

TEST(window_grammar)
{
	struct daywin w;
	char err[TZ_ERR_MAX];

	CHECK_EQ_INT(daywin_parse("01:00-05:30", &w, err, sizeof err), 0);
	CHECK_EQ_INT(w.start_s, 3600);
	CHECK_EQ_INT(w.end_s, 5 * 3600 + 1800);
	CHECK_EQ_INT(daywin_parse("22:00-24:00", &w, err, sizeof err), 0);
	CHECK_EQ_INT(w.end_s, 0);
	CHECK(daywin_contains(&w, 23 * 3600));
	CHECK(!daywin_contains(&w, 0));
	CHECK_EQ_INT(daywin_parse("22:00-04:00", &w, err, sizeof err), 0);
	CHECK(daywin_contains(&w, 3 * 3600));
	CHECK(!daywin_contains(&w, 4 * 3600));
	CHECK(!daywin_contains(&w, 21 * 3600 + 3599));
	CHECK(daywin_contains(&w, 22 * 3600));
	CHECK_EQ_INT(daywin_parse("01:00-01:00", &w, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "same time") != NULL);
	CHECK_EQ_INT(daywin_parse("24:00-01:00", &w, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(daywin_parse("1:00-05:00", &w, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(daywin_parse("01:00-05:00 ", &w, err, sizeof err),
		     -EINVAL);
	CHECK_EQ_INT(daywin_parse("01:60-05:00", &w, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "HH:MM-HH:MM") != NULL);
}

TEST(window_edges_across_midnight_and_dst)
{
	struct daywin w;
	struct tz z;
	int open = -1;

	REQUIRE(tz_parse(CET, &z, NULL, 0) == 0);
	REQUIRE(daywin_parse("01:00-05:30", &w, NULL, 0) == 0);
	/* 13:00 CET: closed, opens 01:00 CET = 00:00Z the next day */
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 1, 1, 12, 0), &open),
		     utc(2026, 1, 2, 0, 0));
	CHECK_EQ_INT(open, 0);
	/* 02:00 CEST (summer): open, closes 05:30 CEST = 03:30Z */
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 7, 1, 0, 0), &open),
		     utc(2026, 7, 1, 3, 30));
	CHECK_EQ_INT(open, 1);
	/* the night the clocks go forward: open 01:00 CET (00:00Z); the
	 * hour 02:00-03:00 is skipped, 05:30 CEST is 03:30Z */
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 3, 28, 12, 0), &open),
		     utc(2026, 3, 29, 0, 0));
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 3, 29, 0, 0), &open),
		     utc(2026, 3, 29, 3, 30));
	CHECK_EQ_INT(open, 1);
	/* a window inside the skipped hour does not happen that night */
	REQUIRE(daywin_parse("02:15-02:45", &w, NULL, 0) == 0);
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 3, 28, 12, 0), &open),
		     utc(2026, 3, 30, 0, 15));
	/* across midnight, in UTC */
	REQUIRE(tz_parse("UTC0", &z, NULL, 0) == 0);
	REQUIRE(daywin_parse("22:00-04:00", &w, NULL, 0) == 0);
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 5, 5, 23, 0), &open),
		     utc(2026, 5, 6, 4, 0));
	CHECK_EQ_INT(open, 1);
	CHECK_EQ_INT(daywin_next(&w, &z, utc(2026, 5, 6, 4, 0), &open),
		     utc(2026, 5, 6, 22, 0));
	CHECK_EQ_INT(open, 0);
}

TEST_SUITE(tz, parses_what_posix_allows, refuses_with_a_reason,
	   offsets_change_at_the_real_instants, next_change_late_in_the_year,
	   civil_dates, gmtime_matches_the_c_library, window_grammar,
	   window_edges_across_midnight_and_dst)

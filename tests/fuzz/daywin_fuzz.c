/*
 * daywin_fuzz.c — libFuzzer target for the backup.window parser and
 * the next-edge computation (lib/daywin.c) the schedule relies on.
 *
 * Input: byte 0 picks a zone (UTC, EU, US, a southern one, a fixed
 * offset, an odd-rule one), bytes 1..8 an instant (years ~1970..2500),
 * the rest is the window text (NUL-terminated copy).
 * Properties checked (__builtin_trap on violation):
 *   - the verdict is 0 or -EINVAL (with a printable message);
 *   - a parsed window has start != end, both within a day;
 *   - daywin_next returns an instant after t and at most three days
 *     later, the window's state there differs from the state at t, and
 *     is the same as at t at 32 points in between (the edge is the
 *     first change).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "daywin.h"

static const char *const zones[] = {
	"UTC0", "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0",
	"AEST-10AEDT,M10.1.0,M4.1.0/3", "<+0530>-5:30",
	"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
};

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int state_at(const struct daywin *w, const struct tz *z, int64_t t)
{
	int64_t l = t + tz_offset(z, t, NULL);

	return daywin_contains(w, (int32_t)(((l % 86400) + 86400) % 86400));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[32], err[TZ_ERR_MAX];
	struct daywin w;
	struct tz z;
	uint64_t raw = 0;
	int64_t t, next;
	size_t n;
	int open = -1, ret;

	if (size < 9)
		return 0;
	require(tz_parse(zones[data[0] % (sizeof zones / sizeof zones[0])],
			 &z, NULL, 0) == 0);
	memcpy(&raw, data + 1, 8);
	t = (int64_t)(raw % (530ULL * 31556952ULL));
	n = size - 9 < sizeof s - 1 ? size - 9 : sizeof s - 1;
	memcpy(s, data + 9, n);
	s[n] = '\0';
	ret = daywin_parse(s, &w, err, sizeof err);
	require(ret == 0 || ret == -EINVAL);
	if (ret < 0) {
		size_t len = strnlen(err, sizeof err);

		require(len > 0 && len < sizeof err);
		return 0;
	}
	require(w.start_s != w.end_s && w.start_s >= 0 && w.start_s < 86400 &&
		w.end_s >= 0 && w.end_s < 86400);
	next = daywin_next(&w, &z, t, &open);
	require(open == state_at(&w, &z, t));
	require(next > t && next <= t + 3 * 86400);
	require(state_at(&w, &z, next) != open);
	for (int64_t k = 0; k < 32; k++)
		require(state_at(&w, &z, t + (next - t) * k / 32) == open);
	return 0;
}

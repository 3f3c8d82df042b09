/*
 * tz_fuzz.c — libFuzzer target for the POSIX TZ rule parser and its
 * evaluation (lib/tz.c) behind time.zone.
 *
 * Input: the first 8 bytes pick an instant (reduced to years
 * 1900..2500), the rest is the TZ string (NUL-terminated copy).
 * Properties checked (__builtin_trap on violation):
 *   - the verdict is 0 or -EINVAL; a refusal leaves a non-empty,
 *     NUL-terminated, printable message;
 *   - parsing is deterministic (the same struct twice);
 *   - offsets stay within what the grammar allows (|std| <= 24 h,
 *     |dst| <= 25 h); tz_offset returns std or dst and says which;
 *   - the offset does not change between an instant and the next
 *     change tz_next_change reports (checked at both ends and the
 *     middle), and without daylight time there is no change;
 *   - tz_civil and tz_days round-trip (local time of the instant).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tz.h"

#define YEAR_S 31556952LL
#define T_MIN (-70LL * YEAR_S)           /* ~1900 */
#define T_SPAN (600LL * YEAR_S)          /* .. ~2500 */

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_civil(int64_t t)
{
	struct tz_civil cv;

	tz_civil(t, &cv);
	require(cv.mon >= 1 && cv.mon <= 12 && cv.mday >= 1 && cv.mday <= 31);
	require(cv.hour < 24 && cv.min < 60 && cv.sec < 60);
	require(cv.wday >= 0 && cv.wday < 7);
	require(tz_days(cv.year, cv.mon, cv.mday) * 86400 + cv.hour * 3600 +
		cv.min * 60 + cv.sec == t);
}

static void check_zone(const struct tz *z, int64_t t)
{
	int dst = -1;
	int32_t off = tz_offset(z, t, &dst);
	int64_t nc = tz_next_change(z, t);

	require(z->std_east_s >= -24 * 3600 && z->std_east_s <= 24 * 3600);
	require(z->dst_east_s >= -25 * 3600 && z->dst_east_s <= 25 * 3600);
	require(dst == 0 || dst == 1);
	require(off == (dst ? z->dst_east_s : z->std_east_s));
	check_civil(t + off);
	if (!z->has_dst) {
		require(nc == INT64_MAX && dst == 0);
		return;
	}
	require(nc > t && nc != INT64_MAX);
	if (nc - t > 3 * YEAR_S)
		return;         /* a rule pair that never changes in a year */
	require(tz_offset(z, nc - 1, NULL) == off);
	require(tz_offset(z, t + (nc - t) / 2, NULL) == off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[TZ_TEXT_MAX * 2], err[TZ_ERR_MAX];
	struct tz a, b;
	uint64_t raw = 0;
	int64_t t;
	size_t n;
	int ret;

	if (size < 8)
		return 0;
	memcpy(&raw, data, 8);
	t = T_MIN + (int64_t)(raw % (uint64_t)T_SPAN);
	n = size - 8 < sizeof s - 1 ? size - 8 : sizeof s - 1;
	memcpy(s, data + 8, n);
	s[n] = '\0';
	memset(err, 'x', sizeof err);
	ret = tz_parse(s, &a, err, sizeof err);
	require(ret == 0 || ret == -EINVAL);
	if (ret < 0) {
		size_t len = strnlen(err, sizeof err);

		require(len > 0 && len < sizeof err);
		for (size_t i = 0; i < len; i++)
			require(err[i] >= 0x20 && err[i] < 0x7f);
		return 0;
	}
	require(err[0] == '\0');
	require(tz_parse(s, &b, NULL, 0) == 0 && !memcmp(&a, &b, sizeof a));
	check_zone(&a, t);
	return 0;
}

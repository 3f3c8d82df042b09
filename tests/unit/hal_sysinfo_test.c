/*
 * hal_sysinfo_test.c — contract of hal/sysinfo.h on both implementations.
 */
#include <errno.h>
#include <stdio.h>

#include "hal/sysinfo.h"
#include "test.h"

TEST(read_gives_sane_values)
{
	struct hal_sysinfo si;

	memset(&si, 0xa5, sizeof si);
	CHECK_EQ_INT(hal_sysinfo_read(&si), 0);
	CHECK(si.mem_total > 0);
	CHECK(si.mem_available <= si.mem_total);
	CHECK(si.uptime_s < 100ULL * 365 * 86400);
	for (int i = 0; i < 3; i++)
		CHECK(si.load_milli[i] < 10000000u);
	CHECK(hal_sysinfo_uptime_s() >= 0);
	CHECK(hal_sysinfo_uptime_s() >= (int64_t)si.uptime_s);
}

TEST(missing_thermal_zone_is_enoent)
{
	char zone[300];
	int32_t t = 12345;

	snprintf(zone, sizeof zone, "%s/thermal_zone9", test_tmpdir());
	CHECK_EQ_INT(hal_sysinfo_thermal(zone, &t), -ENOENT);
	CHECK_EQ_INT(t, 12345);
}

TEST_SUITE(hal_sysinfo, read_gives_sane_values,
	   missing_thermal_zone_is_enoent)

/*
 * hal/sim/sysinfo.c — figures set by the test (hal_sim_sysinfo_set) and
 * up to SIM_THERMAL_MAX thermal zones (hal_sim_thermal_set).  Uptime
 * runs with the virtual clock: the set uptime plus the ms since it was
 * set.  Start state: zeros, mem_total 64 MiB, mem_available 32 MiB.
 */
#include "hal/sysinfo.h"

#include <errno.h>
#include <string.h>

#include "sim_int.h"

#define SIM_THERMAL_MAX 4
#define SIM_MIB (1024ULL * 1024ULL)

struct sim_zone {
	int used;
	char dir[HAL_PATH_MAX];
	int32_t milli_c;
	int err;
};

static struct hal_sysinfo sim_si = {
	.mem_total = 64 * SIM_MIB,
	.mem_available = 32 * SIM_MIB,
};
static uint64_t sim_si_set_at; /* sim_now when sim_si was set */
static struct sim_zone sim_zones[SIM_THERMAL_MAX];

/* see sim_int.h */
void sim_sysinfo_reset(void)
{
	memset(&sim_si, 0, sizeof sim_si);
	sim_si.mem_total = 64 * SIM_MIB;
	sim_si.mem_available = 32 * SIM_MIB;
	sim_si_set_at = 0;
	memset(sim_zones, 0, sizeof sim_zones);
}

/* see hal/sim.h */
void hal_sim_sysinfo_set(const struct hal_sysinfo *si)
{
	if (!si)
		return;
	sim_si = *si;
	sim_si_set_at = sim_now;
}

/* see hal/sim.h */
void hal_sim_thermal_set(const char *zone_dir, int32_t milli_c, int err)
{
	struct sim_zone *free_z = NULL;

	if (!zone_dir || strlen(zone_dir) >= HAL_PATH_MAX)
		return;
	for (int i = 0; i < SIM_THERMAL_MAX; i++) {
		struct sim_zone *z = &sim_zones[i];

		if (z->used && strcmp(z->dir, zone_dir) == 0) {
			free_z = z;
			break;
		}
		if (!z->used && !free_z)
			free_z = z;
	}
	if (!free_z)
		return; /* more zones than a board has: ignored */
	free_z->used = 1;
	strcpy(free_z->dir, zone_dir); /* length checked above */
	free_z->milli_c = milli_c;
	free_z->err = err < 0 ? err : 0;
}

/* see hal/sysinfo.h */
int hal_sysinfo_read(struct hal_sysinfo *si)
{
	if (!si)
		return -EIO;
	*si = sim_si;
	si->uptime_s = sim_si.uptime_s + (sim_now - sim_si_set_at) / 1000;
	return 0;
}

/* see hal/sysinfo.h */
int hal_sysinfo_thermal(const char *zone_dir, int32_t *milli_c)
{
	if (!zone_dir || !milli_c)
		return -ENOENT;
	for (int i = 0; i < SIM_THERMAL_MAX; i++) {
		const struct sim_zone *z = &sim_zones[i];

		if (!z->used || strcmp(z->dir, zone_dir) != 0)
			continue;
		if (z->err < 0)
			return z->err;
		*milli_c = z->milli_c;
		return 0;
	}
	return -ENOENT;
}

/* see hal/sysinfo.h */
int64_t hal_sysinfo_uptime_s(void)
{
	return (int64_t)(sim_si.uptime_s + (sim_now - sim_si_set_at) / 1000);
}

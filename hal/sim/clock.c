/*
 * hal/sim/clock.c — the virtual clocks.  Monotonic time is sim_now (see
 * sim_int.h); wall time is sim_now plus an offset, so both move together.
 * Start state: mono 0, wall 2026-01-01T00:00:00Z.
 */
#include "hal/clock.h"

#include "sim_int.h"

/* 2026-01-01T00:00:00Z: (56 * 365 + 14 leap days) * 86400000 ms */
#define SIM_WALL_START_MS 1767225600000LL
/* 2024-01-01T00:00:00Z, the same bound as hal/linux/clock.c */
#define SIM_SANE_WALL_MS 1704067200000LL

static int64_t sim_wall_base = SIM_WALL_START_MS;

/* see sim_int.h */
void sim_clock_reset(void)
{
	sim_wall_base = SIM_WALL_START_MS;
}

/* see hal/clock.h */
uint64_t hal_clock_mono_ms(void)
{
	return sim_now;
}

/* see hal/clock.h */
int64_t hal_clock_wall_ms(void)
{
	return sim_wall_base + (int64_t)sim_now;
}

/* see hal/clock.h */
int hal_clock_wall_sane(void)
{
	return hal_clock_wall_ms() >= SIM_SANE_WALL_MS;
}

/* see hal/sim.h */
void hal_sim_clock_set_wall(int64_t wall_ms)
{
	sim_wall_base = wall_ms - (int64_t)sim_now;
}

/*
 * hal/sim/power.c — reboots are counted (hal_sim_power_reboots) and
 * answered with the result the test chose (hal_sim_power_set_result).
 */
#include "hal/power.h"

#include <errno.h>

#include "hal/sim.h"
#include "sim_int.h"

static unsigned sim_reboots;
static int sim_reboot_result;

/* see sim_int.h */
void sim_power_reset(void)
{
	sim_reboots = 0;
	sim_reboot_result = -EPERM;
}

/* see hal/sim.h */
void hal_sim_power_set_result(int err)
{
	sim_reboot_result = err < 0 ? err : -EIO;
}

/* see hal/sim.h */
unsigned hal_sim_power_reboots(void)
{
	return sim_reboots;
}

/* see hal/power.h */
int hal_power_reboot(void)
{
	sim_reboots++;
	return sim_reboot_result;
}

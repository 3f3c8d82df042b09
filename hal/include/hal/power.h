/*
 * hal/power.h — restarting the board on request.
 *
 * The caller records why first (boot.h, the REQUESTED marker): after the
 * restart that marker is the only trace of the reason.
 */
#ifndef HAL_POWER_H
#define HAL_POWER_H

/*
 * Flushes file systems and restarts the board.  Returns only on failure.
 * @retval -EPERM the process may not reboot (no CAP_SYS_BOOT)
 * @retval -EIO any other refusal
 */
int hal_power_reboot(void);

#endif

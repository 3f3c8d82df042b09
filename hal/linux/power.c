/*
 * hal/linux/power.c — hal/power.h on reboot(2).
 */
/* sync(2) and reboot(2) are not POSIX */
#define _DEFAULT_SOURCE

#include "hal/power.h"

#include <errno.h>
#include <sys/reboot.h>
#include <unistd.h>

/* see hal/power.h */
int hal_power_reboot(void)
{
	sync(); /* reboot(2) does not flush dirty pages itself */
	if (reboot(RB_AUTOBOOT) < 0)
		return errno == EPERM ? -EPERM : -EIO;
	return -EIO; /* not reached: the kernel restarts the board */
}

/*
 * hal/sim/wdt.c — a fake watchdog device with the Linux semantics.
 *
 * Opening arms it (last kick = now); a kick moves last_kick_ms; a magic
 * close disarms it, a plain close leaves it armed.  It fires when armed
 * and more than timeout_s passed since the last kick; `fired` is sticky
 * (the board would have reset) and is re-evaluated whenever the virtual
 * clock moves (sim_wdt_update, from sim_time_set) and on every call.
 * Timeouts from SIM_WDT_MIN_S to SIM_WDT_MAX_S are accepted as asked,
 * like i6300esb (1..2046 s).
 */
#include "hal/wdt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

#define SIM_WDT_MIN_S 1
#define SIM_WDT_MAX_S 2046
#define SIM_WDT_IDENTITY "vigil sim watchdog"

static struct hal_sim_wdt sim_wdt;
static char sim_wdt_device[HAL_PATH_MAX];

/* see sim_int.h */
void sim_wdt_reset(void)
{
	memset(&sim_wdt, 0, sizeof sim_wdt);
	sim_wdt_device[0] = '\0';
}

/* see sim_int.h */
void sim_wdt_update(void)
{
	uint64_t limit = (uint64_t)sim_wdt.timeout_s * 1000;

	if (sim_wdt.armed && sim_now - sim_wdt.last_kick_ms > limit)
		sim_wdt.fired = 1;
}

/* see hal/sim.h */
void hal_sim_wdt_install(const char *device, int timeout_s,
			 unsigned boot_status)
{
	sim_wdt_reset();
	if (!device || strlen(device) >= sizeof sim_wdt_device)
		return;
	snprintf(sim_wdt_device, sizeof sim_wdt_device, "%s", device);
	sim_wdt.present = 1;
	sim_wdt.timeout_s = timeout_s > 0 ? timeout_s : 30;
	sim_wdt.boot_status = boot_status;
}

/* see hal/sim.h */
const struct hal_sim_wdt *hal_sim_wdt_state(void)
{
	sim_wdt_update();
	return &sim_wdt;
}

static int sim_wdt_check(const struct hal_wdt *w)
{
	if (!w || w->fd < 0 || !sim_fd_get(w->fd, SIM_FD_WDT))
		return -EBADF;
	sim_wdt_update();
	return 0;
}

/* see hal/wdt.h */
int hal_wdt_open(struct hal_wdt *w, const char *device)
{
	int fd;

	if (!w || !device)
		return -ENOENT;
	if (w->fd >= 0)
		return -EALREADY;
	if (!sim_wdt.present || strcmp(device, sim_wdt_device) != 0)
		return -ENOENT;
	if (sim_wdt.open)
		return -EBUSY;
	fd = sim_fd_alloc(SIM_FD_WDT, 0);
	if (fd < 0)
		return -EBUSY;
	sim_wdt_update(); /* a fire before this open stays recorded */
	sim_wdt.open = 1;
	sim_wdt.armed = 1;
	sim_wdt.magic_closed = 0;
	sim_wdt.last_kick_ms = sim_now;
	w->fd = fd;
	return 0;
}

/* see hal/wdt.h */
int hal_wdt_set_timeout(struct hal_wdt *w, int seconds)
{
	int ret = sim_wdt_check(w);

	if (ret < 0)
		return ret;
	if (seconds < SIM_WDT_MIN_S || seconds > SIM_WDT_MAX_S)
		return -EINVAL;
	/* Linux drivers also restart the countdown on a new timeout */
	sim_wdt.timeout_s = seconds;
	sim_wdt.last_kick_ms = sim_now;
	return seconds;
}

/* see hal/wdt.h */
int hal_wdt_get_timeout(struct hal_wdt *w)
{
	int ret = sim_wdt_check(w);

	return ret < 0 ? ret : sim_wdt.timeout_s;
}

/* see hal/wdt.h */
int hal_wdt_kick(struct hal_wdt *w)
{
	int ret = sim_wdt_check(w);

	if (ret < 0)
		return ret;
	if (sim_fault() < 0)
		return -EIO; /* the only failure a kick has */
	sim_wdt.kicks++;
	sim_wdt.last_kick_ms = sim_now;
	return 0;
}

/* see hal/wdt.h */
int hal_wdt_boot_status(struct hal_wdt *w)
{
	int ret = sim_wdt_check(w);

	return ret < 0 ? ret : (int)(sim_wdt.boot_status & 0x7f);
}

/* see hal/wdt.h */
int hal_wdt_identity(struct hal_wdt *w, char *buf, unsigned cap)
{
	int ret = sim_wdt_check(w);

	if (ret < 0)
		return ret;
	if (!buf || cap == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (sizeof SIM_WDT_IDENTITY > cap)
		return -ENOSPC;
	memcpy(buf, SIM_WDT_IDENTITY, sizeof SIM_WDT_IDENTITY);
	return (int)sizeof SIM_WDT_IDENTITY - 1;
}

/* see hal/wdt.h */
int hal_wdt_close(struct hal_wdt *w, int magic)
{
	int ret = sim_wdt_check(w);

	if (ret < 0)
		return ret;
	/* a failed magic write leaves it armed, as on Linux */
	if (magic && sim_fault() < 0)
		ret = -EIO;
	else if (magic)
		sim_wdt.armed = 0;
	sim_wdt.magic_closed = magic && ret == 0;
	sim_wdt.open = 0;
	sim_fd_free(w->fd);
	w->fd = -1;
	return ret;
}

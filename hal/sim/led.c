/*
 * hal/sim/led.c — LEDs as files in sim storage, the way a fake LED class
 * directory behaves on Linux: <led_dir>/trigger and <led_dir>/brightness
 * must exist (else -ENOENT), "on" writes "1", "off" "0", a trigger its
 * name.  Tests create the files and read them back with hal_storage_read.
 */
#include "hal/led.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

static int sim_led_write(const char *dir, const char *file, const char *text)
{
	char path[HAL_PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= sizeof path)
		return -ENOENT;
	return sim_storage_overwrite(path, text, strlen(text));
}

/* see hal/led.h */
int hal_led_set(const char *led_dir, int on)
{
	int ret = -EIO;

	if (!led_dir)
		return -ENOENT;
	ret = sim_led_write(led_dir, "trigger", "none");
	if (ret < 0)
		return ret;
	return sim_led_write(led_dir, "brightness", on ? "1" : "0");
}

/* see hal/led.h */
int hal_led_trigger(const char *led_dir, const char *trigger)
{
	if (!led_dir)
		return -ENOENT;
	if (!trigger || !*trigger || strpbrk(trigger, " \t\n/") ||
	    strlen(trigger) >= HAL_PATH_MAX)
		return -EINVAL;
	return sim_led_write(led_dir, "trigger", trigger);
}

/*
 * hal/linux/led.c — LEDs through the LED class in sysfs:
 * <led_dir>/trigger takes a trigger name, <led_dir>/brightness a number.
 *
 * "On" writes max_brightness (a PWM LED lit with 1 would be barely
 * visible); when that file cannot be read, 1.  The files are opened
 * without O_CREAT: a directory without them is not an LED (-ENOENT).
 */
#include "hal/led.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "<led_dir>/max_brightness" must fit; sysfs paths are far shorter. */
#define LED_PATH_MAX 256
/* a brightness value: up to 10 digits, newline, NUL */
#define LED_VALUE_MAX 16

static int led_path(char *buf, const char *dir, const char *file)
{
	int n = snprintf(buf, LED_PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= LED_PATH_MAX ? -ENOENT : 0;
}

static int led_open_err(int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return -ENOENT;
	return e == EACCES || e == EPERM || e == EROFS ? -EACCES : -EIO;
}

/* Writes text to <dir>/<file> in one write(), as sysfs wants. */
static int led_write(const char *dir, const char *file, const char *text)
{
	char path[LED_PATH_MAX];
	size_t len = strlen(text);
	ssize_t r;
	int ret = -EIO, fd;

	if ((ret = led_path(path, dir, file)) < 0)
		return ret;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return led_open_err(errno);
	do {
		r = write(fd, text, len);
	} while (r < 0 && errno == EINTR);
	if (r == (ssize_t)len)
		ret = 0;
	else if (r < 0 && errno == EINVAL)
		ret = -EINVAL; /* the kernel rejected the value */
	else
		ret = -EIO;
	close(fd);
	return ret;
}

/* max_brightness as text ("255"), or "1" when unreadable. */
static void led_max(const char *dir, char *out)
{
	char path[LED_PATH_MAX];
	ssize_t r = -1;
	int fd;

	snprintf(out, LED_VALUE_MAX, "1");
	if (led_path(path, dir, "max_brightness") < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	r = read(fd, out, LED_VALUE_MAX - 1);
	close(fd);
	if (r <= 0 || out[0] < '1' || out[0] > '9') {
		snprintf(out, LED_VALUE_MAX, "1");
		return;
	}
	out[r] = '\0';
	out[strspn(out, "0123456789")] = '\0';
}

/* see hal/led.h */
int hal_led_set(const char *led_dir, int on)
{
	char val[LED_VALUE_MAX];
	int ret = -EIO;

	if (!led_dir)
		return -ENOENT;
	ret = led_write(led_dir, "trigger", "none");
	if (ret < 0)
		return ret == -EINVAL ? -EIO : ret;
	if (on)
		led_max(led_dir, val);
	else
		snprintf(val, sizeof val, "0");
	ret = led_write(led_dir, "brightness", val);
	return ret == -EINVAL ? -EIO : ret;
}

/* see hal/led.h */
int hal_led_trigger(const char *led_dir, const char *trigger)
{
	if (!led_dir)
		return -ENOENT;
	/* a name, not a path or a list: the kernel would only reject it */
	if (!trigger || !*trigger || strpbrk(trigger, " \t\n/") ||
	    strlen(trigger) >= LED_PATH_MAX)
		return -EINVAL;
	return led_write(led_dir, "trigger", trigger);
}

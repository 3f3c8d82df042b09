/*
 * hal/linux/wdt.c — the Linux watchdog device API (/dev/watchdog*).
 *
 * A kick is a one-byte write of 'k' (any byte but 'V' kicks; 'V' arms
 * the magic close), so a plain file can stand in for the device and tests
 * count bytes.  Timeout, status and identity use the WDIOC_* ioctls; a
 * plain file answers them with ENOTTY, reported as -ENOTSUP.
 */
#include "hal/wdt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * From <linux/watchdog.h>, which musl does not ship (it has no linux/
 * headers).  The layout and numbers are kernel ABI and never change;
 * _IOR/_IOWR come from musl's <sys/ioctl.h>, which encodes them per
 * architecture.
 */
struct wdt_watchdog_info {
	uint32_t options;          /* WDIOF_* the driver supports */
	uint32_t firmware_version;
	uint8_t identity[32];      /* driver name, NUL-padded */
};

#define WDIOC_GETSUPPORT    _IOR('W', 0, struct wdt_watchdog_info)
#define WDIOC_GETBOOTSTATUS _IOR('W', 2, int)
#define WDIOC_KEEPALIVE     _IOR('W', 5, int)
#define WDIOC_SETTIMEOUT    _IOWR('W', 6, int)
#define WDIOC_GETTIMEOUT    _IOR('W', 7, int)

#define WDT_KICK_BYTE  'k'
#define WDT_MAGIC_BYTE 'V'

/* Unknown ioctl (ENOTTY: plain file) and EOPNOTSUPP both mean the device
 * cannot do it. */
static int wdt_ioctl_err(void)
{
	int e = errno;

	if (e == ENOTTY || e == EOPNOTSUPP || e == ENOSYS)
		return -ENOTSUP;
	if (e == EINVAL)
		return -EINVAL;
	return -EIO;
}

/* musl declares ioctl(int, int, ...), glibc ioctl(int, unsigned long, ...);
 * the kernel takes the request as 32 bits either way (gcc converts
 * modulo 2^32). */
static int wdt_ioctl(int fd, unsigned long req, void *arg)
{
#ifdef __GLIBC__
	return ioctl(fd, req, arg);
#else
	return ioctl(fd, (int)req, arg);
#endif
}

static int wdt_put(int fd, char c)
{
	for (;;) {
		ssize_t r = write(fd, &c, 1);

		if (r == 1)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -EIO;
	}
}

/* see hal/wdt.h */
int hal_wdt_open(struct hal_wdt *w, const char *device)
{
	int fd;

	if (!w || !device)
		return -ENOENT;
	if (w->fd >= 0)
		return -EALREADY;
	fd = open(device, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e == EBUSY || e == EACCES || e == ENOENT)
			return -e;
		if (e == EPERM)
			return -EACCES;
		return e == ENOTDIR ? -ENOENT : -EIO;
	}
	w->fd = fd;
	return 0;
}

/* see hal/wdt.h */
int hal_wdt_set_timeout(struct hal_wdt *w, int seconds)
{
	int t = seconds;

	if (!w || w->fd < 0)
		return -EBADF;
	if (seconds <= 0)
		return -EINVAL;
	if (wdt_ioctl(w->fd, WDIOC_SETTIMEOUT, &t) < 0)
		return wdt_ioctl_err();
	/* drivers write back the timeout they actually set */
	return t > 0 ? t : seconds;
}

/* see hal/wdt.h */
int hal_wdt_get_timeout(struct hal_wdt *w)
{
	int t = 0;

	if (!w || w->fd < 0)
		return -EBADF;
	if (wdt_ioctl(w->fd, WDIOC_GETTIMEOUT, &t) < 0)
		return wdt_ioctl_err();
	return t > 0 ? t : -ENOTSUP;
}

/* see hal/wdt.h */
int hal_wdt_kick(struct hal_wdt *w)
{
	if (!w || w->fd < 0)
		return -EBADF;
	return wdt_put(w->fd, WDT_KICK_BYTE);
}

/* see hal/wdt.h */
int hal_wdt_boot_status(struct hal_wdt *w)
{
	int st = 0;

	if (!w || w->fd < 0)
		return -EBADF;
	if (wdt_ioctl(w->fd, WDIOC_GETBOOTSTATUS, &st) < 0)
		return wdt_ioctl_err();
	/* only the defined WDIOF_* reset-cause bits, never a negative */
	return st & 0x7f;
}

/* see hal/wdt.h */
int hal_wdt_identity(struct hal_wdt *w, char *buf, unsigned cap)
{
	struct wdt_watchdog_info info;
	size_t len = 0;

	if (!w || w->fd < 0)
		return -EBADF;
	if (!buf || cap == 0)
		return -EINVAL;
	buf[0] = '\0';
	memset(&info, 0, sizeof info);
	if (wdt_ioctl(w->fd, WDIOC_GETSUPPORT, &info) < 0)
		return wdt_ioctl_err();
	/* the kernel's field may lack a NUL: count at most 31 bytes */
	while (len < sizeof info.identity - 1 && info.identity[len])
		len++;
	if (len >= cap)
		return -ENOSPC;
	memcpy(buf, info.identity, len);
	buf[len] = '\0';
	return (int)len;
}

/* see hal/wdt.h */
int hal_wdt_close(struct hal_wdt *w, int magic)
{
	int ret = 0;

	if (!w || w->fd < 0)
		return -EBADF;
	if (magic)
		ret = wdt_put(w->fd, WDT_MAGIC_BYTE);
	/* close even when the magic failed: the fd must not leak, and the
	 * watchdog then stays armed, which is the safe side */
	close(w->fd);
	w->fd = -1;
	return ret;
}

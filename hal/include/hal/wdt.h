/*
 * hal/wdt.h — the hardware watchdog (Linux watchdog device API).
 *
 * Call order: hal_wdt_open, optionally hal_wdt_set_timeout, then
 * hal_wdt_kick at least every timeout; hal_wdt_close(w, 1) disarms it
 * (magic close), hal_wdt_close(w, 0) leaves it armed, so the board resets
 * unless someone else kicks it.
 *
 * A kick is a one-byte write: it works on every Linux watchdog driver and
 * on a plain file standing in for one (tests count the bytes; "V" marks a
 * magic close).  Timeout and status ioctls on a plain file return -ENOTSUP.
 */
#ifndef HAL_WDT_H
#define HAL_WDT_H

/* Boot status bits (Linux WDIOF_*). */
#define HAL_WDT_OVERHEAT  0x0001
#define HAL_WDT_FANFAULT  0x0002
#define HAL_WDT_EXTERN1   0x0004
#define HAL_WDT_EXTERN2   0x0008
#define HAL_WDT_POWERUNDER 0x0010
#define HAL_WDT_CARDRESET 0x0020 /* the last reset was caused by this watchdog */
#define HAL_WDT_POWEROVER 0x0040

#define HAL_WDT_IDENTITY_MAX 32

struct hal_wdt {
	int fd; /* -1 when closed */
};

/* A closed hal_wdt: start from this (a zeroed struct has fd 0, which
 * hal_wdt_open takes for an open one and refuses with -EALREADY). */
#define HAL_WDT_INIT { -1 }

/*
 * Opens the device; the kernel arms the watchdog at this point.
 * @retval 0 open (w->fd valid)
 * @retval -ENOENT no such device
 * @retval -EBUSY another process holds it
 * @retval -EACCES not permitted
 * @retval -EALREADY w is already open (w->fd >= 0: see HAL_WDT_INIT)
 */
int hal_wdt_open(struct hal_wdt *w, const char *device);

/*
 * Asks for a timeout; drivers round to what the hardware can do.
 * @retval >0 the timeout now in force, seconds
 * @retval -EINVAL out of the driver's range
 * @retval -ENOTSUP the device cannot change it
 * @retval -EBADF not open
 */
int hal_wdt_set_timeout(struct hal_wdt *w, int seconds);

/* @retval >0 timeout in seconds  @retval -ENOTSUP / -EBADF */
int hal_wdt_get_timeout(struct hal_wdt *w);

/* @retval 0 kicked  @retval -EBADF not open  @retval -EIO write failed */
int hal_wdt_kick(struct hal_wdt *w);

/*
 * Why the board last reset, as the driver saw it (HAL_WDT_* bits; 0 after
 * a cold power-on on drivers that can tell).
 * @retval >=0 the bits
 * @retval -ENOTSUP the device cannot tell
 * @retval -EBADF not open
 */
int hal_wdt_boot_status(struct hal_wdt *w);

/*
 * Driver identity string ("i6300ESB timer", ...), NUL-terminated; at most
 * HAL_WDT_IDENTITY_MAX - 1 characters, so a buffer of
 * HAL_WDT_IDENTITY_MAX always fits.
 * @retval >=0 length  @retval -ENOTSUP  @retval -EBADF
 * @retval -EINVAL buf NULL or cap 0
 * @retval -ENOSPC does not fit in cap (buf holds "")
 */
int hal_wdt_identity(struct hal_wdt *w, char *buf, unsigned cap);

/*
 * Closes the device.  magic != 0 writes the magic 'V' first, which stops
 * the watchdog on drivers without NOWAYOUT; magic == 0 leaves it running.
 * @retval 0 closed  @retval -EBADF not open
 * @retval -EIO magic write failed (closed anyway, watchdog left armed)
 */
int hal_wdt_close(struct hal_wdt *w, int magic);

#endif

/*
 * watchdog.h — the watchdog owner: opens the board's watchdog device,
 * sets its timeout and kicks it only while health allows (health_gate).
 *
 *   open --(tick: gate open, >= timeout/2 since last kick)--> kick
 *     |
 *     +--(tick: a required check unhealthy past its grace)--> stopped:
 *          boot marker "watchdog" written with the reason, no more kicks,
 *          the hardware resets the board after the timeout
 *     +--(watchdog_close(magic))--> closed: disarmed (graceful stop)
 *
 * Kicks happen only from watchdog_tick(), which the agent calls from its
 * health timer: if the event loop hangs, no tick runs and the board
 * resets; that is the "loop alive" half of the gate.  A deliberate stop
 * is final for the life of the process (a check that recovers during the
 * countdown does not bring kicks back: the marker already says why the
 * board is going down).  In safe mode (boot.h) the gate is recorded but
 * never stops the kicks, so a board caught in a reset loop stays up for
 * its operator.
 *
 * Device "" or "none": nothing is opened, the gate is still evaluated
 * and shown (development, and boards without a watchdog).
 *
 * Under a service manager (systemd: NOTIFY_SOCKET, hal/notify.h) the
 * same decision sends WATCHDOG=1 every WATCHDOG_USEC / 2: from the same
 * tick, only while the hardware kick would be allowed, never again after
 * a deliberate stop.  It does not depend on a device: with
 * watchdog.device = none the service manager is the only watchdog.  The
 * agent sends READY=1 once it is up (watchdog_notify) and STOPPING=1
 * goes out with the magic close.
 */
#ifndef VIGIL_WATCHDOG_H
#define VIGIL_WATCHDOG_H

#include <stdint.h>

#include "health.h"

/* Bounds of the agent tick that drives watchdog_tick (ms): often enough
 * to kick at timeout/2 with a tick of slack (timeout/4), never busier
 * than 10 per second nor lazier than once in 5 s (an idle agent wakes
 * for this tick; issue 18 wants at most one wakeup a second). */
#define WATCHDOG_TICK_MIN_MS 100u
#define WATCHDOG_TICK_MAX_MS 5000u

/*
 * Opens device with timeout_s, kicks once, and reads the boot status
 * into h->wdt.boot_status (negative: unknown).  A device that cannot
 * change its timeout (-ENOTSUP, a plain file) keeps timeout_s as the
 * assumed one.  Failures are logged and leave h->wdt.open = 0.
 * @retval 0 open, or no device configured ("" / "none")
 * @retval -ENOENT/-EBUSY/-EACCES/-EALREADY from hal_wdt_open
 * @retval -EINVAL timeout_s <= 0 or device longer than
 *         HEALTH_DEVICE_MAX - 1
 */
int watchdog_open(struct health *h, const char *device, int timeout_s,
		  uint64_t now_ms);

/*
 * The kick decision at now_ms (see the top).  Sets h->wdt.gated to the
 * reason kicks are withheld ("" when they are not).
 * @retval 1 kicked  @retval 0 not kicked (not due, gated, stopped, no
 *         device)
 * @retval -EIO the kick failed (counted in kick_errors; retried next tick)
 */
int watchdog_tick(struct health *h, uint64_t now_ms);

/*
 * Reads the service manager's environment (hal_notify_env, which also
 * removes it) and opens its socket; WATCHDOG_USEC sets notify_ms to half
 * of it (at least 1 ms).  Problems are logged; the agent runs on.
 * @retval 1 notifying  @retval 0 no NOTIFY_SOCKET
 * @retval -EINVAL a malformed variable  @retval -EIO no socket
 */
int watchdog_notify_open(struct health *h, uint64_t now_ms);

/*
 * Sends one state message ("READY=1", "STATUS=...") when notifying.
 * @retval 0 sent, or not notifying
 * @retval -EAGAIN/-EIO/-EMSGSIZE from hal_notify_send (counted in
 *         notify_errors)
 */
int watchdog_notify(struct health *h, const char *msg);

/* The agent tick period for this timeout and notify interval (see
 * WATCHDOG_TICK_*_MS: a quarter of the shorter one). */
uint32_t watchdog_tick_ms(const struct health *h);

/*
 * Closes the device; magic != 0 disarms it first (graceful stop) and
 * sends STOPPING=1 to the service manager.  The notify socket is closed
 * either way.
 * @retval 0 closed, or nothing was open
 * @retval -EIO the magic write failed (closed, watchdog left armed)
 */
int watchdog_close(struct health *h, int magic);

#endif

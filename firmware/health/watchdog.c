/*
 * watchdog.c — see watchdog.h.
 *
 * Invariant: h->wdt.open == (h->wdt.dev.fd >= 0).  last_kick_ms is the
 * time of the last kick or of the open (opening arms the countdown).
 * Notifying: h->wdt.notify.fd >= 0; WATCHDOG=1 wanted: notify_ms > 0.
 */
#include "watchdog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "log.h"
#include "metrics.h"

/* "STATUS=" + a reason: fits HAL_NOTIFY_MSG_MAX (see hal/notify.h) */
_Static_assert(7 + HEALTH_REASON_MAX + 16 <= HAL_NOTIFY_MSG_MAX,
	       "a STATUS= message could exceed HAL_NOTIFY_MSG_MAX");

/* see watchdog.h */
int watchdog_open(struct health *h, const char *device, int timeout_s,
		  uint64_t now_ms)
{
	struct health_wdt *w = &h->wdt;
	int ret;

	if (timeout_s <= 0 || !device ||
	    strlen(device) >= sizeof w->device)
		return -EINVAL;
	w->timeout_s = timeout_s;
	w->boot_status = -ENOTSUP;
	if (!device[0] || strcmp(device, "none") == 0) {
		w->device[0] = '\0';
		log_info("wdt", "no watchdog device: kicks are only simulated");
		return 0;
	}
	snprintf(w->device, sizeof w->device, "%s", device);
	ret = hal_wdt_open(&w->dev, device);
	if (ret < 0) {
		log_err("wdt", "%s: %s; running without a watchdog", device,
			strerror(-ret));
		return ret;
	}
	w->open = 1;
	ret = hal_wdt_set_timeout(&w->dev, timeout_s);
	if (ret > 0)
		w->timeout_s = ret;
	else if (ret != -ENOTSUP)
		log_warn("wdt", "%s: timeout %d s refused (%s); assuming it",
			 device, timeout_s, strerror(-ret));
	w->boot_status = hal_wdt_boot_status(&w->dev);
	w->last_kick_ms = now_ms;
	if (hal_wdt_kick(&w->dev) == 0)
		w->kicks++;
	else
		w->kick_errors++;
	log_info("wdt", "%s open, timeout %d s, boot status %d", device,
		 w->timeout_s, w->boot_status);
	return 0;
}

/* see watchdog.h */
int watchdog_notify_open(struct health *h, uint64_t now_ms)
{
	struct health_wdt *w = &h->wdt;
	struct hal_notify_env env;
	int ret = hal_notify_env(&env);

	if (ret < 0)
		log_warn("wdt", "malformed NOTIFY_SOCKET or WATCHDOG_USEC in "
			 "the environment: ignored");
	if (!env.socket[0])
		return ret;
	ret = hal_notify_open(&w->notify, env.socket);
	if (ret < 0) {
		log_err("wdt", "NOTIFY_SOCKET %s: %s", env.socket,
			strerror(-ret));
		return ret;
	}
	if (env.watchdog_usec) {
		uint64_t ms = env.watchdog_usec / 2000;

		w->notify_ms = ms == 0 ? 1 : ms > UINT32_MAX ? UINT32_MAX
							      : (uint32_t)ms;
	}
	w->last_notify_ms = now_ms;
	log_info("wdt", "service manager at %s%s", env.socket,
		 w->notify_ms ? ", watchdog notifications on" : "");
	return 1;
}

/* see watchdog.h */
int watchdog_notify(struct health *h, const char *msg)
{
	struct health_wdt *w = &h->wdt;
	int ret;

	if (w->notify.fd < 0)
		return 0;
	ret = hal_notify_send(&w->notify, msg);
	if (ret < 0) {
		w->notify_errors++;
		log_debug("wdt", "notify %.16s: %s", msg, strerror(-ret));
	}
	return ret;
}

/* WATCHDOG=1 when due; the caller has already applied the gate.  The
 * first one goes out at the first tick. */
static void wdt_notify_alive(struct health *h, uint64_t now_ms)
{
	struct health_wdt *w = &h->wdt;

	if (w->notify.fd < 0 || !w->notify_ms)
		return;
	if (w->notifies && now_ms - w->last_notify_ms < w->notify_ms)
		return;
	if (watchdog_notify(h, "WATCHDOG=1") == 0) {
		w->notifies++;
		w->last_notify_ms = now_ms;
	}
}

/* Stops kicking for good: marker first, so the next boot knows why.
 * Nothing will reset without a device or a service manager's watchdog,
 * so then nothing is marked. */
static void wdt_stop(struct health *h, const char *reason)
{
	char msg[HAL_NOTIFY_MSG_MAX];
	int ret = 0;

	h->wdt.stopped = 1;
	snprintf(msg, sizeof msg, "STATUS=stopping watchdog kicks: %s",
		 reason);
	(void)watchdog_notify(h, msg); /* counted in notify_errors */
	if (!h->wdt.open && !(h->wdt.notify.fd >= 0 && h->wdt.notify_ms)) {
		log_err("wdt", "would stop kicking (no watchdog device): %s",
			reason);
		return;
	}
	ret = boot_mark(h, BOOT_MARK_WATCHDOG, reason);
	if (h->wdt.open)
		log_err("wdt", "stopping kicks, the board resets in %d s: "
			"%s%s", h->wdt.timeout_s, reason,
			ret < 0 ? " (reset reason not saved)" : "");
	else
		log_err("wdt", "stopping WATCHDOG=1, the service manager "
			"restarts vigild in %u ms: %s%s", 2 * h->wdt.notify_ms,
			reason, ret < 0 ? " (reset reason not saved)" : "");
}

/* see watchdog.h */
int watchdog_tick(struct health *h, uint64_t now_ms)
{
	struct health_wdt *w = &h->wdt;
	char reason[HEALTH_REASON_MAX];
	uint64_t half_ms = (uint64_t)w->timeout_s * 1000 / 2;

	if (w->stopped)
		return 0;
	if (health_gate(h, now_ms, reason)) {
		snprintf(w->gated, sizeof w->gated, "%s", reason);
		if (!h->boot.safe_mode) {
			wdt_stop(h, reason);
			return 0;
		}
	} else {
		w->gated[0] = '\0';
	}
	wdt_notify_alive(h, now_ms);
	if (!w->open || now_ms - w->last_kick_ms < half_ms)
		return 0;
	if (hal_wdt_kick(&w->dev) < 0) {
		w->kick_errors++;
		return -EIO;
	}
	w->kicks++;
	/* planned beside actual: a late kick (a blocked loop) shows */
	metric_add(M_WDT_KICK_PLANNED_MS, half_ms);
	metric_add(M_WDT_KICK_ACTUAL_MS, now_ms - w->last_kick_ms);
	w->last_kick_ms = now_ms;
	return 1;
}

/* see watchdog.h */
uint32_t watchdog_tick_ms(const struct health *h)
{
	uint64_t t = (uint64_t)(h->wdt.timeout_s > 0 ? h->wdt.timeout_s : 1)
		     * 1000 / 4;

	if (h->wdt.notify.fd >= 0 && h->wdt.notify_ms &&
	    (uint64_t)h->wdt.notify_ms * 2 / 4 < t)
		t = (uint64_t)h->wdt.notify_ms * 2 / 4;

	if (t < WATCHDOG_TICK_MIN_MS)
		return WATCHDOG_TICK_MIN_MS;
	return t > WATCHDOG_TICK_MAX_MS ? WATCHDOG_TICK_MAX_MS : (uint32_t)t;
}

/* see watchdog.h */
int watchdog_close(struct health *h, int magic)
{
	struct health_wdt *w = &h->wdt;
	int ret;

	if (magic)
		(void)watchdog_notify(h, "STOPPING=1"); /* counted inside */
	hal_notify_close(&w->notify);
	if (!w->open)
		return 0;
	ret = hal_wdt_close(&w->dev, magic);
	w->open = 0;
	if (ret < 0)
		log_err("wdt", "%s: magic close failed; the watchdog stays "
			"armed", w->device);
	else
		log_info("wdt", "%s closed%s", w->device,
			 magic ? " and disarmed" : " (still armed)");
	return ret == -EBADF ? 0 : ret;
}

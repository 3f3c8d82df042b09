/*
 * console_health.c — what the console shows of the health state: the
 * `health` table, the `wdt` line, the one-line summary of `status`, and
 * `reboot`, which goes through the boot record.
 * Everything is read from agent.health, the one copy of that state.
 */
#include "console_int.h"

#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "hal/clock.h"
#include "hal/power.h"
#include "health.h"
#include "log.h"

/* "12s", "5m", "3h", "2d": the age of a timestamp, coarse on purpose */
static void fmt_age(char *buf, size_t cap, uint64_t then_ms, uint64_t now_ms)
{
	uint64_t s = now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;

	if (s < 120)
		snprintf(buf, cap, "%llus", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, cap, "%llum", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, cap, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, cap, "%llud", (unsigned long long)(s / 86400));
}

/* see console.h */
void con_show_health_summary(struct con *c)
{
	const struct health *h = c->env->health;

	con_printf(c, "health:  %s%s; boot %u, last reset %s%s%s\n",
		   health_state_name(health_overall(h)),
		   h->boot.safe_mode ? " (SAFE MODE)" : "",
		   (unsigned)h->boot.count, boot_reset_name(h->boot.last_reset),
		   h->boot.reason[0] ? ": " : "", h->boot.reason);
}

/* see console.h */
void con_show_health(struct con *c)
{
	const struct health *h = c->env->health;
	uint64_t now = hal_clock_mono_ms();
	char age[16];

	con_show_health_summary(c);
	con_printf(c, "%-12s %-8s %-9s %-5s %6s %6s %5s  %s\n", "check", "kind",
		   "state", "last", "since", "runs", "fails", "error");
	for (unsigned i = 0; i < h->nchecks; i++) {
		const struct health_check *k = &h->checks[i];

		fmt_age(age, sizeof age, k->last_change_ms, now);
		con_printf(c, "%-12s %-8s %-9s %-5s %6s %6u %5u  %s\n", k->name,
			   k->def.kind == HEALTH_REQUIRED ? "required"
							  : "wanted",
			   health_state_name(k->state),
			   health_result_name(k->last_result), age,
			   (unsigned)k->runs, (unsigned)k->fails,
			   k->last_error);
	}
}

/* see console.h */
void con_show_wdt(struct con *c)
{
	const struct health_wdt *w = &c->env->health->wdt;
	char age[16] = "never";

	if (w->device[0] == '\0') {
		con_puts(c, "wdt: no watchdog (watchdog.device = none)\n");
		return;
	}
	if (w->kicks)
		fmt_age(age, sizeof age, w->last_kick_ms, hal_clock_mono_ms());
	con_printf(c, "wdt: device %s (%s), timeout %ds, %u kicks, last %s "
		   "ago, %u errors\n", w->device, w->open ? "open" : "not open",
		   w->timeout_s, (unsigned)w->kicks, age,
		   (unsigned)w->kick_errors);
	if (w->stopped)
		con_printf(c, "wdt: STOPPED kicking: %s\n", w->gated);
	else if (w->gated[0])
		con_printf(c, "wdt: kicks withheld: %s\n", w->gated);
	else
		con_puts(c, "wdt: kicking (all required checks healthy)\n");
}

/* see console.h */
void con_reboot(struct con *c, const char *reason)
{
	int ret;

	if (!*c->env->can_reboot) {
		con_puts(c, "reboot: refused on this board (a development "
			 "machine)\n");
		return;
	}
	ret = boot_mark(c->env->health, BOOT_MARK_REQUESTED, reason);
	if (ret < 0) {
		con_printf(c, "reboot: cannot record the reason (%s): not "
			   "rebooting\n", strerror(-ret));
		return;
	}
	log_warn("console", "reboot requested: %s", reason);
	con_puts(c, "rebooting\n");
	ret = hal_power_reboot();
	/* still here: the restart was refused; the marker must not claim
	 * a requested reset at the next start (failure logged inside) */
	(void)boot_mark(c->env->health, BOOT_MARK_RUNNING, "reboot refused");
	log_err("console", "reboot refused: %s", strerror(-ret));
	con_printf(c, "reboot: refused by the system: %s\n", strerror(-ret));
}

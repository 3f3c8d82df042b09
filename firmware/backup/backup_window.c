/*
 * backup_window.c — backup.window: scheduled backups only between two
 * local times (docs/backup.md, "Backup window").
 *
 * Wall time comes from the HAL clock (hal_clock_wall_ms: the sim moves
 * it in tests), local time from time.zone through lib/tz.h; the
 * schedule itself (backup.interval) stays on the monotonic clock.
 *
 *   - A scheduled run that falls due while the window is closed waits:
 *     it starts when the window opens (one run, however many intervals
 *     passed).
 *   - When the window closes, a scheduled job still queued or running
 *     is cancelled at once, mid-file if need be (the cancel rule of
 *     backup_agent.h: the connection is closed before the file's 1029,
 *     so the server keeps nothing half-written; files already verified
 *     stay).  Finishing the file instead could overrun the window by
 *     the time a large file takes on a slow link, which is what the
 *     window is there to prevent.
 *   - Manual jobs (console `backup now`, CoAP POST /backup) ignore the
 *     window: a person asked for them and can cancel them.
 *   - Until the wall clock is set (hal_clock_wall_sane), the window
 *     cannot be placed: it counts as closed (scheduled runs wait).
 *
 * One timer, armed only with a window: it fires at the next edge, or
 * after WINDOW_RECHECK_MS at most, so a wall clock that is stepped
 * (NTP, an RTC set late) is noticed within that time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent_int.h"
#include "hal/clock.h"
#include "log.h"

#define WINDOW_RECHECK_MS (10u * 60u * 1000u)
#define WINDOW_UNSET_RECHECK_MS (60u * 1000u)

/* Recomputes the published window state from the wall clock.
 * @retval ms until the state should be looked at again */
static uint32_t refresh(struct backup_agent *ba)
{
	struct backup_window_status *w = &ba->st.window;
	int64_t now_ms = hal_clock_wall_ms(), edge, ms;
	int64_t now_s = now_ms / 1000;
	int open = 0;

	w->clock_set = hal_clock_wall_sane();
	w->next_open_s = w->next_close_s = 0;
	if (!w->clock_set) {
		w->open = 0;
		return WINDOW_UNSET_RECHECK_MS;
	}
	edge = daywin_next(&ba->win, &ba->tz, now_s, &open);
	w->open = open;
	if (open) {
		w->next_close_s = edge;
		w->next_open_s = daywin_next(&ba->win, &ba->tz, edge, &open);
	} else {
		w->next_open_s = edge;
	}
	ms = edge * 1000 - now_ms;
	return ms < (int64_t)WINDOW_RECHECK_MS ? (uint32_t)(ms > 0 ? ms : 1)
					       : WINDOW_RECHECK_MS;
}

/* The window closed: scheduled jobs stop (manual ones go on). */
static void close_scheduled(struct backup_agent *ba)
{
	char reason[BACKUP_REASON_MAX];

	snprintf(reason, sizeof reason, "backup window %s closed",
		 ba->st.window.spec);
	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		const struct backup_job *j = &ba->st.jobs[i];

		if (j->scheduled && (j->state == BACKUP_JOB_QUEUED ||
				     j->state == BACKUP_JOB_RUNNING))
			(void)backup_agent_cancel(ba, j->id, reason);
	}
}

static int64_t on_window(struct ev_loop *loop, void *arg)
{
	struct backup_agent *ba = arg;
	uint32_t next = refresh(ba);

	(void)loop; /* ba has it */
	if (!ba->st.window.open)        /* a scheduled job outside it */
		close_scheduled(ba);
	if (ba->st.window.open && ba->st.window.due && bka_idle(ba)) {
		ba->st.window.due = 0;
		log_info("backup", "backup window %s open: starting the "
			 "scheduled run that waited for it", ba->st.window.spec);
		(void)bka_start_scheduled(ba);
	}
	bka_publish(ba);
	return next;
}

/* see backup_agent_int.h */
void bka_window_stop(struct backup_agent *ba)
{
	if (ba->win_timer > 0)
		ev_timer_cancel(ba->loop, ba->win_timer);
	ba->win_timer = -1;
}

/* see backup_agent_int.h */
void bka_window_configure(struct backup_agent *ba)
{
	struct backup_window_status *w = &ba->st.window;
	char err[TZ_ERR_MAX];
	int id, due = w->due;   /* a reload keeps a run that waits */

	bka_window_stop(ba);
	ba->has_window = 0;
	memset(w, 0, sizeof *w);
	w->open = 1;
	/* both were validated by the config module: a failure here is a
	 * caller that bypassed it, and it must not stop backups */
	if (tz_parse(ba->cfg.zone[0] ? ba->cfg.zone : "UTC0", &ba->tz, err,
		     sizeof err) < 0) {
		log_err("backup", "time.zone: %s; using UTC", err);
		(void)tz_parse("UTC0", &ba->tz, NULL, 0);
	}
	if (ba->cfg.window[0] == '\0' || ba->cfg.server[0] == '\0')
		return;
	if (daywin_parse(ba->cfg.window, &ba->win, err, sizeof err) < 0) {
		log_err("backup", "backup.window: %s; no window", err);
		return;
	}
	ba->has_window = 1;
	w->due = due;
	snprintf(w->spec, sizeof w->spec, "%s", ba->cfg.window);
	id = ev_timer_add(ba->loop, (int64_t)refresh(ba), on_window, ba);
	if (id < 0)
		log_err("backup", "no timer for backup.window");
	ba->win_timer = id > 0 ? id : -1;
	if (!w->clock_set)
		log_warn("backup", "backup.window %s: the wall clock is not "
			 "set; scheduled backups wait until it is", w->spec);
}

/* see backup_agent_int.h */
int bka_window_open(struct backup_agent *ba)
{
	if (!ba->has_window)
		return 1;
	(void)refresh(ba);
	return ba->st.window.open;
}

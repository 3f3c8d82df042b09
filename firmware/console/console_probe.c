/*
 * console_probe.c — the console's `probe` (docs/console.md): one
 * connection attempt to the backup server (probe.h) run in the loop — its
 * socket waits for writability, a timer ends it after PROBE_TIMEOUT_MS —
 * and the verdict printed when it comes; the console takes other
 * commands meanwhile.
 */
#include "console_int.h"

#include "backup_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "probe.h"

/* The console's one attempt (one console per agent); fd >= 0 while it
 * runs, registered with the loop, with a timer for the timeout. */
static struct {
	struct probe p;
	struct con *c;
	int fd;
	int timer;  /* ev timer id, 0 none */
} cprobe = { PROBE_INIT, NULL, -1, 0 };

/* Prints the verdict, on a tty over the prompt (which is redrawn with
 * what has been typed so far). */
static void probe_report(struct con *c)
{
	char line[PROBE_TEXT_MAX];

	if (probe_format(&cprobe.p.res, line, sizeof line) < 0)
		snprintf(line, sizeof line, "done (verdict too long)");
	if (c->crlf)
		con_puts(c, "\r\033[K");
	con_printf(c, "probe: %s\n", line);
	if (c->crlf && c->st == CON_OPEN && c->ed.st != LE_ST_IDLE)
		con_printf(c, "%s%.*s", CON_PROMPT, (int)c->ed.len,
			   c->ed.line);
	con_flush(c);
}

/* Steps the attempt; when it is over, unregisters and reports. */
static void probe_advance(struct ev_loop *loop)
{
	if (probe_step(&cprobe.p, hal_clock_mono_ms()) == 0)
		return;
	(void)ev_del(loop, cprobe.fd); /* registered since probe_go */
	cprobe.fd = -1;
	if (cprobe.timer > 0)
		(void)ev_timer_cancel(loop, cprobe.timer); /* may be ours,
							    * running */
	cprobe.timer = 0;
	probe_report(cprobe.c);
}

static void probe_on_fd(struct ev_loop *loop, int fd, unsigned events,
			void *arg)
{
	(void)fd; (void)events; (void)arg; /* one attempt: cprobe */
	probe_advance(loop);
}

static int64_t probe_on_timer(struct ev_loop *loop, void *arg)
{
	(void)arg; /* one attempt: cprobe */
	probe_advance(loop);
	if (cprobe.fd < 0)
		return EV_STOP;
	return (int64_t)probe_wait_ms(&cprobe.p, hal_clock_mono_ms()) + 1;
}

/* Registers a started attempt.  @retval 0  @retval <0 no room (the
 * attempt is abandoned) */
static int probe_go(struct con *c)
{
	int ret = ev_add(c->loop, cprobe.p.fd, EV_WRITE, probe_on_fd, NULL);

	if (ret == 0) {
		cprobe.fd = cprobe.p.fd;
		ret = ev_timer_add(c->loop, (int64_t)probe_wait_ms(&cprobe.p,
				   hal_clock_mono_ms()) + 1, probe_on_timer,
				   NULL);
		if (ret > 0) {
			cprobe.timer = ret;
			return 0;
		}
		(void)ev_del(c->loop, cprobe.fd); /* just added */
		cprobe.fd = -1;
	}
	probe_cancel(&cprobe.p);
	return ret;
}

/* see console.h */
void con_cmd_probe(struct con *c, int argc, char **argv)
{
	const struct backup_status *ba = c->env->backup_status;
	int ret;

	(void)argv; /* no arguments */
	if (argc != 1) {
		con_puts(c, "probe: usage: probe\n");
		return;
	}
	if (!ba->configured) {
		con_printf(c, "probe: %s\n", ba->cfg_error[0] ? ba->cfg_error
			   : "no backup.server configured");
		return;
	}
	if (cprobe.fd >= 0) {
		con_puts(c, "probe: one is under way; its verdict follows\n");
		return;
	}
	cprobe.c = c;
	ret = probe_start(&cprobe.p, &ba->addr,
			  hal_clock_mono_ms());
	if (ret == 0)
		ret = probe_go(c);
	if (ret == 1)
		probe_report(c);
	else if (ret < 0)
		con_printf(c, "probe: cannot start: %s\n", strerror(-ret));
}

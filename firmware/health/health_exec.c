/*
 * health_cmd.c — see health_cmd.h.
 *
 * Invariant: a run is in flight while hc->proc.pid >= 0 or its pipe is
 * still open (hc->proc.out_fd >= 0); its result is recorded exactly once:
 * at the timeout (timed_out set) or when the exit is collected.
 */
#include "health_exec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* Starts a run; the result follows from health_cmd_tick. */
static enum health_result cmd_start(void *arg, uint64_t now_ms, char *err)
{
	struct health_cmd *hc = arg;
	int ret;

	if (!hc->command[0]) {
		snprintf(err, HEALTH_ERR_MAX, "no command configured");
		return HEALTH_SKIP;
	}
	if (hc->proc.pid >= 0 || hc->proc.out_fd >= 0)
		return HEALTH_NONE; /* the last run is still going */
	ret = hal_proc_spawn(&hc->proc, hc->command);
	if (ret < 0) {
		snprintf(err, HEALTH_ERR_MAX, "cannot start: %s",
			 strerror(-ret));
		return HEALTH_FAIL;
	}
	hc->started_ms = now_ms;
	hc->timed_out = 0;
	hc->line_len = 0;
	hc->line_done = 0;
	hc->line[0] = '\0';
	return HEALTH_NONE;
}

/* see health_cmd.h */
int health_cmd_add(struct health *h, struct health_cmd *hc,
		   const struct health_check_def *tmpl, uint64_t now_ms)
{
	struct health_check_def def = *tmpl;

	memset(hc, 0, sizeof *hc);
	hc->proc = (struct hal_proc)HAL_PROC_INIT;
	hc->timeout_ms = HEALTH_CMD_DEF_TIMEOUT_MS;
	hc->h = h;
	def.name = "command";
	def.kind = HEALTH_WANTED;
	def.fn = cmd_start;
	def.recover = NULL;
	def.arg = hc;
	hc->idx = health_add(h, &def, now_ms);
	return hc->idx;
}

/* see health_cmd.h */
void health_cmd_configure(struct health_cmd *hc, const char *command,
			  uint32_t timeout_ms)
{
	snprintf(hc->command, sizeof hc->command, "%s",
		 command ? command : "");
	hc->timeout_ms = timeout_ms ? timeout_ms : HEALTH_CMD_DEF_TIMEOUT_MS;
}

/* Keeps the first line of what was read (bounded, printable). */
static void cmd_take(struct health_cmd *hc, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && !hc->line_done; i++) {
		char ch = buf[i];

		if (ch == '\n') {
			hc->line_done = 1;
			break;
		}
		if (hc->line_len >= sizeof hc->line - 1)
			continue; /* the rest of a long line is dropped */
		/* '\r' kept for now: a CRLF's is dropped at the end */
		hc->line[hc->line_len++] = (ch >= 0x20 && ch < 0x7f) ||
					   ch == '\r' ? ch : '?';
	}
	hc->line[hc->line_len] = '\0';
}

/* Drains up to HEALTH_CMD_READ_MAX bytes.  @retval 1 end of output */
static int cmd_read(struct health_cmd *hc)
{
	char buf[256];
	size_t total = 0;

	while (total < HEALTH_CMD_READ_MAX) {
		int r = hal_proc_read(&hc->proc, buf, sizeof buf);

		if (r == 0)
			return 1;
		if (r < 0)
			return r == -EAGAIN ? 0 : 1; /* a broken pipe: done */
		cmd_take(hc, buf, (size_t)r);
		total += (size_t)r;
	}
	return 0;
}

/* The verdict on an ended run. */
static void cmd_finish(struct health_cmd *hc, int status, uint64_t now_ms)
{
	char err[HEALTH_ERR_MAX];
	enum health_result r = status == 0 ? HEALTH_PASS
			     : status == 1 ? HEALTH_WARN : HEALTH_FAIL;

	if (hc->line[0] && hc->line[hc->line_len - 1] == '\r')
		hc->line[--hc->line_len] = '\0';
	for (size_t i = 0; i < hc->line_len; i++)
		if (hc->line[i] == '\r')
			hc->line[i] = '?';
	if (hc->line[0])
		snprintf(err, sizeof err, "%s", hc->line);
	else if (status >= 256)
		snprintf(err, sizeof err, "killed by signal %d", status - 256);
	else
		snprintf(err, sizeof err, "exit status %d", status);
	(void)health_record(hc->h, (unsigned)hc->idx, r, err, now_ms);
}

/* see health_exec.h */
int health_cmd_running(const struct health_cmd *hc)
{
	return hc->proc.pid >= 0 || hc->proc.out_fd >= 0;
}

/* see health_cmd.h */
void health_cmd_tick(struct health_cmd *hc, uint64_t now_ms)
{
	int status = 0;

	if (hc->proc.pid < 0 && hc->proc.out_fd < 0)
		return;
	(void)cmd_read(hc);
	if (hc->proc.pid >= 0 && hal_proc_poll(&hc->proc, &status) == 1) {
		(void)cmd_read(hc); /* what it wrote just before the end */
		hal_proc_close(&hc->proc);
		if (!hc->timed_out)
			cmd_finish(hc, status, now_ms);
		return;
	}
	if (!hc->timed_out && now_ms - hc->started_ms >= hc->timeout_ms) {
		char err[HEALTH_ERR_MAX];

		(void)hal_proc_kill(&hc->proc); /* reaped at a later tick */
		hc->timed_out = 1;
		snprintf(err, sizeof err, "timed out after %u ms",
			 (unsigned)hc->timeout_ms);
		(void)health_record(hc->h, (unsigned)hc->idx, HEALTH_FAIL, err,
				    now_ms);
		log_warn("health", "command `%s` %s: killed", hc->command, err);
	}
}

/* see health_cmd.h */
void health_cmd_stop(struct health_cmd *hc)
{
	hal_proc_close(&hc->proc);
}

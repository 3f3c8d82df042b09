/*
 * health_cmd.h — the optional external check `command` (health.command):
 * an operator's shell command, run every health.interval without ever
 * blocking the loop.
 *
 *   exit 0 -> PASS, exit 1 -> WARN, any other exit, a signal, a start
 *   failure or health.command_timeout reached (the command's process
 *   group is killed) -> FAIL.
 *   The first line of its stdout (at most HEALTH_ERR_MAX - 1 bytes,
 *   non-printable bytes shown as '?') is the error text; without one,
 *   "exit status N" / "killed by signal N".
 *
 * It is an asynchronous check (health.h): the check function only starts
 * the command; health_cmd_tick, called from every health tick, reads its
 * output, collects its exit with a non-blocking wait and records the
 * result.  So a result arrives at most one tick (<= 1 s) after the exit,
 * and the timeout is enforced with the same precision.  A run still going
 * when the next is due is not doubled: that run is skipped.
 *
 * The check is `wanted` (it degrades the state, never resets the board)
 * and is SKIP while health.command is empty.
 */
#ifndef VIGIL_HEALTH_CMD_H
#define VIGIL_HEALTH_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "hal/proc.h"
#include "health.h"

/* stdout bytes read per tick: bounded work per callback; a command that
 * writes more fills its pipe and waits (or meets its timeout). */
#define HEALTH_CMD_READ_MAX 1024
/* health.command_timeout's default (docker's healthcheck timeout). */
#define HEALTH_CMD_DEF_TIMEOUT_MS 10000u

struct health_cmd {
	char command[HAL_PROC_CMD_MAX]; /* "" = none: the check SKIPs */
	uint32_t timeout_ms;
	struct hal_proc proc;           /* a run in flight while pid >= 0 */
	struct health *h;               /* where the result is recorded */
	int idx;                        /* the check's index; -1 none */
	uint64_t started_ms;
	int timed_out;                  /* killed; result already recorded */
	char line[HEALTH_ERR_MAX];      /* first stdout line so far */
	size_t line_len;
	int line_done;                  /* its newline was seen */
};

/* Nonzero while a run is in flight: its result is read at each
 * health_cmd_tick, so the caller ticks often then. */
int health_cmd_running(const struct health_cmd *hc);

/*
 * Registers the check `command` on h (the intervals etc. of tmpl; name,
 * kind, fn, recover and arg are ignored) with no command yet; hc must
 * outlive h.
 * @retval >=0 its index  @retval -ENOSPC/-EINVAL from health_add
 */
int health_cmd_add(struct health *h, struct health_cmd *hc,
		   const struct health_check_def *tmpl, uint64_t now_ms);

/* Sets the command ("" = none) and its timeout (0 = the default); a run
 * in flight finishes under the old ones. */
void health_cmd_configure(struct health_cmd *hc, const char *command,
			  uint32_t timeout_ms);

/* Reads output, collects the exit or enforces the timeout, records the
 * result.  Call on every health tick, before health_run_due. */
void health_cmd_tick(struct health_cmd *hc, uint64_t now_ms);

/* Kills and reaps a run in flight (graceful stop, shutdown). */
void health_cmd_stop(struct health_cmd *hc);

#endif

/*
 * console_backup.c — the console's `backup` and `conns` commands: they
 * act on the agent's backup client (backup_agent.h) and show what it
 * publishes (backup_status.h).  Every line starts with the command's
 * name or two blanks (a continuation).
 */
#include "console_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent.h"
#include "hal/clock.h"
#include "num.h"

static uint64_t ago_s(uint64_t now, uint64_t t)
{
	return t && now > t ? (now - t) / 1000 : 0;
}

static void show_job(struct con *c, const struct backup_job *j,
		     uint64_t now)
{
	con_printf(c, "  job %u %s%s: %s, %u/%u files, %llu/%llu bytes, "
		   "%llu s, trace %s\n", (unsigned)j->id,
		   backup_job_state_name(j->state),
		   j->scheduled ? " (scheduled)" : "", j->phase ? j->phase : "",
		   (unsigned)j->files_done, (unsigned)j->files_total,
		   (unsigned long long)j->bytes_done,
		   (unsigned long long)j->bytes_total,
		   (unsigned long long)(j->started_ms ? ((j->ended_ms ?
		   j->ended_ms : now) - j->started_ms) / 1000 : 0), j->trace);
	if (j->file[0])
		con_printf(c, "    file: %s\n", j->file);
	if (j->files_failed)
		con_printf(c, "    failed files: %u\n",
			   (unsigned)j->files_failed);
	if (j->error[0])
		con_printf(c, "    error: %s\n", j->error);
	if (j->cancel_reason[0])
		con_printf(c, "    cancel reason: %s\n", j->cancel_reason);
}

/* "in 3 h 20 min" from now (wall clock) to t (UTC epoch s). */
static void in_text(int64_t t, char *buf, size_t cap)
{
	int64_t d = t - hal_clock_wall_ms() / 1000;

	if (d < 0)
		d = 0;
	snprintf(buf, cap, "in %lld h %lld min", (long long)(d / 3600),
		 (long long)(d / 60 % 60));
}

/* "  window 01:00-05:30 closed, opens 2026-12-07 00:00 UTC (in 13 h 20
 * min)"; nothing without a window.  Times are UTC: the zone's own
 * names are in time.zone, and UTC reads the same on every board. */
static void show_window(struct con *c, const struct backup_window_status *w)
{
	struct tz_civil cv;
	char in[40];
	int64_t t = w->open ? w->next_close_s : w->next_open_s;

	if (!w->spec[0])
		return;
	con_printf(c, "  window %s (local time) %s", w->spec,
		   w->open ? "open" : "closed");
	if (!w->clock_set) {
		con_puts(c, ": the wall clock is not set; scheduled runs wait\n");
		return;
	}
	tz_civil(t, &cv);
	in_text(t, in, sizeof in);
	con_printf(c, ", %s %04lld-%02d-%02d %02d:%02d UTC (%s)%s\n",
		   w->open ? "closes" : "opens", (long long)cv.year, cv.mon,
		   cv.mday, cv.hour, cv.min, in,
		   w->due ? "; a scheduled run waits for it" : "");
}

static void show_jobs(struct con *c, const struct backup_status *ba)
{
	uint64_t now = hal_clock_mono_ms();
	unsigned n = 0;
	uint32_t last = 0;

	con_printf(c, "backup: %s, server %s%s%s, last success %s",
		   backup_status_state(ba), ba->server[0] ? ba->server : "(none)",
		   ba->cfg_error[0] ? " — " : "", ba->cfg_error,
		   ba->last_success_ms ? "" : "never");
	if (ba->last_success_ms)
		con_printf(c, "%llu s ago",
			   (unsigned long long)ago_s(now, ba->last_success_ms));
	con_puts(c, "\n");
	show_window(c, &ba->window);
	/* oldest first: ids grow, slots do not follow them */
	for (;;) {
		const struct backup_job *next = NULL;

		for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
			const struct backup_job *j = &ba->jobs[i];

			if (j->state != BACKUP_JOB_FREE && j->id > last &&
			    (!next || j->id < next->id))
				next = j;
		}
		if (!next)
			break;
		show_job(c, next, now);
		last = next->id;
		n++;
	}
	if (n == 0)
		con_puts(c, "  no jobs\n");
}

static void cancel(struct con *c, struct backup_agent *ba, int argc,
		   char **argv)
{
	char reason[BACKUP_REASON_MAX] = "";
	size_t len = 0;
	uint64_t id = 0;
	int n;

	for (int i = 3; i < argc; i++) {
		int w = snprintf(reason + len, sizeof reason - len, "%s%s",
				 i > 3 ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof reason - len)
			break;          /* cut at a word: a bounded reason */
		len += (size_t)w;
	}
	if (strcmp(argv[2], "all") != 0 &&
	    (num_u64(argv[2], UINT32_MAX, &id) != 0 || id == 0)) {
		con_printf(c, "backup: `%s` is not a job id\n", argv[2]);
		return;
	}
	n = backup_agent_cancel(ba, (uint32_t)id, reason);
	if (n == -ENOENT)
		con_printf(c, "backup: no job %lu\n", (unsigned long)id);
	else if (n == -EINVAL)
		con_printf(c, "backup: job %lu has already ended\n",
			   (unsigned long)id);
	else if (id)
		con_printf(c, "backup: job %lu cancelled\n",
			   (unsigned long)id);
	else
		con_printf(c, "backup: %d job%s cancelled\n", n,
			   n == 1 ? "" : "s");
}

/* see console_int.h */
void con_backup_cmd(struct con *c, struct backup_agent *ba, int argc,
		    char **argv)
{
	const char *why = "";
	int id;

	if (!strcmp(argv[1], "jobs")) {
		show_jobs(c, backup_agent_status(ba));
	} else if (!strcmp(argv[1], "cancel")) {
		cancel(c, ba, argc, argv);
	} else {
		id = backup_agent_now(ba, &why);
		if (id > 0)
			con_printf(c, "backup: job %d queued\n", id);
		else
			con_printf(c, "backup: %s\n", why);
	}
}

/* ---- restore ---- */

static void show_restore(struct con *c, const struct restore_job *j)
{
	uint64_t now = hal_clock_mono_ms();

	if (j->state == RESTORE_NONE) {
		con_puts(c, "restore: none since start\n");
		return;
	}
	con_printf(c, "restore %u %s: %s, device %s, snapshot ", (unsigned)j->id,
		   restore_job_state_name(j->state), j->phase ? j->phase : "",
		   j->device);
	if (j->snapshot)
		con_printf(c, "%llu", (unsigned long long)j->snapshot);
	else
		con_puts(c, "latest");
	con_printf(c, ", into %s\n  %u restored and verified, %u failed, %u "
		   "skipped, %llu bytes, %llu s\n", j->dest, j->files_ok,
		   j->files_failed, j->files_skipped,
		   (unsigned long long)j->bytes, (unsigned long long)
		   (((j->ended_ms ? j->ended_ms : now) - j->started_ms) / 1000));
	if (j->file[0])
		con_printf(c, "  file: %s\n", j->file);
	if (j->error[0])
		con_printf(c, "  error: %s\n", j->error);
	if (j->cancel_reason[0])
		con_printf(c, "  cancel reason: %s\n", j->cancel_reason);
}

/* "restore cancel [reason]": the words after cancel, cut at a word. */
static void restore_cancel(struct con *c, struct backup_agent *ba, int argc,
			   char **argv)
{
	char reason[BACKUP_REASON_MAX] = "";
	size_t len = 0;

	for (int i = 2; i < argc; i++) {
		int w = snprintf(reason + len, sizeof reason - len, "%s%s",
				 i > 2 ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof reason - len)
			break;
		len += (size_t)w;
	}
	if (backup_agent_restore_cancel(ba, reason) < 0)
		con_puts(c, "restore: none is running\n");
	else
		con_printf(c, "restore %u cancelled\n",
			   (unsigned)backup_agent_status(ba)->restore.id);
}

/* The options of `vigild restore` that make sense on the board.
 * @retval 0 parsed  @retval -1 usage printed */
static int restore_args(struct con *c, int argc, char **argv,
			struct backup_restore_req *r)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--overwrite")) {
			r->overwrite = 1;
			continue;
		}
		if (v == NULL) {
			con_printf(c, "restore: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--device")) {
			r->device = v;
		} else if (!strcmp(a, "--path")) {
			r->pattern = v;
		} else if (!strcmp(a, "--snapshot")) {
			r->snapshot = 0;
			if (strcmp(v, "latest") &&
			    (num_u64(v, UINT64_MAX, &r->snapshot) != 0 ||
			     r->snapshot == 0)) {
				con_printf(c, "restore: bad snapshot `%s` (an id "
					   "or latest)\n", v);
				return -1;
			}
		} else {
			con_printf(c, "restore: unknown option `%s`\n", a);
			return -1;
		}
	}
	if (i + 1 != argc) {
		con_puts(c, "restore: give exactly one DEST (an absolute "
			 "path)\n");
		return -1;
	}
	r->dest = argv[i];
	return 0;
}

/* see console_int.h */
void con_restore_cmd(struct con *c, struct backup_agent *ba, int argc,
		     char **argv)
{
	struct backup_restore_req r;
	const char *why = "";
	int id;

	if (argc == 2 && !strcmp(argv[1], "status")) {
		show_restore(c, &backup_agent_status(ba)->restore);
		return;
	}
	if (argc >= 2 && !strcmp(argv[1], "cancel")) {
		restore_cancel(c, ba, argc, argv);
		return;
	}
	memset(&r, 0, sizeof r);
	if (restore_args(c, argc, argv, &r) < 0)
		return;
	id = backup_agent_restore(ba, &r, &why);
	if (id > 0)
		con_printf(c, "restore %d started (`restore status` shows it)\n",
			   id);
	else
		con_printf(c, "restore: %s\n", why);
}

/* see console_int.h */
void con_conns_cmd(struct con *c, const struct backup_status *ba)
{
	const struct backup_conn_stats *s = &ba->conn;
	uint64_t now = hal_clock_mono_ms(), last;
	char id[2 * V3_ID_SIZE + 1];

	if (!ba->connected || s->connected_ms == 0) {
		con_puts(c, "conns: no connections\n");
		return;
	}
	for (unsigned i = 0; i < V3_ID_SIZE; i++)
		snprintf(id + 2 * i, 3, "%02x", s->client_id[i]);
	last = s->last_read_ms > s->last_write_ms ? s->last_read_ms
						  : s->last_write_ms;
	if (last == 0)
		last = s->connected_ms;
	con_printf(c, "conns: 1 connection\n  %u backup %s %s client %s\n",
		   (unsigned)ba->conn_seq, s->peer,
		   s->transport ? s->transport : "tcp", id);
	if (s->tls_version && s->tls_version[0])
		con_printf(c, "    %s %s alpn %s%s\n", s->tls_version,
			   s->tls_cipher ? s->tls_cipher : "",
			   s->tls_alpn && s->tls_alpn[0] ? s->tls_alpn : "none",
			   s->tls_resumed ? " (resumed)" : "");
	if (s->tls_resume_failures)
		con_printf(c, "    failed resumptions %u (session dropped, "
			   "full handshake)\n", (unsigned)s->tls_resume_failures);
	con_printf(c, "    in %llu B, out %llu B, last read %llu s ago, "
		   "last write %llu s ago\n",
		   (unsigned long long)s->bytes_in,
		   (unsigned long long)s->bytes_out,
		   (unsigned long long)ago_s(now, s->last_read_ms),
		   (unsigned long long)ago_s(now, s->last_write_ms));
	con_printf(c, "    errors %u read, %u write, last %d; idle %llu s, "
		   "up %llu s, keepalive on\n", (unsigned)s->read_errors,
		   (unsigned)s->write_errors, s->last_error,
		   (unsigned long long)ago_s(now, last),
		   (unsigned long long)ago_s(now, s->connected_ms));
}

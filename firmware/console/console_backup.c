/*
 * console_backup.c — the console's `backup` and `conns` commands: they
 * act on the agent's backup client (backup_agent.h) and show what it
 * publishes (backup_status.h).  Every line starts with the command's
 * name or two blanks (a continuation).
 */
#include "console_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_agent.h"
#include "hal/clock.h"

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
	unsigned long id = 0;
	char *end = NULL;
	int n;

	for (int i = 3; i < argc; i++) {
		int w = snprintf(reason + len, sizeof reason - len, "%s%s",
				 i > 3 ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof reason - len)
			break;          /* cut at a word: a bounded reason */
		len += (size_t)w;
	}
	if (strcmp(argv[2], "all") != 0) {
		id = strtoul(argv[2], &end, 10);
		if (!end || *end || id == 0 || id > UINT32_MAX) {
			con_printf(c, "backup: `%s` is not a job id\n",
				   argv[2]);
			return;
		}
	}
	n = backup_agent_cancel(ba, (uint32_t)id, reason);
	if (n == -ENOENT)
		con_printf(c, "backup: no job %lu\n", id);
	else if (n == -EINVAL)
		con_printf(c, "backup: job %lu has already ended\n", id);
	else if (id)
		con_printf(c, "backup: job %lu cancelled\n", id);
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

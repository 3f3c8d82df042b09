/*
 * backup_status.c — the words and look-ups of the published backup
 * status (backup_status.h).
 */
#include "backup_status.h"

#include <stddef.h>

/* see backup_status.h */
const char *backup_job_state_name(enum backup_job_state s)
{
	static const char *const names[] = { "", "queued", "running", "done",
					     "failed", "cancelled" };

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "";
}

/* see backup_status.h */
const char *restore_job_state_name(enum restore_job_state s)
{
	static const char *const names[] = { "", "running", "done", "failed",
					     "cancelled" };

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "";
}

/* see backup_status.h */
const struct backup_job *backup_status_job(const struct backup_status *s,
					   uint32_t id)
{
	for (int i = 0; i < BACKUP_JOBS_MAX; i++)
		if (s->jobs[i].state != BACKUP_JOB_FREE && s->jobs[i].id == id)
			return &s->jobs[i];
	return NULL;
}

/* see backup_status.h */
const char *backup_status_state(const struct backup_status *s)
{
	if (!s || s->server[0] == '\0')
		return "offline";
	for (int i = 0; i < BACKUP_JOBS_MAX; i++)
		if (s->jobs[i].state == BACKUP_JOB_RUNNING)
			return "busy";
	if (s->restore.state == RESTORE_RUNNING)
		return "busy";
	if (s->link_up)
		return "connected";
	if (!s->configured || s->last_error != 0)
		return "offline";
	return "standby";
}

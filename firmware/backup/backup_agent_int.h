/*
 * backup_agent_int.h — what backup_agent.c (jobs, schedule, cancel,
 * configuration) and backup_agent_run.c (the event-loop driver of the
 * v3 engine) share; nothing else includes it.
 */
#ifndef VIGIL_BACKUP_AGENT_INT_H
#define VIGIL_BACKUP_AGENT_INT_H

#include "backup_agent.h"

/* Starts job index i (already marked running). */
void bka_run_start(struct backup_agent *ba, int i);
/* Aborts the running job's I/O: closes the connection without 1029,
 * closes the file, stops timers and the walk. */
void bka_run_abort(struct backup_agent *ba);
/* The running job ended (state set by the caller: done/failed); starts
 * the next queued one. */
void bka_job_finished(struct backup_agent *ba);
/* Refreshes the published status and link. */
void bka_publish(struct backup_agent *ba);
/* The connection's callback (connect, handshake, send, receive, idle
 * close). */
void bka_on_io_cb(struct ev_loop *loop, int fd, unsigned events,
		  void *arg);
/* Closes the connection. */
void bka_conn_close(struct backup_agent *ba);

#endif

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
/* Waits for what the transport needs after -EAGAIN (dflt: what the
 * caller was doing, HAL_POLLIN or HAL_POLLOUT) on the connection. */
void bka_wait_io(struct backup_agent *ba, unsigned short dflt);

/* Queues a job started by the schedule (backup.interval, or the window
 * opening with a run due).  @retval as backup_agent_now */
int bka_start_scheduled(struct backup_agent *ba);
/* 1 when no backup or restore is queued or running. */
int bka_idle(const struct backup_agent *ba);

/* backup.window (backup_window.c): applies cfg's window and zone and
 * (re)arms its timer. */
void bka_window_configure(struct backup_agent *ba);
/* 1 when a scheduled run may start now (no window, or open). */
int bka_window_open(struct backup_agent *ba);
/* Stops the window's timer. */
void bka_window_stop(struct backup_agent *ba);

/* The restore driver (backup_agent_restore.c): its setup at init, and
 * its end at agent stop. */
void bka_restore_init(struct backup_agent *ba);
void bka_restore_stop(struct backup_agent *ba);

#endif

/*
 * backup_status.h — what the backup agent publishes about itself for
 * the status document, the CoAP and console probes and the console's
 * read-only commands: its job table, the configured server and the
 * current connection.  Like backup_link.h (the health check's view):
 * the agent owns and writes it (backup_agent_status() hands out a const
 * view); every reader only reads it, so no reader needs the agent's
 * internals and no reader can change them.
 */
#ifndef VIGIL_BACKUP_STATUS_H
#define VIGIL_BACKUP_STATUS_H

#include <stdint.h>

#include "backup_conn.h"
#include "backup_walk.h"
#include "daywin.h"
#include "hal/net.h"
#include "restore_engine.h"

#define BACKUP_JOBS_MAX 8
#define BACKUP_REASON_MAX 128       /* a cancel reason, NUL included */
#define BACKUP_URL_MAX 128

enum backup_job_state {
	BACKUP_JOB_FREE = 0,
	BACKUP_JOB_QUEUED,
	BACKUP_JOB_RUNNING,
	BACKUP_JOB_DONE,
	BACKUP_JOB_FAILED,
	BACKUP_JOB_CANCELLED,
};

#define BACKUP_TRACE_MAX 17

struct backup_job {
	uint32_t id;                 /* 1, 2, ...; never reused */
	/* 16 random hex digits: the job's trace id, in its log lines and
	 * sent to a vigil/2 server (docs/protocol/cyberbackup-v3.md) */
	char trace[BACKUP_TRACE_MAX];
	enum backup_job_state state;
	int scheduled;               /* 1: started by backup.interval */
	const char *phase;           /* static text: "scanning", ... */
	char file[BACKUP_PATH_MAX];  /* the file being sent, "" */
	uint32_t files_total, files_done, files_failed;
	uint64_t bytes_total, bytes_done;    /* plaintext */
	uint64_t queued_ms, started_ms, ended_ms;    /* mono, 0 = not yet */
	char error[BACKUP_ERR_MAX];  /* why it failed, "" */
	char cancel_reason[BACKUP_REASON_MAX];
};

/* backup.window as the schedule sees it (backup_window.c). */
struct backup_window_status {
	char spec[DAYWIN_TEXT_MAX];  /* "HH:MM-HH:MM"; "" no window */
	int open;                    /* scheduled runs may start now */
	int clock_set;               /* 0: wall clock not set; held */
	int due;                     /* a scheduled run waits for it */
	int64_t next_open_s;         /* UTC epoch s; 0 unknown */
	int64_t next_close_s;        /* UTC epoch s while open; else 0 */
};

enum restore_job_state {
	RESTORE_NONE = 0,            /* none since start */
	RESTORE_RUNNING,
	RESTORE_DONE,                /* every selected file restored */
	RESTORE_FAILED,              /* the run, or some files, failed */
	RESTORE_CANCELLED,
};

/* The console's restore (backup_agent_restore.c): one at a time; the
 * last one stays until the next starts. */
struct restore_job {
	uint32_t id;                 /* 1, 2, ... */
	enum restore_job_state state;
	const char *phase;           /* static text: "connecting", ... */
	char device[V3_NAME_FIELD];
	char dest[HAL_PATH_MAX];
	uint64_t snapshot;           /* asked (0 latest), then as listed */
	char file[RSE_PATH_MAX];     /* the file being written, "" */
	unsigned files_ok, files_failed, files_skipped;
	uint64_t bytes;              /* written and verified */
	uint64_t started_ms, ended_ms;   /* mono */
	char error[RSE_ERR_MAX];     /* the run's failure, or the last
				      * file's */
	char cancel_reason[BACKUP_REASON_MAX];
};

struct backup_status {
	char server[BACKUP_URL_MAX]; /* backup.server as configured, "" */
	char server_text[BACKUP_URL_MAX]; /* "host:port", "" */
	char cfg_error[BACKUP_ERR_MAX];   /* why the server is unusable */
	int configured;              /* server set, parsed and resolved */
	int tls;                     /* tls:// */
	struct hal_addr addr;        /* the address the next connect uses */
	int connected;               /* a connection is open */
	int link_up;                 /* ... and usable (link state UP) */
	int last_error;              /* of the link, 0 none */
	uint32_t conn_seq;           /* connections made (conn ids) */
	uint64_t last_success_ms;    /* mono, 0 = never */
	struct backup_conn_stats conn; /* the connection (or the last one) */
	struct backup_job jobs[BACKUP_JOBS_MAX];
	struct backup_window_status window;
	struct restore_job restore;
};

/* "busy" (a job runs), "connected", "standby" (configured, idle) or
 * "offline" (no server, not configured, or the last connection failed);
 * s NULL: "offline". */
const char *backup_status_state(const struct backup_status *s);

/* "queued", "running", "done", "failed", "cancelled" ("" when free). */
const char *backup_job_state_name(enum backup_job_state s);

/* "running", "done", "failed", "cancelled" ("" none). */
const char *restore_job_state_name(enum restore_job_state s);

/* The job with this id, or NULL. */
const struct backup_job *backup_status_job(const struct backup_status *s,
					   uint32_t id);

#endif

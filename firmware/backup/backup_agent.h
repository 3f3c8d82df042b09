/*
 * backup_agent.h — the CyberBackup v3 client inside vigild's event loop
 * (docs/backup.md, "In the agent"): jobs, the backup.interval schedule,
 * cancel, and a non-blocking session/file state machine that speaks the
 * same protocol as the one-shot `vigild backup` through the same engine
 * (backup_engine.h): backup_agent_run.c is the engine's event-loop
 * driver, backup_client.c its blocking one.  What others may read is
 * published in struct backup_status (backup_status.h).
 *
 * Never blocks the loop: the socket is non-blocking and registered with
 * ev; each callback does a bounded amount of work — at most one slice
 * (BACKUP_SLICE plaintext bytes read, cksummed, encrypted) per writable
 * event, at most BACKUP_AGENT_WALK_BUDGET directory entries per step.
 * Exceptions, documented: RSA key generation at the first registration
 * (tens of ms, once per device) and reading local files (regular-file
 * reads are not pollable; one slice per callback).
 *
 * Jobs: a table of BACKUP_JOBS_MAX; one job runs at a time, the others
 * wait queued.  A finished job keeps its slot (for `backup jobs`) until a
 * new job needs it (oldest finished first).
 *
 * Cancel rule: a running job is cancelled by closing its connection
 * before the current file's 1029; a v3 server commits a file only on
 * 1029 and discards a partial one on disconnect, so nothing half-written
 * stays.  Files already acknowledged (1604) stay: they are complete.
 */
#ifndef VIGIL_BACKUP_AGENT_H
#define VIGIL_BACKUP_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "backup_client.h"
#include "backup_status.h"
#include "backup_walk.h"
#include "daywin.h"
#include "ev.h"
#include "restore_files.h"
#include "tz.h"

#define BACKUP_PATHS_MAX 512        /* the comma-separated path list */
/* Directory entries looked at per loop callback while walking. */
#define BACKUP_AGENT_WALK_BUDGET 64u

struct backup_agent_cfg {
	char server[BACKUP_URL_MAX];   /* tcp://host:port, tls://; "" off */
	char paths[BACKUP_PATHS_MAX];  /* comma-separated files/dirs */
	char name[V3_NAME_FIELD];      /* client name ("" : "vigil") */
	char state_dir[HAL_PATH_MAX];  /* me.info lives here */
	uint64_t interval_ms;          /* 0: on demand only */
	uint32_t retry_cap_ms;         /* 0: BACKUP_RETRY_CAP_DEFAULT_MS */
	uint32_t io_timeout_ms;        /* 0: BACKUP_IO_TIMEOUT_DEFAULT_MS */
	uint64_t max_rate;             /* bytes/s, 0: no limit */
	char tls_ca[HAL_PATH_MAX];     /* tls://: CA file (required) */
	char tls_cert[HAL_PATH_MAX];   /* tls://: client certificate, "" */
	char tls_key[HAL_PATH_MAX];    /* tls://: its key, "" */
	char tls_psk[PSK_ID_MAX + 2 * PSK_KEY_MAX + 2]; /* tls.psk, "" */
	int tls_allow12;               /* tls.min_version = 1.2 */
	char window[DAYWIN_TEXT_MAX];  /* backup.window; "" always */
	char zone[TZ_TEXT_MAX];        /* time.zone (POSIX TZ); "" UTC */
};

/* What the console's restore asks for (backup_agent_restore()). */
struct backup_restore_req {
	const char *device;            /* NULL: the client name */
	uint64_t snapshot;             /* 0: latest */
	const char *pattern;           /* NULL: every file */
	const char *dest;              /* absolute */
	int overwrite;
};

/* The restore engine's event-loop driver (backup_agent_restore.c). */
struct bka_restore {
	struct rse e;
	struct restore_file rf;
	struct restore_opts o;
	char pattern[HAL_PATH_MAX];
	int step_timer, io_timer;
	int link;                    /* enum bka_link */
	unsigned addr;               /* the server address being tried */
	uint64_t last_progress_ms;
};

/* What the driver is doing for the running job (backup_agent_run.c). */
enum bka_step {
	BKA_IDLE = 0,           /* no job, or the engine runs a file */
	BKA_SCAN,               /* counting files and bytes */
	BKA_NEXT,               /* walking to the next file */
	BKA_KEEP,               /* a failed file: keep it in the snapshot */
};

/* The transport's setup, under the engine's CONNECT. */
enum bka_link {
	BKA_LINK_NONE = 0,      /* no socket, or the transport is up */
	BKA_LINK_TCP,           /* TCP connect in progress */
	BKA_LINK_TLS,           /* TLS handshake in progress */
};

/* Static storage; fields are the agent's (read backup_agent_status()). */
struct backup_agent {
	struct backup_agent_cfg cfg;
	struct backup_agent_cfg pending; /* a reload during a job */
	int has_pending;
	struct ev_loop *loop;
	struct backup_link *pub;     /* published copy of the link, or NULL */
	const int *safe_mode;        /* nonzero: refuse jobs, or NULL */
	int crypto_ready;
	uint32_t next_id;
	int cur;                     /* index of the running job, -1 */
	uint32_t runs_skipped;       /* schedule ticks with a job pending */
	int sched_timer, step_timer, io_timer, retry_timer;
	enum bka_step step;
	enum bka_link link;
	uint64_t last_progress_ms;   /* I/O timeout base */
	int slices;                  /* slices read in this callback */
	int ffd;                     /* the current file, -1 */
	uint64_t file_started_ms;    /* when ffd was opened (mono) */
	uint64_t fbase;              /* job bytes before this file */
	int snap;                    /* the engine runs a 1049 (v3x_snap_op) */
	unsigned unkept;             /* failed files not kept: no seal */
	struct backup_walk walk;
	struct backup_status st;     /* published */
	struct backup_client c;      /* configuration, engine, transport */
	/* backup.window (backup_window.c) */
	int has_window;
	struct daywin win;
	struct tz tz;
	int win_timer;
	/* the console's restore: c.conn is its transport too, since a
	 * restore and a backup never run at the same time */
	struct bka_restore rs;
};

/* Prepares *ba (static storage; zeroed here) on loop.  pub (may be NULL)
 * receives the link state after every step; safe_mode (may be NULL) is
 * read when a job is asked for.  @retval 0 */
int backup_agent_init(struct backup_agent *ba, struct ev_loop *loop,
		      struct backup_link *pub, const int *safe_mode);

/* Applies a configuration (start and reload): parses and resolves
 * cfg->server (this may BLOCK in the resolver: call it at init or
 * reload only), loads the identity, (re)arms the schedule.  A running
 * job keeps its connection and finishes with the settings it had.
 * @retval 0 applied (a bad server is reported in the status' cfg_error
 *         and jobs then fail with it)  */
int backup_agent_configure(struct backup_agent *ba,
			   const struct backup_agent_cfg *cfg);

/* Queues an on-demand job (it starts at once if none runs).
 * @retval >0 the job id
 * @retval -EPERM safe mode  @retval -EINVAL no backup.server
 * @retval -ENOSPC every slot holds a queued or running job
 * *why (may be NULL) gets a one-line reason on failure. */
int backup_agent_now(struct backup_agent *ba, const char **why);

/* Starts a restore of req's files into req->dest over backup.server
 * (tls:// only: the TLS identity is the device), in the loop; progress
 * and the result go to the status' restore member and the log.
 * @retval >0 its id
 * @retval -EBUSY a backup or a restore runs  @retval -EPERM safe mode
 * @retval -EINVAL no usable tls:// backup.server, or a relative dest
 * *why (may be NULL) gets a one-line reason on failure. */
int backup_agent_restore(struct backup_agent *ba,
			 const struct backup_restore_req *req,
			 const char **why);

/* Cancels the running restore (the file being written is dropped).
 * @retval 0  @retval -ENOENT none runs */
int backup_agent_restore_cancel(struct backup_agent *ba, const char *reason);

/* Cancels job id (0: every queued or running job) with reason (may be
 * NULL or "").  @retval number of jobs cancelled (0 with id 0 is fine)
 * @retval -ENOENT no such job  @retval -EINVAL the job already ended */
int backup_agent_cancel(struct backup_agent *ba, uint32_t id,
			const char *reason);

/* Cancels everything and closes the connection (agent shutdown). */
void backup_agent_stop(struct backup_agent *ba);

/* The published status (valid as long as ba; refreshed after every
 * loop callback of the agent's). */
const struct backup_status *backup_agent_status(const struct backup_agent *ba);

/* The job with this id, or NULL. */
const struct backup_job *backup_agent_job(const struct backup_agent *ba,
					  uint32_t id);

/* "busy" (a job runs), "connected", "standby" (configured, idle) or
 * "offline" (not configured, or the last connection failed). */
const char *backup_agent_state(const struct backup_agent *ba);

#endif

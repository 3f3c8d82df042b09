/*
 * backup_agent.h — the CyberBackup v3 client inside vigild's event loop
 * (docs/backup.md, "In the agent"): jobs, the backup.interval schedule,
 * cancel, and a non-blocking session/file state machine that speaks the
 * same protocol as the one-shot `vigild backup` (backup_client.h), whose
 * pieces it reuses: struct backup_client (identity, key, AES key, the
 * one BACKUP_IOBUF_SIZE buffer, stats, link), backup_crypto, cksum,
 * v3 packing, backup_retry.
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
#include "backup_crypto.h"
#include "backup_walk.h"
#include "cksum.h"
#include "ev.h"

#define BACKUP_JOBS_MAX 8
#define BACKUP_REASON_MAX 128       /* a cancel reason, NUL included */
#define BACKUP_URL_MAX 128
#define BACKUP_PATHS_MAX 512        /* the comma-separated path list */
/* Directory entries looked at per loop callback while walking. */
#define BACKUP_AGENT_WALK_BUDGET 64u

enum backup_job_state {
	BACKUP_JOB_FREE = 0,
	BACKUP_JOB_QUEUED,
	BACKUP_JOB_RUNNING,
	BACKUP_JOB_DONE,
	BACKUP_JOB_FAILED,
	BACKUP_JOB_CANCELLED,
};

struct backup_job {
	uint32_t id;                 /* 1, 2, ...; never reused */
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

struct backup_agent_cfg {
	char server[BACKUP_URL_MAX];   /* tcp://host:port, tls://; "" off */
	char paths[BACKUP_PATHS_MAX];  /* comma-separated files/dirs */
	char name[V3_NAME_FIELD];      /* client name ("" : "vigil") */
	char state_dir[HAL_PATH_MAX];  /* me.info lives here */
	uint64_t interval_ms;          /* 0: on demand only */
	uint32_t retry_cap_ms;         /* 0: BACKUP_RETRY_CAP_DEFAULT_MS */
	uint32_t io_timeout_ms;        /* 0: BACKUP_IO_TIMEOUT_DEFAULT_MS */
	char tls_ca[HAL_PATH_MAX];     /* tls://: CA file (required) */
	char tls_cert[HAL_PATH_MAX];   /* tls://: client certificate, "" */
	char tls_key[HAL_PATH_MAX];    /* tls://: its key, "" */
	char tls_psk[PSK_ID_MAX + 2 * PSK_KEY_MAX + 2]; /* tls.psk, "" */
	int tls_allow12;               /* tls.min_version = 1.2 */
};

/* Incremental walk of cfg.paths with a fixed-depth stack of open
 * directories (see backup_agent_walk.c for the allocation note). */
struct backup_iwalk {
	const char *list;            /* borrowed: cfg.paths */
	size_t pos;                  /* next list element */
	void *dirs[BACKUP_WALK_DEPTH]; /* DIR *, top = depth - 1 */
	size_t plen[BACKUP_WALK_DEPTH];  /* path length of each level */
	int depth;
	char path[BACKUP_PATH_MAX];  /* the file just returned */
	uint64_t size;
	struct backup_walk_stats st;
};

struct backup_agent {
	struct backup_agent_cfg cfg;
	struct backup_agent_cfg pending; /* a reload during a job */
	int has_pending;
	struct ev_loop *loop;
	struct backup_link *pub;     /* published copy of c.link, or NULL */
	const int *safe_mode;        /* nonzero: refuse jobs, or NULL */
	int configured;              /* cfg.server set and parsed */
	int tls;                     /* tls:// (TLS 1.3, backup_tls.h) */
	char server_text[BACKUP_URL_MAX]; /* "host:port" */
	char cfg_error[BACKUP_ERR_MAX];   /* why the server is unusable */
	int crypto_ready;
	struct backup_job jobs[BACKUP_JOBS_MAX];
	uint32_t next_id;
	int cur;                     /* index of the running job, -1 */
	uint64_t last_success_ms;    /* mono, 0 = never */
	uint32_t conn_seq;           /* connections made (conn ids) */
	uint32_t runs_skipped;       /* schedule ticks with a job pending */
	int sched_timer, step_timer, io_timer, retry_timer;
	/* the state machine (backup_agent_run.c) */
	int st;                      /* enum in backup_agent_run.c */
	int then;                    /* what follows the current send */
	int expect;                  /* which reply is awaited */
	size_t out_len, out_off;
	uint8_t rbuf[V3_RESP_MAX];
	size_t rgot, rneed;
	uint64_t last_progress_ms;   /* I/O timeout base */
	unsigned failures;           /* of the current request (3 max) */
	int sent_1029;               /* the current file may be committed */
	int in_file;                 /* ffd/fname describe a current file */
	int ffd;
	char fname[V3_NAME_MAX + 1];
	uint64_t fsize, fbase;       /* size, job bytes before this file */
	size_t slice;
	unsigned sends;              /* streams sent of this file (3 max) */
	struct v3_req req;
	struct backup_enc enc;
	int enc_live;
	struct cksum_ctx ck;
	uint32_t crc;
	struct backup_iwalk walk;
	struct backup_client c;      /* identity, key, buffer, stats, link */
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
 * @retval 0 applied (a bad server is reported in ba->cfg_error and jobs
 *         then fail with it)  */
int backup_agent_configure(struct backup_agent *ba,
			   const struct backup_agent_cfg *cfg);

/* Queues an on-demand job (it starts at once if none runs).
 * @retval >0 the job id
 * @retval -EPERM safe mode  @retval -EINVAL no backup.server
 * @retval -ENOSPC every slot holds a queued or running job
 * *why (may be NULL) gets a one-line reason on failure. */
int backup_agent_now(struct backup_agent *ba, const char **why);

/* Cancels job id (0: every queued or running job) with reason (may be
 * NULL or "").  @retval number of jobs cancelled (0 with id 0 is fine)
 * @retval -ENOENT no such job  @retval -EINVAL the job already ended */
int backup_agent_cancel(struct backup_agent *ba, uint32_t id,
			const char *reason);

/* Cancels everything and closes the connection (agent shutdown). */
void backup_agent_stop(struct backup_agent *ba);

/* The job with this id, or NULL. */
const struct backup_job *backup_agent_job(const struct backup_agent *ba,
					  uint32_t id);

/* "busy" (a job runs), "connected", "standby" (configured, idle) or
 * "offline" (not configured, or the last connection failed). */
const char *backup_agent_state(const struct backup_agent *ba);

/* "queued", "running", "done", "failed", "cancelled" ("" when free). */
const char *backup_job_state_name(enum backup_job_state s);

/* ---- backup_agent_show.c: console commands ---- */

struct con;
/* `backup now|jobs|cancel <id>|all [reason]` (argv checked by the
 * caller: argv[1] is now, jobs or cancel, cancel has argv[2]). */
void backup_agent_con_backup(struct con *c, struct backup_agent *ba,
			     int argc, char **argv);
/* `conns`: the backup connection with its statistics. */
void backup_agent_con_conns(struct con *c, const struct backup_agent *ba);

/* ---- backup_agent_run.c: the state machine ---- */

/* Starts job index i (already marked running). */
void bka_run_start(struct backup_agent *ba, int i);
/* Aborts the running job's I/O: closes the connection without 1029,
 * closes the file, stops timers and the walk. */
void bka_run_abort(struct backup_agent *ba);

/* ---- backup_agent.c, for the state machine ---- */

/* The running job ended (state set by the caller: done/failed); starts
 * the next queued one. */
void bka_job_finished(struct backup_agent *ba);
/* Copies c.link to the published link. */
void bka_publish(struct backup_agent *ba);

/* ---- backup_agent_walk.c ---- */

/* Starts walking the comma-separated list. */
void backup_iwalk_start(struct backup_iwalk *w, const char *list);
/* Finds the next regular file (w->path, w->size), looking at no more
 * than budget entries.  @retval 1 a file  @retval 0 the walk is over
 * @retval -EAGAIN budget spent, call again */
int backup_iwalk_next(struct backup_iwalk *w, unsigned budget);
/* Closes every open directory. */
void backup_iwalk_stop(struct backup_iwalk *w);

#endif

/*
 * restore_client.h — the blocking driver of the restore engine
 * (restore_engine.h) for `vigild restore`: the transport of the backup
 * client (backup_conn.h, tls with ALPN vigil/2), bounded hal_poll waits,
 * and the files written through hal/storage's atomic streaming write
 * (a temporary file, renamed into place only after the cksum matched).
 */
#ifndef VIGIL_RESTORE_CLIENT_H
#define VIGIL_RESTORE_CLIENT_H

#include <stdint.h>

#include "backup_conn.h"
#include "backup_engine.h"
#include "hal/storage.h"
#include "restore_engine.h"

struct restore_opts {
	const char *device;     /* whose files */
	uint64_t snapshot;      /* 0: latest */
	const char *pattern;    /* NULL: all; else a shell pattern (pattern.h)
				 * the path matches, or
				 * a directory the path lies under */
	const char *dest;       /* restored paths go under it */
	int overwrite;          /* replace existing files */
	/* Called once per file that ended (may be NULL): its path, NULL on
	 * success or why it failed or was skipped. */
	void (*report)(const char *path, const char *why);
};

struct restore_client {
	struct backup_client_cfg cfg;
	struct backup_conn conn;
	struct rse e;
	struct hal_afile f;
	char target[HAL_PATH_MAX];
	const struct restore_opts *o;
};

/* Runs a whole restore.  @retval 0 every selected file restored and
 * verified  @retval 1 some files failed (e.files_failed)  @retval <0 the
 * run failed (e.err says why) */
int restore_client_run(struct restore_client *c,
		       const struct backup_client_cfg *cfg,
		       const struct restore_opts *o);

#endif

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
#include "restore_engine.h"
#include "restore_files.h"

struct restore_client {
	struct backup_client_cfg cfg;
	struct backup_conn conn;
	struct rse e;
	struct restore_file rf;
	const struct restore_opts *o;
};

/* Runs a whole restore.  @retval 0 every selected file restored and
 * verified  @retval 1 some files failed (e.files_failed)  @retval <0 the
 * run failed (e.err says why) */
int restore_client_run(struct restore_client *c,
		       const struct backup_client_cfg *cfg,
		       const struct restore_opts *o);

#endif

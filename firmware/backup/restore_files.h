/*
 * restore_files.h — the file system side of a restore, shared by the
 * restore engine's two drivers (restore_client.c, blocking, for
 * `vigild restore`; backup_agent_restore.c, the agent's event loop, for
 * the console's `restore`): which entries a run selects, where each
 * lands, the parent directories, the atomic write (a temporary file
 * renamed into place only once the engine verified its cksum), mode and
 * mtime.  Each call is one bounded step: the drivers decide when.
 */
#ifndef VIGIL_RESTORE_FILES_H
#define VIGIL_RESTORE_FILES_H

#include "hal/file.h"
#include "hal/storage.h"
#include "restore_engine.h"

struct restore_opts {
	const char *device;     /* whose files */
	uint64_t snapshot;      /* 0: latest */
	const char *pattern;    /* NULL: all; else pattern_match on the path, or
				 * a directory the path lies under */
	const char *dest;       /* restored paths go under it */
	int overwrite;          /* replace existing files */
	/* Called once per file that ended (may be NULL): its path, NULL on
	 * success or why it failed or was skipped. */
	void (*report)(const char *path, const char *why);
};

/* The file being restored; caller-owned, reset before a run. */
struct restore_file {
	struct hal_afile f;
	char target[HAL_PATH_MAX];
};

void restore_file_reset(struct restore_file *rf);

/* RSE_WANT_OPEN: selects the engine's entry and opens its temporary
 * file.  @retval 1 opened  @retval 0 skipped (not selected, or it exists
 * without o->overwrite)  @retval <0 failed (reported) */
int restore_file_open(struct restore_file *rf, const struct rse *e,
		      const struct restore_opts *o);

/* RSE_WANT_WRITE: writes the engine's chunk and tells the engine. */
void restore_file_write(struct restore_file *rf, struct rse *e);

/* RSE_WANT_FINISH: renames a verified file into place (mtime set),
 * removes an unverified one, reports, and tells the engine. */
void restore_file_finish(struct restore_file *rf, struct rse *e,
			 const struct restore_opts *o);

/* Drops a file cut mid-way (its temporary file is removed); safe when
 * none is open. */
void restore_file_abort(struct restore_file *rf);

#endif

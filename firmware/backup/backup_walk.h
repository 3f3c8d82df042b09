/*
 * backup_walk.h — the files a backup job covers: each given path that is
 * a regular file, and every regular file under each given directory,
 * recursively.  Symbolic links are never followed (neither as arguments
 * nor inside directories) and, like sockets, FIFOs and devices, are
 * skipped and counted.
 *
 * Paths are made absolute (relative to the current directory) and
 * normalised lexically ("//", "." and ".." removed) so that
 * v3_name_from_path can map them.  Directory depth is bounded by
 * BACKUP_WALK_DEPTH (deeper directories are skipped and counted) and
 * path length by BACKUP_PATH_MAX.
 *
 * CLI-only: opendir() allocates inside the C library (one DIR per open
 * level, at most BACKUP_WALK_DEPTH at once), so the agent's event loop
 * must not walk with this; it is what `vigild backup` uses.
 */
#ifndef VIGIL_BACKUP_WALK_H
#define VIGIL_BACKUP_WALK_H

#include <stddef.h>
#include <stdint.h>

#define BACKUP_WALK_DEPTH 32
#define BACKUP_PATH_MAX 1024

/* Called for each regular file: path is absolute and normalised (borrowed
 * for the call).  Return 0 to go on, < 0 to stop the walk with that code. */
typedef int (*backup_walk_cb)(void *arg, const char *path, uint64_t size);

struct backup_walk_stats {
	uint32_t files;       /* regular files passed to the callback */
	uint32_t skipped;     /* links, special files, too deep, too long */
	uint32_t errors;      /* paths that could not be read */
};

/* Normalises path (absolute or relative to cwd) into out[0..cap).
 * @retval >0 length  @retval -ENAMETOOLONG  @retval -EINVAL empty path */
int backup_walk_normalize(char *out, size_t cap, const char *cwd,
			  const char *path);

/* Walks one argument path.  Stats are added to *st.
 * @retval 0 done (errors are counted, not fatal)
 * @retval <0 the callback's code (the walk stopped) */
int backup_walk(const char *path, backup_walk_cb cb, void *arg,
		struct backup_walk_stats *st);

#endif

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
 * The walk is resumable and allocates nothing: the recursion is an
 * explicit stack of open directories (hal/file.h iterators, each with its
 * HAL_DIR_BUF buffer inside struct backup_walk, ~33 KiB in all), and each
 * call looks at a bounded number of entries, so a huge tree never holds
 * the agent's event loop.  `vigild backup` runs the same walk to its end.
 */
#ifndef VIGIL_BACKUP_WALK_H
#define VIGIL_BACKUP_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "hal/file.h"

#define BACKUP_WALK_DEPTH 32
#define BACKUP_PATH_MAX 1024

struct backup_walk_stats {
	uint32_t files;       /* regular files returned */
	uint32_t skipped;     /* links, special files, too deep, too long */
	uint32_t errors;      /* paths that could not be read */
};

/* A walk over a list of paths.  Fields are private but for path, size
 * and st. */
struct backup_walk {
	const char *list;            /* borrowed until the walk ends */
	char sep;                    /* list separator; '\0': one path */
	size_t pos;                  /* next list element */
	struct hal_dir dirs[BACKUP_WALK_DEPTH]; /* top = depth - 1 */
	size_t plen[BACKUP_WALK_DEPTH];  /* path length of each level */
	int depth;
	char path[BACKUP_PATH_MAX];  /* the file just returned */
	uint64_t size;
	struct backup_walk_stats st;
};

/* Normalises path (absolute or relative to cwd) into out[0..cap).
 * @retval >0 length  @retval -ENAMETOOLONG  @retval -EINVAL empty path */
int backup_walk_normalize(char *out, size_t cap, const char *cwd,
			  const char *path);

/* Starts walking list: elements separated by sep (',' for
 * backup.paths, trimmed of blanks), or the one path when sep is '\0'.
 * Ends a walk still open in w (zeroed storage is fine). */
void backup_walk_start(struct backup_walk *w, const char *list, char sep);

/* Finds the next regular file (w->path, w->size), looking at no more
 * than budget entries.  @retval 1 a file  @retval 0 the walk is over
 * @retval -EAGAIN budget spent, call again */
int backup_walk_next(struct backup_walk *w, unsigned budget);

/* Closes every open directory. */
void backup_walk_stop(struct backup_walk *w);

#endif

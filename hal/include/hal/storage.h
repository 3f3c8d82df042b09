/*
 * hal/storage.h — files, written atomically.
 *
 * An atomic write goes to "<path>.tmp" (a fresh file: a stale temp from
 * a crash is unlinked first and the new one created O_EXCL with exactly
 * the given mode), is fsync'd, renamed over path, and the directory is
 * fsync'd: after a power cut or kill -9 at any point, path holds the old
 * content or the new, never a mix.  One writer per path at a time (the
 * fixed temp name means temps never pile up; a real file named
 * "<path>.tmp" would be lost, so callers storing outside names map them).
 *
 * No call allocates memory; paths are at most HAL_PATH_MAX - 5 bytes so
 * the temp name fits.
 */
#ifndef HAL_STORAGE_H
#define HAL_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#define HAL_PATH_MAX 256

/* A streaming atomic write: open, write any number of times, commit or
 * abort.  Fields are private. */
struct hal_afile {
	int fd;
	int err;                  /* first write error, sticky */
	char path[HAL_PATH_MAX];
	char tmp[HAL_PATH_MAX];
};

/*
 * Reads a whole file into buf.
 * @retval >=0 bytes read
 * @retval -ENOENT no such file
 * @retval -EMSGSIZE file longer than cap (nothing useful in buf)
 * @retval -EISDIR path is a directory
 * @retval -ENAMETOOLONG path longer than HAL_PATH_MAX - 5
 * @retval -EACCES/-EIO read failed
 */
int hal_storage_read(const char *path, void *buf, size_t cap);

/*
 * Atomically replaces path with len bytes of buf, file mode `mode`.
 * @retval 0 written and durable
 * @retval -ENAMETOOLONG path too long
 * @retval -ENOSPC disk full (old content intact, temp removed)
 * @retval -EISDIR path is a directory
 * @retval -EACCES/-EROFS/-ENOENT (no such directory)/-EIO
 */
int hal_storage_write_atomic(const char *path, const void *buf, size_t len,
			     unsigned mode);

/* Starts a streaming atomic write (f need not be initialised).  Same
 * errors as write_atomic.  f counts as closed after commit, abort or a
 * failed open, and when zeroed. */
int hal_storage_afile_open(struct hal_afile *f, const char *path,
			   unsigned mode);

/*
 * Appends len bytes.  After an error every later call returns it.
 * @retval 0 appended  @retval -ENOSPC/-EIO/-EBADF (not open)
 * @retval -EROFS filesystem made read-only while open
 */
int hal_storage_afile_write(struct hal_afile *f, const void *buf, size_t len);

/*
 * Makes the new content durable and visible at path; closes f.  On error
 * the temp is removed and path keeps its old content.
 * @retval 0 committed  @retval the sticky write error, or -EIO/-ENOSPC
 * @retval -EBADF f not open
 * @retval -EIO also when only the final directory fsync failed: path
 *         then already shows the new content, durability is unknown
 */
int hal_storage_afile_commit(struct hal_afile *f);

/* Drops the new content (temp removed, path untouched); closes f.  Safe
 * on a closed f. */
void hal_storage_afile_abort(struct hal_afile *f);

/*
 * Space of the filesystem holding path.
 * @retval 0 filled in  @retval -ENOENT/-EACCES/-EIO/-ENAMETOOLONG
 */
int hal_storage_space(const char *path, uint64_t *free_bytes,
		      uint64_t *total_bytes);

/*
 * Creates a directory (parents must exist).
 * @retval 0 created or already a directory
 * @retval -ENOTDIR exists and is not a directory
 * @retval -ENOENT/-EACCES/-EROFS/-ENOSPC/-ENAMETOOLONG/-EIO
 */
int hal_storage_mkdir(const char *path, unsigned mode);

/* Removes a file.  @retval 0 removed
 * @retval -ENOENT/-EACCES/-EISDIR/-EROFS/-ENAMETOOLONG/-EIO */
int hal_storage_remove(const char *path);

/*
 * Checks that a new file can be created in dir right now (creates and
 * removes "<dir>/.vigil-probe").
 * @retval 0 writable  @retval -EROFS/-EACCES/-ENOSPC/-ENOENT/-EIO
 * @retval -ENAMETOOLONG dir + "/.vigil-probe" longer than HAL_PATH_MAX - 1
 */
int hal_storage_probe_writable(const char *dir);

#endif

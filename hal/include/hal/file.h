/*
 * hal/file.h — reading files and directories with caller-owned memory:
 * a streaming read by offset and a directory iterator over a buffer in
 * the caller's struct hal_dir.  Nothing here allocates (no stdio FILE, no
 * opendir), so the backup walk and the file reads of the agent stay
 * within its static memory; hal/sim serves the same calls from its
 * in-memory filesystem (hal/sim.h).
 *
 * Symbolic links are never followed: hal_file_open refuses one, and
 * hal_file_stat reports it as HAL_FILE_LINK.
 */
#ifndef HAL_FILE_H
#define HAL_FILE_H

#include <stddef.h>
#include <stdint.h>

enum hal_file_type {
	HAL_FILE_REG = 1,
	HAL_FILE_DIR,
	HAL_FILE_LINK,
	HAL_FILE_OTHER,         /* socket, FIFO, device */
};

/* Room for one directory's entries per refill: a Linux dirent64 is at
 * most 19 + 256 bytes (name and NUL, 8-aligned: 280), so this holds
 * at least three and typically ~30. */
#define HAL_DIR_BUF 1024

/*
 * The permission bits (07777) and modification time of an open file,
 * for the attributes a backup keeps.  hal/sim keeps none: -ENOSYS.
 * @retval 0  @retval -EBADF/-EIO/-ENOSYS
 */
int hal_file_meta(int fd, uint32_t *mode, int64_t *mtime_s,
		  uint32_t *mtime_ns);

/*
 * Sets a file's modification (and access) time, without following a
 * link: what a restore gives back.  hal/sim keeps no times (it checks
 * the path exists and returns 0).
 * @retval 0  @retval -ENOENT/-EACCES/-EPERM/-EROFS/-EINVAL/-EIO
 */
int hal_file_set_mtime(const char *path, int64_t sec, uint32_t nsec);

/* An open directory.  Fields are private. */
struct hal_dir {
	int fd;                 /* -1: closed */
	size_t pos, len;        /* unread entries: buf[pos..len) */
	unsigned sim_next;      /* hal/sim: the next node to look at */
	_Alignas(8) uint8_t buf[HAL_DIR_BUF];
};

/*
 * What path is, without following a link.
 * @retval 0 *type (and *size for HAL_FILE_REG) filled in
 * @retval -ENOENT/-EACCES/-ENOTDIR/-ENAMETOOLONG/-EIO
 */
int hal_file_stat(const char *path, enum hal_file_type *type,
		  uint64_t *size);

/*
 * Opens a regular file for reading (not through a link).
 * @retval >=0 a descriptor (*size: its size)
 * @retval -EINVAL not a regular file  @retval -ELOOP a symbolic link
 * @retval -ENOENT/-EACCES/-EMFILE/-ENAMETOOLONG/-EIO
 */
int hal_file_open(const char *path, uint64_t *size);

/*
 * Reads exactly len bytes at offset off.
 * @retval 0 read  @retval -ENODATA the file ends before off + len
 * @retval -EBADF not an open file  @retval -EIO
 */
int hal_file_read_full(int fd, uint64_t off, void *buf, size_t len);

/* Closes a descriptor from hal_file_open (or -1: nothing). */
void hal_file_close(int fd);

/*
 * Opens a directory for hal_dir_next (d need not be initialised).
 * @retval 0  @retval -ENOTDIR/-ENOENT/-EACCES/-EMFILE/-ENAMETOOLONG
 */
int hal_dir_open(struct hal_dir *d, const char *path);

/*
 * The next entry's name ("." and ".." left out), borrowed until the next
 * call on d.
 * @retval 1 *name set  @retval 0 no more  @retval -EIO/-EBADF
 */
int hal_dir_next(struct hal_dir *d, const char **name);

/* Closes d (safe when closed or zeroed with fd -1). */
void hal_dir_close(struct hal_dir *d);

#endif

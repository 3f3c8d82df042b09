/*
 * hal/linux/file.c — hal/file.h on Linux: open(O_NOFOLLOW) + pread for
 * files, open(O_DIRECTORY) + getdents64 into the caller's struct hal_dir
 * for directories (opendir would malloc a DIR and its buffer).
 * syscall(2) needs _DEFAULT_SOURCE (set below, before any header).
 */
#define _DEFAULT_SOURCE         /* syscall */
#include "hal/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's record (linux_dirent64), read field by field. */
struct hal_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* see hal/file.h */
int hal_file_stat(const char *path, enum hal_file_type *type,
		  uint64_t *size)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return -errno;
	if (S_ISREG(sb.st_mode)) {
		*type = HAL_FILE_REG;
		*size = (uint64_t)sb.st_size;
	} else {
		*type = S_ISDIR(sb.st_mode) ? HAL_FILE_DIR
			: S_ISLNK(sb.st_mode) ? HAL_FILE_LINK : HAL_FILE_OTHER;
	}
	return 0;
}

/* see hal/file.h */
int hal_file_open(const char *path, uint64_t *size)
{
	/* O_NONBLOCK: a FIFO put in the file's place must not hang us */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)sb.st_size;
	return fd;
}

/* see hal/file.h */
int hal_file_read_full(int fd, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = pread(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EBADF ? -EBADF : -EIO;
		if (r == 0)
			return -ENODATA;
		p += r;
		off += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

/* see hal/file.h */
void hal_file_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* see hal/file.h */
int hal_dir_open(struct hal_dir *d, const char *path)
{
	d->pos = d->len = 0;
	d->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0) {
		int ret = -errno;

		d->fd = -1;
		return ret == -ELOOP ? -ENOTDIR : ret;
	}
	return 0;
}

/* see hal/file.h */
int hal_dir_next(struct hal_dir *d, const char **name)
{
	if (d->fd < 0)
		return -EBADF;
	for (;;) {
		const struct hal_dirent64 *e;
		unsigned short reclen;

		if (d->pos >= d->len) {
			/* the C library's wrapper is not in every libc */
			long n = syscall(SYS_getdents64, d->fd, d->buf,
					 sizeof d->buf);

			if (n < 0)
				return errno == EBADF ? -EBADF : -EIO;
			if (n == 0)
				return 0;
			d->len = (size_t)n;
			d->pos = 0;
		}
		/* invariant: the kernel fills whole, 8-aligned records */
		e = (const struct hal_dirent64 *)(const void *)(d->buf + d->pos);
		memcpy(&reclen, d->buf + d->pos + offsetof(struct hal_dirent64,
							   reclen),
		       sizeof reclen);
		if (reclen == 0 || reclen > d->len - d->pos)
			return -EIO;
		d->pos += reclen;
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		*name = e->name;
		return 1;
	}
}

/* see hal/file.h */
void hal_dir_close(struct hal_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* see hal/file.h */
int hal_file_set_mtime(const char *path, int64_t sec, uint32_t nsec)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)nsec;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return 0;
}

/* see hal/file.h */
int hal_file_meta(int fd, uint32_t *mode, int64_t *mtime_s,
		  uint32_t *mtime_ns)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return -errno;
	*mode = (uint32_t)sb.st_mode & 07777u;
	*mtime_s = (int64_t)sb.st_mtim.tv_sec;
	*mtime_ns = (uint32_t)sb.st_mtim.tv_nsec;
	return 0;
}

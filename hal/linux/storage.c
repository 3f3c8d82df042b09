/*
 * hal/linux/storage.c — files with atomic replacement, on POSIX calls.
 *
 * Atomic write: unlink a stale "<path>.tmp" left by a crash, create the
 * temp afresh (O_CREAT|O_EXCL, then fchmod to the exact mode), write all
 * of it (short writes and EINTR looped), fsync, close, check the temp
 * name still names our inode, rename over path, then fsync the directory
 * so the rename itself is durable.  Until the rename, path is untouched;
 * rename is atomic; so a kill -9 or power cut leaves the old or the new
 * content.  Any failure before the rename unlinks the temp (unless the
 * name no longer holds our inode: then it belongs to someone else).
 *
 * Why never reuse the stale temp with O_TRUNC: open would follow a
 * symlink planted at the temp name (truncating its target), block on a
 * FIFO, and write into an inode that a hard link or an open fd still
 * shares, so the new content (a key, say) would leak there.
 *
 * Paths are limited to HAL_PATH_MAX - 5 bytes (the ".tmp" suffix and NUL
 * must fit struct hal_afile's buffers); every call checks that first.
 * A hal_afile is open while fd >= 0 and tmp[0] != '\0', so a zeroed
 * struct counts as closed.  Nothing allocates: no stdio, no opendir.
 */
#include "hal/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define STORAGE_TMP_SUFFIX ".tmp"
#define STORAGE_PROBE_NAME "/.vigil-probe"

/* errno of a failed mutation -> the codes storage.h promises */
static int storage_err(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return -ENOSPC;
	case EACCES:
	case EPERM:
		return -EACCES;
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case EROFS:
	case EISDIR:
	case ENAMETOOLONG:
		return -e;
	default:
		return -EIO;
	}
}

static int storage_check_path(const char *path)
{
	if (!path || !*path)
		return -ENOENT;
	if (strlen(path) > HAL_PATH_MAX - sizeof STORAGE_TMP_SUFFIX)
		return -ENAMETOOLONG;
	return 0;
}

/* see hal/storage.h */
int hal_storage_read(const char *path, void *buf, size_t cap)
{
	struct stat st;
	size_t got = 0;
	char extra;
	int ret = -EIO, fd;

	if ((ret = storage_check_path(path)) < 0)
		return ret;
	if (cap > 0 && !buf)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = storage_err(errno);
		return ret == -EACCES || ret == -ENOENT ? ret : -EIO;
	}
	if (fstat(fd, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	/* read to EOF rather than trusting st_size (/proc, growing files) */
	while (got < cap) {
		ssize_t r = read(fd, (char *)buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	ret = (int)got;
	if (got == cap && read(fd, &extra, 1) > 0)
		ret = -EMSGSIZE;
out:
	close(fd);
	return ret;
}

/* Writes all of buf, looping over short writes and EINTR. */
static int storage_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = storage_err(errno);

			return e == -ENOSPC || e == -EROFS ? e : -EIO;
		}
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* The directory part of path into dir ("." or "/" when it has none). */
static void storage_dirname(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, cap, ".");
		return;
	}
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1; /* "/name": the root */
	if (n >= cap)
		n = cap - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/* fsync of a directory makes a rename/create/unlink in it durable. */
static int storage_sync_dir(const char *dir)
{
	int ret = -EIO;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return storage_err(errno);
	ret = fsync(fd) < 0 && errno != EINVAL ? -EIO : 0;
	close(fd);
	return ret;
}

/*
 * Creates path as a new, empty inode of mode `mode` for writing.  What
 * is at path already (a stale temp) is unlinked first; O_EXCL then
 * refuses anything that reappears or could not be unlinked (a directory:
 * -EIO, as the caller's path itself is not one).
 */
static int storage_create_new(const char *path, mode_t mode)
{
	int unlinked = unlink(path) == 0 || errno == ENOENT;
	int uerr = errno, fd;

	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY,
		  mode);
	if (fd >= 0)
		return fd;
	if (errno != EEXIST)
		return storage_err(errno);
	/* EEXIST: the unlink failed (say why) or another writer raced us */
	if (unlinked || uerr == EISDIR)
		return -EIO;
	return storage_err(uerr);
}

/* see hal/storage.h */
int hal_storage_afile_open(struct hal_afile *f, const char *path,
			   unsigned mode)
{
	int ret = -EIO, fd;

	if (!f)
		return -EINVAL;
	memset(f, 0, sizeof *f);
	f->fd = -1;
	if ((ret = storage_check_path(path)) < 0)
		return ret;
	if (mode == 0)
		mode = 0600;
	snprintf(f->path, sizeof f->path, "%s", path);
	snprintf(f->tmp, sizeof f->tmp, "%s%s", path, STORAGE_TMP_SUFFIX);
	fd = storage_create_new(f->tmp, (mode_t)(mode & 07777));
	if (fd < 0) {
		f->tmp[0] = '\0';
		return fd;
	}
	/* the umask cut the mode at creation; the contract says exact */
	if (fchmod(fd, (mode_t)(mode & 07777)) < 0) {
		ret = storage_err(errno);
		close(fd);
		unlink(f->tmp);
		f->tmp[0] = '\0';
		return ret;
	}
	f->fd = fd;
	return 0;
}

static int storage_afile_is_open(const struct hal_afile *f)
{
	return f && f->fd >= 0 && f->tmp[0] != '\0';
}

/* see hal/storage.h */
int hal_storage_afile_write(struct hal_afile *f, const void *buf, size_t len)
{
	if (!storage_afile_is_open(f))
		return -EBADF;
	if (f->err)
		return f->err;
	if (len > 0 && !buf)
		return -EINVAL;
	f->err = storage_write_all(f->fd, buf, len);
	return f->err;
}

/* see hal/storage.h */
void hal_storage_afile_abort(struct hal_afile *f)
{
	if (!storage_afile_is_open(f))
		return;
	close(f->fd);
	unlink(f->tmp);
	f->fd = -1;
	f->tmp[0] = '\0';
}

/* errno of a failed fsync/close of written data -> -ENOSPC or -EIO */
static int storage_flush_err(int e)
{
	return e == ENOSPC || e == EDQUOT ? -ENOSPC : -EIO;
}

/*
 * fsync + close + rename.  The caller unlinks the temp when this fails,
 * except on -ESTALE (made up here, never returned to callers): the temp
 * name no longer holds our inode, so a second writer (a contract breach)
 * owns it; renaming it would publish that writer's partial data.
 */
static int storage_publish(struct hal_afile *f)
{
	struct stat mine, now;
	int ret = -EIO;

	if (fsync(f->fd) < 0)
		ret = storage_flush_err(errno);
	else if (fstat(f->fd, &mine) < 0)
		ret = -EIO;
	else
		ret = 0;
	/* close can report a delayed write error (NFS): check it too */
	if (close(f->fd) < 0 && ret == 0 && errno != EINTR)
		ret = storage_flush_err(errno);
	f->fd = -1;
	if (ret < 0)
		return ret;
	if (lstat(f->tmp, &now) < 0 || now.st_ino != mine.st_ino ||
	    now.st_dev != mine.st_dev)
		return -ESTALE;
	if (rename(f->tmp, f->path) < 0)
		return storage_err(errno);
	return 0;
}

/* see hal/storage.h */
int hal_storage_afile_commit(struct hal_afile *f)
{
	char dir[HAL_PATH_MAX];
	int ret = -EIO;

	if (!storage_afile_is_open(f))
		return -EBADF;
	if (f->err) {
		ret = f->err;
		hal_storage_afile_abort(f);
		return ret;
	}
	ret = storage_publish(f);
	if (ret == -ESTALE)
		ret = -EIO;
	else if (ret < 0)
		unlink(f->tmp);
	if (ret < 0) {
		f->tmp[0] = '\0';
		return ret;
	}
	f->tmp[0] = '\0';
	storage_dirname(f->path, dir, sizeof dir);
	/* the new content is in place; this makes the rename durable */
	return storage_sync_dir(dir) < 0 ? -EIO : 0;
}

/* see hal/storage.h */
int hal_storage_write_atomic(const char *path, const void *buf, size_t len,
			     unsigned mode)
{
	struct hal_afile f;
	int ret = hal_storage_afile_open(&f, path, mode);

	if (ret < 0)
		return ret;
	ret = hal_storage_afile_write(&f, buf, len);
	if (ret < 0) {
		hal_storage_afile_abort(&f);
		return ret;
	}
	return hal_storage_afile_commit(&f);
}

/* see hal/storage.h */
int hal_storage_space(const char *path, uint64_t *free_bytes,
		      uint64_t *total_bytes)
{
	struct statvfs sv;
	int ret = -EIO;

	if ((ret = storage_check_path(path)) < 0)
		return ret;
	if (statvfs(path, &sv) < 0) {
		ret = storage_err(errno);
		return ret == -ENOENT || ret == -EACCES ? ret : -EIO;
	}
	/* fsblkcnt_t and unsigned long may be 32-bit: widen first */
	if (free_bytes)
		*free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (total_bytes)
		*total_bytes = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
	return 0;
}

/* see hal/storage.h */
int hal_storage_mkdir(const char *path, unsigned mode)
{
	char dir[HAL_PATH_MAX];
	struct stat st;
	int ret = -EIO;

	if ((ret = storage_check_path(path)) < 0)
		return ret;
	if (mkdir(path, (mode_t)(mode & 07777)) < 0) {
		if (errno != EEXIST)
			return storage_err(errno);
		if (stat(path, &st) < 0)
			return storage_err(errno);
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	storage_dirname(path, dir, sizeof dir);
	return storage_sync_dir(dir) < 0 ? -EIO : 0;
}

/* see hal/storage.h */
int hal_storage_remove(const char *path)
{
	struct stat st;
	int ret = -EIO;

	if ((ret = storage_check_path(path)) < 0)
		return ret;
	if (unlink(path) == 0)
		return 0;
	ret = storage_err(errno);
	/* Linux says EISDIR, POSIX allows EPERM for a directory */
	if ((errno == EPERM || errno == EISDIR) && lstat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return -EISDIR;
	return ret;
}

/* see hal/storage.h */
int hal_storage_probe_writable(const char *dir)
{
	char probe[HAL_PATH_MAX];
	int ret = -EIO, fd;

	if (!dir || !*dir)
		return -ENOENT;
	if (strlen(dir) + sizeof STORAGE_PROBE_NAME > sizeof probe)
		return -ENAMETOOLONG;
	snprintf(probe, sizeof probe, "%s%s", dir, STORAGE_PROBE_NAME);
	/* a fresh inode, like the temp: never write through a symlink */
	fd = storage_create_new(probe, 0600);
	if (fd < 0)
		return fd == -EISDIR || fd == -ENAMETOOLONG ? -EIO : fd;
	/* one byte also finds a full disk that still has free inodes */
	ret = storage_write_all(fd, "p", 1);
	close(fd);
	unlink(probe);
	return ret;
}

/*
 * hal/sim/file.c — hal/file.h over the sim's in-memory filesystem
 * (storage.c): the same return codes as hal/linux/file.c.  The sim has
 * no symbolic links or special files.
 */
#include "hal/file.h"

#include <errno.h>
#include <string.h>

#include "sim_int.h"

/* Linux refuses a path of PATH_MAX (4096) bytes or more before it looks
 * for it; so does the sim, whatever the path names. */
#define SIM_PATH_LIMIT 4096

static int path_too_long(const char *path)
{
	return strnlen(path, SIM_PATH_LIMIT) >= SIM_PATH_LIMIT;
}

/* see hal/file.h */
int hal_file_stat(const char *path, enum hal_file_type *type,
		  uint64_t *size)
{
	int is_dir = 0;
	size_t sz = 0;
	int i;

	if (path_too_long(path))
		return -ENAMETOOLONG;
	i = sim_storage_lookup(path, &is_dir, &sz);
	if (i == -ENOENT)
		return -ENOENT;
	*type = is_dir ? HAL_FILE_DIR : HAL_FILE_REG;
	if (!is_dir)
		*size = sz;
	return 0;
}

/* see hal/file.h */
int hal_file_open(const char *path, uint64_t *size)
{
	int is_dir = 0;
	size_t sz = 0;
	int i;

	if (path_too_long(path))
		return -ENAMETOOLONG;
	i = sim_storage_lookup(path, &is_dir, &sz);
	if (i == -ENOENT)
		return -ENOENT;
	if (is_dir)
		return -EINVAL;
	*size = sz;
	return sim_fd_alloc(SIM_FD_RFILE, i);
}

/* see hal/file.h */
int hal_file_read_full(int fd, uint64_t off, void *buf, size_t len)
{
	struct sim_fd *f = sim_fd_get(fd, SIM_FD_RFILE);
	const unsigned char *data;
	size_t size = 0;

	if (!f)
		return -EBADF;
	data = sim_storage_data(f->idx, &size);
	if (!data)
		return -EIO;    /* removed while open */
	if (off > size || len > size - off)
		return -ENODATA;
	memcpy(buf, data + off, len);
	return 0;
}

/* see hal/file.h */
void hal_file_close(int fd)
{
	if (sim_fd_get(fd, SIM_FD_RFILE))
		sim_fd_free(fd);
}

/* see hal/file.h */
int hal_dir_open(struct hal_dir *d, const char *path)
{
	int is_dir = 0;
	size_t sz = 0;
	int i;

	d->fd = -1;
	if (path_too_long(path))
		return -ENAMETOOLONG;
	i = sim_storage_lookup(path, &is_dir, &sz);
	if (i == -ENOENT)
		return -ENOENT;
	if (!is_dir)
		return -ENOTDIR;
	if (strlen(path) >= sizeof d->buf)
		return -ENAMETOOLONG;
	d->fd = sim_fd_alloc(SIM_FD_RFILE, i);
	if (d->fd < 0) {
		int ret = d->fd;

		d->fd = -1;
		return ret;
	}
	strcpy((char *)d->buf, path);   /* the sim keeps the path here */
	d->sim_next = 0;
	return 0;
}

/* see hal/file.h */
int hal_dir_next(struct hal_dir *d, const char **name)
{
	if (!sim_fd_get(d->fd, SIM_FD_RFILE))
		return -EBADF;
	return sim_storage_child((const char *)d->buf, &d->sim_next, name);
}

/* see hal/file.h */
void hal_dir_close(struct hal_dir *d)
{
	if (d->fd >= 0)
		hal_file_close(d->fd);
	d->fd = -1;
}

/* see hal/file.h: the sim's storage keeps no times */
int hal_file_set_mtime(const char *path, int64_t sec, uint32_t nsec)
{
	int is_dir = 0;
	size_t sz = 0;

	(void)sec;
	(void)nsec;
	return sim_storage_lookup(path, &is_dir, &sz) == -ENOENT ? -ENOENT : 0;
}

/* see hal/file.h: the sim's storage keeps no attributes */
int hal_file_meta(int fd, uint32_t *mode, int64_t *mtime_s,
		  uint32_t *mtime_ns)
{
	(void)fd;
	(void)mode;
	(void)mtime_s;
	(void)mtime_ns;
	return -ENOSYS;
}

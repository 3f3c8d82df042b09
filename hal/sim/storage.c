/*
 * hal/sim/storage.c — an in-memory filesystem with the same atomic-write
 * contract and return codes as hal/linux/storage.c.
 *
 * Nodes: HAL_SIM_FILES_MAX slots, each a file (up to HAL_SIM_FILE_MAX
 * bytes) or a directory, named by its full absolute path ("/a/b", no
 * trailing '/', no "." or ".." handling: the sim has no cwd, so relative
 * paths are -ENOENT).  "/" always exists and takes no slot.  A node's
 * parent directory must exist when it is created.
 *
 * Atomic write: afile_open creates "<path>.tmp" as a node marked `temp`
 * and hands out a sim descriptor (SIM_FD_AFILE) naming it; commit renames
 * the node over path.  A power cut deletes every temp node and makes open
 * afiles dead (-EIO), so committed content is all that survives.
 *
 * Space: used = sum of file sizes.  Free space is a budget set by
 * hal_sim_storage_set_space (free at that moment, minus growth since);
 * a write that would exceed it fails with -ENOSPC and changes nothing.
 * The default budget is HAL_SIM_FILES_MAX * HAL_SIM_FILE_MAX (16 MiB).
 * A file growing past HAL_SIM_FILE_MAX also fails with -ENOSPC.
 */
#include "hal/storage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

#define SIM_TMP_SUFFIX ".tmp"
#define SIM_PROBE_NAME "/.vigil-probe"
#define SIM_SPACE_DEFAULT ((uint64_t)HAL_SIM_FILES_MAX * HAL_SIM_FILE_MAX)

struct sim_node {
	int used;
	int is_dir;
	int temp; /* an uncommitted atomic write */
	char path[HAL_PATH_MAX];
	size_t size;
	unsigned char data[HAL_SIM_FILE_MAX];
};

static struct sim_node sim_nodes[HAL_SIM_FILES_MAX];
static int sim_readonly;
static uint64_t sim_space_total = SIM_SPACE_DEFAULT;
static uint64_t sim_space_free_at_set = SIM_SPACE_DEFAULT;
static uint64_t sim_space_used_at_set;

static uint64_t sim_used(void)
{
	uint64_t used = 0;

	for (int i = 0; i < HAL_SIM_FILES_MAX; i++)
		if (sim_nodes[i].used && !sim_nodes[i].is_dir)
			used += sim_nodes[i].size;
	return used;
}

static uint64_t sim_free(void)
{
	uint64_t used = sim_used();
	uint64_t grown = used > sim_space_used_at_set
				 ? used - sim_space_used_at_set : 0;

	return grown >= sim_space_free_at_set ? 0
					      : sim_space_free_at_set - grown;
}

/* see sim_int.h */
void sim_storage_reset(void)
{
	for (int i = 0; i < HAL_SIM_FILES_MAX; i++) {
		sim_nodes[i].used = 0;
		sim_nodes[i].size = 0;
	}
	sim_readonly = 0;
	sim_space_total = SIM_SPACE_DEFAULT;
	sim_space_free_at_set = SIM_SPACE_DEFAULT;
	sim_space_used_at_set = 0;
}

static int sim_find(const char *path)
{
	for (int i = 0; i < HAL_SIM_FILES_MAX; i++)
		if (sim_nodes[i].used && strcmp(sim_nodes[i].path, path) == 0)
			return i;
	return -1;
}

/* 0 when path is "/" or an existing directory node. */
static int sim_is_dir(const char *path)
{
	int i;

	if (strcmp(path, "/") == 0)
		return 1;
	i = sim_find(path);
	return i >= 0 && sim_nodes[i].is_dir;
}

/* Checks the shape of path and that its parent directory exists.
 * @retval 0 / -ENAMETOOLONG / -ENOENT */
static int sim_check_path(const char *path)
{
	char parent[HAL_PATH_MAX];
	const char *slash;
	size_t len;

	if (!path || path[0] != '/')
		return -ENOENT;
	len = strlen(path);
	if (len > HAL_PATH_MAX - sizeof SIM_TMP_SUFFIX)
		return -ENAMETOOLONG;
	if (len == 1)
		return 0; /* the root */
	if (path[len - 1] == '/' || strstr(path, "//"))
		return -ENOENT;
	slash = strrchr(path, '/');
	len = slash == path ? 1 : (size_t)(slash - path);
	memcpy(parent, path, len);
	parent[len] = '\0';
	return sim_is_dir(parent) ? 0 : -ENOENT;
}

/* A free slot for a new node at path, or -ENOSPC. */
static int sim_new_node(const char *path, int is_dir)
{
	for (int i = 0; i < HAL_SIM_FILES_MAX; i++) {
		struct sim_node *n = &sim_nodes[i];

		if (n->used)
			continue;
		n->used = 1;
		n->is_dir = is_dir;
		n->temp = 0;
		n->size = 0;
		snprintf(n->path, sizeof n->path, "%s", path);
		return i;
	}
	return -ENOSPC;
}

/* see hal/storage.h */
int hal_storage_read(const char *path, void *buf, size_t cap)
{
	int ret = sim_check_path(path), i;

	if (ret < 0)
		return ret;
	if (cap > 0 && !buf)
		return -EINVAL;
	if (sim_is_dir(path))
		return -EISDIR;
	i = sim_find(path);
	if (i < 0)
		return -ENOENT;
	if (sim_nodes[i].size > cap)
		return -EMSGSIZE;
	if (sim_nodes[i].size > 0)
		memcpy(buf, sim_nodes[i].data, sim_nodes[i].size);
	return (int)sim_nodes[i].size;
}

/* see hal/storage.h */
int hal_storage_afile_open(struct hal_afile *f, const char *path,
			   unsigned mode)
{
	int ret = -EIO, i, fd;

	(void)mode; /* the sim keeps no permissions */
	if (!f)
		return -EINVAL;
	memset(f, 0, sizeof *f);
	f->fd = -1;
	if ((ret = sim_check_path(path)) < 0)
		return ret;
	if (sim_readonly)
		return -EROFS;
	if (sim_is_dir(path))
		return -EISDIR;
	snprintf(f->tmp, sizeof f->tmp, "%s%s", path, SIM_TMP_SUFFIX);
	i = sim_find(f->tmp);
	if (i >= 0 && sim_nodes[i].is_dir) {
		f->tmp[0] = '\0';
		return -EISDIR;
	}
	if (i < 0)
		i = sim_new_node(f->tmp, 0);
	if (i < 0) {
		f->tmp[0] = '\0';
		return i;
	}
	sim_nodes[i].temp = 1;
	sim_nodes[i].size = 0; /* O_TRUNC: a stale temp is reused */
	fd = sim_fd_alloc(SIM_FD_AFILE, i);
	if (fd < 0) {
		sim_nodes[i].used = 0;
		f->tmp[0] = '\0';
		return -EIO;
	}
	snprintf(f->path, sizeof f->path, "%s", path);
	f->fd = fd;
	return 0;
}

/* The node of an open afile; NULL with *err set when it is not usable. */
static struct sim_node *sim_afile_node(struct hal_afile *f, int *err)
{
	struct sim_fd *d;

	*err = -EBADF;
	if (!f || f->fd < 0 || f->tmp[0] == '\0')
		return NULL;
	d = sim_fd_get(f->fd, SIM_FD_AFILE);
	if (!d)
		return NULL;
	*err = -EIO; /* power cut: the temp is gone */
	if (d->idx < 0)
		return NULL;
	return &sim_nodes[d->idx];
}

/* see hal/storage.h */
int hal_storage_afile_write(struct hal_afile *f, const void *buf, size_t len)
{
	struct sim_node *n;
	int err;

	n = sim_afile_node(f, &err);
	if (!n)
		return err == -EBADF ? err : (f->err = err);
	if (f->err)
		return f->err;
	err = sim_readonly ? -EROFS : sim_fault();
	if (err < 0)
		return f->err = err;
	if (len > HAL_SIM_FILE_MAX - n->size || len > sim_free())
		return f->err = -ENOSPC;
	if (len > 0)
		memcpy(n->data + n->size, buf, len);
	n->size += len;
	return 0;
}

/* see hal/storage.h */
void hal_storage_afile_abort(struct hal_afile *f)
{
	struct sim_node *n;
	int err;

	if (!f || f->fd < 0 || f->tmp[0] == '\0')
		return;
	n = sim_afile_node(f, &err);
	if (n)
		n->used = 0; /* unlink the temp */
	sim_fd_free(f->fd);
	f->fd = -1;
	f->tmp[0] = '\0';
}

/* see hal/storage.h */
int hal_storage_afile_commit(struct hal_afile *f)
{
	struct sim_node *n;
	int ret = -EIO, old;

	n = sim_afile_node(f, &ret);
	if (!n) {
		hal_storage_afile_abort(f);
		return ret;
	}
	ret = f->err;
	if (ret == 0)
		ret = sim_readonly ? -EROFS : sim_fault();
	if (ret == 0 && sim_is_dir(f->path))
		ret = -EISDIR;
	if (ret < 0) {
		hal_storage_afile_abort(f);
		return ret;
	}
	old = sim_find(f->path);
	if (old >= 0)
		sim_nodes[old].used = 0;
	snprintf(n->path, sizeof n->path, "%s", f->path);
	n->temp = 0;
	sim_fd_free(f->fd);
	f->fd = -1;
	f->tmp[0] = '\0';
	return 0;
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
	int ret = sim_check_path(path);

	if (ret < 0)
		return ret;
	if (!sim_is_dir(path) && sim_find(path) < 0)
		return -ENOENT;
	if (free_bytes)
		*free_bytes = sim_free();
	if (total_bytes)
		*total_bytes = sim_space_total;
	return 0;
}

/* see hal/storage.h */
int hal_storage_mkdir(const char *path, unsigned mode)
{
	int ret = sim_check_path(path), i;

	(void)mode; /* the sim keeps no permissions */
	if (ret < 0)
		return ret;
	if (sim_is_dir(path))
		return 0;
	if (sim_find(path) >= 0)
		return -ENOTDIR;
	if (sim_readonly)
		return -EROFS;
	if ((ret = sim_fault()) < 0)
		return ret;
	i = sim_new_node(path, 1);
	return i < 0 ? i : 0;
}

/* see hal/storage.h */
int hal_storage_remove(const char *path)
{
	int ret = sim_check_path(path), i;

	if (ret < 0)
		return ret;
	if (sim_is_dir(path))
		return -EISDIR;
	i = sim_find(path);
	if (i < 0)
		return -ENOENT;
	if (sim_readonly)
		return -EROFS;
	sim_nodes[i].used = 0;
	return 0;
}

/* see hal/storage.h */
int hal_storage_probe_writable(const char *dir)
{
	char probe[HAL_PATH_MAX];
	int i;

	if (!dir || strlen(dir) + sizeof SIM_PROBE_NAME > sizeof probe)
		return dir ? -ENAMETOOLONG : -ENOENT;
	if (!sim_is_dir(dir))
		return -ENOENT;
	if (sim_readonly)
		return -EROFS;
	if (sim_free() < 1)
		return -ENOSPC;
	snprintf(probe, sizeof probe, "%s%s", strcmp(dir, "/") ? dir : "",
		 SIM_PROBE_NAME);
	if (sim_find(probe) >= 0)
		return 0; /* a stale probe: creating it again would work */
	i = sim_new_node(probe, 0);
	if (i < 0)
		return i;
	sim_nodes[i].used = 0;
	return 0;
}

/* see hal/sim.h */
void hal_sim_storage_set_space(uint64_t free_bytes, uint64_t total_bytes)
{
	sim_space_total = total_bytes;
	sim_space_free_at_set = free_bytes;
	sim_space_used_at_set = sim_used();
}

/* see hal/sim.h */
void hal_sim_storage_set_readonly(int readonly)
{
	sim_readonly = readonly != 0;
}

/* see hal/sim.h */
void hal_sim_storage_power_cut(void)
{
	for (int i = 0; i < HAL_SIM_FILES_MAX; i++)
		if (sim_nodes[i].used && sim_nodes[i].temp)
			sim_nodes[i].used = 0;
	/* open afiles now point at nothing: later calls give -EIO */
	for (int fd = HAL_SIM_FD_BASE; fd < HAL_SIM_FD_BASE + HAL_SIM_FDS_MAX;
	     fd++) {
		struct sim_fd *d = sim_fd_get(fd, SIM_FD_AFILE);

		if (d)
			d->idx = -1;
	}
}

/* see hal/sim.h */
unsigned hal_sim_storage_file_count(void)
{
	unsigned n = 0;

	for (int i = 0; i < HAL_SIM_FILES_MAX; i++)
		if (sim_nodes[i].used && !sim_nodes[i].is_dir)
			n++;
	return n;
}

/* see sim_int.h */
int sim_storage_exists_file(const char *path)
{
	int i = sim_find(path);

	return i >= 0 && !sim_nodes[i].is_dir;
}

/* see sim_int.h */
int sim_storage_overwrite(const char *path, const void *buf, size_t len)
{
	int i = sim_find(path);

	if (i < 0 || sim_nodes[i].is_dir)
		return -ENOENT;
	if (len > HAL_SIM_FILE_MAX)
		len = HAL_SIM_FILE_MAX;
	memcpy(sim_nodes[i].data, buf, len);
	sim_nodes[i].size = len;
	return 0;
}

/* see sim_int.h */
int sim_storage_lookup(const char *path, int *is_dir, size_t *size)
{
	int i;

	if (path && strcmp(path, "/") == 0) {
		*is_dir = 1;
		*size = 0;
		return -1;
	}
	i = path ? sim_find(path) : -1;
	if (i < 0 || sim_nodes[i].temp)
		return -ENOENT;
	*is_dir = sim_nodes[i].is_dir;
	*size = sim_nodes[i].size;
	return i;
}

/* see sim_int.h */
const unsigned char *sim_storage_data(int idx, size_t *size)
{
	if (idx < 0 || idx >= HAL_SIM_FILES_MAX || !sim_nodes[idx].used ||
	    sim_nodes[idx].is_dir)
		return NULL;
	*size = sim_nodes[idx].size;
	return sim_nodes[idx].data;
}

/* see sim_int.h */
int sim_storage_child(const char *dir, unsigned *next, const char **name)
{
	size_t dl = strcmp(dir, "/") == 0 ? 0 : strlen(dir);

	for (; *next < HAL_SIM_FILES_MAX; (*next)++) {
		const struct sim_node *n = &sim_nodes[*next];

		if (!n->used || n->temp || strncmp(n->path, dir, dl) != 0 ||
		    n->path[dl] != '/' || strchr(n->path + dl + 1, '/'))
			continue;
		*name = n->path + dl + 1;
		(*next)++;
		return 1;
	}
	return 0;
}

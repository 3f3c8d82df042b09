/*
 * backup_walk.c — file enumeration for `vigild backup` (backup_walk.h).
 * Recursion depth is bounded by BACKUP_WALK_DEPTH; all levels share one
 * path buffer (each level appends "/name" and cuts it off again).
 */
#include "backup_walk.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends component c[0..n) to out (length *len), applying "." and "..". */
static int push_comp(char *out, size_t cap, size_t *len, const char *c,
		     size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		while (*len > 0 && out[*len - 1] != '/')
			(*len)--;
		if (*len > 0)
			(*len)--;       /* drop the '/' too */
		return 0;
	}
	if (n + 1 >= cap - *len)
		return -ENAMETOOLONG;
	out[(*len)++] = '/';
	memcpy(out + *len, c, n);
	*len += n;
	return 0;
}

static int push_all(char *out, size_t cap, size_t *len, const char *p)
{
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int ret = push_comp(out, cap, len, p, n);

		if (ret < 0)
			return ret;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* see backup_walk.h */
int backup_walk_normalize(char *out, size_t cap, const char *cwd,
			  const char *path)
{
	size_t len = 0;
	int ret;

	if (path[0] == '\0' || cap < 2)
		return -EINVAL;
	if (path[0] != '/' && cwd) {
		ret = push_all(out, cap, &len, cwd);
		if (ret < 0)
			return ret;
	}
	ret = push_all(out, cap, &len, path);
	if (ret < 0)
		return ret;
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return (int)len;
}

struct walk {
	char path[BACKUP_PATH_MAX];
	backup_walk_cb cb;
	void *arg;
	struct backup_walk_stats *st;
};

static int walk_at(struct walk *w, size_t len, unsigned depth);

static int walk_dir(struct walk *w, size_t len, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (depth >= BACKUP_WALK_DEPTH) {
		w->st->skipped++;
		return 0;
	}
	d = opendir(w->path);
	if (d == NULL) {
		w->st->errors++;
		return 0;
	}
	while (ret == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n + 1 >= sizeof w->path - len) {
			w->st->skipped++;
			continue;
		}
		w->path[len] = '/';
		memcpy(w->path + len + 1, e->d_name, n + 1);
		ret = walk_at(w, len + 1 + n, depth + 1);
		w->path[len] = '\0';
	}
	closedir(d);
	return ret;
}

static int walk_at(struct walk *w, size_t len, unsigned depth)
{
	struct stat sb;

	if (lstat(w->path, &sb) != 0) {
		w->st->errors++;
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		w->st->files++;
		return w->cb(w->arg, w->path, (uint64_t)sb.st_size);
	}
	if (S_ISDIR(sb.st_mode))
		return walk_dir(w, len == 1 ? 0 : len, depth);
	w->st->skipped++;       /* symlink, socket, FIFO, device */
	return 0;
}

/* see backup_walk.h */
int backup_walk(const char *path, backup_walk_cb cb, void *arg,
		struct backup_walk_stats *st)
{
	static struct walk w;
	char cwd[BACKUP_PATH_MAX];
	int n;

	if (path[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
		st->errors++;
		return 0;
	}
	n = backup_walk_normalize(w.path, sizeof w.path,
				  path[0] == '/' ? NULL : cwd, path);
	if (n < 0) {
		st->errors++;
		return 0;
	}
	w.cb = cb;
	w.arg = arg;
	w.st = st;
	return walk_at(&w, (size_t)n, 0);
}

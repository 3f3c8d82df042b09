/*
 * backup_walk.c — the resumable file walk (backup_walk.h).  All levels
 * share one path buffer: each level appends "/name" to its directory's
 * path, whose length it keeps in plen.
 */
#include "backup_walk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

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

/* see backup_walk.h */
void backup_walk_start(struct backup_walk *w, const char *list, char sep)
{
	backup_walk_stop(w);
	/* Not memset: the 32 directory levels (~33 KiB) stay untouched,
	 * and out of the resident set, until a walk goes that deep. */
	mem_clear(w, sizeof *w);
	w->list = list;
	w->sep = sep;
}

/* see backup_walk.h */
void backup_walk_stop(struct backup_walk *w)
{
	while (w->depth > 0)
		hal_dir_close(&w->dirs[--w->depth]);
}

/* Looks at w->path (length len): 1 regular file, 0 handled (directory
 * pushed, or skipped/counted). */
static int visit(struct backup_walk *w, size_t len)
{
	enum hal_file_type t;

	if (hal_file_stat(w->path, &t, &w->size) != 0) {
		w->st.errors++;
		return 0;
	}
	if (t == HAL_FILE_REG) {
		w->st.files++;
		return 1;
	}
	if (t != HAL_FILE_DIR || w->depth >= BACKUP_WALK_DEPTH) {
		w->st.skipped++;        /* link, socket, FIFO, device, deep */
		return 0;
	}
	if (hal_dir_open(&w->dirs[w->depth], w->path) < 0) {
		w->st.errors++;
		return 0;
	}
	w->plen[w->depth] = len == 1 ? 0 : len;  /* "/" joins as "" */
	w->depth++;
	return 0;
}

/* The next element of the list, normalised into w->path.
 * @retval 1 / 0 list over */
static int next_arg(struct backup_walk *w, size_t *len)
{
	char arg[BACKUP_PATH_MAX], cwd[BACKUP_PATH_MAX];
	const char stop[2] = { w->sep, '\0' };

	while (w->list && w->list[w->pos]) {
		const char *p = w->list + w->pos;
		size_t n = strcspn(p, stop);
		int ret;

		w->pos += n + (w->sep && p[n] == w->sep);
		while (w->sep && n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (w->sep && n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (n >= sizeof arg) {
			w->st.errors++;
			continue;
		}
		memcpy(arg, p, n);
		arg[n] = '\0';
		if (arg[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
			w->st.errors++;
			continue;
		}
		ret = backup_walk_normalize(w->path, sizeof w->path,
					    arg[0] == '/' ? NULL : cwd, arg);
		if (ret < 0) {
			w->st.errors++;
			continue;
		}
		*len = (size_t)ret;
		return 1;
	}
	return 0;
}

/* see backup_walk.h */
int backup_walk_next(struct backup_walk *w, unsigned budget)
{
	size_t len;

	while (budget-- > 0) {
		const char *name;
		size_t base, n;
		int ret;

		if (w->depth == 0) {
			if (!next_arg(w, &len))
				return 0;
			if (visit(w, len))
				return 1;
			continue;
		}
		ret = hal_dir_next(&w->dirs[w->depth - 1], &name);
		if (ret <= 0) {
			if (ret < 0)
				w->st.errors++;
			hal_dir_close(&w->dirs[--w->depth]);
			continue;
		}
		base = w->plen[w->depth - 1];
		n = strlen(name);
		if (n + 1 >= sizeof w->path - base) {
			w->st.skipped++;
			continue;
		}
		w->path[base] = '/';
		memcpy(w->path + base + 1, name, n + 1);
		if (visit(w, base + 1 + n))
			return 1;
	}
	return -EAGAIN;
}

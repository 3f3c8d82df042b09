/*
 * backup_agent_walk.c — the agent's incremental file walk (backup_agent.h):
 * the same rules as backup_walk.h (regular files only, symlinks never
 * followed, depth <= BACKUP_WALK_DEPTH, paths <= BACKUP_PATH_MAX,
 * normalised absolute paths), but resumable: the recursion is an explicit
 * stack of open directories, and each call looks at a bounded number of
 * entries, so a huge tree never holds the event loop.
 *
 * Allocation, honestly: opendir() allocates its DIR (and buffer) inside
 * the C library — at most BACKUP_WALK_DEPTH at once, freed by closedir()
 * when a level is done or the walk stops.  This is the one allocation the
 * agent makes after init; getdents64 through a HAL call would avoid it
 * and is the planned replacement (no HAL directory API exists yet).
 */
#include "backup_agent.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* see backup_agent.h */
void backup_iwalk_start(struct backup_iwalk *w, const char *list)
{
	backup_iwalk_stop(w);
	memset(w, 0, sizeof *w);
	w->list = list;
}

/* see backup_agent.h */
void backup_iwalk_stop(struct backup_iwalk *w)
{
	while (w->depth > 0)
		closedir((DIR *)w->dirs[--w->depth]);
}

/* Looks at w->path (length len): 1 regular file, 0 handled (directory
 * pushed, or skipped/counted). */
static int visit(struct backup_iwalk *w, size_t len)
{
	struct stat sb;
	DIR *d;

	if (lstat(w->path, &sb) != 0) {
		w->st.errors++;
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		w->st.files++;
		w->size = (uint64_t)sb.st_size;
		return 1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		w->st.skipped++;        /* symlink, socket, FIFO, device */
		return 0;
	}
	if (w->depth >= BACKUP_WALK_DEPTH) {
		w->st.skipped++;
		return 0;
	}
	d = opendir(w->path);
	if (d == NULL) {
		w->st.errors++;
		return 0;
	}
	w->dirs[w->depth] = d;
	w->plen[w->depth] = len == 1 ? 0 : len;  /* "/" joins as "" */
	w->depth++;
	return 0;
}

/* The next element of the list into w->path.  @retval 1 / 0 list over */
static int next_arg(struct backup_iwalk *w, size_t *len)
{
	char arg[BACKUP_PATH_MAX], cwd[BACKUP_PATH_MAX];

	while (w->list && w->list[w->pos]) {
		const char *p = w->list + w->pos;
		size_t n = strcspn(p, ",");
		int ret;

		w->pos += n + (p[n] == ',');
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
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

/* see backup_agent.h */
int backup_iwalk_next(struct backup_iwalk *w, unsigned budget)
{
	size_t len;

	while (budget-- > 0) {
		struct dirent *e;
		size_t base, n;

		if (w->depth == 0) {
			if (!next_arg(w, &len))
				return 0;
			if (visit(w, len))
				return 1;
			continue;
		}
		e = readdir((DIR *)w->dirs[w->depth - 1]);
		if (e == NULL) {
			closedir((DIR *)w->dirs[--w->depth]);
			continue;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		base = w->plen[w->depth - 1];
		n = strlen(e->d_name);
		if (n + 1 >= sizeof w->path - base) {
			w->st.skipped++;
			continue;
		}
		w->path[base] = '/';
		memcpy(w->path + base + 1, e->d_name, n + 1);
		if (visit(w, base + 1 + n))
			return 1;
	}
	return -EAGAIN;
}

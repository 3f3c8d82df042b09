/*
 * restore_files.c — the file system work of a restore (restore_files.h).
 */
#include "restore_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"

#define DIR_MODE 0755u
/* What a file stored without attributes (plain v3) is restored with. */
#define MODE_DEFAULT 0644u

/* see restore_files.h */
void restore_file_reset(struct restore_file *rf)
{
	memset(&rf->f, 0, sizeof rf->f);
	rf->f.fd = -1;
	rf->target[0] = '\0';
}

/* Whether the pattern selects path: a match, or path under it. */
static int selected(const char *pattern, const char *path)
{
	size_t n;

	if (pattern == NULL)
		return 1;
	if (pattern_match(pattern, path))
		return 1;
	n = strlen(pattern);
	while (n > 1 && pattern[n - 1] == '/')
		n--;
	return strncmp(path, pattern, n) == 0 && path[n] == '/';
}

/* Creates the parent directories of rf->target (dest too; existing
 * ones are fine). */
static int make_parents(const struct restore_file *rf)
{
	char dir[HAL_PATH_MAX];
	char *s;
	int ret;

	memcpy(dir, rf->target, sizeof dir);
	for (s = dir + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		ret = hal_storage_mkdir(dir, DIR_MODE);
		*s = '/';
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void report(const struct restore_opts *o, const struct rse *e,
		   const char *why)
{
	if (o->report != NULL)
		o->report(e->path, why);
}

/* see restore_files.h */
int restore_file_open(struct restore_file *rf, const struct rse *e,
		      const struct restore_opts *o)
{
	const struct v3x_msg *f = rse_entry(e);
	enum hal_file_type t;
	uint64_t size = 0;
	char tmp[HAL_PATH_MAX + 8];
	int n, ret;

	if (!selected(o->pattern, e->path))
		return 0;
	n = snprintf(rf->target, sizeof rf->target, "%s%s", o->dest, e->path);
	if (n < 0 || (size_t)n >= sizeof rf->target - 5) {
		report(o, e, "path too long under the destination");
		return -ENAMETOOLONG;
	}
	if (hal_file_stat(rf->target, &t, &size) == 0 && !o->overwrite) {
		report(o, e, "exists (kept; --overwrite replaces it)");
		return 0;
	}
	/* the atomic write's temporary name must not be a restored file */
	snprintf(tmp, sizeof tmp, "%s.tmp", rf->target);
	if (hal_file_stat(tmp, &t, &size) == 0) {
		report(o, e, "its temporary name <path>.tmp exists");
		return -EEXIST;
	}
	ret = make_parents(rf);
	if (ret == 0)
		ret = hal_storage_afile_open(&rf->f, rf->target,
					     f->mode ? f->mode : MODE_DEFAULT);
	if (ret < 0)
		report(o, e, strerror(-ret));
	return ret < 0 ? ret : 1;
}

/* see restore_files.h */
void restore_file_write(struct restore_file *rf, struct rse *e)
{
	uint64_t off;
	size_t len;
	const uint8_t *p = rse_data(e, &off, &len);

	rse_written(e, hal_storage_afile_write(&rf->f, p, len));
}

/* see restore_files.h */
void restore_file_finish(struct restore_file *rf, struct rse *e,
			 const struct restore_opts *o)
{
	const struct v3x_msg *f = rse_entry(e);
	int ret = -EBADMSG;

	if (e->verified) {
		ret = hal_storage_afile_commit(&rf->f);
		if (ret == 0)
			ret = hal_file_set_mtime(rf->target, f->mtime_s,
						 f->mtime_ns);
		report(o, e, ret == 0 ? NULL : strerror(-ret));
	} else {
		hal_storage_afile_abort(&rf->f);
		report(o, e, e->file_err);
	}
	rse_finished(e, ret);
}

/* see restore_files.h */
void restore_file_abort(struct restore_file *rf)
{
	hal_storage_afile_abort(&rf->f);
}

/*
 * restore_client.c — the blocking driver of the restore engine
 * (restore_client.h).  The engine decides; this file connects, moves
 * bytes with bounded waits, and does the file system work of a restore:
 * the selection (pattern, existing files), parent directories, the
 * atomic write, mode and mtime.
 */
#include "restore_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/file.h"
#include "hal/poll.h"
#include "pattern.h"

#define DIR_MODE 0755u
/* What a file stored without attributes (plain v3) is restored with. */
#define MODE_DEFAULT 0644u

static uint32_t io_timeout(const struct restore_client *c)
{
	return c->cfg.io_timeout_ms ? c->cfg.io_timeout_ms
				    : BACKUP_IO_TIMEOUT_DEFAULT_MS;
}

/* One address: TCP, then the TLS handshake.  @retval 0 up  @retval <0 */
static int connect_one(struct restore_client *c, const struct hal_addr *a)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);
	int ret = bk_conn_open(&c->conn, a);

	bk_conn_connecting(&c->conn);
	if (ret == -EINPROGRESS) {
		ret = bk_conn_wait(&c->conn, HAL_POLLOUT, deadline);
		if (ret == 0)
			ret = bk_conn_open_result(&c->conn);
	}
	while (ret == 0 &&
	       (ret = bk_conn_handshake(&c->conn, c->cfg.host)) == -EAGAIN)
		ret = bk_conn_wait(&c->conn,
				   bk_conn_events(&c->conn, HAL_POLLIN), deadline);
	if (ret < 0)
		bk_conn_close(&c->conn);
	return ret;
}

/* RSE_WANT_CONNECT: each of the server's addresses in turn. */
static void do_connect(struct restore_client *c)
{
	unsigned n = c->cfg.n_addrs ? c->cfg.n_addrs : 1, i;
	int ret = -ECONNREFUSED;

	for (i = 0; i < n; i++) {
		ret = connect_one(c, c->cfg.n_addrs ? &c->cfg.addrs[i]
						     : &c->cfg.server);
		if (ret == 0) {
			rse_connected(&c->e, bk_conn_up(&c->conn));
			return;
		}
	}
	rse_io_failed(&c->e, ret, c->conn.err[0] ? c->conn.err
						 : strerror(-ret));
}

static void do_send(struct restore_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);

	while (rse_want(&c->e) == RSE_WANT_SEND) {
		size_t len;
		const uint8_t *p = rse_out(&c->e, &len);
		int n = bk_conn_send(&c->conn, p, len);

		if (n == -EAGAIN)
			n = bk_conn_wait(&c->conn,
				 bk_conn_events(&c->conn, HAL_POLLOUT), deadline);
		else if (n > 0)
			deadline = hal_clock_mono_ms() + io_timeout(c);
		if (n < 0) {
			rse_io_failed(&c->e, n, bk_conn_why(&c->conn, n));
			return;
		}
		if (n > 0)
			rse_out_ack(&c->e, (size_t)n);
	}
}

static void do_recv(struct restore_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);

	while (rse_want(&c->e) == RSE_WANT_RECV) {
		size_t room;
		uint8_t *p = rse_in(&c->e, &room);
		int n = bk_conn_recv(&c->conn, p, room);

		if (n == -EAGAIN) {
			n = bk_conn_wait(&c->conn,
				 bk_conn_events(&c->conn, HAL_POLLIN), deadline);
			if (n == 0)
				continue;
		} else if (n > 0) {
			deadline = hal_clock_mono_ms() + io_timeout(c);
		}
		if (n <= 0) {
			rse_io_failed(&c->e, n == 0 ? -EIO : n,
				      bk_conn_why(&c->conn, n));
			return;
		}
		rse_in_ack(&c->e, (size_t)n);
	}
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

/* Creates the parent directories of c->target (dest too; existing
 * ones are fine). */
static int make_parents(struct restore_client *c)
{
	char dir[HAL_PATH_MAX];
	char *s;
	int ret;

	memcpy(dir, c->target, sizeof dir);
	for (s = dir + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		ret = hal_storage_mkdir(dir, DIR_MODE);
		*s = '/';
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void report(struct restore_client *c, const char *why)
{
	if (c->o->report != NULL)
		c->o->report(c->e.path, why);
}

/* RSE_WANT_OPEN: the entry's target, checks, the temporary file. */
static int do_open(struct restore_client *c)
{
	const struct v3x_msg *f = rse_entry(&c->e);
	enum hal_file_type t;
	uint64_t size = 0;
	char tmp[HAL_PATH_MAX + 8];
	int n, ret;

	if (!selected(c->o->pattern, c->e.path))
		return 0;
	n = snprintf(c->target, sizeof c->target, "%s%s", c->o->dest,
		     c->e.path);
	if (n < 0 || (size_t)n >= sizeof c->target - 5) {
		report(c, "path too long under the destination");
		return -ENAMETOOLONG;
	}
	if (hal_file_stat(c->target, &t, &size) == 0 && !c->o->overwrite) {
		report(c, "exists (kept; --overwrite replaces it)");
		return 0;
	}
	/* the atomic write's temporary name must not be a restored file */
	snprintf(tmp, sizeof tmp, "%s.tmp", c->target);
	if (hal_file_stat(tmp, &t, &size) == 0) {
		report(c, "its temporary name <path>.tmp exists");
		return -EEXIST;
	}
	ret = make_parents(c);
	if (ret == 0)
		ret = hal_storage_afile_open(&c->f, c->target,
					     f->mode ? f->mode : MODE_DEFAULT);
	if (ret < 0)
		report(c, strerror(-ret));
	return ret < 0 ? ret : 1;
}

static void do_write(struct restore_client *c)
{
	uint64_t off;
	size_t len;
	const uint8_t *p = rse_data(&c->e, &off, &len);

	rse_written(&c->e, hal_storage_afile_write(&c->f, p, len));
}

/* RSE_WANT_FINISH: rename into place only what was verified. */
static void do_finish(struct restore_client *c)
{
	const struct v3x_msg *f = rse_entry(&c->e);
	int ret = -EBADMSG;

	if (c->e.verified) {
		ret = hal_storage_afile_commit(&c->f);
		if (ret == 0)
			ret = hal_file_set_mtime(c->target, f->mtime_s,
						 f->mtime_ns);
		report(c, ret == 0 ? NULL : strerror(-ret));
	} else {
		hal_storage_afile_abort(&c->f);
		report(c, c->e.file_err);
	}
	rse_finished(&c->e, ret);
}

static void drive(struct restore_client *c)
{
	for (;;) {
		switch (rse_want(&c->e)) {
		case RSE_WANT_NOTHING:
			return;
		case RSE_WANT_CONNECT: do_connect(c); break;
		case RSE_WANT_SEND: do_send(c); break;
		case RSE_WANT_RECV: do_recv(c); break;
		case RSE_WANT_OPEN: rse_open_result(&c->e, do_open(c)); break;
		case RSE_WANT_WRITE: do_write(c); break;
		case RSE_WANT_FINISH: do_finish(c); break;
		case RSE_WANT_CLOSE:
			/* a run cut mid-file leaves no partial file */
			hal_storage_afile_abort(&c->f);
			bk_conn_close(&c->conn);
			rse_closed(&c->e);
			break;
		}
	}
}

/* see restore_client.h */
int restore_client_run(struct restore_client *c,
		       const struct backup_client_cfg *cfg,
		       const struct restore_opts *o)
{
	int ret;

	memset(&c->f, 0, sizeof c->f);
	c->f.fd = -1;
	c->cfg = *cfg;
	c->o = o;
	rse_start(&c->e, o->device, o->snapshot);
	ret = bk_conn_init(&c->conn, &c->cfg);
	if (ret < 0) {
		snprintf(c->e.err, sizeof c->e.err, "%s", c->conn.err);
		return ret;
	}
	drive(c);
	bk_conn_free(&c->conn);
	if (c->e.result < 0)
		return c->e.result;
	return c->e.files_failed > 0;
}

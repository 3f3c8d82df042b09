/*
 * backup_client.c — the blocking driver of the v3 client engine
 * (backup_client.h): a loop over bke_want that does each wish with a
 * bounded hal_poll wait, reads file slices through hal/file and sleeps
 * the backoffs.  Logs what the engine decided.
 */
#include "backup_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_retry.h"
#include "hal/clock.h"
#include "hal/file.h"
#include "hal/poll.h"
#include "log.h"

/* see backup_client.h */
int backup_url_parse(const char *url, int *tls, char *host, size_t cap,
		     uint16_t *port)
{
	const char *h, *colon, *end;
	unsigned long p = 0;
	size_t n;

	if (!strncmp(url, "tcp://", 6))
		*tls = 0;
	else if (!strncmp(url, "tls://", 6))
		*tls = 1;
	else
		return -EINVAL;
	h = url + 6;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		h++;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		end = colon;
	}
	n = (size_t)(end - h);
	if (n == 0 || colon[1] == '\0')
		return -EINVAL;
	if (n >= cap)
		return -ENAMETOOLONG;
	for (const char *d = colon + 1; *d; d++) {
		if (*d < '0' || *d > '9' || p > 65535)
			return -EINVAL;
		p = p * 10 + (unsigned long)(*d - '0');
	}
	if (p == 0 || p > 65535)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* see backup_client.h */
int backup_server_resolve(struct backup_client_cfg *cfg, const char *host,
			  uint16_t port)
{
	int n = 1;

	if (hal_net_addr_parse(host, port, &cfg->addrs[0]) < 0)
		n = hal_net_resolve(host, port, cfg->addrs, BACKUP_SERVER_ADDRS);
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	cfg->n_addrs = (unsigned)n;
	cfg->server = cfg->addrs[0];
	return 0;
}

static uint32_t io_timeout(const struct backup_client *c)
{
	return c->cfg.io_timeout_ms ? c->cfg.io_timeout_ms
				    : BACKUP_IO_TIMEOUT_DEFAULT_MS;
}

/* The TLS handshake (tcp: nothing) within deadline. */
static int do_handshake(struct backup_client *c, uint64_t deadline)
{
	int ret;

	while ((ret = bk_conn_handshake(&c->conn, c->cfg.host)) == -EAGAIN) {
		if (bk_conn_wait(&c->conn, bk_conn_events(&c->conn, HAL_POLLIN),
				 deadline) == -ETIMEDOUT) {
			snprintf(c->conn.err, sizeof c->conn.err,
				 "TLS handshake not complete after %u ms",
				 (unsigned)io_timeout(c));
			return -ETIMEDOUT;
		}
	}
	return ret;
}

/* BKE_WANT_CONNECT: TCP (and TLS) to the engine's address, fed back. */
static void do_connect(struct backup_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);
	int ret = bk_conn_open(&c->conn, bke_server(&c->e));

	bk_conn_connecting(&c->conn);
	if (ret == -EINPROGRESS) {
		ret = bk_conn_wait(&c->conn, HAL_POLLOUT, deadline);
		if (ret == 0)
			ret = bk_conn_open_result(&c->conn);
	}
	if (ret < 0) {
		bk_conn_close(&c->conn);
		bke_link_failed(&c->e, BKE_CONN_FAILED, ret, strerror(-ret));
		if (bke_event(&c->e) == BKE_EV_NEXT_ADDR)
			log_info("backup", "%s; trying %s", c->e.err, c->e.peer);
		return;
	}
	ret = do_handshake(c, deadline);
	if (ret < 0) {
		bke_link_failed(&c->e, bk_conn_resume_dropped(&c->conn)
				? BKE_CONN_RESUME_FAILED
				: BKE_CONN_HANDSHAKE_FAILED, ret, c->conn.err);
		bk_conn_close(&c->conn);
		return;
	}
	bke_connected(&c->e, bk_conn_up(&c->conn));
}

/* BKE_WANT_SEND: all of bke_out, or a failure fed back. */
static void do_send(struct backup_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);

	while (bke_want(&c->e) == BKE_WANT_SEND) {
		size_t len;
		const uint8_t *p = bke_out(&c->e, &len);
		int n = bk_conn_send_wait(&c->conn, p, len, &deadline,
					  io_timeout(c));

		if (n < 0) {
			bke_io_failed(&c->e, n, bk_conn_why(&c->conn, n));
			return;
		}
		if (n > 0)
			bke_out_ack(&c->e, (size_t)n);
	}
}

/* BKE_WANT_RECV: the whole reply, or a failure fed back. */
static void do_recv(struct backup_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);

	while (bke_want(&c->e) == BKE_WANT_RECV) {
		size_t len;
		uint8_t *p = bke_in(&c->e, &len);
		int n = bk_conn_recv_wait(&c->conn, p, len, &deadline,
					  io_timeout(c));

		if (n <= 0) {
			bke_io_failed(&c->e, n == 0 ? -EIO : n,
				      bk_conn_why(&c->conn, n));
			return;
		}
		bke_in_ack(&c->e, (size_t)n);
	}
}

/* BKE_WANT_READ: the slice from the open file. */
static void do_read(struct backup_client *c, int fd)
{
	uint64_t off;
	size_t len;
	uint8_t *p = bke_slice(&c->e, &off, &len);

	bke_slice_done(&c->e, hal_file_read_full(fd, off, p, len));
}

static void do_wait(struct backup_client *c)
{
	uint64_t end = hal_clock_mono_ms() + bke_wait_ms(&c->e);
	uint64_t now;

	if (c->e.st == BKE_BACKOFF)     /* not a backup.max_rate pause */
		log_warn("backup", "%s; retrying in %u ms (attempt %u of %u)",
			 c->e.err, (unsigned)bke_wait_ms(&c->e),
			 c->e.failures + 1, BACKUP_RETRY_ATTEMPTS);
	while ((now = hal_clock_mono_ms()) < end)
		hal_poll(NULL, 0, (int)(end - now));
	bke_waited(&c->e);
}

/* Runs the engine until the request ends.  @retval its result */
static int drive(struct backup_client *c, int fd)
{
	for (;;) {
		switch (bke_want(&c->e)) {
		case BKE_WANT_NOTHING:
			if (c->e.result < 0)
				bk_conn_note_error(&c->conn, c->e.result,
						   c->e.err);
			return c->e.result;
		case BKE_WANT_CONNECT: do_connect(c); break;
		case BKE_WANT_SEND: do_send(c); break;
		case BKE_WANT_RECV: do_recv(c); break;
		case BKE_WANT_READ: do_read(c, fd); break;
		case BKE_WANT_WAIT: do_wait(c); break;
		case BKE_WANT_CLOSE:
			bk_conn_close(&c->conn);
			bke_closed(&c->e);
			break;
		}
	}
}

/* see backup_client.h */
int backup_client_init(struct backup_client *c,
		       const struct backup_client_cfg *cfg)
{
	int ret;

	c->cfg = *cfg;
	bke_init(&c->e, &c->cfg);
	ret = bk_conn_init(&c->conn, &c->cfg);
	if (ret < 0) {
		snprintf(c->e.err, sizeof c->e.err, "%s", c->conn.err);
		return ret;
	}
	ret = bke_load_identity(&c->e);
	if (ret == 0 && c->e.have_id)
		memcpy(c->conn.stats.client_id, c->e.id.uuid, V3_ID_SIZE);
	return ret;
}

/* see backup_client.h */
int backup_client_connect(struct backup_client *c)
{
	int ret = bke_open(&c->e);

	return ret < 0 ? ret : drive(c, -1);
}

/* see backup_client.h */
void backup_client_file_prepare(struct backup_client *c, int fd,
				const char *path, uint64_t size)
{
	struct backup_file_state *fs = &c->cur;
	const struct bk_mf_entry *k;

	memset(fs, 0, sizeof *fs);
	if (hal_file_meta(fd, &fs->st.mode, &fs->st.mtime_s,
			  &fs->st.mtime_ns) != 0)
		return;         /* none where the HAL keeps none */
	fs->known = 1;
	fs->st.size = size;
	bke_file_attr(&c->e, fs->st.mode, fs->st.mtime_s, fs->st.mtime_ns);
	k = c->mf ? bk_mf_find(c->mf, path, size, fs->st.mtime_s,
			       fs->st.mtime_ns) : NULL;
	if (k != NULL)
		bke_file_known(&c->e, k->sha);
}

/* see backup_client.h */
void backup_client_file_verified(struct backup_client *c, const char *path)
{
	struct backup_file_state *fs = &c->cur;
	int deduped = 0;
	const uint8_t *sha = bke_file_sha256(&c->e, &deduped);

	if (deduped) {
		c->files_deduped++;
		c->bytes_deduped += fs->st.size;
	}
	if (c->mf == NULL || !fs->known)
		return;
	memcpy(fs->st.sha, sha, sizeof fs->st.sha);
	/* a full table is counted in mf->full; that file is sent next time */
	(void)bk_mf_put(c->mf, path, &fs->st);
}

/* see backup_client.h */
int backup_client_send_file(struct backup_client *c, const char *path)
{
	uint64_t size = 0;
	int fd = hal_file_open(path, &size);
	int ret;

	if (fd < 0) {
		snprintf(c->e.err, sizeof c->e.err, "%s: %s", path,
			 fd == -EINVAL ? "not a regular file" : strerror(-fd));
		return fd;
	}
	backup_client_file_prepare(c, fd, path, size);
	ret = bke_file(&c->e, path, size);
	if (ret == 0)
		ret = drive(c, fd);
	if (ret == 0)
		backup_client_file_verified(c, path);
	hal_file_close(fd);
	return ret;
}

/* see backup_client.h */
int backup_client_snapshot(struct backup_client *c, const char *path)
{
	int ret = bke_snapshot(&c->e, path);

	return ret < 0 ? ret : drive(c, -1);
}

/* see backup_client.h */
void backup_client_close(struct backup_client *c)
{
	bk_conn_free(&c->conn);
	bke_free(&c->e);
}

/*
 * restore_client.c — the blocking driver of the restore engine
 * (restore_client.h).  The engine decides; this file connects, moves
 * bytes with bounded waits; the file system work of a restore (the
 * selection, parent directories, the atomic write, mode and mtime) is
 * restore_files.c's, shared with the agent's driver.
 */
#include "restore_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/poll.h"

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
		int n = bk_conn_send_wait(&c->conn, p, len, &deadline,
					  io_timeout(c));

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
		int n = bk_conn_recv_wait(&c->conn, p, room, &deadline,
					  io_timeout(c));

		if (n <= 0) {
			rse_io_failed(&c->e, n == 0 ? -EIO : n,
				      bk_conn_why(&c->conn, n));
			return;
		}
		rse_in_ack(&c->e, (size_t)n);
	}
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
		case RSE_WANT_OPEN:
			rse_open_result(&c->e,
					restore_file_open(&c->rf, &c->e, c->o));
			break;
		case RSE_WANT_WRITE: restore_file_write(&c->rf, &c->e); break;
		case RSE_WANT_FINISH:
			restore_file_finish(&c->rf, &c->e, c->o);
			break;
		case RSE_WANT_CLOSE:
			/* a run cut mid-file leaves no partial file */
			restore_file_abort(&c->rf);
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

	restore_file_reset(&c->rf);
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

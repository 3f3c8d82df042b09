/*
 * backup_conn.c — the transport under the v3 client engine
 * (backup_conn.h): tcp, or tls through backup_tls; statistics and the
 * published link.
 */
#include "backup_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/poll.h"

/* see backup_conn.h */
int bk_conn_init(struct backup_conn *c, const struct backup_client_cfg *cfg)
{
	int ret;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->tls.fd = -1;
	c->link.state = BACKUP_LINK_DOWN;
	c->tls_on = cfg->tls != 0;
	if (!c->tls_on)
		return 0;
	c->tls_loaded = 1;
	ret = backup_tls_load(&c->tls, &(struct backup_tls_opts){
		.ca = cfg->tls_ca, .cert = cfg->tls_cert, .key = cfg->tls_key,
		.psk = cfg->tls_psk, .allow_tls12 = cfg->tls_allow12 });
	if (ret < 0)
		snprintf(c->err, sizeof c->err, "%s", c->tls.err);
	return ret;
}

static void set_link(struct backup_conn *c, enum backup_link_state s)
{
	if (c->link.state != s) {
		c->link.state = s;
		c->link.state_since_ms = hal_clock_mono_ms();
	}
}

/* see backup_conn.h */
void bk_conn_connecting(struct backup_conn *c)
{
	set_link(c, BACKUP_LINK_CONNECTING);
}

/* see backup_conn.h */
int bk_conn_open(struct backup_conn *c, const struct hal_addr *a)
{
	int ret;

	bk_conn_close(c);
	c->err[0] = '\0';
	c->tls.err[0] = '\0';
	hal_net_addr_format(a, c->stats.peer, sizeof c->stats.peer);
	c->fd = hal_net_socket(a->family, HAL_SOCK_STREAM);
	if (c->fd < 0) {
		ret = c->fd;
		c->fd = -1;
		return ret;
	}
	ret = hal_net_connect(c->fd, a);
	if (ret < 0 && ret != -EINPROGRESS)
		bk_conn_close(c);
	return ret;
}

/* see backup_conn.h */
int bk_conn_open_result(struct backup_conn *c)
{
	return hal_net_connect_result(c->fd);
}

/* see backup_conn.h */
int bk_conn_handshake(struct backup_conn *c, const char *host)
{
	int ret = 0;

	if (!c->tls_on)
		return 0;
	if (!c->handshaking) {
		hal_net_set_keepalive(c->fd, 60, 10, 3);
		hal_net_set_nodelay(c->fd);
		ret = backup_tls_start(&c->tls, c->fd, host);
		c->handshaking = ret == 0;
	}
	if (ret == 0)
		ret = backup_tls_handshake(&c->tls);
	if (ret < 0 && ret != -EAGAIN)
		snprintf(c->err, sizeof c->err, "%s", c->tls.err[0] ? c->tls.err
			 : "TLS handshake failed");
	if (ret != -EAGAIN)
		c->handshaking = 0;
	return ret;
}

/* see backup_conn.h */
int bk_conn_resume_dropped(struct backup_conn *c)
{
	if (!c->tls_on)
		return 0;
	backup_tls_stop(&c->tls);       /* the drop happens at the stop */
	return backup_tls_take_dropped(&c->tls);
}

/* see backup_conn.h */
int bk_conn_up(struct backup_conn *c)
{
	struct backup_conn_stats *s = &c->stats;
	uint64_t now = hal_clock_mono_ms();

	if (!c->tls_on) {
		hal_net_set_keepalive(c->fd, 60, 10, 3);
		hal_net_set_nodelay(c->fd);
	}
	s->transport = c->tls_on ? "tls" : "tcp";
	s->tls_version = backup_tls_version(&c->tls);
	s->tls_cipher = backup_tls_cipher(&c->tls);
	s->tls_alpn = backup_tls_alpn(&c->tls);
	s->tls_resumed = c->tls_on && c->tls.resumed;
	s->tls_resume_failures = c->tls.resume_failures;
	s->bytes_in = s->bytes_out = 0;
	s->read_errors = s->write_errors = 0;
	s->last_read_ms = s->last_write_ms = 0;
	s->connected_ms = now;
	if (c->ups++ > 0)
		c->link.reconnects++;
	set_link(c, BACKUP_LINK_UP);
	c->link.last_activity_ms = now;
	c->link.last_error = 0;
	c->link.last_error_text[0] = '\0';
	/* the server offers vigil/2 only if it takes version 4 on this
	 * connection; never over tcp, where the CBC layer is all there is */
	return c->tls_on && strcmp(s->tls_alpn, BACKUP_TLS_ALPN_CLEAR) == 0;
}

static void touch(struct backup_conn *c, int out, int n)
{
	uint64_t now = hal_clock_mono_ms();

	if (out) {
		c->stats.bytes_out += (uint64_t)n;
		c->stats.last_write_ms = now;
	} else {
		c->stats.bytes_in += (uint64_t)n;
		c->stats.last_read_ms = now;
	}
	c->link.last_activity_ms = now;
}

/* see backup_conn.h */
int bk_conn_send(struct backup_conn *c, const void *buf, size_t len)
{
	int n = c->tls_on ? backup_tls_write(&c->tls, buf, len)
			  : hal_net_send(c->fd, buf, len);

	if (n > 0)
		touch(c, 1, n);
	else if (n != -EAGAIN)
		c->stats.write_errors++;
	return n;
}

/* see backup_conn.h */
int bk_conn_recv(struct backup_conn *c, void *buf, size_t len)
{
	int n = c->tls_on ? backup_tls_read(&c->tls, buf, len)
			  : hal_net_recv(c->fd, buf, len);

	if (n > 0)
		touch(c, 0, n);
	else if (n != -EAGAIN)
		c->stats.read_errors++;
	return n;
}

/* see backup_conn.h */
unsigned short bk_conn_events(const struct backup_conn *c,
			      unsigned short dflt)
{
	if (!c->tls_on)
		return dflt;
	return c->tls.want == BACKUP_TLS_WANT_WRITE ? HAL_POLLOUT : HAL_POLLIN;
}

/* see backup_conn.h */
const char *bk_conn_why(const struct backup_conn *c, int err)
{
	if (c->tls_on && c->tls.err[0] && err != -ETIMEDOUT)
		return c->tls.err;      /* says more than the errno */
	switch (err) {
	case 0:
	case -EIO: return "connection closed by the server";
	case -ETIMEDOUT: return "timed out";
	case -ECONNRESET: return "connection reset";
	case -EPIPE: return "connection closed (broken pipe)";
	default: return strerror(-err);
	}
}

/* see backup_conn.h */
void bk_conn_note_error(struct backup_conn *c, int err, const char *text)
{
	c->stats.last_error = err;
	c->link.last_error = err;
	/* the link keeps a prefix of the text: it is a status field */
	snprintf(c->link.last_error_text, sizeof c->link.last_error_text,
		 "%s", text);
}

/* see backup_conn.h */
void bk_conn_close(struct backup_conn *c)
{
	backup_tls_stop(&c->tls);       /* close_notify while fd is open */
	c->handshaking = 0;
	if (c->fd >= 0)
		hal_net_close(c->fd);
	c->fd = -1;
	c->stats.connected_ms = 0;
	if (c->link.state == BACKUP_LINK_UP ||
	    c->link.state == BACKUP_LINK_CONNECTING)
		set_link(c, BACKUP_LINK_DOWN);
}

/* see backup_conn.h */
void bk_conn_free(struct backup_conn *c)
{
	bk_conn_close(c);
	if (c->tls_loaded)
		backup_tls_free(&c->tls);
	c->tls_loaded = 0;
}

/* see backup_conn.h */
int bk_conn_wait(const struct backup_conn *c, unsigned short ev,
		 uint64_t deadline)
{
	for (;;) {
		struct hal_pollfd p = { c->fd, ev, 0 };
		uint64_t now = hal_clock_mono_ms();
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = hal_poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && n != -EINTR)
			return n;
	}
}

/* One move of bytes for the blocking drivers: out sent, or (out NULL)
 * received into in. */
static int conn_move_wait(struct backup_conn *c, const void *out, void *in,
			  size_t len, uint64_t *deadline, uint32_t silence_ms)
{
	for (;;) {
		int n = out != NULL ? bk_conn_send(c, out, len)
				    : bk_conn_recv(c, in, len);

		if (n != -EAGAIN) {
			if (n > 0)
				*deadline = hal_clock_mono_ms() + silence_ms;
			return n;
		}
		n = bk_conn_wait(c, bk_conn_events(c, out != NULL ? HAL_POLLOUT
								  : HAL_POLLIN),
				 *deadline);
		if (n < 0)
			return n;
	}
}

/* see backup_conn.h */
int bk_conn_send_wait(struct backup_conn *c, const void *buf, size_t len,
		      uint64_t *deadline, uint32_t silence_ms)
{
	return conn_move_wait(c, buf, NULL, len, deadline, silence_ms);
}

/* see backup_conn.h */
int bk_conn_recv_wait(struct backup_conn *c, void *buf, size_t len,
		      uint64_t *deadline, uint32_t silence_ms)
{
	return conn_move_wait(c, NULL, buf, len, deadline, silence_ms);
}

/*
 * backup_io.c — blocking-with-timeout socket I/O of the one-shot backup
 * client: every wait is a hal_poll on the one socket, bounded by
 * cfg.io_timeout_ms per operation, so a silent server cannot hang a job.
 * For tls:// the same loops drive backup_tls (the TLS handshake shares
 * the connect deadline), waiting for the readiness it asks for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backup_client_int.h"
#include "hal/clock.h"
#include "hal/poll.h"
#include "log.h"

/* see backup_client_int.h */
int bk_fail(struct backup_client *c, int err, int fatal, const char *fmt,
	    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	c->fatal = fatal;
	c->stats.last_error = err;
	c->link.last_error = err;
	/* the link keeps a prefix of the text: it is a status field */
	memcpy(c->link.last_error_text, c->err,
	       sizeof c->link.last_error_text - 1);
	c->link.last_error_text[sizeof c->link.last_error_text - 1] = '\0';
	return err;
}

static uint32_t io_timeout(const struct backup_client *c)
{
	return c->cfg.io_timeout_ms ? c->cfg.io_timeout_ms
				    : BACKUP_IO_TIMEOUT_DEFAULT_MS;
}

/* Waits for ev on c->fd until deadline.  @retval 0 ready / -ETIMEDOUT */
static int io_wait(struct backup_client *c, unsigned short ev,
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
			return 0;       /* ready, or an error the call reports */
		if (n < 0 && n != -EINTR)
			return n;
	}
}

static void set_link(struct backup_client *c, enum backup_link_state s)
{
	if (c->link.state != s) {
		c->link.state = s;
		c->link.state_since_ms = hal_clock_mono_ms();
	}
}

static unsigned short tls_events(const struct backup_client *c)
{
	return c->tls.want == BACKUP_TLS_WANT_WRITE ? HAL_POLLOUT : HAL_POLLIN;
}

/* The TLS handshake over the connected c->fd, within deadline.  On
 * failure c->tls.err says why.  @retval 0 / <0 */
static int io_tls_handshake(struct backup_client *c, uint64_t deadline)
{
	int ret = backup_tls_start(&c->tls, c->fd, c->cfg.host);

	while (ret == 0 && (ret = backup_tls_handshake(&c->tls)) == -EAGAIN) {
		ret = io_wait(c, tls_events(c), deadline);
		if (ret == -ETIMEDOUT)
			snprintf(c->tls.err, sizeof c->tls.err,
				 "TLS handshake not complete after %u ms",
				 (unsigned)io_timeout(c));
	}
	if (ret < 0 && !c->tls.err[0])
		snprintf(c->tls.err, sizeof c->tls.err, "TLS handshake: %s",
			 strerror(-ret));
	return ret;
}

/* see backup_client_int.h */
void bk_io_transport_ready(struct backup_client *c)
{
	int tls = c->cfg.tls != 0;

	c->stats.transport = tls ? "tls" : "tcp";
	c->stats.tls_version = backup_tls_version(&c->tls);
	c->stats.tls_cipher = backup_tls_cipher(&c->tls);
	c->stats.tls_alpn = backup_tls_alpn(&c->tls);
	c->stats.tls_resumed = tls && c->tls.resumed;
	c->stats.tls_resume_failures = c->tls.resume_failures;
	/* the server offers vigil/2 only if it takes version 4 on this
	 * connection; never over tcp, where the CBC layer is all there is */
	c->clear = tls && strcmp(c->stats.tls_alpn, BACKUP_TLS_ALPN_CLEAR) == 0;
}

/* see backup_client_int.h */
uint8_t bk_req_version(const struct backup_client *c)
{
	return c->clear ? V3_VERSION_CLEAR : V3_VERSION;
}

/* A TCP connection to cfg.server before the deadline. */
static int io_tcp_connect(struct backup_client *c, uint64_t deadline)
{
	int ret;

	hal_net_addr_format(&c->cfg.server, c->stats.peer,
			    sizeof c->stats.peer);
	c->fd = hal_net_socket(c->cfg.server.family, HAL_SOCK_STREAM);
	if (c->fd < 0) {
		ret = c->fd;
		c->fd = -1;
		return ret;
	}
	ret = hal_net_connect(c->fd, &c->cfg.server);
	if (ret == -EINPROGRESS) {
		ret = io_wait(c, HAL_POLLOUT, deadline);
		if (ret == 0)
			ret = hal_net_connect_result(c->fd);
	}
	if (ret < 0)
		bk_io_close(c);
	return ret;
}

/* One connect (and TLS handshake) within the I/O timeout; a refused or
 * unreachable address is followed at once by the name's next one. */
static int io_connect_once(struct backup_client *c)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);
	int ret;

	bk_io_close(c);
	c->tls.err[0] = '\0';
	set_link(c, BACKUP_LINK_CONNECTING);
	while ((ret = io_tcp_connect(c, deadline)) < 0) {
		char failed[sizeof c->stats.peer];

		memcpy(failed, c->stats.peer, sizeof failed);
		if (!backup_server_next(c))
			return ret;
		hal_net_addr_format(&c->cfg.server, c->stats.peer,
				    sizeof c->stats.peer);
		log_info("backup", "connect %s: %s; trying %s", failed,
			 strerror(-ret), c->stats.peer);
		deadline = hal_clock_mono_ms() + io_timeout(c);
	}
	c->addrs_failed = 0;
	hal_net_set_keepalive(c->fd, 60, 10, 3);
	hal_net_set_nodelay(c->fd);
	c->stats.bytes_in = c->stats.bytes_out = 0;
	if (c->cfg.tls && (ret = io_tls_handshake(c, deadline)) < 0) {
		bk_io_close(c);
		return ret;
	}
	bk_io_transport_ready(c);
	c->stats.connected_ms = hal_clock_mono_ms();
	if (c->link.state_since_ms != 0 && c->stats.last_write_ms != 0)
		c->link.reconnects++;
	set_link(c, BACKUP_LINK_UP);
	c->link.last_activity_ms = c->stats.connected_ms;
	return 0;
}

/* see backup_client_int.h */
int bk_io_connect(struct backup_client *c)
{
	int ret = io_connect_once(c);

	/* a failed resumption dropped the saved session (logged): the full
	 * handshake goes now, not after a backoff and an attempt lost */
	if (ret < 0 && c->cfg.tls && backup_tls_take_dropped(&c->tls))
		ret = io_connect_once(c);
	return ret;
}

/* see backup_client_int.h */
int bk_io_send(struct backup_client *c, const void *buf, size_t len)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);
	const uint8_t *p = buf;

	while (len > 0) {
		int n = bk_io_send_some(c, p, len);

		if (n == -EAGAIN) {
			int ret = io_wait(c, c->cfg.tls ? tls_events(c)
					  : HAL_POLLOUT, deadline);

			if (ret < 0) {
				c->stats.write_errors++;
				return ret;
			}
			continue;
		}
		if (n < 0) {
			c->stats.write_errors++;
			return n;
		}
		p += n;
		len -= (size_t)n;
		c->stats.bytes_out += (uint64_t)n;
		c->stats.last_write_ms = hal_clock_mono_ms();
		c->link.last_activity_ms = c->stats.last_write_ms;
		/* progress extends the deadline: only silence times out */
		deadline = c->stats.last_write_ms + io_timeout(c);
	}
	return 0;
}

/* see backup_client_int.h */
int bk_io_recv(struct backup_client *c, void *buf, size_t len)
{
	uint64_t deadline = hal_clock_mono_ms() + io_timeout(c);
	uint8_t *p = buf;

	while (len > 0) {
		int n = bk_io_recv_some(c, p, len);

		if (n == -EAGAIN) {
			int ret = io_wait(c, c->cfg.tls ? tls_events(c)
					  : HAL_POLLIN, deadline);

			if (ret < 0) {
				c->stats.read_errors++;
				return ret;
			}
			continue;
		}
		if (n <= 0) {
			c->stats.read_errors++;
			return n == 0 ? -EIO : n;
		}
		p += n;
		len -= (size_t)n;
		c->stats.bytes_in += (uint64_t)n;
		c->stats.last_read_ms = hal_clock_mono_ms();
		c->link.last_activity_ms = c->stats.last_read_ms;
	}
	return 0;
}

static const char *io_errtext(const struct backup_client *c, int err)
{
	if (c->cfg.tls && c->tls.err[0] && err != -ETIMEDOUT)
		return c->tls.err;      /* says more than the errno */
	switch (err) {
	case -ETIMEDOUT: return "timed out";
	case -EIO: return "connection closed by the server";
	case -ECONNRESET: return "connection reset";
	case -EPIPE: return "connection closed (broken pipe)";
	default: return "I/O error";
	}
}

/* see backup_client_int.h */
int bk_io_resp(struct backup_client *c, struct v3_resp *r)
{
	/* the response lands after the largest 1028 head, so a reply read
	 * while c->buf holds a slice to resend would not clobber its head */
	uint8_t *b = c->buf + BACKUP_IOBUF_SIZE - V3_RESP_MAX;
	enum v3_reason why = V3_OK;
	int ret = bk_io_recv(c, b, V3_RESP_HDR_SIZE);

	if (ret < 0)
		return bk_fail(c, ret, 0, "%s: reading a reply: %s",
			       c->stats.peer, io_errtext(c, ret));
	ret = v3_resp_hdr_parse(r, b, V3_RESP_HDR_SIZE, &why);
	if (ret == 0 || (r->payload_size <= V3_RESP_MAX - V3_RESP_HDR_SIZE &&
			 (r->code == V3_RESP_ERROR ||
			  r->code == V3_RESP_REGISTER_FAIL ||
			  r->code == V3_RESP_RECONNECT_DENIED)))
		ret = bk_io_recv(c, b + V3_RESP_HDR_SIZE, r->payload_size);
	else
		return bk_fail(c, -EBADMSG, 0, "%s: bad reply header: %s",
			       c->stats.peer, v3_reason_str(why));
	if (ret < 0)
		return bk_fail(c, ret, 0, "%s: reading a reply: %s",
			       c->stats.peer, io_errtext(c, ret));
	if (r->code == V3_RESP_ERROR || r->code == V3_RESP_REGISTER_FAIL ||
	    r->code == V3_RESP_RECONNECT_DENIED)
		return 0;       /* the caller decides; payload is irrelevant */
	ret = v3_resp_payload_parse(r, b + V3_RESP_HDR_SIZE, r->payload_size,
				    &why);
	if (ret < 0)
		return bk_fail(c, -EBADMSG, 0, "%s: bad %u reply: %s",
			       c->stats.peer, r->code, v3_reason_str(why));
	return 0;
}

/* see backup_client_int.h */
int bk_io_req(struct backup_client *c, uint16_t code, const char *name,
	      const uint8_t *key, size_t key_len)
{
	uint8_t out[V3_REQ_SMALL_MAX];
	struct v3_req r;
	enum v3_reason why = V3_OK;
	int n, ret;

	memset(&r, 0, sizeof r);
	memcpy(r.client_id, c->id.uuid, V3_ID_SIZE);
	r.version = bk_req_version(c);
	r.code = code;
	snprintf(r.name, sizeof r.name, "%s", name);
	r.key = key;
	r.key_len = key_len;
	n = v3_req_pack(out, sizeof out, &r, &why);
	if (n < 0)
		return bk_fail(c, n, 1, "cannot build request %u: %s", code,
			       v3_reason_str(why));
	ret = bk_io_send(c, out, (size_t)n);
	if (ret < 0)
		return bk_fail(c, ret, 0, "%s: sending %u: %s", c->stats.peer,
			       code, io_errtext(c, ret));
	return 0;
}

/* see backup_client_int.h */
int bk_io_send_some(struct backup_client *c, const void *buf, size_t len)
{
	return c->cfg.tls ? backup_tls_write(&c->tls, buf, len)
			  : hal_net_send(c->fd, buf, len);
}

/* see backup_client_int.h */
int bk_io_recv_some(struct backup_client *c, void *buf, size_t len)
{
	return c->cfg.tls ? backup_tls_read(&c->tls, buf, len)
			  : hal_net_recv(c->fd, buf, len);
}

/* see backup_client_int.h */
const char *bk_io_strerror(const struct backup_client *c, int err)
{
	return c->cfg.tls && c->tls.err[0] ? c->tls.err : strerror(-err);
}

/* see backup_client_int.h */
void bk_io_close(struct backup_client *c)
{
	backup_tls_stop(&c->tls);       /* close_notify while fd is open */
	if (c->fd >= 0)
		hal_net_close(c->fd);
	c->fd = -1;
	c->session = 0;
	c->clear = 0;
	c->stats.connected_ms = 0;
	if (c->link.state == BACKUP_LINK_UP ||
	    c->link.state == BACKUP_LINK_CONNECTING) {
		c->link.state = BACKUP_LINK_DOWN;
		c->link.state_since_ms = hal_clock_mono_ms();
	}
}

/* see backup_client_int.h */
void bk_sleep_ms(uint32_t ms)
{
	uint64_t end = hal_clock_mono_ms() + ms;
	uint64_t now;

	while ((now = hal_clock_mono_ms()) < end)
		hal_poll(NULL, 0, (int)(end - now));
}

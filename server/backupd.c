/*
 * backupd.c — vigil-backupd's event loop: the plain v3 listener, the
 * fixed connection table, non-blocking reads and writes, the timeout
 * sweep, signals.
 *
 * Back-pressure: while a connection has answers the socket did not take,
 * it is not read, so a client that sends without reading cannot make the
 * server buffer more than BD_OUT_MAX bytes for it.  After a 1607 the
 * write side is shut and the input drained (at most BD_DRAIN_MS) before
 * close, so the client reads the 1607 instead of a reset.
 */
#include "backupd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hal/clock.h"
#include "hal/signal.h"
#include "log.h"
#include "metrics.h"

#define MOD "backupd"
#define BD_DRAIN_MS 1000u
#define BD_ACCEPT_BATCH 64

const struct bd_options *bd_opt;

EV_MEM_DEFINE(bd_ev_mem, BD_FDS_MAX, BD_TIMERS_MAX);
static struct ev_loop bd_loop;
static struct bd_conn bd_conns[BD_CONNS_MAX];
static unsigned bd_nconns;
static int bd_plain_fd = -1, bd_tls_fd = -1;
static uint8_t bd_rx[BD_RX_CHUNK];
static struct bd_totals bd_totals;
static struct bd_closed bd_closed[BD_CLOSED_KEEP];
static unsigned bd_closed_next;         /* ring slot written next */
static char bd_listen_plain[HAL_ADDR_TEXT_MAX], bd_listen_tls[HAL_ADDR_TEXT_MAX];

static void bd_conn_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg);

/* Keeps c's summary in the ring of recently closed connections. */
static void bd_remember_closed(const struct bd_conn *c, const char *reason)
{
	struct bd_closed *k = &bd_closed[bd_closed_next];

	bd_closed_next = (bd_closed_next + 1) % BD_CLOSED_KEEP;
	memcpy(k->peer, c->peer_text, sizeof k->peer);
	snprintf(k->tls_info, sizeof k->tls_info, "%s", c->tls_info);
	snprintf(k->client, sizeof k->client, "%s",
		 c->have_client ? c->uuid_hex : "");
	snprintf(k->reason, sizeof k->reason, "%s", reason);
	k->closed_ms = ev_now(&bd_loop);
	k->duration_ms = k->closed_ms - c->started_ms;
	k->bytes_in = c->bytes_in;
	k->bytes_out = c->bytes_out;
	k->files_ok = c->files_ok;
	k->partial_cleared = c->partial_cleared;
	bd_totals.bytes_in += c->bytes_in;
	bd_totals.bytes_out += c->bytes_out;
	bd_totals.files_stored += c->files_ok;
	bd_totals.files_by_hash += c->files_deduped;
	bd_totals.partial_cleared += c->partial_cleared;
}

/* see backupd.h */
const struct bd_closed *bd_closed_at(unsigned k)
{
	unsigned i = (bd_closed_next + BD_CLOSED_KEEP - 1 - k) % BD_CLOSED_KEEP;

	return k < BD_CLOSED_KEEP && bd_closed[i].closed_ms != 0
		       ? &bd_closed[i] : NULL;
}

/* see backupd.h */
const struct bd_conn *bd_conn_at(unsigned i)
{
	return i < BD_CONNS_MAX ? &bd_conns[i] : NULL;
}

/* see backupd.h */
const struct bd_totals *bd_totals_get(void)
{
	return &bd_totals;
}

/* see backupd.h */
const char *bd_listen_text(int tls)
{
	return tls ? bd_listen_tls : bd_listen_plain;
}

/* Closes c, clearing what it left unfinished, and logs the count. */
static void bd_conn_close(struct bd_conn *c, const char *reason)
{
	bd_content_batch_end();        /* its run is over: its snapshot too */
	bd_partial_keep(c);
	bd_session_drop_partial(c);
	bd_restore_tx_end(c);
	bd_remember_closed(c, reason);
	metric_add(M_SRV_CONN_MS, ev_now(&bd_loop) - c->started_ms);
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("reason", reason),
				 LKV_U("files", c->files_ok),
				 LKV_U("by_hash", c->files_deduped),
				 LKV_U("bytes_in", c->bytes_in),
				 LKV_U("bytes_out", c->bytes_out),
				 LKV_U("ms", ev_now(&bd_loop) - c->started_ms)),
		    "#%u %s: closed (%s): %u file(s) stored, %u partial cleared, %u kept, %u by hash, in %llu B, out %llu B, %llu ms",
		 c->idx, c->peer_text, reason, c->files_ok, c->partial_cleared,
		 c->partial_kept, c->files_deduped,
		 (unsigned long long)c->bytes_in,
		 (unsigned long long)c->bytes_out,
		 (unsigned long long)(ev_now(&bd_loop) - c->started_ms));
	bd_store_session_end(c->session_row, c->files_ok, c->partial_cleared,
			     reason);
	ev_del(&bd_loop, c->fd);
	bd_tls_conn_free(c);
	hal_net_close(c->fd);
	c->fd = -1;
	bd_nconns--;
}

/* see backupd.h */
size_t bd_conn_room(const struct bd_conn *c)
{
	return sizeof c->out - c->out_len + c->out_off;
}

/* see backupd.h */
int bd_conn_queue(struct bd_conn *c, const uint8_t *p, size_t len)
{
	if (bd_conn_room(c) < len)
		return -ENOSPC;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

/* see backupd.h */
int bd_conn_send(struct bd_conn *c, const struct v3_resp *r)
{
	int n;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	n = v3_resp_pack(c->out + c->out_len, sizeof c->out - c->out_len, r,
			 NULL);
	if (n < 0)
		return -ENOSPC;
	c->out_len += (size_t)n;
	return 0;
}

/* Sends what the socket takes.  @retval 0 all sent, 1 more left, <0 gone */
static int bd_flush(struct bd_conn *c)
{
	while (c->out_off < c->out_len) {
		int n = bd_io_send(c, c->out + c->out_off,
				   c->out_len - c->out_off);

		if (n == -EAGAIN)
			return 1;
		if (n < 0)
			return n;
		c->out_off += (size_t)n;
		c->last_tx_ms = ev_now(&bd_loop);
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* After the final answer: shut the write side and drain the input. */
static void bd_start_drain(struct bd_conn *c)
{
	if (c->tls != NULL && c->tls_done)
		mbedtls_ssl_close_notify(c->tls); /* best effort */
	shutdown(c->fd, SHUT_WR);
	c->draining = 1;
	c->drain_until_ms = ev_now(&bd_loop) + BD_DRAIN_MS;
	ev_mod(&bd_loop, c->fd, EV_READ);
}

/* 1 when part of a request (or of a multi-packet file) has arrived. */
static int bd_mid_request(const struct bd_conn *c)
{
	return c->st != BD_RX_HDR || c->hdr_len > 0 || c->rx.next != 0;
}

/* Reads once, and again while TLS holds decrypted bytes no poll() will
 * announce; returns 0 to keep c, or closes it and returns -1. */
static int bd_read(struct bd_conn *c)
{
	do {
		int n = bd_io_recv(c, bd_rx, sizeof bd_rx);

		if (n == -EAGAIN)
			break;
		if (n == 0) {
			bd_conn_close(c, c->draining ? "closed after 1607"
				      : bd_mid_request(c) ? "peer closed mid-request"
				      : "peer closed");
			return -1;
		}
		if (n < 0) {
			bd_conn_close(c, "receive error");
			return -1;
		}
		if (c->draining)
			return 0;
		c->last_rx_ms = ev_now(&bd_loop);
		if (bd_session_feed(c, bd_rx, (size_t)n) != 0) {
			bd_conn_close(c, "protocol error");
			return -1;
		}
	} while (bd_io_pending(c) > 0 && c->out_len == 0 && c->tx_left == 0 &&
		 c->st != BD_RX_CLOSING);
	bd_session_flush(c);    /* nothing stays staged while we wait */
	return 0;
}

/* Advances a TLS handshake.  @retval 0 done (or plain)  @retval 1 still
 * waiting, or failed and closed */
static int bd_tls_step(struct bd_conn *c)
{
	unsigned want = EV_READ;
	int ret;

	if (c->tls == NULL || c->tls_done)
		return 0;
	ret = bd_tls_handshake(c, &want);
	if (ret == -EAGAIN) {
		ev_mod(&bd_loop, c->fd, want);
		return 1;
	}
	if (ret != 0) {
		bd_conn_close(c, "TLS handshake failed");
		return 1;
	}
	c->last_rx_ms = ev_now(&bd_loop);
	return 0;
}

static void bd_conn_io(struct bd_conn *c, unsigned ev)
{
	int ret, rd = (ev & EV_READ) || ((ev & EV_ERROR) && c->out_len == 0);

	if (bd_tls_step(c) != 0)
		return;
	for (;;) {
		if (rd && bd_read(c) != 0)
			return;
		if (c->draining)
			return;
		ret = bd_flush(c);
		if (ret == 0 && c->tx_left > 0)
			ret = bd_restore_tx(c);
		if (ret < 0) {
			bd_conn_close(c, "send error");
			return;
		}
		if (ret == 1) {
			ev_mod(&bd_loop, c->fd, EV_WRITE);
			return;
		}
		if (c->st == BD_RX_CLOSING) {
			bd_start_drain(c);
			return;
		}
		if (bd_io_pending(c) == 0)
			break;
		rd = 1;
	}
	ev_mod(&bd_loop, c->fd, EV_READ);
}

/* Every line logged while c is handled carries its conn, peer and trace
 * (the trace as soon as a 1048 sets it); ctx lives until log_ctx_set(NULL,
 * 0). */
static void bd_log_ctx(const struct bd_conn *c, struct log_kv ctx[3])
{
	ctx[0] = LKV_U("conn", c->idx);
	ctx[1] = LKV_S("peer", c->peer_text);
	ctx[2] = LKV_S("trace", c->trace);
	log_ctx_set(ctx, 3);
}

static void bd_conn_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct log_kv ctx[3];

	(void)loop;
	(void)fd;
	bd_log_ctx(arg, ctx);
	bd_conn_io(arg, ev);
	log_ctx_set(NULL, 0);
}

static struct bd_conn *bd_conn_slot(void)
{
	unsigned i;

	if (bd_nconns >= bd_opt->max_conns)
		return NULL;
	for (i = 0; i < BD_CONNS_MAX; i++)
		if (bd_conns[i].fd < 0)
			return &bd_conns[i];
	return NULL;
}

static void bd_conn_open(int fd, const struct hal_addr *peer, int tls)
{
	struct bd_conn *c = bd_conn_slot();
	char text[HAL_ADDR_TEXT_MAX];

	if (hal_net_addr_format(peer, text, sizeof text) < 0)
		strcpy(text, "?");
	if (c == NULL) {
		log_warn(MOD, "%s: refused: connection table full (%u)", text,
			 bd_nconns);
		bd_totals.refused++;
		hal_net_close(fd);
		return;
	}
	memset(c, 0, sizeof *c);
	c->idx = (unsigned)(c - bd_conns);
	c->fd = fd;
	c->file.fd = -1;
	c->tx_fd = -1;
	c->peer = *peer;
	memcpy(c->peer_text, text, sizeof text);
	c->started_ms = c->last_rx_ms = ev_now(&bd_loop);
	if ((tls && bd_tls_conn_start(c) != 0) ||
	    ev_add(&bd_loop, fd, EV_READ, bd_conn_cb, c) != 0) {
		log_warn(MOD, "%s: refused: no memory or event slot", text);
		bd_tls_conn_free(c);
		hal_net_close(fd);
		c->fd = -1;
		return;
	}
	hal_net_set_keepalive(fd, 60, 10, 6);
	bd_nconns++;
	bd_totals.accepted++;
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("transport", tls ? "tls" : "tcp")),
		    "#%u %s: connected, %s (%u open)", c->idx, text,
		 tls ? "TLS" : "plain", bd_nconns);
}

static void bd_accept_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	int i;

	(void)loop;
	(void)ev;
	for (i = 0; i < BD_ACCEPT_BATCH; i++) {
		struct hal_addr peer;
		int cfd = hal_net_accept(fd, &peer);

		if (cfd == -EAGAIN)
			return;
		if (cfd == -ECONNABORTED)
			continue;
		if (cfd < 0) {
			log_warn(MOD, "accept: %s", strerror(-cfd));
			return;
		}
		bd_conn_open(cfd, &peer, arg != NULL);
	}
}

/* When the next sweep is due and its period: set where the timer is
 * armed too, so a stall before the first sweep is excused (a client can
 * connect and commit within the first 50 ms). */
#define BD_SWEEP_FIRST_MS 50
static uint64_t bd_sweep_due, bd_sweep_period;

/* The loop itself blocks in an S3 or PostgreSQL call or an fsync; that
 * time is not the peers' silence.  When the sweep runs later than it was
 * due by more than its period, every connection's rx clocks move forward
 * by the delay (never past now).  Without this a commit that waited 6 s
 * on a slow gateway closed, as "silent", the connection it had just
 * answered (test_gateway_slower_than_the_timeout_keeps_the_connection). */
static void bd_sweep_excuse_stall(uint64_t now)
{
	uint64_t late = now > bd_sweep_due ? now - bd_sweep_due : 0;
	unsigned i;

	if (late <= bd_sweep_period)
		return;
	log_debug(MOD, "loop stalled %llu ms: not counted as the peers' silence",
		  (unsigned long long)late);
	for (i = 0; i < BD_CONNS_MAX; i++) {
		struct bd_conn *c = &bd_conns[i];

		if (c->fd < 0)
			continue;
		c->last_rx_ms = c->last_rx_ms + late < now ? c->last_rx_ms + late : now;
		c->req_started_ms = c->req_started_ms + late < now
				    ? c->req_started_ms + late : now;
	}
}

/* Closes connections silent for longer than the timeout, requests that
 * take longer than it from their first byte, and finished drains.  A TLS
 * handshake is timed by last_rx_ms too: it stays at the accept time until
 * the handshake is done (bd_tls_step). */
static int64_t bd_sweep_cb(struct ev_loop *loop, void *arg)
{
	uint64_t now = ev_now(loop), t = bd_opt->timeout_ms, period;
	struct log_kv ctx[3];
	unsigned i;

	(void)arg;
	bd_sweep_excuse_stall(now);
	for (i = 0; i < BD_CONNS_MAX; i++) {
		struct bd_conn *c = &bd_conns[i];
		int mid = bd_mid_request(c);

		if (c->fd < 0)
			continue;
		bd_log_ctx(c, ctx);
		if (c->draining) {
			if (now >= c->drain_until_ms)
				bd_conn_close(c, "closed after 1607");
			continue;
		}
		if (c->tls != NULL && !c->tls_done) {
			if (now - c->last_rx_ms >= t) {
				log_warn(MOD, "#%u %s: timeout: TLS handshake not complete after %llu ms",
					 c->idx, c->peer_text,
					 (unsigned long long)(now - c->started_ms));
				bd_conn_close(c, "timeout");
			}
		} else if (now - c->last_rx_ms >= t) {
			log_warn(MOD, "#%u %s: timeout: silent %llu ms %s",
				 c->idx, c->peer_text,
				 (unsigned long long)(now - c->last_rx_ms),
				 mid ? "mid-request" : "between requests");
			bd_conn_close(c, "timeout");
		} else if (((c->st == BD_RX_HDR && c->hdr_len > 0) ||
			    c->st == BD_RX_PAYLOAD || c->st == BD_RX_FILE_HEAD) &&
			   now - c->req_started_ms >= t) {
			log_warn(MOD, "#%u %s: timeout: request header not complete after %llu ms (slow client)",
				 c->idx, c->peer_text,
				 (unsigned long long)(now - c->req_started_ms));
			bd_conn_close(c, "timeout");
		}
	}
	log_ctx_set(NULL, 0);
	bd_status_sweep(now);
	bd_content_batch_end();
	if (bd_opt->partial_expiry_s > 0)
		bd_partial_expire(now);
	period = t / 4 < 50 ? 50 : (t / 4 > 1000 ? 1000 : t / 4);
	bd_sweep_due = now + period;
	bd_sweep_period = period;
	return (int64_t)period;
}

static void bd_signal_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	int s;

	(void)fd;
	(void)ev;
	(void)arg;
	while ((s = hal_signal_next()) != 0) {
		if (s == HAL_SIG_TERM || s == HAL_SIG_INT) {
			log_info(MOD, "signal: shutting down");
			ev_stop(loop);
		}
	}
}

/* Splits "[HOST:]PORT" ("[v6]:PORT" too) into host (default 0.0.0.0)
 * and port.  @retval 0 / -EINVAL */
static int bd_split_hostport(const char *spec, char *host, size_t cap,
			     uint16_t *port)
{
	const char *colon = strrchr(spec, ':'), *port_s = spec;
	unsigned long p;
	char *end;

	snprintf(host, cap, "0.0.0.0");
	if (colon != NULL) {
		size_t hl = (size_t)(colon - spec);

		if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
			spec++;
			hl -= 2;
		}
		if (hl == 0 || hl >= cap)
			return -EINVAL;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	p = strtoul(port_s, &end, 10);
	if (*port_s == '\0' || *end != '\0' || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* Listens on spec ("[HOST:]PORT"); the address taken goes to where.
 * @retval fd / <0 (logged) */
static int bd_listen(const char *spec, const char *kind,
		     char where[HAL_ADDR_TEXT_MAX])
{
	char host[128], text[HAL_ADDR_TEXT_MAX];
	struct hal_addr a;
	uint16_t port;
	int fd, ret;

	if (bd_split_hostport(spec, host, sizeof host, &port) != 0) {
		log_err(MOD, "listen %s: expected [HOST:]PORT", spec);
		return -EINVAL;
	}
	if (hal_net_resolve(host, port, &a, 1) <= 0) {
		log_err(MOD, "listen: cannot resolve %s", host);
		return -EINVAL;
	}
	fd = hal_net_socket(a.family, HAL_SOCK_STREAM);
	if (fd < 0) {
		log_err(MOD, "listen: socket: %s", strerror(-fd));
		return fd;
	}
	ret = hal_net_bind(fd, &a, HAL_NET_REUSEADDR);
	if (ret == 0)
		ret = hal_net_listen(fd, 128);
	hal_net_addr_format(&a, text, sizeof text);
	if (ret != 0) {
		log_err(MOD, "cannot listen on %s: %s", text, strerror(-ret));
		hal_net_close(fd);
		return ret;
	}
	hal_net_local_addr(fd, &a);
	hal_net_addr_format(&a, text, sizeof text);
	log_info(MOD, "listening %s on %s", kind, text);
	memcpy(where, text, HAL_ADDR_TEXT_MAX);
	return fd;
}

/* Opens the enabled listeners.  @retval 0 / -1 (logged) */
static int bd_listeners(void)
{
	static int tls_tag = 1;

	if (bd_opt->plain == NULL && bd_opt->tls == NULL) {
		log_err(MOD, "no listener enabled (use --plain and/or --tls)");
		return -1;
	}
	if (bd_opt->tls != NULL &&
	    (bd_tls_init(bd_opt) != 0 ||
	     (bd_tls_fd = bd_listen(bd_opt->tls, "TLS v3", bd_listen_tls)) < 0 ||
	     ev_add(&bd_loop, bd_tls_fd, EV_READ, bd_accept_cb, &tls_tag) != 0))
		return -1;
	if (bd_opt->plain != NULL &&
	    ((bd_plain_fd = bd_listen(bd_opt->plain, "plain v3", bd_listen_plain)) < 0 ||
	     ev_add(&bd_loop, bd_plain_fd, EV_READ, bd_accept_cb, NULL) != 0))
		return -1;
	return 0;
}

/* Sets up crypto, listeners, store and signals.  @retval 0 / -1 */
static int bd_start(void)
{
	unsigned i;
	int sfd;

	for (i = 0; i < BD_CONNS_MAX; i++)
		bd_conns[i].fd = -1;
	if (ev_init(&bd_loop, &bd_ev_mem) != 0 || bd_crypto_init() != 0) {
		log_err(MOD, "event loop or crypto init failed");
		return -1;
	}
	if (bd_listeners() != 0 || bd_store_open(bd_opt->data_dir) != 0 ||
	    bd_blob_open(&bd_opt->store) != 0 ||
	    bd_status_open(&bd_loop, bd_opt->data_dir) != 0)
		return -1;
	bd_totals.started_ms = ev_now(&bd_loop);
	sfd = hal_signal_open();
	if (sfd < 0 || ev_add(&bd_loop, sfd, EV_READ, bd_signal_cb, NULL) != 0 ||
	    ev_timer_add(&bd_loop, BD_SWEEP_FIRST_MS, bd_sweep_cb, NULL) < 0) {
		log_err(MOD, "cannot register signals or the timer");
		return -1;
	}
	bd_sweep_due = ev_now(&bd_loop) + BD_SWEEP_FIRST_MS;
	bd_sweep_period = BD_SWEEP_FIRST_MS;
	return 0;
}

/* Closes the listeners and frees the TLS configuration. */
static void bd_stop_listeners(void)
{
	if (bd_plain_fd >= 0)
		hal_net_close(bd_plain_fd);
	if (bd_tls_fd >= 0)
		hal_net_close(bd_tls_fd);
	bd_plain_fd = bd_tls_fd = -1;
	bd_tls_free();
}

/* see backupd.h */
int bd_run(const struct bd_options *opt)
{
	unsigned i;

	bd_opt = opt;
	if (bd_start() != 0) {
		bd_stop_listeners();
		bd_status_close();
		bd_store_close();
		return 1;
	}
	log_info(MOD, "ready: data %s, timeout %u ms, payload cap %u, %u connections max",
		 opt->data_dir, opt->timeout_ms, opt->max_payload, opt->max_conns);
	ev_run(&bd_loop);
	for (i = 0; i < BD_CONNS_MAX; i++)
		if (bd_conns[i].fd >= 0)
			bd_conn_close(&bd_conns[i], "server shutdown");
	bd_stop_listeners();
	bd_status_close();
	hal_signal_close();
	log_info(MOD, "stopped: %llu partial file(s) cleared in this run",
		 (unsigned long long)bd_totals.partial_cleared);
	bd_store_close();
	return 0;
}

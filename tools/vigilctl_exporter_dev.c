/*
 * vigilctl_exporter_dev.c — one device of the exporter: a non-blocking
 * CoAP client that keeps an observation of /status alive.
 *
 *   (coaps: handshake) ─► REGISTER: GET /status Observe=0, token T
 *        ▲                  │ 2.05 + Observe: observing; block 0 in hand
 *        │ 3/4 Max-Age      │ 4.01 + Echo: the same GET again with Echo
 *        │ after the last   │ RST, ICMP, error, timeout: not observing,
 *        │ document         ▼ retry after 1 s, doubling up to 30 s
 *   observing ◄── notification (token T, newer by §3.4): block 0 in hand
 *        │  block 0 with M=1: GET Block2 1, 2, ... (fresh token, no
 *        │  Observe), ETag checked; the whole document is decoded
 *        └─ silent for down_after/3: CoAP ping (empty CON), RST = alive
 *
 * One CON at a time per device (struct exp_dev.x), retransmitted per RFC
 * 7252 §4.2 (ACK_TIMEOUT x [1, 1.5], doubling, MAX_RETRANSMIT 4).  A new
 * notification takes the slot from a refresh, a ping or an older block
 * transfer: it proves the same thing, with fresher data.
 *
 * Liveness: any datagram from the device counts (a notification, a
 * response, the RST to our ping, the device's own ping).  A device is up
 * while it is observed and was heard within down_after; an RST, an error
 * response or an ICMP "port unreachable" ends the observation at once.
 *
 * The device's pings (amplification check, docs/coap.md) are answered
 * with RST by coap_recv's verdict, in every state.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigilctl_coap.h"
#include "vigilctl_exporter.h"

#define RETRY_MIN_MS 1000u
#define RETRY_MAX_MS 30000u

/* One receive buffer for all devices: one thread; a whole UDP payload
 * so that an oversized datagram is seen (and refused) whole. */
static uint8_t rx[VCOAP_RX_MAX];

static int xmit(struct exp_dev *d, const uint8_t *b, size_t n)
{
	if (d->secure)
		return exp_dtls_send(d, b, n);
	if (send(d->fd, b, n, MSG_DONTWAIT) < 0 && errno != ECONNREFUSED &&
	    errno != EAGAIN)
		return -EIO; /* a refusal shows at the next receive */
	return 0;
}

static void send_empty(struct exp_dev *d, uint8_t type, uint16_t mid)
{
	uint8_t b[COAP_HDR_LEN];

	if (coap_build_empty(b, sizeof b, type, mid) > 0)
		(void)xmit(d, b, sizeof b); /* best effort, like any ACK */
}

static unsigned initial_wait(const struct exp_conf *c)
{
	uint16_t r;

	vcoap_random(&r, sizeof r);
	return c->ack_timeout_ms + (unsigned)((uint64_t)c->ack_timeout_ms *
		(COAP_ACK_RANDOM_FACTOR_NUM - COAP_ACK_RANDOM_FACTOR_DEN) /
		COAP_ACK_RANDOM_FACTOR_DEN * r / 65535u);
}

/* Sends x_msg as a new exchange of kind k. */
static void start(struct exp_dev *d, enum exp_xchg k, const struct exp_conf *c,
		  uint64_t now)
{
	d->x = k;
	d->x_tx = 1;
	d->x_acked = false;
	d->x_wait_ms = initial_wait(c);
	d->x_next_ms = now + d->x_wait_ms;
	/* RFC 7252 MAX_TRANSMIT_WAIT: all retransmissions and the last
	 * wait (2^(MAX_RETRANSMIT+1) - 1 initial waits). */
	d->x_deadline_ms = now + d->x_wait_ms * ((2u << COAP_MAX_RETRANSMIT) - 1u);
	if (xmit(d, d->x_msg, d->x_len) < 0)
		d->x_deadline_ms = now; /* fails at the next tick */
}

static int build(struct exp_dev *d, const struct vcoap_req *q,
		 const uint8_t *token, size_t tkl)
{
	int n;

	d->x_mid = d->mid++;
	n = vcoap_build_request(q, d->x_mid, token, tkl, d->x_msg,
				sizeof d->x_msg);
	if (n < 0)
		return n;
	d->x_len = (size_t)n;
	return 0;
}

static void do_register(struct exp_dev *d, const struct exp_conf *c,
			struct exp_stats *s, uint64_t now,
			const struct vcoap_resp *echo)
{
	struct vcoap_req q = { .code = COAP_GET, .path = "/status",
			       .has_observe = true,
			       .observe = COAP_OBSERVE_REGISTER };

	if (echo) {
		q.echo = echo->echo;
		q.echo_len = echo->echo_len;
	}
	if (build(d, &q, d->obs_token, sizeof d->obs_token) < 0)
		return;
	d->x_echoed = echo != NULL;
	if (!echo)
		s->registrations++;
	start(d, X_REGISTER, c, now);
}

static void do_block(struct exp_dev *d, const struct exp_conf *c,
		     uint64_t now, uint32_t num, uint8_t szx,
		     const struct vcoap_resp *echo)
{
	struct vcoap_req q = { .code = COAP_GET, .path = "/status",
			       .has_block2 = true,
			       .block2 = { .num = num, .szx = szx } };

	if (echo) {
		q.echo = echo->echo;
		q.echo_len = echo->echo_len;
	}
	vcoap_random(d->blk_token, sizeof d->blk_token);
	if (build(d, &q, d->blk_token, sizeof d->blk_token) < 0)
		return;
	d->x_echoed = echo != NULL;
	d->x_block = num;
	d->x_szx = szx;
	start(d, X_BLOCK, c, now);
}

static void do_ping(struct exp_dev *d, const struct exp_conf *c,
		    struct exp_stats *s, uint64_t now)
{
	d->x_mid = d->mid++;
	if (coap_build_empty(d->x_msg, sizeof d->x_msg, COAP_CON, d->x_mid) < 0)
		return;
	d->x_len = COAP_HDR_LEN;
	s->pings++;
	start(d, X_PING, c, now);
}

static void fail(struct exp_dev *d, struct exp_stats *s, enum exp_err e,
		 const char *why, uint64_t now)
{
	s->errors[e]++;
	d->last_error = why;
	d->observing = false;
	d->x = d->secure && !d->dtls_up ? X_HANDSHAKE : X_NONE;
	d->retry_ms = now + d->backoff_ms;
	d->backoff_ms = d->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
			d->backoff_ms * 2;
}

/* A fresh DTLS session for d, handshake at d->retry_ms. */
static void restart_dtls(struct exp_dev *d)
{
	exp_dtls_free(d);
	d->dtls_up = false;
	d->x = X_HANDSHAKE;
	if (exp_dtls_new(d) < 0)
		d->retry_ms += RETRY_MAX_MS;
}

/* The whole document is in body: decode it. */
static void finish(struct exp_dev *d, struct exp_stats *s, uint64_t now)
{
	struct exp_status st;

	if (exp_status_decode(d->body, d->body_len, &st) < 0) {
		s->errors[E_DOCUMENT]++;
		d->last_error = "the status document is not valid CBOR";
		return;
	}
	d->st = st;
	d->have_status = true;
	d->status_ms = now;
	d->backoff_ms = RETRY_MIN_MS;
	s->notifications++;
}

/* A representation's first block (a notification or the registration's
 * response): keep it, fetch the rest or decode. */
static void first_block(struct exp_dev *d, const struct exp_conf *c,
			struct exp_stats *s, const struct vcoap_resp *r,
			uint64_t now)
{
	d->refresh_ms = now + (uint64_t)r->max_age * 750u;
	d->body_len = 0;
	d->restarts = 0;
	if (!r->has_block2) {
		if (r->payload_len > sizeof d->body) {
			s->errors[E_BLOCK]++;
			return;
		}
		memcpy(d->body, r->payload, r->payload_len);
		d->body_len = r->payload_len;
		finish(d, s, now);
		return;
	}
	if (r->block2.num != 0 ||
	    vcoap_block_append(r, d->body, sizeof d->body, &d->body_len) < 0) {
		s->errors[E_BLOCK]++;
		return;
	}
	memcpy(d->etag, r->etag, r->etag_len);
	d->etag_len = r->etag_len;
	if (r->block2.more)
		do_block(d, c, now, 1, r->block2.szx, NULL);
	else
		finish(d, s, now);
}

static void on_block(struct exp_dev *d, const struct exp_conf *c,
		     struct exp_stats *s, const struct vcoap_resp *r,
		     uint64_t now)
{
	bool same = r->etag_len == d->etag_len &&
		    !memcmp(r->etag, d->etag, r->etag_len);

	if (COAP_CODE_CLASS(r->code) != 2 || !r->has_block2) {
		s->errors[E_BLOCK]++;
		d->last_error = "a Block2 request failed";
		return;
	}
	if (!same) {
		/* the document changed under us (RFC 7959 §2.4): restart
		 * from block 0, a few times */
		if (++d->restarts > VCOAP_BLOCK_RESTARTS) {
			s->errors[E_BLOCK]++;
			d->last_error = "the document kept changing";
			return;
		}
		if (r->block2.num != 0) {
			do_block(d, c, now, 0, r->block2.szx, NULL);
			return;
		}
		memcpy(d->etag, r->etag, r->etag_len);
		d->etag_len = r->etag_len;
	}
	if (r->block2.num == 0)
		d->body_len = 0;
	if (vcoap_block_append(r, d->body, sizeof d->body, &d->body_len) < 0) {
		s->errors[E_BLOCK]++;
		d->last_error = "inconsistent Block2 blocks";
		return;
	}
	if (r->block2.more)
		do_block(d, c, now, r->block2.num + 1, r->block2.szx, NULL);
	else
		finish(d, s, now);
}

static void on_register(struct exp_dev *d, const struct exp_conf *c,
			struct exp_stats *s, const struct vcoap_resp *r,
			uint64_t now)
{
	if (COAP_CODE_CLASS(r->code) != 2) {
		fail(d, s, E_RESPONSE, "the registration was refused", now);
		return;
	}
	if (!r->has_observe) { /* e.g. no observer slot left */
		fail(d, s, E_RESPONSE, "the device did not accept Observe",
		     now);
		first_block(d, c, s, r, now);
		return;
	}
	d->observing = true;
	d->have_seq = true;
	d->seq = r->observe;
	d->seq_ms = now;
	first_block(d, c, s, r, now);
}

/* The response to the exchange in flight. */
static void on_response(struct exp_dev *d, const struct exp_conf *c,
			struct exp_stats *s, const struct vcoap_resp *r,
			uint64_t now)
{
	enum exp_xchg k = d->x;

	d->x = X_NONE;
	if (vcoap_wants_echo(r) && !d->x_echoed) {
		s->echo_repeats++;
		if (k == X_REGISTER)
			do_register(d, c, s, now, r);
		else
			do_block(d, c, now, d->x_block, d->x_szx, r);
		return;
	}
	if (k == X_REGISTER)
		on_register(d, c, s, r, now);
	else if (k == X_BLOCK)
		on_block(d, c, s, r, now);
}

static void on_notification(struct exp_dev *d, const struct exp_conf *c,
			    struct exp_stats *s, const struct vcoap_resp *r,
			    uint64_t now)
{
	if (!r->has_observe || COAP_CODE_CLASS(r->code) != 2) {
		/* §3.2: a notification without Observe ends it */
		fail(d, s, E_RESPONSE, "the device ended the observation", now);
		d->retry_ms = now;
		return;
	}
	if (d->have_seq && !coap_observe_is_newer(d->seq, d->seq_ms,
						  r->observe, now))
		return; /* reordered or repeated */
	d->have_seq = true;
	d->seq = r->observe;
	d->seq_ms = now;
	d->observing = true;
	if (d->x != X_HANDSHAKE)
		d->x = X_NONE; /* this supersedes a refresh, ping or transfer */
	first_block(d, c, s, r, now);
}

static bool token_is(const struct coap_msg *m, const uint8_t *t, size_t n)
{
	return m->tkl == n && !memcmp(m->token, t, n);
}

/* A CON/NON request or notification from the device. */
static void on_message(struct exp_dev *d, const struct exp_conf *c,
		       struct exp_stats *s, const struct coap_msg *m,
		       uint64_t now)
{
	struct vcoap_resp r;
	bool obs = token_is(m, d->obs_token, sizeof d->obs_token);
	bool blk = d->x == X_BLOCK &&
		   token_is(m, d->blk_token, sizeof d->blk_token);

	if (m->code == COAP_CODE_EMPTY || COAP_CODE_CLASS(m->code) == 0 ||
	    (!obs && !blk)) {
		send_empty(d, COAP_RST, m->mid); /* §5.3.2: not ours */
		return;
	}
	if (m->type == COAP_CON)
		send_empty(d, COAP_ACK, m->mid);
	vcoap_resp_from(&r, m);
	if (blk || (obs && d->x == X_REGISTER))
		on_response(d, c, s, &r, now); /* a separate response */
	else
		on_notification(d, c, s, &r, now);
}

static void on_datagram(struct exp_dev *d, const struct exp_conf *c,
			struct exp_stats *s, size_t n, uint64_t now)
{
	struct coap_msg m;
	struct vcoap_resp r;
	enum coap_action a = coap_recv(&m, rx, n);

	if (a == COAP_ACT_OK || a == COAP_ACT_RESET)
		d->heard_ms = now; /* a well-formed message, or a ping */
	if (a == COAP_ACT_RESET)
		send_empty(d, COAP_RST, m.mid); /* also the answer to a ping */
	if (a != COAP_ACT_OK)
		return;
	if (m.type == COAP_CON || m.type == COAP_NON) {
		on_message(d, c, s, &m, now);
		return;
	}
	if (d->x == X_NONE || d->x == X_HANDSHAKE || m.mid != d->x_mid)
		return; /* a late answer to an earlier exchange */
	if (m.type == COAP_RST || d->x == X_PING) {
		if (d->x == X_PING)
			d->x = X_NONE; /* alive */
		else
			fail(d, s, E_RESET, "the device answered with RST", now);
	} else if (m.code == COAP_CODE_EMPTY) {
		d->x_acked = true;
	} else if (token_is(&m, d->x == X_BLOCK ? d->blk_token : d->obs_token,
			    d->x == X_BLOCK ? sizeof d->blk_token :
			    sizeof d->obs_token)) {
		vcoap_resp_from(&r, &m);
		on_response(d, c, s, &r, now);
	}
}

/* One datagram into rx.  @retval >0 / 0 none / -ECONNREFUSED / <0 */
static int recv_one(struct exp_dev *d)
{
	ssize_t n;

	if (d->secure)
		return exp_dtls_recv(d, rx, sizeof rx);
	n = recv(d->fd, rx, sizeof rx, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
		       errno == ECONNREFUSED ? -ECONNREFUSED : -EIO;
	return n == 0 ? -EAGAIN : (int)n; /* an empty datagram: skip it */
}

/* see vigilctl_exporter.h */
void exp_dev_input(struct exp_dev *d, const struct exp_conf *c,
		   struct exp_stats *s, uint64_t now)
{
	/* a bound per call, so that one chatty device cannot starve the
	 * others in the loop */
	for (int i = 0; i < 16; i++) {
		int n;

		if (d->secure && !d->dtls_up) {
			(void)exp_dev_tick(d, c, s, now);
			return;
		}
		n = recv_one(d);
		if (n == 0)
			return;
		if (n == -EAGAIN)
			continue;
		if (n == -ECONNREFUSED) {
			fail(d, s, E_REFUSED, "nothing listens at the address "
			     "(ICMP port unreachable)", now);
			continue;
		}
		if (n < 0) {
			fail(d, s, d->secure ? E_DTLS : E_SOCKET,
			     "receive failed", now);
			if (d->secure)
				restart_dtls(d);
			return;
		}
		on_datagram(d, c, s, (size_t)n, now);
	}
}

static uint64_t min_ms(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The exchange in flight: retransmit, or give up at its deadline. */
static uint64_t tick_xchg(struct exp_dev *d, struct exp_stats *s,
			  uint64_t now)
{
	if (now >= d->x_deadline_ms) {
		enum exp_xchg k = d->x;

		fail(d, s, E_TIMEOUT, k == X_PING ? "no answer to a ping" :
		     "no answer to a request", now);
		if (k != X_REGISTER)
			d->retry_ms = now; /* re-register at once */
		if (d->secure)
			restart_dtls(d); /* the device may have lost the
					  * session (a restart): a new one */
		return now;
	}
	if (!d->x_acked && now >= d->x_next_ms &&
	    d->x_tx <= COAP_MAX_RETRANSMIT) {
		(void)xmit(d, d->x_msg, d->x_len);
		d->x_tx++;
		d->x_wait_ms *= 2;
		d->x_next_ms = now + d->x_wait_ms;
	}
	return d->x_acked || d->x_tx > COAP_MAX_RETRANSMIT ? d->x_deadline_ms :
	       min_ms(d->x_next_ms, d->x_deadline_ms);
}

static uint64_t tick_handshake(struct exp_dev *d, const struct exp_conf *c,
			       struct exp_stats *s, uint64_t now)
{
	int r;

	if (now < d->retry_ms)
		return d->retry_ms;
	r = exp_dtls_handshake(d);
	if (r < 0) {
		fail(d, s, E_DTLS, "the DTLS handshake failed", now);
		restart_dtls(d);
		return d->retry_ms;
	}
	if (r == 0) {
		uint64_t t = exp_dtls_timer_ms(d);

		return t ? t : now + c->ack_timeout_ms;
	}
	d->dtls_up = true;
	d->x = X_NONE;
	do_register(d, c, s, now, NULL);
	return d->x_next_ms;
}

/* see vigilctl_exporter.h */
uint64_t exp_dev_tick(struct exp_dev *d, const struct exp_conf *c,
		      struct exp_stats *s, uint64_t now)
{
	uint64_t probe = d->heard_ms + c->down_after_ms / 3;

	if (d->x == X_HANDSHAKE)
		return tick_handshake(d, c, s, now);
	if (d->x != X_NONE)
		return tick_xchg(d, s, now);
	if (!d->observing) {
		if (now >= d->retry_ms) {
			do_register(d, c, s, now, NULL);
			return d->x_next_ms;
		}
		return d->retry_ms;
	}
	if (now >= d->refresh_ms) {
		do_register(d, c, s, now, NULL);
		return d->x_next_ms;
	}
	if (now >= probe) {
		do_ping(d, c, s, now);
		return d->x_next_ms;
	}
	return min_ms(d->refresh_ms, probe);
}

/* see vigilctl_exporter.h */
bool exp_dev_up(const struct exp_dev *d, const struct exp_conf *c,
		uint64_t now)
{
	return d->observing && d->have_status &&
	       now - d->heard_ms < c->down_after_ms;
}

/* Resolves the target and connects the socket. */
static int connect_target(struct exp_dev *d, const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char port[8];
	int r;

	snprintf(port, sizeof port, "%u", (unsigned)d->port);
	r = getaddrinfo(d->host, port, &hints, &res);
	if (r != 0 || !res)
		return *why = r ? gai_strerror(r) : "no address", -EIO;
	d->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);
	if (d->fd < 0 || res->ai_addrlen > sizeof d->peer ||
	    connect(d->fd, res->ai_addr, res->ai_addrlen) < 0) {
		freeaddrinfo(res);
		return *why = strerror(errno), -EIO;
	}
	memcpy(&d->peer, res->ai_addr, res->ai_addrlen);
	d->peer_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* see vigilctl_exporter.h */
int exp_dev_open(struct exp_dev *d, const struct exp_psk *psk, uint64_t now,
		 const char **why)
{
	char uri[EXP_TARGET_MAX + 8];
	struct vcoap_uri u;

	d->fd = -1;
	snprintf(uri, sizeof uri, "%s%s", strstr(d->t.target, "://") ? "" :
		 "coap://", d->t.target);
	if (vcoap_uri_parse(uri, &u, why) < 0)
		return -EINVAL;
	if (u.path[0] && strcmp(u.path, "/") && strcmp(u.path, "/status"))
		return *why = "a target names host and port only", -EINVAL;
	memcpy(d->host, u.host, sizeof d->host);
	d->port = u.port;
	d->secure = u.secure;
	d->psk = psk;
	if (d->secure && !psk)
		return *why = "coaps:// target without a key in --psk-file",
		       -EINVAL;
	if (connect_target(d, why) < 0)
		return -EIO;
	vcoap_random(&d->mid, sizeof d->mid);
	vcoap_random(d->obs_token, sizeof d->obs_token);
	d->backoff_ms = RETRY_MIN_MS;
	d->retry_ms = now;
	d->x = X_NONE;
	if (d->secure) {
		if (exp_dtls_new(d) < 0)
			return *why = "no memory for a DTLS session", -ENOMEM;
		d->x = X_HANDSHAKE;
	}
	return 0;
}

/* see vigilctl_exporter.h */
void exp_dev_close(struct exp_dev *d)
{
	if (d->secure)
		exp_dtls_free(d);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

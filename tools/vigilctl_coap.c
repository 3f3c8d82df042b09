/*
 * vigilctl_coap.c — the blocking CoAP client of vigilctl_coap.h: URIs,
 * the socket, one CON exchange with retransmission and separate
 * responses, and Block2 reassembly.  Observe is in vigilctl_coap_obs.c.
 *
 * Timing (RFC 7252 §4.2, §4.8): the first retransmission is due after a
 * random time in [ACK_TIMEOUT, ACK_TIMEOUT * 3/2], then the wait doubles,
 * at most COAP_MAX_RETRANSMIT times; everything ends at the exchange's
 * deadline (c->timeout_ms after the first transmission) whichever comes
 * first.  After an Empty ACK nothing is retransmitted: the server has the
 * request and sends a separate response before the deadline or never.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vigilctl_coap.h"

/* Token length: 4 random bytes make a stale response from an earlier run
 * matching ours a 1 in 2^32 chance, and keep requests small. */
#define TOKEN_LEN 4

/* see vigilctl_coap.h */
void vcoap_random(void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = getrandom(b, n, 0);

		if (r <= 0) { /* cannot fail for n <= 256 after boot; still,
			       * tokens only need to differ between runs */
			uint64_t t = vcoap_now_ms() ^ (uint64_t)getpid() << 32;

			for (; n > 0; n--) {
				t = t * 6364136223846793005u + 1442695040888963407u;
				*b++ = (uint8_t)(t >> 56);
			}
			return;
		}
		b += r;
		n -= (size_t)r;
	}
}

/* see vigilctl_coap.h */
uint64_t vcoap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10u + (unsigned)(p[i] - '0');
	}
	if (v == 0 || v > 65535u)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Splits "host[:port]" or "[v6][:port]" (authority of length n). */
static int parse_authority(const char *a, size_t n, struct vcoap_uri *u,
			   const char **why)
{
	const char *host = a, *colon = NULL;
	size_t hlen;

	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);

		if (!close)
			return *why = "missing ']' after an IPv6 address", -EINVAL;
		host = a + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < a + n) {
			if (close[1] != ':')
				return *why = "junk after ']'", -EINVAL;
			colon = close + 1;
		}
	} else {
		colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
	}
	if (hlen == 0)
		return *why = "no host", -EINVAL;
	if (hlen >= sizeof u->host)
		return *why = "host name too long", -EINVAL;
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (colon && parse_port(colon + 1, (size_t)(a + n - colon - 1),
				&u->port) < 0)
		return *why = "bad port (1-65535)", -EINVAL;
	return 0;
}

/* see vigilctl_coap.h */
int vcoap_uri_parse(const char *s, struct vcoap_uri *u, const char **why)
{
	const char *auth, *rest, *q;
	size_t plen;

	memset(u, 0, sizeof *u);
	if (!strncmp(s, "coap://", 7)) {
		auth = s + 7;
		u->port = VCOAP_PORT_DEFAULT;
	} else if (!strncmp(s, "coaps://", 8)) {
		auth = s + 8;
		u->secure = true;
		u->port = VCOAPS_PORT_DEFAULT;
	} else {
		return *why = "not a coap:// or coaps:// URI", -EINVAL;
	}
	rest = auth + strcspn(auth, "/?#");
	if (*rest == '#' || strchr(rest, '#'))
		return *why = "fragment ('#') not allowed (RFC 7252 6.4)",
		       -EINVAL;
	if (parse_authority(auth, (size_t)(rest - auth), u, why) < 0)
		return -EINVAL;
	q = strchr(rest, '?');
	plen = q ? (size_t)(q - rest) : strlen(rest);
	if (plen >= sizeof u->path || (q && strlen(q + 1) >= sizeof u->query))
		return *why = "path or query too long", -EINVAL;
	memcpy(u->path, rest, plen);
	u->path[plen] = '\0';
	if (q)
		strcpy(u->query, q + 1);
	return 0;
}

/* see vigilctl_coap.h */
int vcoap_open(struct vcoap *c, const struct vcoap_uri *u, const char **why)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int r;

	c->fd = -1;
	c->secure = false;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof port, "%u", (unsigned)u->port);
	r = getaddrinfo(u->host, port, &hints, &res);
	if (r != 0 || !res)
		return *why = r ? gai_strerror(r) : "no address", -EIO;
	c->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || res->ai_addrlen > sizeof c->peer) {
		freeaddrinfo(res);
		return *why = strerror(errno), -EIO;
	}
	memcpy(&c->peer, res->ai_addr, res->ai_addrlen);
	c->peer_len = res->ai_addrlen;
	freeaddrinfo(res);
	vcoap_random(&c->mid, sizeof c->mid);
	c->timeout_ms = VCOAP_TIMEOUT_MS_DEFAULT;
	c->ack_timeout_ms = VCOAP_ACK_TIMEOUT_MS_DEFAULT;
	c->block_szx = -1;
	c->obs_active = false;
	c->stash_len = 0;
	c->stop = NULL;
	return 0;
}

/* see vigilctl_coap.h */
void vcoap_close(struct vcoap *c)
{
	if (c->secure)
		vcoap_dtls_close(c);
	c->secure = false;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static bool same_peer(const struct vcoap *c, const struct sockaddr_storage *a,
		      socklen_t len)
{
	return len == c->peer_len && !memcmp(a, &c->peer, len);
}

/* see vigilctl_coap.h */
int vcoap_recv_dgram(struct vcoap *c, int wait_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	struct sockaddr_storage from;
	socklen_t flen = sizeof from;
	ssize_t n;
	int r;

	if (c->secure)
		return vcoap_dtls_recv(c, wait_ms);
	r = poll(&p, 1, wait_ms);
	if (r < 0)
		return errno == EINTR ? -EINTR : -EIO;
	if (r == 0)
		return 0;
	n = recvfrom(c->fd, c->rx, sizeof c->rx, 0, (struct sockaddr *)&from,
		     &flen);
	if (n < 0)
		/* ICMP port unreachable from an earlier send: the server
		 * is not there (yet); keep waiting like for a lost reply. */
		return errno == ECONNREFUSED || errno == EINTR ? 0 : -EIO;
	if (!same_peer(c, &from, flen))
		return 0;
	return n == 0 ? 0 : (int)n;
}

static int send_all(struct vcoap *c, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (c->secure)
		return vcoap_dtls_send(c, buf, len);
	n = sendto(c->fd, buf, len, 0, (const struct sockaddr *)&c->peer,
			   c->peer_len);

	/* ECONNREFUSED reports an earlier datagram's ICMP error: the
	 * retransmission timer deals with it like with a loss. */
	if (n < 0 && errno != ECONNREFUSED)
		return -EIO;
	return 0;
}

/* see vigilctl_coap.h */
int vcoap_send_empty(struct vcoap *c, uint8_t type, uint16_t mid)
{
	uint8_t b[COAP_HDR_LEN];

	if (coap_build_empty(b, sizeof b, type, mid) < 0)
		return -EINVAL;
	return send_all(c, b, sizeof b);
}

/* see vigilctl_coap.h */
void vcoap_resp_from(struct vcoap_resp *resp, const struct coap_msg *m)
{
	const struct coap_opt *echo = coap_opt_get(m, COAP_OPT_ECHO);
	const uint8_t *etag;

	memset(resp, 0, sizeof *resp);
	resp->type = m->type;
	resp->code = m->code;
	resp->has_cf = coap_get_uint(m, COAP_OPT_CONTENT_FORMAT, &resp->cf) == 1;
	resp->has_observe = coap_get_observe(m, &resp->observe) == 1;
	resp->has_block2 = coap_get_block(m, COAP_OPT_BLOCK2, &resp->block2) == 1;
	resp->has_size2 = coap_get_uint(m, COAP_OPT_SIZE2, &resp->size2) == 1;
	resp->max_age = coap_get_max_age(m);
	if (coap_get_etag(m, &etag, &resp->etag_len) == 1)
		memcpy(resp->etag, etag, resp->etag_len);
	if (echo && echo->len > 0 && echo->len <= sizeof resp->echo) {
		memcpy(resp->echo, echo->val, echo->len);
		resp->echo_len = echo->len;
	}
	resp->payload = m->payload;
	resp->payload_len = m->payload_len;
}

/* see vigilctl_coap.h */
bool vcoap_wants_echo(const struct vcoap_resp *resp)
{
	return resp->code == COAP_CODE_UNAUTHORIZED && resp->echo_len > 0;
}

/* see vigilctl_coap.h */
int vcoap_build_request(const struct vcoap_req *r, uint16_t mid,
			const uint8_t *token, size_t tkl, uint8_t *out,
			size_t cap)
{
	struct coap_writer w;

	coap_writer_init(&w, out, cap, COAP_CON, r->code, mid, token, tkl);
	if (r->has_observe)
		coap_put_uint(&w, COAP_OPT_OBSERVE, r->observe);
	coap_put_path(&w, r->path);
	if (r->has_cf)
		coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, r->cf);
	if (r->query && r->query[0])
		coap_put_query(&w, r->query);
	if (r->has_block2)
		coap_put_block(&w, COAP_OPT_BLOCK2, &r->block2);
	if (r->echo_len > 0)
		coap_put_opt(&w, COAP_OPT_ECHO, r->echo, r->echo_len);
	if (r->payload_len > 0)
		coap_put_payload(&w, r->payload, r->payload_len);
	return coap_writer_finish(&w);
}

static bool token_is(const struct coap_msg *m, const uint8_t *t, size_t tkl)
{
	return m->tkl == tkl && (tkl == 0 || !memcmp(m->token, t, tkl));
}

/* A CON/NON that is not the response we wait for: a notification of the
 * current observation is ACKed and kept, anything else is refused. */
static void other_message(struct vcoap *c, const struct coap_msg *m,
			  size_t len)
{
	if (m->type == COAP_ACK || m->type == COAP_RST)
		return; /* late answers to earlier exchanges: nothing to do */
	if (c->obs_active && token_is(m, c->obs_token, c->obs_tkl)) {
		if (m->type == COAP_CON)
			(void)vcoap_send_empty(c, COAP_ACK, m->mid); /* a lost
				ACK only costs a retransmission */
		if (len <= sizeof c->stash) {
			memcpy(c->stash, c->rx, len);
			c->stash_len = len;
		}
		return;
	}
	(void)vcoap_send_empty(c, COAP_RST, m->mid); /* best effort */
}

struct xchg {
	const uint8_t *token;
	size_t tkl;
	uint16_t mid;
	bool acked;                    /* Empty ACK seen: separate response */
};

/* One received datagram.  @retval 1 response in *resp / 0 keep waiting /
 * -ECONNRESET */
static int on_datagram(struct vcoap *c, struct xchg *x, size_t len,
		       struct coap_msg *m, struct vcoap_resp *resp)
{
	enum coap_action a = coap_recv(m, c->rx, len);

	if (a == COAP_ACT_RESET)
		(void)vcoap_send_empty(c, COAP_RST, m->mid); /* best effort */
	if (a != COAP_ACT_OK)
		return 0;
	if (m->type == COAP_RST)
		return m->mid == x->mid ? -ECONNRESET : 0;
	if (m->type == COAP_ACK && m->mid == x->mid) {
		if (m->code == COAP_CODE_EMPTY) {
			x->acked = true;
			return 0;
		}
		if (!token_is(m, x->token, x->tkl))
			return 0; /* §5.3.2: not ours; ignore */
	} else if (m->type == COAP_ACK || !token_is(m, x->token, x->tkl) ||
		   m->code == COAP_CODE_EMPTY) {
		other_message(c, m, len);
		return 0;
	} else if (m->type == COAP_CON) {
		(void)vcoap_send_empty(c, COAP_ACK, m->mid); /* if lost, the
			server retransmits and the next run ACKs again */
	}
	vcoap_resp_from(resp, m);
	return 1;
}

static unsigned initial_timeout(const struct vcoap *c)
{
	uint16_t r;

	vcoap_random(&r, sizeof r);
	/* [ACK_TIMEOUT, ACK_TIMEOUT * 3/2] in 65536 steps */
	return c->ack_timeout_ms + (unsigned)(((uint64_t)c->ack_timeout_ms *
		(COAP_ACK_RANDOM_FACTOR_NUM - COAP_ACK_RANDOM_FACTOR_DEN) /
		COAP_ACK_RANDOM_FACTOR_DEN) * r / 65535u);
}

/* Waits for the response to the message msg[0..len), retransmitting it. */
static int await(struct vcoap *c, struct xchg *x, const uint8_t *msg,
		 size_t len, struct vcoap_resp *resp)
{
	uint64_t t0 = vcoap_now_ms(), deadline = t0 + c->timeout_ms;
	uint64_t wait = initial_timeout(c), next = t0 + wait;
	struct coap_msg m;

	c->transmissions = 1;
	for (;;) {
		uint64_t now = vcoap_now_ms();
		uint64_t until = x->acked || next > deadline ? deadline : next;
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= until) {
			if (c->transmissions > COAP_MAX_RETRANSMIT) {
				next = deadline; /* give up at the deadline */
				continue;
			}
			if (send_all(c, msg, len) < 0)
				return -EIO;
			c->transmissions++;
			wait *= 2;
			next = now + wait;
			continue;
		}
		n = vcoap_recv_dgram(c, (int)(until - now));
		if (n == -EINTR && !(c->stop && *c->stop))
			continue;
		if (n > 0)
			n = on_datagram(c, x, (size_t)n, &m, resp);
		if (n != 0)
			return n < 0 ? n : 0;
	}
}

/* One request/response, without the Echo repeat. */
static int exchange_once(struct vcoap *c, const struct vcoap_req *r,
			 struct vcoap_resp *resp)
{
	uint8_t msg[COAP_MAX_MSG * 2], token[TOKEN_LEN];
	struct xchg x = { .token = r->token, .tkl = r->tkl };
	int len;

	if (!r->token) {
		vcoap_random(token, sizeof token);
		x.token = token;
		x.tkl = sizeof token;
	}
	x.mid = c->mid++;
	len = vcoap_build_request(r, x.mid, x.token, x.tkl, msg, sizeof msg);
	if (len < 0)
		return -EINVAL;
	if (send_all(c, msg, (size_t)len) < 0)
		return -EIO;
	return await(c, &x, msg, (size_t)len, resp);
}

/* see vigilctl_coap.h */
int vcoap_exchange(struct vcoap *c, const struct vcoap_req *r,
		   struct vcoap_resp *resp)
{
	uint8_t echo[COAP_ECHO_MAX];
	struct vcoap_req again;
	int ret = exchange_once(c, r, resp);

	if (ret < 0 || r->echo_len > 0 || !vcoap_wants_echo(resp))
		return ret;
	/* resp points into c's buffer: keep the Echo before the repeat */
	memcpy(echo, resp->echo, resp->echo_len);
	again = *r;
	again.echo = echo;
	again.echo_len = resp->echo_len;
	return exchange_once(c, &again, resp);
}

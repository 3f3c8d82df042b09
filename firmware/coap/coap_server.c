/*
 * coap_server.c — see coap_server.h: sockets, the datagram path
 * (classification, deduplication, dispatch), and the response encoder
 * with the Block2 and amplification rules.  Observers are in
 * coap_observe.c, resources in coap_resources.c.
 *
 * Buffers: s->rx holds the datagram being handled (one at a time: the
 * parsed view points into it), s->tx the answer being built.  Both are
 * COAP_MAX_MSG (+1 on rx, so a datagram longer than we accept is seen as
 * such and dropped instead of being read cut).
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "hal/clock.h"
#include "crypto_platform.h"
#include "hal/rng.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

/* ---- listen addresses ---- */

/* One "a.b.c.d:port" or "[v6]:port" of length n. */
static int parse_one(const char *p, size_t n, struct hal_addr *out)
{
	char host[HAL_ADDR_TEXT_MAX];
	const char *colon = NULL;
	size_t hl;
	unsigned long port = 0;

	for (size_t i = n; i > 0; i--)
		if (p[i - 1] == ':') {
			colon = p + i - 1;
			break;
		}
	if (!colon || (size_t)(colon - p) + 1 >= n)
		return -EINVAL;
	for (const char *q = colon + 1; q < p + n; q++) {
		if (*q < '0' || *q > '9' || port > 65535)
			return -EINVAL;
		port = port * 10 + (unsigned long)(*q - '0');
	}
	if (port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - p);
	if (hl >= 2 && p[0] == '[' && p[hl - 1] == ']') {
		p++;
		hl -= 2;
	} else if (memchr(p, ':', hl)) {
		return -EINVAL;  /* an IPv6 address needs its brackets */
	}
	if (hl == 0 || hl >= sizeof host)
		return -EINVAL;
	memcpy(host, p, hl);
	host[hl] = '\0';
	return hal_net_addr_parse(host, (uint16_t)port, out);
}

/* see coap_server_int.h */
int coap_cfg_list(const char *text, coap_cfg_item_fn *item, void *ctx,
		  unsigned max)
{
	unsigned n = 0;
	const char *p = text;

	if (strcmp(text, "none") == 0)
		return 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len;

		while (*p == ' ')
			p++;
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0 || n >= max || item(ctx, n, p, len) < 0)
			return -EINVAL;
		n++;
		p = *end ? end + 1 : end;
		if (*end && *p == '\0')
			return -EINVAL;  /* trailing comma */
	}
	return (int)n;
}

static int listen_item(void *ctx, unsigned i, const char *p, size_t n)
{
	return parse_one(p, n, &((struct hal_addr *)ctx)[i]);
}

/* see coap_server.h */
int coap_srv_parse_listen(const char *text, struct hal_addr *out,
			  unsigned max)
{
	if (!text || !out)
		return -EINVAL;
	return coap_cfg_list(text, listen_item, out, max);
}

/* ---- sending ---- */

/* see coap_server_int.h */
bool coap_addr_eq(const struct hal_addr *a, const struct hal_addr *b)
{
	size_t n = a->family == HAL_AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port &&
	       a->scope == b->scope && memcmp(a->ip, b->ip, n) == 0;
}

/* see coap_server_int.h */
uint16_t coap_srv_new_mid(struct coap_srv *s)
{
	return s->next_mid++;
}

/* see coap_server_int.h */
int coap_srv_send(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, const uint8_t *buf,
		  size_t len)
{
	int ret;

	if (sock >= s->nsocks || s->socks[sock].fd < 0)
		return -EINVAL;
	if (s->socks[sock].secure)
		return coap_dtls_send(s, sock, peer, buf, len);
	ret = hal_net_sendto(s->socks[sock].fd, buf, len, peer);
	if (ret < 0)
		log_debug("coap", "send %zu bytes: error %d", len, ret);
	return ret < 0 ? ret : 0;
}

/* ---- the response encoder ---- */

/* The block to send of a total-byte representation, given what fits in
 * room payload bytes. */
static int pick_block(const struct coap_out *o, size_t room,
		      struct coap_block *b)
{
	uint8_t szx = COAP_SZX_MAX;
	int fit = room >= COAP_BLOCK_SIZE(COAP_SZX_MIN)
		  ? coap_szx_fit(room) : COAP_SZX_MIN;

	if (o->has_block) {
		*b = o->blk;
		szx = b->szx;
	} else {
		b->num = 0;
		b->more = false;
		b->szx = COAP_SZX_MAX;
	}
	if (fit >= 0 && (uint8_t)fit < szx)
		szx = (uint8_t)fit;
	return coap_block_shrink(b, szx);
}

/* Block2 (and Size2 in block 0) + the slice of rep.  Block2 is 1 byte of
 * option header (delta 9 after Max-Age) + up to 3; Size2 1 + up to 2
 * (bodies are below 64 KiB): 7 bytes are reserved for them. */
static int put_blockwise(struct coap_writer *w, const struct coap_rep *rep,
			 const struct coap_out *o, size_t avail, uint8_t *szx)
{
	struct coap_block b;
	size_t off, len;
	bool more;
	int ret = pick_block(o, avail > 7 ? avail - 7 : 0, &b);

	if (ret < 0)
		return ret;
	ret = coap_block_slice(&b, rep->len, &off, &len, &more);
	if (ret < 0)
		return ret;
	b.more = more;
	*szx = b.szx;
	coap_put_block(w, COAP_OPT_BLOCK2, &b);
	if (b.num == 0)
		coap_put_uint(w, COAP_OPT_SIZE2, (uint32_t)rep->len);
	coap_put_payload(w, rep->body + off, len);
	return 0;
}

/* see coap_server_int.h */
int coap_srv_encode(const struct coap_rep *rep, const struct coap_out *o,
		    uint8_t *buf, size_t cap, uint8_t *szx)
{
	struct coap_writer w;
	size_t avail, budget = o->budget < cap ? o->budget : cap;
	int ret;

	*szx = 7;
	coap_writer_init(&w, buf, cap, o->type, rep->code, o->mid, o->token,
			 o->tkl);
	if (rep->has_etag)
		coap_put_opt(&w, COAP_OPT_ETAG, rep->etag, sizeof rep->etag);
	if (o->has_obs)
		coap_put_uint(&w, COAP_OPT_OBSERVE,
			      o->obs & COAP_OBSERVE_SEQ_MASK);
	if (rep->has_cf)
		coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, rep->cf);
	if (rep->has_etag)
		coap_put_uint(&w, COAP_OPT_MAX_AGE, rep->max_age);
	ret = coap_writer_finish(&w);
	if (ret < 0 || rep->len == 0)
		return ret;
	/* room for the payload after the 0xFF marker */
	avail = budget > w.len + 1 ? budget - w.len - 1 : 0;
	if (rep->has_etag && (o->has_block || rep->len > avail)) {
		ret = put_blockwise(&w, rep, o, avail, szx);
		if (ret < 0)
			return ret;
	} else if (rep->has_etag || rep->has_cf) {
		/* a whole representation, or a small CBOR answer to a
		 * POST (never cut: see docs/coap.md) */
		coap_put_payload(&w, rep->body, rep->len);
	} else {
		/* a diagnostic payload: cut to the budget */
		coap_put_payload(&w, rep->body,
				 rep->len < avail ? rep->len : avail);
	}
	return coap_writer_finish(&w);
}

/* ---- deduplication ---- */

static struct coap_dedup *dedup_find(struct coap_srv *s, unsigned sock,
				     const struct hal_addr *peer,
				     uint16_t mid, uint64_t now_ms)
{
	for (unsigned i = 0; i < COAP_SRV_DEDUP_MAX; i++) {
		struct coap_dedup *d = &s->dedup[i];

		if (d->used && d->mid == mid && d->sock == sock &&
		    now_ms - d->at_ms < COAP_EXCHANGE_LIFETIME_MS &&
		    coap_addr_eq(&d->peer, peer))
			return d;
	}
	return NULL;
}

/* ---- the burst's answers (struct coap_srv_burst) ---- */

/* Sends the queued answers in one call (one that fails is not retried:
 * UDP, the client retransmits and gets the dedup copy). */
static void burst_flush(struct coap_srv *s)
{
	struct coap_srv_burst *b = &s->burst;
	struct hal_dgram dg[COAP_SRV_RX_BURST];

	for (unsigned i = 0; i < b->n; i++) {
		const struct coap_dedup *d = &s->dedup[b->slot[i]];

		dg[i] = (struct hal_dgram){ d->msg, d->len, &d->peer };
	}
	if (b->n)
		(void)hal_net_sendto_many(s->socks[b->sock1 - 1].fd, dg, b->n);
	b->n = 0;
}

/* Queues dedup entry i (an answer: never longer than its copy) as an
 * answer on sock.  @retval false no burst on sock: send it now */
static bool burst_queue(struct coap_srv *s, unsigned sock, unsigned i)
{
	struct coap_srv_burst *b = &s->burst;

	if (b->sock1 != sock + 1)
		return false;
	if (b->n == COAP_SRV_RX_BURST)
		burst_flush(s);
	b->slot[b->n++] = (uint8_t)i;
	return true;
}

/* Keeps msg as the answer to (peer, mid) in the oldest entry (FIFO).
 * @retval the entry */
static unsigned dedup_store(struct coap_srv *s, unsigned sock,
			    const struct hal_addr *peer, uint16_t mid,
			    const uint8_t *msg, size_t len, uint64_t now_ms)
{
	unsigned i = s->burst.dedup_next;
	struct coap_dedup *d = &s->dedup[i];

	if (s->burst.n && s->burst.slot[0] == i)
		burst_flush(s);  /* the oldest queued answer is in it */
	s->burst.dedup_next = (uint8_t)((i + 1) % COAP_SRV_DEDUP_MAX);
	d->used = 1;
	d->at_ms = now_ms;
	d->peer = *peer;
	d->mid = mid;
	d->sock = (uint8_t)sock;
	d->len = (uint16_t)(len <= sizeof d->msg ? len : 0);
	memcpy(d->msg, msg, d->len);
	return i;
}

/* see coap_server.h */
void coap_srv_burst_begin(struct coap_srv *s, unsigned sock)
{
	if (sock < s->nsocks && !s->socks[sock].secure)
		s->burst.sock1 = (uint8_t)(sock + 1);
}

/* see coap_server.h */
void coap_srv_burst_end(struct coap_srv *s)
{
	burst_flush(s);
	s->burst.sock1 = 0;
	s->burst.keyed = 0;
}

/* ---- the datagram path ---- */

static void send_rst(struct coap_srv *s, unsigned sock,
		     const struct hal_addr *peer, uint16_t mid)
{
	uint8_t rst[COAP_HDR_LEN];

	if (coap_build_empty(rst, sizeof rst, COAP_RST, mid) > 0)
		(void)coap_srv_send(s, sock, peer, rst, sizeof rst); /* UDP:
			* a lost RST is re-sent when the peer retries */
	s->stats.resets++;
}

/* The largest answer to an unverified len-byte request. */
static size_t limit_of(size_t len)
{
	return len > COAP_SRV_AMP_FLOOR / COAP_SRV_AMP_FACTOR
	       ? COAP_SRV_AMP_FACTOR * len : COAP_SRV_AMP_FLOOR;
}

/* Whether the answer to m from peer may be as large as a message: the
 * address is proven (DTLS, verified, a valid Echo now) or there is no
 * limit.  A limited replay (coap_verify.c) is never full. */
static bool budget_full(struct coap_srv *s, unsigned sock,
			const struct hal_addr *peer,
			const struct coap_msg *m, uint64_t now_ms)
{
	const struct coap_opt *e = coap_opt_get(m, COAP_OPT_ECHO);

	if (s->socks[sock].secure || s->amp == COAP_AMP_OFF)
		return true;
	if (s->amp != COAP_AMP_ECHO || s->vfy.limited)
		return false;
	if (coap_vfy_check(s, peer, now_ms))
		return true;
	if (!e || !coap_echo_valid(s, peer, e->val, e->len, now_ms))
		return false;
	coap_vfy_add(s, peer, now_ms);
	log_debug("coap", "address verified (echo)");
	return true;
}

/* The answer's frame for request m of len bytes. */
static void out_for(struct coap_srv *s, const struct coap_msg *m,
		    size_t len, bool full, struct coap_out *o)
{
	memset(o, 0, sizeof *o);
	o->type = m->type == COAP_CON ? COAP_ACK : COAP_NON;
	o->mid = m->type == COAP_CON ? m->mid : coap_srv_new_mid(s);
	o->token = m->token;
	o->tkl = m->tkl;
	o->budget = full ? COAP_MAX_MSG : limit_of(len);
	o->has_block = coap_get_block(m, COAP_OPT_BLOCK2, &o->blk) == 1;
}

static void error_rep(struct coap_rep *rep, uint8_t code, const char *diag)
{
	memset(rep, 0, sizeof *rep);
	rep->code = code;
	rep->body = (const uint8_t *)diag;
	rep->len = strlen(diag);
}

/* Keeps the answer for duplicates and sends it (with the burst's). */
static void answer(struct coap_srv *s, unsigned sock,
		   const struct hal_addr *peer, const struct coap_msg *m,
		   const uint8_t *msg, size_t len, uint64_t now_ms)
{
	unsigned i = dedup_store(s, sock, peer, m->mid, msg, len, now_ms);

	if (!burst_queue(s, sock, i))
		(void)coap_srv_send(s, sock, peer, msg, len); /* a failure is
			* logged; the client retransmits and gets the copy */
}

/* Keeps the exchange of a deferred answer (POST /probe). */
static void defer(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, const struct coap_msg *m,
		  const struct coap_out *o)
{
	struct coap_srv_probe *pr = &s->probe;

	pr->waiting = true;
	pr->sock = (uint8_t)sock;
	pr->peer = *peer;
	pr->type = o->type;
	pr->req_mid = m->mid;
	pr->mid = o->mid;
	pr->tkl = (uint8_t)o->tkl;
	memcpy(pr->token, o->token, o->tkl);
	pr->budget = (uint16_t)(o->budget < COAP_MAX_MSG ? o->budget
							 : COAP_MAX_MSG);
}

/* see coap_server_int.h */
void coap_srv_answer_probe(struct coap_srv *s, const struct coap_rep *rep,
			   uint64_t now_ms)
{
	struct coap_srv_probe *pr = &s->probe;
	struct coap_out o;
	uint8_t szx;
	int n;

	if (!pr->waiting)
		return;
	pr->waiting = false;
	memset(&o, 0, sizeof o);
	o.type = pr->type;
	o.mid = pr->mid;
	o.token = pr->token;
	o.tkl = pr->tkl;
	o.budget = pr->budget;
	n = coap_srv_encode(rep, &o, s->tx, sizeof s->tx, &szx);
	if (n < 0)
		return; /* a small CBOR map: cannot happen */
	s->stats.requests++;
	log_info("coap", "probe answered: %u.%02u", COAP_CODE_CLASS(rep->code),
		 COAP_CODE_DETAIL(rep->code));
	(void)coap_srv_send(s, pr->sock, &pr->peer, s->tx, (size_t)n);
	(void)dedup_store(s, pr->sock, &pr->peer, pr->req_mid, s->tx,
			  (size_t)n, now_ms);
}

/* Whether the answer to GET m would exceed the limited budget of o. */
static bool too_big(struct coap_srv *s, const struct coap_msg *m,
		    const struct coap_rep *rep, const struct coap_out *o)
{
	struct coap_out full = *o;
	uint32_t v;
	uint8_t szx;
	int n;

	full.budget = COAP_MAX_MSG;
	full.has_obs = coap_get_observe(m, &v) == 1;
	full.obs = COAP_OBSERVE_SEQ_MASK;  /* its longest form */
	n = coap_srv_encode(rep, &full, s->tx, sizeof s->tx, &szx);
	return n > 0 && (size_t)n > o->budget;
}

/* 4.01 with a fresh Echo (RFC 9175 §2.4): the client repeats the
 * request with it, which proves its address. */
static void ask_echo(struct coap_srv *s, unsigned sock,
		     const struct hal_addr *peer, const struct coap_msg *m,
		     const struct coap_out *o, uint64_t now_ms)
{
	struct coap_writer w;
	uint8_t echo[COAP_SRV_ECHO_LEN];
	int n = coap_echo_make(s, peer, now_ms, echo);

	coap_writer_init(&w, s->tx, sizeof s->tx, o->type,
			 COAP_CODE_UNAUTHORIZED, o->mid, o->token, o->tkl);
	if (n > 0)
		coap_put_opt(&w, COAP_OPT_ECHO, echo, (size_t)n);
	n = coap_writer_finish(&w);
	if (n < 0)
		return;  /* cannot happen: ~30 bytes; the client retries */
	s->vfy.echoes++;
	s->stats.requests++;
	answer(s, sock, peer, m, s->tx, (size_t)n, now_ms);
}

/* coap.amplification = echo: a GET from an unverified address whose
 * answer would exceed the limit is held while a ping verifies the
 * address, or answered 4.01 + Echo (coap_verify.c).  A limited replay
 * (the ping failed) is answered within the limit.
 * @retval true handled here  @retval false answer it now */
static bool verify_first(struct coap_srv *s, unsigned sock,
			 const struct hal_addr *peer,
			 const struct coap_msg *m, const uint8_t *dgram,
			 size_t len, const struct coap_rep *rep,
			 const struct coap_out *o, uint64_t now_ms)
{
	if (s->amp != COAP_AMP_ECHO || s->vfy.limited ||
	    m->code != COAP_GET || !too_big(s, m, rep, o))
		return false;
	if (coap_vfy_hold(s, sock, peer, m->mid, dgram, len, now_ms) < 0)
		ask_echo(s, sock, peer, m, o, now_ms);
	return true;
}

/* RFC 7959 §2.6: a GET for a later block continues a transfer; its
 * Observe option (node-coap repeats it) neither registers nor takes a
 * sequence number (coap_obs_current). */
static bool later_block(const struct coap_msg *m)
{
	struct coap_block b;

	return coap_get_block(m, COAP_OPT_BLOCK2, &b) == 1 && b.num > 0;
}

/* A request that classified OK: run the handler, observe, encode. */
static void serve(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, const struct coap_msg *m,
		  const uint8_t *dgram, size_t len, uint64_t now_ms)
{
	struct coap_rep rep;
	struct coap_out o;
	bool auth = s->socks[sock].secure || s->open_control;
	bool full = budget_full(s, sock, peer, m, now_ms);
	int slot = -1, n;
	uint8_t szx;

	out_for(s, m, len, full, &o);
	coap_res_handle(s, m, auth, now_ms, &rep);
	if (rep.deferred) {
		defer(s, sock, peer, m, &o);
		log_info("coap", "control request from %s: probe started",
			 s->dtls.peer_id ? s->dtls.peer_id : "(open_control)");
		return;
	}
	if (!full && verify_first(s, sock, peer, m, dgram, len, &rep, &o,
				  now_ms))
		return;
	if (rep.observable && rep.code == COAP_CODE_CONTENT &&
	    !later_block(m)) {
		slot = coap_obs_request(s, sock, peer, m, rep.res, now_ms,
					&o.obs);
		o.has_obs = slot >= 0;
	} else if (rep.observable && rep.code == COAP_CODE_CONTENT) {
		o.has_obs = coap_obs_current(s, peer, m, rep.res,
					     &o.obs) >= 0;
	}
	n = coap_srv_encode(&rep, &o, s->tx, sizeof s->tx, &szx);
	if (n == -EBADMSG) {
		error_rep(&rep, COAP_CODE_BAD_OPTION, "block out of range");
		o.has_obs = false;
		n = coap_srv_encode(&rep, &o, s->tx, sizeof s->tx, &szx);
	}
	if (slot >= 0 && (n < 0 || !o.has_obs)) {
		coap_obs_drop(s, slot, "answer not encodable");
		slot = -1;
	}
	if (slot >= 0)
		coap_obs_limits(s, slot, o.budget, o.has_block || szx != 7,
				szx == 7 ? COAP_SZX_MAX : szx);
	if (n < 0) {
		log_warn("coap", "answer not encodable: %d", n);
		error_rep(&rep, COAP_CODE_INTERNAL_SERVER_ERROR, "");
		o.has_obs = false;
		n = coap_srv_encode(&rep, &o, s->tx, sizeof s->tx, &szx);
		if (n < 0)
			return;
	}
	s->stats.requests++;
	if (m->code != COAP_GET)
		s->burst.keyed = 0;  /* it may have changed the state */
	if (m->code == COAP_POST) /* refusals at debug: anyone can send */
		log_msg(auth ? LOG_INFO : LOG_DEBUG, "coap",
			"control request from %s: %u.%02u",
			s->dtls.peer_id ? s->dtls.peer_id
			: auth ? "(open_control)" : "(unauthenticated)",
			COAP_CODE_CLASS(rep.code), COAP_CODE_DETAIL(rep.code));
	answer(s, sock, peer, m, s->tx, (size_t)n, now_ms);
}

/* 4.00 / 4.02 for a request the codec refused (piggybacked on a CON). */
static void refuse(struct coap_srv *s, unsigned sock,
		   const struct hal_addr *peer, const struct coap_msg *m,
		   size_t len, uint8_t code, uint64_t now_ms)
{
	struct coap_rep rep;
	struct coap_out o;
	uint8_t szx;
	int n;

	out_for(s, m, len, s->socks[sock].secure, &o);
	o.has_block = false;
	error_rep(&rep, code, coap_reason_str(m->reason));
	n = coap_srv_encode(&rep, &o, s->tx, sizeof s->tx, &szx);
	if (n > 0)
		answer(s, sock, peer, m, s->tx, (size_t)n, now_ms);
}

/* A well-formed message that is not a request. */
static void non_request(struct coap_srv *s, unsigned sock,
			const struct hal_addr *peer,
			const struct coap_msg *m, uint64_t now_ms)
{
	if (m->type == COAP_RST ||
	    (m->type == COAP_ACK && m->code == COAP_CODE_EMPTY)) {
		uint16_t mid = m->mid;
		bool rst = m->type == COAP_RST;

		coap_obs_answer(s, peer, m, now_ms);
		if (rst)  /* last: a replay reuses the parsed view */
			(void)coap_vfy_rst(s, peer, mid, now_ms); /* true or
				* false, it was handled */
	} else if (m->type == COAP_CON) {
		send_rst(s, sock, peer, m->mid);  /* a response we never
						   * asked for (§4.2) */
	} else {
		s->stats.ignored++;
	}
}

/* Whether a cached answer of n bytes may go to a len-byte duplicate: a
 * retransmission is as long as its original, so only a shorter copy of a
 * long request (a spoofer's cheap replay) from an unverified address
 * finds it too big. */
static bool replay_ok(struct coap_srv *s, unsigned sock,
		      const struct hal_addr *peer, size_t n, size_t len,
		      uint64_t now_ms)
{
	return n <= limit_of(len) || s->socks[sock].secure ||
	       s->amp == COAP_AMP_OFF || coap_vfy_check(s, peer, now_ms);
}

/* see coap_server.h */
void coap_srv_datagram(struct coap_srv *s, unsigned sock,
		       const struct hal_addr *peer, const uint8_t *buf,
		       size_t len, uint64_t now_ms)
{
	static struct coap_msg m; /* ~560 bytes: off the stack; one thread */
	const struct coap_dedup *d;
	enum coap_action act = coap_recv(&m, buf, len);

	s->stats.received++;
	if (act == COAP_ACT_IGNORE) {
		s->stats.ignored++;
		return;
	}
	if (act == COAP_ACT_RESET) {
		send_rst(s, sock, peer, m.mid);
		return;
	}
	if (COAP_CODE_CLASS(m.code) != 0 || m.code == COAP_CODE_EMPTY) {
		non_request(s, sock, peer, &m, now_ms);
		return;
	}
	if (s->probe.waiting && s->probe.req_mid == m.mid &&
	    s->probe.sock == sock && coap_addr_eq(&s->probe.peer, peer)) {
		s->stats.duplicates++;  /* answered when the probe ends */
		return;
	}
	d = dedup_find(s, sock, peer, m.mid, now_ms);
	if (d) {
		s->stats.duplicates++;
		if (d->len && replay_ok(s, sock, peer, d->len, len, now_ms))
			(void)coap_srv_send(s, sock, peer, d->msg, d->len);
		return;
	}
	if (act == COAP_ACT_BAD_OPTION)
		refuse(s, sock, peer, &m, len, COAP_CODE_BAD_OPTION, now_ms);
	else if (act == COAP_ACT_BAD_REQUEST)
		refuse(s, sock, peer, &m, len, COAP_CODE_BAD_REQUEST, now_ms);
	else
		serve(s, sock, peer, &m, buf, len, now_ms);
}

/* ---- loop glue ---- */

/* The tick sleeps until its next deadline; a datagram or a change can
 * bring one closer (a new observer, a CON sent), so the timer is set
 * again after each: the tick does only what is due, and says when the
 * next thing is. */
static void rearm_tick(struct coap_srv *s, uint64_t now_ms)
{
	if (s->timer > 0)
		(void)ev_timer_rearm(s->loop, s->timer,
				     (int64_t)coap_srv_tick(s, now_ms));
}

/* Up to COAP_SRV_RX_BURST datagrams of socket sock; the answers on a
 * plain socket go out together at the end (struct coap_srv_burst). */
static void on_readable(struct ev_loop *loop, int fd, unsigned events,
			void *arg)
{
	struct coap_srv *s = arg;
	struct hal_addr from;
	unsigned sock = 0;
	uint64_t now;

	(void)loop; (void)events; /* errors show up as recvfrom failures */
	while (sock < s->nsocks && s->socks[sock].fd != fd)
		sock++;
	if (sock == s->nsocks)
		return;
	coap_srv_burst_begin(s, sock);
	now = hal_clock_mono_ms();
	for (unsigned i = 0; i < COAP_SRV_RX_BURST; i++) {
		bool sec = s->socks[sock].secure;
		uint8_t *buf = sec ? s->dtls.rx : s->rx;
		size_t max = sec ? COAP_DTLS_DGRAM_MAX : COAP_MAX_MSG;
		int n = hal_net_recvfrom(fd, buf, max + 1, &from);
		uint64_t t0 = now;

		if (n == -EAGAIN)
			break;
		if (n < 0 || (size_t)n > max) {
			s->stats.ignored++;  /* oversized or a socket error */
			continue;
		}
		if (sec)
			coap_dtls_datagram(s, sock, &from, buf, (size_t)n, now);
		else
			coap_srv_datagram(s, sock, &from, buf, (size_t)n, now);
		now = hal_clock_mono_ms();
		metric_add(M_COAP_SERVICE_MS, now - t0);
	}
	coap_srv_burst_end(s);
	rearm_tick(s, now);
	s->pub.requests = s->stats.requests;
	s->pub.rejected = s->stats.resets + s->stats.ignored;
	s->pub.observers = coap_srv_observers(s);
}

static int64_t on_tick(struct ev_loop *loop, void *arg)
{
	(void)loop; /* s has it */
	return (int64_t)coap_srv_tick(arg, hal_clock_mono_ms());
}

/* see coap_server.h */
uint32_t coap_srv_tick(struct coap_srv *s, uint64_t now_ms)
{
	uint32_t next = coap_dtls_tick(s, now_ms, coap_obs_tick(s, now_ms));

	next = coap_vfy_tick(s, now_ms, next);

	s->pub.observers = coap_srv_observers(s);
	return next;
}

/* see coap_server.h */
void coap_srv_changed(struct coap_srv *s, uint64_t now_ms)
{
	if (s->loop && coap_srv_observers(s) > 0)
		rearm_tick(s, now_ms);
}

/* see coap_server.h */
unsigned coap_srv_observers(const struct coap_srv *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < COAP_SRV_OBS_MAX; i++)
		n += s->obs[i].used;
	return n;
}

/* see coap_server.h */
void coap_srv_configure(struct coap_srv *s, bool open_control,
			uint8_t amp)
{
	s->open_control = open_control;
	s->amp = amp <= COAP_AMP_OFF ? amp : COAP_AMP_ECHO;
}

static int open_sock(struct coap_srv *s, const struct hal_addr *a,
		     bool secure)
{
	struct coap_srv_sock *k = &s->socks[s->nsocks];
	char text[HAL_ADDR_TEXT_MAX];
	int fd, ret;

	(void)hal_net_addr_format(a, text, sizeof text); /* fits: MAX */
	fd = hal_net_socket(a->family, HAL_SOCK_DGRAM);
	if (fd < 0) {
		log_err("coap", "coap.listen %s: socket: %s", text,
			strerror(-fd));
		return 0;
	}
	ret = hal_net_bind(fd, a, a->family == HAL_AF_INET6
				  ? HAL_NET_V6ONLY : 0);
	if (ret == 0)
		ret = hal_net_local_addr(fd, &k->addr);
	if (ret == 0)
		ret = ev_add(s->loop, fd, EV_READ, on_readable, s);
	if (ret < 0) {
		log_err("coap", "coap.listen %s: %s", text, strerror(-ret));
		hal_net_close(fd);
		return ret == -ENOSPC ? ret : 0;
	}
	k->fd = fd;
	k->secure = secure;
	(void)hal_net_addr_format(&k->addr, k->text, sizeof k->text);
	s->pub.listen[s->nsocks] = k->text;
	log_info("coap", "listening on %s %s", secure ? "dtls" : "udp",
		 k->text);
	s->nsocks++;
	return 0;
}

/* see coap_server.h */
int coap_srv_start(struct coap_srv *s, struct ev_loop *loop,
		   const char *listen, const struct status_src *src,
		   const struct coap_srv_hooks *hooks)
{
	struct hal_addr addrs[COAP_SRV_SOCKS_MAX];
	int n = coap_srv_parse_listen(listen, addrs, COAP_SRV_SOCKS_MAX);
	int ret;

	mem_clear(s, sizeof *s); /* only the pages in use become resident */
	s->timer = -1;
	for (unsigned i = 0; i < COAP_SRV_SOCKS_MAX; i++)
		s->socks[i].fd = -1;
	if (n < 0)
		return n;
	s->loop = loop;
	s->src = src;
	if (hooks)
		s->hooks = *hooks;
	if (hal_rng_fill(&s->next_mid, sizeof s->next_mid) < 0)
		s->next_mid = (uint16_t)hal_clock_mono_ms();
	coap_vfy_init(s);
	for (int i = 0; i < n; i++) {
		ret = open_sock(s, &addrs[i], false);
		if (ret < 0)
			return ret;
	}
	ret = ev_timer_add(loop, COAP_SRV_TICK_MS, on_tick, s);
	if (ret < 0)
		return ret;
	s->timer = ret;
	return (int)s->nsocks;
}

/* see coap_server.h */
int coap_srv_start_dtls(struct coap_srv *s, const char *listen,
			const char *psk)
{
	struct hal_addr addrs[COAP_SRV_SOCKS_MAX];
	int n = coap_srv_parse_listen(listen, addrs, COAP_SRV_SOCKS_MAX);
	unsigned before = s->nsocks;
	int ret;

	if (n <= 0)
		return n;
	if ((unsigned)n > COAP_SRV_SOCKS_MAX - s->nsocks)
		return -ENOSPC;
	ret = crypto_init();
	if (ret == 0)
		ret = coap_dtls_init(s, psk);
	if (ret < 0)
		return ret;
	for (int i = 0; i < n; i++) {
		ret = open_sock(s, &addrs[i], true);
		if (ret < 0)
			return ret;
	}
	s->pub.dtls = s->nsocks > before;
	return (int)(s->nsocks - before);
}

/* see coap_server.h */
void coap_srv_stop(struct coap_srv *s)
{
	for (unsigned i = 0; i < s->nsocks; i++) {
		if (s->socks[i].fd < 0)
			continue;
		ev_del(s->loop, s->socks[i].fd);
		hal_net_close(s->socks[i].fd);
		s->socks[i].fd = -1;
	}
	if (s->timer > 0)
		ev_timer_cancel(s->loop, s->timer);
	s->timer = -1;
	coap_res_probe_stop(s);
	memset(s->obs, 0, sizeof s->obs);
	memset(s->vfy.held, 0, sizeof s->vfy.held); /* never answered */
	s->nsocks = 0;
	coap_dtls_free(s);
	s->pub.dtls = 0;
}

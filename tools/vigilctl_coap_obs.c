/*
 * vigilctl_coap_obs.c — the Observe loop (RFC 7641) of vigilctl_coap.h.
 *
 *   register (GET Observe=0, token T) ──► response: passed on; without
 *        ▲                                 Observe the server ended it
 *        │ Max-Age + 2 s without news
 *   wait ◄──────────────────────────────┐
 *    ├─ CON/NON with token T: ACK a CON; newer by sequence number (§3.4)?
 *    │    yes: fetch the other blocks (§3.4 of RFC 7959), pass it on
 *    │    no:  drop (reordered or a retransmission)
 *    ├─ CON/NON with another token: RST (§5.3.2: not ours)
 *    └─ *stop or count reached: GET Observe=1 (deregister), done
 *
 * Notifications that arrive while blocks are being fetched are ACKed by
 * the exchange and the last one is stashed in the client (other_message()
 * in vigilctl_coap.c); it is handled right after.
 */
#include <errno.h>
#include <string.h>

#include "vigilctl_coap.h"

/* Slack after Max-Age before re-registering (§3.3.1: the notification
 * may be in flight): a few round trips on any real network. */
#define REREGISTER_SLACK_MS 2000u
/* Deregistration waits at most this long: the user asked to stop. */
#define DEREGISTER_WAIT_MS 2000u

struct obs {
	struct vcoap *c;
	const struct vcoap_req *r;
	uint8_t *body;
	size_t cap;
	bool have_seq;
	uint32_t seq;                 /* newest Observe value seen */
	uint64_t seq_ms;              /* when */
	uint64_t expires_ms;          /* re-register after this */
	vcoap_notify_fn fn;
	void *arg;
};

/* A notification or the registration's response, first block in resp.
 * @retval 0 dropped (not newer) / 1 passed on / 2 passed on, and the
 * observation is over / <0 error */
static int deliver(struct obs *o, const struct vcoap_resp *resp)
{
	uint64_t now = vcoap_now_ms();
	struct vcoap_resp whole = *resp;
	size_t len;
	int ret;

	if (resp->has_observe) {
		if (o->have_seq && !coap_observe_is_newer(o->seq, o->seq_ms,
							  resp->observe, now))
			return 0;
		o->have_seq = true;
		o->seq = resp->observe;
		o->seq_ms = now;
	}
	ret = vcoap_fetch_rest(o->c, o->r, resp, o->body, o->cap, &len);
	if (ret < 0)
		return ret;
	o->expires_ms = vcoap_now_ms() + (uint64_t)resp->max_age * 1000u +
			REREGISTER_SLACK_MS;
	whole.payload = o->body;
	whole.payload_len = len;
	ret = o->fn(o->arg, &whole, o->body, len);
	if (ret < 0)
		return ret;
	return resp->has_observe && COAP_CODE_CLASS(resp->code) == 2 ? 1 : 2;
}

static void observe_req(const struct obs *o, struct vcoap_req *q,
			uint32_t value)
{
	*q = *o->r;
	q->has_observe = true;
	q->observe = value;
	q->token = o->c->obs_token;
	q->tkl = o->c->obs_tkl;
	if (o->c->block_szx >= 0 && !q->has_block2) {
		q->has_block2 = true;
		q->block2 = (struct coap_block){ .szx = (uint8_t)o->c->block_szx };
	}
}

/* (Re-)registers; a re-registration starts a fresh sequence (§3.3.1). */
static int do_register(struct obs *o)
{
	struct vcoap_req q;
	struct vcoap_resp resp;
	int ret;

	observe_req(o, &q, COAP_OBSERVE_REGISTER);
	ret = vcoap_exchange(o->c, &q, &resp);
	if (ret < 0)
		return ret;
	o->have_seq = false;
	return deliver(o, &resp);
}

static void deregister(struct obs *o)
{
	struct vcoap_req q;
	struct vcoap_resp resp;
	unsigned saved = o->c->timeout_ms;

	observe_req(o, &q, COAP_OBSERVE_DEREGISTER);
	q.has_block2 = false;
	if (o->c->timeout_ms > DEREGISTER_WAIT_MS)
		o->c->timeout_ms = DEREGISTER_WAIT_MS;
	/* Best effort: without an answer the server drops us at the next
	 * CON notification, which our RST (or silence) refuses. */
	(void)vcoap_exchange(o->c, &q, &resp);
	o->c->timeout_ms = saved;
	o->c->obs_active = false;
}

/* One datagram in buf[0..n) while waiting.  @retval as deliver */
static int on_datagram(struct obs *o, const uint8_t *buf, size_t n)
{
	struct coap_msg m;
	struct vcoap_resp resp;
	enum coap_action a = coap_recv(&m, buf, n);

	if (a == COAP_ACT_RESET)
		(void)vcoap_send_empty(o->c, COAP_RST, m.mid); /* best effort */
	if (a != COAP_ACT_OK || m.type == COAP_ACK || m.type == COAP_RST)
		return 0;
	if (m.code == COAP_CODE_EMPTY || m.tkl != o->c->obs_tkl ||
	    memcmp(m.token, o->c->obs_token, m.tkl)) {
		(void)vcoap_send_empty(o->c, COAP_RST, m.mid); /* not ours */
		return 0;
	}
	if (m.type == COAP_CON)
		(void)vcoap_send_empty(o->c, COAP_ACK, m.mid); /* a lost ACK
			only costs a retransmission */
	vcoap_resp_from(&resp, &m);
	return deliver(o, &resp);
}

/* Waits for the next datagram or timer.  @retval as deliver */
static int step(struct obs *o)
{
	uint8_t local[sizeof o->c->stash];
	uint64_t now = vcoap_now_ms();
	int n;

	if (o->c->stash_len > 0) {
		size_t len = o->c->stash_len;

		memcpy(local, o->c->stash, len);
		o->c->stash_len = 0;
		return on_datagram(o, local, len);
	}
	if (now >= o->expires_ms)
		return do_register(o);
	n = vcoap_recv_dgram(o->c, (int)(o->expires_ms - now));
	if (n == -EINTR || n == 0)
		return 0;
	if (n < 0)
		return n;
	return on_datagram(o, o->c->rx, (size_t)n);
}

/* see vigilctl_coap.h */
int vcoap_observe(struct vcoap *c, const struct vcoap_req *r, uint8_t *body,
		  size_t cap, unsigned count, volatile int *stop,
		  vcoap_notify_fn fn, void *arg)
{
	struct obs o = { .c = c, .r = r, .body = body, .cap = cap, .fn = fn,
			 .arg = arg };
	unsigned seen = 0;
	int ret;

	c->obs_tkl = 8;
	vcoap_random(c->obs_token, c->obs_tkl);
	c->obs_active = true;
	c->stash_len = 0;
	c->stop = stop;
	ret = do_register(&o);
	for (;;) {
		if (ret < 0 && ret != -EINTR) {
			c->obs_active = false;
			return ret;
		}
		if (ret == 2) {
			c->obs_active = false;
			return 1;
		}
		if (ret == 1 && count > 0 && ++seen >= count)
			break;
		if (*stop)
			break;
		ret = step(&o);
	}
	deregister(&o);
	return 0;
}

/*
 * coap_observe.c — the observers of coap_server.h (RFC 7641): the
 * registry, notifications (NON/CON choice, retransmission), and the
 * change check.  The rules are described at the top of coap_server.h.
 *
 * An observer slot is identified by (peer, token, resource).  Its
 * lifecycle:
 *
 *   free --GET Observe 0--> idle --change/refresh--> NON sent
 *                            ^  \                      |
 *                            |   +--(CON due)--> CON in flight
 *                            |                      |  |
 *                            +------ACK-------------+  +--RST, 5th
 *   any state --RST, GET Observe 1, encode failure--> free   timeout
 */
#include "coap_server_int.h"

#include <string.h>

#include "hal/rng.h"
#include "log.h"

static int obs_find(const struct coap_srv *s, const struct hal_addr *peer,
		    const struct coap_msg *m, uint8_t res)
{
	for (int i = 0; i < COAP_SRV_OBS_MAX; i++) {
		const struct coap_obs *o = &s->obs[i];

		if (o->used && o->res == res && o->tkl == m->tkl &&
		    memcmp(o->token, m->token, m->tkl) == 0 &&
		    coap_addr_eq(&o->peer, peer))
			return i;
	}
	return -1;
}

static int obs_alloc(const struct coap_srv *s)
{
	for (int i = 0; i < COAP_SRV_OBS_MAX; i++)
		if (!s->obs[i].used)
			return i;
	return -1;
}

/* see coap_server_int.h */
void coap_obs_drop(struct coap_srv *s, int i, const char *why)
{
	char text[HAL_ADDR_TEXT_MAX];

	if (i < 0 || i >= COAP_SRV_OBS_MAX || !s->obs[i].used)
		return;
	(void)hal_net_addr_format(&s->obs[i].peer, text, sizeof text);
	log_info("coap", "observer %s of %s dropped: %s", text,
		 s->obs[i].res == COAP_RES_STATUS ? "/status" : "/health",
		 why);
	memset(&s->obs[i], 0, sizeof s->obs[i]);
	s->stats.obs_dropped++;
}

/* see coap_server_int.h */
int coap_obs_request(struct coap_srv *s, unsigned sock,
		     const struct hal_addr *peer, const struct coap_msg *m,
		     uint8_t res, uint64_t now_ms, uint32_t *seq)
{
	uint32_t v;
	int i;

	if (coap_get_observe(m, &v) != 1)
		return -1;
	i = obs_find(s, peer, m, res);
	if (v != COAP_OBSERVE_REGISTER) {
		if (v == COAP_OBSERVE_DEREGISTER && i >= 0)
			memset(&s->obs[i], 0, sizeof s->obs[i]);
		return -1;
	}
	if (i < 0) {
		char text[HAL_ADDR_TEXT_MAX];

		i = obs_alloc(s);
		if (i < 0)
			return -1;  /* answered without Observe (§4.1) */
		memset(&s->obs[i], 0, sizeof s->obs[i]);
		(void)hal_net_addr_format(peer, text, sizeof text);
		log_info("coap", "observer %s of %s registered", text,
			 res == COAP_RES_STATUS ? "/status" : "/health");
	}
	s->obs[i].used = 1;
	s->obs[i].res = res;
	s->obs[i].sock = (uint8_t)sock;
	s->obs[i].secure = s->socks[sock].secure;
	s->obs[i].peer = *peer;
	s->obs[i].tkl = m->tkl;
	memcpy(s->obs[i].token, m->token, m->tkl);
	s->obs[i].key_sent = coap_res_change_key(s, res);
	s->obs[i].last_sent_ms = now_ms;
	s->obs[i].last_ack_ms = now_ms;  /* a request proves the client */
	s->obs[i].last_non = false;
	s->obs_seq = coap_observe_next(s->obs_seq);
	s->obs[i].seq_sent = s->obs_seq;
	*seq = s->obs_seq;
	return i;
}

/* see coap_server_int.h */
int coap_obs_current(const struct coap_srv *s, const struct hal_addr *peer,
		     const struct coap_msg *m, uint8_t res, uint32_t *seq)
{
	uint32_t v;
	int i;

	if (coap_get_observe(m, &v) != 1)
		return -1;
	i = obs_find(s, peer, m, res);
	if (i >= 0)
		*seq = s->obs[i].seq_sent;
	return i;
}

/* see coap_server_int.h */
void coap_obs_limits(struct coap_srv *s, int i, size_t budget,
		     bool has_block, uint8_t szx)
{
	struct coap_obs *o = &s->obs[i];

	o->budget = (uint16_t)(budget < COAP_MAX_MSG ? budget : COAP_MAX_MSG);
	o->has_block = has_block;
	o->szx = szx;
}

/* ACK_TIMEOUT .. ACK_TIMEOUT x ACK_RANDOM_FACTOR (§4.8). */
static uint32_t first_timeout(void)
{
	uint16_t r = 0;
	uint32_t span = COAP_ACK_TIMEOUT_MS * COAP_ACK_RANDOM_FACTOR_NUM /
			COAP_ACK_RANDOM_FACTOR_DEN - COAP_ACK_TIMEOUT_MS;

	if (hal_rng_fill(&r, sizeof r) < 0)
		r = 0;  /* no randomness: the shortest timeout is still valid */
	return COAP_ACK_TIMEOUT_MS + r % (span + 1);
}

/* Sends a notification of the current state to slot i. */
static void notify(struct coap_srv *s, int i, uint64_t now_ms)
{
	struct coap_obs *o = &s->obs[i];
	uint32_t key = coap_res_change_key(s, o->res);
	struct coap_rep rep;
	struct coap_out out;
	uint8_t szx;
	bool con = o->last_non ||
		   now_ms - o->last_ack_ms >= COAP_SRV_CON_EVERY_MS;
	int n;

	coap_res_render(s, o->res, now_ms, &rep);
	memset(&out, 0, sizeof out);
	out.type = con ? COAP_CON : COAP_NON;
	out.mid = coap_srv_new_mid(s);
	out.token = o->token;
	out.tkl = o->tkl;
	out.has_obs = rep.code == COAP_CODE_CONTENT;
	if (out.has_obs)
		s->obs_seq = coap_observe_next(s->obs_seq);
	out.obs = s->obs_seq;
	out.budget = o->budget ? o->budget : COAP_MAX_MSG;
	out.has_block = o->has_block;
	out.blk.szx = o->szx;
	n = coap_srv_encode(&rep, &out, s->tx, sizeof s->tx, &szx);
	if (n < 0) {
		coap_obs_drop(s, i, "notification not encodable");
		return;
	}
	(void)coap_srv_send(s, o->sock, &o->peer, s->tx, (size_t)n);
	s->stats.notifications++;
	o->key_sent = key;
	o->seq_sent = out.obs;
	o->last_sent_ms = now_ms;
	o->last_mid = out.mid;
	o->last_non = !con;
	o->dirty = false;
	if (!out.has_obs) {
		coap_obs_drop(s, i, "resource failed"); /* §3.2: a non-2.xx
							 * ends observation */
		return;
	}
	if (con) {
		o->con_pending = true;
		o->retries = 0;
		o->con_timeout_ms = first_timeout();
		o->con_deadline_ms = now_ms + o->con_timeout_ms;
		o->con_len = (uint16_t)n;
		memcpy(o->con_msg, s->tx, (size_t)n);
	}
}

/* see coap_server_int.h */
void coap_obs_answer(struct coap_srv *s, const struct hal_addr *peer,
		     const struct coap_msg *m, uint64_t now_ms)
{
	for (int i = 0; i < COAP_SRV_OBS_MAX; i++) {
		struct coap_obs *o = &s->obs[i];

		if (!o->used || o->last_mid != m->mid ||
		    !coap_addr_eq(&o->peer, peer))
			continue;
		if (m->type == COAP_RST) {
			coap_obs_drop(s, i, "reset by the client");
		} else if (o->con_pending) {
			o->con_pending = false;
			o->last_ack_ms = now_ms;
			if (o->dirty)
				notify(s, i, now_ms);
		}
	}
}

/* A CON whose deadline passed: resend it, or give up after
 * MAX_RETRANSMIT retransmissions (§4.2). */
static void retransmit(struct coap_srv *s, int i, uint64_t now_ms)
{
	struct coap_obs *o = &s->obs[i];

	if (o->retries >= COAP_MAX_RETRANSMIT) {
		coap_obs_drop(s, i, "notification not acknowledged");
		return;
	}
	o->retries++;
	o->con_timeout_ms *= 2;
	o->con_deadline_ms = now_ms + o->con_timeout_ms;
	(void)coap_srv_send(s, o->sock, &o->peer, o->con_msg, o->con_len);
	s->stats.notifications++;
}

/* The change keys of one tick: each resource's computed once, not once
 * per observer (five observers of /status hashed the whole state five
 * times per loop pass). */
struct tick_keys {
	uint32_t key[COAP_RES_COUNT];
	uint32_t have;          /* bit res: key[res] computed */
};

static uint32_t tick_key(const struct coap_srv *s, struct tick_keys *tk,
			 uint8_t res)
{
	if (res >= COAP_RES_COUNT)
		return coap_res_change_key(s, res);
	if (!(tk->have & (1u << res))) {
		tk->key[res] = coap_res_change_key(s, res);
		tk->have |= 1u << res;
	}
	return tk->key[res];
}

/* Whether slot i is due a notification: its state changed, or its
 * last one is about to go stale. */
static bool due(const struct coap_srv *s, const struct coap_obs *o,
		uint64_t now_ms, struct tick_keys *tk)
{
	uint64_t stale = COAP_SRV_MAX_AGE_S * 1000u - COAP_SRV_REFRESH_EARLY_MS;

	return tick_key(s, tk, o->res) != o->key_sent ||
	       now_ms - o->last_sent_ms >= stale;
}

/* ms from now to o's refresh (it is not waiting for an ACK). */
static uint64_t refresh_wait(const struct coap_obs *o, uint64_t now_ms)
{
	uint64_t at = o->last_sent_ms + COAP_SRV_MAX_AGE_S * 1000u -
		      COAP_SRV_REFRESH_EARLY_MS;

	return at > now_ms ? at - now_ms : 1;
}

/* see coap_server_int.h */
uint32_t coap_obs_tick(struct coap_srv *s, uint64_t now_ms)
{
	uint32_t next = COAP_SRV_IDLE_MS;
	struct tick_keys tk = { .have = 0 };

	for (int i = 0; i < COAP_SRV_OBS_MAX; i++) {
		struct coap_obs *o = &s->obs[i];

		if (!o->used)
			continue;
		if (o->con_pending && now_ms >= o->con_deadline_ms)
			retransmit(s, i, now_ms);
		else if (o->con_pending && due(s, o, now_ms, &tk))
			o->dirty = true;  /* sent once the CON is answered */
		else if (!o->con_pending && due(s, o, now_ms, &tk))
			notify(s, i, now_ms);
		if (o->used && o->con_pending &&
		    o->con_deadline_ms - now_ms < next)
			next = (uint32_t)(o->con_deadline_ms - now_ms);
		if (o->used && !o->con_pending && refresh_wait(o, now_ms) < next)
			next = (uint32_t)refresh_wait(o, now_ms);
	}
	return next ? next : 1;
}

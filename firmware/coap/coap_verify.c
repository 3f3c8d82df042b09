/*
 * coap_verify.c — address verification for the amplification rule of
 * coap_server.h (RFC 7252 §11.3, RFC 9175 §2.4): the verified-address
 * table, Echo values, and requests held while a ping proves the address.
 *
 * Two proofs, because clients differ (measured on the wire, docs/coap.md):
 * libcoap 4.3.1 repeats a request that drew 4.01 with Echo; node-coap
 * 1.5.0 hands that 4.01 to the application.  Both answer a CoAP ping
 * (Empty CON) with an RST, as RFC 7252 §4.3 requires of every endpoint.
 *
 *   GET, answer too big, address unverified
 *     |-- valid Echo ---------------> verified, full answer
 *     |-- pending slot free --------> held; ping (4 B, again every
 *     |                               COAP_SRV_PING_EVERY_MS)
 *     |     RST with the ping's id -> verified; the held GET answered
 *     |                               in full
 *     |     wrong RST, or none in  -> the limited answer
 *     |     COAP_SRV_PING_WAIT_MS
 *     +-- no slot (a burst) --------> 4.01 + Echo (~30 B, nothing kept)
 *
 * Unpredictability: the ping's message id comes from hal_rng, not from the
 * server's counter (a client that saw one ping id could otherwise predict
 * the next and forge the RST of a spoofed victim); a wrong RST from a
 * pending address ends the wait, so a blind forger has one guess in 65536
 * per held request.  The Echo value is time (4 bytes, seconds) + the first
 * 8 bytes of HMAC-SHA256(key, time || address); the key is drawn at start,
 * and the MAC is computed on the stack (no mbedTLS context allocated).
 *
 * Tables: COAP_SRV_VERIFIED_MAX addresses (LRU by last use, each valid
 * COAP_SRV_VERIFIED_MS from its proof) and COAP_SRV_PENDING_MAX held
 * requests; O(n) scans, n <= 16.  Nothing is allocated.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/rng.h"
#include "log.h"
#include "mbedtls/sha256.h"

/* see coap_server_int.h */
void coap_vfy_init(struct coap_srv *s)
{
	uint64_t t = hal_clock_mono_ms();

	memset(&s->vfy, 0, sizeof s->vfy);
	if (hal_rng_fill(s->vfy.key, sizeof s->vfy.key) < 0) {
		log_warn("coap", "no randomness for the Echo key: clock used");
		memcpy(s->vfy.key, &t, sizeof t);
	}
}

static bool fresh(const struct coap_verified *v, uint64_t now_ms)
{
	return v->used && now_ms - v->at_ms < COAP_SRV_VERIFIED_MS;
}

/* see coap_server.h */
bool coap_srv_verified(const struct coap_srv *s, const struct hal_addr *peer,
		       uint64_t now_ms)
{
	for (unsigned i = 0; i < COAP_SRV_VERIFIED_MAX; i++)
		if (fresh(&s->vfy.ok[i], now_ms) &&
		    coap_addr_eq(&s->vfy.ok[i].peer, peer))
			return true;
	return false;
}

/* see coap_server_int.h */
bool coap_vfy_check(struct coap_srv *s, const struct hal_addr *peer,
		    uint64_t now_ms)
{
	for (unsigned i = 0; i < COAP_SRV_VERIFIED_MAX; i++) {
		struct coap_verified *v = &s->vfy.ok[i];

		if (fresh(v, now_ms) && coap_addr_eq(&v->peer, peer)) {
			v->used_ms = now_ms;
			return true;
		}
	}
	return false;
}

/* see coap_server_int.h */
void coap_vfy_add(struct coap_srv *s, const struct hal_addr *peer,
		  uint64_t now_ms)
{
	struct coap_verified *v = &s->vfy.ok[0];

	for (unsigned i = 0; i < COAP_SRV_VERIFIED_MAX; i++) {
		struct coap_verified *c = &s->vfy.ok[i];

		if (!fresh(c, now_ms) || coap_addr_eq(&c->peer, peer)) {
			v = c;  /* a free, stale or own slot */
			break;
		}
		if (c->used_ms < v->used_ms)
			v = c;
	}
	v->used = true;
	v->peer = *peer;
	v->at_ms = now_ms;
	v->used_ms = now_ms;
	s->vfy.verified++;
}

/* SHA-256 of pad (64 bytes: the key XOR ipad/opad) || a, on a context
 * on the stack: mbedtls_md_hmac() would allocate its context. */
static int sha256_2(const uint8_t pad[64], const uint8_t *a, size_t an,
		    uint8_t out[32])
{
	mbedtls_sha256_context c;
	int ret;

	mbedtls_sha256_init(&c);
	ret = mbedtls_sha256_starts(&c, 0);
	if (ret == 0)
		ret = mbedtls_sha256_update(&c, pad, 64);
	if (ret == 0)
		ret = mbedtls_sha256_update(&c, a, an);
	if (ret == 0)
		ret = mbedtls_sha256_finish(&c, out);
	mbedtls_sha256_free(&c);
	return ret == 0 ? 0 : -EIO;
}

/* HMAC-SHA256 (RFC 2104; the 32-byte key is shorter than the 64-byte
 * block) over time || family || ip || port || scope, first 8 bytes. */
static int echo_mac(const struct coap_srv *s, const struct hal_addr *peer,
		    const uint8_t t[4], uint8_t mac[8])
{
	uint8_t in[4 + 1 + 16 + 2 + 4], pad[64], inner[32], full[32];

	memcpy(in, t, 4);
	in[4] = peer->family;
	memcpy(in + 5, peer->ip, 16);
	in[21] = (uint8_t)(peer->port >> 8);
	in[22] = (uint8_t)peer->port;
	memcpy(in + 23, &peer->scope, 4);
	memset(pad, 0x36, sizeof pad);
	for (size_t i = 0; i < sizeof s->vfy.key; i++)
		pad[i] ^= s->vfy.key[i];
	if (sha256_2(pad, in, sizeof in, inner) < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	if (sha256_2(pad, inner, sizeof inner, full) < 0)
		return -EIO;
	memcpy(mac, full, 8);
	return 0;
}

/* see coap_server_int.h */
int coap_echo_make(const struct coap_srv *s, const struct hal_addr *peer,
		   uint64_t now_ms, uint8_t *out)
{
	uint32_t sec = (uint32_t)(now_ms / 1000u);

	out[0] = (uint8_t)(sec >> 24);
	out[1] = (uint8_t)(sec >> 16);
	out[2] = (uint8_t)(sec >> 8);
	out[3] = (uint8_t)sec;
	if (echo_mac(s, peer, out, out + 4) < 0)
		return -EIO;
	return COAP_SRV_ECHO_LEN;
}

/* see coap_server_int.h */
bool coap_echo_valid(const struct coap_srv *s, const struct hal_addr *peer,
		     const uint8_t *val, size_t len, uint64_t now_ms)
{
	uint8_t mac[8], diff = 0;
	uint32_t sec, now = (uint32_t)(now_ms / 1000u);

	if (len != COAP_SRV_ECHO_LEN)
		return false;
	sec = (uint32_t)val[0] << 24 | (uint32_t)val[1] << 16 |
	      (uint32_t)val[2] << 8 | val[3];
	if (sec > now || now - sec > COAP_SRV_ECHO_FRESH_S ||
	    echo_mac(s, peer, val, mac) < 0)
		return false;
	for (unsigned i = 0; i < sizeof mac; i++)
		diff |= (uint8_t)(mac[i] ^ val[4 + i]);
	return diff == 0;
}

static struct coap_pending *held_by(struct coap_srv *s,
				    const struct hal_addr *peer)
{
	for (unsigned i = 0; i < COAP_SRV_PENDING_MAX; i++)
		if (s->vfy.held[i].used &&
		    coap_addr_eq(&s->vfy.held[i].peer, peer))
			return &s->vfy.held[i];
	return NULL;
}

static struct coap_pending *free_slot(struct coap_srv *s)
{
	for (unsigned i = 0; i < COAP_SRV_PENDING_MAX; i++)
		if (!s->vfy.held[i].used)
			return &s->vfy.held[i];
	return NULL;
}

/* The ping of p (again: the same id, like a CON retransmission). */
static void send_ping(struct coap_srv *s, struct coap_pending *p,
		      uint64_t now_ms)
{
	uint8_t ping[COAP_HDR_LEN];

	if (coap_build_empty(ping, sizeof ping, COAP_CON, p->ping_mid) > 0)
		(void)coap_srv_send(s, p->sock, &p->peer, ping, sizeof ping);
			/* a lost one is sent again, or the wait ends */
	p->ping_ms = now_ms;
	s->vfy.pings++;
}

/* see coap_server_int.h */
int coap_vfy_hold(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, uint16_t mid,
		  const uint8_t *dgram, size_t len, uint64_t now_ms)
{
	struct coap_pending *p = held_by(s, peer);

	if (p)  /* one request per address: a retransmission, or the next
		 * request of an impatient client (that one waits) */
		return p->req_mid == mid ? 0 : -ENOSPC;
	p = free_slot(s);
	if (!p || len > sizeof p->req)
		return -ENOSPC;
	if (hal_rng_fill(&p->ping_mid, sizeof p->ping_mid) < 0)
		return -ENOSPC;  /* no unpredictable id: Echo instead */
	p->used = true;
	p->sock = (uint8_t)sock;
	p->req_mid = mid;
	p->at_ms = now_ms;
	p->peer = *peer;
	p->len = (uint16_t)len;
	memcpy(p->req, dgram, len);
	send_ping(s, p, now_ms);
	if (s->loop && s->timer > 0)  /* the tick resends and ends it; it
				       * returns the next deadline then */
		(void)ev_timer_rearm(s->loop, s->timer, COAP_SRV_PING_EVERY_MS);
			/* cannot fail: the id is live while s runs */
	return 0;
}

/* Frees p and answers its request: in full when the address is now
 * verified, else the limited answer. */
static void release(struct coap_srv *s, struct coap_pending *p,
		    uint64_t now_ms)
{
	uint8_t req[COAP_SRV_HOLD_MAX];
	struct hal_addr peer = p->peer;
	unsigned sock = p->sock;
	size_t len = p->len;

	memcpy(req, p->req, len);
	p->used = false;  /* before the replay, which must not find it */
	s->vfy.limited = !coap_srv_verified(s, &peer, now_ms);
	coap_srv_datagram(s, sock, &peer, req, len, now_ms);
	s->vfy.limited = false;
}

/* see coap_server_int.h */
bool coap_vfy_rst(struct coap_srv *s, const struct hal_addr *peer,
		  uint16_t mid, uint64_t now_ms)
{
	struct coap_pending *p = held_by(s, peer);
	char text[HAL_ADDR_TEXT_MAX];

	bool ours;

	if (!p)
		return false;
	ours = p->ping_mid == mid;
	if (ours) {
		coap_vfy_add(s, peer, now_ms);
		(void)hal_net_addr_format(peer, text, sizeof text); /* fits */
		log_debug("coap", "address %s verified (ping)", text);
	}
	release(s, p, now_ms);
	return ours;
}

/* see coap_server_int.h */
uint32_t coap_vfy_tick(struct coap_srv *s, uint64_t now_ms, uint32_t next)
{
	for (unsigned i = 0; i < COAP_SRV_PENDING_MAX; i++) {
		struct coap_pending *p = &s->vfy.held[i];
		uint64_t age = now_ms - p->at_ms;

		if (!p->used)
			continue;
		if (age >= COAP_SRV_PING_WAIT_MS) {
			release(s, p, now_ms);
			continue;
		}
		if (now_ms - p->ping_ms >= COAP_SRV_PING_EVERY_MS)
			send_ping(s, p, now_ms);
		if (COAP_SRV_PING_WAIT_MS - age < next)
			next = (uint32_t)(COAP_SRV_PING_WAIT_MS - age);
		if (p->ping_ms + COAP_SRV_PING_EVERY_MS - now_ms < next)
			next = (uint32_t)(p->ping_ms + COAP_SRV_PING_EVERY_MS -
					  now_ms);
	}
	return next;
}

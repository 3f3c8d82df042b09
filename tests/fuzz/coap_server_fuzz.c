/*
 * coap_server_fuzz.c — libFuzzer target for vigild's CoAP server
 * (firmware/coap/coap_server.c, coap_observe.c, coap_resources.c) on the sim
 * network: the input is a sequence of datagrams, each a 2-byte big-endian
 * length and that many bytes; a length with the top bit set instead
 * advances the clock by its low 15 bits x 100 ms and runs the tick.
 *
 * A datagram whose length has bit 2 set is handled as a one-datagram
 * burst (coap_srv_burst_begin/_end, as the readable callback does: the
 * answer is queued and sent at the end), the others directly.
 *
 * Properties checked (__builtin_trap on violation):
 *   - every datagram the server sends is at most COAP_MAX_MSG bytes and
 *     parses as a well-formed CoAP message (coap_parse == 0);
 *   - answers echo the request: an ACK carries the request's message id
 *     and token, an RST the message id (RSTs are 4 bytes); a replay from
 *     the dedup table (same peer and message id, RFC 7252 §4.5) echoes
 *     the id and keeps the first request's token;
 *   - the amplification rule (coap.amplification = echo, the default):
 *     to an unverified address every datagram is at most 3 x the request
 *     or COAP_SRV_AMP_FLOOR; a ping (Empty CON) is 4 bytes; held
 *     requests are answered on an RST or the tick, bounded by their own
 *     size (the RST that
 *     verifies needs the ping's random id, which the input can only
 *     guess, so the ping/Echo paths and the limited replay are covered);
 *   - observers never exceed COAP_SRV_OBS_MAX.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "coap_server.h"
#include "config.h"
#include "ev.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "health.h"
#include "log.h"

EV_MEM_DEFINE(fz_mem, 8, 8);
static struct ev_loop loop;
static struct coap_srv srv;
static struct health health;
static struct config cfg;
static struct backup_link blink;
static unsigned reloads;
static struct status_src src;
static uint8_t out[COAP_SRV_BODY_MAX * 2];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int fake_reload(void *arg)
{
	(void)arg;
	reloads++;
	return 0;
}

static void setup(void)
{
	static const struct coap_srv_hooks hooks = { fake_reload, NULL };

	hal_sim_reset();
	/* every record still formatted (into the ring, debug included), none
	 * written: a line or two per run to stderr was most of a long run's
	 * time (and a 400 MB log) */
	require(log_configure(LOG_DEBUG, 0, 0) == 0);
	config_defaults(&cfg);
	cfg.data_dir[0] = '/';
	cfg.data_dir[1] = '\0';
	health_init(&health, 0);
	memset(&blink, 0, sizeof blink);
	reloads = 0;
	require(ev_init(&loop, &fz_mem) == 0);
	src = (struct status_src){ .cfg = &cfg, .health = &health,
		.link = &blink, .reloads = &reloads, .coap = &srv.pub };
	require(coap_srv_start(&srv, &loop, "127.0.0.1:5683", &src,
			       &hooks) == 1);
}

/* The requests of this run by token: a held request is answered later
 * (on an RST or the tick), and that answer's amplification bound is its
 * own request's size, not the size of the datagram that released it. */
#define SEEN_MAX 64
static struct seen_req {
	uint8_t tkl, token[8];
	size_t len;
} seen[SEEN_MAX];
static unsigned nseen;

static void seen_add(const struct coap_msg *q, size_t len)
{
	struct seen_req *r = &seen[nseen++ % SEEN_MAX];

	r->tkl = q->tkl;
	memcpy(r->token, q->token, q->tkl);
	r->len = len;
}

/* The largest request seen with a's token (0: none). */
static size_t seen_len(const struct coap_msg *a)
{
	size_t best = 0;

	for (unsigned i = 0; i < nseen && i < SEEN_MAX; i++)
		if (seen[i].tkl == a->tkl && seen[i].len > best &&
		    memcmp(seen[i].token, a->token, a->tkl) == 0)
			best = seen[i].len;
	return best;
}

/* Checks every datagram the server sent in answer to req (NULL: a
 * tick) from an address that is verified or not. */
static void drain(const uint8_t *req, size_t rlen, bool replay,
		  bool verified)
{
	static struct coap_msg a, q;
	int n;
	bool is_req = req && coap_parse(&q, req, rlen) == 0 &&
		      COAP_CODE_CLASS(q.code) == 0 && q.code != 0;

	if (is_req)
		seen_add(&q, rlen);

	while ((n = hal_sim_net_sent_datagram(srv.socks[0].fd, out,
					      sizeof out, NULL)) >= 0) {
		require(n >= 4 && n <= COAP_MAX_MSG);
		require(coap_parse(&a, out, (size_t)n) == 0);
		if (a.type == COAP_RST)
			require(n == 4 && req && a.mid == (req[2] << 8 | req[3]));
		if (a.type == COAP_CON && a.code == COAP_CODE_EMPTY) {
			require(n == 4);  /* a ping */
			continue;
		}
		/* the amplification limit holds per request: an answer is
		 * bounded by the size of its request, which may be an earlier
		 * one that was held (seen_len).  A notification to an earlier
		 * registration that this pass sent (processing even a 4-byte
		 * RST runs the observers' tick) was bounded by that
		 * registration's own limit when it was answered. */
		bool answers = is_req && a.tkl == q.tkl &&
			       memcmp(a.token, q.token, q.tkl) == 0;
		bool notification = !answers &&
				    coap_opt_get(&a, COAP_OPT_OBSERVE) != NULL;
		if (!verified && !notification)
			require((size_t)n <= COAP_SRV_AMP_FLOOR ||
				(size_t)n <= COAP_SRV_AMP_FACTOR * seen_len(&a));
		if (!is_req || a.type == COAP_RST)
			continue;
		if (a.type == COAP_ACK && a.mid != q.mid)
			continue;  /* a held request answered (RST) */
		if (replay)
			continue;
		require(a.tkl == q.tkl &&
			memcmp(a.token, q.token, q.tkl) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hal_addr peer;
	size_t i = 0;

	setup();
	nseen = 0;
	hal_net_addr_parse("127.0.0.2", 40000, &peer);
	while (size - i >= 2) {
		size_t len = (size_t)data[i] << 8 | data[i + 1];

		i += 2;
		if (len & 0x8000) {
			hal_sim_clock_advance((len & 0x7fff) * 100u);
			coap_srv_tick(&srv, hal_clock_mono_ms());
			drain(NULL, 0, false, true);
			continue;
		}
		if (len > size - i)
			len = size - i;
		uint32_t dups = srv.stats.duplicates;
		bool verified;

		peer.port = (uint16_t)(40000 + (len & 3));
		verified = coap_srv_verified(&srv, &peer, hal_clock_mono_ms());
		if (len & 4)  /* the readable callback's path: a burst */
			coap_srv_burst_begin(&srv, 0);
		coap_srv_datagram(&srv, 0, &peer, data + i, len,
				  hal_clock_mono_ms());
		coap_srv_burst_end(&srv);  /* a no-op outside one */
		drain(data + i, len, srv.stats.duplicates != dups,
		      verified || srv.vfy.verified != 0);
		require(coap_srv_observers(&srv) <= COAP_SRV_OBS_MAX);
		i += len;
	}
	coap_srv_stop(&srv);
	return 0;
}

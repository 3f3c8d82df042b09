/*
 * coap_dtls_fuzz.c — libFuzzer target for the DTLS layer of vigild's CoAP
 * server (firmware/coap/coap_dtls.c under coap_server.c) on the sim network.
 * The input is a sequence of datagrams at the DTLS socket, each a peer
 * byte (low 3 bits: one of 8 client ports), a 2-byte big-endian length
 * and that many bytes; a peer byte with the top bit set instead advances
 * the clock by its low 7 bits x 250 ms and runs the tick.
 *
 * Properties checked (__builtin_trap on violation):
 *   - at most COAP_DTLS_SESSIONS contexts are in use after every
 *     datagram and tick (one stays free for the next ClientHello);
 *   - no session is ever established: the fuzzer does not know the key
 *     (nor can it echo a cookie, which is an HMAC under a random key),
 *     so an established session would be an authentication bypass;
 *   - every datagram the server sends goes to the peer that sent the
 *     datagram being handled, is a DTLS record (content type 20..23,
 *     version 0xfeXX except in an alert) and is at most
 *     COAP_DTLS_DGRAM_MAX bytes;
 *   - nothing reaches the CoAP layer (no request is counted).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "coap_server.h"
#include "coap_server_int.h"
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
static uint8_t out[COAP_DTLS_DGRAM_MAX * 2];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int fake_reload(void *arg)
{
	(void)arg; /* hook signature */
	reloads++;
	return 0;
}

static void setup(void)
{
	static const struct coap_srv_hooks hooks = { .reload = fake_reload };

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
	require(coap_srv_start(&srv, &loop, "none", &src, &hooks) == 0);
	require(coap_srv_start_dtls(&srv, "127.0.0.1:5684",
				    "ops:0123456789abcdef0123456789abcdef")
		== 1);
}

static void check_state(void)
{
	unsigned used = 0;

	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		used += srv.dtls.sess[i].state != COAP_DTLS_FREE;
		require(srv.dtls.sess[i].state != COAP_DTLS_UP);
	}
	require(used <= COAP_DTLS_SESSIONS);
	require(srv.stats.requests == 0 && reloads == 0);
}

/* What the server sent: DTLS records to peer (NULL: a tick, to anyone
 * holding a context). */
static void drain(const struct hal_addr *peer)
{
	struct hal_addr to;
	int n;

	while ((n = hal_sim_net_sent_datagram(srv.socks[0].fd, out,
					      sizeof out, &to)) >= 0) {
		require((size_t)n <= COAP_DTLS_DGRAM_MAX && n >= 13);
		/* an alert before version negotiation echoes whatever
		 * version the ClientHello claimed (mbedTLS) */
		require(out[0] >= 20 && out[0] <= 23 &&
			(out[1] == 0xfe || out[0] == 21));
		require(!peer || coap_addr_eq(&to, peer));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct hal_addr peer;

	setup();
	while (end - p >= 1) {
		uint8_t who = *p++;
		size_t len;

		if (who & 0x80) {
			hal_sim_clock_advance((uint64_t)(who & 0x7f) * 250u);
			(void)coap_srv_tick(&srv, hal_clock_mono_ms());
			drain(NULL);
			check_state();
			continue;
		}
		if (end - p < 2)
			break;
		len = (size_t)p[0] << 8 | p[1];
		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		hal_net_addr_parse("127.0.0.2", (uint16_t)(40000 + (who & 7)),
				   &peer);
		coap_dtls_datagram(&srv, 0, &peer, p, len,
				   hal_clock_mono_ms());
		p += len;
		drain(&peer);
		check_state();
	}
	coap_srv_stop(&srv);
	return 0;
}

/*
 * coap_dtls_test.c — firmware/coap/coap_dtls.c under the CoAP server on the
 * sim network: an mbedTLS DTLS client in this process whose records go
 * in through hal_sim_net_inject_datagram and come back through
 * hal_sim_net_sent_datagram; handshake retransmission timers run on the
 * sim clock.
 */
#include "coap_server.h"
#include "coap_server_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "crypto_platform.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "health.h"
#include "status_doc.h"
#include "test.h"
#include "test_util.h"

EV_MEM_DEFINE(cd_mem, 8, 8);
static struct ev_loop loop;
static struct coap_srv srv;
static struct health health;
static struct config cfg;
static struct backup_link blink;
static unsigned reloads;
static struct status_src src;
static struct hal_addr client;

/* key "vigil-unit-key!!" (16 bytes) for identity "ops" */
#define KEY_TEXT "vigil-unit-key!!"
#define PSK_CONF "ops:766967696c2d756e69742d6b65792121, lab:00ff"

static int fake_reload(void *arg)
{
	(void)arg; /* hook signature */
	reloads++;
	return 0;
}

static int setup(void)
{
	const struct coap_srv_hooks hooks = { .reload = fake_reload };

	reloads = 0;
	memset(&blink, 0, sizeof blink);
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "/");
	health_init(&health, 0);
	if (ev_init(&loop, &cd_mem) != 0)
		return -1;
	src = (struct status_src){ .cfg = &cfg, .health = &health,
		.link = &blink, .reloads = &reloads, .coap = &srv.pub };
	hal_net_addr_parse("127.0.0.2", 40000, &client);
	if (coap_srv_start(&srv, &loop, "none", &src, &hooks) != 0)
		return -1;
	return coap_srv_start_dtls(&srv, "127.0.0.1:5684", PSK_CONF);
}

static void pump(void)
{
	test_pump(&loop);
}

/* ---- the client ---- */

struct cli {
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	uint64_t tm_start;
	uint32_t tm_int, tm_fin;
};

static struct cli cl;
static const int cli_suites[] = { MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8, 0 };

static int cli_send(void *ctx, const unsigned char *buf, size_t len)
{
	(void)ctx; /* one server */
	if (hal_sim_net_inject_datagram(&srv.socks[0].addr, &client, buf,
					len) != 0)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return (int)len;
}

/* false: the test runs the server's loop itself, between the client's
 * steps (else a whole handshake happens inside one client call) */
static bool cli_pumps = true;

/* The server's next datagram to this client; others (a close_notify to
 * an evicted peer) are skipped. */
static int cli_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct hal_addr to;
	int n;

	(void)ctx; /* one server */
	if (cli_pumps)
		pump();
	do
		n = hal_sim_net_sent_datagram(srv.socks[0].fd, buf, len, &to);
	while (n >= 0 && !coap_addr_eq(&to, &client));
	return n < 0 ? MBEDTLS_ERR_SSL_WANT_READ : n;
}

static void cli_tset(void *ctx, uint32_t i, uint32_t f)
{
	(void)ctx; /* one client */
	cl.tm_start = hal_clock_mono_ms();
	cl.tm_int = i;
	cl.tm_fin = f;
}

static int cli_tget(void *ctx)
{
	uint64_t el = hal_clock_mono_ms() - cl.tm_start;

	(void)ctx; /* one client */
	if (cl.tm_fin == 0)
		return -1;
	return el >= cl.tm_fin ? 2 : el >= cl.tm_int ? 1 : 0;
}

static int cli_open(const char *id, const uint8_t *key, size_t keylen)
{
	mbedtls_ssl_config_init(&cl.conf);
	mbedtls_ssl_init(&cl.ssl);
	if (mbedtls_ssl_config_defaults(&cl.conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT))
		return -1;
	mbedtls_ssl_conf_max_tls_version(&cl.conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_rng(&cl.conf, crypto_rng, NULL);
	mbedtls_ssl_conf_ciphersuites(&cl.conf, cli_suites);
	if (mbedtls_ssl_conf_psk(&cl.conf, key, keylen,
				 (const unsigned char *)id, strlen(id)) ||
	    mbedtls_ssl_setup(&cl.ssl, &cl.conf))
		return -1;
	mbedtls_ssl_set_bio(&cl.ssl, NULL, cli_send, cli_recv, NULL);
	mbedtls_ssl_set_timer_cb(&cl.ssl, NULL, cli_tset, cli_tget);
	return 0;
}

static void cli_close(void)
{
	mbedtls_ssl_free(&cl.ssl);
	mbedtls_ssl_config_free(&cl.conf);
}

/* Runs the handshake to its end.  @retval 0 / the mbedTLS error */
static int cli_handshake(void)
{
	for (int i = 0; i < 50; i++) {
		int ret = mbedtls_ssl_handshake(&cl.ssl);

		if (ret != MBEDTLS_ERR_SSL_WANT_READ &&
		    ret != MBEDTLS_ERR_SSL_WANT_WRITE)
			return ret;
	}
	return -1;
}

/* One CON request over the session; returns the answer's code (or -1)
 * and leaves its payload in *rm. */
static int cli_call(uint8_t code, const char *path, uint16_t mid,
		    struct coap_msg *rm)
{
	static uint8_t req[64], rsp[COAP_MAX_MSG + 1];
	struct coap_writer w;
	int n;

	coap_writer_init(&w, req, sizeof req, COAP_CON, code, mid,
			 (const uint8_t *)"tk", 2);
	coap_put_opt(&w, COAP_OPT_URI_PATH, path, strlen(path));
	n = coap_writer_finish(&w);
	if (n <= 0 || mbedtls_ssl_write(&cl.ssl, req, (size_t)n) != n)
		return -1;
	n = mbedtls_ssl_read(&cl.ssl, rsp, sizeof rsp);
	if (n <= 0 || coap_recv(rm, rsp, (size_t)n) != COAP_ACT_OK)
		return -1;
	return rm->mid == mid ? rm->code : -1;
}

static const uint8_t ops_key[] = KEY_TEXT;

/* ---- tests ---- */

TEST(parse_psk)
{
	struct psk p[COAP_DTLS_PSK_MAX];

	CHECK_EQ_INT(coap_dtls_parse_psk(PSK_CONF, p, COAP_DTLS_PSK_MAX), 2);
	CHECK_EQ_STR(p[0].id, "ops");
	CHECK_EQ_INT(p[0].keylen, 16);
	CHECK_EQ_MEM(p[0].key, KEY_TEXT, 16);
	CHECK_EQ_STR(p[1].id, "lab");
	CHECK_EQ_INT(p[1].keylen, 2);
	CHECK_EQ_INT(p[1].key[1], 0xff);
	CHECK_EQ_INT(coap_dtls_parse_psk("", p, 4), 0);
	CHECK_EQ_INT(coap_dtls_parse_psk("none", p, 4), 0);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:AbCd", p, 4), 1);
	CHECK_EQ_INT(p[0].key[0], 0xab);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:abc", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk(":ab", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("abab", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:xy", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:ab,", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:ab,a:cd", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a b:ab", p, 4), -EINVAL);
	CHECK_EQ_INT(coap_dtls_parse_psk("a:ab,b:ab,c:ab", p, 2), -EINVAL);
	/* 32 bytes is the longest key */
	CHECK_EQ_INT(coap_dtls_parse_psk("k:0000000000000000000000000000000000"
					 "000000000000000000000000000000",
					 p, 4), 1);
	CHECK_EQ_INT(coap_dtls_parse_psk("k:0000000000000000000000000000000000"
					 "00000000000000000000000000000000",
					 p, 4), -EINVAL);
}

TEST(handshake_with_cookie_then_get_and_post)
{
	struct coap_msg rm;

	REQUIRE(setup() == 1);
	CHECK(srv.socks[0].secure);
	CHECK(srv.pub.dtls);
	REQUIRE(cli_open("ops", ops_key, 16) == 0);
	CHECK_EQ_INT(cli_handshake(), 0);
	CHECK_EQ_INT(srv.dtls.stats.hello_verify, 1);
	CHECK_EQ_INT(srv.dtls.stats.handshakes, 1);
	CHECK_EQ_INT(coap_dtls_sessions(&srv), 1);
	CHECK_EQ_STR(mbedtls_ssl_get_ciphersuite(&cl.ssl),
		     "TLS-PSK-WITH-AES-128-CCM-8");
	CHECK_EQ_INT(cli_call(COAP_GET, "status", 1, &rm), COAP_CODE_CONTENT);
	CHECK(rm.payload_len > 100); /* no amplification limit over DTLS */
	CHECK_EQ_INT(cli_call(COAP_POST, "reload", 2, &rm),
		     COAP_CODE_CHANGED);
	CHECK_EQ_INT(reloads, 1);
	/* the same message id again: the dedup table answers */
	CHECK_EQ_INT(cli_call(COAP_POST, "reload", 2, &rm),
		     COAP_CODE_CHANGED);
	CHECK_EQ_INT(reloads, 1);
	cli_close();
	coap_srv_stop(&srv);
	CHECK(!srv.dtls.ready);
}

TEST(unknown_identity_and_wrong_key_fail)
{
	static const uint8_t wrong[16] = "not-the-key-....";

	REQUIRE(setup() == 1);
	REQUIRE(cli_open("nobody", ops_key, 16) == 0);
	CHECK(cli_handshake() != 0);
	cli_close();
	CHECK_EQ_INT(srv.dtls.stats.failed, 1);
	client.port++;
	REQUIRE(cli_open("ops", wrong, sizeof wrong) == 0);
	CHECK(cli_handshake() != 0);
	cli_close();
	pump();
	CHECK_EQ_INT(srv.dtls.stats.failed, 2);
	CHECK_EQ_INT(srv.dtls.stats.handshakes, 0);
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		CHECK_EQ_INT(srv.dtls.sess[i].state, COAP_DTLS_FREE);
	CHECK_EQ_INT(reloads, 0);
	coap_srv_stop(&srv);
}

TEST(garbage_and_cookieless_hello_hold_no_session)
{
	uint8_t junk[300], out[COAP_DTLS_DGRAM_MAX];
	struct hal_addr to;
	unsigned hvr = 0;

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	for (unsigned i = 0; i < 50; i++) {
		client.port = (uint16_t)(41000 + i);
		CHECK_EQ_INT(hal_sim_net_inject_datagram(&srv.socks[0].addr,
			     &client, junk, 20 + i * 5), 0);
	}
	pump();
	CHECK_EQ_INT(srv.dtls.stats.dropped, 50);
	/* a client's first ClientHello from many addresses: each gets a
	 * HelloVerifyRequest and nothing is kept */
	cli_pumps = false;
	for (unsigned i = 0; i < 10; i++) {
		client.port = (uint16_t)(42000 + i);
		REQUIRE(cli_open("ops", ops_key, 16) == 0);
		CHECK_EQ_INT(mbedtls_ssl_handshake(&cl.ssl),
			     MBEDTLS_ERR_SSL_WANT_READ);
		pump();
		while (hal_sim_net_sent_datagram(srv.socks[0].fd, out,
						 sizeof out, &to) > 0)
			hvr += out[0] == 22 && out[13] == 3 && /* HVR */
			       coap_addr_eq(&to, &client);
		cli_close();
	}
	CHECK_EQ_INT(hvr, 10);
	CHECK_EQ_INT(srv.dtls.stats.hello_verify, 10);
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		CHECK_EQ_INT(srv.dtls.sess[i].state, COAP_DTLS_FREE);
	/* still serving */
	cli_pumps = true;
	client.port = 43000;
	REQUIRE(cli_open("ops", ops_key, 16) == 0);
	CHECK_EQ_INT(cli_handshake(), 0);
	cli_close();
	coap_srv_stop(&srv);
}

TEST(session_table_evicts_least_recent)
{
	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < COAP_DTLS_SESSIONS + 2; i++) {
		client.port = (uint16_t)(44000 + i);
		hal_sim_clock_advance(10);
		REQUIRE(cli_open("ops", ops_key, 16) == 0);
		CHECK_EQ_INT(cli_handshake(), 0);
		cli_close();
		CHECK(coap_dtls_sessions(&srv) <= COAP_DTLS_SESSIONS);
	}
	CHECK_EQ_INT(coap_dtls_sessions(&srv), COAP_DTLS_SESSIONS);
	CHECK_EQ_INT(srv.dtls.stats.evicted, 2);
	/* the two oldest went */
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		CHECK(srv.dtls.sess[i].state == COAP_DTLS_FREE ||
		      srv.dtls.sess[i].peer.port >= 44002);
	/* idle sessions are closed */
	hal_sim_clock_advance(COAP_DTLS_IDLE_MS);
	coap_srv_tick(&srv, hal_clock_mono_ms());
	CHECK_EQ_INT(coap_dtls_sessions(&srv), 0);
	coap_srv_stop(&srv);
}

TEST(stalled_handshake_times_out)
{
	uint32_t next;

	REQUIRE(setup() == 1);
	REQUIRE(cli_open("ops", ops_key, 16) == 0);
	/* ClientHello, HelloVerifyRequest, ClientHello with the cookie:
	 * the server answers its flight and waits */
	cli_pumps = false;
	CHECK_EQ_INT(mbedtls_ssl_handshake(&cl.ssl),
		     MBEDTLS_ERR_SSL_WANT_READ);
	pump();
	CHECK_EQ_INT(mbedtls_ssl_handshake(&cl.ssl),
		     MBEDTLS_ERR_SSL_WANT_READ);
	pump();
	cli_pumps = true;
	cli_close();
	CHECK_EQ_INT(srv.dtls.sess[0].state + srv.dtls.sess[1].state,
		     COAP_DTLS_HANDSHAKE);
	next = coap_srv_tick(&srv, hal_clock_mono_ms());
	CHECK(next <= COAP_DTLS_RETX_MIN_MS);
	for (unsigned t = 0; t < COAP_DTLS_HS_TIMEOUT_MS / 500 + 1; t++) {
		hal_sim_clock_advance(500);
		(void)coap_srv_tick(&srv, hal_clock_mono_ms());
	}
	CHECK_EQ_INT(srv.dtls.stats.failed, 1);
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		CHECK_EQ_INT(srv.dtls.sess[i].state, COAP_DTLS_FREE);
	coap_srv_stop(&srv);
}

TEST_SUITE(coap_dtls, parse_psk, handshake_with_cookie_then_get_and_post,
	   unknown_identity_and_wrong_key_fail,
	   garbage_and_cookieless_hello_hold_no_session,
	   session_table_evicts_least_recent, stalled_handshake_times_out);

/*
 * coap_dtls.c — see coap_dtls.h: DTLS 1.2 PSK sessions under the CoAP
 * server.  mbedTLS error codes stay in here; the server sees 0/-errno.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "hal/clock.h"
#include "crypto_platform.h"
#include "log.h"
#include "mbedtls/platform_util.h"

/* RFC 7252 §9.1.3.1 / RFC 7925 §4.2: CCM_8 is CoAP's mandatory suite;
 * GCM and CCM are what OpenSSL-based clients (libcoap) also offer. */
static const int dtls_suites[] = {
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8,
	MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM,
	MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
	0
};

/* ---- mbedTLS callbacks ---- */

/* UDP send on the session's socket.  A failed send is a lost datagram
 * (DTLS retransmits handshake flights; CoAP retransmits CONs), never
 * WANT_WRITE, which would make mbedTLS hold the record. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct coap_dtls_sess *t = ctx;
	const struct coap_srv_sock *k = &t->srv->socks[t->sock];

	if (k->fd >= 0 && hal_net_sendto(k->fd, buf, len, &t->peer) < 0)
		log_debug("coap", "dtls: send %zu bytes failed", len);
	return (int)len;
}

/* The datagram being fed, once; then "nothing yet". */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct coap_dtls_sess *t = ctx;
	size_t n = t->in_len;

	if (!t->in)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > len)
		n = len;  /* cut: the record will not authenticate */
	memcpy(buf, t->in, n);
	t->in = NULL;
	return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct coap_dtls_sess *t = ctx;

	t->tm_start_ms = hal_clock_mono_ms();
	t->tm_int_ms = int_ms;
	t->tm_fin_ms = fin_ms;
}

/* mbedtls_ssl_get_timer_t: -1 cancelled, 0 running, 1 intermediate
 * passed, 2 final passed. */
static int timer_get(void *ctx)
{
	const struct coap_dtls_sess *t = ctx;
	uint64_t el;

	if (t->tm_fin_ms == 0)
		return -1;
	el = hal_clock_mono_ms() - t->tm_start_ms;
	return el >= t->tm_fin_ms ? 2 : el >= t->tm_int_ms ? 1 : 0;
}

/* Copies an identity for the log: printable ASCII only, cut. */
static void id_text(const unsigned char *id, size_t len, char *out,
		    size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = id[i] > ' ' && id[i] <= '~' ? (char)id[i] : '?';
	out[n] = '\0';
}

static int psk_lookup(void *arg, mbedtls_ssl_context *ssl,
		      const unsigned char *id, size_t len)
{
	struct coap_srv *s = arg;
	struct coap_dtls_sess *t = mbedtls_ssl_get_user_data_p(ssl);
	const struct psk *k = psk_find(s->dtls.psk, s->dtls.npsk, id, len);
	char text[COAP_DTLS_ID_MAX + 1];

	if (k != NULL) {
		memcpy(t->identity, k->id, k->idlen + 1u);
		return mbedtls_ssl_set_hs_psk(ssl, k->key, k->keylen);
	}
	id_text(id, len, text, sizeof text);
	log_warn("coap", "dtls: unknown psk identity `%s`", text);
	return -1;
}

/* ---- sessions ---- */

static void sess_free(struct coap_dtls_sess *t)
{
	(void)mbedtls_ssl_session_reset(&t->ssl); /* only fails on an
		* allocation for a fresh handshake, which setup made */
	t->state = COAP_DTLS_FREE;
	t->in = NULL;
	t->tm_fin_ms = 0;
	t->identity[0] = '\0';
}

static void peer_text(const struct coap_dtls_sess *t, char *buf)
{
	(void)hal_net_addr_format(&t->peer, buf, HAL_ADDR_TEXT_MAX);
}

/* One handshake step on what has been fed. */
static void sess_handshake(struct coap_srv *s, struct coap_dtls_sess *t)
{
	char peer[HAL_ADDR_TEXT_MAX];
	int ret = mbedtls_ssl_handshake(&t->ssl);

	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return;
	if (ret == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
		s->dtls.stats.hello_verify++;
		sess_free(t);
		return;
	}
	peer_text(t, peer);
	if (ret == 0) {
		t->state = COAP_DTLS_UP;
		s->dtls.stats.handshakes++;
		log_info("coap", "dtls: session with %s, identity `%s`, %s",
			 peer, t->identity, mbedtls_ssl_get_ciphersuite(&t->ssl));
		return;
	}
	s->dtls.stats.failed++;
	log_warn("coap", "dtls: handshake with %s failed (mbedtls -0x%04x)",
		 peer, (unsigned)-ret);
	sess_free(t);
}

/* A DTLS 1.x ClientHello record in epoch 0: content type 22, version
 * 0xfe.., epoch 0 (bytes 3-4), handshake type 1 after the 13-byte
 * header. */
static bool is_client_hello(const uint8_t *buf, size_t len)
{
	return len > 13 + 12 && buf[0] == 22 && buf[1] == 0xfe &&
	       buf[3] == 0 && buf[4] == 0 && buf[13] == 1;
}

static struct coap_dtls_sess *sess_find(struct coap_srv *s, unsigned sock,
					const struct hal_addr *peer)
{
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		struct coap_dtls_sess *t = &s->dtls.sess[i];

		if (t->state != COAP_DTLS_FREE && t->sock == sock &&
		    coap_addr_eq(&t->peer, peer))
			return t;
	}
	return NULL;
}

/* After a new session: keep COAP_DTLS_SESSIONS, so one context stays
 * free.  The oldest handshake in progress goes first, else the least
 * recently active session (not keep). */
static void sess_limit(struct coap_srv *s, const struct coap_dtls_sess *keep)
{
	struct coap_dtls_sess *hs = NULL, *lru = NULL;
	char peer[HAL_ADDR_TEXT_MAX];
	unsigned used = 0;

	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		struct coap_dtls_sess *t = &s->dtls.sess[i];

		if (t->state == COAP_DTLS_FREE)
			continue;
		used++;
		if (t == keep)
			continue;
		if (t->state == COAP_DTLS_HANDSHAKE &&
		    (!hs || t->start_ms < hs->start_ms))
			hs = t;
		if (!lru || t->last_ms < lru->last_ms)
			lru = t;
	}
	if (used <= COAP_DTLS_SESSIONS || !lru)
		return;
	if (hs)
		lru = hs;
	peer_text(lru, peer);
	log_info("coap", "dtls: session table full: evicting %s", peer);
	if (lru->state == COAP_DTLS_UP)
		(void)mbedtls_ssl_close_notify(&lru->ssl); /* courtesy */
	s->dtls.stats.evicted++;
	sess_free(lru);
}

/* A ClientHello from a peer without a session. */
static void sess_new(struct coap_srv *s, unsigned sock,
		     const struct hal_addr *peer, const uint8_t *buf,
		     size_t len, uint64_t now_ms)
{
	struct coap_dtls_sess *t = NULL;
	uint8_t tid[1 + 2 + 16 + 4];

	for (unsigned i = 0; i < COAP_DTLS_CTX && !t; i++)
		if (s->dtls.sess[i].state == COAP_DTLS_FREE)
			t = &s->dtls.sess[i];
	if (!t)
		return;  /* cannot happen: sess_limit keeps one free */
	/* cookies bind to this: family, port, address, scope */
	tid[0] = peer->family;
	memcpy(tid + 1, &peer->port, 2);
	memcpy(tid + 3, peer->ip, 16);
	memcpy(tid + 19, &peer->scope, 4);
	if (mbedtls_ssl_set_client_transport_id(&t->ssl, tid, sizeof tid))
		return;
	t->state = COAP_DTLS_HANDSHAKE;
	t->sock = (uint8_t)sock;
	t->peer = *peer;
	t->start_ms = t->last_ms = now_ms;
	t->in = buf;
	t->in_len = len;
	sess_handshake(s, t);
	if (t->state != COAP_DTLS_FREE)
		sess_limit(s, t);
}

/* Application records: each plaintext is one CoAP message. */
static void sess_read(struct coap_srv *s, struct coap_dtls_sess *t,
		      uint64_t now_ms)
{
	for (unsigned i = 0; i < COAP_SRV_RX_BURST; i++) {
		int ret = mbedtls_ssl_read(&t->ssl, s->rx, sizeof s->rx);

		if (ret > 0 && (size_t)ret <= COAP_MAX_MSG) {
			s->dtls.peer_id = t->identity;
			coap_srv_datagram(s, t->sock, &t->peer, s->rx,
					  (size_t)ret, now_ms);
			s->dtls.peer_id = NULL;
			continue;
		}
		if (ret > 0)
			continue;  /* longer than a CoAP message: dropped */
		if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (ret == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
			/* a new ClientHello on the same address (a restarted
			 * client): mbedTLS has reset; handshake again */
			t->state = COAP_DTLS_HANDSHAKE;
			t->start_ms = now_ms;
			t->identity[0] = '\0';
			sess_handshake(s, t);
			return;
		}
		if (ret != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			log_debug("coap", "dtls: read: mbedtls -0x%04x",
				  (unsigned)-ret);
		sess_free(t);
		return;
	}
}

/* see coap_dtls.h */
void coap_dtls_datagram(struct coap_srv *s, unsigned sock,
			const struct hal_addr *peer, const uint8_t *buf,
			size_t len, uint64_t now_ms)
{
	struct coap_dtls_sess *t;

	if (!s->dtls.ready)
		return;
	t = sess_find(s, sock, peer);
	if (!t) {
		if (is_client_hello(buf, len))
			sess_new(s, sock, peer, buf, len, now_ms);
		else
			s->dtls.stats.dropped++;
		return;
	}
	t->in = buf;
	t->in_len = len;
	t->last_ms = now_ms;
	if (t->state == COAP_DTLS_HANDSHAKE)
		sess_handshake(s, t);
	if (t->state == COAP_DTLS_UP)
		sess_read(s, t, now_ms);
	t->in = NULL;
}

/* see coap_dtls.h */
int coap_dtls_send(struct coap_srv *s, unsigned sock,
		   const struct hal_addr *peer, const uint8_t *buf,
		   size_t len)
{
	struct coap_dtls_sess *t = s->dtls.ready ? sess_find(s, sock, peer)
						 : NULL;
	int ret;

	if (!t || t->state != COAP_DTLS_UP)
		return -EAGAIN;
	ret = mbedtls_ssl_write(&t->ssl, buf, len);
	if (ret >= 0)
		return 0;
	log_debug("coap", "dtls: write: mbedtls -0x%04x", (unsigned)-ret);
	sess_free(t);
	return -EIO;
}

/* One context's deadlines; returns ms to its next one (or max_ms). */
static uint32_t sess_tick(struct coap_srv *s, struct coap_dtls_sess *t,
			  uint64_t now_ms, uint32_t max_ms)
{
	char peer[HAL_ADDR_TEXT_MAX];
	uint64_t el;

	if (t->state == COAP_DTLS_UP) {
		el = now_ms - t->last_ms;
		if (el < COAP_DTLS_IDLE_MS)
			return COAP_DTLS_IDLE_MS - el < max_ms ?
			       (uint32_t)(COAP_DTLS_IDLE_MS - el) : max_ms;
		peer_text(t, peer);
		log_info("coap", "dtls: session with %s idle: closed", peer);
		(void)mbedtls_ssl_close_notify(&t->ssl);
		sess_free(t);
		return max_ms;
	}
	if (now_ms - t->start_ms >= COAP_DTLS_HS_TIMEOUT_MS) {
		peer_text(t, peer);
		log_warn("coap", "dtls: handshake with %s timed out", peer);
		s->dtls.stats.failed++;
		sess_free(t);
		return max_ms;
	}
	/* the handshake's deadline bounds the wait too */
	el = now_ms - t->start_ms;
	if (COAP_DTLS_HS_TIMEOUT_MS - el < max_ms)
		max_ms = (uint32_t)(COAP_DTLS_HS_TIMEOUT_MS - el);
	if (t->tm_fin_ms == 0)
		return max_ms;
	el = now_ms - t->tm_start_ms;
	if (el >= t->tm_fin_ms) {
		sess_handshake(s, t); /* retransmits, or fails */
		return t->tm_fin_ms && t->tm_fin_ms < max_ms ? t->tm_fin_ms
							    : max_ms;
	}
	return t->tm_fin_ms - el < max_ms ? (uint32_t)(t->tm_fin_ms - el)
					  : max_ms;
}

/* see coap_dtls.h */
uint32_t coap_dtls_tick(struct coap_srv *s, uint64_t now_ms,
			uint32_t max_ms)
{
	uint32_t next = max_ms;

	if (!s->dtls.ready)
		return max_ms;
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		if (s->dtls.sess[i].state != COAP_DTLS_FREE)
			next = sess_tick(s, &s->dtls.sess[i], now_ms, next);
	}
	return next;
}

/* see coap_dtls.h */
unsigned coap_dtls_sessions(const struct coap_srv *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		n += s->dtls.sess[i].state == COAP_DTLS_UP;
	return n;
}

static int conf_setup(struct coap_srv *s)
{
	mbedtls_ssl_config *c = &s->dtls.conf;

	if (mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT))
		return -EIO;
	mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_rng(c, crypto_rng, NULL);
	mbedtls_ssl_conf_ciphersuites(c, dtls_suites);
	mbedtls_ssl_conf_psk_cb(c, psk_lookup, s);
	mbedtls_ssl_conf_handshake_timeout(c, COAP_DTLS_RETX_MIN_MS,
					   COAP_DTLS_RETX_MAX_MS);
	if (mbedtls_ssl_cookie_setup(&s->dtls.cookie, crypto_rng, NULL))
		return -EIO;
	mbedtls_ssl_conf_dtls_cookies(c, mbedtls_ssl_cookie_write,
				      mbedtls_ssl_cookie_check,
				      &s->dtls.cookie);
	return 0;
}

/* see coap_dtls.h */
int coap_dtls_init(struct coap_srv *s, const char *psk)
{
	int ret;

	coap_dtls_free(s);
	ret = coap_dtls_set_keys(s, psk);
	if (ret < 0)
		return ret;
	mbedtls_ssl_config_init(&s->dtls.conf);
	mbedtls_ssl_cookie_init(&s->dtls.cookie);
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++)
		mbedtls_ssl_init(&s->dtls.sess[i].ssl);
	s->dtls.ready = true;  /* from here coap_dtls_free undoes it */
	if (conf_setup(s) < 0)
		goto fail;
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		struct coap_dtls_sess *t = &s->dtls.sess[i];

		if (mbedtls_ssl_setup(&t->ssl, &s->dtls.conf))
			goto fail;
		t->srv = s;
		mbedtls_ssl_set_user_data_p(&t->ssl, t);
		mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
		mbedtls_ssl_set_timer_cb(&t->ssl, t, timer_set, timer_get);
		mbedtls_ssl_set_mtu(&t->ssl, COAP_DTLS_DGRAM_MAX);
	}
	return 0;
fail:
	log_err("coap", "dtls: mbedTLS setup failed (arena too small?)");
	coap_dtls_free(s);
	return -EIO;
}

/* see coap_dtls.h */
void coap_dtls_free(struct coap_srv *s)
{
	if (!s->dtls.ready)
		return;
	for (unsigned i = 0; i < COAP_DTLS_CTX; i++) {
		mbedtls_ssl_free(&s->dtls.sess[i].ssl);
		s->dtls.sess[i].state = COAP_DTLS_FREE;
	}
	mbedtls_ssl_cookie_free(&s->dtls.cookie);
	mbedtls_ssl_config_free(&s->dtls.conf);
	mbedtls_platform_zeroize(s->dtls.psk, sizeof s->dtls.psk);
	s->dtls.npsk = 0;
	s->dtls.ready = false;
}

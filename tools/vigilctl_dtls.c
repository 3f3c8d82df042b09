/*
 * vigilctl_dtls.c — DTLS 1.2 with a pre-shared key (RFC 7252 §9.1.3.1,
 * RFC 7925) under the CoAP client of vigilctl_coap.h, on mbedTLS 3.6 with
 * the project's configuration (toolchain/vigil_mbedtls_config.h).
 *
 * One session per process (vigilctl makes one connection per run), so
 * the mbedTLS contexts are file statics.  The UDP socket is connect()ed
 * to the server, so only its datagrams reach mbedTLS.  Handshake
 * retransmission is mbedTLS's own (timer callbacks below over
 * CLOCK_MONOTONIC: min ACK_TIMEOUT, doubling up to the client's
 * timeout); CoAP's CON retransmission then runs on top of the session as
 * over plain UDP (DTLS does not retransmit application records).
 *
 * Cipher suites: TLS_PSK_WITH_AES_128_CCM_8 (RFC 7252's mandatory one),
 * then TLS_PSK_WITH_AES_128_GCM_SHA256 and TLS_PSK_WITH_AES_128_CCM.
 * mbedTLS allocates from a static arena (STYLE rule 5), not the C heap.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "mbedtls/entropy.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/ssl.h"
#include "psa/crypto.h"
#include "vigilctl_coap.h"

/* mbedTLS's heap: one DTLS client session needs its IN (16 KiB) and OUT
 * (4 KiB) record buffers, the handshake's flight buffer and ~10 KiB of
 * contexts and PSA key slots; 96 KiB leaves room. */
#define DTLS_ARENA_SIZE (96u * 1024u)
/* PSK size: RFC 4279 allows up to 64 bytes of key; identities up to 128
 * bytes fit every real use (RFC 7925 §4.2 suggests short ones). */
#define DTLS_PSK_MAX 64
#define DTLS_IDENTITY_MAX 128

static unsigned char arena[DTLS_ARENA_SIZE];
static mbedtls_ssl_context ssl;
static mbedtls_ssl_config conf;
static bool up;
static char why_buf[96];

static const int suites[] = {
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8,
	MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM,
	0
};

struct dtls_timer {
	uint64_t start_ms;
	uint32_t int_ms, fin_ms;      /* fin 0: cancelled */
};

static struct dtls_timer timer;

/* see vigilctl.h */
int vigilctl_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx; /* getrandom needs no state */
	while (len > 0) {
		ssize_t r = getrandom(out, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vigilctl: getrandom: %s\n",
				strerror(r < 0 ? errno : EIO));
			return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
		}
		out += r;
		len -= (size_t)r;
	}
	return 0;
}

/* The RNG of PSA (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG) is
 * firmware/crypto/crypto_platform.c's (getrandom through hal/rng),
 * linked into vigilctl with the restore client. */

static void set_timer(void *p, uint32_t int_ms, uint32_t fin_ms)
{
	struct dtls_timer *t = p;

	t->start_ms = vcoap_now_ms();
	t->int_ms = int_ms;
	t->fin_ms = fin_ms;
}

static int get_timer(void *p)
{
	const struct dtls_timer *t = p;
	uint64_t el = vcoap_now_ms() - t->start_ms;

	if (t->fin_ms == 0)
		return -1;
	return el >= t->fin_ms ? 2 : el >= t->int_ms ? 1 : 0;
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
	const struct vcoap *c = p;
	ssize_t n = send(c->fd, buf, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EINTR || errno == EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (errno == ECONNREFUSED)
		return (int)len; /* an earlier ICMP error: like a lost datagram */
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *p, unsigned char *buf, size_t len, uint32_t wait)
{
	const struct vcoap *c = p;
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	int r = poll(&pf, 1, wait ? (int)wait : -1);
	ssize_t n;

	if (r < 0)
		return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ :
		       MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	if (r == 0)
		return MBEDTLS_ERR_SSL_TIMEOUT;
	n = recv(c->fd, buf, len, 0);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ||
		       errno == ECONNREFUSED ? MBEDTLS_ERR_SSL_WANT_READ :
		       MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	return (int)n;
}

static const char *fail_text(const char *what, int ret)
{
	snprintf(why_buf, sizeof why_buf, "%s (mbedTLS -0x%04x)", what,
		 (unsigned)-ret);
	return why_buf;
}

/* Configures the client for key/identity.  @retval 0 / mbedTLS error */
static int configure(struct vcoap *c, const char *id, const char *key)
{
	int ret;

	mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
	if (psa_crypto_init() != PSA_SUCCESS)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return ret;
	mbedtls_ssl_conf_rng(&conf, vigilctl_rng, NULL);
	mbedtls_ssl_conf_ciphersuites(&conf, suites);
	mbedtls_ssl_conf_handshake_timeout(&conf, c->ack_timeout_ms,
					   c->timeout_ms);
	ret = mbedtls_ssl_conf_psk(&conf, (const unsigned char *)key,
				   strlen(key), (const unsigned char *)id,
				   strlen(id));
	if (ret)
		return ret;
	ret = mbedtls_ssl_setup(&ssl, &conf);
	if (ret)
		return ret;
	mbedtls_ssl_set_bio(&ssl, c, bio_send, NULL, bio_recv);
	mbedtls_ssl_set_timer_cb(&ssl, &timer, set_timer, get_timer);
	return 0;
}

/* see vigilctl_coap.h */
int vcoap_dtls_start(struct vcoap *c, const char *id, const char *key,
		     const char **why)
{
	uint64_t deadline = vcoap_now_ms() + c->timeout_ms;
	int ret;

	if (!id || !key || !*id || !*key || strlen(id) > DTLS_IDENTITY_MAX ||
	    strlen(key) > DTLS_PSK_MAX)
		return *why = "coaps:// needs --psk-identity (1-128 bytes) and "
			      "--psk-key (1-64 bytes)", -EINVAL;
	if (connect(c->fd, (const struct sockaddr *)&c->peer, c->peer_len))
		return *why = strerror(errno), -EIO;
	ret = configure(c, id, key);
	if (ret)
		return *why = fail_text("DTLS setup failed", ret), -EIO;
	do {
		ret = mbedtls_ssl_handshake(&ssl);
	} while ((ret == MBEDTLS_ERR_SSL_WANT_READ ||
		  ret == MBEDTLS_ERR_SSL_WANT_WRITE) &&
		 vcoap_now_ms() < deadline);
	if (ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return *why = "DTLS handshake did not complete in time (no "
			      "server, or one that drops a wrong PSK key)",
		       -ETIMEDOUT;
	if (ret)
		return *why = fail_text("DTLS handshake failed (wrong PSK "
					"identity or key?)", ret), -EIO;
	c->secure = true;
	up = true;
	return 0;
}

/* see vigilctl_coap.h */
int vcoap_dtls_send(struct vcoap *c, const uint8_t *buf, size_t len)
{
	int ret;

	(void)c; /* the session is the file's */
	do {
		ret = mbedtls_ssl_write(&ssl, buf, len);
	} while (ret == MBEDTLS_ERR_SSL_WANT_WRITE ||
		 ret == MBEDTLS_ERR_SSL_WANT_READ);
	return ret == (int)len ? 0 : -EIO;
}

/* see vigilctl_coap.h */
int vcoap_dtls_recv(struct vcoap *c, int wait_ms)
{
	int ret;

	mbedtls_ssl_conf_read_timeout(&conf, wait_ms < 0 ? 0u :
				      wait_ms == 0 ? 1u : (uint32_t)wait_ms);
	ret = mbedtls_ssl_read(&ssl, c->rx, sizeof c->rx);
	if (ret > 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_TIMEOUT)
		return 0;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return -EINTR; /* a signal: the caller looks at its flags */
	return ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ?
	       -ECONNRESET : -EIO;
}

/* see vigilctl_coap.h */
void vcoap_dtls_close(struct vcoap *c)
{
	(void)c; /* the session is the file's */
	if (!up)
		return;
	(void)mbedtls_ssl_close_notify(&ssl); /* best effort on exit */
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	up = false;
}

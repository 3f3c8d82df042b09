/*
 * vigilctl_exporter_dtls.c — one DTLS 1.2 PSK session per coaps:// device
 * of the exporter, non-blocking, on mbedTLS 3.6 (the suites and RNG of
 * vigilctl_dtls.c, whose blocking one-session client serves `status`).
 *
 * The device's socket is connect()ed, so only its datagrams reach the
 * session.  Nothing here waits: the BIO answers WANT_READ when the socket
 * is empty, the poll loop calls back on POLLIN or at the handshake timer
 * (exp_dtls_timer_ms), and CoAP's CON retransmission runs on top of the
 * session as over plain UDP.  mbedTLS allocates from the C heap here (one
 * session per device: its 16 KiB IN and 4 KiB OUT record buffers and
 * contexts, ~40 KiB), freed with the device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "psa/crypto.h"
#include "vigilctl.h"
#include "vigilctl_coap.h"
#include "vigilctl_exporter.h"

#define HANDSHAKE_MAX_MS 60000u

struct exp_dtls {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	uint64_t timer_start_ms;
	uint32_t int_ms, fin_ms;      /* fin 0: no timer */
	bool refused;                 /* ICMP port unreachable seen */
};

static const int suites[] = {
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8,
	MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_PSK_WITH_AES_128_CCM,
	0
};

static void set_timer(void *p, uint32_t int_ms, uint32_t fin_ms)
{
	struct exp_dtls *t = p;

	t->timer_start_ms = vcoap_now_ms();
	t->int_ms = int_ms;
	t->fin_ms = fin_ms;
}

static int get_timer(void *p)
{
	const struct exp_dtls *t = p;
	uint64_t el = vcoap_now_ms() - t->timer_start_ms;

	if (t->fin_ms == 0)
		return -1;
	return el >= t->fin_ms ? 2 : el >= t->int_ms ? 1 : 0;
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
	const struct exp_dev *d = p;
	ssize_t n = send(d->fd, buf, len, MSG_DONTWAIT);

	if (n >= 0)
		return (int)n;
	if (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED)
		return (int)len; /* like a lost datagram: retransmission */
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
	struct exp_dev *d = p;
	ssize_t n = recv(d->fd, buf, len, MSG_DONTWAIT);

	if (n >= 0)
		return (int)n;
	if (errno == ECONNREFUSED)
		d->dtls->refused = true;
	if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* see vigilctl_exporter.h */
int exp_dtls_init(void)
{
	mbedtls_platform_set_calloc_free(calloc, free);
	return psa_crypto_init() == PSA_SUCCESS ? 0 : -EIO;
}

static int configure(struct exp_dev *d)
{
	struct exp_dtls *t = d->dtls;
	int ret;

	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return ret;
	mbedtls_ssl_conf_rng(&t->conf, vigilctl_rng, NULL);
	mbedtls_ssl_conf_ciphersuites(&t->conf, suites);
	mbedtls_ssl_conf_handshake_timeout(&t->conf, COAP_ACK_TIMEOUT_MS,
					   HANDSHAKE_MAX_MS);
	ret = mbedtls_ssl_conf_psk(&t->conf, d->psk->key, d->psk->key_len,
				   (const unsigned char *)d->psk->id,
				   strlen(d->psk->id));
	if (ret)
		return ret;
	ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
	if (ret)
		return ret;
	mbedtls_ssl_set_bio(&t->ssl, d, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(&t->ssl, t, set_timer, get_timer);
	return 0;
}

/* see vigilctl_exporter.h */
int exp_dtls_new(struct exp_dev *d)
{
	d->dtls = calloc(1, sizeof *d->dtls);
	if (!d->dtls)
		return -ENOMEM;
	if (configure(d)) {
		exp_dtls_free(d);
		return -EIO;
	}
	return 0;
}

/* see vigilctl_exporter.h */
void exp_dtls_free(struct exp_dev *d)
{
	if (!d->dtls)
		return;
	mbedtls_ssl_free(&d->dtls->ssl);
	mbedtls_ssl_config_free(&d->dtls->conf);
	free(d->dtls);
	d->dtls = NULL;
}

/* see vigilctl_exporter.h */
int exp_dtls_handshake(struct exp_dev *d)
{
	int ret;

	if (!d->dtls)
		return -EIO;
	ret = mbedtls_ssl_handshake(&d->dtls->ssl);
	if (ret == 0)
		return 1;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;
	return -EIO; /* a timeout, an alert (unknown identity, wrong key) */
}

/* see vigilctl_exporter.h */
uint64_t exp_dtls_timer_ms(const struct exp_dev *d)
{
	const struct exp_dtls *t = d->dtls;

	if (!t || t->fin_ms == 0)
		return 0;
	/* the next retransmission (int) or the end (fin) */
	return t->timer_start_ms + (vcoap_now_ms() - t->timer_start_ms <
				    t->int_ms ? t->int_ms : t->fin_ms);
}

/* see vigilctl_exporter.h */
int exp_dtls_send(struct exp_dev *d, const uint8_t *buf, size_t len)
{
	int ret;

	if (!d->dtls || !d->dtls_up)
		return -EIO;
	ret = mbedtls_ssl_write(&d->dtls->ssl, buf, len);
	return ret == (int)len ? 0 : -EIO;
}

/* see vigilctl_exporter.h */
int exp_dtls_recv(struct exp_dev *d, uint8_t *buf, size_t cap)
{
	int ret;

	if (!d->dtls)
		return -EIO;
	d->dtls->refused = false;
	ret = mbedtls_ssl_read(&d->dtls->ssl, buf, cap);
	if (ret > 0)
		return ret;
	if (d->dtls->refused)
		return -ECONNREFUSED;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE ||
	    ret == MBEDTLS_ERR_SSL_TIMEOUT)
		return 0;
	return ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ?
	       -ECONNRESET : -EIO;
}

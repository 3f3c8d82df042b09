/*
 * backup_tls.c — see backup_tls.h: the backup client's TLS transport
 * over a non-blocking hal/net socket.
 */
#include "backup_tls.h"

#include "board.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "crypto_platform.h"
#include "hal/net.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "hal/storage.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform_util.h"

/* vigil/2 first: a vigil-backupd that knows it takes the clear payload
 * extension; any other server picks vigil/1 (pure v3) or ignores ALPN. */
static const char *tls_alpn[] = { BACKUP_TLS_ALPN_CLEAR, "vigil/1", NULL };

/* The suites offered, fastest first (vigil-backupd, like mbedTLS
 * servers, takes the client's order): AES-GCM where the CPU has AES
 * instructions, ChaCha20-Poly1305 where it has not (crypto.h).
 * With a PSK only PSK handshakes are offered, so a server that does not
 * know the key cannot fall back to a certificate we could not check:
 * TLS 1.3's suites (the PSK key exchange is chosen separately) and TLS
 * 1.2's ephemeral PSK suites. */
static const int tls_suites_aes[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};
static const int tls_suites_chacha[] = {
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	0
};
static const int tls_psk_suites_aes[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
	0
};
static const int tls_psk_suites_chacha[] = {
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
	0
};

static const int *tls_suites(int psk)
{
	int aes = crypto_aes_is_fast();

	if (psk)
		return aes ? tls_psk_suites_aes : tls_psk_suites_chacha;
	return aes ? tls_suites_aes : tls_suites_chacha;
}

/* Sends the collected records.  @retval 0 all sent  @retval -EAGAIN
 * some are left  @retval <0 socket error */
static int tls_flush(struct backup_tls *t)
{
	while (t->out_sent < t->out_len) {
		int n = hal_net_send(t->fd, t->out + t->out_sent,
				     t->out_len - t->out_sent);

		if (n < 0)
			return n;
		t->out_sent += (size_t)n;
		t->raw_out += (uint64_t)n;
	}
	t->out_len = t->out_sent = 0;
	return 0;
}

/* mbedTLS's send callback: collects the record in out[], sending what
 * is there first when it does not fit (see backup_tls.h). */
static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct backup_tls *t = ctx;
	int ret = 0;

	if (len > sizeof t->out - t->out_len)
		ret = tls_flush(t);
	if (ret == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (ret < 0)
		return MBEDTLS_ERR_NET_SEND_FAILED;
	if (len > sizeof t->out)        /* a record larger than out[] */
		len = sizeof t->out;
	memcpy(t->out + t->out_len, buf, len);
	t->out_len += len;
	return (int)len;
}

/* Sends the collected records before a call returns or waits.
 * @retval 0 sent  @retval -EAGAIN t->want is WRITE  @retval -EIO */
static int tls_send_collected(struct backup_tls *t, const char *during)
{
	int ret = tls_flush(t);

	if (ret == -EAGAIN) {
		t->want = BACKUP_TLS_WANT_WRITE;
		return -EAGAIN;
	}
	if (ret < 0) {
		snprintf(t->err, sizeof t->err, "%s: send: %s", during,
			 strerror(-ret));
		return -EIO;
	}
	return 0;
}

static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct backup_tls *t = ctx;
	int n = hal_net_recv(t->fd, buf, len);

	if (n == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n < 0)
		return MBEDTLS_ERR_NET_RECV_FAILED;
	t->raw_in += (uint64_t)n;
	return n;       /* 0: EOF, which mbedTLS reports as CONN_EOF */
}

/* Parses one PEM (or DER) file into a certificate chain (crt) or a key.
 * The file is read into a static buffer (one thread) wiped afterwards. */
static int tls_parse_file(struct backup_tls *t, const char *what,
			  const char *path, mbedtls_x509_crt *crt)
{
	static unsigned char pem[BACKUP_TLS_PEM_MAX];
	int n = hal_storage_read(path, pem, sizeof pem - 1), ret;
	size_t used;

	if (n <= 0) {
		snprintf(t->err, sizeof t->err, "cannot read %s %s: %s", what,
			 path, n == 0 ? "empty file"
			 : n == -EMSGSIZE ? "too large" : strerror(-n));
		return -EIO;
	}
	pem[n] = '\0';  /* PEM parsers want the NUL counted in the length */
	used = (size_t)n + 1;
	if (strstr((const char *)pem, "-----BEGIN") != NULL)
		n++;
	if (crt != NULL)
		ret = mbedtls_x509_crt_parse(crt, pem, (size_t)n);
	else
		ret = mbedtls_pk_parse_key(&t->key, pem, (size_t)n, NULL, 0,
					   crypto_rng, NULL);
	/* Wipe what was read (a key), not all 16 KiB: that made every page
	 * of pem resident for good; the whole pages then go back to the
	 * kernel, to be read as zeros. */
	mbedtls_platform_zeroize(pem, used);
	hal_mem_discard(pem, sizeof pem);
	if (ret != 0) {
		snprintf(t->err, sizeof t->err, "cannot parse %s %s "
			 "(mbedTLS -0x%04x)", what, path, (unsigned)-ret);
		return -EIO;
	}
	return 0;
}

#ifdef BOARD_TEST_CLOCK
/* mbedTLS judged the certificate's dates by time(); the HAL's wall clock
 * carries the test clock offset (hal/linux/clock.c), so the dates are
 * judged again by it: one clock for the agent, in tests too.  On a device
 * the two are the same clock and this is not built. */
static void tls_redate(const mbedtls_x509_crt *crt, uint32_t *flags)
{
	mbedtls_x509_time now;

	if (mbedtls_x509_time_gmtime((mbedtls_time_t)(hal_clock_wall_ms() /
						     1000), &now) != 0)
		return;
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED |
			      MBEDTLS_X509_BADCERT_FUTURE);
	if (mbedtls_x509_time_cmp(&crt->valid_to, &now) < 0)
		*flags |= MBEDTLS_X509_BADCERT_EXPIRED;
	if (mbedtls_x509_time_cmp(&crt->valid_from, &now) > 0)
		*flags |= MBEDTLS_X509_BADCERT_FUTURE;
}
#else
static void tls_redate(const mbedtls_x509_crt *crt, uint32_t *flags)
{
	(void)crt;      /* mbedTLS's time() is the HAL's wall clock */
	(void)flags;
}
#endif

/* Called for each certificate of the server's chain, the server's own
 * (depth 0) last: remembers that the whole chain verified. */
static int tls_vrfy(void *ctx, mbedtls_x509_crt *crt, int depth,
		    uint32_t *flags)
{
	struct backup_tls *t = ctx;

	tls_redate(crt, flags);
	t->vflags |= *flags;
	t->cert_seen = 1;
	if (depth == 0)
		t->server_ok = t->vflags == 0;
	return 0;
}

static int tls_conf(struct backup_tls *t)
{
	mbedtls_ssl_config *c = &t->conf;
	int psk = t->psk.idlen != 0;

	if (mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
	    mbedtls_ssl_conf_alpn_protocols(c, tls_alpn) != 0 ||
	    (t->have_cert &&
	     mbedtls_ssl_conf_own_cert(c, &t->crt, &t->key) != 0) ||
	    (psk && mbedtls_ssl_conf_psk(c, t->psk.key, t->psk.keylen,
					 (const unsigned char *)t->psk.id,
					 t->psk.idlen) != 0)) {
		snprintf(t->err, sizeof t->err, "TLS configuration failed");
		return -EIO;
	}
	mbedtls_ssl_conf_rng(c, crypto_rng, NULL);
	mbedtls_ssl_conf_min_tls_version(c, t->allow_tls12
					 ? MBEDTLS_SSL_VERSION_TLS1_2
					 : MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(c, tls_suites(psk));
	if (psk) {
		/* no certificate can come: see tls_psk_suites */
		mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
		mbedtls_ssl_conf_tls13_key_exchange_modes(c,
			MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ALL);
	} else {
		mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(c, &t->ca, NULL);
		mbedtls_ssl_conf_verify(c, tls_vrfy, t);
	}
	mbedtls_ssl_conf_session_tickets(c, psk
		? MBEDTLS_SSL_SESSION_TICKETS_DISABLED
		: MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(c, psk
		? MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_DISABLED
		: MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	return 0;
}

static int is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Checks which settings go together and parses the PSK; fills t->err.
 * @retval 0  @retval -EINVAL */
static int tls_check_opts(struct backup_tls *t, const struct backup_tls_opts *o)
{
	const char *why = NULL;

	if (is_set(o->cert) != is_set(o->key))
		why = "tls.cert and tls.key go together: give both or neither";
	else if (is_set(o->psk) && is_set(o->cert))
		why = "tls.psk and tls.cert are two ways to authenticate: "
		      "set one of them";
	else if (!is_set(o->psk) && !is_set(o->ca))
		why = "tls:// needs a CA file (tls.ca / --tls-ca) to verify "
		      "the server, or a pre-shared key (tls.psk)";
	else if (is_set(o->psk) &&
		 psk_parse(o->psk, strlen(o->psk), &t->psk) < 0)
		why = "tls.psk is not identity:hexkey (identity 1-64 "
		      "printable characters, key 1-32 bytes in hex)";
	if (why == NULL)
		return 0;
	snprintf(t->err, sizeof t->err, "%s", why);
	return -EINVAL;
}

/* see backup_tls.h */
int backup_tls_load(struct backup_tls *t, const struct backup_tls_opts *o)
{
	int ret;

	mem_clear(t, sizeof *t);        /* out[] stays out of the RSS */
	t->fd = -1;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_x509_crt_init(&t->crt);
	mbedtls_pk_init(&t->key);
	mbedtls_ssl_session_init(&t->ticket);
	t->loaded = 1;
	ret = tls_check_opts(t, o);
	if (ret < 0)
		return ret;
	t->have_cert = is_set(o->cert);
	t->allow_tls12 = o->allow_tls12;
	if (!is_set(o->psk))
		ret = tls_parse_file(t, "tls.ca", o->ca, &t->ca);
	if (ret == 0 && t->have_cert)
		ret = tls_parse_file(t, "tls.cert", o->cert, &t->crt);
	if (ret == 0 && t->have_cert)
		ret = tls_parse_file(t, "tls.key", o->key, NULL);
	if (ret == 0 && t->have_cert &&
	    mbedtls_pk_check_pair(&t->crt.pk, &t->key, crypto_rng, NULL) != 0) {
		snprintf(t->err, sizeof t->err, "tls.key %s does not match "
			 "tls.cert %s", o->key, o->cert);
		ret = -EIO;
	}
	return ret == 0 ? tls_conf(t) : ret;
}

/* see backup_tls.h */
int backup_tls_start(struct backup_tls *t, int fd, const char *hostname)
{
	backup_tls_stop(t);
	t->fd = fd;
	t->want = 0;
	t->out_len = t->out_sent = 0;
	t->rx_plain = t->server_ok = t->cert_seen = 0;
	t->offered = t->resumed = t->dropped = 0;
	t->started_ms = hal_clock_mono_ms();
	t->vflags = 0;
	t->err[0] = '\0';
	mbedtls_ssl_init(&t->ssl);
	t->live = 1;
	if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0 ||
	    mbedtls_ssl_set_hostname(&t->ssl, hostname) != 0) {
		snprintf(t->err, sizeof t->err, "TLS setup failed "
			 "(out of crypto memory)");
		return -EIO;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, tls_bio_send, tls_bio_recv, NULL);
	/* a ticket the server no longer knows just means a full handshake */
	if (t->have_ticket && mbedtls_ssl_set_session(&t->ssl, &t->ticket) != 0)
		t->have_ticket = 0;
	t->offered = t->have_ticket;
	return 0;
}

/* The reason of a certificate verification failure, from its flags. */
static const char *tls_verify_text(uint32_t flags)
{
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		return "its name does not match the server address";
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		return "it has expired";
	if (flags & MBEDTLS_X509_BADCERT_FUTURE)
		return "it is not valid yet";
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return "not signed by a CA in tls.ca";
	return "rejected";
}

/* The fatal alert the server sent, by its TLS 1.3 code.  mbedTLS has no
 * public accessor; the record is still in the input buffer. */
static const char *tls_alert_text(const struct backup_tls *t)
{
	const unsigned char *m = t->ssl.MBEDTLS_PRIVATE(in_msg);

	if (m == NULL || t->ssl.MBEDTLS_PRIVATE(in_msgtype) !=
			     MBEDTLS_SSL_MSG_ALERT)
		return "a fatal alert";
	switch (m[1]) {
	case MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED:
		return "certificate_required";
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
		return "bad_certificate";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
		return "unknown_ca";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
		return "protocol_version";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
		return "internal_error";
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
		return t->allow_tls12 ? "handshake_failure"
		       : "handshake_failure; TLS 1.2 only? see tls.min_version";
	default:
		return "a fatal alert";
	}
}

/* The connection broke after the server had our certificate (or saw
 * that we have none) and before it sent anything more.  A TLS 1.3
 * server checks the client certificate last; when it refuses it, its
 * alert (under keys we no longer use) and close race our next record,
 * so a reset or a failed MAC is all we see. */
static int tls_refused(const struct backup_tls *t, int ret)
{
	if (ret != MBEDTLS_ERR_SSL_CONN_EOF &&
	    ret != MBEDTLS_ERR_NET_RECV_FAILED &&
	    ret != MBEDTLS_ERR_NET_SEND_FAILED &&
	    ret != MBEDTLS_ERR_SSL_INVALID_MAC)
		return 0;
	return !t->rx_plain && t->server_ok;
}

/* What our side may have got wrong, for a refusal. */
static const char *tls_refusal_hint(const struct backup_tls *t)
{
	if (t->psk.idlen)
		return "; unknown tls.psk identity or key?";
	return t->have_cert ? "" : "; no client certificate configured "
				   "(tls.cert, tls.key)";
}

/* Fills t->err for an mbedTLS failure; returns -EIO. */
static int tls_fail(struct backup_tls *t, const char *during, int ret)
{
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || tls_refused(t, ret)) {
		snprintf(t->err, sizeof t->err, "the server refused the TLS "
			 "connection (%s)%s",
			 ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
			 ? tls_alert_text(t)
			 : "closed it after our certificate: not trusted?",
			 tls_refusal_hint(t));
		return -EIO;
	}
	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		snprintf(t->err, sizeof t->err, "server certificate "
			 "verification failed: %s", tls_verify_text(
				 mbedtls_ssl_get_verify_result(&t->ssl)));
		break;
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_RECV_FAILED:
	case MBEDTLS_ERR_NET_SEND_FAILED:
		snprintf(t->err, sizeof t->err, "connection lost during %s%s",
			 during, t->psk.idlen && !t->done ? tls_refusal_hint(t)
							  : "");
		break;
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
		snprintf(t->err, sizeof t->err, "the server does not speak "
			 "%s", t->allow_tls12 ? "TLS 1.2 or 1.3"
			 : "TLS 1.3 (tls.min_version = 1.2 allows TLS 1.2)");
		break;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		snprintf(t->err, sizeof t->err, "out of crypto memory during %s",
			 during);
		break;
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
		snprintf(t->err, sizeof t->err, "TLS handshake failed: no "
			 "common suite or key exchange%s", tls_refusal_hint(t));
		break;
	default:
		snprintf(t->err, sizeof t->err, "TLS error during %s "
			 "(mbedTLS -0x%04x)", during, (unsigned)-ret);
	}
	return -EIO;
}

/* Maps WANT_READ/WANT_WRITE to -EAGAIN and t->want. */
static int tls_want(struct backup_tls *t, int ret)
{
	if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
		t->want = BACKUP_TLS_WANT_READ;
		return -EAGAIN;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->want = BACKUP_TLS_WANT_WRITE;
		return -EAGAIN;
	}
	return 0;
}

/* Saves the session the server just sent a ticket for. */
static void tls_save_ticket(struct backup_tls *t)
{
	mbedtls_ssl_session_free(&t->ticket);
	mbedtls_ssl_session_init(&t->ticket);
	t->have_ticket = hal_clock_mono_ms() >= t->no_resume_until_ms &&
			 mbedtls_ssl_get_session(&t->ssl, &t->ticket) == 0;
	t->rx_plain = 1;        /* the server accepted us */
}

/* TLS 1.2 has no post-handshake ticket message to react to: the session
 * (with the ticket the server sent in the handshake) is saved now. */
static void tls12_save_session(struct backup_tls *t)
{
	if (t->psk.idlen == 0 && mbedtls_ssl_get_version_number(&t->ssl) ==
				   MBEDTLS_SSL_VERSION_TLS1_2)
		tls_save_ticket(t);
}

/* see backup_tls.h */
int backup_tls_handshake(struct backup_tls *t)
{
	for (;;) {
		int ret = mbedtls_ssl_handshake(&t->ssl);
		/* our flight goes out before we wait for the server's */
		int sent = tls_send_collected(t, "the TLS handshake");

		if (sent == -EIO)
			return sent;
		if (sent == -EAGAIN && (ret == 0 ||
		    ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE))
			return sent;    /* called again once it is out */
		if (ret == 0) {
			t->done = 1;
			/* a resumed handshake verifies no certificate */
			t->resumed = t->offered && !t->cert_seen;
			metric_add(t->resumed ? M_TLS_RESUMED_MS : M_TLS_FULL_MS,
				   hal_clock_mono_ms() - t->started_ms);
			tls12_save_session(t);
			return 0;
		}
		if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			tls_save_ticket(t);
			continue;
		}
		if (tls_want(t, ret) == -EAGAIN)
			return -EAGAIN;
		return tls_fail(t, "the TLS handshake", ret);
	}
}

/* see backup_tls.h */
int backup_tls_read(struct backup_tls *t, void *buf, size_t len)
{
	int sent = tls_send_collected(t, "a TLS read");

	if (sent < 0)
		return sent;    /* the request goes out before its answer */
	for (;;) {
		int n = mbedtls_ssl_read(&t->ssl, buf, len);

		if (n > 0)
			t->rx_plain = 1;
		if (n >= 0)
			return n;
		if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			tls_save_ticket(t);
			continue;
		}
		if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    n == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0;
		if (tls_want(t, n) == -EAGAIN)
			return -EAGAIN;
		return tls_fail(t, "a TLS read", n);
	}
}

/* see backup_tls.h */
int backup_tls_write(struct backup_tls *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;
	int n = 0, sent = tls_send_collected(t, "a TLS write");

	if (sent < 0)
		return sent;
	while (done < len) {
		n = mbedtls_ssl_write(&t->ssl, p + done, len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* What mbedTLS has not taken (n < 0) is the caller's to offer again
	 * from p + done; what it took goes out now, or at the next call. */
	sent = tls_send_collected(t, "a TLS write");
	if (sent == -EIO)
		return sent;
	if (done > 0)
		return (int)done;
	if (sent == -EAGAIN)
		return sent;
	if (tls_want(t, n) == -EAGAIN)
		return -EAGAIN;
	return tls_fail(t, "a TLS write", n);
}

/* see backup_tls.h */
size_t backup_tls_pending(const struct backup_tls *t)
{
	return t->live && t->done ? mbedtls_ssl_get_bytes_avail(&t->ssl) : 0;
}

/* see backup_tls.h */
const char *backup_tls_version(const struct backup_tls *t)
{
	return t->live && t->done ? mbedtls_ssl_get_version(&t->ssl) : "";
}

/* see backup_tls.h */
const char *backup_tls_cipher(const struct backup_tls *t)
{
	const char *s = t->live && t->done
		? mbedtls_ssl_get_ciphersuite(&t->ssl) : NULL;

	return s != NULL ? s : "";
}

/* see backup_tls.h */
const char *backup_tls_alpn(const struct backup_tls *t)
{
	const char *s = t->live && t->done
		? mbedtls_ssl_get_alpn_protocol(&t->ssl) : NULL;

	return s != NULL ? s : "";
}

/* The handshake offering the saved session did not complete.  Whatever
 * the reason (a server that refuses resumption with a fatal alert, a
 * reset, a timeout), offering the same session again would most likely
 * fail the same way, and for a terminator that never resumes it fails
 * forever: forget it, so the next handshake is a full one. */
static void tls_drop_session(struct backup_tls *t)
{
	mbedtls_ssl_session_free(&t->ticket);
	mbedtls_ssl_session_init(&t->ticket);
	t->have_ticket = 0;
	t->dropped = 1;
	t->resume_failures++;
	t->no_resume_until_ms = hal_clock_mono_ms() +
				BACKUP_TLS_RESUME_PAUSE_MS;
	log_warn("backup", "TLS: the handshake resuming the saved session "
		 "failed (%s); session dropped, full handshakes for %u h",
		 t->err[0] ? t->err : "not completed",
		 BACKUP_TLS_RESUME_PAUSE_MS / 3600000u);
}

/* see backup_tls.h */
void backup_tls_stop(struct backup_tls *t)
{
	if (!t->live)
		return;
	if (t->done) {  /* best effort, no waiting */
		(void)mbedtls_ssl_close_notify(&t->ssl);
		(void)tls_flush(t);
	} else if (t->offered) {
		tls_drop_session(t);
	}
	t->out_len = t->out_sent = 0;
	mbedtls_ssl_free(&t->ssl);
	t->live = t->done = 0;
	t->fd = -1;
}

/* see backup_tls.h */
int backup_tls_take_dropped(struct backup_tls *t)
{
	int d = t->dropped;

	t->dropped = 0;
	return d;
}

/* see backup_tls.h */
void backup_tls_free(struct backup_tls *t)
{
	if (!t->loaded)
		return;
	backup_tls_stop(t);
	mbedtls_platform_zeroize(&t->psk, sizeof t->psk);
	mbedtls_ssl_session_free(&t->ticket);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_x509_crt_free(&t->crt);
	mbedtls_pk_free(&t->key);
	t->loaded = t->have_ticket = 0;
}

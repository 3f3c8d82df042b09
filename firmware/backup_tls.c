/*
 * backup_tls.c — see backup_tls.h: the backup client's TLS 1.3
 * transport over a non-blocking hal/net socket.
 */
#include "backup_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "hal/net.h"
#include "hal/storage.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform_util.h"

static const char *tls_alpn[] = { "vigil/1", NULL };

static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct backup_tls *t = ctx;
	int n = hal_net_send(t->fd, buf, len);

	if (n == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (n < 0)
		return MBEDTLS_ERR_NET_SEND_FAILED;
	t->raw_out += (uint64_t)n;
	return n;
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

	if (n <= 0) {
		snprintf(t->err, sizeof t->err, "cannot read %s %s: %s", what,
			 path, n == 0 ? "empty file"
			 : n == -EMSGSIZE ? "too large" : strerror(-n));
		return -EIO;
	}
	pem[n] = '\0';  /* PEM parsers want the NUL counted in the length */
	if (strstr((const char *)pem, "-----BEGIN") != NULL)
		n++;
	if (crt != NULL)
		ret = mbedtls_x509_crt_parse(crt, pem, (size_t)n);
	else
		ret = mbedtls_pk_parse_key(&t->key, pem, (size_t)n, NULL, 0,
					   crypto_rng, NULL);
	mbedtls_platform_zeroize(pem, sizeof pem);
	if (ret != 0) {
		snprintf(t->err, sizeof t->err, "cannot parse %s %s "
			 "(mbedTLS -0x%04x)", what, path, (unsigned)-ret);
		return -EIO;
	}
	return 0;
}

/* Called for each certificate of the server's chain, the server's own
 * (depth 0) last: remembers that the whole chain verified. */
static int tls_vrfy(void *ctx, mbedtls_x509_crt *crt, int depth,
		    uint32_t *flags)
{
	struct backup_tls *t = ctx;

	(void)crt; /* the flags say everything */
	t->vflags |= *flags;
	t->cert_seen = 1;
	if (depth == 0)
		t->server_ok = t->vflags == 0;
	return 0;
}

static int tls_conf(struct backup_tls *t)
{
	mbedtls_ssl_config *c = &t->conf;

	if (mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
	    mbedtls_ssl_conf_alpn_protocols(c, tls_alpn) != 0 ||
	    (t->have_cert &&
	     mbedtls_ssl_conf_own_cert(c, &t->crt, &t->key) != 0)) {
		snprintf(t->err, sizeof t->err, "TLS configuration failed");
		return -EIO;
	}
	mbedtls_ssl_conf_rng(c, crypto_rng, NULL);
	mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(c, &t->ca, NULL);
	mbedtls_ssl_conf_verify(c, tls_vrfy, t);
	mbedtls_ssl_conf_session_tickets(c, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
		c, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	return 0;
}

/* see backup_tls.h */
int backup_tls_load(struct backup_tls *t, const char *ca, const char *cert,
		    const char *key)
{
	int ret;

	memset(t, 0, sizeof *t);
	t->fd = -1;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_x509_crt_init(&t->crt);
	mbedtls_pk_init(&t->key);
	mbedtls_ssl_session_init(&t->ticket);
	t->loaded = 1;
	if (ca == NULL || !ca[0]) {
		snprintf(t->err, sizeof t->err, "tls:// needs a CA file "
			 "(tls.ca / --tls-ca) to verify the server");
		return -EINVAL;
	}
	if ((cert == NULL || !cert[0]) != (key == NULL || !key[0])) {
		snprintf(t->err, sizeof t->err, "tls.cert and tls.key go "
			 "together: give both or neither");
		return -EINVAL;
	}
	t->have_cert = cert != NULL && cert[0];
	ret = tls_parse_file(t, "tls.ca", ca, &t->ca);
	if (ret == 0 && t->have_cert)
		ret = tls_parse_file(t, "tls.cert", cert, &t->crt);
	if (ret == 0 && t->have_cert)
		ret = tls_parse_file(t, "tls.key", key, NULL);
	if (ret == 0 && t->have_cert &&
	    mbedtls_pk_check_pair(&t->crt.pk, &t->key, crypto_rng, NULL) != 0) {
		snprintf(t->err, sizeof t->err, "tls.key %s does not match "
			 "tls.cert %s", key, cert);
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
	t->rx_plain = t->server_ok = t->cert_seen = 0;
	t->offered = t->resumed = 0;
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
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
		return "handshake_failure";
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

/* Fills t->err for an mbedTLS failure; returns -EIO. */
static int tls_fail(struct backup_tls *t, const char *during, int ret)
{
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || tls_refused(t, ret)) {
		snprintf(t->err, sizeof t->err, "the server refused the TLS "
			 "connection (%s)%s",
			 ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
			 ? tls_alert_text(t)
			 : "closed it after our certificate: not trusted?",
			 t->have_cert ? "" : "; no client certificate "
			 "configured (tls.cert, tls.key)");
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
		snprintf(t->err, sizeof t->err, "connection lost during %s",
			 during);
		break;
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
		snprintf(t->err, sizeof t->err, "the server does not speak "
			 "TLS 1.3");
		break;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		snprintf(t->err, sizeof t->err, "out of crypto memory during %s",
			 during);
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
	t->have_ticket = mbedtls_ssl_get_session(&t->ssl, &t->ticket) == 0;
	t->rx_plain = 1;        /* the server accepted us */
}

/* see backup_tls.h */
int backup_tls_handshake(struct backup_tls *t)
{
	for (;;) {
		int ret = mbedtls_ssl_handshake(&t->ssl);

		if (ret == 0) {
			t->done = 1;
			/* a resumed handshake verifies no certificate */
			t->resumed = t->offered && !t->cert_seen;
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
	int n = mbedtls_ssl_write(&t->ssl, buf, len);

	if (n >= 0)
		return n;
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
void backup_tls_stop(struct backup_tls *t)
{
	if (!t->live)
		return;
	if (t->done)
		(void)mbedtls_ssl_close_notify(&t->ssl); /* best effort */
	mbedtls_ssl_free(&t->ssl);
	t->live = t->done = 0;
	t->fd = -1;
}

/* see backup_tls.h */
void backup_tls_free(struct backup_tls *t)
{
	if (!t->loaded)
		return;
	backup_tls_stop(t);
	mbedtls_ssl_session_free(&t->ticket);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_x509_crt_free(&t->crt);
	mbedtls_pk_free(&t->key);
	t->loaded = t->have_ticket = 0;
}

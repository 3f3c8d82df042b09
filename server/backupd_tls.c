/*
 * backupd_tls.c — the TLS transport (mbedTLS, non-blocking, mutual
 * authentication by X.509 certificates or pre-shared keys) and the
 * transport-neutral I/O of a connection.
 *
 * TLS 1.3 only, unless --tls-min-version 1.2.  Client certificates are
 * required and checked against --tls-ca, or the client proves a key of
 * the --tls-psk file (with (EC)DHE, never plain PSK in TLS 1.3); the
 * server issues session tickets so agents resume without a full
 * handshake.  Each TLS connection owns one heap block: the
 * mbedtls_ssl_context (record buffers of MBEDTLS_SSL_IN/OUT_CONTENT_LEN,
 * about 21 KiB) and a 32 KiB read-ahead buffer, freed when it closes:
 * bounded by --max-conns.
 */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"

#include "log.h"
#include "metrics.h"
#include "psk.h"

#define MOD "tls"
/* Our PEM files are < 1 KiB each; a CA bundle of a few dozen fits. */
#define BD_PEM_MAX 65536u

static mbedtls_ssl_config bd_conf;
static mbedtls_x509_crt bd_ca, bd_crt;
static mbedtls_pk_context bd_key;
static mbedtls_ssl_ticket_context bd_ticket;
static int bd_tls_ready;
static struct bd_tls_counts bd_counts;
/* The connection whose handshake step runs (bd_tls_handshake): the
 * ticket callbacks get no ssl context to find it from. */
static struct bd_conn *bd_tls_cur;
/* Our preference first: mbedTLS picks the first of ours the client also
 * offers.  "vigil/2" turns on the clear payload extension (c->clear). */
#define BD_ALPN_CLEAR "vigil/2"
static const char *bd_alpn[] = { BD_ALPN_CLEAR, "vigil/1", NULL };

static int bd_tls_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return bd_random(out, len) == 0 ? 0 : -1;
}

/* A short text for the mbedTLS errors a server sees most (ERROR_C is off
 * in the project's configuration). */
static const char *bd_tls_err(int ret)
{
	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		return "client certificate verification failed";
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
		return "no client certificate";
	case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
		return "unknown PSK identity";
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
		return "protocol version not accepted (see --tls-min-version)";
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
		return "handshake failure";
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
		return "not a TLS record";
	case MBEDTLS_ERR_SSL_DECODE_ERROR:
		return "malformed handshake message";
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		return "peer sent a fatal alert";
	case MBEDTLS_ERR_SSL_CONN_EOF:
		return "peer closed";
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		return "out of memory";
	default:
		return "TLS error";
	}
}

/* Reads path into buf (NUL-terminated, as mbedTLS's PEM parser wants).
 * @retval >0 length including the NUL  @retval <0 -errno */
static int bd_read_pem(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n == 0 || n == cap - 1)
		return -EMSGSIZE;
	buf[n] = '\0';
	return (int)(n + 1);
}

/* Loads a certificate chain (is_key 0) or a private key (1).
 * @retval 0  @retval -1 (logged) */
static int bd_load(const char *what, const char *path, int is_key)
{
	static unsigned char pem[BD_PEM_MAX];
	int n = bd_read_pem(path, pem, sizeof pem), ret;

	if (n < 0) {
		log_err(MOD, "cannot read %s %s: %s", what, path,
			n == -EMSGSIZE ? "empty or too large" : strerror(-n));
		return -1;
	}
	if (is_key)
		ret = mbedtls_pk_parse_key(&bd_key, pem, (size_t)n, NULL, 0,
					   bd_tls_rng, NULL);
	else
		ret = mbedtls_x509_crt_parse(what[0] == 'C' ? &bd_ca : &bd_crt,
					     pem, (size_t)n);
	memset(pem, 0, sizeof pem);
	if (ret != 0) {
		log_err(MOD, "cannot parse %s %s (mbedTLS -0x%04x)", what, path,
			(unsigned)-ret);
		return -1;
	}
	return 0;
}

/* The --tls-psk callback: the key of the identity the client offers.
 * The identity is kept for the log and the status. */
static int bd_psk_cb(void *arg, mbedtls_ssl_context *ssl,
		     const unsigned char *id, size_t len)
{
	struct bd_conn *c = mbedtls_ssl_get_user_data_p(ssl);
	const struct psk *k = bd_psk_find(id, len);

	(void)arg;
	if (k == NULL && len > PSK_ID_MAX)
		return -1;      /* a ticket we could not use (logged) */
	if (k == NULL) {
		log_warn(MOD, "#%u %s: unknown PSK identity (%zu bytes)",
			 c->idx, c->peer_text, len);
		return -1;
	}
	snprintf(c->tls_peer, sizeof c->tls_peer, "psk:%s", k->id);
	return mbedtls_ssl_set_hs_psk(ssl, k->key, k->keylen);
}

/* Who holds each ticket.  A TLS 1.3 ticket of mbedTLS 3.6 carries no
 * client certificate, so a resumed session would show no client, and
 * the extension's authorization (backupd_restore.c: a device reads only
 * its own files) would refuse every agent that resumed.  The server keeps
 * the client of the tickets it issued, by the SHA-256 of the ticket's
 * bytes (authentic: sealed with our ticket key, and usable only by the
 * holder of its resumption secret).  A ring of BD_TICKET_CLIENTS: an
 * agent uses its newest ticket, so the oldest entries are the ones that
 * go; ticket keys are per run, and so is the table. */
#define BD_TICKET_CLIENTS 1024
struct bd_ticket_client {
	unsigned char digest[32];
	char peer[sizeof ((struct bd_conn *)0)->tls_peer];
};
static struct bd_ticket_client bd_ticket_clients[BD_TICKET_CLIENTS];
static unsigned bd_ticket_next;

/* The client a new ticket is for: the certificate's subject on a full
 * handshake, else what this connection already knew (a PSK identity,
 * or the client of the ticket it resumed). */
static void bd_ticket_remember(const mbedtls_ssl_session *session,
			       const unsigned char *t, size_t len)
{
	struct bd_ticket_client n = { .peer = "" };
	const mbedtls_x509_crt *crt = session->MBEDTLS_PRIVATE(peer_cert);
	struct bd_conn *c = bd_tls_cur;

	if (crt != NULL) {
		if (mbedtls_x509_dn_gets(n.peer, sizeof n.peer,
					 &crt->subject) < 0)
			n.peer[0] = '\0';
	} else if (c != NULL) {
		memcpy(n.peer, c->tls_peer, sizeof n.peer);
	}
	if (n.peer[0] == '\0' || mbedtls_sha256(t, len, n.digest, 0) != 0)
		return;
	bd_ticket_clients[bd_ticket_next] = n;
	bd_ticket_next = (bd_ticket_next + 1) % BD_TICKET_CLIENTS;
}

/* The client of a ticket we issued (by its bytes, before they are
 * decrypted in place), or "". */
static const char *bd_ticket_client(const unsigned char *t, size_t len)
{
	unsigned char d[32];
	unsigned i;

	if (mbedtls_sha256(t, len, d, 0) != 0)
		return "";
	for (i = 0; i < BD_TICKET_CLIENTS; i++)
		if (bd_ticket_clients[i].peer[0] != '\0' &&
		    memcmp(bd_ticket_clients[i].digest, d, sizeof d) == 0)
			return bd_ticket_clients[i].peer;
	return "";
}

/* Issues a session ticket only for a session whose client proved who it
 * is (certificate verified, a PSK, or itself resumed from such a
 * ticket): with VERIFY_OPTIONAL (bd_tls_init) the handshake of a client
 * we are about to refuse completes first, and a ticket minted for it
 * would let it resume past the check.  TLS 1.3 fails the handshake on
 * this error (bd_tls_handshake refuses the client); TLS 1.2 sends an
 * empty ticket. */
static int bd_ticket_write(void *p, const mbedtls_ssl_session *session,
			   unsigned char *start, const unsigned char *end,
			   size_t *tlen, uint32_t *lifetime)
{
	int ret;

	if (session->MBEDTLS_PRIVATE(verify_result) != 0)
		return MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE;
	ret = mbedtls_ssl_ticket_write(p, session, start, end, tlen, lifetime);
	if (ret == 0)
		bd_ticket_remember(session, start, *tlen);
	return ret;
}

/* Why a ticket could not be used, for the log. */
static const char *bd_ticket_why(int ret)
{
	/* mbedTLS says expired also for a key it no longer has: the ticket
	 * keys are random per run and rotate with the lifetime */
	if (ret == MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED)
		return "expired, or issued before a restart";
	if (ret == MBEDTLS_ERR_SSL_INVALID_MAC)
		return "not authentic";
	return "unreadable";
}

/* Opens a ticket the client offers.  A ticket we cannot use is never
 * fatal: mbedTLS goes on with a full handshake (TLS 1.2 and 1.3), which
 * is logged once per connection and counted.  Identities of at most
 * PSK_ID_MAX bytes are external PSK identities (ours are that short,
 * tickets are longer), tried here first by mbedTLS: not logged. */
static int bd_ticket_parse(void *p, mbedtls_ssl_session *session,
			   unsigned char *buf, size_t len)
{
	struct bd_conn *c = bd_tls_cur;
	/* looked up first: mbedTLS decrypts the ticket in place */
	const char *holder = len > PSK_ID_MAX ? bd_ticket_client(buf, len) : "";
	int ret = mbedtls_ssl_ticket_parse(p, session, buf, len);

	if (c == NULL || len <= PSK_ID_MAX)
		return ret;
	if (ret == 0) {
		c->tls_ticket = BD_TICKET_TAKEN;
		snprintf(c->tls_peer, sizeof c->tls_peer, "%s", holder);
	} else if (c->tls_ticket != BD_TICKET_REFUSED) {
		c->tls_ticket = BD_TICKET_REFUSED;
		bd_counts.tickets_refused++;
		log_info(MOD, "#%u %s: session ticket not accepted (%s): "
			 "full handshake", c->idx, c->peer_text,
			 bd_ticket_why(ret));
	}
	return ret;
}

/* see backupd.h */
const struct bd_tls_counts *bd_tls_counts_get(void)
{
	return &bd_counts;
}

/* Loads the certificate side (all three files or none).
 * @retval 1 loaded  @retval 0 not configured  @retval -1 (logged) */
static int bd_tls_load_certs(const struct bd_options *o)
{
	int n = (o->tls_cert != NULL) + (o->tls_key != NULL) +
		(o->tls_ca != NULL);

	if (n == 0)
		return 0;
	if (n != 3) {
		log_err(MOD, "--tls-cert, --tls-key and --tls-ca go together");
		return -1;
	}
	if (bd_load("CA", o->tls_ca, 0) || bd_load("cert", o->tls_cert, 0) ||
	    bd_load("key", o->tls_key, 1))
		return -1;
	if (mbedtls_pk_check_pair(&bd_crt.pk, &bd_key, bd_tls_rng, NULL) != 0) {
		log_err(MOD, "key %s does not match the certificate %s",
			o->tls_key, o->tls_cert);
		return -1;
	}
	return 1;
}

/* see backupd.h */
int bd_tls_init(const struct bd_options *o)
{
	mbedtls_ssl_config *c = &bd_conf;
	int certs;

	mbedtls_ssl_config_init(c);
	mbedtls_x509_crt_init(&bd_ca);
	mbedtls_x509_crt_init(&bd_crt);
	mbedtls_pk_init(&bd_key);
	mbedtls_ssl_ticket_init(&bd_ticket);
	bd_tls_ready = 1;
	certs = bd_tls_load_certs(o);
	if (certs < 0 || (o->tls_psk != NULL && bd_psk_load(o->tls_psk) < 0))
		return -1;
	if (certs == 0 && o->tls_psk == NULL) {
		log_err(MOD, "--tls needs --tls-cert, --tls-key and --tls-ca, "
			"or --tls-psk");
		return -1;
	}
	if (mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
	    (certs && mbedtls_ssl_conf_own_cert(c, &bd_crt, &bd_key) != 0) ||
	    mbedtls_ssl_conf_alpn_protocols(c, bd_alpn) != 0 ||
	    mbedtls_ssl_ticket_setup(&bd_ticket, bd_tls_rng, NULL,
				     MBEDTLS_CIPHER_AES_256_GCM, 3600) != 0) {
		log_err(MOD, "TLS configuration failed");
		return -1;
	}
	mbedtls_ssl_conf_rng(c, bd_tls_rng, NULL);
	mbedtls_ssl_conf_min_tls_version(c, o->tls_allow12 || o->tls_only12
					 ? MBEDTLS_SSL_VERSION_TLS1_2
					 : MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(c, o->tls_only12
					 ? MBEDTLS_SSL_VERSION_TLS1_2
					 : MBEDTLS_SSL_VERSION_TLS1_3);
	/* OPTIONAL, checked by bd_tls_refuse_unverified once the handshake
	 * is done: in TLS 1.3 the client's certificate comes after our
	 * Finished, and mbedTLS would send REQUIRED's alert under the
	 * handshake keys the client has stopped reading with (OpenSSL
	 * reports "decryption failed or bad record mac", not the reason) */
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_OPTIONAL);
	if (certs)
		mbedtls_ssl_conf_ca_chain(c, &bd_ca, NULL);
	if (o->tls_psk != NULL)
		mbedtls_ssl_conf_psk_cb(c, bd_psk_cb, NULL);
	/* (EC)DHE always: a PSK that leaks later opens no recording */
	mbedtls_ssl_conf_tls13_key_exchange_modes(c,
		MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL |
		MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
	mbedtls_ssl_conf_session_tickets_cb(c, bd_ticket_write,
					    bd_ticket_parse, &bd_ticket);
	return 0;
}

/* see backupd.h */
void bd_tls_free(void)
{
	if (!bd_tls_ready)
		return;
	mbedtls_ssl_ticket_free(&bd_ticket);
	mbedtls_ssl_config_free(&bd_conf);
	mbedtls_x509_crt_free(&bd_ca);
	mbedtls_x509_crt_free(&bd_crt);
	mbedtls_pk_free(&bd_key);
	bd_psk_wipe();
	bd_tls_ready = 0;
}

static int bd_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct bd_conn *c = ctx;
	int n = hal_net_send(c->fd, buf, len);

	if (n > 0)
		c->bytes_out += (uint64_t)n;
	if (n == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : n;
}

/* A TLS connection's heap block: the mbedTLS context (first, so c->tls
 * is also the block's address) and a read-ahead buffer.  mbedTLS asks
 * for a record's 5-byte header, then its body: two recv calls per 4 KiB
 * record without read-ahead; with it one recv per BD_TLS_READAHEAD. */
struct bd_tls_box {
	mbedtls_ssl_context ssl;
	size_t ra_off, ra_len;
	uint8_t ra[BD_TLS_READAHEAD];
};

static struct bd_tls_box *bd_box(const struct bd_conn *c)
{
	return (struct bd_tls_box *)(void *)c->tls;
}

static int bd_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct bd_conn *c = ctx;
	struct bd_tls_box *b = bd_box(c);
	size_t n;

	if (b->ra_off == b->ra_len) {
		int r = hal_net_recv(c->fd, b->ra, sizeof b->ra);

		if (r == -EAGAIN)
			return MBEDTLS_ERR_SSL_WANT_READ;
		if (r <= 0)
			return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : 0;
		c->bytes_in += (uint64_t)r;
		b->ra_off = 0;
		b->ra_len = (size_t)r;
	}
	n = b->ra_len - b->ra_off < len ? b->ra_len - b->ra_off : len;
	memcpy(buf, b->ra + b->ra_off, n);
	b->ra_off += n;
	return (int)n;
}

/* see backupd.h */
int bd_tls_conn_start(struct bd_conn *c)
{
	struct bd_tls_box *box = malloc(sizeof *box);
	mbedtls_ssl_context *ssl = box != NULL ? &box->ssl : NULL;

	if (box == NULL)
		return -ENOMEM;
	box->ra_off = box->ra_len = 0;
	mbedtls_ssl_init(ssl);
	if (mbedtls_ssl_setup(ssl, &bd_conf) != 0) {
		mbedtls_ssl_free(ssl);
		free(box);
		return -ENOMEM;
	}
	mbedtls_ssl_set_bio(ssl, c, bd_bio_send, bd_bio_recv, NULL);
	mbedtls_ssl_set_user_data_p(ssl, c);    /* for bd_psk_cb */
	c->tls_peer[0] = '\0';
	c->tls_ticket = BD_TICKET_NONE;
	c->tls = ssl;
	c->tls_done = 0;
	c->clear = 0;
	return 0;
}

/* see backupd.h */
void bd_tls_conn_free(struct bd_conn *c)
{
	if (c->tls == NULL)
		return;
	if (c->tls_done && !c->draining)
		mbedtls_ssl_close_notify(c->tls); /* best effort */
	mbedtls_ssl_free(c->tls);
	free(bd_box(c));
	c->tls = NULL;
}

/* Records the outcome of a finished handshake in c and logs it: version
 * and suite (c->tls_info), the client (c->tls_peer: certificate subject,
 * "psk:<identity>"), and the ALPN,
 * which decides c->clear.  A resumed session shows the client of its
 * ticket (bd_ticket_client), or "resumed session" for one we did not
 * record. */
static void bd_tls_record_done(struct bd_conn *c)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(c->tls);
	const char *alpn = mbedtls_ssl_get_alpn_protocol(c->tls);

	if (peer != NULL && mbedtls_x509_dn_gets(c->tls_peer,
						 sizeof c->tls_peer,
						 &peer->subject) < 0)
		snprintf(c->tls_peer, sizeof c->tls_peer, "?");
	else if (peer == NULL && c->tls_peer[0] == '\0')
		snprintf(c->tls_peer, sizeof c->tls_peer, "resumed session");
	if (peer == NULL && c->tls_ticket == BD_TICKET_TAKEN)
		bd_counts.resumed++;
	snprintf(c->tls_info, sizeof c->tls_info, "%s %s",
		 mbedtls_ssl_get_version(c->tls),
		 mbedtls_ssl_get_ciphersuite(c->tls));
	c->clear = alpn != NULL && strcmp(alpn, BD_ALPN_CLEAR) == 0;
	bd_restore_identity(c);
	log_info_kv(MOD, LOG_KVS(BD_KV_CONN(c), LKV_S("tls", c->tls_info),
				 LKV_S("alpn", alpn), LKV_S("client", c->tls_peer)),
		    "#%u %s: %s alpn %s%s, client %s%s", c->idx, c->peer_text,
		 c->tls_info, alpn != NULL ? alpn : "none",
		 c->clear ? " (clear payload)" : "", c->tls_peer,
		 peer == NULL && c->tls_ticket == BD_TICKET_TAKEN &&
		 strcmp(c->tls_peer, "resumed session") != 0
			? " (resumed session)" : "");
}

/* The alert for a client certificate that is missing or did not verify
 * (mbedTLS's choice under VERIFY_REQUIRED, but TLS 1.3's own code for
 * a missing one). */
static unsigned char bd_cert_alert(const struct bd_conn *c, uint32_t flags)
{
	if (flags & MBEDTLS_X509_BADCERT_MISSING)
		return mbedtls_ssl_get_version_number(c->tls) ==
			       MBEDTLS_SSL_VERSION_TLS1_3
			       ? MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED
			       : MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
	return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
}

/* A client without a verified certificate (VERIFY_OPTIONAL let its
 * handshake finish) is refused now, with an alert under the keys the
 * client reads with.  @retval 0 verified  @retval -EIO refused (logged) */
static int bd_tls_refuse_unverified(struct bd_conn *c)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(c->tls);
	int err = flags & MBEDTLS_X509_BADCERT_MISSING
		  ? MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE
		  : MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;

	if (flags == 0)
		return 0;
	(void)mbedtls_ssl_send_alert_message(c->tls,
					     MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					     bd_cert_alert(c, flags));
	log_warn(MOD, "#%u %s: TLS handshake failed: %s (-0x%04x)", c->idx,
		 c->peer_text, bd_tls_err(err), (unsigned)-err);
	return -EIO;
}

/* see backupd.h */
int bd_tls_handshake(struct bd_conn *c, unsigned *want)
{
	int ret;

	bd_tls_cur = c;
	ret = mbedtls_ssl_handshake(c->tls);
	bd_tls_cur = NULL;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		*want = ret == MBEDTLS_ERR_SSL_WANT_READ ? EV_READ : EV_WRITE;
		return -EAGAIN;
	}
	/* done, or (TLS 1.3) failed at bd_ticket_write: the same check */
	if ((ret == 0 || ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) &&
	    bd_tls_refuse_unverified(c) < 0)
		return -EIO;
	if (ret != 0) {
		log_warn(MOD, "#%u %s: TLS handshake failed: %s (-0x%04x)",
			 c->idx, c->peer_text, bd_tls_err(ret), (unsigned)-ret);
		return -EIO;
	}
	c->tls_done = 1;
	metric_add(M_SRV_TLS_MS, c->last_rx_ms - c->started_ms); /* its Finished */
	bd_tls_record_done(c);
	return 0;
}

/* see backupd.h */
int bd_io_recv(struct bd_conn *c, uint8_t *buf, size_t cap)
{
	int n;

	if (c->tls == NULL || c->draining) {
		n = hal_net_recv(c->fd, buf, cap);
		if (n > 0)
			c->bytes_in += (uint64_t)n;
		return n;
	}
	n = mbedtls_ssl_read(c->tls, buf, cap);
	if (n >= 0)
		return n;
	if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
		return -EAGAIN;
	if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	log_warn(MOD, "#%u %s: TLS read: %s (-0x%04x)", c->idx, c->peer_text,
		 bd_tls_err(n), (unsigned)-n);
	return -EIO;
}

/* see backupd.h */
int bd_io_send(struct bd_conn *c, const uint8_t *buf, size_t len)
{
	int n;

	if (c->tls == NULL) {
		n = hal_net_send(c->fd, buf, len);
		if (n > 0)
			c->bytes_out += (uint64_t)n;
		return n;
	}
	n = mbedtls_ssl_write(c->tls, buf, len);
	if (n >= 0)
		return n;
	if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
		return -EAGAIN;
	return -EPIPE;
}

/* see backupd.h */
size_t bd_io_pending(const struct bd_conn *c)
{
	const struct bd_tls_box *b = bd_box(c);

	return c->tls != NULL && c->tls_done && !c->draining
		       ? mbedtls_ssl_get_bytes_avail(c->tls) +
			 (b->ra_len - b->ra_off) : 0;
}

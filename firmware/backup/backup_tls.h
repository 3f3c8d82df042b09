/*
 * backup_tls.h — the TLS transport of the backup client (tls://):
 * mbedTLS over one non-blocking hal/net stream socket.  TLS 1.3, or 1.2
 * as well when configured (tls.min_version).  Two ways to authenticate:
 *  - certificates: the server's verified against a CA file (tls.ca) and
 *    its name, the client's own certificate and key (tls.cert, tls.key);
 *  - a pre-shared key (tls.psk "identity:hexkey"): both sides prove they
 *    hold it, and only PSK handshakes are offered (no certificates, the
 *    CA is not used).  TLS 1.2 offers only (EC)DHE-PSK suites; in TLS
 *    1.3 the server chooses, and vigil-backupd always adds (EC)DHE, so a
 *    key that leaks later opens no recording.
 *
 * Nothing here waits: every call either makes progress or returns
 * -EAGAIN with t->want saying which readiness the socket needs
 * (BACKUP_TLS_WANT_READ / _WRITE).  The blocking CLI polls for that
 * and calls again; the agent registers it with its event loop.
 *
 * Lifetime: backup_tls_load() once (parses the files, builds the
 * config); backup_tls_start() .. backup_tls_stop() per connection, any
 * number of times; backup_tls_free() at the end.  A session ticket
 * received on one connection is offered on the next one, so a
 * reconnect skips the certificate exchange when the server accepts it.
 * A handshake that offered a saved session and did not complete (a fatal
 * alert, a reset, a timeout: some TLS terminators refuse resumption
 * outright, e.g. OpenSSL's "session id context uninitialized") drops
 * that session: logged once, counted in resume_failures, and the next
 * handshake is a full one (curl and browsers do the same).  Unlike them,
 * no ticket from that server is kept for BACKUP_TLS_RESUME_PAUSE_MS
 * after: a terminator that refuses one resumption refuses them all, and
 * offering each new ticket would cost every reconnect a failed handshake
 * and the operator a warning per backup job.
 *
 * Write combining: mbedTLS hands over one record per send callback
 * (MBEDTLS_SSL_OUT_CONTENT_LEN, 4 KiB of plaintext), and a send(2) per
 * 4 KiB record was most of vigild's kernel time in a backup (perf, make
 * bench).  The callback collects the records in out[] instead and sends
 * them together when the next one does not fit, and every call below
 * sends what is collected before it returns or waits: backup_tls_write
 * writes as many records as len holds, then sends them; a call that
 * finds collected bytes it cannot send yet returns -EAGAIN with
 * BACKUP_TLS_WANT_WRITE (write returns the bytes it accepted before).
 *
 * Memory: the certificates, key, config, one ssl context (record
 * buffers MBEDTLS_SSL_IN_CONTENT_LEN 16 KiB + OUT 4 KiB) and the saved
 * ticket come from the process arena (crypto.h); struct backup_tls
 * holds the mbedTLS handles and out[] (BACKUP_TLS_COMBINE).
 */
#ifndef VIGIL_BACKUP_TLS_H
#define VIGIL_BACKUP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "psk.h"

/* Largest PEM file read (CA bundle, certificate, key); ours are < 1 KiB,
 * a bundle of a dozen CAs fits. */
#define BACKUP_TLS_PEM_MAX 16384u
/* Room for backup_tls error texts, e.g. "server certificate not trusted
 * (tls.ca /etc/vigil/ca.crt): ..." */
#define BACKUP_TLS_ERR_MAX 160
/* How long no ticket is kept after a failed resumption (see above). */
#define BACKUP_TLS_RESUME_PAUSE_MS (24u * 3600u * 1000u)

/* Bytes of records sent together: four full TLS 1.3 records (4096 +
 * 22 bytes of header, type and tag each; TLS 1.2 GCM adds 29), so one
 * send(2) per 16 KiB of data instead of four.  More would save little:
 * the loopback send of 16 KiB costs about what the kernel's copy does. */
#define BACKUP_TLS_COMBINE (4u * (MBEDTLS_SSL_OUT_CONTENT_LEN + 32u))

#define BACKUP_TLS_WANT_READ 1u
#define BACKUP_TLS_WANT_WRITE 2u

/* The ALPN protocols offered: "vigil/2" (v3 with the clear payload
 * extension, docs/protocol/cyberbackup-v3.md) before "vigil/1" (pure v3).
 * Resumed handshakes negotiate it again, like a full one. */
#define BACKUP_TLS_ALPN_CLEAR "vigil/2"

/* What backup_tls_load() builds the configuration from.  Paths and the
 * PSK text are "" (or NULL) when not set. */
struct backup_tls_opts {
	const char *ca;         /* PEM CA(s) for the server certificate */
	const char *cert, *key; /* client certificate and key, together */
	const char *psk;        /* "identity:hexkey" instead of cert/key */
	int allow_tls12;        /* 1: TLS 1.2 accepted too (1.3 preferred) */
};

struct backup_tls {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca, crt;
	mbedtls_pk_context key;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_session ticket;     /* last session, for resumption */
	int fd;                         /* the socket; not owned */
	int loaded, live, done, have_ticket, have_cert;
	int allow_tls12;
	struct psk psk;                 /* psk.idlen 0: no PSK */
	int rx_plain;                   /* data or a ticket since the handshake */
	int server_ok;                  /* the server's chain verified */
	int cert_seen;                  /* the server sent a certificate */
	int offered;                    /* a ticket was offered */
	int resumed;                    /* ticket accepted: no certificate */
	uint64_t started_ms;            /* backup_tls_start (mono) */
	int dropped;                    /* see backup_tls_take_dropped */
	uint32_t resume_failures;       /* sessions dropped since load */
	uint64_t no_resume_until_ms;    /* mono; tickets not kept before */
	uint32_t vflags;                /* verify flags of the chain so far */
	unsigned want;                  /* BACKUP_TLS_WANT_* after -EAGAIN */
	uint64_t raw_in, raw_out;       /* bytes on the socket (records) */
	char err[BACKUP_TLS_ERR_MAX];   /* why the last call failed */
	size_t out_len, out_sent;       /* out[out_sent..out_len) to send */
	uint8_t out[BACKUP_TLS_COMBINE]; /* records collected (see above) */
};

/*
 * Zeroes *t, reads and parses o's files and builds the client config:
 * TLS 1.3 (and 1.2 with o->allow_tls12), VERIFY_REQUIRED, session
 * tickets.  With a PSK the CA is not read and tickets are off (a PSK
 * handshake is already certificate-free).  Needs crypto_init() first.  On failure t->err
 * says which setting and why; backup_tls_free() is still to be called.
 * @retval 0 ready
 * @retval -EINVAL no CA and no PSK, cert without key (or the reverse),
 *         a PSK together with a certificate, a malformed PSK
 * @retval -EIO a file unreadable or unparsable, key not matching cert
 */
int backup_tls_load(struct backup_tls *t, const struct backup_tls_opts *o);

/*
 * Starts a client connection over the connected socket fd; hostname is
 * checked against the server certificate (DNS or IP SAN, or CN).  The
 * saved ticket, if any, is offered.
 * @retval 0 started (call backup_tls_handshake)
 * @retval -EIO out of memory in the arena (t->err)
 */
int backup_tls_start(struct backup_tls *t, int fd, const char *hostname);

/*
 * Advances the handshake.
 * @retval 0 done (version and cipher readable)
 * @retval -EAGAIN wait for t->want, then call again
 * @retval -EIO failed: certificate not trusted, server refused us, ...
 *         (t->err)
 */
int backup_tls_handshake(struct backup_tls *t);

/*
 * Reads up to len plaintext bytes.  Session tickets arriving on the way
 * are saved for the next connection.
 * @retval >0 bytes read
 * @retval 0 the server closed (close_notify or EOF)
 * @retval -EAGAIN wait for t->want
 * @retval -EIO TLS or socket error, e.g. a fatal alert (t->err)
 */
int backup_tls_read(struct backup_tls *t, void *buf, size_t len);

/*
 * Writes up to len plaintext bytes, as records of at most
 * MBEDTLS_SSL_OUT_CONTENT_LEN, and sends them.
 * @retval >0 bytes accepted (some may wait in out[] for the socket: the
 *         next call sends them first)
 * @retval -EAGAIN wait for t->want (call again with the same data)
 * @retval -EIO TLS or socket error (t->err)
 */
int backup_tls_write(struct backup_tls *t, const void *buf, size_t len);

/* After a done handshake, t->resumed says whether the server took the
 * ticket (no certificate exchange). */

/* Plaintext bytes already decrypted and buffered: read them before
 * waiting for the socket again. */
size_t backup_tls_pending(const struct backup_tls *t);

/* "TLSv1.3" (or "TLSv1.2") and e.g. "TLS1-3-AES-128-GCM-SHA256" of the live
 * connection; "" when none. */
const char *backup_tls_version(const struct backup_tls *t);
const char *backup_tls_cipher(const struct backup_tls *t);
/* The ALPN protocol the server chose ("vigil/2", "vigil/1"); "" when it
 * chose none or no connection is up. */
const char *backup_tls_alpn(const struct backup_tls *t);

/* Ends the connection (close_notify, best effort, no waiting) and frees
 * its context; the socket stays open.  The saved session stays, unless
 * this connection offered it and its handshake did not complete: then
 * it is dropped (see above). */
void backup_tls_stop(struct backup_tls *t);

/* 1 once after a connection whose failed handshake dropped the saved
 * session (then 0): the caller may reconnect at once, without a backoff,
 * since the next handshake is a different (full) one. */
int backup_tls_take_dropped(struct backup_tls *t);

/* Stops and frees everything backup_tls_load made. */
void backup_tls_free(struct backup_tls *t);

#endif

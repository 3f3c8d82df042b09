/*
 * backup_client.h — the CyberBackup v3 client, one-shot (blocking) form
 * used by `vigild backup`: connect, register (1025 -> 1600, key pair,
 * 1026 -> 1602) or reconnect (1027 -> 1605), then per file a stream of
 * 1028 packets, the 1603 cksum comparison and 1029 / 1030 + resend / 1031.
 *
 * Blocking means: non-blocking hal_net sockets waited on with hal_poll
 * and a per-operation timeout (cfg.io_timeout_ms), one connection at a
 * time.  The event-loop client for the agent (backup.interval jobs) is
 * not written yet; it will reuse backup_crypto/identity/retry and this
 * file's packet logic.
 *
 * Memory: struct backup_client holds everything, including the one I/O
 * buffer of BACKUP_IOBUF_SIZE bytes (a 1028 head and one ciphertext
 * slice); nothing depends on the file size.  mbedTLS uses the static
 * arena of backup_crypto.
 *
 * Retries: the session and each file get BACKUP_RETRY_ATTEMPTS attempts;
 * connection failures, timeouts, malformed replies and 1601/1606/1607 are
 * retried after backup_retry_delay_ms(); a file whose cksum differs three
 * times (1031 sent) and a file that cannot be read are not.
 */
#ifndef VIGIL_BACKUP_CLIENT_H
#define VIGIL_BACKUP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "backup_crypto.h"
#include "backup_identity.h"
#include "backup_link.h"
#include "backup_tls.h"
#include "hal/net.h"
#include "hal/storage.h"
#include "v3.h"

/* Ciphertext bytes per 1028 packet: 64 KiB (servers refuse more than
 * 16 MiB + 1024 per request; the doc suggests 64 KiB..1 MiB).  Files
 * whose ciphertext needs more than 65535 such packets (>= 4 GiB - 64 KiB)
 * use 128 KiB slices, so the buffer holds BACKUP_SLICE_BIG. */
#define BACKUP_SLICE 65536u
#define BACKUP_SLICE_BIG (2u * BACKUP_SLICE)
#define BACKUP_IOBUF_SIZE (V3_REQ_FILE_HEAD_MAX + BACKUP_SLICE_BIG)
#define BACKUP_IO_TIMEOUT_DEFAULT_MS 30000u
#define BACKUP_HOST_MAX 256
#define BACKUP_ERR_MAX 200

enum backup_pubkey_mode {
	BACKUP_PUBKEY_AUTO = 0, /* 160 first, 162 after a 1607 to 1026 */
	BACKUP_PUBKEY_160,
	BACKUP_PUBKEY_162,
};

/* Per-connection statistics (the status endpoint and health loop read
 * these; they never open sockets of their own). */
struct backup_conn_stats {
	char peer[HAL_ADDR_TEXT_MAX];
	const char *transport;          /* "tcp" or "tls" */
	const char *tls_version;        /* "TLSv1.3"; "" for tcp */
	const char *tls_cipher;         /* "TLS1-3-AES-128-GCM-SHA256"; "" */
	const char *tls_alpn;           /* "vigil/2", "vigil/1"; "" none */
	int tls_resumed;                /* 1: resumed with a session ticket */
	uint32_t tls_resume_failures;   /* saved sessions dropped after a
					 * failed resumption (since start) */
	uint64_t bytes_in, bytes_out;   /* this connection */
	uint64_t last_read_ms, last_write_ms; /* hal_clock_mono_ms */
	uint64_t connected_ms;          /* 0 when not connected */
	uint32_t read_errors, write_errors;
	int last_error;                 /* negative errno, 0 */
	uint8_t client_id[V3_ID_SIZE];
};

/* Addresses of backup.server's name that are kept: a name with several
 * (IPv6 and IPv4 for "localhost", say) is tried in the resolver's order
 * until one connects. */
#define BACKUP_SERVER_ADDRS 4

struct backup_client_cfg {
	struct hal_addr server;         /* the address the next connect uses */
	struct hal_addr addrs[BACKUP_SERVER_ADDRS]; /* the name's, resolved */
	unsigned n_addrs;               /* 0: server was set alone */
	unsigned addr_cur;              /* server == addrs[addr_cur] */
	int tls;                        /* 1: tls:// (backup_tls.h) */
	char host[BACKUP_HOST_MAX];     /* server name checked in its cert */
	char tls_ca[HAL_PATH_MAX];      /* PEM CA file (required for tls) */
	char tls_cert[HAL_PATH_MAX];    /* client certificate, "" none */
	char tls_key[HAL_PATH_MAX];     /* its private key, "" none */
	char tls_psk[PSK_ID_MAX + 2 * PSK_KEY_MAX + 2]; /* "id:hexkey", "" */
	int tls_allow12;                /* tls.min_version = 1.2 */
	char state_dir[HAL_PATH_MAX];   /* where me.info lives */
	char name[V3_NAME_FIELD];       /* client name for 1025/1027 */
	uint32_t retry_cap_ms;          /* 0: BACKUP_RETRY_CAP_DEFAULT_MS */
	uint32_t io_timeout_ms;         /* 0: BACKUP_IO_TIMEOUT_DEFAULT_MS */
	enum backup_pubkey_mode pubkey;
	/* Called after each 1028 packet (may be NULL). */
	void (*progress)(void *arg, const char *path, uint64_t done,
			 uint64_t total);
	void *progress_arg;
};

struct backup_client {
	struct backup_client_cfg cfg;
	int fd;                         /* -1 when not connected */
	int session;                    /* 1: AES key valid on fd */
	int have_id;                    /* identity loaded or registered */
	int key_acked;                  /* the server has our public key */
	int fatal;                      /* last failure is not retryable */
	int oaep_sha1;                  /* the server wrapped with SHA-1 */
	/* The connection negotiated ALPN "vigil/2": every request goes out
	 * as version 4 and 1028 slices are the plaintext, without AES-CBC
	 * (TLS already encrypts them).  Set by bk_io_transport_ready only. */
	int clear;
	struct backup_identity id;
	struct backup_key key;
	uint8_t aes[BACKUP_AES_KEY_SIZE];
	struct backup_conn_stats stats;
	struct backup_link link;
	struct backup_tls tls;          /* loaded when cfg.tls */
	uint32_t attempts;              /* all attempts made (tests, logs) */
	unsigned addrs_failed;          /* addresses refused in this attempt */
	char err[BACKUP_ERR_MAX];       /* last failure, one line */
	uint8_t buf[BACKUP_IOBUF_SIZE];
};

/* Splits "tcp://host:port" / "tls://host:port" ("[v6]:port" allowed).
 * *tls is set to 1 for tls://.
 * @retval 0 ok  @retval -EINVAL malformed  @retval -ENAMETOOLONG host */
int backup_url_parse(const char *url, int *tls, char *host, size_t cap,
		     uint16_t *port);

/* Sets cfg->addrs to host's addresses (a numeric one without the
 * resolver) and cfg->server to the first.  BLOCKS in the resolver: call
 * it at init or config reload only.
 * @retval 0  @retval <0 as hal_net_resolve */
int backup_server_resolve(struct backup_client_cfg *cfg, const char *host,
			  uint16_t port);

/* After a connection to cfg.server failed before the transport was up:
 * moves cfg.server to the next of the name's addresses.
 * @retval 1 that address is still untried in this attempt: connect again
 *           now (the failure is not one of the attempt's)
 * @retval 0 every address has failed: the attempt has failed */
int backup_server_next(struct backup_client *c);

/* Prepares *c (zeroed by the caller or not; a previous init must have
 * been ended by backup_client_close) and loads the identity from
 * cfg->state_dir, if any, and for cfg->tls the CA, certificate and key.
 * Needs backup_crypto_init() first.
 * @retval 0 ok (c->have_id says whether an identity exists)
 * @retval -EBADMSG me.info exists but is unusable (c->err says why)
 * @retval -EINVAL/-EIO TLS files missing or unusable (c->err) */
int backup_client_init(struct backup_client *c,
		       const struct backup_client_cfg *cfg);

/* Establishes a session (connect + register/reconnect + key), with
 * retries.  @retval 0 ready  @retval <0 failed (c->err) */
int backup_client_connect(struct backup_client *c);

/* Backs up one regular file, verified by cksum, with retries.
 * @retval 0 verified by the server's cksum
 * @retval <0 failed (c->err) */
int backup_client_send_file(struct backup_client *c, const char *path);

/* Closes the connection, wipes key material, frees the TLS state. */
void backup_client_close(struct backup_client *c);

#endif

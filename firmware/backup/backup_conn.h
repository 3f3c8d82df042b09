/*
 * backup_conn.h — the transport under the v3 client engine: one
 * non-blocking hal/net stream socket, with TLS (backup_tls.h) on it for
 * tls://.  Both drivers (backup_client.c blocking, backup_agent_run.c
 * event loop) use it; neither knows tcp from tls beyond what bk_conn_events
 * asks to wait for.
 *
 * It also keeps what the status endpoint and the health check read about
 * the connection: per-connection statistics and the published link
 * (backup_link.h).  Every byte moved touches them (bk_conn_send/recv).
 *
 * Setup, per connection: bk_conn_open (TCP connect started) ->
 * bk_conn_open_result once writable (-EINPROGRESS) -> bk_conn_handshake
 * until 0 (tls; a no-op for tcp) -> bk_conn_up.  bk_conn_close at any
 * point.  Nothing here waits.
 */
#ifndef VIGIL_BACKUP_CONN_H
#define VIGIL_BACKUP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "backup_engine.h"
#include "backup_link.h"
#include "backup_tls.h"
#include "hal/net.h"

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

struct backup_conn {
	int fd;                         /* -1 when not connected */
	int tls_on;                     /* tls:// */
	int tls_loaded;
	int handshaking;                /* TLS started, not done */
	uint32_t ups;                   /* connections made */
	struct backup_tls tls;
	struct backup_conn_stats stats;
	struct backup_link link;
	char err[BACKUP_TLS_ERR_MAX];   /* setup failure text */
};

/* Prepares c (zeroed here) for cfg; for tls:// parses the CA,
 * certificate and key.  Needs backup_crypto_init() first.
 * @retval 0  @retval -EINVAL/-EIO TLS settings unusable (c->err) */
int bk_conn_init(struct backup_conn *c, const struct backup_client_cfg *cfg);

/* Starts a TCP connect to a (the text goes to stats.peer).
 * @retval 0 connected  @retval -EINPROGRESS wait for writable, then
 * bk_conn_open_result  @retval <0 failed (nothing left open) */
int bk_conn_open(struct backup_conn *c, const struct hal_addr *a);
/* @retval 0 connected  @retval <0 failed (the caller closes) */
int bk_conn_open_result(struct backup_conn *c);

/* For the blocking drivers (vigild backup, restore): waits for ev on the
 * socket until deadline (hal_clock_mono_ms).
 * @retval 0 ready (or an error the next call reports)
 * @retval -ETIMEDOUT  @retval <0 poll failed */
int bk_conn_wait(const struct backup_conn *c, unsigned short ev,
		 uint64_t deadline);

/* For the blocking drivers: one bk_conn_send / bk_conn_recv that waits
 * (bk_conn_wait) while the transport says -EAGAIN, until *deadline.
 * Progress moves *deadline to silence_ms from now: only silence times
 * out.  @retval as bk_conn_send / bk_conn_recv, never -EAGAIN;
 * -ETIMEDOUT when the deadline passed */
int bk_conn_send_wait(struct backup_conn *c, const void *buf, size_t len,
		      uint64_t *deadline, uint32_t silence_ms);
int bk_conn_recv_wait(struct backup_conn *c, void *buf, size_t len,
		      uint64_t *deadline, uint32_t silence_ms);

/* Advances the TLS handshake (tcp: 0 at once).
 * @retval 0 done  @retval -EAGAIN wait for bk_conn_events
 * @retval <0 failed (c->err says why) */
int bk_conn_handshake(struct backup_conn *c, const char *host);

/* After a failed handshake: 1 if it had offered a saved session, which
 * is now dropped (the next handshake is a full one), else 0. */
int bk_conn_resume_dropped(struct backup_conn *c);

/* The transport is up: statistics reset, link UP.
 * @retval 1 the payload goes clear (TLS chose vigil/2)  @retval 0 */
int bk_conn_up(struct backup_conn *c);

/* One non-blocking send / receive, touching stats and link.
 * @retval >0 bytes moved  @retval 0 (recv) the server closed
 * @retval -EAGAIN wait for bk_conn_events  @retval <0 failed */
int bk_conn_send(struct backup_conn *c, const void *buf, size_t len);
int bk_conn_recv(struct backup_conn *c, void *buf, size_t len);

/* What to wait for after -EAGAIN: HAL_POLLIN/HAL_POLLOUT (for tcp, dflt;
 * for tls what the TLS layer asked). */
unsigned short bk_conn_events(const struct backup_conn *c,
			      unsigned short dflt);

/* Text for a failure of send/recv (err): the TLS reason when there is
 * one, else a short description.  Never NULL. */
const char *bk_conn_why(const struct backup_conn *c, int err);

/* Marks the link CONNECTING (a connect begins). */
void bk_conn_connecting(struct backup_conn *c);

/* Records a failure in the stats and the link (text is cut to fit). */
void bk_conn_note_error(struct backup_conn *c, int err, const char *text);

/* Closes the connection (close_notify for tls); link DOWN.  Safe when
 * closed. */
void bk_conn_close(struct backup_conn *c);

/* Closes and frees the TLS state. */
void bk_conn_free(struct backup_conn *c);

#endif

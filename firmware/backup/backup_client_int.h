/*
 * backup_client_int.h — helpers shared by backup_client.c, backup_io.c
 * and the agent's loop client (backup_agent_*.c); nothing else includes
 * it.
 */
#ifndef VIGIL_BACKUP_CLIENT_INT_H
#define VIGIL_BACKUP_CLIENT_INT_H

#include "backup_client.h"

/* Records a failure: c->err = text, retryable unless fatal.  Returns err. */
int bk_fail(struct backup_client *c, int err, int fatal, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/* Makes an RSA-1024 key pair with exponent e and saves the identity
 * (RSA generation blocks for tens of ms: once per device).  The CLI and
 * the agent's loop client both use it.  @retval 0 / <0 (c->err set) */
int bk_new_key(struct backup_client *c, int e);
/* Unwraps the session's AES key from a 1602/1605 reply (OAEP-SHA256,
 * else SHA-1) and marks the session up.  @retval 0 / <0 (c->err set) */
int bk_take_aes(struct backup_client *c, const struct v3_resp *r);

/* Connects to cfg.server within the I/O timeout.  @retval 0 / <0 (err) */
int bk_io_connect(struct backup_client *c);
/* Sends all of buf / receives exactly len bytes within the timeout.
 * @retval 0 / -ETIMEDOUT / -EIO (closed) / the hal_net error */
int bk_io_send(struct backup_client *c, const void *buf, size_t len);
int bk_io_recv(struct backup_client *c, void *buf, size_t len);
/* Reads and parses one response into *r (r->key points into c->buf's
 * tail, valid until the next I/O).  @retval 0 / <0 (c->err set) */
int bk_io_resp(struct backup_client *c, struct v3_resp *r);
/* Packs and sends a small request (not 1028).  @retval 0 / <0 */
int bk_io_req(struct backup_client *c, uint16_t code, const char *name,
	      const uint8_t *key, size_t key_len);
void bk_io_close(struct backup_client *c);
/* The transport (TCP, and TLS for tls://) is up: fills the stats'
 * transport fields and decides c->clear from the ALPN the server chose. */
void bk_io_transport_ready(struct backup_client *c);
/* The version byte of c's requests: V3_VERSION_CLEAR when c->clear. */
uint8_t bk_req_version(const struct backup_client *c);
/* One non-blocking send / receive on c->fd, through TLS for tls://
 * (the agent's event loop uses these).
 * @retval >0 bytes moved  @retval 0 (recv) the server closed
 * @retval -EAGAIN wait: for tls:// c->tls.want says for what
 * @retval <0 the hal_net error, or -EIO (TLS; c->tls.err says why) */
int bk_io_send_some(struct backup_client *c, const void *buf, size_t len);
int bk_io_recv_some(struct backup_client *c, void *buf, size_t len);
/* Text for a failure of the calls above: the TLS reason when there is
 * one, else strerror(-err). */
const char *bk_io_strerror(const struct backup_client *c, int err);
/* One attempt at a session on a fresh connection (no retries; the
 * caller closes on failure).  @retval 0 / <0 (c->err) */
int bk_session_once(struct backup_client *c);
/* Waits ms milliseconds (hal_poll with no descriptors). */
void bk_sleep_ms(uint32_t ms);
/* Logs c->err with the backoff delay before attempt failures + 1, and
 * waits that long (backup_retry.h). */
void bk_backoff(struct backup_client *c, unsigned failures);

#endif

/*
 * backup_agent_int.h — what backup_agent_run.c and backup_agent_reply.c
 * share (the agent backup client's state machine); nothing else
 * includes it.
 */
#ifndef VIGIL_BACKUP_AGENT_INT_H
#define VIGIL_BACKUP_AGENT_INT_H

#include "backup_agent.h"

/* ba->st */
enum { ST_IDLE, ST_SCAN, ST_CONNECT, ST_SEND, ST_RECV, ST_BACKOFF,
       ST_NEXT, ST_HANDSHAKE };
/* ba->then: what follows a completed send */
enum { THEN_RECV, THEN_SLICE, THEN_STREAM };
/* ba->expect: the reply awaited */
enum { E_REG, E_KEY, E_RECON, E_CRC, E_ACK_OK, E_ACK_ABORT };

/* The running job. */
struct backup_job *bka_job(struct backup_agent *ba);
uint32_t bka_io_timeout(const struct backup_agent *ba);
/* Runs bka_on_step in state st at the next loop pass. */
void bka_step_soon(struct backup_agent *ba, int st);
int64_t bka_on_step(struct ev_loop *loop, void *arg);
/* The socket callback (connect, send, receive, idle close). */
void bka_on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);
void bka_conn_close(struct backup_agent *ba);
void bka_file_close(struct backup_agent *ba);
/* Ends the running job with state s (done/failed). */
void bka_job_end(struct backup_agent *ba, enum backup_job_state s);
/* Fails the running job with text, closing the connection. */
void bka_job_fail(struct backup_agent *ba, const char *text);
/* A failure recorded in c.err (bk_fail): retry, skip file, or fail. */
void bka_io_fail(struct backup_agent *ba);
/* Packs a small request into c.buf and sends it.  @retval 0 / <0 */
int bka_send_req(struct backup_agent *ba, uint16_t code, const char *name,
		 const uint8_t *key, size_t key_len, int then, int expect);
void bka_session_begin(struct backup_agent *ba);
/* TCP is up: for tls:// starts the handshake (ST_HANDSHAKE), else
 * bka_link_up. */
void bka_on_connected(struct backup_agent *ba);
/* The transport is ready: stats, link UP, then the session. */
void bka_link_up(struct backup_agent *ba);
/* After -EAGAIN: for tls:// waits for what the TLS layer asked for;
 * for tcp the current event stays. */
void bka_tls_wait(struct backup_agent *ba);
/* ST_HANDSHAKE: advances the TLS handshake, then bka_link_up.
 * @retval 0 / <0 (c.err set) */
int bka_handshake_step(struct backup_agent *ba);
void bka_start_connect(struct backup_agent *ba);
/* Plans packet k of the current file, loads and queues it.
 * @retval 0 / <0 (c.err set) */
int bka_plan_packet(struct backup_agent *ba, uint16_t k);
void bka_stream_begin(struct backup_agent *ba);
void bka_session_ready(struct backup_agent *ba);
/* Picks the next file of the running job (bounded walk step). */
void bka_file_next(struct backup_agent *ba);

#endif

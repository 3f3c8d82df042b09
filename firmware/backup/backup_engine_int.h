/*
 * backup_engine_int.h — what the two halves of the v3 client engine
 * share; nothing outside them includes it.  backup_engine.c holds the
 * state switch, the session (1025/1026/1027), connects, retries and the
 * byte feeds; backup_engine_file.c the file-transfer states (SLICE_READ,
 * SLICE_SEND, CRC, CRC_RETRY, COMMIT, ABORT) and bke_file/bke_slice*.
 */
#ifndef VIGIL_BACKUP_ENGINE_INT_H
#define VIGIL_BACKUP_ENGINE_INT_H

#include "backup_engine.h"

/* ---- backup_engine.c ---- */

/* Records a failure in e->err (printf-style), e->fatal and e->result;
 * the caller then returns it, and the feed calls bke_failed.
 * @retval err */
__attribute__((format(printf, 4, 5)))
int bke_fail(struct bke *e, int err, int fatal, const char *fmt, ...);

/* After bke_fail: the transport goes, then retry, skip the file or give
 * up (backup_engine.h). */
void bke_failed(struct bke *e);

/* The request ended with ev: IDLE, the file (if any) released. */
void bke_finish(struct bke *e, enum bke_event ev);

/* Packs a small request (code, name, key) into the I/O buffer and enters
 * st; its reply is read once it is sent.  @retval 0
 * @retval <0 from bke_fail (fatal: the request cannot be built) */
int bke_send_req(struct bke *e, enum bke_state st, uint16_t code,
		 const char *name, const uint8_t *key, size_t key_len);

/* Starts a request: connects for the session first unless it is up.
 * @retval 0 */
int bke_request_begin(struct bke *e);

/* ---- backup_engine_file.c ---- */

/* Plans packet k of the stream: SLICE_READ next.
 * @retval 0  @retval <0 from bke_fail */
int bke_plan_packet(struct bke *e, uint16_t k);

/* Starts (or restarts) the file's ciphertext (clear: plaintext) stream
 * at packet 1.  @retval 0  @retval <0 from bke_fail */
int bke_stream_begin(struct bke *e);

/* The 1603 in CRC: 1029, 1030 or (the third time) 1031 next.
 * @retval 0  @retval <0 from bke_fail */
int bke_on_crc(struct bke *e, const struct v3_resp *r);

/* The 1604 after a 1029 (file done) or a 1031 (file skipped).
 * @retval 0  @retval <0 from bke_fail */
int bke_on_ack(struct bke *e, const struct v3_resp *r);

#endif

/*
 * restore_engine.h — the restore role of the backup client: an I/O-free
 * engine like backup_engine.h (same model: it says what it wants, the
 * driver does it and feeds the result back), speaking the vigil/2
 * extension (protocol/v3x.h) to vigil-backupd.  It is a second engine,
 * not new states in bke: a restore shares no state with a backup session
 * (no v3 key exchange, no 1028 stream; the TLS identity is the device),
 * and keeping bke's switch free of it keeps both tables small.  The
 * transport (backup_conn.h) and the drivers' loops are shared.
 *
 *   RSE_WANT_CONNECT  a transport to the server (tls, ALPN vigil/2); then
 *                     rse_connected(clear) or rse_io_failed()
 *   RSE_WANT_SEND     rse_out() bytes; rse_out_ack(n)
 *   RSE_WANT_RECV     rse_in() room; rse_in_ack(n)
 *   RSE_WANT_OPEN     the file rse_entry()/e->path is next: the driver
 *                     opens its temporary file (1), skips it (0, e.g.
 *                     it exists, or the pattern does not match) or
 *                     fails it (<0): rse_open_result()
 *   RSE_WANT_WRITE    rse_data() bytes at their offset; rse_written()
 *   RSE_WANT_FINISH   the file is complete: e->verified says whether its
 *                     cksum matched the stored one; the driver renames it
 *                     into place (verified) or removes it: rse_finished()
 *   RSE_WANT_CLOSE    close the transport; then rse_closed()
 *   RSE_WANT_NOTHING  done: e->result (0, or <0 with e->err)
 *
 * States, one switch (restore_engine.c):
 *   CONNECT -> HELLO (1040 -> 1640) -> LIST (1041 -> 1641... 1642)
 *     -> NEXT: an entry left -> OPEN -> READ (1043 -> 1643 head)
 *                -> DATA (its bytes) -> WRITE -> READ ... -> FINISH -> NEXT
 *              none left, more -> LIST (after the last id)
 *              none left -> CLOSE -> DONE
 * A 1649 for a 1043, a short or damaged answer for one file, or a
 * cksum mismatch fail that file (FINISH with verified 0) and the run
 * goes on; a refused 1040/1041 (no such device, denied), a 1607, or a
 * transport failure end the run (no retries yet: a second run restores
 * what is missing, since existing files are skipped).
 *
 * Memory: struct rse is caller-owned; a listing is held one batch at a
 * time (RSE_BATCH entries), file data one chunk (RSE_CHUNK).
 */
#ifndef VIGIL_RESTORE_ENGINE_H
#define VIGIL_RESTORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cksum.h"
#include "v3.h"
#include "v3x.h"

#define RSE_CHUNK 65536u
#define RSE_BATCH 16u
/* A restored path: "/" + a decoded v3 name (at most 250 bytes). */
#define RSE_PATH_MAX (V3_NAME_MAX + 2u)
#define RSE_ERR_MAX 192

enum rse_state {
	RSE_IDLE = 0,
	RSE_CONNECT,
	RSE_HELLO,      /* 1040 out, 1640 in */
	RSE_LIST,       /* 1041 out, 1641... 1642 in */
	RSE_NEXT,       /* pick the next entry */
	RSE_OPEN,       /* the driver opens (or skips) the entry's file */
	RSE_READ,       /* 1043 out, 1643 head in */
	RSE_DATA,       /* the 1643's bytes in */
	RSE_WRITE,      /* the driver writes them */
	RSE_FINISH,     /* the driver commits or drops the file */
	RSE_CLOSE,
	RSE_DONE
};

enum rse_want {
	RSE_WANT_NOTHING = 0,
	RSE_WANT_CONNECT,
	RSE_WANT_SEND,
	RSE_WANT_RECV,
	RSE_WANT_OPEN,
	RSE_WANT_WRITE,
	RSE_WANT_FINISH,
	RSE_WANT_CLOSE
};

struct rse {
	enum rse_state st;
	char device[V3_NAME_FIELD];
	uint64_t snapshot;          /* asked (0 latest), then as listed */
	int result;
	char err[RSE_ERR_MAX];
	/* output: one request */
	uint8_t out[V3X_REQ_MAX];
	size_t out_len, out_off;
	/* input: one message's header and (head of the) payload */
	uint8_t in[V3X_ENTRY_MAX];
	size_t in_len, in_need;
	struct v3x_msg msg;         /* header parsed */
	int have_hdr;
	/* listing */
	struct v3x_msg batch[RSE_BATCH];
	unsigned n, cur;
	int more;
	uint32_t chunk;             /* min(server's chunk_max, RSE_CHUNK) */
	/* the file being restored */
	char path[RSE_PATH_MAX];    /* absolute, as backed up */
	uint64_t off;
	struct cksum_ctx ck;
	uint8_t data[RSE_CHUNK];
	size_t data_len, data_have;
	int verified;
	char file_err[RSE_ERR_MAX]; /* why the file failed ("" verified) */
	/* counts */
	unsigned files_ok, files_failed, files_skipped;
	uint64_t bytes;
};

/* Starts a restore of device's snapshot (0 = latest). */
void rse_start(struct rse *e, const char *device, uint64_t snapshot);
enum rse_want rse_want(const struct rse *e);

void rse_connected(struct rse *e, int clear);
void rse_io_failed(struct rse *e, int err, const char *why);
const uint8_t *rse_out(const struct rse *e, size_t *len);
void rse_out_ack(struct rse *e, size_t n);
uint8_t *rse_in(struct rse *e, size_t *room);
void rse_in_ack(struct rse *e, size_t n);
/* The entry RSE_WANT_OPEN/WRITE/FINISH is about. */
const struct v3x_msg *rse_entry(const struct rse *e);
void rse_open_result(struct rse *e, int r);
const uint8_t *rse_data(const struct rse *e, uint64_t *off, size_t *len);
void rse_written(struct rse *e, int err);
void rse_finished(struct rse *e, int err);
void rse_closed(struct rse *e);

#endif

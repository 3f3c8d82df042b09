/*
 * backup_engine.h — the CyberBackup v3 client as an I/O-free engine (the
 * model of BearSSL's br_ssl_engine, bd_session_feed and lineedit): it
 * never touches a socket, a file or a timer.  It says what it wants next
 * (bke_want) and the caller — a driver — does that and feeds the result:
 *
 *   BKE_WANT_CONNECT  a transport (tcp, or tls with its handshake) to
 *                     bke_server(); then bke_connected() or
 *                     bke_link_failed()
 *   BKE_WANT_SEND     bke_out() bytes; bke_out_ack(n) as they go
 *   BKE_WANT_RECV     bke_in() room; bke_in_ack(n) as bytes arrive
 *   BKE_WANT_READ     the file slice bke_slice() names; bke_slice_done()
 *   BKE_WANT_WAIT     a backoff of bke_wait_ms(); then bke_waited()
 *   BKE_WANT_CLOSE    close the transport; then bke_closed()
 *   BKE_WANT_NOTHING  the request ended: bke_event() and e->err say how
 * Send/recv failures (a reset, a close, a timeout the driver measured)
 * are fed with bke_io_failed().  Two drivers use it: the blocking one of
 * `vigild backup` (backup_client.c) and the event-loop one of the agent's
 * jobs (backup_agent_run.c).  The transport (backup_conn.h) and the
 * payload mode (AES-CBC, or clear on a vigil/2 connection: bke_connected's
 * `clear`) are below it.
 *
 * A request is a session (bke_open) or one file (bke_file; it opens the
 * session first when none is up).  States, one switch (backup_engine.c):
 *
 *   IDLE -open/file-> CONNECT -connected-> REGISTER (no identity: 1025,
 *     1600 -> key pair, me.info) -> PUBKEY (1026 -> 1602)
 *                                | RECONNECT (1027 -> 1605)
 *        -> session up: IDLE (open) | SLICE_READ (file)
 *   vigil/2: CONNECT -> HELLO (1040 -> 1640) [-> TRACE (1048)] -> the
 *     session as above; a kept session with a new job's trace id sends
 *     TRACE before the request.
 *   vigil/2, a file bke_file_known named unchanged: HAVE (1046) ->
 *     1646 have: IDLE, DONE (nothing sent) | else the file as below
 *   a file over segment_max (vigil/2, V3X_CAP_LARGE): SEGMENT (1047) ->
 *     its 1028s -> SEG_ACK (1647) -> SEGMENT ... the last one -> CRC
 *   vigil/2, V3X_CAP_SNAPSHOT, bke_snapshot: SNAP (1049 keep or seal ->
 *     1648): IDLE, DONE | 1649: IDLE, SKIPPED
 *   SLICE_READ -> SLICE_SEND (1028) -> ... last packet -> CRC (1603)
 *     equal -> COMMIT (1029 -> 1604) -> IDLE, DONE
 *     differs, 1st/2nd -> CRC_RETRY (1030) -> SLICE_READ (stream again)
 *     differs, 3rd -> ABORT (1031 -> 1604) -> IDLE, SKIPPED
 *
 * Failures, the three retry outcomes (and two that are no attempt):
 *   - retry: CLOSE, BACKOFF (backup_retry_delay_ms), CONNECT; a request
 *     gets BACKUP_RETRY_ATTEMPTS attempts;
 *   - skip: a fatal cause local to the file (unreadable, shrank, cksum
 *     mismatch three times) ends the file SKIPPED; the session stays
 *     usable (after a close when the stream was cut);
 *   - give up: the attempts are spent, or a fatal cause outside a file
 *     (the key cannot be made or saved): IDLE, GAVE_UP;
 *   - a connect that failed before the transport was up, on a name with
 *     several addresses, goes to the next address at once
 *     (BKE_EV_NEXT_ADDR), until each has failed once in this attempt;
 *   - a TLS handshake that failed while offering a saved session
 *     (BKE_CONN_RESUME_FAILED: the driver's TLS layer dropped it) is
 *     followed by a full handshake at once (BKE_EV_FULL_HANDSHAKE).
 *
 * Memory: struct bke is caller-owned (static in both drivers), with the
 * one I/O buffer of BACKUP_IOBUF_SIZE bytes: a small request at its
 * start, or a 1028 head and one ciphertext slice; replies land in its
 * last V3_RESP_MAX bytes.  mbedTLS (RSA, AES) uses the process arena.
 * Side effects that are not I/O of the caller's: RSA key generation,
 * me.info saved through hal/storage, hal_rng for the backoff jitter, log
 * lines for a cksum mismatch.
 */
#ifndef VIGIL_BACKUP_ENGINE_H
#define VIGIL_BACKUP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "backup_crypto.h"
#include "backup_identity.h"
#include "backup_link.h"
#include "cksum.h"
#include "hal/net.h"
#include "hal/storage.h"
#include "psk.h"
#include "sha256.h"
#include "v3x.h"

/* Ciphertext bytes per 1028 packet: 64 KiB (servers refuse more than
 * 16 MiB + 1024 per request; the doc suggests 64 KiB..1 MiB).  Files
 * whose ciphertext needs more than 65535 such packets (>= 4 GiB - 64 KiB)
 * use 128 KiB slices, so the buffer holds BACKUP_SLICE_BIG. */
#define BACKUP_SLICE 65536u
#define BACKUP_SLICE_BIG (2u * BACKUP_SLICE)
/* vigil/2 with V3X_CAP_LARGE: a file larger than this goes as 1028
 * transfers of at most this many bytes, each announced by a 1047 (2 GiB:
 * 32768 packets of BACKUP_SLICE, well inside the u32 sizes and u16
 * packet numbers of a 1028). */
#define BACKUP_SEGMENT_MAX (1ull << 31)
#define BACKUP_IOBUF_SIZE (V3_REQ_FILE_HEAD_MAX + BACKUP_SLICE_BIG)
#define BACKUP_IO_TIMEOUT_DEFAULT_MS 30000u
#define BACKUP_HOST_MAX 256
#define BACKUP_ERR_MAX 200
/* Resume without reading the kept bytes again: the cksum and SHA-256
 * state of the file's first bytes is kept every BACKUP_CKPT_EVERY bytes
 * read, the newest BACKUP_CKPTS of them (8 MiB back: more than a cut
 * loses in socket buffers); a resume at offset O reads only from the
 * newest one at or before O. */
#define BACKUP_CKPT_EVERY (1u << 20)
#define BACKUP_CKPTS 8
/* Addresses of backup.server's name that are kept: a name with several
 * (IPv6 and IPv4 for "localhost", say) is tried in the resolver's order
 * until one connects. */
#define BACKUP_SERVER_ADDRS 4

enum backup_pubkey_mode {
	BACKUP_PUBKEY_AUTO = 0, /* 160 first, 162 after a 1607 to 1026 */
	BACKUP_PUBKEY_160,
	BACKUP_PUBKEY_162,
};

struct backup_client_cfg {
	struct hal_addr server;         /* the name's first address */
	struct hal_addr addrs[BACKUP_SERVER_ADDRS]; /* the name's, resolved */
	unsigned n_addrs;               /* 0: server was set alone */
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
	uint64_t max_rate;              /* bytes/s of 1028s; 0: no limit */
	uint64_t segment_max;           /* 0: BACKUP_SEGMENT_MAX (tests use
					 * less; never more) */
	enum backup_pubkey_mode pubkey;
	/* Called after each 1028 packet is sent (may be NULL). */
	void (*progress)(void *arg, const char *path, uint64_t done,
			 uint64_t total);
	void *progress_arg;
};

enum bke_state {
	BKE_IDLE = 0,   /* no request */
	BKE_CONNECT,    /* wants a transport to bke_server() */
	BKE_BACKOFF,    /* wants a wait before the next attempt */
	BKE_REGISTER,   /* 1025 out, 1600 | 1601 in */
	BKE_PUBKEY,     /* 1026 out, 1602 | 1607 in */
	BKE_RECONNECT,  /* 1027 out, 1605 | 1606 in */
	BKE_SLICE_READ, /* wants the next plaintext slice */
	BKE_SLICE_SEND, /* a 1028 out */
	BKE_CRC,        /* 1603 in */
	BKE_CRC_RETRY,  /* 1030 out, then the stream again */
	BKE_COMMIT,     /* 1029 out, 1604 in */
	BKE_ABORT,      /* 1031 out, 1604 in */
	BKE_HELLO,      /* vigil/2: 1040 out, 1640 | 1607 in (v3x.h) */
	BKE_ATTR,       /* vigil/2: 1044 out (no reply), then the stream */
	BKE_OFFSET,     /* vigil/2: 1045 out, 1645 in: bytes the server kept */
	BKE_PREFIX,     /* wants the kept bytes read locally, for the cksum */
	BKE_THROTTLE,   /* a 1028 ready: wants a wait (backup.max_rate) */
	BKE_TRACE,      /* vigil/2: 1048 out (no reply), then what was next */
	BKE_HAVE,       /* vigil/2: 1046 out, 1646 | 1649 in: stored? */
	BKE_SEGMENT,    /* vigil/2: 1047 out (no reply), then its stream */
	BKE_SEG_ACK,    /* a segment's last packet out: 1647 in */
	BKE_SNAP,       /* vigil/2: 1049 out, 1648 | 1649 in */
};

enum bke_want {
	BKE_WANT_NOTHING = 0,
	BKE_WANT_CONNECT,
	BKE_WANT_SEND,
	BKE_WANT_RECV,
	BKE_WANT_READ,
	BKE_WANT_WAIT,
	BKE_WANT_CLOSE,
};

/* How a connect failed (bke_link_failed). */
enum bke_conn_fail {
	BKE_CONN_FAILED,        /* no transport: refused, unreachable, TCP
				 * timeout (the next address may do) */
	BKE_CONN_RESUME_FAILED, /* the TLS handshake failed while offering a
				 * saved session, which is now dropped */
	BKE_CONN_HANDSHAKE_FAILED, /* any other TLS handshake failure */
};

/* What the last feed decided (for the driver's log and counters). */
enum bke_event {
	BKE_EV_NONE = 0,
	BKE_EV_DONE,            /* the request succeeded: IDLE */
	BKE_EV_SKIPPED,         /* the file failed for a local cause: IDLE */
	BKE_EV_GAVE_UP,         /* attempts spent or fatal: IDLE */
	BKE_EV_RETRY,           /* an attempt failed: WAIT, then CONNECT */
	BKE_EV_NEXT_ADDR,       /* connect the name's next address now */
	BKE_EV_FULL_HANDSHAKE,  /* connect again now, without the session */
};

struct bke {
	const struct backup_client_cfg *cfg;    /* retained until free */
	enum bke_state st;
	enum bke_event ev;
	int result;             /* of the ended request: 0 / <0 */
	int fatal;              /* the last failure is not retryable */
	int must_close;         /* BKE_WANT_CLOSE before anything else */
	/* session */
	int session;            /* the AES key is valid on the transport */
	int have_id;            /* identity loaded or registered */
	int key_acked;          /* the server has our public key */
	int oaep_sha1;          /* the server wrapped with SHA-1 */
	int clear;              /* vigil/2: version 4, no AES-CBC */
	uint32_t xcaps;         /* the server's 1640 caps on this transport */
	int x_refused;          /* it answered 1040 with 1607: no hello */
	/* the job's trace id (bke_set_trace) and the one this transport's
	 * server was last told (1048 with V3X_CAP_TRACE); "" none */
	char trace[V3X_TRACE_MAX + 1];
	char trace_sent[V3X_TRACE_MAX + 1];
	struct backup_identity id;
	struct backup_key key;
	uint8_t aes[BACKUP_AES_KEY_SIZE];
	/* the server's addresses */
	unsigned addr_cur, addrs_failed;
	char peer[HAL_ADDR_TEXT_MAX];
	/* attempts */
	unsigned failures;      /* of the current request */
	uint32_t attempts;      /* all attempts made (tests, logs) */
	uint32_t wait_ms;       /* BKE_BACKOFF: the delay */
	/* the exchange in flight */
	uint16_t code;          /* the request being sent */
	size_t out_len, out_off, in_need, in_got;
	/* the file */
	int in_file;
	const char *path;       /* borrowed from bke_file until IDLE */
	char name[V3_NAME_MAX + 1];
	uint64_t size;
	size_t slice;
	int64_t tokens;         /* max_rate bucket: bytes that may go now */
	uint64_t tokens_ms;     /* hal_clock_mono_ms of the last refill */
	int tokens_set;         /* the bucket has started */
	uint64_t base;          /* resumed: the server kept [0, base); in
				 * segments: where this transfer starts */
	uint64_t xfer;          /* this 1028 transfer: [base, base + xfer) */
	int segmented;          /* the file goes in 1047 segments */
	uint64_t best_base;     /* the largest base of this file: progress */
	uint64_t prefix_pos;    /* BKE_PREFIX: bytes of [0, base) cksummed */
	struct bke_ckpt {       /* ck and sha over the file's [0, off) */
		uint64_t off;
		struct cksum_ctx ck;
		struct sha256_ctx sha;
	} ckpt[BACKUP_CKPTS];
	unsigned ckpts;         /* taken for this stream (newest: ckpts - 1) */
	int known_set;          /* bke_file_known for this file */
	uint8_t known_sha[32];
	int deduped;            /* DONE by a 1646: no byte was sent */
	struct sha256_ctx sha;  /* of the plaintext sent */
	uint8_t sha256[32];     /* the last DONE file's content hash */
	/* the run's snapshot (1049): the request in flight (enum
	 * v3x_snap_op, 0 none), the sessions begun since bke_run_begin, the
	 * last 1648 (snapshot 0: none) */
	int snap_op;
	uint32_t run_sessions;
	uint64_t snap_id;
	uint32_t snap_count;
	int attr_set;           /* bke_file_attr for this file */
	uint32_t attr_mode;
	int64_t attr_s;
	uint32_t attr_ns;
	unsigned sends;         /* streams sent of this file (3 max) */
	uint64_t loaded;        /* plaintext bytes of this stream read */
	struct v3_req req;
	struct backup_enc enc;
	int enc_live;
	struct cksum_ctx ck;
	uint32_t crc;
	char err[BACKUP_ERR_MAX]; /* the last failure, one line */
	uint8_t buf[BACKUP_IOBUF_SIZE];
};

/* Zeroes *e and retains cfg (borrowed for e's life).  Needs
 * backup_crypto_init() first.  Never fails. */
void bke_init(struct bke *e, const struct backup_client_cfg *cfg);

/* Loads me.info from cfg->state_dir.
 * @retval 0 loaded, or none (e->have_id says which)
 * @retval -EBADMSG it exists but is unusable (e->err says why) */
int bke_load_identity(struct bke *e);

/* Frees the key and wipes key material.  e may be zeroed. */
void bke_free(struct bke *e);

/* Starts a session request (done at once when a session is up).
 * @retval 0 started  @retval -EBUSY a request is running */
int bke_open(struct bke *e);

/* Starts the backup of one regular file of size bytes; path is borrowed
 * until the request ends (bke_want NOTHING).
 * @retval 0 started
 * @retval -EBUSY a request is running
 * @retval -EINVAL/-ENAMETOOLONG no v3 name for path (e->err; the file
 *         counts as SKIPPED)
 * A file over the v3 size limit (V3_FILE_MAX) is sent in segments when
 * the connection is vigil/2 and the server has V3X_CAP_LARGE, and ends
 * SKIPPED (-EMSGSIZE, e->err) otherwise, with no byte sent. */
int bke_file(struct bke *e, const char *path, uint64_t size);
/* The next bke_file's mode and mtime, sent as a 1044 before its stream
 * when the server has V3X_CAP_ATTR (call before each bke_file; without
 * it the file goes without attributes). */
void bke_file_attr(struct bke *e, uint32_t mode, int64_t mtime_s,
		   uint32_t mtime_ns);

/* The trace id of the requests that follow (the agent's job; NULL or ""
 * none).  On a vigil/2 transport whose server has V3X_CAP_TRACE it is
 * sent as a 1048 before the next request (after the 1640 on a new
 * connection, so the server's lines for the whole session carry it);
 * ids that break the 1048 rule ([0-9a-z-], 1..32) are not sent. */
void bke_set_trace(struct bke *e, const char *id);
/* The next bke_file is unchanged since a backup whose content had this
 * SHA-256 (the client's manifest says so from size and mtime): with
 * V3X_CAP_DEDUP and the attributes set, a 1046 asks the server to record
 * it from its stored content, and the bytes go only if it has not got
 * them.  Call before each bke_file, after bke_file_attr. */
void bke_file_known(struct bke *e, const uint8_t sha256[32]);
/* After a DONE file: its content's SHA-256 (the one sent, or the known
 * one of a file the server recorded), and whether it was recorded
 * without a transfer. */
const uint8_t *bke_file_sha256(const struct bke *e, int *deduped);

/* A run (a job, a `vigild backup`) starts: the sessions it uses are
 * counted from here, for its seal. */
void bke_run_begin(struct bke *e);
/* The run's snapshot (vigil/2, the last server has V3X_CAP_SNAPSHOT):
 * path keeps that file, which the run has but did not send, in the
 * snapshot at its stored version (1049 keep); NULL seals the run: its
 * snapshot is what its sessions stored or kept (1049 seal).  A request
 * like bke_file: DONE with e->snap_id, e->snap_count (the 1648), or
 * SKIPPED (a 1649).
 * @retval 0 started  @retval -EBUSY  @retval -EOPNOTSUPP the server
 * has no sealed snapshots  @retval -EINVAL no v3 name for path */
int bke_snapshot(struct bke *e, const char *path);

enum bke_want bke_want(const struct bke *e);
/* What the last feed decided (kept until taken). */
enum bke_event bke_event(const struct bke *e);
/* The same, and forgets it (BKE_EV_NONE until the next decision). */
enum bke_event bke_take_event(struct bke *e);

/* BKE_WANT_CONNECT: the address to connect (valid until the next feed). */
const struct hal_addr *bke_server(const struct bke *e);
/* The transport is up; clear: TLS chose ALPN vigil/2. */
void bke_connected(struct bke *e, int clear);
/* The transport could not be set up (the driver closed what it had);
 * err a negative errno, why a short text ("Connection refused"). */
void bke_link_failed(struct bke *e, enum bke_conn_fail how, int err,
		     const char *why);

/* BKE_WANT_SEND: the bytes to send (*len > 0). */
const uint8_t *bke_out(const struct bke *e, size_t *len);
/* n (<= *len of bke_out) bytes were sent. */
void bke_out_ack(struct bke *e, size_t n);
/* BKE_WANT_RECV: where the next *len (> 0) reply bytes go. */
uint8_t *bke_in(struct bke *e, size_t *len);
/* n (<= *len of bke_in) bytes arrived. */
void bke_in_ack(struct bke *e, size_t n);
/* A send or receive failed (reset, closed, timed out): err a negative
 * errno, why its text ("connection closed by the server").  Also fails
 * the file between two of its slices (BKE_WANT_READ, the driver waiting
 * for room to write); ignored when nothing is in flight. */
void bke_io_failed(struct bke *e, int err, const char *why);

/* BKE_WANT_READ: read the file's bytes [*off, *off + *len) into the
 * returned buffer (exactly *len, or fail). */
uint8_t *bke_slice(struct bke *e, uint64_t *off, size_t *len);
/* 0: the slice is in the buffer; <0: the read failed (-ENODATA: the
 * file shrank). */
void bke_slice_done(struct bke *e, int err);

/* BKE_WANT_WAIT: how long. */
uint32_t bke_wait_ms(const struct bke *e);
void bke_waited(struct bke *e);
/* BKE_WANT_CLOSE: the transport is closed. */
void bke_closed(struct bke *e);

/* The transport went away outside a request (the server closed an idle
 * connection) or the caller abandons the request (cancel): the session
 * is forgotten, a file in flight is dropped, the state is IDLE.  The
 * caller closes the transport. */
void bke_drop(struct bke *e);

#endif

/*
 * backupd.h — vigil-backupd, the CyberBackup v3 server: shared types of
 * the listener/connection loop (backupd.c), the per-connection v3 state
 * machine (backupd_session.c), the metadata and file store
 * (backupd_store.c) and the crypto (backupd_crypto.c).
 *
 * One thread, one event loop (lib/ev.h); every connection lives in a
 * fixed table of BD_CONNS_MAX slots with fixed buffers, so memory does not
 * grow with clients or file sizes.  docs/backupd.md is the user's view.
 */
#ifndef VIGIL_BACKUPD_H
#define VIGIL_BACKUPD_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/aes.h"
#include "mbedtls/ssl.h"

#include "backupd_db.h"
#include "backupd_blob.h"
#include "cksum.h"
#include "sha256.h"
#include "ev.h"
#include "hal/net.h"
#include "v3.h"
#include "v3x.h"

/* Connection table: 1024 slots of ~3.5 KiB each (state, one AES context,
 * buffers, the temp path) is ~3.5 MiB of static memory. */
#define BD_CONNS_MAX 1024u
/* Descriptors: connections + 2 listeners + the signal pipe + headroom. */
#define BD_FDS_MAX (BD_CONNS_MAX + 8u)
/* Timers: the sweep timer and a few spare. */
#define BD_TIMERS_MAX 8u
/* One recv per readable event at most this big; decrypted output needs the
 * same plus one held-back block. */
#define BD_RX_CHUNK 65536u
/* Responses queued while the client does not read: a v3 client waits for
 * each answer, so more than a few pending means it is not reading.  A
 * 1041 listing is answered with as many 1641 entries as fit (at least
 * 13 of the largest). */
#define BD_OUT_MAX 4096u
/* A 1643's data goes out from the file through one shared buffer. */
#define BD_TX_CHUNK 65536u
/* The largest 1043 length vigil-backupd serves (its 1640 chunk_max). */
#define BD_READ_CHUNK V3X_CHUNK_MAX
/* The TLS identity: certificate CN or PSK identity. */
#define BD_IDENTITY_MAX 96u
/* Paths: <data>/<32 hex>/<name 250>/v<10 digits> and a margin. */
#define BD_PATH_MAX 1024u
#define BD_UUID_HEX 33u /* 32 hex digits + NUL */

#define BD_TIMEOUT_MS_DEFAULT 60000u
/* Bytes read from a TLS socket at once (backupd_tls.c), ahead of what
 * mbedTLS asked for: eight 4 KiB records, per TLS connection. */
#define BD_TLS_READAHEAD 32768u

/* Options (main.c fills them from the command line). */
struct bd_options {
	const char *data_dir;
	const char *db;         /* PostgreSQL conninfo, NULL: SQLite in data_dir */
	const char *instance;   /* name among instances sharing data_dir, or NULL */
	const char *plain;      /* "[HOST:]PORT", NULL: plain v3 off */
	const char *tls;        /* "[HOST:]PORT", NULL: TLS off */
	const char *tls_cert;   /* PEM server certificate (chain) */
	const char *tls_key;    /* PEM server private key */
	const char *tls_ca;     /* PEM CA(s) that sign client certificates */
	const char *tls_psk;    /* file of identity:hexkey lines, or NULL */
	int tls_allow12;        /* --tls-min-version 1.2 */
	int tls_only12;         /* --tls-max-version 1.2 */
	uint32_t timeout_ms;    /* idle and mid-request timeout */
	uint32_t max_payload;   /* per-request payload cap */
	unsigned max_conns;     /* <= BD_CONNS_MAX */
	uint32_t partial_expiry_s; /* keep cut uploads this long; 0: never */
	int log_level;
	int log_format;        /* enum log_format */
	struct bd_blob_opts store; /* --store, --s3-* (backupd_blob.h) */
};

enum bd_rx_state {
	BD_RX_HDR = 0,     /* accumulating the 23-byte header */
	BD_RX_PAYLOAD,     /* accumulating a small payload */
	BD_RX_FILE_HEAD,   /* 1028: accumulating the 267-byte fixed part */
	BD_RX_FILE_DATA,   /* 1028: streaming the ciphertext slice */
	BD_RX_XPAYLOAD,    /* vigil/2 extension request (v3x.h) payload */
	BD_RX_CLOSING      /* answer queued, close when sent; read nothing */
};

/* Streaming AES-256-CBC decryption with PKCS#7: the last decrypted block
 * is held back until the stream ends, because it carries the padding. */
struct bd_cbc {
	mbedtls_aes_context aes;
	uint8_t iv[16];
	uint8_t part[16];  /* ciphertext bytes of an incomplete block */
	uint8_t held[16];  /* plaintext of the last complete block */
	uint8_t part_len;
	uint8_t held_ok;
	uint8_t ready;     /* aes set up (needs mbedtls_aes_free) */
};

/* The hash of the RSA-OAEP a client's session keys are wrapped with,
 * stored with its public key: SHA-256 (v3), or SHA-1 for a key that came
 * in the original C++ client's form (a 160-byte key in a 162-byte field),
 * which unwraps SHA-1 only. */
enum bd_oaep {
	BD_OAEP_SHA256 = 0,
	BD_OAEP_SHA1 = 1
};

/* What a CBC transfer does with the first plaintext block: the original
 * C++ client's stream starts with an IV block, whose plaintext is not the
 * file's (docs/protocol/cyberbackup-v3.md, "The original C++ client"). */
enum bd_iv {
	BD_IV_NONE = 0,     /* the length says: no IV block */
	BD_IV_DROP,         /* the length says: an IV block */
	BD_IV_BY_BLOCK      /* length known at the last packet only: an IV
			     * block iff the first block is zeros, which the
			     * length then confirms */
};

/* A received, decrypted file waiting for 1029/1030/1031. */
struct bd_file {
	int fd;                       /* temp file, -1: none */
	char tmp[BD_PATH_MAX];
	char name[V3_NAME_FIELD];
	uint64_t size;
	uint32_t crc;
	uint8_t complete;             /* 1603 sent, awaiting the verdict */
	uint8_t clear;                /* sent as plaintext (version 4) */
	uint8_t has_attr;             /* a 1044 came for it: mode, mtime */
	uint64_t base;                /* resumed: bytes kept before this
				       * connection's 1028s */
	uint64_t total;               /* the whole file: base + orig size */
	uint32_t mode;
	int64_t mtime_s;
	uint32_t mtime_ns;
	/* SHA-256 of the plaintext as it is written (the content's address);
	 * not live for a resumed upload, whose kept bytes are hashed from
	 * the file at the commit */
	struct sha256_ctx sha;
	uint8_t sha_live;
	struct bd_blob_up up;         /* S3: the parts sent so far */
};

/* A 1645 offset given: the next 1028 of name continues the partial. */
struct bd_resume {
	uint8_t set;
	char name[V3_NAME_FIELD];
	uint64_t total, offset;
	uint32_t crc;               /* cksum register over the kept bytes */
	char path[BD_PATH_MAX];
	char upload[BD_S3_UPLOAD_ID_MAX]; /* S3: its multipart upload */
};

/* A 1047 given: the next 1028 of name carries the bytes [offset,
 * offset + length) of a file of total bytes (docs/protocol/
 * cyberbackup-v3.md, "Files of 4 GiB and more"). */
struct bd_segment {
	uint8_t set;
	char name[V3_NAME_FIELD];
	uint64_t total, offset;
	uint32_t length;
};

/* A 1044 waiting for the 1028 of its name. */
struct bd_attr {
	uint8_t set;
	char name[V3_NAME_FIELD];
	uint32_t mode;
	int64_t mtime_s;
	uint32_t mtime_ns;
};

/* The session ticket a TLS client offered (backupd_tls.c). */
enum bd_ticket {
	BD_TICKET_NONE = 0,           /* none offered (or a PSK identity) */
	BD_TICKET_TAKEN,              /* ours and valid: resumption */
	BD_TICKET_REFUSED,            /* unusable: full handshake (logged) */
};

/* A trace id: up to 32 characters of [0-9a-z-] and the NUL (1048). */
#define BD_TRACE_MAX (V3X_TRACE_MAX + 1)

/* The log fields every line about connection c carries (log.h). */
#define BD_KV_CONN(c) LKV_U("conn", (c)->idx), LKV_S("peer", (c)->peer_text), \
	LKV_S("trace", (c)->trace[0] ? (c)->trace : NULL)

struct bd_conn {
	int fd;                       /* -1: free slot */
	unsigned idx;
	struct hal_addr peer;
	char peer_text[HAL_ADDR_TEXT_MAX];
	uint64_t started_ms, last_rx_ms, last_tx_ms;
	uint64_t bytes_in, bytes_out;   /* on the wire (TLS records included) */
	mbedtls_ssl_context *tls;     /* NULL: plain v3 */
	uint8_t tls_done;             /* handshake finished */
	char tls_info[96];            /* "TLSv1.3 <suite>" */
	char tls_peer[96];            /* certificate subject or "psk:<id>" */
	enum bd_ticket tls_ticket;    /* a session ticket offered: used? */
	/* ALPN "vigil/2" was negotiated: requests may be version 4, whose
	 * 1028s carry plaintext (docs/protocol/cyberbackup-v3.md, "Extension:
	 * clear payload inside TLS").  0 for plain v3 and any other ALPN. */
	uint8_t clear;
	/* the agent's job trace id (vigil/2 only, docs/protocol/
	 * cyberbackup-v3.md "Extension: trace id"); "" none */
	char trace[BD_TRACE_MAX];
	enum bd_rx_state st;
	uint64_t req_started_ms;      /* first byte of the current request */
	uint64_t file_started_ms;     /* first byte of the file's packet 1 */
	uint64_t drain_until_ms;      /* BD_RX_CLOSING after shutdown */
	uint8_t draining;             /* answer sent, write side shut */
	uint8_t last_packet;          /* this 1028 completes the file */
	uint8_t hdr[V3_REQ_HDR_SIZE];
	size_t hdr_len;
	uint8_t pay[V3_REQ_SMALL_MAX];
	size_t pay_len;
	struct v3_req req;
	uint32_t data_left;           /* 1028 slice bytes still to come */
	uint8_t out[BD_OUT_MAX];
	size_t out_len, out_off;
	/* session */
	int64_t session_row;          /* sessions table row, 0: none */
	uint8_t client_id[V3_ID_SIZE];
	char uuid_hex[BD_UUID_HEX];
	char client_name[V3_NAME_FIELD]; /* as sent in 1025/1027 */
	uint8_t have_client;          /* client_id is a known client */
	uint8_t registered;           /* this connection registered reg_id */
	uint8_t reg_id[V3_ID_SIZE];
	uint8_t have_key;             /* aes_key sent this session */
	uint8_t aes_key[32];
	/* transfer */
	struct v3_file_rx rx;
	struct bd_cbc cbc;
	uint8_t iv_mode;              /* enum bd_iv, set at packet 1 */
	uint8_t iv_drop;              /* plaintext bytes still to drop */
	uint8_t iv_dropped;           /* the stream had an IV block */
	uint8_t ct_head_len;          /* BD_IV_BY_BLOCK: first block so far */
	uint8_t ct_head[16];
	struct cksum_ctx ck;
	struct bd_file file;
	unsigned files_ok;            /* stored, or recorded by a 1046 */
	unsigned files_deduped;       /* of those: recorded by a 1046 */
	unsigned partial_cleared;     /* partial files dropped */
	/* vigil/2 extension (backupd_restore.c) */
	struct v3x_msg xreq;
	uint8_t x_hello;              /* 1040 received */
	uint8_t x_nodelay;            /* TCP_NODELAY set for 1643s */
	struct bd_attr attr;
	struct bd_resume resume;
	struct bd_segment seg;
	uint8_t in_seg;               /* the open transfer is a segment */
	uint8_t seg_between;          /* a segment ended (1647): the file
				       * stays open for the next 1047 */
	uint64_t seg_end;             /* where the open segment ends */
	unsigned partial_kept;        /* cut uploads kept for a resume */
	char identity[BD_IDENTITY_MAX]; /* "" when TLS gave none */
	int tx_fd;                    /* 1643 data being sent, -1: none */
	uint64_t tx_off, tx_left;
	unsigned files_read;
};

/* ---- backupd.c ---- */

/* Runs the server until SIGTERM/SIGINT.
 * @retval 0 clean shutdown  @retval 1 startup failure (already logged) */
int bd_run(const struct bd_options *opt);

/* Options in force (main.c's, borrowed for the run). */
extern const struct bd_options *bd_opt;

/* Queues a response on c (sent as soon as the socket takes it).
 * @retval 0 queued  @retval -ENOSPC client is not reading (caller closes) */
int bd_conn_send(struct bd_conn *c, const struct v3_resp *r);

/* Queues len raw bytes (a packed extension response).
 * @retval 0  @retval -ENOSPC */
int bd_conn_queue(struct bd_conn *c, const uint8_t *p, size_t len);
/* Free room in c's output buffer. */
size_t bd_conn_room(const struct bd_conn *c);

/* Server-wide counters since start (the status document). */
struct bd_totals {
	uint64_t started_ms;          /* ev_now at start */
	uint64_t accepted, refused;   /* connections */
	uint64_t files_stored, partial_cleared;
	uint64_t files_by_hash;       /* of files_stored: 1046, no bytes */
	uint64_t bytes_in, bytes_out; /* of closed connections */
};

/* A connection that has closed, kept for the status document. */
struct bd_closed {
	char peer[HAL_ADDR_TEXT_MAX];
	char tls_info[96];            /* "" for plain */
	char client[BD_UUID_HEX];     /* "" when it never identified */
	char reason[40];
	uint64_t closed_ms, duration_ms, bytes_in, bytes_out;
	unsigned files_ok, partial_cleared;
};
/* How many closed connections the status document lists. */
#define BD_CLOSED_KEEP 16u

/* The connection in table slot i (fd < 0: free). */
const struct bd_conn *bd_conn_at(unsigned i);
const struct bd_totals *bd_totals_get(void);
/* The k-th most recently closed connection (k = 0 newest), or NULL. */
const struct bd_closed *bd_closed_at(unsigned k);
/* The listeners' addresses as text ("" when off). */
const char *bd_listen_text(int tls);

/* ---- backupd_status.c ---- */

/* Largest status document: per connection at most ~1.3 KiB (names are
 * bounded by V3_NAME_FIELD, texts by their fields), plus the closed
 * list and the header. */
#define BD_STATUS_MAX (BD_CONNS_MAX * 1400u + BD_CLOSED_KEEP * 400u + 4096u)

/* Listens on <data>/status.sock (mode 0600) for `--status` readers.
 * @retval 0  @retval -1 (logged) */
int bd_status_open(struct ev_loop *loop, const char *data_dir);
void bd_status_close(void);
/* Drops a status reader that has not taken its document in time. */
void bd_status_sweep(uint64_t now);

/* Encodes the status document (docs/backupd.md) into buf.
 * @retval length  @retval -ENOSPC (cannot happen within BD_STATUS_MAX) */
int bd_status_encode(uint8_t *buf, size_t cap, uint64_t now);

/* The status socket of instance name (NULL: the only one) is
 * <data>/status-NAME.sock.  @retval 0  @retval -ENAMETOOLONG */
int bd_status_set_instance(const char *name);
/* The status socket's file name in the data directory. */
const char *bd_status_sock_name(void);

struct sockaddr_un;
/* The socket address of <dir>/status.sock; a path too long for
 * sun_path goes through /proc/self/fd/<*dirfd> (close *dirfd, when not
 * -1, after bind/connect).  @retval 0  @retval -errno */
int bd_status_addr(const char *dir, struct sockaddr_un *a, int *dirfd);

/* `vigil-backupd --status`: connects to <data>/status.sock and writes
 * the document to stdout as CBOR, or as JSON / diagnostic notation.
 * @retval 0  @retval 1 (message on stderr) */
int bd_status_query(const char *data_dir, const char *format);

/* ---- backupd_session.c ---- */

/* Consumes n received bytes.  @retval 0 keep the connection
 * @retval <0 close it now (the reason is logged) */
int bd_session_feed(struct bd_conn *c, const uint8_t *buf, size_t n);

/* Writes the file data staged for c; a failure answers 1607 (disk
 * full / I/O error) and closes like any write failure. */
void bd_session_flush(struct bd_conn *c);

/* Drops whatever the connection left unfinished (temp file, open
 * transfer) and counts it in c->partial_cleared. */
void bd_session_drop_partial(struct bd_conn *c);

/* A 1047 in c->xreq: the next 1028 of its name is that segment.
 * @retval 0  @retval <0 close (1607 queued: it does not continue what
 * the connection holds) */
int bd_session_segment(struct bd_conn *c);

/* ---- backupd_restore.c ---- */

/* The extension request in c->xreq (header parsed, payload in c->pay):
 * checks and answers it.  @retval 0  @retval <0 close */
int bd_restore_request(struct bd_conn *c);
/* Closes what a 1643 in progress holds. */
void bd_restore_tx_end(struct bd_conn *c);
/* Sends 1643 data the socket takes.  @retval 0 all sent, 1 more left,
 * <0 gone (logged) */
int bd_restore_tx(struct bd_conn *c);
/* The device name in c->identity from the TLS peer (certificate subject's
 * CN, or the PSK identity). */
void bd_restore_identity(struct bd_conn *c);

/* ---- backupd_partial.c: cut uploads kept for a resume ---- */

/* At a close: keeps c's cut version-4 upload (flushed, moved to
 * <data>/.resume, a partials row).  @retval 1 kept  @retval 0 not (the
 * caller drops it as before) */
int bd_partial_keep(struct bd_conn *c);
/* A 1045: the bytes kept of name at this size (0: none; a partial of
 * another size is dropped); arms c->resume.  */
uint64_t bd_partial_offset(struct bd_conn *c, const char *name,
			   uint64_t size);
/* Packet 1 of a 1028: when c->resume names it, opens the partial for
 * appending into c->file and c->ck.  @retval 1 resumed  @retval 0 not a
 * resume  @retval -EINVAL its size does not continue the partial
 * @retval -EIO */
int bd_partial_take(struct bd_conn *c);
/* S3: sends the whole parts c's file has spooled and records what the
 * store holds as the partial a resume continues (any instance sharing
 * the metadata).  @retval 0  @retval <0 (the store failed; logged) */
int bd_partial_spool(struct bd_conn *c);
/* Forgets the partial row of (id, name) after its file was stored. */
void bd_partial_done(const uint8_t id[V3_ID_SIZE], const char *name);
/* Drops partials older than --partial-expiry (at most once a minute). */
void bd_partial_expire(uint64_t now_mono);
void bd_partial_counts(uint64_t *kept, uint64_t *expired);

/* ---- backupd_catalog.c: the stored files as snapshots ---- */

/* The client id of device name.  @retval 0  @retval -ENOENT  @retval -EIO */
int bd_catalog_device(const char *name, uint8_t id[V3_ID_SIZE]);
/* 1 when identity may read device (the same name, or a grant), 0 not,
 * -EIO. */
int bd_catalog_may_read(const char *identity, const char *device);
/* `vigil-backupd --grant|--revoke DEVICE=READER`: lets the TLS identity
 * READER read DEVICE's files (or no longer), in <data_dir>'s database
 * (which a running server may be using).  @retval exit status */
int bd_catalog_grant(const char *data_dir, const char *spec, int revoke);
/* Resolves snapshot (0: latest) of client id into *out.
 * @retval 0  @retval -ENOENT no such snapshot (or no files)  @retval -EIO */
int bd_catalog_snapshot(const uint8_t id[V3_ID_SIZE], uint64_t snapshot,
			uint64_t *out);
/* Up to max entries (1641 fields) of snapshot after file id `after`, in
 * id order, into e[]; *more = 1 when there are further ones.
 * @retval count  @retval -EIO */
int bd_catalog_list(const uint8_t id[V3_ID_SIZE], uint64_t snapshot,
		    uint64_t after, struct v3x_msg *e, unsigned max, int *more);
/* Snapshot membership (docs/backupd.md, "Snapshots"), as SQL text for
 * the queries of the catalog and of prune.  C, S, F, LO are SQL
 * expressions (a parameter, a column).
 * BD_SQL_SNAPS(C): the snapshot ids of client C: the sessions that stored
 * a version, and the sealed ones.
 * BD_SQL_LO(C, S): the first session of the run of the newest sealed
 * snapshot <= S of client C; 0 when none is sealed.
 * BD_SQL_MEMBER(F, S, LO): file F is in snapshot S (with its LO): any
 * file when LO is 0, else one with a version or a keep in sessions
 * LO..S. */
#define BD_SQL_SNAPS(C) \
	"SELECT v.session_id AS id FROM versions v JOIN files f" \
	" ON f.id = v.file_id WHERE f.client_id = " C " UNION SELECT id" \
	" FROM sessions WHERE client_id = " C " AND sealed IS NOT NULL"
#define BD_SQL_LO(C, S) \
	"COALESCE((SELECT sealed FROM sessions WHERE id = (SELECT MAX(id)" \
	" FROM sessions WHERE client_id = " C " AND sealed IS NOT NULL" \
	" AND id <= " S ")), 0)"
#define BD_SQL_MEMBER(F, S, LO) \
	"(" LO " = 0 OR EXISTS (SELECT 1 FROM versions m WHERE m.file_id = " \
	F " AND m.session_id BETWEEN " LO " AND " S ") OR EXISTS (SELECT 1" \
	" FROM kept m WHERE m.file_id = " F " AND m.session_id BETWEEN " LO \
	" AND " S "))"
/* 1049 keep: file name of client id stays in the snapshot of the run
 * that session is part of.  @retval 1 kept  @retval 0 no version of it
 * is stored (nothing to keep)  @retval -EIO */
int bd_catalog_keep(const uint8_t id[V3_ID_SIZE], int64_t session,
		    const char *name);
/* 1049 seal: session is the last of a run of `sessions` sessions of
 * client id that covered the device's whole tree; its snapshot holds
 * what those sessions stored or kept.  *files: its files.
 * @retval 0  @retval -EIO */
int bd_catalog_seal(const uint8_t id[V3_ID_SIZE], int64_t session,
		    uint32_t sessions, uint32_t *files);
/* What the store holds, for --status (zeros when the database fails). */
struct bd_store_counts {
	uint64_t snapshots;           /* sessions that stored files, or sealed */
	uint64_t sealed;              /* of them: sealed by their run */
	uint64_t files, versions;
	uint64_t bytes_stored;        /* bytes on disk: each content once */
	uint64_t bytes_logical;       /* sum of the versions' sizes */
	uint64_t contents;            /* distinct contents stored */
	uint64_t partials;            /* kept for a resume now */
	uint64_t bytes_freed;         /* by prune, ever */
};
void bd_catalog_counts(struct bd_store_counts *n);
/* The stored path (under the data directory) and size of (file_id,
 * version) when it belongs to client id.  @retval 0  @retval -ENOENT
 * @retval -EIO */
int bd_catalog_version(const uint8_t id[V3_ID_SIZE], uint64_t file_id,
		       uint32_t version, char *path, size_t cap,
		       uint64_t *size);

/* ---- backupd_store.c ---- */

/* Prepares sql on the store's database; NULL (logged) on failure. */
struct bd_stmt *bd_prep(const char *sql);
/* Metadata in the PostgreSQL database conninfo (backupd_db.h) instead
 * of <data>/backupd.sqlite, for the bd_store_open* calls after it. */
void bd_store_use_db(const char *conninfo);

/* Opens (creating) <data>/backupd.sqlite and the data layout.
 * @retval 0 ok  @retval -EIO failure (logged) */
int bd_store_open(const char *data_dir);
void bd_store_close(void);
/* Opens <data>/backupd.sqlite read-only and nothing else (no layout, no
 * cleaning: a running server may own it).  @retval 0  @retval -EIO */
int bd_store_open_readonly(const char *data_dir);

/* Opens an existing <data>/backupd.sqlite read-write (schema brought up
 * to date; no layout, no cleaning: a running server may own it).
 * @retval 0  @retval -EIO (logged) */
int bd_store_open_existing(const char *data_dir);
/* The open database (backupd_prune.c runs its transaction on it). */
struct bd_db *bd_store_db(void);

/* ---- backupd_store_pg.c ---- */

/* Creates the tables of a PostgreSQL database, or brings them up to
 * date (one instance at a time).  @retval 0  @retval -EIO (logged) */
int bd_store_pg_schema(struct bd_db *db);

/* ---- backupd_prune.c ---- */

/* `vigil-backupd prune ...` (argv[0] is "prune").  @retval exit status */
int bd_prune_main(int argc, char **argv);

/* ---- backupd_export.c ---- */

/* `vigil-backupd export ...` (argv[0] is "export").  @retval exit status */
int bd_export_main(int argc, char **argv);
const char *bd_store_data_dir(void);

/* The id as 32 lowercase hex digits (the client's directory name). */
void bd_store_uuid_hex(const uint8_t id[V3_ID_SIZE], char out[BD_UUID_HEX]);

/* Registers name with a fresh random id (written to id).
 * @retval 0 registered
 * @retval 1 the name was registered but never got a key (its 1600 was
 *         lost): the same id again, in id
 * @retval -EEXIST name taken  @retval -EIO */
int bd_store_register(const char *name, uint8_t id[V3_ID_SIZE]);

/* Stores the public key of the client (id, name) and the OAEP hash its
 * session keys are wrapped with.
 * @retval 0  @retval -ENOENT no such client  @retval -EIO */
int bd_store_set_key(const uint8_t id[V3_ID_SIZE], const char *name,
		     const uint8_t *spki, size_t len, enum bd_oaep oaep);

/* The public key of client (id, name) into spki[0..cap), length to *len,
 * its OAEP hash to *oaep.
 * @retval 0  @retval -ENOENT unknown client or no key  @retval -EIO */
int bd_store_get_key(const uint8_t id[V3_ID_SIZE], const char *name,
		     uint8_t *spki, size_t cap, size_t *len,
		     enum bd_oaep *oaep);

/* Opens a temp file for a transfer under <data>/.tmp (path to f->tmp).
 * @retval 0  @retval -EIO / -ENOSPC */
int bd_store_tmp_open(struct bd_file *f, unsigned conn_idx);

/* Writes n bytes to the temp file: staged in a buffer shared by all
 * connections and written when it fills (f->size counts them at once).
 * @retval 0  @retval -ENOSPC / -EIO (of this or of an earlier stage) */
int bd_store_tmp_write(struct bd_file *f, const uint8_t *p, size_t n);
/* Writes what is staged for f.  The loop calls it after each batch of
 * input, so nothing stays staged while it waits.
 * @retval 0  @retval -ENOSPC / -EIO */
int bd_store_tmp_flush(struct bd_file *f);
/* The staging buffer: a multiple of the file system block. */
#define BD_STAGE_MAX (256u * 1024u)

/* Removes the temp file (if any).  @retval 1 one was removed, else 0 */
int bd_store_tmp_drop(struct bd_file *f);

/* Commits the temp file as the next version of f->name for client id;
 * the version number goes to *version.  Nothing is replaced.
 * @retval 0  @retval -ENOSPC / -EIO (temp file removed) */
int bd_store_commit(const uint8_t id[V3_ID_SIZE], const char *uuid_hex,
		    struct bd_file *f, int64_t session_row,
		    unsigned *version);

/* The next version number of (id, name), creating the files row; the
 * file id to *file_id.  Inside the caller's transaction.
 * @retval >0 version  @retval -EIO */
int64_t bd_store_next_version(const uint8_t id[V3_ID_SIZE], const char *name,
			      int64_t *file_id);
/* Links the stored content src as <data>/<uuid_hex>/<name>/v<version>
 * (the directories made as needed; a taken number moves *version on, a
 * content linked too often is named by src itself); the path to out.
 * The directory is not fsynced: a version whose link a crash lost is
 * read from its content (bd_catalog_version).
 * @retval 0  @retval -ENOSPC / -EIO */
int bd_store_link_named(const char *src, const char *uuid_hex,
			const char *name, int64_t *version, char *out,
			size_t cap);
/* Inserts the versions row of f (size, cksum, attributes) at path
 * (absolute, under the data directory) with the content's sha256 hex
 * digest.  @retval 0  @retval -EIO */
int bd_store_insert_version(int64_t file_id, int64_t version,
			    const struct bd_file *f, const char *path,
			    const char *sha_hex, int64_t session_row);

/* Session rows: start and end (counts and reason). */
int64_t bd_store_session_start(const uint8_t id[V3_ID_SIZE],
			       const char *peer);
void bd_store_session_end(int64_t row, unsigned files_ok,
			  unsigned partial_cleared, const char *reason);

/* ---- backupd_content.c: content addressed by SHA-256 ---- */

/* Hex digest + NUL. */
#define BD_SHA_HEX 65u
/* The SHA-256 of f's temp file as hex: from f->sha when it saw every
 * byte, else read back from the file.  @retval 0  @retval -EIO */
int bd_content_digest(struct bd_file *f, char hex[BD_SHA_HEX]);
/* Inside the commit's transaction: makes the content of f's temp file
 * known under hex — the stored content when there is one (the temp file
 * is then not kept), else the temp file linked to <data>/.content/
 * <2 hex>/<hex> and a content row.  Absolute path to path; *created = 1
 * when it was linked now (bd_content_undo removes it on a rollback).
 * @retval 0  @retval -ENOSPC / -EIO */
int bd_content_put(const struct bd_file *f, const char *hex, char *path,
		   size_t cap, int *created);
/* Rolls back a bd_content_put that linked new content. */
void bd_content_undo(const char *path);
/* A 1046 of connection c (m: size, sha256, attributes, name): when
 * content of that hash and size is stored and this client has stored it
 * before, records it as the next version of the name in this session.
 * @retval 1 recorded (version to *version)  @retval 0 not here: the
 * client sends the bytes  @retval -EIO
 * The row is committed with its batch (bd_content_batch_end). */
int bd_content_have(struct bd_conn *c, const struct v3x_msg *m,
		    unsigned *version);
/* Commits the 1046 confirmations not yet committed (backupd_content.c
 * batches them); the store's own transactions, the sweep, a close and
 * shutdown call it. */
void bd_content_batch_end(void);
/* Inside prune's transaction: deletes content no version references,
 * its bytes added to *freed.  @retval count  @retval -EIO */
int bd_content_gc(uint64_t *freed);

/* ---- backupd_tls.c ---- */

/* Loads the server certificate, key and client CA and/or the PSK file,
 * and prepares the TLS server configuration (1.3; 1.2 too with
 * tls_allow12).  @retval 0  @retval -1 (logged) */
int bd_tls_init(const struct bd_options *o);
void bd_tls_free(void);

/* Gives c a TLS context over its socket.  @retval 0 / -ENOMEM */
int bd_tls_conn_start(struct bd_conn *c);
/* Frees it (sending close_notify when the handshake had finished). */
void bd_tls_conn_free(struct bd_conn *c);

/* Advances the handshake.  @retval 0 done (logged)  @retval -EAGAIN wait
 * for *want (EV_READ/EV_WRITE)  @retval -EIO failed (logged) */
int bd_tls_handshake(struct bd_conn *c, unsigned *want);

/* TLS counters since start (the status document). */
struct bd_tls_counts {
	uint64_t resumed;             /* handshakes resumed from a ticket */
	uint64_t tickets_refused;     /* tickets not usable: full handshake */
};
const struct bd_tls_counts *bd_tls_counts_get(void);

/* Connection I/O, plain or TLS, with hal_net_recv/send's results (0 from
 * recv: the peer closed).  Counts wire bytes. */
int bd_io_recv(struct bd_conn *c, uint8_t *buf, size_t cap);
int bd_io_send(struct bd_conn *c, const uint8_t *buf, size_t len);
/* Decrypted bytes TLS holds that no poll() will announce. */
size_t bd_io_pending(const struct bd_conn *c);

/* ---- backupd_psk.c ---- */

struct psk;
/* Most pre-shared keys in a --tls-psk file (~100 bytes each). */
#define BD_PSK_MAX 1024u

/* Reads the --tls-psk file (identity:hexkey lines, # comments).
 * @retval 0  @retval -1 unreadable, malformed line, repeated identity,
 *         no keys (logged with the line number) */
int bd_psk_load(const char *path);
/* The key of identity id[0..len), or NULL. */
const struct psk *bd_psk_find(const uint8_t *id, size_t len);
/* Forgets (and wipes) every key. */
void bd_psk_wipe(void);

/* ---- backupd_crypto.c ---- */

/* Starts PSA/RNG use.  @retval 0 / -EIO */
int bd_crypto_init(void);

/* Fresh random AES-256 key into key, wrapped for the public key spki with
 * RSA-OAEP (SHA-256 or SHA-1, as oaep says) into out[0..V3_RSA_BLOB_SIZE).
 * @retval 0  @retval -EBADMSG key not usable  @retval -EIO */
int bd_crypto_wrap_new_key(const uint8_t *spki, size_t spki_len,
			   enum bd_oaep oaep, uint8_t key[32],
			   uint8_t out[V3_RSA_BLOB_SIZE]);

/* Checks that spki parses as an RSA-1024 public key.
 * @retval 0  @retval -EBADMSG */
int bd_crypto_check_spki(const uint8_t *spki, size_t len);

/* Streaming CBC decryption (see struct bd_cbc). */
int bd_cbc_start(struct bd_cbc *d, const uint8_t key[32]);
/* Decrypts n bytes into out (cap >= n + 16); plaintext length to *olen.
 * @retval 0 */
int bd_cbc_feed(struct bd_cbc *d, const uint8_t *in, size_t n, uint8_t *out,
		size_t *olen);
/* Ends the stream: the last block without padding into out (cap >= 16).
 * @retval 0  @retval -EBADMSG incomplete block or bad padding */
int bd_cbc_finish(struct bd_cbc *d, uint8_t *out, size_t *olen);
void bd_cbc_free(struct bd_cbc *d);

/* Random bytes.  @retval 0 / -EIO */
int bd_random(uint8_t *p, size_t n);

#endif

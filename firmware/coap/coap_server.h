/*
 * coap_server.h — vigild's CoAP server (RFC 7252) on UDP, in the event
 * loop: requests (CON and NON), piggybacked responses, message-id
 * deduplication, Observe (RFC 7641) and Block2 (RFC 7959).  The
 * resources are in coap_resources.c; the user's reference is
 * docs/coap.md.
 *
 * One datagram at a time, in the socket's readable callback:
 *
 *   recvfrom -> coap_recv (parse + classify, protocol/coap.h)
 *     IGNORE          dropped (counted)
 *     RESET           RST echoing the message id
 *     BAD_OPTION/4.00 piggybacked error response
 *     OK, Empty ACK   the acknowledgement of a CON notification
 *     OK, RST         an observer cancels (or a notification failed)
 *     OK, request     dedup table: a duplicate (peer, mid) gets the
 *                     cached response again, byte for byte;
 *                     else coap_res_handle() -> response (ACK for a
 *                     CON, NON for a NON), cached in the dedup table
 *
 * Amplification (RFC 7252 §11.3, RFC 9175 §2.4; coap_verify.c, docs/coap.md):
 * over plain UDP the peer's address is not proven.  An answer from an
 * unverified address is at most COAP_SRV_AMP_FACTOR (3) times the
 * request's size, but never less than COAP_SRV_AMP_FLOOR bytes (a
 * 64-byte Block2 block with its header, or a whole diagnostic): a larger
 * representation goes out in Block2 blocks that fit.  coap.amplification
 * chooses what happens to a GET whose answer would exceed that:
 *   echo  (default) the address is verified first: a request with a
 *         valid Echo (RFC 9175) verifies it at once; otherwise the
 *         request is held and a CoAP ping (Empty CON, 4 bytes) sent, and
 *         the RST that every RFC 7252 endpoint answers with verifies it
 *         (then the held request is answered in full); when no pending
 *         slot is free the answer is 4.01 with an Echo option; a ping
 *         not answered within COAP_SRV_PING_WAIT_MS gets the limited
 *         answer.  A verified address gets full-size blocks for
 *         COAP_SRV_VERIFIED_MS.
 *   limit the limited answer, always;
 *   off   no limit.
 * Over DTLS (a proven peer) the limit is the message size.
 *
 * Deduplication: the last COAP_SRV_DEDUP_MAX responses are kept with
 * (peer, message id); a CON or NON repeated within EXCHANGE_LIFETIME
 * (247 s) is answered from there without running the handler again.  A
 * full table evicts the oldest entry, so a duplicate arriving after
 * COAP_SRV_DEDUP_MAX newer exchanges is handled twice (GETs are safe;
 * the POSTs are idempotent in effect: reload, cancel).
 *
 * Observe: /status and /health.  A GET with Observe 0 registers (peer,
 * token) — the response carries the Observe option only when a slot was
 * free — Observe 1 deregisters.  After every event-loop pass that ran a
 * callback (coap_srv_changed, from the loop's after-pass hook: the pass
 * in which a health check, the watchdog, the backup client or a reload
 * changed state) the server compares the change key of each observed
 * part (status_doc.h: health transitions, watchdog gate, backup link and
 * jobs, reloads) with the one last sent, and notifies on a difference.
 * The tick only retransmits CON notifications and refreshes every
 * observer shortly before its Max-Age runs out; it sleeps until the
 * next of those deadlines.  Notifications are NON, except that one is CON when
 * the observer has not confirmed anything for COAP_SRV_CON_EVERY_MS (24
 * h) or when the previous notification was a NON that drew no answer —
 * so at most every second notification is NON and a silent observer is
 * found out within two notifications.  A CON is retransmitted
 * (ACK_TIMEOUT 2-3 s, doubling, MAX_RETRANSMIT 4); an observer is
 * dropped on RST, on a CON that is never acknowledged, and on a
 * notification that cannot be built.  Sequence numbers are one 24-bit
 * counter for the whole server, incremented for every message that
 * carries Observe, so they rise for every observer.  A representation
 * larger than one block is notified as its first block (Block2 num 0,
 * with ETag); the client GETs the rest, and those GETs (Block2 num > 0)
 * neither register nor take a sequence number even when they repeat the
 * Observe option (RFC 7959 §2.6).  When they do repeat it, the answer
 * carries the notification's own number again: node-coap 1.5.0 takes
 * the Observe value of the last block and drops a notification whose
 * value is missing (it reads as 0, "older") for 128 s.
 *
 * Block2: blocks of a resource are cut from one snapshot per resource,
 * re-rendered for block 0 only when the state's change key moved or the
 * snapshot is older than COAP_SRV_SNAPSHOT_MS, and kept for later
 * blocks, so the blocks of one transfer agree and the ETag (a 4-byte
 * FNV-1a of the representation) names it.
 *
 * DTLS (coap_dtls.h): sockets of coap.dtls_listen are secure; their
 * datagrams go through a DTLS 1.2 PSK session, whose plaintext records
 * enter coap_srv_datagram like plain datagrams, and coap_srv_send sends
 * on that session.
 *
 * Authorisation: state-changing requests (POST) need a secure peer
 * (DTLS: only a known PSK identity completes the handshake) or
 * open_control; otherwise 4.01.  Control requests are logged with the
 * identity.
 *
 * Storage: struct coap_srv holds everything (~74 KiB: dedup responses,
 * observers' CON copies, snapshots, verified addresses and held
 * requests ~1.4 KiB, DTLS contexts ~5 KiB whose record
 * buffers are in the crypto arena); nothing is allocated.
 */
#ifndef VIGIL_COAP_SERVER_H
#define VIGIL_COAP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap.h"
#include "coap_dtls.h"
#include "ev.h"
#include "hal/net.h"
#include "probe.h"
#include "status_doc.h"

/* Listening sockets: one IPv4 and one IPv6 address is the usual set;
 * two more for a board with a management and a service interface. */
#define COAP_SRV_SOCKS_MAX 4
/* coap.listen: "[v6]:port" is at most 47 + 8 characters, four of them
 * with commas ~224; the config's path-sized value (127) holds two
 * addresses of any form or four IPv4 ones. */
#define COAP_SRV_LISTEN_MAX 128
/* Responses kept for deduplication.  A poller sends a request a second
 * at most; 16 is the last 16 exchanges (~18 KiB), enough for a handful
 * of clients retrying within one ACK timeout each. */
#define COAP_SRV_DEDUP_MAX 16
/* Observers: a fleet poller, a workstation or two, each on /status and
 * /health.  Each keeps a copy of its CON notification (COAP_MAX_MSG). */
#define COAP_SRV_OBS_MAX 8
/* Datagrams read per readable callback, so one flood cannot starve the
 * rest of the loop (the socket buffer keeps the others).  Their answers
 * on a plain socket go out together when the burst ends (one sendmmsg:
 * struct coap_srv_burst). */
#define COAP_SRV_RX_BURST 16
/* Response size limit to an unverified address (see the top). */
#define COAP_SRV_AMP_FACTOR 3
/* ...but at least a 64-byte block and its header: 4 + token 8 + ETag 5 +
 * Observe 4 + Content-Format 2 + Max-Age 2 + Block2 4 + Size2 3 +
 * marker 1 = 33 bytes, rounded up to 48 (an 11-byte GET may draw ~10x:
 * the price of not cutting the document into 16-byte slices). */
#define COAP_SRV_AMP_FLOOR (64 + 48)
/* Verified addresses kept (LRU); a fleet poller, a few workstations. */
#define COAP_SRV_VERIFIED_MAX 16
/* An address stays verified this long after it proved itself (not
 * extended by use, so a spoofer cannot keep it open). */
#define COAP_SRV_VERIFIED_MS (300u * 1000u)
/* Requests held while their address answers a ping; each keeps its
 * datagram (a GET is ~11-40 bytes; a longer one gets Echo instead). */
#define COAP_SRV_PENDING_MAX 4
#define COAP_SRV_HOLD_MAX 96
/* A ping unanswered this long: the held request gets the limited answer
 * (below ACK_TIMEOUT, so it comes before the client retransmits). */
#define COAP_SRV_PING_WAIT_MS 1500u
/* ...in which the ping is sent again this often (a ping is 4 bytes; a
 * lost one, or one libcoap's client missed, then costs 0.5 s, not the
 * full-size answer: seen on a loaded machine, ~1 read in 10). */
#define COAP_SRV_PING_EVERY_MS 500u
/* Echo value: 4-byte time (s) + 8-byte HMAC-SHA256 over time and the
 * address, valid this long (the client repeats at once, RFC 9175 §2.3). */
#define COAP_SRV_ECHO_LEN 12
#define COAP_SRV_ECHO_FRESH_S 60u
/* Max-Age of the representations (seconds): the health interval's
 * default (30 s) twice; observers get a refresh before it ends. */
#define COAP_SRV_MAX_AGE_S 60u
/* The refresh goes out this long before Max-Age ends (a NON in flight
 * and the client's clock granularity). */
#define COAP_SRV_REFRESH_EARLY_MS 5000u
/* The first tick after start (ms).  After that the tick sleeps until the
 * next deadline (a CON retransmission, an observer's refresh, a DTLS or
 * verification timer), at most COAP_SRV_IDLE_MS; changes are not polled
 * for (coap_srv_changed).  So an idle server with observers wakes once
 * per refresh, not once a second (issue 18: idle wakeups). */
#define COAP_SRV_TICK_MS 1000u
#define COAP_SRV_IDLE_MS (COAP_SRV_MAX_AGE_S * 1000u)
/* At least one CON notification per observer this often (RFC 7641
 * §4.5: "at least every 24 hours"). */
#define COAP_SRV_CON_EVERY_MS (24u * 3600u * 1000u)
/* A snapshot serves block 0 of a new transfer while younger than this;
 * later blocks are served from it for up to the exchange lifetime. */
#define COAP_SRV_SNAPSHOT_MS 1000u
/* Largest representation: the status document. */
#define COAP_SRV_BODY_MAX STATUS_DOC_MAX

/* The resources (coap_resources.c). */
enum coap_res_id {
	COAP_RES_NONE = 0,
	COAP_RES_CORE,          /* /.well-known/core */
	COAP_RES_STATUS,        /* /status */
	COAP_RES_HEALTH,        /* /health */
	COAP_RES_BACKUP,        /* /backup */
	COAP_RES_BACKUP_CANCEL, /* /backup/cancel */
	COAP_RES_CONNS,         /* /conns */
	COAP_RES_PROBE,         /* /probe */
	COAP_RES_RELOAD,        /* /reload */
	COAP_RES_METRICS,       /* /metrics */
	COAP_RES_COUNT
};

/* What a handler answers; the server adds Block2, Observe, ETag, and
 * applies the size limit. */
struct coap_rep {
	uint8_t code;
	bool has_cf;
	uint16_t cf;
	bool observable;        /* a GET of an observable resource */
	uint8_t res;            /* enum coap_res_id */
	bool has_etag;
	uint8_t etag[4];
	uint32_t max_age;       /* written when has_etag (a representation) */
	const uint8_t *body;    /* borrowed: a snapshot, a static diagnostic
				 * or the server's scratch buffer */
	size_t len;
	bool deferred;          /* no answer now: it follows when the work
				 * ends (POST /probe; see struct
				 * coap_srv_probe) */
};

/* The hooks the resources call into the agent. */
struct coap_srv_hooks {
	/* POST /reload: agent_reload().  0 applied, <0 refused. */
	int (*reload)(void *arg);
	void *arg;
};

/* The backup client's controls (the agent sets coap_srv.backup after
 * coap_srv_start; zeroed: no backup client, POST /backup answers 5.01). */
struct coap_srv_backup_hooks {
	/* POST /backup: queue a job.  >0 job id; <0 refused, *why says why
	 * (-EPERM safe mode, -EINVAL no server, -ENOSPC table full). */
	int (*now)(void *arg, const char **why);
	/* POST /backup/cancel: job 0 = all.  >=0 jobs cancelled, -ENOENT
	 * no such job, -EINVAL it already ended. */
	int (*cancel)(void *arg, uint64_t job, const char *reason);
	void *arg;
};

/*
 * POST /probe (coap_probe.c): one connection attempt at a time; the
 * request is answered when it ends (at most PROBE_TIMEOUT_MS, well
 * within the client's first ACK timeout of 2 s), with a piggybacked
 * response to a CON — the exchange is kept here meanwhile, and a
 * retransmission of it is ignored.
 */
struct coap_srv_probe {
	bool running;           /* p, fd and timer are live */
	bool waiting;           /* an exchange waits for the verdict */
	struct probe p;
	int fd;                 /* registered with the loop */
	int timer;              /* ev timer id of the timeout */
	/* the exchange: */
	uint8_t sock;
	uint8_t type;           /* COAP_ACK or COAP_NON */
	uint16_t req_mid;       /* the request's message id (dedup) */
	uint16_t mid;           /* the answer's */
	uint8_t tkl;
	uint8_t token[COAP_TOKEN_MAX];
	uint16_t budget;
	struct hal_addr peer;
};

struct coap_srv_sock {
	int fd;                 /* -1: closed */
	struct hal_addr addr;   /* bound address (port filled in) */
	bool secure;            /* DTLS (coap.dtls_listen) */
	char text[HAL_ADDR_TEXT_MAX];
};

struct coap_dedup {
	uint64_t at_ms;
	struct hal_addr peer;
	uint16_t mid;
	uint16_t len;           /* 0: cached nothing (an answered RST) */
	uint8_t sock;
	uint8_t used;
	uint8_t msg[COAP_MAX_MSG];
};

struct coap_obs {
	uint8_t used;
	uint8_t res;            /* COAP_RES_STATUS or COAP_RES_HEALTH */
	uint8_t sock;
	uint8_t tkl;
	uint8_t token[COAP_TOKEN_MAX];
	uint8_t szx;            /* block size of notifications */
	bool has_block;         /* notify block-wise (else: whole if it
				 * fits the budget) */
	uint16_t budget;        /* largest notification datagram */
	bool secure;
	struct hal_addr peer;
	uint32_t key_sent;      /* change key of the last notification */
	uint32_t seq_sent;      /* its Observe number (later blocks repeat
				 * it, see coap_obs_current) */
	uint64_t last_sent_ms;
	uint64_t last_ack_ms;   /* registration or last ACKed CON */
	uint16_t last_mid;      /* of the last notification (RST matching) */
	bool last_non;          /* the last notification was a NON */
	bool dirty;             /* changed while a CON was in flight */
	/* the CON in flight: */
	bool con_pending;
	uint8_t retries;
	uint32_t con_timeout_ms;
	uint64_t con_deadline_ms;
	uint16_t con_len;
	uint8_t con_msg[COAP_MAX_MSG];
};

/* coap.amplification (config.h words "echo", "limit", "off"). */
enum coap_amp { COAP_AMP_ECHO = 0, COAP_AMP_LIMIT = 1, COAP_AMP_OFF = 2 };

struct coap_verified {
	bool used;
	struct hal_addr peer;
	uint64_t at_ms;         /* when it proved itself */
	uint64_t used_ms;       /* last request (LRU) */
};

/* A GET held until its address answers our ping. */
struct coap_pending {
	bool used;
	uint8_t sock;
	uint16_t req_mid;       /* the request's (retransmissions ignored) */
	uint16_t ping_mid;      /* the ping's: the RST echoes it */
	uint64_t at_ms;
	uint64_t ping_ms;       /* when the last ping went out */
	struct hal_addr peer;
	uint16_t len;
	uint8_t req[COAP_SRV_HOLD_MAX];
};

struct coap_verify {
	uint8_t key[32];        /* Echo MAC key, from hal_rng at start */
	bool limited;           /* replaying a held request unverified */
	struct coap_verified ok[COAP_SRV_VERIFIED_MAX];
	struct coap_pending held[COAP_SRV_PENDING_MAX];
	uint32_t pings;         /* stats: pings sent */
	uint32_t echoes;        /* 4.01 with Echo sent */
	uint32_t verified;      /* addresses verified (ping or Echo) */
};

struct coap_snap {
	bool valid;
	uint64_t at_ms;         /* when rendered */
	uint32_t key;           /* change key it was rendered at */
	uint8_t etag[4];
	size_t len;
	uint8_t body[COAP_SRV_BODY_MAX];
};

/* One readable burst on a plain socket (on_readable).  Its answers are
 * sent together when it ends, each from its dedup entry (the entry being
 * overwritten or the queue full sends what is queued first).  Within it
 * only the burst's own requests run, so a resource's change key, once
 * computed, holds until a request that is not a GET (keyed). */
struct coap_srv_burst {
	uint8_t sock1;          /* the burst's socket + 1; 0: none open */
	uint8_t n;
	uint8_t slot[COAP_SRV_RX_BURST];  /* dedup entries to send, in order */
	uint8_t dedup_next;     /* the dedup entry to overwrite next (FIFO) */
	uint16_t keyed;         /* 1 << res: snap[res].key is current */
};

struct coap_srv_stats {
	uint32_t received;      /* datagrams */
	uint32_t requests;      /* requests answered (not duplicates) */
	uint32_t duplicates;    /* answered from the dedup table */
	uint32_t resets;        /* RSTs sent */
	uint32_t ignored;       /* datagrams dropped silently */
	uint32_t notifications; /* notifications sent (retransmissions too) */
	uint32_t obs_dropped;   /* observers removed by RST/timeout/error */
};

struct coap_srv {
	struct ev_loop *loop;            /* borrowed until coap_srv_stop */
	const struct status_src *src;    /* borrowed until coap_srv_stop */
	struct coap_srv_hooks hooks;
	struct coap_srv_backup_hooks backup;
	bool open_control;
	uint8_t amp;                     /* enum coap_amp */
	struct coap_verify vfy;
	struct coap_srv_sock socks[COAP_SRV_SOCKS_MAX];
	unsigned nsocks;
	int timer;                       /* ev timer id, or -1 */
	uint16_t next_mid;
	uint32_t obs_seq;
	struct coap_srv_stats stats;
	struct status_coap pub;          /* what status shows (network) */
	struct coap_dedup dedup[COAP_SRV_DEDUP_MAX];
	struct coap_srv_burst burst;
	struct coap_obs obs[COAP_SRV_OBS_MAX];
	struct coap_snap snap[COAP_RES_COUNT];
	uint8_t rx[COAP_MAX_MSG + 1];    /* +1: a longer datagram is seen */
	uint8_t tx[COAP_MAX_MSG];
	uint8_t scratch[256];            /* small POST answers */
	struct coap_srv_probe probe;     /* POST /probe under way */
	struct coap_dtls dtls;           /* sessions of the secure sockets */
};

/*
 * Parses a coap.listen value: comma-separated "a.b.c.d:port" and
 * "[v6addr]:port" (port 0: the system picks one), or "none" / "" for no
 * listener.  Spaces around the commas are allowed.
 * @retval >=0     addresses written to out (at most max)
 * @retval -EINVAL a malformed entry, a port above 65535, a name instead
 *                 of a numeric address, or more than max entries
 */
int coap_srv_parse_listen(const char *text, struct hal_addr *out,
			  unsigned max);

/*
 * Opens a UDP socket on every address of listen (coap_srv_parse_listen)
 * and registers it and the tick timer with loop.  An address that cannot
 * be bound is logged and skipped; the rest run.  s is cleared first.
 * loop, src and s are retained until coap_srv_stop().
 * @retval >=0     sockets listening
 * @retval -EINVAL listen does not parse
 * @retval -ENOSPC loop has no room for the sockets or the timer
 */
int coap_srv_start(struct coap_srv *s, struct ev_loop *loop,
		   const char *listen, const struct status_src *src,
		   const struct coap_srv_hooks *hooks);

/*
 * Adds DTLS: sets up the PSK sessions (coap_dtls_init: crypto_init()
 * first) and opens a secure socket on every address of listen (the
 * coap.listen syntax), after coap_srv_start.  Skipped addresses as
 * there; at most COAP_SRV_SOCKS_MAX sockets in all.  psk: coap.psk.
 * @retval >=0     secure sockets listening (0: listen is "none")
 * @retval -EINVAL listen or psk does not parse
 * @retval -ENOSPC no room in the loop or the socket table
 * @retval -EIO    mbedTLS could not be set up
 */
int coap_srv_start_dtls(struct coap_srv *s, const char *listen,
			const char *psk);

/* Applies reloadable settings (coap.open_control, coap.amplification:
 * enum coap_amp; a mode change keeps the verified addresses). */
void coap_srv_configure(struct coap_srv *s, bool open_control,
			uint8_t amp);

/* Whether peer's address is verified now (tests, fuzzing). */
bool coap_srv_verified(const struct coap_srv *s, const struct hal_addr *peer,
		       uint64_t now_ms);

/* A burst on plain socket sock (the readable callback brackets its
 * reads so; the fuzz target too): the answers of the coap_srv_datagram
 * calls in between are sent together by _end (hal_net_sendto_many), and
 * a resource's change key is computed once until a request that is not
 * a GET.  A secure socket opens no burst (DTLS sends per record). */
void coap_srv_burst_begin(struct coap_srv *s, unsigned sock);
void coap_srv_burst_end(struct coap_srv *s);

/* Closes the sockets, forgets the observers, cancels the timer.  Safe
 * on a stopped or zeroed s. */
void coap_srv_stop(struct coap_srv *s);

/*
 * Handles one datagram received on socket index sock from peer (the
 * readable callback's body; tests call it directly too).  Responses go
 * out with hal_net_sendto, or at coap_srv_burst_end inside a burst.
 * Never fails: what cannot be answered is dropped and counted.
 */
void coap_srv_datagram(struct coap_srv *s, unsigned sock,
		       const struct hal_addr *peer, const uint8_t *buf,
		       size_t len, uint64_t now_ms);

/* The tick (retransmissions, change check, refreshes); returns the ms
 * until it wants to run again. */
uint32_t coap_srv_tick(struct coap_srv *s, uint64_t now_ms);

/* State may have changed (the agent calls it after every loop pass that
 * ran a callback): notifies the observers whose part changed.  O(number
 * of observers); nothing when none is registered. */
void coap_srv_changed(struct coap_srv *s, uint64_t now_ms);

/* Observers registered now. */
unsigned coap_srv_observers(const struct coap_srv *s);

/* ---- coap_resources.c ---- */

/*
 * Answers request m (already classified OK) into rep.  authorised: the
 * peer may change state (secure identity or open_control).  Bodies are
 * rendered into s->snap (GET) or s->scratch (POST).
 */
void coap_res_handle(struct coap_srv *s, const struct coap_msg *m,
		     bool authorised, uint64_t now_ms, struct coap_rep *rep);

/*
 * The current representation of observable resource res for a
 * notification (a 2.05, or 5.00 when it cannot be rendered).
 */
void coap_res_render(struct coap_srv *s, uint8_t res, uint64_t now_ms,
		     struct coap_rep *rep);

/* The change key of observable resource res (status_doc_change_key of
 * its part). */
uint32_t coap_res_change_key(const struct coap_srv *s, uint8_t res);

#endif

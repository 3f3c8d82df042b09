/*
 * vigilctl_coap.h — a small blocking CoAP-over-UDP client for vigilctl
 * (RFC 7252, RFC 7641 Observe, RFC 7959 Block2), on top of the pure codec
 * in protocol/coap.h.  One socket, one exchange at a time; the workstation
 * edge, so it may block in poll(2) and print nothing itself (callers turn
 * the codes below into messages with vcoap_strerror()).
 *
 * Exchange (one CON request):
 *
 *   send ──► wait ──► piggybacked ACK with our token ─────────► response
 *    ▲        │ ├───► Empty ACK: stop retransmitting, keep waiting
 *    │        │ │       └─► CON/NON response with our token (ACK a CON)
 *    │        │ └───► RST with our Message ID ───────────────► -ECONNRESET
 *    └────────┘ timer: retransmit (RFC 7252 §4.2: initial timeout random in
 *               [ACK_TIMEOUT, 1.5 x ACK_TIMEOUT], doubled each time, at most
 *               MAX_RETRANSMIT times); the overall deadline ─► -ETIMEDOUT
 *
 * Datagrams from other addresses are ignored; CON/NON messages with a
 * token we do not expect are rejected with RST (§5.3.2), which is also
 * how a server learns that a stale observation is gone.
 *
 * Errors are negated errno values: the protocol list of STYLE.md plus
 * the two outcomes only a client sees, -ETIMEDOUT (no answer before the
 * deadline) and -ECONNRESET (the server answered with RST).
 */
#ifndef VIGIL_VIGILCTL_COAP_H
#define VIGIL_VIGILCTL_COAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coap.h"

/* Largest reassembled body (Block2): 64 KiB holds a status document many
 * times over (a few KB) and bounds the static buffers; a larger one is
 * -EMSGSIZE rather than truncated. */
#define VCOAP_BODY_MAX (64u * 1024u)
/* Receive buffer: the largest UDP payload, so that an oversized datagram
 * is seen whole (and refused) instead of silently cut. */
#define VCOAP_RX_MAX 65536u
/* URI pieces: a DNS name is at most 253 characters; Uri-Path/Query text
 * before splitting into segments of at most COAP_URI_SEG_MAX. */
#define VCOAP_HOST_MAX 256
#define VCOAP_PATH_MAX 512
/* Defaults: the RFC's ACK_TIMEOUT, and an overall deadline short enough
 * for a person waiting (covers the first 3 transmissions; the RFC's own
 * MAX_TRANSMIT_WAIT is 93 s). */
#define VCOAP_TIMEOUT_MS_DEFAULT 10000u
#define VCOAP_ACK_TIMEOUT_MS_DEFAULT COAP_ACK_TIMEOUT_MS
/* Block2 restarts when the ETag changes between blocks (the document
 * changed under us): a few, then -EAGAIN. */
#define VCOAP_BLOCK_RESTARTS 3
#define VCOAP_PORT_DEFAULT 5683
#define VCOAPS_PORT_DEFAULT 5684

struct vcoap_uri {
	bool secure;                   /* coaps:// */
	char host[VCOAP_HOST_MAX];     /* without [ ] */
	uint16_t port;
	char path[VCOAP_PATH_MAX];     /* "" or "/..." as written (%XX kept) */
	char query[VCOAP_PATH_MAX];    /* after '?', "" if none */
};

/* Parses coap://host[:port][/path][?query] and coaps://...; host is a
 * name, an IPv4 address or an [IPv6] literal.
 * @retval 0       parsed
 * @retval -EINVAL not such a URI; *why names the fault (static text) */
int vcoap_uri_parse(const char *s, struct vcoap_uri *u, const char **why);

struct vcoap_req {
	uint8_t code;                  /* COAP_GET, COAP_POST, ... */
	const char *path;              /* "/status"; borrowed */
	const char *query;             /* NULL or "a=b&c"; borrowed */
	bool has_observe;
	uint32_t observe;              /* 0 register, 1 deregister */
	bool has_cf;                   /* Content-Format of the payload */
	uint16_t cf;
	bool has_block2;               /* ask for this block (early SZX) */
	struct coap_block block2;
	const uint8_t *payload;        /* borrowed; NULL when len is 0 */
	size_t payload_len;
	const uint8_t *token;          /* NULL: a fresh random token */
	size_t tkl;
	const uint8_t *echo;           /* RFC 9175 Echo to send; borrowed */
	size_t echo_len;               /* 0: none */
};

struct vcoap_resp {
	uint8_t type;                  /* how it came: ACK, CON or NON */
	uint8_t code;
	bool has_cf;
	uint32_t cf;
	bool has_observe;
	uint32_t observe;
	bool has_block2;
	struct coap_block block2;
	bool has_size2;
	uint32_t size2;
	uint32_t max_age;              /* seconds; 60 when absent */
	uint8_t etag[COAP_ETAG_MAX];
	size_t etag_len;
	uint8_t echo[COAP_ECHO_MAX];   /* RFC 9175 Echo of a 4.01 */
	size_t echo_len;               /* 0: none */
	const uint8_t *payload;        /* into the client's receive buffer:
					* valid until the next call */
	size_t payload_len;
};

struct vcoap {
	int fd;
	bool secure;                   /* a DTLS session carries the CoAP */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint16_t mid;                  /* next Message ID */
	unsigned timeout_ms;           /* overall deadline per exchange */
	unsigned ack_timeout_ms;       /* RFC 7252 ACK_TIMEOUT */
	int block_szx;                 /* -1, or SZX asked for in block 0 */
	unsigned transmissions;        /* of the last exchange (for errors) */
	/* NULL, or a flag a signal handler sets: an interrupted wait ends
	 * the exchange with -EINTR only when it is set (other interruptions
	 * and DTLS's non-data records just continue the wait). */
	volatile int *stop;
	/* Observe: notifications for this token that arrive during another
	 * exchange are ACKed and the newest one kept here. */
	uint8_t obs_token[COAP_TOKEN_MAX];
	size_t obs_tkl;
	bool obs_active;
	size_t stash_len;              /* 0: nothing stashed */
	uint8_t stash[COAP_MAX_MSG * 2];
	uint8_t rx[VCOAP_RX_MAX];
};

/* Resolves u->host (getaddrinfo, any family), opens a UDP socket and
 * fixes the peer.  Timeouts are set to the defaults above.  For a
 * coaps:// URI, vcoap_dtls_start() follows (after setting timeouts).
 * @retval 0       ready
 * @retval -EIO    the name does not resolve or no socket could be made
 *                 (*why says which) */
int vcoap_open(struct vcoap *c, const struct vcoap_uri *u, const char **why);

/* Ends a DTLS session (close_notify) and closes the socket. */
void vcoap_close(struct vcoap *c);

/* DTLS 1.2 PSK (vigilctl_dtls.c): connects the socket to the peer and
 * runs the handshake within c->timeout_ms; afterwards every datagram of
 * c goes through the session.  id and key are text, borrowed for the
 * call (mbedTLS copies them).
 * @retval 0          c->secure is set
 * @retval -EINVAL    id or key missing or too long (*why)
 * @retval -ETIMEDOUT no handshake answer
 * @retval -EIO       the handshake failed (alert: e.g. an unknown
 *                    identity or a wrong key), *why has mbedTLS's code */
int vcoap_dtls_start(struct vcoap *c, const char *id, const char *key,
		     const char **why);
/* Internal: one record out / in (as vcoap_recv_dgram; -ECONNRESET when
 * the server closed the session). */
int vcoap_dtls_send(struct vcoap *c, const uint8_t *buf, size_t len);
int vcoap_dtls_recv(struct vcoap *c, int wait_ms);
void vcoap_dtls_close(struct vcoap *c);

/* One CON request and its response (piggybacked or separate), as in the
 * diagram above.  Only the first response block: see vcoap_fetch.
 * A 4.01 carrying an Echo option (RFC 9175 §2.4: the server wants proof
 * of our address before a large answer, docs/coap.md "Amplification")
 * is not returned: the request is repeated once with that Echo.
 * resp->payload points into c and is valid until the next call.
 * @retval 0           *resp filled (any response code)
 * @retval -ETIMEDOUT  nothing within c->timeout_ms
 * @retval -ECONNRESET the server answered with RST
 * @retval -EINTR      a signal interrupted the wait and *c->stop is set
 * @retval -EINVAL     the request does not fit one message
 * @retval -EIO        a socket error */
int vcoap_exchange(struct vcoap *c, const struct vcoap_req *r,
		   struct vcoap_resp *resp);

/* vcoap_exchange, then the remaining Block2 blocks (RFC 7959 §2.4: same
 * request with Block2 NUM+1 at the server's block size, no Observe),
 * reassembled into body[0..cap) with cap <= VCOAP_BODY_MAX.  A response
 * that is not 2.xx stops the transfer and is returned as it is (its
 * payload, e.g. a diagnostic message, in body).  *resp describes the
 * first block (code, Content-Format, Observe, ETag).
 * @retval 0           body[0..*len) holds the representation
 * @retval -EMSGSIZE   it is larger than cap (Size2 or the blocks say so)
 * @retval -EBADMSG    a block out of order or of the wrong size
 * @retval -EAGAIN     the ETag kept changing (VCOAP_BLOCK_RESTARTS)
 * @retval <0          as vcoap_exchange */
int vcoap_fetch(struct vcoap *c, const struct vcoap_req *r,
		struct vcoap_resp *resp, uint8_t *body, size_t cap,
		size_t *len);

/* The rest of a Block2 transfer whose first block is *first (already
 * received, e.g. a notification): copies it to body and fetches blocks
 * 1.. with requests like r (without Observe).
 * @retval as vcoap_fetch */
int vcoap_fetch_rest(struct vcoap *c, const struct vcoap_req *r,
		     const struct vcoap_resp *first, uint8_t *body,
		     size_t cap, size_t *len);

/* Called with each notification (and with the registration's
 * response); body is the whole representation.  Returns 0 to go on, or
 * a negative errno that ends the observation with that code. */
typedef int (*vcoap_notify_fn)(void *arg, const struct vcoap_resp *resp,
			       const uint8_t *body, size_t len);

/* Observes r->path (RFC 7641): registers with GET Observe=0, passes the
 * response and every newer notification (by sequence number, §3.4) to
 * fn, ACKs CON notifications, re-registers when no notification came
 * within Max-Age + 2 s, and stops after count notifications (0: no
 * limit) or when *stop becomes true (set by a signal handler; the wait
 * is then interrupted), deregistering with GET Observe=1.
 * @retval 0           stopped by count or *stop
 * @retval 1           the server ended the observation (a response
 *                     without Observe, e.g. 4.04, or a server that does
 *                     not offer Observe): that response was passed to fn
 * @retval <0          as vcoap_fetch, or fn's error */
int vcoap_observe(struct vcoap *c, const struct vcoap_req *r, uint8_t *body,
		  size_t cap, unsigned count, volatile int *stop,
		  vcoap_notify_fn fn, void *arg);

/* "4.04 Not Found" style text for a response code (NUL-terminated, into
 * buf of at least VCOAP_CODE_STR_MAX bytes). */
#define VCOAP_CODE_STR_MAX 48
const char *vcoap_code_str(uint8_t code, char *buf, size_t cap);

/* A message for the codes above ("no response", "reset by server", ...). */
const char *vcoap_strerror(int err);

/* Internal, shared by vigilctl_coap*.c: monotonic milliseconds. */
uint64_t vcoap_now_ms(void);
/* Internal: reads one datagram from the peer into c->rx within wait_ms
 * (-1: forever).  @retval >0 length / 0 timeout / -EINTR / -EIO */
int vcoap_recv_dgram(struct vcoap *c, int wait_ms);
/* Internal: sends an Empty ACK or RST for mid. */
int vcoap_send_empty(struct vcoap *c, uint8_t type, uint16_t mid);
/* Internal: n random bytes (getrandom). */
void vcoap_random(void *p, size_t n);
/* Internal: fills resp from a parsed message. */
void vcoap_resp_from(struct vcoap_resp *resp, const struct coap_msg *m);
/* Internal, also used by the exporter's non-blocking client: the CON
 * request r with mid and token into out[0..cap).
 * @retval >0 its length / <0 it does not fit */
int vcoap_build_request(const struct vcoap_req *r, uint16_t mid,
			const uint8_t *token, size_t tkl, uint8_t *out,
			size_t cap);
/* Internal: whether resp is 4.01 with an Echo to repeat the request
 * with (RFC 9175 §2.4). */
bool vcoap_wants_echo(const struct vcoap_resp *resp);
/* Internal: appends the Block2 block in cur at body[*len] (it must start
 * exactly there, and be full unless it is the last).
 * @retval 0 / -EBADMSG out of order or wrong size / -EMSGSIZE > cap */
int vcoap_block_append(const struct vcoap_resp *cur, uint8_t *body,
		       size_t cap, size_t *len);

#endif

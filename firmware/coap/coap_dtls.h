/*
 * coap_dtls.h — DTLS 1.2 with pre-shared keys (RFC 7252 §9.1.3.1,
 * RFC 7925) under vigild's CoAP server, on mbedTLS 3.6 in non-blocking
 * mode over hal/net UDP sockets.  The user's reference is docs/coap.md
 * ("DTLS").
 *
 * A datagram on a secure socket (coap.dtls_listen) goes to the session
 * of its (socket, peer):
 *   - a known peer: its records are fed to that session's mbedTLS
 *     context (handshake, or application data: each record's plaintext
 *     is one CoAP message for coap_srv_datagram, answered through
 *     coap_dtls_send);
 *   - an unknown peer: only a ClientHello (content type 22, epoch 0,
 *     handshake type 1) is looked at, by a free context.  Without a
 *     valid cookie (mbedtls_ssl_cookie_*, bound to the peer's address
 *     with mbedtls_ssl_set_client_transport_id) it is answered with a
 *     HelloVerifyRequest and the context is freed at once: an unproven
 *     address never holds a session.  With a valid cookie the context
 *     becomes a session; anything else is dropped.
 *
 * Sessions: COAP_DTLS_SESSIONS, plus one context kept free for the
 * next ClientHello.  When a cookie-proven handshake makes one too many,
 * the oldest handshake still in progress is evicted, else the least
 * recently active session.  A handshake must finish within
 * COAP_DTLS_HS_TIMEOUT_MS; an established session silent (nothing
 * received) for COAP_DTLS_IDLE_MS is closed.  Handshake
 * retransmissions run on mbedTLS's timer callbacks (hal_clock_mono_ms),
 * polled from the CoAP server's tick (coap_dtls_tick returns the next
 * deadline).
 *
 * Keys: coap.psk, "identity:hexkey" pairs.  The PSK callback looks the
 * identity up; an unknown identity fails the handshake (alert
 * unknown_psk_identity); a wrong key fails at the client's Finished
 * (alert bad_record_mac).  A peer
 * that completed the handshake is authenticated by its identity, which
 * authorises control requests (coap_server.h).
 *
 * Memory: the contexts' buffers come from the process arena
 * (crypto.h), allocated once by coap_dtls_init; nothing is allocated
 * per datagram except mbedTLS's handshake state, in that arena.
 */
#ifndef VIGIL_COAP_DTLS_H
#define VIGIL_COAP_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/net.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_cookie.h"
#include "psk.h"

struct coap_srv;

/* Established sessions: a fleet poller and a few operators.  Each
 * costs ~21 KiB of record buffers in the arena (crypto.h). */
#define COAP_DTLS_SESSIONS 4
/* Contexts: the sessions + one for the next ClientHello. */
#define COAP_DTLS_CTX (COAP_DTLS_SESSIONS + 1)
/* PSK identities in coap.psk.  The config value (127 characters, the
 * config's CONFIG_VALUE_MAX) holds three pairs of an 8-byte identity and
 * a 16-byte key (42 characters each); 4 leaves room for short keys. */
#define COAP_DTLS_PSK_MAX 4
#define COAP_DTLS_ID_MAX PSK_ID_MAX
/* Largest datagram read on a secure socket: a CoAP message
 * (COAP_MAX_MSG 1152) in one record (13 header + 8 explicit nonce + 16
 * tag) is 1189; a ClientHello with many suites and extensions stays
 * well under the 1280-byte IPv6 minimum MTU, which we take. */
#define COAP_DTLS_DGRAM_MAX 1280
/* A handshake (four flights, mbedTLS retransmitting 1 s, 2 s, 4 s…)
 * that has not finished after this is dropped. */
#define COAP_DTLS_HS_TIMEOUT_MS 30000u
/* An established session that received nothing for this long is
 * closed (an observer's CON notifications draw ACKs well within it). */
#define COAP_DTLS_IDLE_MS (10u * 60u * 1000u)
/* mbedTLS's handshake retransmission timer: first and last interval. */
#define COAP_DTLS_RETX_MIN_MS 1000u
#define COAP_DTLS_RETX_MAX_MS 16000u

enum coap_dtls_state {
	COAP_DTLS_FREE = 0,
	COAP_DTLS_HANDSHAKE,
	COAP_DTLS_UP
};

struct coap_dtls_sess {
	mbedtls_ssl_context ssl;
	struct coap_srv *srv;      /* for the bio: the socket's fd */
	uint8_t state;             /* enum coap_dtls_state */
	uint8_t sock;
	struct hal_addr peer;
	uint64_t start_ms;         /* handshake start */
	uint64_t last_ms;          /* last datagram received */
	/* mbedTLS's timer (mbedtls_ssl_set_timer_cb); fin 0: cancelled */
	uint64_t tm_start_ms;
	uint32_t tm_int_ms, tm_fin_ms;
	/* the datagram being fed (bio_recv hands it out once) */
	const uint8_t *in;
	size_t in_len;
	char identity[COAP_DTLS_ID_MAX + 1]; /* "" until the PSK callback */
};

struct coap_dtls_stats {
	uint32_t hello_verify;     /* HelloVerifyRequests sent */
	uint32_t handshakes;       /* completed */
	uint32_t failed;           /* handshakes failed or timed out */
	uint32_t evicted;          /* sessions evicted for a new one */
	uint32_t dropped;          /* datagrams from unknown peers dropped */
};

struct coap_dtls {
	bool ready;                /* coap_dtls_init succeeded */
	mbedtls_ssl_config conf;
	mbedtls_ssl_cookie_ctx cookie;
	unsigned npsk;
	struct psk psk[COAP_DTLS_PSK_MAX];
	struct coap_dtls_sess sess[COAP_DTLS_CTX];
	/* the identity of the peer whose request is being served, or NULL
	 * (read by the server to log control requests) */
	const char *peer_id;
	struct coap_dtls_stats stats;
	uint8_t rx[COAP_DTLS_DGRAM_MAX + 1]; /* +1: longer is seen, dropped */
};

/*
 * Parses a coap.psk value: "identity:hexkey" pairs, comma-separated
 * (spaces around commas allowed; each pair as psk_parse() reads it), or
 * "" / "none" for none.  A repeated identity is an error.
 * @retval >=0     pairs written to out (at most max)
 * @retval -EINVAL malformed, or more than max pairs
 */
int coap_dtls_parse_psk(const char *text, struct psk *out,
			unsigned max);

/*
 * Sets up the DTLS server state in s->dtls: configuration (DTLS 1.2,
 * PSK suites, cookies), and the COAP_DTLS_CTX contexts with their
 * buffers, from the process arena (crypto_init() first).  psk: the
 * coap.psk text.
 * @retval 0       ready
 * @retval -EINVAL psk does not parse
 * @retval -EIO    mbedTLS refused (the arena is too small)
 */
int coap_dtls_init(struct coap_srv *s, const char *psk);

/* Replaces the PSK table (coap.psk on reload): new handshakes use it;
 * established sessions keep their identity.
 * @retval 0 applied  @retval -EINVAL does not parse (table unchanged) */
int coap_dtls_set_keys(struct coap_srv *s, const char *psk);

/* Frees the contexts (mbedtls_ssl_free); safe on a zeroed or freed
 * s->dtls. */
void coap_dtls_free(struct coap_srv *s);

/*
 * Handles one datagram received on secure socket index sock from peer:
 * handshake records, or application records whose plaintext goes to
 * coap_srv_datagram.  Never fails: what cannot be used is dropped and
 * counted.
 */
void coap_dtls_datagram(struct coap_srv *s, unsigned sock,
			const struct hal_addr *peer, const uint8_t *buf,
			size_t len, uint64_t now_ms);

/*
 * Sends buf as one application record on the established session of
 * (sock, peer).
 * @retval 0       sent (or lost on the wire: UDP)
 * @retval -EAGAIN no established session with that peer
 * @retval -EIO    mbedTLS refused (the session is closed)
 */
int coap_dtls_send(struct coap_srv *s, unsigned sock,
		   const struct hal_addr *peer, const uint8_t *buf,
		   size_t len);

/* Handshake retransmissions and timeouts, idle sessions.
 * @retval ms until the next DTLS deadline (at most max_ms) */
uint32_t coap_dtls_tick(struct coap_srv *s, uint64_t now_ms,
			uint32_t max_ms);

/* Sessions established now. */
unsigned coap_dtls_sessions(const struct coap_srv *s);

#endif

/*
 * coap.h — CoAP message codec: RFC 7252 (messages, options), RFC 7641
 * (Observe) and RFC 7959 (Block1/Block2, Size1/Size2).  Pure: no I/O, no
 * allocation, no global mutable state; every size is a macro below.
 *
 * Receiving (a server or client, per datagram):
 *
 *     struct coap_msg m;
 *     switch (coap_recv(&m, buf, n)) { coap_parse() + coap_classify()
 *     case COAP_ACT_OK:          process it (m.opts, m.payload, getters)
 *     case COAP_ACT_IGNORE:      drop it silently
 *     case COAP_ACT_RESET:       send coap_build_empty(.., COAP_RST, m.mid)
 *     case COAP_ACT_BAD_OPTION:  answer 4.02 (piggybacked on the ACK)
 *     case COAP_ACT_BAD_REQUEST: answer 4.00
 *     }
 *
 * m.reason says why (coap_reason_str() names it for logs and diagnostic
 * payloads).  The view points into the caller's buffer (nothing is
 * copied): buf is retained by m, which is valid only while buf is
 * unchanged and in scope.
 *
 * What RFC 7252 says to do with a malformed or unexpected message, and
 * what coap_classify() therefore answers (first match wins):
 *
 *   condition                                   action     RFC 7252
 *   ------------------------------------------  ---------  -------------
 *   fewer than 4 bytes (no Message ID to echo)  IGNORE     §3, §4.2
 *   version != 1                                IGNORE     §3
 *   message format error: TKL 9-15, token or    RESET for  §3, §3.1, §4.1,
 *     option cut off, nibble 15 outside the     CON/NON,   §4.2, §4.3
 *     marker, marker + no payload, option       IGNORE for
 *     number > 65535, Empty (0.00) with token,  ACK/RST
 *     options or payload
 *   code class 1, 6 or 7 (reserved)             as above   §12.1
 *   Empty CON ("ping")                          RESET      §4.2, §4.3
 *   Empty NON (NON is never Empty)              RESET      §4.3
 *   Empty ACK / Empty RST                       OK         §4.2
 *   RST that is not Empty, ACK with a request   IGNORE     §4.2
 *   more than COAP_MAX_OPTS options             4.00 in a  (our limit)
 *                                               request,
 *                                               else reject
 *   unrecognized critical option (odd number,   BAD_OPTION §5.4.1, §5.4.3,
 *     no definition, length out of range, or    in a CON   §5.4.5
 *     a repeated non-repeatable one)            request,
 *                                               else reject
 *   same for an elective (even) option          option     §5.4.1
 *                                               ignored
 *   Block1/Block2 with SZX 7                    4.00 in a  RFC 7959 §2.2
 *                                               request,
 *                                               else reject
 *
 * "Reject" is §4.2/§4.3: a matching RST for a CON or NON (a NON MAY be
 * answered with RST; it is 4 bytes, so no amplification), silence for
 * an ACK or RST.  Method codes are not checked here: an unknown method
 * is the server's 4.05 (§5.8), an unknown response code the client's
 * (§5.9).
 *
 * Sending: a struct coap_writer appends to a caller buffer, header first,
 * then options in ascending option number (equal numbers keep their call
 * order, which is how repeated options such as Uri-Path are ordered), then
 * the payload:
 *
 *     coap_writer_init(&w, buf, sizeof buf, COAP_ACK, COAP_CODE_CONTENT,
 *                      m.mid, m.token, m.tkl);
 *     coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, COAP_CF_CBOR);
 *     coap_put_payload(&w, body, body_len);
 *     n = coap_writer_finish(&w);      length, or the first error
 *
 * Out-of-order options are -EINVAL rather than sorted: a sorting builder
 * has to keep every pending option (and storage for the encoded integers)
 * until the end, while our senders have fixed option sets that are simply
 * written in order; coap_build() covers the one case that starts from an
 * array (re-serialising a struct coap_msg).  Errors are sticky, so a
 * sender may make all its calls and check only coap_writer_finish().
 *
 * Limits (docs/protocol/coap.md has the table):
 * - COAP_MAX_MSG: the message size we send and expect (RFC 7252 §4.6);
 *   the parser itself takes any length, the writer refuses more than
 *   COAP_MSG_LIMIT (a UDP datagram).
 * - COAP_MAX_OPTS: options stored per parsed message.  A message with
 *   more options is still scanned to the end (so format errors are found)
 *   but is classified COAP_R_TOO_MANY_OPTS.
 */
#ifndef VIGIL_COAP_H
#define VIGIL_COAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sizes ---- */

#define COAP_VERSION 1
#define COAP_HDR_LEN 4           /* Ver|T|TKL, Code, Message ID (§3) */
#define COAP_TOKEN_MAX 8         /* TKL 9..15 are reserved (§3) */
#define COAP_PAYLOAD_MARKER 0xFF

/* RFC 7252 §4.6: with the path MTU unknown, an IP MTU of 1280 bytes is
 * assumed, and "good upper bounds are 1152 bytes for the message size and
 * 1024 bytes for the payload size".  1152 = 1280 - 40 (IPv6) - 8 (UDP)
 * - up to 80 bytes of DTLS record overhead and slack.  The server's
 * receive buffer and every response fit in it; a Block2 block of 1024
 * bytes plus at most 128 bytes of header, token and options does too. */
#define COAP_MAX_MSG 1152
#define COAP_MAX_PAYLOAD 1024

/* The largest message the writer produces: a UDP datagram's 16-bit
 * length field bounds it (the real ceiling is lower, 65507 over IPv4).
 * It also keeps every byte count a non-negative int on 32-bit targets. */
#define COAP_MSG_LIMIT 65535

/* Option value length: 4-bit nibble, 13 + one byte, or 269 + two bytes
 * (§3.1), so at most 269 + 65535. */
#define COAP_OPT_LEN_MAX 65804u
/* Option header: 1 byte + up to 2 bytes extended delta + up to 2 bytes
 * extended length. */
#define COAP_OPT_HDR_MAX 5

/* Options stored per parsed message.  What a request to vigild carries:
 * Uri-Host, Uri-Port, Accept, Observe, Block1, Block2, Size1, Size2,
 * Content-Format, If-None-Match, a few ETag/If-Match (< 16 in all), plus
 * Uri-Path segments (our resources are at most 2 deep) and Uri-Query
 * terms (a link-format filter is 1).  32 leaves 16 slots for path and
 * query, and costs 32 x 16 = 512 bytes per view on 64-bit (384 on
 * 32-bit).  The wire format has no limit (a 1152-byte message can hold
 * ~1100 empty options); the scan past the limit is O(len) and bounded by
 * the datagram. */
#define COAP_MAX_OPTS 32

/* ---- message types (§3) ---- */
#define COAP_CON 0
#define COAP_NON 1
#define COAP_ACK 2
#define COAP_RST 3

/* ---- codes (§3, §12.1): class.detail in one byte, c.dd ---- */
#define COAP_CODE(c, dd) ((uint8_t)(((c) << 5) | (dd)))
#define COAP_CODE_CLASS(code) ((unsigned)(code) >> 5)
#define COAP_CODE_DETAIL(code) ((unsigned)(code) & 0x1fu)

#define COAP_CODE_EMPTY COAP_CODE(0, 0)
#define COAP_GET COAP_CODE(0, 1)
#define COAP_POST COAP_CODE(0, 2)
#define COAP_PUT COAP_CODE(0, 3)
#define COAP_DELETE COAP_CODE(0, 4)

#define COAP_CODE_CREATED COAP_CODE(2, 1)
#define COAP_CODE_DELETED COAP_CODE(2, 2)
#define COAP_CODE_VALID COAP_CODE(2, 3)
#define COAP_CODE_CHANGED COAP_CODE(2, 4)
#define COAP_CODE_CONTENT COAP_CODE(2, 5)
#define COAP_CODE_CONTINUE COAP_CODE(2, 31)              /* RFC 7959 */
#define COAP_CODE_BAD_REQUEST COAP_CODE(4, 0)
#define COAP_CODE_UNAUTHORIZED COAP_CODE(4, 1)
#define COAP_CODE_BAD_OPTION COAP_CODE(4, 2)
#define COAP_CODE_FORBIDDEN COAP_CODE(4, 3)
#define COAP_CODE_NOT_FOUND COAP_CODE(4, 4)
#define COAP_CODE_METHOD_NOT_ALLOWED COAP_CODE(4, 5)
#define COAP_CODE_NOT_ACCEPTABLE COAP_CODE(4, 6)
#define COAP_CODE_REQUEST_ENTITY_INCOMPLETE COAP_CODE(4, 8) /* RFC 7959 */
#define COAP_CODE_PRECONDITION_FAILED COAP_CODE(4, 12)
#define COAP_CODE_REQUEST_ENTITY_TOO_LARGE COAP_CODE(4, 13)
#define COAP_CODE_UNSUPPORTED_CONTENT_FORMAT COAP_CODE(4, 15)
#define COAP_CODE_INTERNAL_SERVER_ERROR COAP_CODE(5, 0)
#define COAP_CODE_NOT_IMPLEMENTED COAP_CODE(5, 1)
#define COAP_CODE_BAD_GATEWAY COAP_CODE(5, 2)
#define COAP_CODE_SERVICE_UNAVAILABLE COAP_CODE(5, 3)
#define COAP_CODE_GATEWAY_TIMEOUT COAP_CODE(5, 4)
#define COAP_CODE_PROXYING_NOT_SUPPORTED COAP_CODE(5, 5)

/* ---- option numbers (§5.10, RFC 7641 §2, RFC 7959 §2.1, §4) ---- */
#define COAP_OPT_IF_MATCH 1
#define COAP_OPT_URI_HOST 3
#define COAP_OPT_ETAG 4
#define COAP_OPT_IF_NONE_MATCH 5
#define COAP_OPT_OBSERVE 6
#define COAP_OPT_URI_PORT 7
#define COAP_OPT_LOCATION_PATH 8
#define COAP_OPT_URI_PATH 11
#define COAP_OPT_CONTENT_FORMAT 12
#define COAP_OPT_MAX_AGE 14
#define COAP_OPT_URI_QUERY 15
#define COAP_OPT_ACCEPT 17
#define COAP_OPT_LOCATION_QUERY 20
#define COAP_OPT_BLOCK2 23
#define COAP_OPT_BLOCK1 27
#define COAP_OPT_SIZE2 28
#define COAP_OPT_PROXY_URI 35
#define COAP_OPT_PROXY_SCHEME 39
#define COAP_OPT_SIZE1 60
/* RFC 9175 §2.2: elective, safe to forward, no cache key, 1..40 bytes,
 * not repeatable. */
#define COAP_OPT_ECHO 252
#define COAP_ECHO_MAX 40

/* Option number properties (§5.4.6): the low bits of the number. */
#define COAP_OPT_IS_CRITICAL(n) (((n) & 1u) != 0)
#define COAP_OPT_IS_UNSAFE(n) (((n) & 2u) != 0)
#define COAP_OPT_IS_NOCACHEKEY(n) (((n) & 0x1eu) == 0x1cu)

/* ---- content formats (§12.3, RFC 7049 §7.4) ---- */
#define COAP_CF_TEXT_PLAIN 0
#define COAP_CF_LINK_FORMAT 40
#define COAP_CF_XML 41
#define COAP_CF_OCTET_STREAM 42
#define COAP_CF_EXI 47
#define COAP_CF_JSON 50
#define COAP_CF_CBOR 60

/* ---- option value limits ---- */
#define COAP_MAX_AGE_DEFAULT 60u     /* seconds, §5.10.5 */
#define COAP_ETAG_MAX 8              /* ETag 1..8 bytes, §5.10.6 */
#define COAP_URI_SEG_MAX 255         /* Uri-Path/-Query 0..255, §5.10.1 */

/* ---- transmission parameters (§4.8, §4.8.2), in milliseconds ----
 * ACK_RANDOM_FACTOR 1.5 is kept as the fraction 3/2 so everything stays
 * integer; the initial timeout is random in [ACK_TIMEOUT,
 * ACK_TIMEOUT * ACK_RANDOM_FACTOR] and doubles per retransmission. */
#define COAP_ACK_TIMEOUT_MS 2000u
#define COAP_ACK_RANDOM_FACTOR_NUM 3u
#define COAP_ACK_RANDOM_FACTOR_DEN 2u
#define COAP_MAX_RETRANSMIT 4u
#define COAP_NSTART 1u
#define COAP_DEFAULT_LEISURE_MS 5000u
#define COAP_PROBING_RATE 1u         /* bytes per second */
/* MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * 1.5
 *                   = 2 s * 15 * 1.5 = 45 s: first to last transmission. */
#define COAP_MAX_TRANSMIT_SPAN_MS                                         \
	(COAP_ACK_TIMEOUT_MS * ((1u << COAP_MAX_RETRANSMIT) - 1u) *      \
	 COAP_ACK_RANDOM_FACTOR_NUM / COAP_ACK_RANDOM_FACTOR_DEN)
/* MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT+1) - 1) * 1.5
 *                   = 2 s * 31 * 1.5 = 93 s: first transmission to giving
 * up on an ACK. */
#define COAP_MAX_TRANSMIT_WAIT_MS                                         \
	(COAP_ACK_TIMEOUT_MS * ((2u << COAP_MAX_RETRANSMIT) - 1u) *      \
	 COAP_ACK_RANDOM_FACTOR_NUM / COAP_ACK_RANDOM_FACTOR_DEN)
/* MAX_LATENCY: assumed maximum network transit time, 100 s (§4.8.2). */
#define COAP_MAX_LATENCY_MS 100000u
/* PROCESSING_DELAY = ACK_TIMEOUT: a node's time to turn a CON into ACK. */
#define COAP_PROCESSING_DELAY_MS COAP_ACK_TIMEOUT_MS
/* MAX_RTT = 2 * MAX_LATENCY + PROCESSING_DELAY = 202 s. */
#define COAP_MAX_RTT_MS (2u * COAP_MAX_LATENCY_MS + COAP_PROCESSING_DELAY_MS)
/* EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY +
 * PROCESSING_DELAY = 45 + 200 + 2 = 247 s: how long a CON's message id
 * must be remembered for deduplication. */
#define COAP_EXCHANGE_LIFETIME_MS                                         \
	(COAP_MAX_TRANSMIT_SPAN_MS + 2u * COAP_MAX_LATENCY_MS +           \
	 COAP_PROCESSING_DELAY_MS)
/* NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY = 145 s: the same for a
 * NON's message id. */
#define COAP_NON_LIFETIME_MS (COAP_MAX_TRANSMIT_SPAN_MS + COAP_MAX_LATENCY_MS)

/* ---- parsed view ---- */

/* Set on an option by coap_classify(): the option is to be treated as
 * absent (an unrecognized elective option, §5.4.1: one with a length
 * outside its definition's range or a supernumerary occurrence of a
 * non-repeatable option, §5.4.5).  The getters below skip it. */
#define COAP_OPTF_IGNORED 1u

struct coap_opt {
	const uint8_t *val;   /* borrowed: points into the parsed buffer */
	uint32_t len;         /* 0..COAP_OPT_LEN_MAX */
	uint16_t num;
	uint16_t flags;       /* COAP_OPTF_* */
};

/* Why a message was classified the way it was.  Every value has a fixed
 * text from coap_reason_str(). */
enum coap_reason {
	COAP_R_OK = 0,
	COAP_R_SHORT,           /* fewer than 4 bytes: no header (§3) */
	COAP_R_VERSION,         /* version != 1: silently ignored (§3) */
	COAP_R_TKL,             /* token length 9..15 (§3) */
	COAP_R_TRUNCATED,       /* token, extended field or value cut off */
	COAP_R_OPT_RESERVED,    /* nibble 15 that is not the 0xFF marker */
	COAP_R_OPT_NUMBER,      /* option number past 65535 */
	COAP_R_EMPTY_PAYLOAD,   /* payload marker followed by nothing */
	COAP_R_EMPTY_NOT_EMPTY, /* code 0.00 with token, options or payload */
	COAP_R_TOO_MANY_OPTS,   /* more than COAP_MAX_OPTS options */
	COAP_R_RESERVED_CLASS,  /* code class 1, 6 or 7 (§4.2, §12.1) */
	COAP_R_PING,            /* Empty CON: answered with RST (§4.2) */
	COAP_R_TYPE_CODE,       /* type/code not allowed together (§4.2/4.3) */
	COAP_R_CRIT_UNKNOWN,    /* unrecognized critical option (§5.4.1) */
	COAP_R_CRIT_LENGTH,     /* critical option length out of range */
	COAP_R_CRIT_REPEATED,   /* critical non-repeatable option repeated */
	COAP_R_BLOCK_SZX,       /* Block1/Block2 with SZX 7 (RFC 7959 §2.2) */
	COAP_R_COUNT
};

/* What the receiver does (see the table in docs/protocol/coap.md). */
enum coap_action {
	COAP_ACT_OK = 0,        /* process the message */
	COAP_ACT_IGNORE,        /* drop it without answering */
	COAP_ACT_RESET,         /* answer with an RST echoing m.mid */
	COAP_ACT_BAD_OPTION,    /* answer 4.02 Bad Option (m.bad_opt) */
	COAP_ACT_BAD_REQUEST    /* answer 4.00 Bad Request */
};

struct coap_msg {
	uint8_t ver;            /* valid when len >= 4 */
	uint8_t type;           /* COAP_CON..COAP_RST, valid when len >= 4 */
	uint8_t code;           /* valid when len >= 4 */
	uint8_t tkl;            /* 0..8 once the token was accepted */
	uint16_t mid;           /* valid when len >= 4 */
	uint16_t bad_opt;       /* the offending option of COAP_R_CRIT_* */
	enum coap_reason reason;       /* why: set by parse, then classify */
	enum coap_reason parse_reason; /* private: coap_parse's verdict, so
					* that classifying twice agrees */
	const uint8_t *token;   /* borrowed: tkl bytes in the buffer */
	const uint8_t *payload; /* borrowed; NULL when payload_len is 0 */
	size_t payload_len;
	size_t nopts;           /* stored options, <= COAP_MAX_OPTS */
	struct coap_opt opts[COAP_MAX_OPTS]; /* in wire order: ascending num */
};

/* Parses a datagram into m (all fields are reset first).  buf is
 * retained by m (see above) and may be NULL when len is 0.  Reads only
 * buf[0..len); O(len).
 * @retval 0         well-formed; m.reason == COAP_R_OK
 * @retval -EBADMSG  message format error or wrong version; m.reason says
 *                   which, and the fields decoded before the error stay
 *                   valid (ver/type/code/mid whenever len >= 4)
 * @retval -EMSGSIZE well-formed but more than COAP_MAX_OPTS options; the
 *                   first COAP_MAX_OPTS are in m.opts, the payload is set,
 *                   m.reason == COAP_R_TOO_MANY_OPTS */
int coap_parse(struct coap_msg *m, const uint8_t *buf, size_t len);

/* Decides what RFC 7252 tells the receiver to do (the table at the top)
 * with a message that coap_parse() was called on, whatever it returned.
 * Also checks the options against their definitions (coap_opt_def()),
 * marking ignorable elective ones COAP_OPTF_IGNORED, and sets m.reason
 * (and m.bad_opt for COAP_R_CRIT_*).  Idempotent; never fails. */
enum coap_action coap_classify(struct coap_msg *m);

/* coap_parse() then coap_classify(): the one call a receiver needs.
 * buf is retained by m as for coap_parse(). */
enum coap_action coap_recv(struct coap_msg *m, const uint8_t *buf,
			   size_t len);

/* Fixed, NUL-terminated English text; "?" for values out of range. */
const char *coap_reason_str(enum coap_reason r);
const char *coap_action_str(enum coap_action a);

/* ---- option definitions ---- */

enum coap_opt_format {
	COAP_FMT_EMPTY,
	COAP_FMT_OPAQUE,
	COAP_FMT_UINT,
	COAP_FMT_STRING
};

struct coap_optdef {
	uint16_t num;
	uint8_t format;         /* enum coap_opt_format */
	bool repeatable;
	uint16_t min_len;
	uint16_t max_len;
	const char *name;       /* "Uri-Path" */
};

/* The definition of a recognized option (the table of §5.10 plus
 * Observe, Block1, Block2, Size2 and Echo), or NULL: unrecognized. */
const struct coap_optdef *coap_opt_def(uint16_t num);

/* ---- writing ---- */

struct coap_writer {
	uint8_t *buf;           /* borrowed until the message is sent */
	size_t cap;             /* min(buffer size, COAP_MSG_LIMIT) */
	size_t len;             /* bytes of the message so far */
	int err;                /* the first error (sticky), 0 if none */
	uint16_t last_opt;      /* number of the last option written */
	uint8_t state;          /* private */
};

/* Starts a message in buf[0..cap): writes the header and the token
 * (copied: token is borrowed for the call only; NULL when tkl is 0).
 * buf is borrowed until the message is sent; buf == NULL writes nothing
 * and only counts, against cap, what would be written.
 * Call order: init, then options in ascending number, then payload.
 * Every later call either appends whole or appends nothing (w->len is
 * unchanged and no byte at or past w->len is written).  The first error
 * of any call sticks in w->err: every later call returns it, so the
 * message can never be sent with a piece missing.
 * @retval >0       bytes written (4 + tkl)
 * @retval -EINVAL  type > 3, tkl > 8, code 0.00 (Empty) with a token, or
 *                  token NULL with tkl > 0
 * @retval -ENOSPC  cap < 4 + tkl */
int coap_writer_init(struct coap_writer *w, uint8_t *buf, size_t cap,
		     uint8_t type, uint8_t code, uint16_t mid,
		     const uint8_t *token, size_t tkl);

/* Appends an option (val borrowed for the call; NULL when len is 0).
 * For a recognized option (coap_opt_def()) the length must be within its
 * definition; unrecognized numbers take any length up to
 * COAP_OPT_LEN_MAX.
 * @retval >0       bytes written (header + len)
 * @retval -EINVAL  num 0 (reserved, §12.2) or below the previous
 *                  option's, len out of range, val NULL with len > 0, an
 *                  Empty message, or after the payload
 * @retval -ENOSPC  it does not fit
 * @retval <0       an earlier call's error (sticky) */
int coap_put_opt(struct coap_writer *w, uint16_t num, const void *val,
		 size_t len);

/* Appends a uint option in its shortest form (0 is zero bytes, §3.2):
 * Content-Format, Accept, Max-Age, Size1/Size2, Uri-Port, Observe (a
 * 24-bit value: mask it with COAP_OBSERVE_SEQ_MASK, larger is -EINVAL).
 * @retval >0 / -EINVAL / -ENOSPC  as coap_put_opt */
int coap_put_uint(struct coap_writer *w, uint16_t num, uint32_t v);

/* Appends one Uri-Path option per segment of path ("/a/b%20c" gives
 * "a", "b c"; "" and "/" give none; "/a/" gives "a", ""), percent-decoded
 * as in RFC 7252 §6.4 step 8.  Stops at '?' or '#' (not included).  All
 * or nothing: on error w->len is as before the call.
 * @retval >=0      bytes written (0 for no segment)
 * @retval -EINVAL  a bad %XX escape, a segment over 255 bytes, or as
 *                  coap_put_opt
 * @retval -ENOSPC  it does not fit */
int coap_put_path(struct coap_writer *w, const char *path);

/* Appends one Uri-Query option per '&'-separated term of query
 * ("rt=x&a" gives "rt=x", "a"; a leading '?' is skipped), percent-
 * decoded; an empty query adds nothing.  Stops at '#'.  Same rules and
 * returns as coap_put_path. */
int coap_put_query(struct coap_writer *w, const char *query);

/* Appends the payload: the 0xFF marker before the first non-empty piece,
 * nothing at all when len is 0 (§3: no marker for an empty payload).  May
 * be called again to append more; no option may follow.
 * @retval >=0      bytes written (len, + 1 for the marker)
 * @retval -EINVAL  an Empty message with len > 0, data NULL with len > 0
 * @retval -ENOSPC  it does not fit */
int coap_put_payload(struct coap_writer *w, const void *data, size_t len);

/* The finished message: what to send.
 * @retval >0  its length (w->len)
 * @retval <0  the first error of any call on w (w->err) */
int coap_writer_finish(const struct coap_writer *w);

/* Serializes a message view: header, token, m->opts written in ascending
 * number (a stable sort: equal numbers keep their order in the array),
 * payload.  Used to re-send a parsed message and by the fuzzer's round
 * trip; option lengths are checked only against the wire format (a
 * parsed message may hold options coap_classify() ignored).  Nothing is
 * written unless the whole message fits.
 * @retval >0        the message length
 * @retval -EINVAL   type > 3, tkl > 8, nopts > COAP_MAX_OPTS, an option
 *                   longer than COAP_OPT_LEN_MAX, or an Empty message with
 *                   token, options or payload
 * @retval -EMSGSIZE longer than COAP_MSG_LIMIT
 * @retval -ENOSPC   longer than cap */
int coap_build(const struct coap_msg *m, uint8_t *out, size_t cap);

/* An Empty message (4 bytes): an RST or ACK echoing mid, or a CON ping.
 * @retval 4 / -EINVAL (type > 3) / -ENOSPC (cap < 4) */
int coap_build_empty(uint8_t *out, size_t cap, uint8_t type, uint16_t mid);

/* ---- option getters (all skip COAP_OPTF_IGNORED options) ---- */

/* The next option numbered num at or after index *pos (start with *pos =
 * 0), or NULL when there is none; advances *pos past it. */
const struct coap_opt *coap_opt_next(const struct coap_msg *m, uint16_t num,
				     size_t *pos);

/* The first option numbered num, or NULL. */
const struct coap_opt *coap_opt_get(const struct coap_msg *m, uint16_t num);

/* The first option numbered num as an unsigned integer (leading zero
 * bytes accepted).  A recognized option whose length is outside its
 * definition counts as absent (§5.4.1).
 * @retval 1        found, *v set
 * @retval 0        absent, *v untouched
 * @retval -EBADMSG present but longer than 4 bytes (unrecognized num) */
int coap_get_uint(const struct coap_msg *m, uint16_t num, uint32_t *v);

/* Max-Age in seconds: the option's value, or COAP_MAX_AGE_DEFAULT. */
uint32_t coap_get_max_age(const struct coap_msg *m);

/* The first ETag (1..8 bytes): 1 with *val and *len set, 0 when absent. */
int coap_get_etag(const struct coap_msg *m, const uint8_t **val,
		  size_t *len);

/* Encodes v in the shortest form into out (zero bytes for 0).
 * @retval 0..4 the length */
int coap_uint_encode(uint32_t v, uint8_t out[4]);

/* Decodes a big-endian uint of len bytes.
 * @retval 0 / -EBADMSG (len > 4) */
int coap_uint_decode(const uint8_t *p, size_t len, uint32_t *v);

/* ---- Uri-Path and Uri-Query ---- */

/* Writes the path of m as RFC 7252 §6.5 step 4-5 composes it: "/" plus
 * each Uri-Path segment, bytes other than unreserved, sub-delims, ':' and
 * '@' percent-encoded ("%2F" for a '/' inside a segment); "/" when there
 * is no segment.  NUL-terminated.
 * @retval >=1     the length without the NUL
 * @retval -ENOSPC cap is smaller than that length + 1 (out[0] is then
 *                 '\0' when cap > 0) */
int coap_path_format(const struct coap_msg *m, char *out, size_t cap);

/* Whether m's Uri-Path segments are exactly those of path, a literal
 * "/a/b" compared byte for byte without percent-decoding ("" and "/"
 * match no segment; "/a/" is "a" then ""). */
bool coap_path_equals(const struct coap_msg *m, const char *path);

/* One Uri-Query term split at its first '=' (§6.5 treats the value as
 * opaque bytes; "key=value" is a convention, RFC 6690 relies on it). */
struct coap_query {
	const uint8_t *key;     /* borrowed from the view */
	size_t key_len;
	const uint8_t *val;     /* after '='; NULL when has_val is false */
	size_t val_len;
	bool has_val;
};

/* The next Uri-Query term from option index *pos on (start with 0).
 * @retval 1 found, q set / 0 no more */
int coap_query_next(const struct coap_msg *m, size_t *pos,
		    struct coap_query *q);

/* The first term whose key is exactly key.
 * @retval 1 found, q set / 0 absent */
int coap_query_find(const struct coap_msg *m, const char *key,
		    struct coap_query *q);

/* ---- Observe (RFC 7641) ---- */

#define COAP_OBSERVE_REGISTER 0u     /* in a GET: add me (§2) */
#define COAP_OBSERVE_DEREGISTER 1u   /* in a GET: remove me */
#define COAP_OBSERVE_SEQ_MASK 0xffffffu  /* 24-bit sequence (§4.4) */
#define COAP_OBSERVE_FRESH_MS 128000u    /* 128 s of §3.4 */

/* The Observe value: 1 with *v set, 0 when absent (or ignored). */
int coap_get_observe(const struct coap_msg *m, uint32_t *v);

/* RFC 7641 §3.4: whether a notification with sequence number v2 that
 * arrived at local time t2 is newer than the last one (v1 at t1), i.e.
 *   (v1 < v2 and v2 - v1 < 2^23) or (v1 > v2 and v1 - v2 > 2^23) or
 *   t2 > t1 + 128 s.
 * Times are milliseconds on one monotonic clock; only the low 24 bits of
 * v1 and v2 are used. */
bool coap_observe_is_newer(uint32_t v1, uint64_t t1_ms, uint32_t v2,
			   uint64_t t2_ms);

/* The sequence number after seq, wrapping at 2^24. */
uint32_t coap_observe_next(uint32_t seq);

/* ---- Block1/Block2 (RFC 7959) ---- */

#define COAP_BLOCK_NUM_MAX 0xfffffu  /* 20 bits in a 3-byte option */
#define COAP_SZX_MIN 0               /* 16 bytes */
#define COAP_SZX_MAX 6               /* 1024 bytes; 7 is reserved */
#define COAP_BLOCK_SIZE(szx) (16u << (szx))

struct coap_block {
	uint32_t num;           /* block number, <= COAP_BLOCK_NUM_MAX */
	uint8_t szx;            /* size exponent: 2^(szx + 4) bytes */
	bool more;              /* M bit */
};

/* Decodes a Block option value (NUM << 4 | M << 3 | SZX, 0..3 bytes).
 * @retval 0        decoded
 * @retval -EBADMSG len > 3, or SZX 7 (b is still filled in) */
int coap_block_decode(const uint8_t *val, size_t len, struct coap_block *b);

/* Encodes b in the shortest form (zero bytes for 0/0/16).
 * @retval 0..3     the length
 * @retval -EINVAL  num > COAP_BLOCK_NUM_MAX or szx > 6 */
int coap_block_encode(const struct coap_block *b, uint8_t out[3]);

/* The first Block1/Block2 option (num is COAP_OPT_BLOCK1/2).
 * @retval 1 decoded / 0 absent / -EBADMSG as coap_block_decode */
int coap_get_block(const struct coap_msg *m, uint16_t num,
		   struct coap_block *b);

/* Appends a Block option.  @retval as coap_put_opt; -EINVAL also for a
 * b that coap_block_encode refuses. */
int coap_put_block(struct coap_writer *w, uint16_t num,
		   const struct coap_block *b);

/* The SZX of a block size: 16, 32, ..., 1024.
 * @retval 0..6 / -EINVAL any other size */
int coap_szx_of_size(size_t size);

/* The largest SZX whose block fits in room bytes (room >= 16).
 * @retval 0..6 / -EINVAL room < 16 */
int coap_szx_fit(size_t room);

/* Lowers b's block size to at most szx_max, scaling num so it names the
 * first smaller block inside the requested one (RFC 7959 §2.4: a server
 * may answer with a smaller block than asked).
 * @retval 0        done (unchanged when b->szx <= szx_max)
 * @retval -EINVAL  szx_max > 6 or b->szx > 6
 * @retval -EBADMSG the scaled num would exceed COAP_BLOCK_NUM_MAX */
int coap_block_shrink(struct coap_block *b, uint8_t szx_max);

/* The slice of a total-byte representation that block b covers:
 * [*off, *off + *len) and whether more blocks follow (the M bit of the
 * answer).  Block 0 of an empty representation is the empty slice.
 * @retval 0        set
 * @retval -EINVAL  b->szx > 6 or b->num > COAP_BLOCK_NUM_MAX
 * @retval -EBADMSG the block starts at or past the end (RFC 7959 names
 *                  no code; the server answers 4.02 Bad Option) */
int coap_block_slice(const struct coap_block *b, size_t total, size_t *off,
		     size_t *len, bool *more);

#endif

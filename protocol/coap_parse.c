/*
 * coap_parse.c — CoAP datagram parsing (syntax) and classification (what
 * RFC 7252 tells the receiver to do).
 *
 * Wire layout (§3):
 *
 *     byte 0     Ver(2) | T(2) | TKL(4)
 *     byte 1     Code (class 3 bits . detail 5 bits)
 *     byte 2-3   Message ID, big-endian
 *     TKL bytes  Token
 *     options    each: Delta(4) | Length(4), then 0-2 bytes of extended
 *                delta, 0-2 bytes of extended length, then the value;
 *                nibble 13 = 13 + 1 byte, 14 = 269 + 2 bytes, 15 reserved
 *     0xFF       payload marker, present only before a non-empty payload
 *
 * The parser never forms a pointer past the end: every read of n bytes is
 * preceded by `n > (size_t)(end - p)`.  Options are accumulated into the
 * view up to COAP_MAX_OPTS; past that the scan goes on without storing so
 * that a format error later in the message still wins (it is answered
 * differently).  Parsing is O(len).
 *
 * Classification order (first match decides; the table with RFC sections
 * is at the top of coap.h and in docs/protocol/coap.md):
 *   1. no header / wrong version        -> ignore
 *   2. any other format error           -> reject
 *   3. reserved class 1, 6, 7           -> reject
 *   4. Empty: CON ping -> RST; ACK/RST fine; NON -> reject
 *   5. RST not Empty, ACK with a request -> ignore
 *   6. too many options: request -> 4.00, response -> reject
 *   7. bad critical option: CON request -> 4.02, else reject;
 *      bad elective option -> marked ignored
 *   8. Block SZX 7: request -> 4.00, response -> reject
 * where "reject" is RST for a CON or NON and silence for an ACK or RST
 * (§4.2, §4.3).  Classification starts again from the parse verdict
 * (m->parse_reason) and clears the ignored marks, so it is idempotent.
  */
#include "coap.h"

#include <errno.h>
#include <string.h>

/* Reads an extended delta/length for nibble nib from *pp.
 * Returns COAP_R_OK and sets *out, or the reason it cannot. */
static enum coap_reason get_ext(const uint8_t **pp, const uint8_t *end,
				unsigned nib, uint32_t *out)
{
	const uint8_t *p = *pp;

	if (nib < 13) {
		*out = nib;
		return COAP_R_OK;
	}
	if (nib == 15)
		return COAP_R_OPT_RESERVED;
	if (nib == 13) {
		if (p == end)
			return COAP_R_TRUNCATED;
		*out = 13u + p[0];
		*pp = p + 1;
		return COAP_R_OK;
	}
	if (2 > (size_t)(end - p))
		return COAP_R_TRUNCATED;
	*out = 269u + ((uint32_t)p[0] << 8 | p[1]);
	*pp = p + 2;
	return COAP_R_OK;
}

static int fail(struct coap_msg *m, enum coap_reason r)
{
	m->reason = r;
	m->parse_reason = r;
	return -EBADMSG;
}

/* Options and payload from p to end; invariant: p <= end. */
static int parse_opts(struct coap_msg *m, const uint8_t *p,
		      const uint8_t *end)
{
	uint32_t num = 0;
	bool overflow = false;

	while (p < end) {
		uint8_t b = *p++;
		uint32_t delta, len;
		enum coap_reason r;

		if (b == COAP_PAYLOAD_MARKER) {
			if (p == end)
				return fail(m, COAP_R_EMPTY_PAYLOAD);
			m->payload = p;
			m->payload_len = (size_t)(end - p);
			break;
		}
		r = get_ext(&p, end, (unsigned)b >> 4, &delta);
		if (r == COAP_R_OK)
			r = get_ext(&p, end, b & 0x0fu, &len);
		if (r != COAP_R_OK)
			return fail(m, r);
		/* num <= 65535 and delta <= 65804: no 32-bit overflow */
		num += delta;
		if (num > 0xffffu)
			return fail(m, COAP_R_OPT_NUMBER);
		if (len > (size_t)(end - p))
			return fail(m, COAP_R_TRUNCATED);
		if (m->nopts < COAP_MAX_OPTS) {
			struct coap_opt *o = &m->opts[m->nopts++];

			o->val = p;
			o->len = len;
			o->num = (uint16_t)num;
			o->flags = 0;
		} else {
			overflow = true;
		}
		p += len;
	}
	if (overflow) {
		m->reason = COAP_R_TOO_MANY_OPTS;
		m->parse_reason = COAP_R_TOO_MANY_OPTS;
		return -EMSGSIZE;
	}
	return 0;
}

/* see coap.h */
int coap_parse(struct coap_msg *m, const uint8_t *buf, size_t len)
{
	const uint8_t *p, *end;
	size_t tkl;

	memset(m, 0, sizeof *m);
	if (len < COAP_HDR_LEN)
		return fail(m, COAP_R_SHORT);
	end = buf + len;
	m->ver = (uint8_t)(buf[0] >> 6);
	m->type = (uint8_t)((buf[0] >> 4) & 3u);
	m->code = buf[1];
	m->mid = (uint16_t)((unsigned)buf[2] << 8 | buf[3]);
	tkl = buf[0] & 0x0fu;
	if (m->ver != COAP_VERSION)
		return fail(m, COAP_R_VERSION);
	if (tkl > COAP_TOKEN_MAX)
		return fail(m, COAP_R_TKL);
	/* §4.1: an Empty message is the 4-byte header and nothing else */
	if (m->code == COAP_CODE_EMPTY && (tkl != 0 || len > COAP_HDR_LEN))
		return fail(m, COAP_R_EMPTY_NOT_EMPTY);
	p = buf + COAP_HDR_LEN;
	if (tkl > (size_t)(end - p))
		return fail(m, COAP_R_TRUNCATED);
	m->tkl = (uint8_t)tkl;
	m->token = p;
	return parse_opts(m, p + tkl, end);
}

/* The reject of §4.2/§4.3: RST for a CON or NON, silence for an ACK or
 * RST (which must never be answered). */
static enum coap_action reject(struct coap_msg *m, enum coap_reason r)
{
	m->reason = r;
	return m->type <= COAP_NON ? COAP_ACT_RESET : COAP_ACT_IGNORE;
}

/* Why option i is unacceptable, counting earlier occurrences of the same
 * number (m->opts is sorted by number).  COAP_R_OK: acceptable. */
static enum coap_reason opt_problem(const struct coap_msg *m, size_t i)
{
	const struct coap_opt *o = &m->opts[i];
	const struct coap_optdef *d = coap_opt_def(o->num);

	if (!d)
		return COAP_R_CRIT_UNKNOWN;
	if (o->len < d->min_len || o->len > d->max_len)
		return COAP_R_CRIT_LENGTH;
	if (!d->repeatable && i > 0 && m->opts[i - 1].num == o->num)
		return COAP_R_CRIT_REPEATED;
	return COAP_R_OK;
}

/* Step 7: returns COAP_R_OK or the reason of the first bad critical
 * option (its number in m->bad_opt); bad elective ones are marked. */
static enum coap_reason check_opts(struct coap_msg *m)
{
	for (size_t i = 0; i < m->nopts; i++) {
		enum coap_reason r = opt_problem(m, i);

		if (r == COAP_R_OK)
			continue;
		if (COAP_OPT_IS_CRITICAL(m->opts[i].num)) {
			m->bad_opt = m->opts[i].num;
			return r;
		}
		/* §5.4.1: an unrecognized elective option is ignored */
		m->opts[i].flags |= COAP_OPTF_IGNORED;
	}
	return COAP_R_OK;
}

/* Step 8: a Block option with the reserved SZX 7. */
static bool block_szx7(const struct coap_msg *m)
{
	static const uint16_t nums[] = { COAP_OPT_BLOCK2, COAP_OPT_BLOCK1 };
	struct coap_block b;

	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		if (coap_get_block(m, nums[i], &b) == -EBADMSG)
			return true;
	}
	return false;
}

/* Steps 6-8 for a request (class 0, not Empty) or a response. */
static enum coap_action classify_opts(struct coap_msg *m, bool request)
{
	enum coap_reason r;

	if (m->reason == COAP_R_TOO_MANY_OPTS)
		return request ? COAP_ACT_BAD_REQUEST : reject(m, m->reason);
	r = check_opts(m);
	if (r != COAP_R_OK) {
		/* §5.4.1: 4.02 only for a CON request; otherwise reject */
		if (request && m->type == COAP_CON) {
			m->reason = r;
			return COAP_ACT_BAD_OPTION;
		}
		return reject(m, r);
	}
	if (block_szx7(m)) {
		/* RFC 7959 §2.2: 4.00 upon reception in a request */
		m->reason = COAP_R_BLOCK_SZX;
		return request ? COAP_ACT_BAD_REQUEST : reject(m, m->reason);
	}
	return COAP_ACT_OK;
}

/* see coap.h */
enum coap_action coap_classify(struct coap_msg *m)
{
	unsigned cls = COAP_CODE_CLASS(m->code);

	m->reason = m->parse_reason;
	m->bad_opt = 0;
	for (size_t i = 0; i < m->nopts; i++)
		m->opts[i].flags &= (uint16_t)~COAP_OPTF_IGNORED;
	if (m->reason == COAP_R_SHORT || m->reason == COAP_R_VERSION)
		return COAP_ACT_IGNORE;                        /* step 1 */
	if (m->reason != COAP_R_OK && m->reason != COAP_R_TOO_MANY_OPTS)
		return reject(m, m->reason);                   /* step 2 */
	if (cls == 1 || cls == 6 || cls == 7)
		return reject(m, COAP_R_RESERVED_CLASS);       /* step 3 */
	if (m->code == COAP_CODE_EMPTY) {                      /* step 4 */
		if (m->type == COAP_CON) {
			m->reason = COAP_R_PING;
			return COAP_ACT_RESET;
		}
		if (m->type == COAP_NON)
			return reject(m, COAP_R_TYPE_CODE);
		return COAP_ACT_OK;
	}
	if (m->type == COAP_RST || (m->type == COAP_ACK && cls == 0))
		return reject(m, COAP_R_TYPE_CODE);            /* step 5 */
	return classify_opts(m, cls == 0);
}

/* see coap.h */
enum coap_action coap_recv(struct coap_msg *m, const uint8_t *buf,
			   size_t len)
{
	/* the verdict is kept in m, classify reads it from there */
	(void)coap_parse(m, buf, len);
	return coap_classify(m);
}

static const char *const reason_text[COAP_R_COUNT] = {
	[COAP_R_OK] = "ok",
	[COAP_R_SHORT] = "shorter than the 4-byte header",
	[COAP_R_VERSION] = "unknown version",
	[COAP_R_TKL] = "token length 9-15 is reserved",
	[COAP_R_TRUNCATED] = "token, option or extended field cut off",
	[COAP_R_OPT_RESERVED] = "option nibble 15 outside the payload marker",
	[COAP_R_OPT_NUMBER] = "option number beyond 65535",
	[COAP_R_EMPTY_PAYLOAD] = "payload marker with an empty payload",
	[COAP_R_EMPTY_NOT_EMPTY] = "Empty message with token, options or payload",
	[COAP_R_TOO_MANY_OPTS] = "too many options",
	[COAP_R_RESERVED_CLASS] = "reserved code class",
	[COAP_R_PING] = "ping (Empty CON)",
	[COAP_R_TYPE_CODE] = "code not allowed in this message type",
	[COAP_R_CRIT_UNKNOWN] = "unrecognized critical option",
	[COAP_R_CRIT_LENGTH] = "critical option length out of range",
	[COAP_R_CRIT_REPEATED] = "critical option repeated",
	[COAP_R_BLOCK_SZX] = "block size exponent 7 is reserved",
};

/* see coap.h */
const char *coap_reason_str(enum coap_reason r)
{
	if ((unsigned)r >= COAP_R_COUNT)
		return "?";
	return reason_text[r];
}

/* see coap.h */
const char *coap_action_str(enum coap_action a)
{
	switch (a) {
	case COAP_ACT_OK:
		return "process";
	case COAP_ACT_IGNORE:
		return "ignore";
	case COAP_ACT_RESET:
		return "reset";
	case COAP_ACT_BAD_OPTION:
		return "4.02 Bad Option";
	case COAP_ACT_BAD_REQUEST:
		return "4.00 Bad Request";
	}
	return "?";
}

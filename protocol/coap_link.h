/*
 * coap_link.h — CoRE Link Format (RFC 6690) writer for /.well-known/core,
 * and the query filter of RFC 6690 §4.1.  Pure: no I/O, no allocation.
 *
 *     static const struct coap_link res[] = {
 *         { .href = "/status", .rt = "vigil.status", .has_ct = true,
 *           .ct = COAP_CF_CBOR, .obs = true },
 *         { .href = "/health", .rt = "vigil.health", .has_ct = true,
 *           .ct = COAP_CF_CBOR, .obs = true },
 *     };
 *     struct coap_query q, *filter = NULL;
 *     size_t pos = 0;
 *     if (coap_query_next(&req, &pos, &q))   the first Uri-Query term
 *         filter = &q;
 *     n = coap_link_format(body, sizeof body, res, 2, filter);
 *
 * gives (one line, no NUL; the payload of a 2.05 with Content-Format 40):
 *
 *     </status>;rt="vigil.status";ct=60;obs,</health>;rt="vigil.health";ct=60;obs
 *
 * Attributes are written in the order rt, if, ct, obs, title (RFC 6690
 * §3.1, §3.2; RFC 7252 §7.2.1 for ct; RFC 7641 §6 for obs).  Every
 * string is validated, never escaped into something else: what cannot be
 * written as RFC 6690 allows is -EINVAL, so the output always parses.
 */
#ifndef VIGIL_COAP_LINK_H
#define VIGIL_COAP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap.h"

/* The largest document written: the int return stays positive on 32-bit
 * targets, and 64 Block2 blocks of 1024 bytes are far more than a
 * resource list of an appliance needs (vigild's is ~250 bytes). */
#define COAP_LINK_MAX 65535

struct coap_link {
	/* The target, borrowed for the call: '/' then RFC 3986 path/query
	 * characters (unreserved, sub-delims, ':', '@', '/', '?', '%'). */
	const char *href;
	/* Resource type(s) "rt" and interface description(s) "if", or NULL:
	 * printable ASCII without '"' and '\', several values separated by
	 * single spaces (RFC 6690 §3.1, §3.2). */
	const char *rt;
	const char *ifd;
	/* Human-readable "title", or NULL: printable ASCII; '"' and '\' are
	 * written as quoted-pairs. */
	const char *title;
	uint16_t ct;            /* Content-Format, written when has_ct */
	bool has_ct;
	bool obs;               /* observable (RFC 7641 §6) */
};

/* An incremental writer: each coap_link_add() appends one link (with the
 * ',' separator) or nothing. */
struct coap_linkw {
	char *buf;              /* borrowed until the document is sent */
	size_t cap;             /* min(buffer size, COAP_LINK_MAX) */
	size_t len;             /* bytes written so far; no NUL */
	size_t count;           /* links written */
};

/* Starts an empty document in buf[0..cap). */
void coap_link_init(struct coap_linkw *lw, char *buf, size_t cap);

/* Appends l, preceded by ',' unless it is the first.  Nothing is
 * written unless all of it fits: on -ENOSPC lw and buf[lw->len..cap) are
 * unchanged, so the caller may send what is there (e.g. as a full
 * Block2 block) and continue in a new buffer.
 * @retval >0       bytes appended
 * @retval -EINVAL  l->href NULL, empty, not starting with '/' or holding
 *                  a character outside the set above; rt/if empty or
 *                  with a bad character or space; a bad title character
 * @retval -ENOSPC  it does not fit */
int coap_link_add(struct coap_linkw *lw, const struct coap_link *l);

/* Writes the links of links[0..n) that match filter (all when filter is
 * NULL) as one document into out[0..cap).  All or nothing: out is
 * untouched on error.  No matching link gives 0 (an empty document).
 * @retval >=0      the document length (no NUL)
 * @retval -EINVAL  a link that coap_link_add refuses (checked whether
 *                  or not it matches)
 * @retval -ENOSPC  the document is longer than cap (or COAP_LINK_MAX) */
int coap_link_format(char *out, size_t cap, const struct coap_link *links,
		     size_t n, const struct coap_query *filter);

/* RFC 6690 §4.1: whether l passes the query filter q ("rt=vigil.status",
 * "href=/st*", "ct=60", "obs").  The key names an attribute: href, rt,
 * if (any of its space-separated values), ct (as decimal text), title,
 * obs (present; the value is not looked at).  A value ending in '*'
 * matches as a prefix; a term without '=' matches every link that has
 * the attribute.  An absent attribute or an unknown key matches nothing;
 * q is borrowed for the call. */
bool coap_link_match(const struct coap_link *l, const struct coap_query *q);

#endif

/*
 * coap_link.c — CoRE Link Format (RFC 6690) writer and query filter.
 *
 * One link is  "<" href ">" *( ";" param )  and links are joined by ','
 * (RFC 6690 §2).  Each link is written in two passes over the same code:
 * a counting pass (sink.buf == NULL) that also validates every string,
 * then, only if it fits, the writing pass.  So nothing is ever written
 * past the committed length, and an invalid link writes nothing.
 *
 * Bounds: every string is scanned at most COAP_LINK_MAX + 1 bytes (a
 * longer one cannot fit anyway), so the counts below stay small and the
 * sums cannot overflow a size_t.
 */
#include "coap_link.h"

#include <errno.h>
#include <string.h>

struct sink {
	char *buf;              /* NULL: count only */
	size_t n;
	bool bad;               /* a string failed validation */
	bool big;               /* a string is longer than COAP_LINK_MAX */
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (s->buf && n > 0)
		memcpy(s->buf + s->n, p, n);
	s->n += n;
}

/* RFC 3986 characters we allow in an href (path and query). */
static bool href_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

/* A relation-types value (rt, if): printable, no '"' or '\', values
 * separated by single spaces. */
static bool rel_char(const char *s, size_t i)
{
	char c = s[i];

	if (c == ' ')
		return i > 0 && s[i - 1] != ' ' && s[i + 1] != '\0';
	return c > ' ' && c <= '~' && c != '"' && c != '\\';
}

enum kind { K_HREF, K_REL, K_TITLE };

/* Writes s (validated as kind) into the sink; title escapes '"', '\'. */
static void put_str(struct sink *sk, const char *s, enum kind k)
{
	size_t i = 0;

	for (; s[i] != '\0'; i++) {
		char c = s[i];
		bool ok = k == K_HREF ? href_char(c) :
			  k == K_REL ? rel_char(s, i) : c >= ' ' && c <= '~';

		if (i > COAP_LINK_MAX) {
			sk->big = true;
			return;
		}
		if (!ok) {
			sk->bad = true;
			return;
		}
		if (k == K_TITLE && (c == '"' || c == '\\'))
			put(sk, "\\", 1);
		put(sk, &s[i], 1);
	}
	if (i == 0 && k != K_TITLE)
		sk->bad = true;         /* "<>" and rt="" are not useful */
}

/* ';' name '="' value '"' for a present attribute. */
static void put_attr(struct sink *sk, const char *name, const char *val,
		     enum kind k)
{
	if (!val)
		return;
	put(sk, ";", 1);
	put(sk, name, strlen(name));
	put(sk, "=\"", 2);
	put_str(sk, val, k);
	put(sk, "\"", 1);
}

/* Decimal text of v into d (no NUL); returns its length (1..5). */
static size_t u16_text(uint16_t v, char d[5])
{
	char t[5];
	size_t n = 0, i = 0;

	do {
		t[n++] = (char)('0' + v % 10u);
		v = (uint16_t)(v / 10u);
	} while (v != 0);
	while (n > 0)
		d[i++] = t[--n];
	return i;
}

/* One link, with its separator when sep; validates as it goes. */
static void put_link(struct sink *sk, const struct coap_link *l, bool sep)
{
	if (!l->href || l->href[0] != '/') {
		sk->bad = true;
		return;
	}
	if (sep)
		put(sk, ",", 1);
	put(sk, "<", 1);
	put_str(sk, l->href, K_HREF);
	put(sk, ">", 1);
	put_attr(sk, "rt", l->rt, K_REL);
	put_attr(sk, "if", l->ifd, K_REL);
	if (l->has_ct) {
		char d[5];

		put(sk, ";ct=", 4);
		put(sk, d, u16_text(l->ct, d));
	}
	if (l->obs)
		put(sk, ";obs", 4);
	put_attr(sk, "title", l->title, K_TITLE);
}

/* see coap_link.h */
void coap_link_init(struct coap_linkw *lw, char *buf, size_t cap)
{
	lw->buf = buf;
	lw->cap = cap < COAP_LINK_MAX ? cap : COAP_LINK_MAX;
	lw->len = 0;
	lw->count = 0;
}

/* see coap_link.h */
int coap_link_add(struct coap_linkw *lw, const struct coap_link *l)
{
	struct sink sk = { NULL, 0, false, false };

	put_link(&sk, l, lw->count > 0);
	if (sk.bad)
		return -EINVAL;
	if (sk.big || sk.n > lw->cap - lw->len)
		return -ENOSPC;
	sk.buf = lw->buf + lw->len;
	sk.n = 0;
	put_link(&sk, l, lw->count > 0);
	lw->len += sk.n;
	lw->count++;
	return (int)sk.n;
}

/* see coap_link.h */
int coap_link_format(char *out, size_t cap, const struct coap_link *links,
		     size_t n, const struct coap_query *filter)
{
	struct sink sk = { NULL, 0, false, false };
	struct coap_linkw lw;
	bool first = true;

	/* pass 1: validate all, measure the matching ones */
	for (size_t i = 0; i < n; i++) {
		struct sink one = { NULL, 0, false, false };

		put_link(&one, &links[i], false);
		if (one.bad)
			return -EINVAL;
		if (filter && !coap_link_match(&links[i], filter))
			continue;
		one.n += first ? 0 : 1;         /* the ',' */
		if (one.big || one.n > COAP_LINK_MAX - sk.n)
			return -ENOSPC;         /* invariant: sk.n <= MAX */
		sk.n += one.n;
		first = false;
	}
	if (sk.n > cap)
		return -ENOSPC;
	coap_link_init(&lw, out, cap);
	for (size_t i = 0; i < n; i++) {
		if (!filter || coap_link_match(&links[i], filter))
			(void)coap_link_add(&lw, &links[i]); /* fits: pass 1 */
	}
	return (int)lw.len;
}

/* want[0..wlen) against have[0..hlen): equal, or a prefix before '*'. */
static bool value_match(const char *have, size_t hlen, const uint8_t *want,
			size_t wlen)
{
	if (wlen > 0 && want[wlen - 1] == '*') {
		wlen--;
		return hlen >= wlen && memcmp(have, want, wlen) == 0;
	}
	return hlen == wlen && memcmp(have, want, wlen) == 0;
}

/* Any of the space-separated values of list. */
static bool list_match(const char *list, const struct coap_query *q)
{
	while (*list != '\0') {
		size_t n = strcspn(list, " ");

		if (value_match(list, n, q->val, q->val_len))
			return true;
		list += n;
		list += *list == ' ';
	}
	return false;
}

static bool key_is(const struct coap_query *q, const char *k)
{
	size_t n = strlen(k);

	return q->key_len == n && memcmp(q->key, k, n) == 0;
}

/* see coap_link.h */
bool coap_link_match(const struct coap_link *l, const struct coap_query *q)
{
	if (key_is(q, "obs"))
		return l->obs;
	if (key_is(q, "ct")) {
		char d[5];

		return l->has_ct && (!q->has_val ||
		       value_match(d, u16_text(l->ct, d), q->val, q->val_len));
	}
	if (key_is(q, "href") && l->href)
		return !q->has_val || value_match(l->href, strlen(l->href),
						  q->val, q->val_len);
	if (key_is(q, "title") && l->title)
		return !q->has_val || value_match(l->title, strlen(l->title),
						  q->val, q->val_len);
	if (key_is(q, "rt") && l->rt)
		return !q->has_val || list_match(l->rt, q);
	if (key_is(q, "if") && l->ifd)
		return !q->has_val || list_match(l->ifd, q);
	return false;
}

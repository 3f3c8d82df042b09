/*
 * log_json.c — see log.h (log_format_json, log_ts).  A bounded writer over
 * the caller's buffer: every piece is checked against the room left minus
 * what the line still needs to close ("cut":true}\n), so the line stays a
 * valid JSON object however long or hostile the strings are.
 */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tz.h"

/* ,"cut":true}\n — kept free until the line is closed. */
#define JW_TAIL 13

struct jw {
	char *buf;
	size_t cap;   /* usable: the caller's cap minus JW_TAIL and the NUL */
	size_t len;
	int cut;
};

static int jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->cut || n > w->cap - w->len) {
		w->cut = 1;
		return -1;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 when the byte starts none. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;          /* overlong */
	else if (c == 0xed)
		hi = 0x9f;          /* surrogates */
	else if (c == 0xf0)
		lo = 0x90;          /* overlong */
	else if (c == 0xf4)
		hi = 0x8f;          /* past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* One escaped piece of the string at p: its text into out, its length. */
static size_t esc_piece(const unsigned char *p, size_t left, char out[8],
			size_t *used)
{
	size_t n = utf8_seq(p, left);

	*used = n ? n : 1;
	if (n > 1) {
		memcpy(out, p, n);
		return n;
	}
	if (n == 0)
		return (size_t)snprintf(out, 8, "\\ufffd");
	if (p[0] == '"' || p[0] == '\\') {
		out[0] = '\\';
		out[1] = (char)p[0];
		return 2;
	}
	if (p[0] < 0x20 || p[0] == 0x7f)
		return (size_t)snprintf(out, 8, "\\u%04x", p[0]);
	out[0] = (char)p[0];
	return 1;
}

/* A quoted, escaped string; a string that does not fit is cut at a piece
 * boundary and closed, and the line marked cut. */
static void jw_str(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n, used;
	char piece[8];

	if (w->cut || w->cap - w->len < 2) { /* both quotes */
		w->cut = 1;
		return;
	}
	w->buf[w->len++] = '"';
	while (left > 0) {
		n = esc_piece(p, left, piece, &used);
		/* keep 1 byte for the closing quote */
		if (n + 1 > w->cap - w->len) {
			w->cut = 1;
			break;
		}
		memcpy(w->buf + w->len, piece, n);
		w->len += n;
		p += used;
		left -= used;
	}
	w->buf[w->len++] = '"'; /* room kept above */
}

/* ,"key": then the value; a pair that does not fit is left out whole. */
static void jw_pair(struct jw *w, const struct log_kv *kv)
{
	char num[24];
	size_t start = w->len;

	if (w->cut || !kv->key || (kv->type == LOG_KV_STR && !kv->v.s))
		return;
	jw_raw(w, ",", 1);
	jw_str(w, kv->key);
	jw_raw(w, ":", 1);
	if (w->cut) {
		w->len = start;
		return;
	}
	if (kv->type == LOG_KV_STR) {
		jw_str(w, kv->v.s);
		return;
	}
	if (kv->type == LOG_KV_INT)
		snprintf(num, sizeof num, "%" PRId64, kv->v.i);
	else
		snprintf(num, sizeof num, "%" PRIu64, kv->v.u);
	if (jw_raw(w, num, strlen(num)) < 0)
		w->len = start;
}

/* see log.h */
void log_ts(int64_t wall_ms, char buf[LOG_TS_SIZE])
{
	int64_t wall = wall_ms < 0 ? 0 : wall_ms; /* clock unset */
	struct tz_civil cv;

	tz_civil(wall / 1000, &cv);
	/* the modulos tell the compiler each field's width */
	snprintf(buf, LOG_TS_SIZE, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(cv.year % 10000), (unsigned)cv.mon % 100u,
		 (unsigned)cv.mday % 100u, (unsigned)cv.hour % 100u,
		 (unsigned)cv.min % 100u, (unsigned)cv.sec % 100u,
		 (unsigned)(wall % 1000));
}

/* see log.h */
int log_format_json(const struct log_record *r, const struct log_kv *kv,
		    size_t n, char *buf, size_t cap)
{
	struct jw w = { .buf = buf, .cap = cap - JW_TAIL - 1 };
	char ts[LOG_TS_SIZE];
	size_t i;

	if (cap < LOG_JSON_MIN) {
		if (cap > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	log_ts(r->wall_ms, ts);
	jw_raw(&w, "{\"ts\":\"", 7);
	jw_raw(&w, ts, strlen(ts));
	jw_raw(&w, "\",\"level\":\"", 11);
	jw_raw(&w, log_level_name(r->level), strlen(log_level_name(r->level)));
	jw_raw(&w, "\",\"subsystem\":", 14);
	jw_str(&w, r->module);
	jw_raw(&w, ",\"msg\":", 7);
	jw_str(&w, r->text);
	for (i = 0; i < n && i < LOG_KV_MAX; i++)
		jw_pair(&w, &kv[i]);
	/* the tail's room was kept free until now */
	if (w.cut) {
		memcpy(buf + w.len, ",\"cut\":true", 11);
		w.len += 11;
	}
	buf[w.len++] = '}';
	buf[w.len++] = '\n';
	buf[w.len] = '\0';
	return (int)w.len;
}

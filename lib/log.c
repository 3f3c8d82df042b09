/*
 * log.c — see log.h.  One static ring; the write position is the sequence
 * number modulo the ring size, so seq alone locates a record and tells
 * whether it is still there (seq > last - LOG_RING_RECORDS).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal/clock.h"
#include "hal/syslog.h"

/* Apart from log_state so that it is zero-initialized (.bss): inside the
 * initialized struct it was 25.6 KB of .data stored in the binary. */
static struct log_record log_ring[LOG_RING_RECORDS];

static struct {
	uint32_t last_seq;
	int level;
	int to_stderr;
	int to_syslog;
	int format;             /* enum log_format; 0 (text) by default */
	const struct log_kv *ctx;       /* log_ctx_set, borrowed */
	size_t nctx;
} log_state = { .level = LOG_INFO, .to_stderr = 1 };

static const char *const level_names[] = { "err", "warn", "info", "debug" };
static const char *const level_tags[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static const int level_syslog[] = { HAL_SYSLOG_ERR, HAL_SYSLOG_WARNING,
				    HAL_SYSLOG_INFO, HAL_SYSLOG_DEBUG };

/* see log.h */
int log_configure(int level, int to_stderr, int to_syslog)
{
	int ret = 0;

	if (level < LOG_ERR || level > LOG_DEBUG)
		return -EINVAL;
	log_state.level = level;
	log_state.to_stderr = to_stderr;
	if (to_syslog && !log_state.to_syslog) {
		ret = hal_syslog_open("vigild");
		if (ret < 0)
			to_syslog = 0;
	} else if (!to_syslog && log_state.to_syslog) {
		hal_syslog_close();
	}
	log_state.to_syslog = to_syslog;
	return ret < 0 ? -ENOENT : 0;
}

/* see log.h */
const char *log_level_name(int level)
{
	if (level < LOG_ERR || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

static void text_cut(char *text, size_t cap, int wanted)
{
	/* vsnprintf says how long the text wanted to be: mark a cut. */
	if (wanted >= (int)cap && cap > 4)
		memcpy(text + cap - 4, "...", 4);
}

/* see log.h */
int log_set_format(int format)
{
	if (format != LOG_FORMAT_TEXT && format != LOG_FORMAT_JSON)
		return -EINVAL;
	log_state.format = format;
	return 0;
}

/* see log.h */
int log_format_word(const char *word)
{
	if (strcmp(word, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (strcmp(word, "json") == 0)
		return LOG_FORMAT_JSON;
	return -EINVAL;
}

/* see log.h */
void log_ctx_set(const struct log_kv *kv, size_t n)
{
	log_state.ctx = n ? kv : NULL;
	log_state.nctx = kv ? n : 0;
}

static int kv_has(const struct log_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return 1;
	return 0;
}

/* The call's pairs, then the context's that are set and not given:
 * O(n * LOG_KV_MAX), n <= LOG_KV_MAX. */
static size_t kv_merge(const struct log_kv *kv, size_t n,
		       struct log_kv out[LOG_KV_MAX])
{
	size_t m = n < LOG_KV_MAX ? n : LOG_KV_MAX;

	if (m > 0)
		memcpy(out, kv, m * sizeof *kv);
	for (size_t i = 0; i < log_state.nctx && m < LOG_KV_MAX; i++) {
		const struct log_kv *c = &log_state.ctx[i];

		if (c->type == LOG_KV_STR && (c->v.s == NULL || !c->v.s[0]))
			continue;
		if (!kv_has(kv, n, c->key))
			out[m++] = *c;
	}
	return m;
}

/* JSON to stderr and syslog (syslog stamps its own time, but the object
 * is kept whole so a collector parses one shape). */
static void emit_json(const struct log_record *r, const struct log_kv *kv,
		      size_t nkv)
{
	char line[LOG_JSON_MAX];
	struct log_kv all[LOG_KV_MAX];
	int n = log_format_json(r, all, kv_merge(kv, nkv, all), line,
				sizeof line);

	if (n <= 0)
		return;
	if (log_state.to_stderr && write(2, line, (size_t)n) < 0)
		n = 0; /* nothing sensible to do when stderr itself fails */
	if (log_state.to_syslog && n > 0)
		(void)hal_syslog_send(level_syslog[r->level], line,
				      (size_t)n - 1); /* drops counted */
}

static void emit(const struct log_record *r, const struct log_kv *kv,
		 size_t nkv)
{
	char line[LOG_LINE_MAX];
	int n;

	if (log_state.format == LOG_FORMAT_JSON) {
		emit_json(r, kv, nkv);
		return;
	}
	if (log_state.to_stderr) {
		n = log_format(r, line, sizeof line);
		/* Nothing sensible to do when stderr itself fails. */
		if (n > 0 && write(2, line, (size_t)n) < 0)
			n = 0;
	}
	if (log_state.to_syslog) {
		n = snprintf(line, sizeof line, "%s: %s", r->module, r->text);
		if (n > 0)
			(void)hal_syslog_send(level_syslog[r->level], line,
					      strlen(line)); /* drops counted */
	}
}

static void log_record_v(enum log_level level, const char *module,
			 const struct log_kv *kv, size_t nkv, const char *fmt,
			 va_list ap)
{
	struct log_record *r;
	int n;

	log_state.last_seq++;
	if (log_state.last_seq == 0)
		log_state.last_seq = 1; /* 0 means "nothing yet" */
	r = &log_ring[log_state.last_seq % LOG_RING_RECORDS];
	r->seq = log_state.last_seq;
	r->level = (uint8_t)level;
	r->mono_ms = hal_clock_mono_ms();
	r->wall_ms = hal_clock_wall_ms();
	snprintf(r->module, sizeof r->module, "%s", module ? module : "-");
	n = vsnprintf(r->text, sizeof r->text, fmt, ap);
	if (n < 0)
		snprintf(r->text, sizeof r->text, "(bad log format)");
	text_cut(r->text, sizeof r->text, n);
	emit(r, kv, nkv);
}

/* see log.h */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_state.level || level < LOG_ERR)
		return;
	va_start(ap, fmt);
	log_record_v(level, module, NULL, 0, fmt, ap);
	va_end(ap);
}

/* see log.h */
void log_kv(enum log_level level, const char *module, const struct log_kv *kv,
	    size_t n, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_state.level || level < LOG_ERR)
		return;
	va_start(ap, fmt);
	log_record_v(level, module, kv, n, fmt, ap);
	va_end(ap);
}

/* see log.h */
uint32_t log_last_seq(void)
{
	return log_state.last_seq;
}

/* see log.h */
int log_read(uint32_t seq, struct log_record *out)
{
	const struct log_record *r;

	if (seq == 0 || seq > log_state.last_seq)
		return -ENOENT;
	r = &log_ring[seq % LOG_RING_RECORDS];
	if (r->seq != seq)
		return -ENOENT;
	*out = *r;
	return 0;
}

/* see log.h */
int log_format(const struct log_record *r, char *buf, size_t cap)
{
	char ts[LOG_TS_SIZE];
	int n;

	log_ts(r->wall_ms, ts);
	n = snprintf(buf, cap, "%s %s %s: %s\n", ts,
		     level_tags[r->level & 3], r->module, r->text);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

/* see log.h */
void log_reset(void)
{
	if (log_state.to_syslog)
		hal_syslog_close();
	memset(log_ring, 0, sizeof log_ring);
	memset(&log_state, 0, sizeof log_state);
	log_state.level = LOG_INFO;
	log_state.to_stderr = 1;
}

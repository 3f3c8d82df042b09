/*
 * log.h — the agent's log: levels, a bounded RAM ring that the console and
 * status readers page through later, and copies to stderr and/or syslog.
 *
 * Records are fixed-size slots in a static ring of LOG_RING_RECORDS; the
 * oldest is overwritten, and each record carries a sequence number so a
 * reader can tell what it missed.  Text longer than LOG_TEXT_MAX - 1 is cut
 * and ends in "..." so the cut is visible.  Nothing allocates; stderr gets
 * one write(2) per record; syslog sends never block (hal/syslog.h).
 * Not for signal handlers.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* 128 records x ~190 bytes = ~24 KiB: the last minutes of a busy agent,
 * hours of a quiet one; a console line is 80-160 characters. */
#define LOG_RING_RECORDS 128
#define LOG_TEXT_MAX     160
#define LOG_MODULE_MAX   12
/* "2026-11-23T09:34:07.123Z " + "DEBUG " + module + ": " + text + "\n" */
#define LOG_LINE_MAX     (26 + 6 + LOG_MODULE_MAX + 2 + LOG_TEXT_MAX + 1)

struct log_record {
	uint32_t seq;          /* 1 for the first record ever */
	uint8_t level;
	uint64_t mono_ms;
	int64_t wall_ms;
	char module[LOG_MODULE_MAX];
	char text[LOG_TEXT_MAX];
};

/*
 * Sets the level (records above it are dropped everywhere) and the
 * outputs.  Turning syslog on connects to the logger; if that fails the
 * log goes on without it.
 * @retval 0 applied
 * @retval -ENOENT syslog requested but no logger is running (applied
 *         without syslog)
 * @retval -EINVAL level out of range (nothing changed)
 */
int log_configure(int level, int to_stderr, int to_syslog);

/* Records one message.  module: a short subsystem name ("main", "cfg"). */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...)   log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/*
 * Structured fields: a log call may carry up to LOG_KV_MAX key/value pairs
 * beside its text, as an array the caller builds on its stack (no
 * allocation; keys and string values are borrowed for the call only):
 *
 *   log_info_kv("backup", LOG_KVS(LKV_S("file", name), LKV_U("bytes", n)),
 *               "stored %s", name);
 *
 * The text line (log.format = text) and the ring are exactly what log_msg
 * gives for the same text; the JSON line (log.format = json) puts each pair
 * beside "msg" as a key of its own.  A string value of NULL omits the pair
 * (an unknown trace id, say).  Pairs past LOG_KV_MAX are dropped.
 */
enum log_kv_type { LOG_KV_STR, LOG_KV_INT, LOG_KV_UINT };

struct log_kv {
	const char *key;
	enum log_kv_type type;
	union {
		const char *s;
		int64_t i;
		uint64_t u;
	} v;
};

#define LOG_KV_MAX 8
#define LKV_S(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_STR, \
				      .v = { .s = (x) } })
#define LKV_I(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_INT, \
				      .v = { .i = (int64_t)(x) } })
#define LKV_U(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_UINT, \
				      .v = { .u = (uint64_t)(x) } })
/* The pair array and its length, as two arguments of log_kv. */
#define LOG_KVS(...) (const struct log_kv[]){ __VA_ARGS__ }, \
	(sizeof((const struct log_kv[]){ __VA_ARGS__ }) / sizeof(struct log_kv))

/* log_msg with n structured fields kv[0..n). */
void log_kv(enum log_level level, const char *module, const struct log_kv *kv,
	    size_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Context fields: kv[0..n) go on every record logged until the next
 * log_ctx_set (n 0 clears them), so a driver that handles one connection
 * or job at a time tags every line made meanwhile, also plain log_msg
 * ones.  kv is borrowed until then (its strings are read at each record,
 * so a value filled in later shows from then on); a string value of NULL
 * or "" omits the pair, a key the call gives itself is not repeated, and
 * the call's own pairs come first within LOG_KV_MAX.  JSON only: the text
 * line and the ring stay as they are.
 */
void log_ctx_set(const struct log_kv *kv, size_t n);

#define log_err_kv(mod, ...)   log_kv(LOG_ERR, mod, __VA_ARGS__)
#define log_warn_kv(mod, ...)  log_kv(LOG_WARN, mod, __VA_ARGS__)
#define log_info_kv(mod, ...)  log_kv(LOG_INFO, mod, __VA_ARGS__)
#define log_debug_kv(mod, ...) log_kv(LOG_DEBUG, mod, __VA_ARGS__)

/* How records are written to stderr and syslog (log.format).  Text is
 * the default; the ring and the console always keep text. */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

/* Sets the output format.  @retval 0  @retval -EINVAL unknown format */
int log_set_format(int format);

/* "text" -> LOG_FORMAT_TEXT, "json" -> LOG_FORMAT_JSON; -EINVAL else. */
int log_format_word(const char *word);

/*
 * One JSON object on one line: {"ts":"<RFC 3339, ms, UTC>","level":..,
 * "subsystem":<module>,"msg":<text>, then kv[0..n) as keys}\n.  Every
 * string is escaped (quote, backslash, control bytes as \u00XX) and each
 * byte that is not part of valid UTF-8 becomes U+FFFD, so the line is
 * valid JSON whatever the bytes.  A line that would pass cap is cut at a
 * value boundary or inside a string and ends with "cut":true instead.
 * @retval >=0 length written (without NUL)
 * @retval -ENOSPC cap < LOG_JSON_MIN (nothing useful fits)
 */
#define LOG_JSON_MAX 1024
#define LOG_JSON_MIN 128
int log_format_json(const struct log_record *r, const struct log_kv *kv,
		    size_t n, char *buf, size_t cap);

/* "2026-11-23T09:34:07.123Z" of wall_ms (epoch when negative) into
 * buf[LOG_TS_SIZE]. */
#define LOG_TS_SIZE 25
void log_ts(int64_t wall_ms, char buf[LOG_TS_SIZE]);

/* "err", "warn", "info", "debug" (the config words); "?" out of range. */
const char *log_level_name(int level);

/* Sequence number of the newest record (0: nothing logged yet). */
uint32_t log_last_seq(void);

/*
 * Copies the record with sequence number seq.
 * @retval 0 copied
 * @retval -ENOENT never written, or already overwritten
 */
int log_read(uint32_t seq, struct log_record *out);

/*
 * Formats a record as one line ("<ISO time> <LEVEL> <module>: <text>\n").
 * @retval >=0 length written (without NUL)
 * @retval -ENOSPC cap too small (LOG_LINE_MAX always fits)
 */
int log_format(const struct log_record *r, char *buf, size_t cap);

/* Forgets every record and restores the defaults (tests, re-init). */
void log_reset(void);

#endif

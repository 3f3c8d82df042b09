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

/*
 * config.h — vigild's configuration: the typed schema of every key, the
 * parser of /etc/vigil.conf, its writer, and the text forms the console
 * and the reload log show.  The operator's reference (syntax, every key,
 * every message) is docs/config.md.
 *
 * File format, one `key = value` per line:
 *   # a comment line                  blank lines are ignored too
 *   log.level = debug   # a '#' after a blank starts a trailing comment
 *   data.dir = /srv/#1                 ... elsewhere it is part of the value
 *   device.name = ""                   quotes: "" is the empty string;
 *                                      inside, \" and \\ are the escapes
 *                                      and '#' is literal
 * CRLF line endings and a leading UTF-8 byte order mark are accepted.
 * Control bytes other than tab (NUL, a lone CR, DEL...) are errors, as
 * are a line over CONFIG_LINE_MAX bytes (never cut), a missing '=', an
 * unknown or repeated key and nothing after '='.
 *
 * Defaults: every key has one, from the board (board/<name>/board.h), so
 * the agent runs with no file.  config_parse() starts from the defaults
 * and applies the text on top.
 *
 * Parsing never touches the live configuration: callers parse into a
 * scratch struct and copy it over only when config_parse()/config_load()
 * returned 0 (that is how an invalid reload keeps the old config), then
 * config_diff() says which keys changed.  Nothing here allocates;
 * config_load and config_save use one static buffer each, so they are
 * not reentrant (the agent has one thread).
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Longest line, not counting its "\n" or "\r\n".  A path value written
 * by config_format (quoted, every byte escaped: 2 x 127 + 2) after the
 * longest key and " = " takes 31 + 3 + 256 = 290; 512 leaves room for
 * a trailing comment.  The parser's unquoting buffer is this size on the
 * stack. */
#define CONFIG_LINE_MAX 512
/* Largest file: 16 KiB holds every key of today and of the planned
 * modules with a comment each, and is the static read buffer of
 * config_load (no allocation). */
#define CONFIG_FILE_MAX (16 * 1024)
/* Errors kept per parse; more are only counted (config_errors.dropped).
 * A broken file rarely has more, and 16 fit on a console screen. */
#define CONFIG_ERRORS_MAX 16
/* Capacity of the schema (the parser keeps one line number per key);
 * a compile-time check in config_keys.c holds the table to it. */
#define CONFIG_KEYS_MAX 48
/* Longest key name + NUL ("system.thermal_zone" is 19). */
#define CONFIG_KEY_MAX 32
/* One error message + NUL: key, the offending value (at most 32 bytes
 * shown, then "...") and what was expected (the longest, console.baud's
 * 13 rates, is ~110).  A longer message would end in "...". */
#define CONFIG_ERR_MSG_MAX 192
/* device.name: up to 63 characters + NUL (a DNS label's limit). */
#define CONFIG_NAME_MAX 64
/* Path keys: 127 bytes + NUL, so "<data.dir>/<file>.tmp" and
 * "<led>/brightness" stay well inside HAL_PATH_MAX (256). */
#define CONFIG_PATH_MAX 128
/* Any key's value as text (config_get), + NUL: paths are the longest. */
#define CONFIG_VALUE_MAX CONFIG_PATH_MAX
/* What config_format writes at most, NUL included: a 128-byte header,
 * then one line per key (key, " = ", a value quoted with every byte
 * escaped, "\n").  Held to CONFIG_FILE_MAX at compile time, so a saved
 * file always loads back. */
#define CONFIG_FORMAT_HEAD_MAX 128
#define CONFIG_FORMAT_LINE_MAX \
	(CONFIG_KEY_MAX - 1 + 3 + 2 * (CONFIG_VALUE_MAX - 1) + 2 + 1)
#define CONFIG_FORMAT_MAX \
	(CONFIG_FORMAT_HEAD_MAX + CONFIG_KEYS_MAX * CONFIG_FORMAT_LINE_MAX + 1)

/*
 * The configuration.  A plain struct: copy it by assignment.  Read
 * fields directly; change them through config_set() (or parse) so every
 * value stays validated.  Path keys that allow `none` hold "" for it.
 * Bytes after a string's NUL and padding are zero (config_defaults
 * clears the struct, setters clear the whole field), so two equal
 * configurations compare equal with memcmp.
 */
/* tls.min_version: the oldest TLS version the backup client accepts. */
enum config_tls_version { CONFIG_TLS_1_3 = 0, CONFIG_TLS_1_2 = 1 };

struct config {
	int64_t watchdog_timeout_ms;   /* watchdog.timeout, 1 s..1 h, whole s */
	int64_t console_baud;          /* console.baud, a standard rate */
	int64_t console_idle_ms;       /* console.idle_logout, 0 = never */
	/* health.* and watchdog.safe_after (docs/health.md) */
	int64_t health_interval_ms;    /* health.interval */
	int64_t health_timeout_ms;     /* health.timeout (<= interval) */
	int64_t health_start_period_ms; /* health.start_period */
	int64_t health_grace_ms;       /* health.grace */
	int64_t health_retries;        /* health.retries, 1..100 */
	int64_t health_debounce;       /* health.debounce, 1..100 */
	int64_t health_min_free;       /* health.min_free, bytes */
	int64_t health_min_memory;     /* health.min_memory, bytes */
	int64_t health_max_load;       /* health.max_load_milli, 0 = off */
	int64_t health_max_temp;       /* health.max_temp_c, degrees C */
	int64_t watchdog_safe_after;   /* watchdog.safe_after, 0 = never */
	char health_interface[16];     /* health.interface (IFNAMSIZ); "" =
					* no network check */
	char health_command[CONFIG_PATH_MAX]; /* health.command; "" = none */
	int64_t health_command_timeout_ms;    /* health.command_timeout */
	int log_level;                 /* log.level: enum log_level (0 err,
					* 1 warn, 2 info, 3 debug) */
	int log_stderr;                /* log.stderr: 0/1 */
	int log_syslog;                /* log.syslog: 0/1 */
	int log_format;                /* log.format: enum log_format (0 text,
					* 1 json) */
	char device_name[CONFIG_NAME_MAX];     /* "" = use the hostname */
	char data_dir[CONFIG_PATH_MAX];        /* never "" */
	char watchdog_device[CONFIG_PATH_MAX]; /* "" = none */
	char console_device[CONFIG_PATH_MAX];  /* "" = none */
	char led_status[CONFIG_PATH_MAX];      /* "" = none */
	char thermal_zone[CONFIG_PATH_MAX];    /* "" = none */
	/* console.password_hash: "sha256$<salt>$<digest>" (console.h),
	 * "" = no login */
	char console_password_hash[CONFIG_PATH_MAX];
	/* coap.* (docs/coap.md) */
	char coap_listen[CONFIG_PATH_MAX];     /* "a:p,[v6]:p"; "none" */
	int coap_open_control;                 /* coap.open_control: 0/1 */
	int coap_amplification;                /* coap.amplification: enum
						* coap_amp (echo, limit, off) */
	char coap_dtls_listen[CONFIG_PATH_MAX]; /* DTLS addresses; "none" */
	char coap_psk[CONFIG_PATH_MAX];        /* "id:hexkey,..." (secret) */
	/* backup.* (docs/backup.md, "In the agent") */
	char backup_server[CONFIG_PATH_MAX];   /* tcp://h:p, tls://; "" off */
	char backup_paths[CONFIG_PATH_MAX];    /* comma-separated paths */
	int64_t backup_interval_ms;            /* 0 = on demand only */
	char backup_name[CONFIG_NAME_MAX];     /* "" = device.name/vigil */
	int64_t backup_retry_cap_ms;           /* backoff cap */
	int64_t backup_timeout_ms;             /* I/O silence limit */
	int64_t backup_max_rate;               /* bytes/s; 0 = no limit */
	char backup_window[16];                /* "HH:MM-HH:MM"; "" always
						* (lib/daywin.h) */
	char time_zone[64];                    /* POSIX TZ rule (lib/tz.h) */
	/* tls.* (docs/backup.md, tls://) */
	char tls_ca[CONFIG_PATH_MAX];          /* CA file; "" = none */
	char tls_cert[CONFIG_PATH_MAX];        /* client cert; "" = none */
	char tls_key[CONFIG_PATH_MAX];         /* its key; "" = none */
	char tls_psk[CONFIG_PATH_MAX];         /* "id:hexkey" (secret) */
	int tls_min_version;                   /* enum config_tls_version */
};

/* One problem found in a file.  line is 1-based; 0 when the error is
 * about the whole file (too big, unreadable).  key is the key the line
 * names, printable ASCII ("" when the line has none); msg starts with
 * the key when there is one: "watchdog.timeout: `0` is out of range
 * 1s..1h".  Callers print "FILE:LINE: msg" (or "FILE: msg" for line 0). */
struct config_error {
	unsigned line;
	char key[CONFIG_KEY_MAX];
	char msg[CONFIG_ERR_MSG_MAX];
};

/* Errors in line order, at most one per line.  count <= CONFIG_ERRORS_MAX
 * are stored in e[]; dropped more were found but not stored. */
struct config_errors {
	unsigned count;
	unsigned dropped;
	struct config_error e[CONFIG_ERRORS_MAX];
};

/* Fills c with the embedded defaults (board.h).  Cannot fail. */
void config_defaults(struct config *c);

/*
 * Parses a configuration file held in memory: defaults first, then every
 * line of text[0..len) (text need not be NUL-terminated; no byte past len
 * is read).  Every error is collected in errs (cleared first), and
 * parsing goes on after one, so a single run lists them all.
 * c and errs are written; text is borrowed.  errs may be NULL.
 * @retval 0 valid: c holds the configuration, errs->count is 0
 * @retval -EBADMSG at least one error (listed in errs); c holds a
 *         partial result and must not be used
 * @retval -EMSGSIZE len > CONFIG_FILE_MAX (one line-0 error; not parsed)
 * @retval -EINVAL c NULL, or text NULL with len > 0 (nothing listed)
 */
int config_parse(struct config *c, const char *text, size_t len,
		 struct config_errors *errs);

/*
 * Reads path through hal_storage_read into a static CONFIG_FILE_MAX
 * buffer and parses it (config_parse).  A read failure is also listed in
 * errs as a line-0 error ("cannot read: No such file or directory").
 * errs may be NULL.  On any error c must not be used.
 * @retval 0 valid (c filled)
 * @retval -EBADMSG errors in the file (listed in errs)
 * @retval -EMSGSIZE the file is larger than CONFIG_FILE_MAX
 * @retval -ENOENT no such file
 * @retval -EISDIR/-EACCES/-ENAMETOOLONG/-EIO read failed (hal/storage.h)
 * @retval -EINVAL c or path NULL (nothing listed)
 */
int config_load(struct config *c, const char *path,
		struct config_errors *errs);

/*
 * Sets one key from its value text, with the same validation as the
 * file.  value is literal: no quotes, escapes or comments are processed
 * (the console splits its own arguments), and "" is an empty value.
 * On error c is unchanged and err (if not NULL and errcap > 0) holds the
 * message, cut to errcap; CONFIG_ERR_MSG_MAX always fits.  On success
 * err holds "".
 * @retval 0 set
 * @retval -ENOENT no such key (err names the closest key, if any)
 * @retval -EBADMSG invalid value (err says what is expected)
 * @retval -EINVAL c, key or value NULL
 */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errcap);

/*
 * Writes the value of key as text in canonical form: "true"/"false",
 * enum words, integers, durations with their unit ("30s", "500ms",
 * "2m"), strings and paths as they are (no quotes), "none" for an unset
 * path.  config_set() of that text gives back the same value.
 * Always NUL-terminated when cap > 0.
 * @retval >=0 length written (without NUL); CONFIG_VALUE_MAX always fits
 * @retval -ENOENT no such key (buf holds "")
 * @retval -ENOSPC cap too small (buf holds "")
 * @retval -EINVAL c or key NULL, or buf NULL with cap > 0
 */
int config_get(const struct config *c, const char *key, char *buf,
	       size_t cap);

/*
 * Writes c as a configuration file: a comment header, then one
 * `key = value` line, in table order, for every key whose value differs
 * from the board default (so a later firmware's new defaults apply to
 * the keys never changed).  Values are quoted where the file syntax
 * needs it.  config_parse() of the result gives back an equal struct.
 * The text is NUL-terminated; CONFIG_FORMAT_MAX (<= CONFIG_FILE_MAX)
 * always fits.  Nothing is committed on failure.
 * @retval >=0 length written (without NUL)
 * @retval -ENOSPC cap too small (buf holds "" if cap > 0)
 * @retval -EINVAL c NULL, or buf NULL with cap > 0
 */
int config_format(const struct config *c, char *buf, size_t cap);

/*
 * config_format() into a static buffer, then hal_storage_write_atomic
 * (mode 0644): after a power cut the file is the old one or the new one.
 * @retval 0 saved
 * @retval -EINVAL c or path NULL
 * @retval -ENAMETOOLONG/-ENOSPC/-EISDIR/-EACCES/-EROFS/-ENOENT/-EIO
 *         from hal_storage_write_atomic (old file intact)
 */
int config_save(const struct config *c, const char *path);

/* Called once per changed key with its name and old/new values in
 * config_get's form; every pointer is borrowed for the call only. */
typedef void config_diff_cb(const char *key, const char *old_val,
			    const char *new_val, void *arg);

/*
 * Compares two configurations key by key, in table order, calling cb (if
 * not NULL) for each key whose value differs.  Typical use: after a
 * valid reload, config_diff(&running, &fresh, log_it, NULL), then copy.
 * Secret keys (console.password_hash) are reported with "<hidden>" as
 * both values, since the callback's text usually ends up in the log.
 * @retval >=0 number of keys that differ
 * @retval -EINVAL a or b NULL
 */
int config_diff(const struct config *a, const struct config *b,
		config_diff_cb *cb, void *arg);

/* Number of keys in the schema (<= CONFIG_KEYS_MAX). */
unsigned config_key_count(void);

/* Name of the i-th key (table order), NULL when i >= config_key_count().
 * Static storage: never freed. */
const char *config_key_name(unsigned i);

#endif

/*
 * config.c — see config.h.
 *
 * The schema is one static const table, keys[]: name, type, field offset,
 * bounds, default (as text, applied through the same setter as the file,
 * so a default is validated like any value) and a one-line help.  Adding
 * a key is one K_*() line here plus its field in struct config.
 *
 * Parsing is one pass over the caller's bytes.  Each line is cut at '\n'
 * (memchr bounded by len; a '\r' just before the cut is dropped), checked
 * raw (length, control bytes), split into key and value, unquoted into a
 * CONFIG_LINE_MAX + 1 stack buffer, and applied to the scratch struct by
 * the key's typed setter, which validates before it writes anything.
 * Errors are collected, one per line at most, and parsing goes on.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal/storage.h"
#include "log.h"

enum cfg_type { T_BOOL, T_INT, T_DURATION, T_ENUM, T_STRING, T_PATH };

/* SQLite's guard for "cannot happen" (STYLE.md rule 15): asserts in
 * debug builds, stays a plain test in release ones. */
#define ALWAYS(x) (assert(x), (x))

#define F_NONE 0x1 /* path: the word "none" is allowed, stored as "" */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned flags;
	size_t off;               /* of the field in struct config */
	size_t size;              /* of the field (checked by the setters) */
	int64_t min, max;         /* int: value; duration: ms; string: length */
	int64_t unit_ms;          /* duration: what a bare number counts */
	const char *const *words; /* enum: NULL-terminated, index is stored */
	const int64_t *set;       /* int: allowed values, 0-terminated, or NULL */
	const char *chars;        /* string: allowed besides A-Z a-z 0-9 */
	const char *def;          /* default, as text */
	const char *help;
};

#define FLD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define K_BOOL(n, f, d, h) { n, T_BOOL, 0, FLD(f), 0, 1, 0, NULL, NULL, NULL, d, h }
#define K_ENUM(n, f, w, d, h) { n, T_ENUM, 0, FLD(f), 0, 0, 0, w, NULL, NULL, d, h }
#define K_INTSET(n, f, s, d, h) { n, T_INT, 0, FLD(f), INT64_MIN, INT64_MAX, 0, NULL, s, NULL, d, h }
#define K_DUR(n, f, lo, hi, u, d, h) { n, T_DURATION, 0, FLD(f), lo, hi, u, NULL, NULL, NULL, d, h }
#define K_STR(n, f, lo, hi, ch, d, h) { n, T_STRING, 0, FLD(f), lo, hi, 0, NULL, NULL, ch, d, h }
#define K_PATH(n, f, fl, d, h) { n, T_PATH, fl, FLD(f), 1, CONFIG_PATH_MAX - 1, 0, NULL, NULL, NULL, d, h }

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const level_words[] = { "err", "warn", "info", "debug",
					   NULL };
/* The rates hal_serial_open accepts (hal/serial.h). */
static const int64_t baud_rates[] = { 9600, 19200, 38400, 57600, 115200,
	230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000, 4000000,
	0 };

static const struct cfg_key keys[] = {
	K_ENUM("log.level", log_level, level_words, "info", "Least severe messages logged: err, warn, info or debug."),
	K_BOOL("log.stderr", log_stderr, "true", "Write log records to standard error."),
	K_BOOL("log.syslog", log_syslog, STR(BOARD_LOG_SYSLOG), "Send log records to the system logger (/dev/log)."),
	K_STR("device.name", device_name, 0, CONFIG_NAME_MAX - 1, "._-", "", "Name this appliance reports; empty: use the hostname."),
	K_PATH("data.dir", data_dir, 0, BOARD_DATA_DIR, "Directory for the agent's state; created at start if missing."),
	K_PATH("watchdog.device", watchdog_device, F_NONE, BOARD_WDT_DEVICE, "Hardware watchdog device, or none to run without one."),
	K_DUR("watchdog.timeout", watchdog_timeout_ms, 1000, 3600 * 1000, 1000, STR(BOARD_WDT_TIMEOUT_S), "Reset the board when not kicked for this long (bare number: seconds)."),
	K_PATH("console.device", console_device, F_NONE, BOARD_CONSOLE_DEVICE, "Serial console tty, or none."),
	K_INTSET("console.baud", console_baud, baud_rates, STR(BOARD_CONSOLE_BAUD), "Serial console speed in bit/s."),
	K_PATH("led.status", led_status, F_NONE, BOARD_LED_STATUS, "Status LED directory (/sys/class/leds/NAME), or none."),
	K_PATH("system.thermal_zone", thermal_zone, F_NONE, BOARD_THERMAL_ZONE, "Thermal zone directory read by health checks, or none."),
};

#define KEY_COUNT (sizeof keys / sizeof keys[0])

/* Board defaults that can be checked at compile time. */
_Static_assert(BOARD_WDT_TIMEOUT_S >= 1 && BOARD_WDT_TIMEOUT_S <= 3600,
	       "BOARD_WDT_TIMEOUT_S outside watchdog.timeout's 1..3600 s");
_Static_assert(BOARD_LOG_SYSLOG == 0 || BOARD_LOG_SYSLOG == 1,
	       "BOARD_LOG_SYSLOG must be 0 or 1");
_Static_assert(LOG_ERR == 0 && LOG_WARN == 1 && LOG_INFO == 2 &&
	       LOG_DEBUG == 3, "level_words[] must follow enum log_level");
/* config_format writes a path as at worst 2 x 127 + 2 bytes after its key
 * and " = ": that line must fit CONFIG_LINE_MAX to parse back. */
_Static_assert(CONFIG_KEY_MAX + 3 + 2 * CONFIG_PATH_MAX + 2 <= CONFIG_LINE_MAX,
	       "a formatted path line could exceed CONFIG_LINE_MAX");

/* Parser state for one config_parse() call. */
struct pctx {
	struct config_errors *errs; /* may be NULL */
	unsigned line;
	unsigned nerr;              /* errors found, stored or not */
	unsigned seen[KEY_COUNT];   /* line that set each key, 0 = not yet */
};

#define SHOW_MAX 40 /* a value quoted in a message: 32 bytes + "..." */

static void errs_clear(struct config_errors *errs)
{
	if (errs) {
		errs->count = 0;
		errs->dropped = 0;
	}
}

static void errs_vadd(struct config_errors *errs, unsigned line,
		      const char *key, size_t keylen, const char *fmt,
		      va_list ap)
{
	struct config_error *e;

	if (!errs)
		return;
	if (errs->count >= CONFIG_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->count++];
	e->line = line;
	snprintf(e->key, sizeof e->key, "%.*s", (int)(keylen < CONFIG_KEY_MAX ?
		 keylen : CONFIG_KEY_MAX - 1), key);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

static void errs_add(struct config_errors *errs, unsigned line,
		     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void errs_add(struct config_errors *errs, unsigned line,
		     const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(errs, line, key, strlen(key), fmt, ap);
	va_end(ap);
}

/* An error on the current line; key is (keylen bytes, not NUL-ended). */
static void perr(struct pctx *x, const char *key, size_t keylen,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void perr(struct pctx *x, const char *key, size_t keylen,
		 const char *fmt, ...)
{
	va_list ap;

	x->nerr++;
	va_start(ap, fmt);
	errs_vadd(x->errs, x->line, key, keylen, fmt, ap);
	va_end(ap);
}

/* Up to 32 bytes of s for a message: control bytes as '?', cut marked. */
static const char *show(const char *s, size_t n, char out[SHOW_MAX])
{
	size_t i;

	for (i = 0; i < n && i < 32; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (i < n)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	return out;
}

/* ---- typed values ---- */

/* [-]digits at *pp, advanced past them.  Saturates on overflow.
 * @retval 0 ok  @retval -ERANGE overflow  @retval -EINVAL no digits */
static int parse_i64(const char **pp, int64_t *out)
{
	const char *p = *pp;
	int neg = *p == '-';
	uint64_t v = 0, lim;
	int ret = 0;

	p += neg;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (lim - d) / 10) {
			v = lim;
			ret = -ERANGE;
		} else {
			v = v * 10 + d;
		}
	}
	if (neg)
		*out = v == lim ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	*pp = p;
	return ret;
}


static const struct { const char *name; int64_t ms; } units[] = {
	{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 } };
#define UNIT_COUNT (sizeof units / sizeof units[0])

/* "2h", "90s", "500ms", "0s": the largest unit that divides ms exactly. */
static int fmt_duration(int64_t ms, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < UNIT_COUNT - 1; i++)
		if (ms % units[i].ms == 0 && (ms != 0 || units[i].ms == 1000))
			break;
	return snprintf(buf, cap, "%" PRId64 "%s", ms / units[i].ms,
			units[i].name);
}

/* A whole number, optional blanks, optional unit; *ms the result.
 * @retval 0  @retval -EINVAL syntax  @retval -ERANGE too big for int64 */
static int parse_duration(const struct cfg_key *k, const char *v,
			  int64_t *ms)
{
	const char *p = v;
	int64_t n, mult = k->unit_ms;
	int ret = -EINVAL;

	if (*p == '-')
		return -EINVAL;
	ret = parse_i64(&p, &n);
	if (ret == -EINVAL)
		return ret;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		size_t i;

		for (i = 0; i < UNIT_COUNT && strcmp(p, units[i].name); i++)
			;
		if (i == UNIT_COUNT)
			return -EINVAL;
		mult = units[i].ms;
	}
	if (ret == -ERANGE || n > INT64_MAX / mult)
		return -ERANGE;
	*ms = n * mult;
	return 0;
}

static int parse_bool(const char *v)
{
	static const char *const words[] = { "false", "true", "no", "yes",
					     "off", "on", "0", "1" };

	for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(v, words[i]))
			return (int)(i & 1);
	return -EINVAL;
}

static int word_index(const char *const *words, const char *v)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i]))
			return i;
	return -EINVAL;
}

/* words[i], or "?" when i is not an index of the NULL-ended list. */
static const char *word_at(const char *const *words, int i)
{
	for (int j = 0; i >= 0 && words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

/* What k accepts, for messages: "one of err, warn, info, debug". */
static void expect(const struct cfg_key *k, char *buf, size_t cap)
{
	size_t n;
	char u[8];

	switch (k->type) {
	case T_BOOL:
		snprintf(buf, cap, "a boolean (true/false, yes/no, on/off, 1/0)");
		return;
	case T_DURATION:
		fmt_duration(k->unit_ms, u, sizeof u);
		snprintf(buf, cap, "a duration (a whole number with ms, s, m or "
			 "h; a bare number counts %s)", u + 1);
		return;
	case T_PATH:
		snprintf(buf, cap, "an absolute path%s",
			 k->flags & F_NONE ? " or `none`" : "");
		return;
	case T_STRING:
		snprintf(buf, cap, "made of A-Z a-z 0-9 %s", k->chars);
		return;
	case T_INT:
	case T_ENUM:
		break;
	}
	if (!k->words && !k->set) {
		snprintf(buf, cap, "an integer");
		return;
	}
	n = (size_t)snprintf(buf, cap, "one of");
	for (unsigned i = 0; n < cap && (k->words ? k->words[i] != NULL :
					 k->set[i] != 0); i++) {
		if (k->words)
			n += (size_t)snprintf(buf + n, cap - n, "%s %s",
					      i ? "," : "", k->words[i]);
		else
			n += (size_t)snprintf(buf + n, cap - n, " %" PRId64,
					      k->set[i]);
	}
}

/* Bounds of an int or duration, in the key's own text form.
 * @retval 0 in range  @retval -EINVAL out (msg says which bound) */
static int check_range(const struct cfg_key *k, int64_t n, int overflow,
		       char *msg, size_t cap)
{
	char a[24], b[24];
	int below = !overflow && n < k->min;
	int64_t bound = below ? k->min : k->max;

	if (!overflow && n >= k->min && n <= k->max)
		return 0;
	if (k->type == T_DURATION) {
		fmt_duration(n, a, sizeof a);
		fmt_duration(bound, b, sizeof b);
	} else {
		snprintf(a, sizeof a, "%" PRId64, n);
		snprintf(b, sizeof b, "%" PRId64, bound);
	}
	if (overflow)
		snprintf(msg, cap, "%s: value too large (the maximum is %s)",
			 k->name, b);
	else
		snprintf(msg, cap, "%s: %s is %s the %s %s", k->name, a,
			 below ? "below" : "above", below ? "minimum" : "maximum",
			 b);
	return -EINVAL;
}

/* Parses and checks an int or duration into *n.
 * @retval 0 valid  @retval -EINVAL (msg set for a bound, else "" ) */
static int number_value(const struct cfg_key *k, const char *v, int64_t *n,
			char *msg, size_t cap)
{
	const char *p = v;
	int ret = -EIO;

	if (k->type == T_DURATION)
		ret = parse_duration(k, v, n);
	else if ((ret = parse_i64(&p, n)) != -EINVAL && *p != '\0')
		ret = -EINVAL;
	if (ret == -EINVAL)
		return -EINVAL;
	if (k->set) {
		for (unsigned i = 0; ret == 0 && k->set[i] != 0; i++)
			if (k->set[i] == *n)
				return 0;
		return -EINVAL;
	}
	return check_range(k, *n, ret == -ERANGE, msg, cap);
}

/* Names such as device.name.  @retval 0 / -EINVAL with msg */
static int check_string(const struct cfg_key *k, const char *v, char *msg,
			size_t cap)
{
	size_t n = strlen(v);

	if (n < (size_t)k->min || n > (size_t)k->max) {
		snprintf(msg, cap, "%s: %zu characters; must be %" PRId64
			 " to %" PRId64, k->name, n, k->min, k->max);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr(k->chars, ch))
			continue;
		if (ch > 0x20 && ch < 0x7f)
			snprintf(msg, cap, "%s: `%c` is not allowed (only A-Z "
				 "a-z 0-9 %s)", k->name, ch, k->chars);
		else
			snprintf(msg, cap, "%s: byte 0x%02x is not allowed "
				 "(only A-Z a-z 0-9 %s)", k->name, ch, k->chars);
		return -EINVAL;
	}
	return 0;
}

/* Absolute paths, or "none" where allowed.  @retval 0 / -EINVAL + msg */
static int check_path(const struct cfg_key *k, const char *v, char *msg,
		      size_t cap)
{
	char s[SHOW_MAX];
	size_t n = strlen(v);

	if ((k->flags & F_NONE) && !strcmp(v, "none"))
		return 0;
	if (v[0] != '/')
		return -EINVAL; /* apply() says what is expected */
	if (n > (size_t)k->max) {
		snprintf(msg, cap, "%s: path of %zu bytes; at most %" PRId64,
			 k->name, n, k->max);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(msg, cap, "%s: control character 0x%02x in `%s`",
				 k->name, (unsigned char)v[i], show(v, n, s));
			return -EINVAL;
		}
	}
	return 0;
}

/* Validates v for k and only then stores it in c.
 * @retval 0 stored  @retval -EINVAL msg says why; c untouched */
static int apply(struct config *c, const struct cfg_key *k, const char *v,
		 char *msg, size_t cap)
{
	char *field = (char *)c + k->off;
	char e[CONFIG_ERR_MSG_MAX - 48], s[SHOW_MAX];
	int64_t n = 0;
	int i = -EINVAL, ret = -EINVAL;

	msg[0] = '\0';
	switch (k->type) {
	case T_BOOL:
	case T_ENUM:
		i = k->type == T_BOOL ? parse_bool(v) : word_index(k->words, v);
		ret = i < 0 ? -EINVAL : 0;
		if (ret == 0 && ALWAYS(k->size == sizeof i))
			memcpy(field, &i, sizeof i);
		break;
	case T_INT:
	case T_DURATION:
		ret = number_value(k, v, &n, msg, cap);
		if (ret == 0 && ALWAYS(k->size == sizeof n))
			memcpy(field, &n, sizeof n);
		break;
	case T_STRING:
	case T_PATH:
		ret = k->type == T_PATH ? check_path(k, v, msg, cap) :
					  check_string(k, v, msg, cap);
		if (ret < 0 || !ALWAYS(strlen(v) < k->size))
			break;
		memset(field, 0, k->size);
		if (k->type != T_PATH || strcmp(v, "none"))
			memcpy(field, v, strlen(v));
		break;
	}
	if (ret < 0 && !msg[0]) {
		expect(k, e, sizeof e);
		if (v[0])
			snprintf(msg, cap, "%s: `%s` is not %s", k->name,
				 show(v, strlen(v), s), e);
		else
			snprintf(msg, cap, "%s: no value (expected %s)", k->name,
				 e);
	}
	return ret;
}

/* k's value in c, canonical.  @retval >=0 length  @retval -ENOSPC */
static int value_text(const struct config *c, const struct cfg_key *k,
		      char *buf, size_t cap)
{
	const char *field = (const char *)c + k->off;
	int64_t n = 0;
	int i = 0, w = -1;

	if (k->type == T_INT || k->type == T_DURATION)
		memcpy(&n, field, sizeof n);
	else if (k->type == T_BOOL || k->type == T_ENUM)
		memcpy(&i, field, sizeof i);
	if (k->type == T_BOOL)
		w = snprintf(buf, cap, "%s", i ? "true" : "false");
	else if (k->type == T_ENUM)
		w = snprintf(buf, cap, "%s", word_at(k->words, i));
	else if (k->type == T_INT)
		w = snprintf(buf, cap, "%" PRId64, n);
	else if (k->type == T_DURATION)
		w = fmt_duration(n, buf, cap);
	else if (!field[0] && (k->flags & F_NONE))
		w = snprintf(buf, cap, "none");
	else /* bounded: a field written around config_set may lack a NUL */
		w = snprintf(buf, cap, "%.*s", (int)k->size - 1, field);
	if (w < 0 || (size_t)w >= cap) {
		if (cap)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return w;
}

/* ---- keys ---- */

static const struct cfg_key *find_key(const char *name, size_t n)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strlen(keys[i].name) == n && !memcmp(keys[i].name, name, n))
			return &keys[i];
	return NULL;
}

/* Optimal-string-alignment distance (a swap of neighbours costs 1),
 * 3 meaning "3 or more".  O(an * bn), both <= CONFIG_KEY_MAX + 2. */
static unsigned distance(const char *a, size_t an, const char *b)
{
	unsigned d[3][CONFIG_KEY_MAX + 1];
	size_t bn = strlen(b);

	if (bn >= CONFIG_KEY_MAX || an > bn + 2 || bn > an + 2)
		return 3;
	for (size_t j = 0; j <= bn; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= an; i++) {
		unsigned *cur = d[i % 3], *up = d[(i - 1) % 3];
		unsigned *up2 = d[(i + 1) % 3]; /* row i - 2 */

		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= bn; j++) {
			unsigned v = up[j - 1] + (a[i - 1] != b[j - 1]);

			if (up[j] + 1 < v)
				v = up[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && up2[j - 2] + 1 < v)
				v = up2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[an % 3][bn] < 3 ? d[an % 3][bn] : 3;
}

/* "unknown key `x`", with the closest key within distance 2 if any. */
static void unknown_msg(const char *key, size_t n, char *msg, size_t cap)
{
	const struct cfg_key *best = NULL;
	unsigned bestd = 3;
	char s[SHOW_MAX];

	for (size_t i = 0; i < KEY_COUNT; i++) {
		unsigned dist = distance(key, n, keys[i].name);

		if (dist < bestd) {
			bestd = dist;
			best = &keys[i];
		}
	}
	if (best)
		snprintf(msg, cap, "unknown key `%s` (did you mean `%s`?)",
			 show(key, n, s), best->name);
	else
		snprintf(msg, cap, "unknown key `%s`", show(key, n, s));
}

/* ---- the file ---- */

/* Escapes in quoted values: esc_names[i] after '\' stands for esc_raw[i]. */
static const char esc_names[] = "\"\\tn";
static const char esc_raw[] = "\"\\\t\n";

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Unquotes p[0..n), the rest of the line after an opening '"', into val.
 * @retval 0  @retval -EINVAL (error recorded) */
static int unquote(struct pctx *x, const struct cfg_key *k, const char *p,
		   size_t n, char *val)
{
	size_t i = 0, o = 0;
	const char *e;

	/* invariant: o <= i <= n <= CONFIG_LINE_MAX, so val never overflows */
	while (i < n && p[i] != '"') {
		char ch = p[i++];

		if (ch == '\\' && i < n) {
			e = p[i] ? strchr(esc_names, p[i]) : NULL;
			if (!e) {
				perr(x, k->name, strlen(k->name), "%s: unknown "
				     "escape `\\%c` (use \\\" \\\\ \\t or \\n)",
				     k->name, (unsigned char)p[i] < 0x7f ?
				     p[i] : '?');
				return -EINVAL;
			}
			ch = esc_raw[e - esc_names];
			i++;
		}
		val[o++] = ch;
	}
	if (i >= n) {
		perr(x, k->name, strlen(k->name), "%s: unterminated quote",
		     k->name);
		return -EINVAL;
	}
	val[o] = '\0';
	for (o = ++i; i < n && is_blank(p[i]); i++)
		;
	if (i < n && !(p[i] == '#' && i > o)) {
		perr(x, k->name, strlen(k->name), "%s: unexpected text after "
		     "the closing quote", k->name);
		return -EINVAL;
	}
	return 0;
}

/* The value part of a line, p[0..n) after '=', into val (NUL-ended).
 * @retval 0  @retval -EINVAL (error recorded) */
static int read_value(struct pctx *x, const struct cfg_key *k,
		      const char *p, size_t n, char *val)
{
	size_t i = 0, end;

	while (i < n && is_blank(p[i]))
		i++;
	if (i < n && p[i] == '"')
		return unquote(x, k, p + i + 1, n - i - 1, val);
	/* a '#' at the start of the value or after a blank opens a comment */
	for (end = i; end < n; end++)
		if (p[end] == '#' && (end == i || is_blank(p[end - 1])))
			break;
	while (end > i && is_blank(p[end - 1]))
		end--;
	memcpy(val, p + i, end - i);
	val[end - i] = '\0';
	return 0;
}

/* One line without its ending, n <= CONFIG_LINE_MAX, no control bytes. */
static void parse_line(struct pctx *x, struct config *c, const char *p,
		       size_t n)
{
	char val[CONFIG_LINE_MAX + 1], msg[CONFIG_ERR_MSG_MAX];
	const struct cfg_key *k;
	size_t i = 0, ks, ke;
	unsigned *seen;

	while (i < n && is_blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return;
	for (ks = i; i < n && p[i] != '=' && !is_blank(p[i]); i++)
		;
	ke = i;
	k = find_key(p + ks, ke - ks);
	while (i < n && is_blank(p[i]))
		i++;
	if (i == n || p[i] != '=' || i == ks) {
		perr(x, "", 0, "expected `key = value`%s",
		     i == ks ? " (nothing before `=`)" : "");
		return;
	}
	if (!k) {
		unknown_msg(p + ks, ke - ks, msg, sizeof msg);
		perr(x, p + ks, ke - ks, "%s", msg);
		return;
	}
	seen = &x->seen[k - keys];
	if (*seen) {
		perr(x, k->name, strlen(k->name), "%s: already set on line %u",
		     k->name, *seen);
		return;
	}
	*seen = x->line;
	if (read_value(x, k, p + i + 1, n - i - 1, val) == 0 &&
	    apply(c, k, val, msg, sizeof msg) < 0)
		perr(x, k->name, strlen(k->name), "%s", msg);
}

/* One raw line (without '\n'): ending, length and byte checks first. */
static void parse_raw(struct pctx *x, struct config *c, const char *p,
		      size_t n)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > CONFIG_LINE_MAX) {
		perr(x, "", 0, "line is longer than %d bytes", CONFIG_LINE_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			perr(x, "", 0, "control character 0x%02x in column %zu "
			     "(only tab is allowed)", ch, i + 1);
			return;
		}
	}
	parse_line(x, c, p, n);
}

/* see config.h */
int config_parse(struct config *c, const char *text, size_t len,
		 struct config_errors *errs)
{
	struct pctx x;
	size_t pos = 0;

	errs_clear(errs);
	if (!c || (!text && len > 0))
		return -EINVAL;
	config_defaults(c);
	if (len > CONFIG_FILE_MAX) {
		errs_add(errs, 0, "", "file is %zu bytes; at most %d", len,
			 CONFIG_FILE_MAX);
		return -EMSGSIZE;
	}
	memset(&x, 0, sizeof x);
	x.errs = errs;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3; /* a UTF-8 byte order mark, as some editors write */
	/* invariant: pos <= len; each pass consumes one line */
	while (pos < len) {
		const char *p = text + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;

		x.line++;
		parse_raw(&x, c, p, n);
		pos += n + (nl != NULL);
	}
	return x.nerr ? -EINVAL : 0;
}

/* see config.h */
int config_load(struct config *c, const char *path,
		struct config_errors *errs)
{
	static char buf[CONFIG_FILE_MAX]; /* static: the agent allocates nothing */
	int n;

	errs_clear(errs);
	if (!c || !path)
		return -EINVAL;
	n = hal_storage_read(path, buf, sizeof buf);
	if (n == -EMSGSIZE)
		errs_add(errs, 0, "", "file is larger than %d bytes",
			 CONFIG_FILE_MAX);
	else if (n < 0)
		errs_add(errs, 0, "", "cannot read: %s", strerror(-n));
	if (n < 0)
		return n;
	return config_parse(c, buf, (size_t)n, errs);
}

/* see config.h */
void config_defaults(struct config *c)
{
	char msg[CONFIG_ERR_MSG_MAX];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < KEY_COUNT; i++) {
		/* a refused board default is a build mistake; the unit tests
		 * apply every default */
		int ret = apply(c, &keys[i], keys[i].def, msg, sizeof msg);

		assert(ret == 0);
		(void)ret; /* unused with NDEBUG */
	}
}

/* see config.h */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errcap)
{
	char msg[CONFIG_ERR_MSG_MAX];
	const struct cfg_key *k;
	int ret = -EINVAL;

	if (!c || !key || !value) {
		snprintf(msg, sizeof msg, "missing key or value");
	} else if (!(k = find_key(key, strlen(key)))) {
		unknown_msg(key, strlen(key), msg, sizeof msg);
		ret = -ENOENT;
	} else {
		ret = apply(c, k, value, msg, sizeof msg);
	}
	if (err && errcap)
		snprintf(err, errcap, "%s", ret < 0 ? msg : "");
	return ret;
}

/* see config.h */
int config_get(const struct config *c, const char *key, char *buf,
	       size_t cap)
{
	const struct cfg_key *k;

	if (cap)
		buf[0] = '\0';
	if (!c || !key)
		return -EINVAL;
	k = find_key(key, strlen(key));
	if (!k)
		return -ENOENT;
	return value_text(c, k, buf, cap);
}

/* ---- writing ---- */

/* Bounded output: the first failure sticks, buf stays NUL-terminated. */
struct out {
	char *buf;
	size_t cap, len;
	int err;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->err || n >= o->cap - o->len) {
		o->err = -ENOSPC;
		return;
	}
	/* invariant: len + n < cap, so the NUL fits */
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* v as read_value() reads it back: bare when that is exact, else quoted
 * with escapes. */
static void out_value(struct out *o, const char *v)
{
	size_t n = strlen(v);
	int quote = n == 0 || is_blank(v[0]) || is_blank(v[n - 1]) ||
		    v[0] == '"';

	for (size_t i = 0; i < n && !quote; i++)
		quote = v[i] == '#' || (unsigned char)v[i] < 0x20;
	if (!quote) {
		out_put(o, v, n);
		return;
	}
	out_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		const char *e = strchr(esc_raw, v[i]);
		char esc[2] = { '\\', e ? esc_names[e - esc_raw] : v[i] };

		out_put(o, e ? esc : esc + 1, e ? 2 : 1);
	}
	out_put(o, "\"", 1);
}

/* see config.h */
int config_format(const struct config *c, char *buf, size_t cap)
{
	static const char head[] = "# vigild configuration: `key = value`, "
		"one per line (see docs/config.md).\n";
	struct out o = { buf, cap, 0, 0 };
	char v[CONFIG_VALUE_MAX];
	struct config d;

	if (!c || (!buf && cap > 0))
		return -EINVAL;
	config_defaults(&d);
	out_str(&o, head);
	for (size_t i = 0; i < KEY_COUNT; i++) {
		out_str(&o, "\n# ");
		out_str(&o, keys[i].help);
		out_str(&o, "\n# default: ");
		value_text(&d, &keys[i], v, sizeof v);
		out_value(&o, v);
		out_str(&o, "\n");
		out_str(&o, keys[i].name);
		out_str(&o, " = ");
		/* CONFIG_VALUE_MAX holds every value; "" if not */
		value_text(c, &keys[i], v, sizeof v);
		out_value(&o, v);
		out_str(&o, "\n");
	}
	if (o.err && cap)
		buf[0] = '\0';
	return o.err ? o.err : (int)o.len;
}

/* see config.h */
int config_save(const struct config *c, const char *path)
{
	static char buf[CONFIG_FILE_MAX]; /* static: the agent allocates nothing */
	int n = -EIO;

	if (!c || !path)
		return -EINVAL;
	n = config_format(c, buf, sizeof buf);
	if (n < 0)
		return n;
	return hal_storage_write_atomic(path, buf, (size_t)n, 0644);
}

/* see config.h */
int config_diff(const struct config *a, const struct config *b,
		config_diff_cb *cb, void *arg)
{
	char va[CONFIG_VALUE_MAX], vb[CONFIG_VALUE_MAX];
	int n = 0;

	if (!a || !b)
		return -EINVAL;
	for (size_t i = 0; i < KEY_COUNT; i++) {
		value_text(a, &keys[i], va, sizeof va);
		value_text(b, &keys[i], vb, sizeof vb);
		if (strcmp(va, vb)) {
			n++;
			if (cb)
				cb(keys[i].name, va, vb, arg);
		}
	}
	return n;
}

/* see config.h */
unsigned config_key_count(void)
{
	return (unsigned)KEY_COUNT;
}

/* see config.h */
const char *config_key_name(unsigned i)
{
	return i < KEY_COUNT ? keys[i].name : NULL;
}

/* see config.h */
const char *config_key_help(unsigned i)
{
	return i < KEY_COUNT ? keys[i].help : NULL;
}

/*
 * config_keys.c — the schema: one static const table, cfg_keys[], and the
 * typed values behind it (parse, validate, describe, print).
 *
 * Adding a key is one K_*() line in cfg_keys[] plus its field in struct
 * config (config.h) and its row in docs/config.md.  The K_*() line's
 * last argument, h, is the key's one-line help for whoever reads this
 * table; it is not compiled in: nothing in vigild showed it, and the
 * 47 texts were ~3.4 KB of the binary (the user's help is
 * docs/config.md).  The default is text,
 * applied through the same setter as the file, so it is validated like
 * any value (the unit tests apply every default).  The K_*() macros check
 * at compile time that the field has the C type the setter writes.
 *
 * Values are validated completely before anything is written, so a
 * refused value leaves the struct as it was (config_set relies on it).
 */
#include "config_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "daywin.h"
#include "log.h"
#include "tz.h"

/* offsetof/sizeof of a field, and a compile error (negative array size)
 * when its size is not that of type t. */
#define FSIZE(f) sizeof(((struct config *)0)->f)
#define FLD(f) .off = offsetof(struct config, f), .size = FSIZE(f)
#define FLD_T(f, t) .off = offsetof(struct config, f) + \
	0 * sizeof(char[FSIZE(f) == sizeof(t) ? 1 : -1]), .size = FSIZE(f)

#define K_BOOL(n, f, d, h) { .name = n, .type = CFG_BOOL, FLD_T(f, int), \
	.def = d }
#define K_ENUM(n, f, w, d, h) { .name = n, .type = CFG_ENUM, FLD_T(f, int), \
	.words = w, .def = d }
#define K_INTSET(n, f, s, d, h) { .name = n, .type = CFG_INT, \
	FLD_T(f, int64_t), .set = s, .def = d }
/* lo, hi and step in ms; unit: what a bare number counts, in ms */
#define K_DUR(n, f, lo, hi, step, unit, d, h) { .name = n, \
	.type = CFG_DURATION, FLD_T(f, int64_t), .min = lo, .max = hi, \
	.step_ms = step, .unit_ms = unit, .def = d }
#define K_STR(n, f, lo, ch, d, h) { .name = n, .type = CFG_STRING, FLD(f), \
	.min = lo, .max = FSIZE(f) - 1, .chars = ch, .def = d }
/* a string never shown by config_diff (whose output is logged) */
#define K_SECRET(n, f, lo, ch, d, h) { .name = n, .type = CFG_STRING, \
	.flags = CFG_F_SECRET, FLD(f), .min = lo, .max = FSIZE(f) - 1, \
	.chars = ch, .def = d }
/* a string whose value must also pass chk (a grammar of its own) */
#define K_CHECKED(n, f, lo, ch, chk, d, h) { .name = n, .type = CFG_STRING, \
	FLD(f), .min = lo, .max = FSIZE(f) - 1, .chars = ch, .check = chk, \
	.def = d }
#define K_PATH(n, f, fl, d, h) { .name = n, .type = CFG_PATH, .flags = fl, \
	FLD(f), .min = 1, .max = FSIZE(f) - 1, .def = d }
#define K_INT(n, f, lo, hi, d, h) { .name = n, .type = CFG_INT, \
	FLD_T(f, int64_t), .min = lo, .max = hi, .def = d }

/* cfg_key.off and .size are 16 bits wide */
_Static_assert(sizeof(struct config) <= UINT16_MAX,
	       "struct config outgrew cfg_key.off");

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const level_words[] = { "err", "warn", "info", "debug",
					   NULL };
/* In the order of enum log_format (log.h). */
static const char *const log_format_words[] = { "text", "json", NULL };
/* In the order of enum coap_amp (coap_server.h). */
static const char *const coap_amp_words[] = { "echo", "limit", "off", NULL };
/* In the order of enum config_tls_version. */
static const char *const tls_version_words[] = { "1.3", "1.2", NULL };
/* The rates hal_serial_open accepts (hal/serial.h). */
static const int64_t baud_rates[] = { 9600, 19200, 38400, 57600, 115200,
	230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000, 4000000,
	0 };

static int check_window(const struct cfg_key *k, const char *v, char *msg,
			size_t cap);
static int check_zone(const struct cfg_key *k, const char *v, char *msg,
		      size_t cap);

/* Table order is the order of config_format, config_diff and the docs. */
const struct cfg_key cfg_keys[] = {
	K_ENUM("log.level", log_level, level_words, "info", "Least severe messages logged: err, warn, info or debug."),
	K_BOOL("log.stderr", log_stderr, "true", "Write log records to standard error."),
	K_BOOL("log.syslog", log_syslog, STR(BOARD_LOG_SYSLOG), "Send log records to the system logger (/dev/log)."),
	K_ENUM("log.format", log_format, log_format_words, "text", "Log line format on stderr and syslog: text, or json (one object per line)."),
	K_STR("device.name", device_name, 0, "._-", "", "Name this appliance reports; empty: use the hostname."),
	K_PATH("data.dir", data_dir, 0, BOARD_DATA_DIR, "Directory for the agent's state; created at start if missing."),
	K_PATH("watchdog.device", watchdog_device, CFG_F_NONE, BOARD_WDT_DEVICE, "Hardware watchdog device, or none to run without one."),
	K_DUR("watchdog.timeout", watchdog_timeout_ms, 1000, 3600 * 1000, 1000, 1000, STR(BOARD_WDT_TIMEOUT_S), "Reset the board when not kicked for this long (whole seconds)."),
	K_PATH("console.device", console_device, CFG_F_NONE, BOARD_CONSOLE_DEVICE, "Serial console tty, or none."),
	K_INTSET("console.baud", console_baud, baud_rates, STR(BOARD_CONSOLE_BAUD), "Serial console speed in bit/s."),
	K_SECRET("console.password_hash", console_password_hash, 0, "$", "", "Console login: sha256$<hex salt>$<hex digest>, or empty for an open console."),
	K_DUR("console.idle_logout", console_idle_ms, 0, 24 * 3600 * 1000, 1000, 1000, "600", "Log the console out after this long without input (0: never; with a password only)."),
	K_PATH("led.status", led_status, CFG_F_NONE, BOARD_LED_STATUS, "Status LED directory (/sys/class/leds/NAME), or none."),
	K_PATH("system.thermal_zone", thermal_zone, CFG_F_NONE, BOARD_THERMAL_ZONE, "Thermal zone directory read by health checks, or none."),
	K_DUR("health.interval", health_interval_ms, 100, 3600 * 1000, 1, 1000, "30", "Time between two runs of each health check."),
	K_DUR("health.timeout", health_timeout_ms, 100, 3600 * 1000, 1, 1000, "10", "A check run taking longer counts as a failure (at most health.interval)."),
	K_DUR("health.start_period", health_start_period_ms, 0, 3600 * 1000, 1, 1000, "40", "Failures in this time after start are not counted."),
	K_DUR("health.grace", health_grace_ms, 100, 3600 * 1000, 1, 1000, "60", "How long a required check may stay unhealthy before the watchdog is no longer kicked."),
	K_INT("health.retries", health_retries, 1, 100, "3", "Consecutive failures that make a check unhealthy."),
	K_INT("health.debounce", health_debounce, 1, 100, "3", "Consecutive results that confirm any other change of a check's state."),
	K_INT("health.min_free", health_min_free, 0, INT64_C(1) << 50, "1048576", "Bytes free in data.dir below which storage fails (warns below twice that)."),
	K_INT("health.min_memory", health_min_memory, 0, INT64_C(1) << 50, "4194304", "Bytes of MemAvailable below which memory fails (warns below twice that)."),
	K_INT("health.max_load_milli", health_max_load, 0, 1000000, "8000", "1-minute load average x 1000 above which load warns; 0 = no limit."),
	K_INT("health.max_temp_c", health_max_temp, -40, 200, "85", "Temperature (degrees C) at which the temperature check fails; warns 10 C below."),
	K_INT("watchdog.safe_after", watchdog_safe_after, 0, 100, "3", "Consecutive watchdog resets after which vigild starts in safe mode; 0 = never."),
	K_STR("health.interface", health_interface, 0, "._-", BOARD_NETIF, "Network interface the network check wants up (e.g. eth0); empty: no network check."),
	K_STR("health.command", health_command, 0, " !\"$%&'()*+,-./:;<=>?@[]^_{|}~", "", "External check run with /bin/sh -c every health.interval: exit 0 pass, 1 warn, else fail; empty: none."),
	K_DUR("health.command_timeout", health_command_timeout_ms, 100, 3600 * 1000, 1, 1000, "10", "The external check command is killed and fails after this long."),
	K_STR("coap.listen", coap_listen, 1, ".:[],% ", "0.0.0.0:5683,[::]:5683", "CoAP status server UDP addresses: a.b.c.d:port and [v6]:port, comma-separated, or none."),
	K_BOOL("coap.open_control", coap_open_control, "false", "Accept CoAP POST (reload, backup, probe) from unauthenticated peers."),
	K_ENUM("coap.amplification", coap_amplification, coap_amp_words, "echo", "Plain-UDP answers to unverified addresses: echo (verify by ping or Echo, then full size), limit (3x the request, 64-byte blocks at least) or off."),
	K_STR("coap.dtls_listen", coap_dtls_listen, 1, ".:[],% ", "0.0.0.0:5684,[::]:5684", "CoAP over DTLS 1.2 (PSK) addresses, as coap.listen, or none."),
	K_SECRET("coap.psk", coap_psk, 0, ":,-_.@ ", "", "CoAP DTLS pre-shared keys: identity:hexkey pairs, comma-separated (at most 4)."),
	K_STR("backup.server", backup_server, 0, ":/.[]-_", "", "Backup server URL: tcp://host:port (plain CyberBackup v3) or tls://host:port (TLS, see tls.*); empty: no backups."),
	K_STR("backup.paths", backup_paths, 0, "/._-, +@%~=", "", "Files and directories to back up (recursive, symlinks not followed), comma-separated."),
	K_DUR("backup.interval", backup_interval_ms, 0, INT64_C(30) * 86400 * 1000, 1000, 1000, "0", "Time between scheduled backups; 0 = on demand only (backup now)."),
	K_STR("backup.name", backup_name, 0, "._-", "", "Client name registered with the backup server; empty: device.name, else vigil."),
	K_DUR("backup.retry_cap", backup_retry_cap_ms, 500, 3600 * 1000, 1, 1000, "30", "Longest wait between two retries of a backup request (exponential backoff from 500 ms)."),
	K_INT("backup.max_rate", backup_max_rate, 0, INT64_C(1) << 40, "0", "Most bytes per second a backup sends (token bucket over the file data); 0 = no limit."),
	K_CHECKED("backup.window", backup_window, 0, ":-", check_window, "", "Scheduled backups only between these local times, HH:MM-HH:MM (time.zone); empty: any time."),
	K_DUR("backup.timeout", backup_timeout_ms, 100, 3600 * 1000, 1, 1000, "30", "A backup connection silent this long (no byte sent or received) fails and is retried."),
	K_PATH("tls.ca", tls_ca, CFG_F_NONE, "none", "PEM CA certificate(s) the tls:// backup server's certificate must chain to; required for tls://."),
	K_PATH("tls.cert", tls_cert, CFG_F_NONE, "none", "PEM client certificate presented to the tls:// backup server (with tls.key), or none."),
	K_PATH("tls.key", tls_key, CFG_F_NONE, "none", "PEM private key of tls.cert (unencrypted), or none."),
	K_SECRET("tls.psk", tls_psk, 0, ":-_.@", "", "Pre-shared key identity:hexkey for the tls:// backup server, instead of tls.cert/tls.key; empty: none."),
	K_CHECKED("time.zone", time_zone, 1, "<>+-,.:/", check_zone, "UTC0", "Local time as a POSIX TZ rule, e.g. CET-1CEST,M3.5.0,M10.5.0/3."),
	K_ENUM("tls.min_version", tls_min_version, tls_version_words, "1.3", "Oldest TLS version accepted from the tls:// backup server: 1.3, or 1.2 for servers without TLS 1.3."),
};

#define KEY_COUNT (sizeof cfg_keys / sizeof cfg_keys[0])
const unsigned cfg_key_total = (unsigned)KEY_COUNT;

_Static_assert(KEY_COUNT <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");
_Static_assert(CONFIG_FORMAT_MAX <= CONFIG_FILE_MAX,
	       "config_format output could exceed what config_load reads");
_Static_assert(CONFIG_FORMAT_LINE_MAX - 1 <= CONFIG_LINE_MAX,
	       "a line written by config_format could exceed CONFIG_LINE_MAX");
/* Board defaults that can be checked at compile time; the rest (a path
 * is absolute) are checked when config_defaults applies them. */
_Static_assert(BOARD_WDT_TIMEOUT_S >= 1 && BOARD_WDT_TIMEOUT_S <= 3600,
	       "BOARD_WDT_TIMEOUT_S outside watchdog.timeout's 1..3600 s");
_Static_assert(BOARD_LOG_SYSLOG == 0 || BOARD_LOG_SYSLOG == 1,
	       "BOARD_LOG_SYSLOG must be 0 or 1");
_Static_assert(sizeof BOARD_DATA_DIR <= CONFIG_PATH_MAX &&
	       sizeof BOARD_WDT_DEVICE <= CONFIG_PATH_MAX &&
	       sizeof BOARD_CONSOLE_DEVICE <= CONFIG_PATH_MAX &&
	       sizeof BOARD_LED_STATUS <= CONFIG_PATH_MAX &&
	       sizeof BOARD_THERMAL_ZONE <= CONFIG_PATH_MAX,
	       "a board path default is longer than CONFIG_PATH_MAX - 1");
_Static_assert(FSIZE(backup_window) == DAYWIN_TEXT_MAX &&
	       FSIZE(time_zone) == TZ_TEXT_MAX,
	       "backup.window / time.zone fields must match lib's bounds");
_Static_assert(LOG_ERR == 0 && LOG_WARN == 1 && LOG_INFO == 2 &&
	       LOG_DEBUG == 3, "level_words[] must follow enum log_level");

/* see config_int.h */
const char *cfg_show(const char *s, size_t n, char out[CFG_SHOW_MAX])
{
	size_t i;

	for (i = 0; i < n && i < CFG_SHOW_BYTES; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < n) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* Appends s to buf[0..cap) at *n; stops quietly when full (cap > 0). */
static void cat(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n >= cap)
		return;
	if (len > cap - *n - 1)
		len = cap - *n - 1;
	memcpy(buf + *n, s, len);
	*n += len;
	buf[*n] = '\0';
}

/* ---- numbers and durations ---- */

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

		/* v * 10 + d <= lim  <=>  v <= (lim - d) / 10 */
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

static const struct { const char *sym, *word; int64_t ms; } units[] = {
	{ "h", "hours", 3600000 }, { "m", "minutes", 60000 },
	{ "s", "seconds", 1000 }, { "ms", "milliseconds", 1 } };
#define UNIT_COUNT (sizeof units / sizeof units[0])

/* "2h", "90s", "500ms", "0s": the largest unit that divides ms exactly. */
static int fmt_duration(int64_t ms, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < UNIT_COUNT - 1; i++)
		if (ms % units[i].ms == 0 && (ms != 0 || units[i].ms == 1000))
			break;
	return snprintf(buf, cap, "%" PRId64 "%s", ms / units[i].ms,
			units[i].sym);
}

/* A whole number, optional blanks, optional unit, in ms.
 * @retval 0  @retval -EINVAL syntax  @retval -ERANGE beyond int64 ms */
static int parse_duration(const struct cfg_key *k, const char *v,
			  int64_t *ms)
{
	const char *p = v;
	int64_t n = 0, mult = k->unit_ms;
	int ret = parse_i64(&p, &n);

	if (ret == -EINVAL)
		return ret;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		size_t i;

		for (i = 0; i < UNIT_COUNT && strcmp(p, units[i].sym); i++)
			;
		if (i == UNIT_COUNT)
			return -EINVAL;
		mult = units[i].ms;
	}
	/* mult >= 1: unit_ms of every duration key is, and units[] are */
	if (ret == -ERANGE || n > INT64_MAX / mult || n < INT64_MIN / mult)
		return -ERANGE;
	*ms = n * mult;
	return 0;
}

/* Parses an int or a duration of k, checks range/set/step.
 * @retval 0 valid  @retval -EBADMSG with msg set, or "" (not a number) */
static int number_value(const struct cfg_key *k, const char *v, int64_t *n,
			char *msg, size_t cap)
{
	char s[CFG_SHOW_MAX], a[24], b[24];
	const char *p = v;
	int ret = -EIO;

	if (k->type == CFG_DURATION)
		ret = parse_duration(k, v, n);
	else if ((ret = parse_i64(&p, n)) != -EINVAL && *p != '\0')
		ret = -EINVAL;
	if (ret == -EINVAL || (k->set && ret < 0))
		return -EBADMSG;
	if (k->set) {
		for (unsigned i = 0; k->set[i] != 0; i++)
			if (k->set[i] == *n)
				return 0;
		return -EBADMSG;
	}
	cfg_show(v, strlen(v), s);
	if (ret == -ERANGE || *n < k->min || *n > k->max) {
		if (k->type == CFG_DURATION) {
			fmt_duration(k->min, a, sizeof a);
			fmt_duration(k->max, b, sizeof b);
		} else {
			snprintf(a, sizeof a, "%" PRId64, k->min);
			snprintf(b, sizeof b, "%" PRId64, k->max);
		}
		snprintf(msg, cap, "%s: `%s` is out of range %s..%s", k->name,
			 s, a, b);
		return -EBADMSG;
	}
	if (k->type == CFG_DURATION && k->step_ms > 1 && *n % k->step_ms) {
		fmt_duration(k->step_ms, a, sizeof a);
		snprintf(msg, cap, "%s: `%s` is not a whole multiple of %s",
			 k->name, s, a);
		return -EBADMSG;
	}
	return 0;
}

/* ---- words ---- */

static int parse_bool(const char *v)
{
	static const char *const words[] = { "false", "true", "no", "yes",
					     "off", "on", "0", "1" };

	for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(v, words[i]))
			return (int)(i & 1);
	return -EBADMSG;
}

static int word_index(const char *const *words, const char *v)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i]))
			return i;
	return -EBADMSG;
}

/* words[i], or "?" when i is not an index of the NULL-ended list. */
static const char *word_at(const char *const *words, int i)
{
	for (int j = 0; i >= 0 && words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

/* see config_int.h */
void cfg_expect(const struct cfg_key *k, char *buf, size_t cap)
{
	char num[24];
	size_t n = 0;
	int en = k->type == CFG_ENUM;   /* words, else an int's set */

	buf[0] = '\0';
	switch ((enum cfg_type)k->type) {
	case CFG_BOOL:
		cat(buf, cap, &n, "a boolean: true/false, yes/no, on/off, 1/0");
		return;
	case CFG_DURATION:
		cat(buf, cap, &n, "a duration: a whole number with unit ms, s, "
		    "m or h (a bare number counts ");
		for (size_t i = 0; i < UNIT_COUNT; i++)
			if (units[i].ms == k->unit_ms)
				cat(buf, cap, &n, units[i].word);
		cat(buf, cap, &n, ")");
		return;
	case CFG_PATH:
		cat(buf, cap, &n, k->flags & CFG_F_NONE ?
		    "an absolute path or `none`" : "an absolute path");
		return;
	case CFG_STRING:
		snprintf(num, sizeof num, "%" PRId64 "..%" PRId64, k->min,
			 k->max);
		cat(buf, cap, &n, num);
		cat(buf, cap, &n, " characters of A-Z a-z 0-9 ");
		cat(buf, cap, &n, k->chars);
		cat(buf, cap, &n, k->min == 0 ? "; \"\" for none" : "");
		return;
	case CFG_INT:
	case CFG_ENUM:
		break;
	}
	cat(buf, cap, &n, en || k->set ? "one of " : "an integer");
	for (unsigned i = 0; en ? k->words[i] != NULL :
			     k->set && k->set[i] != 0; i++) {
		snprintf(num, sizeof num, "%" PRId64, en ? 0 : k->set[i]);
		cat(buf, cap, &n, i ? ", " : "");
		cat(buf, cap, &n, en ? k->words[i] : num);
	}
}

/* ---- strings and paths ---- */

/* Names such as device.name.  @retval 0 / -EBADMSG with msg */
static int check_string(const struct cfg_key *k, const char *v, char *msg,
			size_t cap)
{
	size_t n = strlen(v);

	if (n < (size_t)k->min || n > (size_t)k->max) {
		snprintf(msg, cap, "%s: %zu characters; must be %" PRId64
			 "..%" PRId64, k->name, n, k->min, k->max);
		return -EBADMSG;
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
		return -EBADMSG;
	}
	return 0;
}

/* Absolute paths, or "none" where allowed.  @retval 0 / -EBADMSG (msg
 * set, or "" when cfg_apply should say what is expected) */
static int check_path(const struct cfg_key *k, const char *v, char *msg,
		      size_t cap)
{
	size_t n = strlen(v);

	if ((k->flags & CFG_F_NONE) && !strcmp(v, "none"))
		return 0;
	if (v[0] != '/')
		return -EBADMSG;
	if (n > (size_t)k->max) {
		snprintf(msg, cap, "%s: path has %zu bytes; at most %" PRId64,
			 k->name, n, k->max);
		return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(msg, cap, "%s: control byte 0x%02x in the path",
				 k->name, (unsigned char)v[i]);
			return -EBADMSG;
		}
	}
	return 0;
}

/* ---- grammars of their own ---- */

static int check_window(const struct cfg_key *k, const char *v, char *msg,
			size_t cap)
{
	char e[TZ_ERR_MAX], sh[CFG_SHOW_MAX];
	struct daywin w;

	if (v[0] == '\0' || daywin_parse(v, &w, e, sizeof e) == 0)
		return 0;
	snprintf(msg, cap, "%s: `%s`: %s", k->name, cfg_show(v, strlen(v), sh),
		 e);
	return -EBADMSG;
}

static int check_zone(const struct cfg_key *k, const char *v, char *msg,
		      size_t cap)
{
	char e[TZ_ERR_MAX];
	struct tz z;

	if (tz_parse(v, &z, e, sizeof e) == 0)
		return 0;
	snprintf(msg, cap, "%s: %s (a POSIX TZ rule such as "
		 "CET-1CEST,M3.5.0,M10.5.0/3)", k->name, e);
	return -EBADMSG;
}

/* Validates a string or path and stores it, the field zero-filled. */
static int apply_text(struct config *c, const struct cfg_key *k,
		      const char *v, char *msg, size_t cap)
{
	char *field = (char *)c + k->off;
	int ret = k->type == CFG_PATH ? check_path(k, v, msg, cap) :
					check_string(k, v, msg, cap);

	if (ret == 0 && k->check)
		ret = k->check(k, v, msg, cap);
	if (ret < 0)
		return ret;
	/* checked: strlen(v) <= k->max == k->size - 1 */
	memset(field, 0, k->size);
	if (k->type != CFG_PATH || strcmp(v, "none"))
		memcpy(field, v, strlen(v));
	return 0;
}

/* see config_int.h */
int cfg_apply(struct config *c, const struct cfg_key *k, const char *v,
	      char *msg, size_t cap)
{
	char *field = (char *)c + k->off;
	char e[CONFIG_ERR_MSG_MAX], s[CFG_SHOW_MAX];
	int64_t n = 0;
	int i = 0, ret = -EBADMSG;

	msg[0] = '\0';
	if (k->type == CFG_BOOL || k->type == CFG_ENUM) {
		i = k->type == CFG_BOOL ? parse_bool(v) : word_index(k->words, v);
		ret = i < 0 ? -EBADMSG : 0;
		if (ret == 0)
			memcpy(field, &i, sizeof i); /* size checked by FLD_T */
	} else if (k->type == CFG_INT || k->type == CFG_DURATION) {
		ret = number_value(k, v, &n, msg, cap);
		if (ret == 0)
			memcpy(field, &n, sizeof n); /* size checked by FLD_T */
	} else {
		ret = apply_text(c, k, v, msg, cap);
	}
	if (ret < 0 && !msg[0]) {
		cfg_expect(k, e, sizeof e);
		if (v[0])
			snprintf(msg, cap, "%s: `%s` is not %s", k->name,
				 cfg_show(v, strlen(v), s), e);
		else
			snprintf(msg, cap, "%s: empty value (expected %s)",
				 k->name, e);
	}
	return ret;
}

/* see config_int.h */
int cfg_text(const struct config *c, const struct cfg_key *k, char *buf,
	     size_t cap)
{
	const char *field = (const char *)c + k->off;
	int64_t n = 0;
	int i = 0, w = -1;

	if (k->type == CFG_INT || k->type == CFG_DURATION)
		memcpy(&n, field, sizeof n);
	else if (k->type == CFG_BOOL || k->type == CFG_ENUM)
		memcpy(&i, field, sizeof i);
	if (k->type == CFG_BOOL)
		w = snprintf(buf, cap, "%s", i ? "true" : "false");
	else if (k->type == CFG_ENUM)
		w = snprintf(buf, cap, "%s", word_at(k->words, i));
	else if (k->type == CFG_INT)
		w = snprintf(buf, cap, "%" PRId64, n);
	else if (k->type == CFG_DURATION)
		w = fmt_duration(n, buf, cap);
	else if (!field[0] && (k->flags & CFG_F_NONE))
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

/* ---- names ---- */

/* see config_int.h */
const struct cfg_key *cfg_find(const char *s, size_t n)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strlen(cfg_keys[i].name) == n &&
		    !memcmp(cfg_keys[i].name, s, n))
			return &cfg_keys[i];
	return NULL;
}

/* Optimal-string-alignment distance (a swap of neighbours costs 1),
 * 3 meaning "3 or more".  Three rows of CONFIG_KEY_MAX; O(an * bn) with
 * both <= CONFIG_KEY_MAX + 1, since longer a are cut off first.  A row's
 * minimum never falls in later rows (a swap's cell is at least its
 * diagonal neighbour in the row between), so a row of 3s ends the walk:
 * a word unlike b costs a few rows, not all of them. */
static unsigned distance(const char *a, size_t an, const char *b)
{
	unsigned d[3][CONFIG_KEY_MAX];
	size_t bn = strlen(b);

	if (bn >= CONFIG_KEY_MAX || an > bn + 2 || bn > an + 2)
		return 3;
	for (size_t j = 0; j <= bn; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= an; i++) {
		unsigned *cur = d[i % 3], *up = d[(i - 1) % 3];
		unsigned *up2 = d[(i + 1) % 3]; /* row i - 2 */

		unsigned low = cur[0] = (unsigned)i;

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
			low = v < low ? v : low;
		}
		if (low >= 3)
			return 3;
	}
	return d[an % 3][bn] < 3 ? d[an % 3][bn] : 3;
}

/* see config_int.h */
void cfg_unknown_msg(const char *s, size_t n, char *msg, size_t cap)
{
	const struct cfg_key *best = NULL;
	unsigned bestd = 3;
	char sh[CFG_SHOW_MAX];

	for (size_t i = 0; i < KEY_COUNT; i++) {
		unsigned dist = distance(s, n, cfg_keys[i].name);

		if (dist < bestd) {
			bestd = dist;
			best = &cfg_keys[i];
		}
	}
	if (best)
		snprintf(msg, cap, "unknown key `%s` (did you mean `%s`?)",
			 cfg_show(s, n, sh), best->name);
	else
		snprintf(msg, cap, "unknown key `%s`", cfg_show(s, n, sh));
}

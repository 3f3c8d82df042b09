/*
 * config_test.c — firmware/config/config.c and config_keys.c: the file syntax,
 * every key's validation and boundaries, every error class and its exact
 * message, the @retvals of config.h, the writer's round trip, config_diff.
 * Runs on the sim HAL (config_load/config_save use sim storage).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "config.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "log.h"
#include "test.h"

static struct config cfg;
static struct config_errors errs;
static char big[CONFIG_FILE_MAX + 2];

static int parse(const char *text)
{
	return config_parse(&cfg, text, strlen(text), &errs);
}

/* A text with exactly one error, on line ln, with message m. */
#define EXPECT_ERR(text, ln, m)                                          \
	do {                                                             \
		CHECK_EQ_INT(parse(text), -EBADMSG);                     \
		CHECK_EQ_INT(errs.count, 1);                             \
		CHECK_EQ_INT(errs.e[0].line, ln);                        \
		CHECK_EQ_STR(errs.e[0].msg, m);                          \
	} while (0)

#define EXPECT_OK(text)                                                  \
	do {                                                             \
		CHECK_EQ_INT(parse(text), 0);                            \
		CHECK_EQ_INT(errs.count, 0);                             \
		if (errs.count)                                          \
			CHECK_EQ_STR(errs.e[0].msg, "");                 \
	} while (0)

static int same(const struct config *a, const struct config *b)
{
	return memcmp(a, b, sizeof *a) == 0 && config_diff(a, b, NULL, NULL) == 0;
}

/* ---- defaults and the schema ---- */

TEST(defaults_come_from_the_board)
{
	struct config d;

	config_defaults(&d);
	CHECK_EQ_INT(d.log_level, LOG_INFO);
	CHECK_EQ_INT(d.log_stderr, 1);
	CHECK_EQ_INT(d.log_syslog, BOARD_LOG_SYSLOG);
	CHECK_EQ_STR(d.device_name, "");
	CHECK_EQ_STR(d.data_dir, BOARD_DATA_DIR);
	CHECK_EQ_INT(d.watchdog_timeout_ms, BOARD_WDT_TIMEOUT_S * 1000);
	CHECK_EQ_INT(d.console_baud, BOARD_CONSOLE_BAUD);
	/* host: every device is "none", held as "" */
	CHECK_EQ_STR(d.watchdog_device, "");
	CHECK_EQ_STR(d.console_device, "");
	CHECK_EQ_STR(d.led_status, "");
	CHECK_EQ_STR(d.thermal_zone, "");
}

TEST(empty_file_gives_the_defaults)
{
	struct config d;

	config_defaults(&d);
	memset(&cfg, 0x55, sizeof cfg);
	CHECK_EQ_INT(config_parse(&cfg, "", 0, &errs), 0);
	CHECK(same(&cfg, &d));
	CHECK_EQ_INT(config_parse(&cfg, NULL, 0, NULL), 0);
	CHECK(same(&cfg, &d));
	EXPECT_OK("\n\n# only comments\n   \n\t# indented\n");
	CHECK(same(&cfg, &d));
}

TEST(every_key_is_named_helped_and_round_trips)
{
	char v[CONFIG_VALUE_MAX], err[CONFIG_ERR_MSG_MAX];
	struct config d, c;
	unsigned n = config_key_count();

	config_defaults(&d);
	CHECK(n > 0 && n <= CONFIG_KEYS_MAX);
	for (unsigned i = 0; i < n; i++) {
		const char *name = config_key_name(i);

		REQUIRE(name != NULL);
		CHECK(strlen(name) < CONFIG_KEY_MAX);
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(name, config_key_name(j)) != 0);
		/* canonical text of the default sets back to the same */
		CHECK(config_get(&d, name, v, sizeof v) >= 0);
		c = d;
		CHECK_EQ_INT(config_set(&c, name, v, err, sizeof err), 0);
		CHECK_EQ_STR(err, "");
		CHECK(same(&c, &d));
	}
	CHECK(config_key_name(n) == NULL);
	CHECK(config_key_name(~0u) == NULL);
}

/* ---- file syntax ---- */

TEST(full_file_with_comments_crlf_bom_and_tabs)
{
	EXPECT_OK("\xef\xbb\xbf# vigil\r\n"
		  "log.level = debug\r\n"
		  "log.stderr=false   # no stderr\r\n"
		  "\tlog.syslog\t=\tyes\t\r\n"
		  "device.name = pump-7.site_a\n"
		  "data.dir = /data/#1   # '#' after a blank starts a comment\n"
		  "watchdog.device = /dev/watchdog1\n"
		  "watchdog.timeout = 2m\n"
		  "console.device = \"/dev/tty S#0\"  # quoted: blank and #\n"
		  "console.baud = 9600\n"
		  "led.status = /sys/class/leds/a:b\n"
		  "system.thermal_zone = /sys/class/thermal/thermal_zone1");
	CHECK_EQ_INT(cfg.log_level, LOG_DEBUG);
	CHECK_EQ_INT(cfg.log_stderr, 0);
	CHECK_EQ_INT(cfg.log_syslog, 1);
	CHECK_EQ_STR(cfg.device_name, "pump-7.site_a");
	CHECK_EQ_STR(cfg.data_dir, "/data/#1");
	CHECK_EQ_STR(cfg.watchdog_device, "/dev/watchdog1");
	CHECK_EQ_INT(cfg.watchdog_timeout_ms, 120000);
	CHECK_EQ_STR(cfg.console_device, "/dev/tty S#0");
	CHECK_EQ_INT(cfg.console_baud, 9600);
	CHECK_EQ_STR(cfg.led_status, "/sys/class/leds/a:b");
	CHECK_EQ_STR(cfg.thermal_zone, "/sys/class/thermal/thermal_zone1");
}

TEST(comment_rules)
{
	EXPECT_OK("data.dir = /a#b\n");
	CHECK_EQ_STR(cfg.data_dir, "/a#b");
	EXPECT_OK("data.dir = /a #b\n");
	CHECK_EQ_STR(cfg.data_dir, "/a");
	EXPECT_OK("data.dir = /a\t#b\n");
	CHECK_EQ_STR(cfg.data_dir, "/a");
	EXPECT_OK("   # indented comment = with equals\n");
	EXPECT_OK("#log.level = bogus\n");
	/* no blank before '#': part of the value, so the enum fails */
	EXPECT_ERR("log.level = warn#x\n", 1, "log.level: `warn#x` is not one "
		   "of err, warn, info, debug");
	EXPECT_ERR("log.level = # only a comment\n", 1, "log.level: no value "
		   "after `=` (expected one of err, warn, info, debug)");
	EXPECT_ERR("log.level =#c\n", 1, "log.level: no value after `=` "
		   "(expected one of err, warn, info, debug)");
}

TEST(quoted_values)
{
	EXPECT_OK("device.name = \"\"\n");
	CHECK_EQ_STR(cfg.device_name, "");
	EXPECT_OK("log.level = \"debug\"  # quotes are lexical\n");
	CHECK_EQ_INT(cfg.log_level, LOG_DEBUG);
	EXPECT_OK("data.dir = \"/a \\\"b\\\" \\\\c #d\"#comment\n");
	CHECK_EQ_STR(cfg.data_dir, "/a \"b\" \\c #d");
	/* unquoted: quotes and backslashes are literal */
	EXPECT_OK("data.dir = /a\"b\\n\n");
	CHECK_EQ_STR(cfg.data_dir, "/a\"b\\n");
	EXPECT_ERR("data.dir = \"/a\\tb\"\n", 1, "data.dir: `\\t` in quotes: "
		   "the only escapes are \\\" and \\\\");
	EXPECT_ERR("data.dir = \"/a\n", 1, "data.dir: no closing `\"`");
	EXPECT_ERR("data.dir = \"/a\\\"\n", 1, "data.dir: no closing `\"`");
	EXPECT_ERR("data.dir = \"/a\\\n", 1, "data.dir: no closing `\"`");
	EXPECT_ERR("data.dir = \"/a\" /b\n", 1, "data.dir: text after the "
		   "closing `\"` (a comment starts with `#`)");
	EXPECT_ERR("log.level = \"\"\n", 1, "log.level: empty value (expected "
		   "one of err, warn, info, debug)");
}

TEST(crlf_and_carriage_returns)
{
	EXPECT_OK("log.level = debug\r\n\r\nlog.stderr = no\r\n");
	CHECK_EQ_INT(cfg.log_level, LOG_DEBUG);
	CHECK_EQ_INT(cfg.log_stderr, 0);
	EXPECT_OK("log.level = warn\r"); /* last line, no LF */
	CHECK_EQ_INT(cfg.log_level, LOG_WARN);
	EXPECT_ERR("log.level = warn\rlog.stderr = no\n", 1, "control byte "
		   "0x0d in column 17 (only tab is allowed)");
	EXPECT_ERR("# ok\nlog.level = debug\r\r\n", 2, "control byte 0x0d in "
		   "column 18 (only tab is allowed)");
}

TEST(control_bytes_are_errors)
{
	static const char nul[] = "# a\nlog.le\0vel = info\nlog.stderr = no\n";

	CHECK_EQ_INT(config_parse(&cfg, nul, sizeof nul - 1, &errs), -EBADMSG);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, 2);
	CHECK_EQ_STR(errs.e[0].msg, "control byte 0x00 in column 7 (only tab "
		     "is allowed)");
	CHECK_EQ_STR(errs.e[0].key, "");
	CHECK_EQ_INT(cfg.log_stderr, 0); /* later lines were parsed */
	EXPECT_ERR("data.dir = /a\x7f\n", 1, "control byte 0x7f in column 14 "
		   "(only tab is allowed)");
	EXPECT_ERR("\x1b[31m\n", 1, "control byte 0x1b in column 1 (only tab "
		   "is allowed)");
	/* bytes >= 0x80 (UTF-8) are fine in a path */
	EXPECT_OK("data.dir = /data/\xc3\xa9t\xc3\xa9\n");
	CHECK_EQ_STR(cfg.data_dir, "/data/\xc3\xa9t\xc3\xa9");
}

/* A comment line of exactly n bytes, then ending. */
static size_t long_line(char *buf, size_t n, const char *ending)
{
	buf[0] = '#';
	memset(buf + 1, 'x', n - 1);
	strcpy(buf + n, ending);
	return n + strlen(ending);
}

TEST(line_length_limit_is_exact)
{
	char buf[CONFIG_LINE_MAX + 64];
	size_t n;

	n = long_line(buf, CONFIG_LINE_MAX, "\n");
	CHECK_EQ_INT(config_parse(&cfg, buf, n, &errs), 0);
	n = long_line(buf, CONFIG_LINE_MAX, "\r\n");
	CHECK_EQ_INT(config_parse(&cfg, buf, n, &errs), 0);
	n = long_line(buf, CONFIG_LINE_MAX, "");
	CHECK_EQ_INT(config_parse(&cfg, buf, n, &errs), 0);
	n = long_line(buf, CONFIG_LINE_MAX + 1, "\nlog.level = debug\n");
	CHECK_EQ_INT(config_parse(&cfg, buf, n, &errs), -EBADMSG);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, 1);
	CHECK_EQ_STR(errs.e[0].msg, "line has 513 bytes; at most 512 are "
		     "allowed");
	CHECK_EQ_INT(cfg.log_level, LOG_DEBUG); /* not cut: next line read */
}

TEST(missing_equals_and_missing_key)
{
	EXPECT_ERR("\nthis line has no equals\n", 2, "missing `=` (expected "
		   "`key = value`)");
	CHECK_EQ_STR(errs.e[0].key, "");
	EXPECT_ERR("log.level debug\n", 1, "log.level: missing `=` (expected "
		   "`key = value`)");
	CHECK_EQ_STR(errs.e[0].key, "log.level");
	EXPECT_ERR("log.level\n", 1, "log.level: missing `=` (expected "
		   "`key = value`)");
	EXPECT_ERR("  = debug\n", 1, "missing key before `=`");
	EXPECT_ERR("=\n", 1, "missing key before `=`");
}

TEST(unknown_keys_get_a_hint_when_close)
{
	EXPECT_ERR("log.levle = info\n", 1, "unknown key `log.levle` (did you "
		   "mean `log.level`?)");
	CHECK_EQ_STR(errs.e[0].key, "log.levle");
	EXPECT_ERR("Log.Level = info\n", 1, "unknown key `Log.Level` (did you "
		   "mean `log.level`?)");
	EXPECT_ERR("log level = info\n", 1, "unknown key `log level` (did you "
		   "mean `log.level`?)");
	EXPECT_ERR("watchdog.timout = 30\n", 1, "unknown key `watchdog.timout`"
		   " (did you mean `watchdog.timeout`?)");
	EXPECT_ERR("frobnicate = 1\n", 1, "unknown key `frobnicate`");
	EXPECT_ERR("a.very.long.key.name.that.goes.on.and.on = 1\n", 1,
		   "unknown key `a.very.long.key.name.that.goes.o...`");
	CHECK_EQ_STR(errs.e[0].key, "a.very.long.key.name.that.goes.");
	EXPECT_ERR("k\xc3\xa9y = 1\n", 1, "unknown key `k??y`");
	CHECK_EQ_STR(errs.e[0].key, "k??y");
}

/* Optimal-string-alignment distance, the whole table (no early end). */
static unsigned ref_distance(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);
	unsigned d[CONFIG_KEY_MAX + 3][CONFIG_KEY_MAX + 3];

	for (size_t i = 0; i <= an; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= bn; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= an; i++) {
		for (size_t j = 1; j <= bn; j++) {
			unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[an][bn];
}

/* config_set's message for word: the hint the reference picks (the first
 * key at the smallest distance, if below 3), or none. */
static void check_hint(const char *word)
{
	char err[CONFIG_ERR_MSG_MAX], want[CONFIG_ERR_MSG_MAX];
	const char *best = NULL;
	unsigned bestd = 3;

	for (unsigned i = 0; i < config_key_count(); i++) {
		unsigned dist = ref_distance(word, config_key_name(i));

		if (dist < bestd) {
			bestd = dist;
			best = config_key_name(i);
		}
	}
	if (bestd == 0)
		return; /* the edit made another key */
	if (best)
		snprintf(want, sizeof want, "unknown key `%s` (did you mean "
			 "`%s`?)", word, best);
	else
		snprintf(want, sizeof want, "unknown key `%s`", word);
	CHECK_EQ_INT(config_set(&cfg, word, "1", err, sizeof err), -ENOENT);
	CHECK_EQ_STR(err, want);
}

/* The hint's distance ends a walk early once a row is all 3 or more;
 * every key with one and two edits (dropped, swapped, replaced bytes, a
 * suffix) gets the hint a full table gives. */
TEST(unknown_key_hints_match_a_full_distance_table)
{
	char w[CONFIG_KEY_MAX + 3];

	config_defaults(&cfg);
	for (unsigned k = 0; k < config_key_count(); k++) {
		const char *name = config_key_name(k);
		size_t n = strlen(name);

		for (size_t i = 0; i < n; i++) {
			snprintf(w, sizeof w, "%.*s%s", (int)i, name,
				 name + i + 1);         /* one byte dropped */
			if (w[0] != '\0')
				check_hint(w);
			memcpy(w, name, n + 1);         /* one replaced */
			w[i] = 'q';
			check_hint(w);
			w[n - 1 - i / 2] = 'z';         /* and another */
			check_hint(w);
			if (i + 1 < n && name[i] != name[i + 1]) {
				memcpy(w, name, n + 1); /* a swap */
				w[i] = name[i + 1];
				w[i + 1] = name[i];
				check_hint(w);
			}
		}
		snprintf(w, sizeof w, "%sxy", name);    /* two appended */
		check_hint(w);
		snprintf(w, sizeof w, "%sxyz", name);   /* three */
		check_hint(w);
	}
}

TEST(duplicate_keys)
{
	CHECK_EQ_INT(parse("log.level = info\n# x\nlog.level = debug\n"
			   "log.level = warn\n"), -EBADMSG);
	REQUIRE(errs.count == 2);
	CHECK_EQ_INT(errs.e[0].line, 3);
	CHECK_EQ_STR(errs.e[0].msg, "log.level: already set on line 1");
	CHECK_EQ_INT(errs.e[1].line, 4);
	CHECK_EQ_STR(errs.e[1].msg, "log.level: already set on line 1");
	CHECK_EQ_STR(errs.e[1].key, "log.level");
}

TEST(empty_values)
{
	EXPECT_ERR("log.stderr =\n", 1, "log.stderr: no value after `=` "
		   "(expected a boolean: true/false, yes/no, on/off, 1/0)");
	EXPECT_ERR("device.name =   \n", 1, "device.name: no value after `=` "
		   "(expected 0..63 characters of A-Z a-z 0-9 ._-; \"\" for "
		   "none)");
	EXPECT_ERR("watchdog.device = \t\r\n", 1, "watchdog.device: no value "
		   "after `=` (expected an absolute path or `none`)");
}

/* ---- typed values ---- */

TEST(bool_spellings)
{
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };
	char line[64];

	for (unsigned i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "log.stderr = %s\n", f[i]);
		EXPECT_OK(line);
		CHECK_EQ_INT(cfg.log_stderr, 0);
		snprintf(line, sizeof line, "log.syslog = %s\n", t[i]);
		EXPECT_OK(line);
		CHECK_EQ_INT(cfg.log_syslog, 1);
	}
	EXPECT_ERR("log.stderr = TRUE\n", 1, "log.stderr: `TRUE` is not a "
		   "boolean: true/false, yes/no, on/off, 1/0");
	EXPECT_ERR("log.stderr = 2\n", 1, "log.stderr: `2` is not a boolean: "
		   "true/false, yes/no, on/off, 1/0");
}

TEST(enum_words)
{
	static const char *const w[] = { "err", "warn", "info", "debug" };
	char line[64];

	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "log.level = %s", w[i]);
		EXPECT_OK(line);
		CHECK_EQ_INT(cfg.log_level, i);
	}
	EXPECT_ERR("log.level = loud\n", 1, "log.level: `loud` is not one of "
		   "err, warn, info, debug");
	EXPECT_ERR("log.level = 2\n", 1, "log.level: `2` is not one of err, "
		   "warn, info, debug");
}

TEST(duration_units_and_bounds)
{
	static const struct { const char *v; int64_t ms; } ok[] = {
		{ "30", 30000 }, { "30s", 30000 }, { "30 s", 30000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "1s", 1000 },
		{ "1000ms", 1000 }, { "3600s", 3600000 }, { "007", 7000 } };
	char line[64];

	for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(line, sizeof line, "watchdog.timeout = %s\n", ok[i].v);
		EXPECT_OK(line);
		CHECK_EQ_INT(cfg.watchdog_timeout_ms, ok[i].ms);
	}
	EXPECT_ERR("\n\n\n\n\nwatchdog.timeout = 0\n", 6, "watchdog.timeout: "
		   "`0` is out of range 1s..1h");
	EXPECT_ERR("watchdog.timeout = 3601\n", 1, "watchdog.timeout: `3601` "
		   "is out of range 1s..1h");
	EXPECT_ERR("watchdog.timeout = 999ms\n", 1, "watchdog.timeout: `999ms` "
		   "is out of range 1s..1h");
	EXPECT_ERR("watchdog.timeout = 61m\n", 1, "watchdog.timeout: `61m` is "
		   "out of range 1s..1h");
	EXPECT_ERR("watchdog.timeout = -5s\n", 1, "watchdog.timeout: `-5s` is "
		   "out of range 1s..1h");
	EXPECT_ERR("watchdog.timeout = 99999999999999999999h\n", 1,
		   "watchdog.timeout: `99999999999999999999h` is out of range "
		   "1s..1h");
	EXPECT_ERR("watchdog.timeout = 9223372036854775807h\n", 1,
		   "watchdog.timeout: `9223372036854775807h` is out of range "
		   "1s..1h");
	EXPECT_ERR("watchdog.timeout = 1500ms\n", 1, "watchdog.timeout: "
		   "`1500ms` is not a whole multiple of 1s");
	EXPECT_ERR("watchdog.timeout = forever\n", 1, "watchdog.timeout: "
		   "`forever` is not a duration: a whole number with unit ms, "
		   "s, m or h (a bare number counts seconds)");
	EXPECT_ERR("watchdog.timeout = 30x\n", 1, "watchdog.timeout: `30x` is "
		   "not a duration: a whole number with unit ms, s, m or h (a "
		   "bare number counts seconds)");
	CHECK_EQ_INT(parse("watchdog.timeout = 1.5s\n"), -EBADMSG);
	CHECK_EQ_INT(parse("watchdog.timeout = s\n"), -EBADMSG);
	CHECK_EQ_INT(parse("watchdog.timeout = 30sec\n"), -EBADMSG);
}

TEST(baud_rate_set)
{
	EXPECT_OK("console.baud = 4000000\n");
	CHECK_EQ_INT(cfg.console_baud, 4000000);
	EXPECT_OK("console.baud = 9600\n");
	EXPECT_ERR("console.baud = 1234\n", 1, "console.baud: `1234` is not "
		   "one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, "
		   "921600, 1000000, 1500000, 2000000, 3000000, 4000000");
	CHECK_EQ_INT(parse("console.baud = 0\n"), -EBADMSG);
	CHECK_EQ_INT(parse("console.baud = -9600\n"), -EBADMSG);
	CHECK_EQ_INT(parse("console.baud = 9600 baud\n"), -EBADMSG);
	CHECK_EQ_INT(parse("console.baud = 99999999999999999999999\n"),
		     -EBADMSG);
}

/* "key = /ppp...p" with a path of n bytes. */
static const char *path_line(const char *key, size_t n)
{
	static char line[CONFIG_LINE_MAX];
	size_t k = (size_t)snprintf(line, sizeof line, "%s = /", key);

	memset(line + k, 'p', n - 1);
	line[k + n - 1] = '\0';
	return line;
}

TEST(paths)
{
	EXPECT_OK("watchdog.device = none\n");
	CHECK_EQ_STR(cfg.watchdog_device, "");
	EXPECT_OK(path_line("data.dir", CONFIG_PATH_MAX - 1));
	CHECK_EQ_INT(strlen(cfg.data_dir), CONFIG_PATH_MAX - 1);
	EXPECT_ERR(path_line("data.dir", CONFIG_PATH_MAX), 1, "data.dir: path "
		   "has 128 bytes; at most 127");
	EXPECT_ERR("data.dir = none\n", 1, "data.dir: `none` is not an "
		   "absolute path");
	EXPECT_ERR("data.dir = var/lib/vigil\n", 1, "data.dir: `var/lib/vigil` "
		   "is not an absolute path");
	EXPECT_ERR("led.status = leds/a\n", 1, "led.status: `leds/a` is not an "
		   "absolute path or `none`");
	EXPECT_ERR("led.status = None\n", 1, "led.status: `None` is not an "
		   "absolute path or `none`");
}

TEST(device_name)
{
	char line[128];

	snprintf(line, sizeof line, "device.name = %063d", 7);
	EXPECT_OK(line);
	CHECK_EQ_INT(strlen(cfg.device_name), 63);
	snprintf(line, sizeof line, "device.name = %064d", 7);
	EXPECT_ERR(line, 1, "device.name: 64 characters; must be 0..63");
	EXPECT_ERR("device.name = \"a b\"\n", 1, "device.name: byte 0x20 is "
		   "not allowed (only A-Z a-z 0-9 ._-)");
	EXPECT_ERR("device.name = a/b\n", 1, "device.name: `/` is not allowed "
		   "(only A-Z a-z 0-9 ._-)");
	EXPECT_ERR("device.name = caf\xc3\xa9\n", 1, "device.name: byte 0xc3 "
		   "is not allowed (only A-Z a-z 0-9 ._-)");
}

/* ---- errors: many, ordered, bounded ---- */

TEST(every_error_is_listed_up_to_the_bound)
{
	char *p = big;

	for (int i = 0; i < 40; i++)
		p += sprintf(p, "log.level = x%d\n# fine\n", i);
	CHECK_EQ_INT(parse(big), -EBADMSG);
	CHECK_EQ_INT(errs.count, CONFIG_ERRORS_MAX);
	CHECK_EQ_INT(errs.dropped, 40 - CONFIG_ERRORS_MAX);
	/* the first sets the key, the rest are duplicates of line 1 */
	CHECK_EQ_STR(errs.e[0].msg, "log.level: `x0` is not one of err, warn, "
		     "info, debug");
	for (unsigned i = 0; i < errs.count; i++)
		CHECK_EQ_INT(errs.e[i].line, 2 * i + 1);
	CHECK_EQ_STR(errs.e[1].msg, "log.level: already set on line 1");
	/* errs NULL: same verdict, nothing recorded */
	CHECK_EQ_INT(config_parse(&cfg, big, strlen(big), NULL), -EBADMSG);
}

TEST(file_size_limit_is_exact)
{
	memset(big, '\n', sizeof big);
	CHECK_EQ_INT(config_parse(&cfg, big, CONFIG_FILE_MAX, &errs), 0);
	big[CONFIG_FILE_MAX - 1] = 'x'; /* last line: "x", no '=' */
	CHECK_EQ_INT(config_parse(&cfg, big, CONFIG_FILE_MAX, &errs), -EBADMSG);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, CONFIG_FILE_MAX);
	CHECK_EQ_INT(config_parse(&cfg, big, CONFIG_FILE_MAX + 1, &errs),
		     -EMSGSIZE);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, 0);
	CHECK_EQ_STR(errs.e[0].msg, "file has 16385 bytes; at most 16384 are "
		     "allowed");
}

TEST(parse_misuse_is_einval)
{
	errs.count = 5;
	CHECK_EQ_INT(config_parse(NULL, "", 0, &errs), -EINVAL);
	CHECK_EQ_INT(errs.count, 0);
	CHECK_EQ_INT(config_parse(&cfg, NULL, 1, &errs), -EINVAL);
	CHECK_EQ_INT(errs.count, 0);
}

/* ---- files (sim storage) ---- */

static const char *file_in(const char *dir, const char *name)
{
	static char path[HAL_PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

TEST(load_valid_and_invalid_files)
{
	const char *dir = test_tmpdir();
	const char *good = "log.level = warn\nwatchdog.timeout = 10\n";
	const char *bad = "log.level = warn\nwatchdog.timeout = 0\n";
	char path[HAL_PATH_MAX];

	snprintf(path, sizeof path, "%s", file_in(dir, "good.conf"));
	REQUIRE(hal_storage_write_atomic(path, good, strlen(good), 0644) == 0);
	CHECK_EQ_INT(config_load(&cfg, path, &errs), 0);
	CHECK_EQ_INT(cfg.log_level, LOG_WARN);
	CHECK_EQ_INT(cfg.watchdog_timeout_ms, 10000);
	snprintf(path, sizeof path, "%s", file_in(dir, "bad.conf"));
	REQUIRE(hal_storage_write_atomic(path, bad, strlen(bad), 0644) == 0);
	CHECK_EQ_INT(config_load(&cfg, path, &errs), -EBADMSG);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, 2);
	CHECK_EQ_STR(errs.e[0].key, "watchdog.timeout");
}

TEST(load_unreadable_files)
{
	const char *dir = test_tmpdir();
	char path[HAL_PATH_MAX];

	CHECK_EQ_INT(config_load(&cfg, file_in(dir, "absent"), &errs), -ENOENT);
	REQUIRE(errs.count == 1);
	CHECK_EQ_INT(errs.e[0].line, 0);
	CHECK_EQ_STR(errs.e[0].msg, "cannot read: No such file or directory");
	CHECK_EQ_INT(config_load(&cfg, dir, &errs), -EISDIR);
	REQUIRE(errs.count == 1);
	CHECK_EQ_STR(errs.e[0].msg, "cannot read: Is a directory");
	memset(big, '#', sizeof big);
	snprintf(path, sizeof path, "%s", file_in(dir, "big.conf"));
	REQUIRE(hal_storage_write_atomic(path, big, CONFIG_FILE_MAX + 1,
					 0644) == 0);
	CHECK_EQ_INT(config_load(&cfg, path, &errs), -EMSGSIZE);
	REQUIRE(errs.count == 1);
	CHECK_EQ_STR(errs.e[0].msg, "file is larger than 16384 bytes");
	CHECK_EQ_INT(config_load(&cfg, path, NULL), -EMSGSIZE);
	CHECK_EQ_INT(config_load(NULL, path, &errs), -EINVAL);
	CHECK_EQ_INT(config_load(&cfg, NULL, &errs), -EINVAL);
	CHECK_EQ_INT(errs.count, 0);
}

TEST(load_exactly_the_largest_file)
{
	const char *path = file_in(test_tmpdir(), "max.conf");
	size_t n = CONFIG_FILE_MAX;

	memset(big, '\n', sizeof big);
	memcpy(big + n - 17, "log.level = warn\n", 17);
	REQUIRE(hal_storage_write_atomic(path, big, n, 0644) == 0);
	CHECK_EQ_INT(config_load(&cfg, path, &errs), 0);
	CHECK_EQ_INT(cfg.log_level, LOG_WARN);
}

/* ---- single keys ---- */

TEST(set_validates_and_leaves_c_alone_on_error)
{
	char err[CONFIG_ERR_MSG_MAX];
	struct config before;

	config_defaults(&cfg);
	CHECK_EQ_INT(config_set(&cfg, "watchdog.timeout", "45s", err,
				sizeof err), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(cfg.watchdog_timeout_ms, 45000);
	before = cfg;
	CHECK_EQ_INT(config_set(&cfg, "watchdog.timeout", "0", err, sizeof err),
		     -EBADMSG);
	CHECK_EQ_STR(err, "watchdog.timeout: `0` is out of range 1s..1h");
	CHECK_EQ_INT(config_set(&cfg, "data.dir", "", err, sizeof err),
		     -EBADMSG);
	CHECK_EQ_STR(err, "data.dir: empty value (expected an absolute path)");
	CHECK_EQ_INT(config_set(&cfg, "data.dir", "/a\tb", err, sizeof err),
		     -EBADMSG);
	CHECK_EQ_STR(err, "data.dir: control byte 0x09 in the path");
	CHECK_EQ_INT(config_set(&cfg, "data.dir", "/a\nb", err, 0), -EBADMSG);
	CHECK(same(&cfg, &before));
	CHECK_EQ_INT(config_set(&cfg, "log.lvl", "info", err, sizeof err),
		     -ENOENT);
	CHECK_EQ_STR(err, "unknown key `log.lvl` (did you mean `log.level`?)");
	CHECK_EQ_INT(config_set(&cfg, "log.lvl", "info", err, 8), -ENOENT);
	CHECK_EQ_STR(err, "unknown");
	CHECK_EQ_INT(config_set(&cfg, "", "info", NULL, 0), -ENOENT);
	CHECK_EQ_INT(config_set(NULL, "log.level", "info", err, sizeof err),
		     -EINVAL);
	CHECK_EQ_INT(config_set(&cfg, NULL, "info", err, sizeof err), -EINVAL);
	CHECK_EQ_INT(config_set(&cfg, "log.level", NULL, err, sizeof err),
		     -EINVAL);
	CHECK_EQ_STR(err, "missing key or value");
	/* the console passes values literally: no quotes, no comments */
	CHECK_EQ_INT(config_set(&cfg, "data.dir", "/x #y \"z\"", NULL, 0), 0);
	CHECK_EQ_STR(cfg.data_dir, "/x #y \"z\"");
	CHECK_EQ_INT(config_set(&cfg, "device.name", "", NULL, 0), 0);
}

TEST(get_canonical_forms)
{
	char v[CONFIG_VALUE_MAX];

	REQUIRE(parse("watchdog.timeout = 120\nlog.syslog = on\n"
		      "led.status = none\ndevice.name = n1\n") == 0);
	CHECK_EQ_INT(config_get(&cfg, "watchdog.timeout", v, sizeof v), 2);
	CHECK_EQ_STR(v, "2m");
	CHECK_EQ_INT(config_get(&cfg, "log.syslog", v, sizeof v), 4);
	CHECK_EQ_STR(v, "true");
	CHECK_EQ_INT(config_get(&cfg, "log.stderr", v, sizeof v), 4);
	CHECK_EQ_INT(config_get(&cfg, "log.level", v, sizeof v), 4);
	CHECK_EQ_STR(v, "info");
	CHECK_EQ_INT(config_get(&cfg, "led.status", v, sizeof v), 4);
	CHECK_EQ_STR(v, "none");
	CHECK_EQ_INT(config_get(&cfg, "console.baud", v, sizeof v), 6);
	CHECK_EQ_STR(v, "115200");
	CHECK_EQ_INT(config_get(&cfg, "device.name", v, 3), 2);
	CHECK_EQ_STR(v, "n1");
	CHECK_EQ_INT(config_get(&cfg, "device.name", v, 2), -ENOSPC);
	CHECK_EQ_STR(v, "");
	CHECK_EQ_INT(config_get(&cfg, "device.name", NULL, 0), -ENOSPC);
	strcpy(v, "junk");
	CHECK_EQ_INT(config_get(&cfg, "nope", v, sizeof v), -ENOENT);
	CHECK_EQ_STR(v, "");
	CHECK_EQ_INT(config_get(NULL, "log.level", v, sizeof v), -EINVAL);
	CHECK_EQ_INT(config_get(&cfg, NULL, v, sizeof v), -EINVAL);
	CHECK_EQ_INT(config_get(&cfg, "log.level", NULL, 4), -EINVAL);
	CHECK_EQ_INT(config_set(&cfg, "watchdog.timeout", "3600", NULL, 0), 0);
	CHECK_EQ_INT(config_get(&cfg, "watchdog.timeout", v, sizeof v), 2);
	CHECK_EQ_STR(v, "1h");
	CHECK_EQ_INT(config_set(&cfg, "watchdog.timeout", "90", NULL, 0), 0);
	CHECK_EQ_INT(config_get(&cfg, "watchdog.timeout", v, sizeof v), 3);
	CHECK_EQ_STR(v, "90s");
}

/* ---- writing ---- */

static char out[CONFIG_FORMAT_MAX];

TEST(format_writes_only_changed_keys)
{
	static const char head[] = "# vigild configuration, written by vigild "
		"(docs/config.md).\n# Keys not listed have their built-in "
		"defaults.\n";
	struct config d, back;
	int n;

	config_defaults(&d);
	n = config_format(&d, out, sizeof out);
	CHECK_EQ_INT(n, (int)strlen(head));
	CHECK_EQ_STR(out, head);
	REQUIRE(parse("log.level = debug\nwatchdog.timeout = 90\n"
		      "log.stderr = true\n") == 0);
	n = config_format(&cfg, out, sizeof out);
	REQUIRE(n > 0);
	CHECK_EQ_STR(out + strlen(head), "log.level = debug\n"
		     "watchdog.timeout = 90s\n");
	CHECK_EQ_INT(config_parse(&back, out, (size_t)n, &errs), 0);
	CHECK(same(&back, &cfg));
}

TEST(format_quotes_what_the_syntax_needs)
{
	struct config back;
	int n;

	config_defaults(&cfg);
	REQUIRE(config_set(&cfg, "data.dir", "/a #b", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "watchdog.device", "/\"q\\", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "console.device", "/x ", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "led.status", "/a#b", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "system.thermal_zone", "/a\"b\\c", NULL,
			   0) == 0);
	n = config_format(&cfg, out, sizeof out);
	REQUIRE(n > 0);
	CHECK(strstr(out, "\ndata.dir = \"/a #b\"\n") != NULL);
	CHECK(strstr(out, "\nwatchdog.device = /\"q\\\n") != NULL);
	CHECK(strstr(out, "\nconsole.device = \"/x \"\n") != NULL);
	CHECK(strstr(out, "\nled.status = \"/a#b\"\n") != NULL);
	CHECK(strstr(out, "\nsystem.thermal_zone = /a\"b\\c\n") != NULL);
	CHECK_EQ_INT(config_parse(&back, out, (size_t)n, &errs), 0);
	CHECK(same(&back, &cfg));
}

TEST(format_worst_case_fits_and_parses_back)
{
	static const char *const paths[] = { "data.dir", "watchdog.device",
		"console.device", "led.status", "system.thermal_zone" };
	char p[CONFIG_PATH_MAX], name[CONFIG_NAME_MAX];
	struct config back;
	int n;

	/* every path at its longest, needing quotes and full escaping */
	p[0] = '/';
	memset(p + 1, '"', sizeof p - 2);
	p[sizeof p - 2] = '#';
	p[sizeof p - 1] = '\0';
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	config_defaults(&cfg);
	for (unsigned i = 0; i < sizeof paths / sizeof paths[0]; i++)
		REQUIRE(config_set(&cfg, paths[i], p, NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "device.name", name, NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "log.level", "debug", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "log.stderr", "no", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "log.syslog", "yes", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "console.baud", "4000000", NULL, 0) == 0);
	REQUIRE(config_set(&cfg, "watchdog.timeout", "3599", NULL, 0) == 0);
	n = config_format(&cfg, out, sizeof out);
	REQUIRE(n > 0);
	CHECK((size_t)n < CONFIG_FORMAT_MAX);
	CHECK_EQ_INT(config_parse(&back, out, (size_t)n, &errs), 0);
	if (errs.count)
		CHECK_EQ_STR(errs.e[0].msg, "");
	CHECK(same(&back, &cfg));
	config_defaults(&back);
	CHECK_EQ_INT(config_diff(&back, &cfg, NULL, NULL), 11);
}

TEST(format_enospc_commits_nothing)
{
	int n;

	REQUIRE(parse("log.level = debug\n") == 0);
	n = config_format(&cfg, out, sizeof out);
	REQUIRE(n > 0);
	CHECK_EQ_INT(config_format(&cfg, out, (size_t)n + 1), n);
	CHECK_EQ_INT(config_format(&cfg, out, (size_t)n), -ENOSPC);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(config_format(&cfg, out, 1), -ENOSPC);
	CHECK_EQ_INT(config_format(&cfg, NULL, 0), -ENOSPC);
	CHECK_EQ_INT(config_format(&cfg, NULL, 5), -EINVAL);
	CHECK_EQ_INT(config_format(NULL, out, sizeof out), -EINVAL);
}

TEST(save_then_load)
{
	const char *dir = test_tmpdir();
	char path[HAL_PATH_MAX];
	struct config back;

	snprintf(path, sizeof path, "%s", file_in(dir, "vigil.conf"));
	REQUIRE(parse("device.name = box\nconsole.baud = 9600\n") == 0);
	CHECK_EQ_INT(config_save(&cfg, path), 0);
	CHECK_EQ_INT(config_load(&back, path, &errs), 0);
	CHECK(same(&back, &cfg));
	CHECK_EQ_INT(config_save(&cfg, file_in(dir, "no/such/dir.conf")),
		     -ENOENT);
	hal_sim_storage_set_readonly(1);
	CHECK_EQ_INT(config_save(&cfg, path), -EROFS);
	hal_sim_storage_set_readonly(0);
	CHECK_EQ_INT(config_save(NULL, path), -EINVAL);
	CHECK_EQ_INT(config_save(&cfg, NULL), -EINVAL);
}

/* ---- reload: diff ---- */

struct seen_changes {
	unsigned n;
	char text[4][96];
};

static void collect(const char *key, const char *o, const char *n, void *arg)
{
	struct seen_changes *s = arg;

	if (s->n < 4)
		snprintf(s->text[s->n], sizeof s->text[0], "%s: %s -> %s", key,
			 o, n);
	s->n++;
}

TEST(diff_reports_changed_keys_in_table_order)
{
	static const char text[] = "watchdog.timeout = 45s\n"
		"led.status = /sys/class/leds/x\nlog.level = debug\n";
	struct seen_changes s = { 0 };
	struct config running, fresh;

	config_defaults(&running);
	CHECK_EQ_INT(config_diff(&running, &running, collect, &s), 0);
	CHECK_EQ_INT(s.n, 0);
	REQUIRE(config_parse(&fresh, text, sizeof text - 1, &errs) == 0);
	CHECK_EQ_INT(config_diff(&running, &fresh, collect, &s), 3);
	REQUIRE(s.n == 3);
	CHECK_EQ_STR(s.text[0], "log.level: info -> debug");
	CHECK_EQ_STR(s.text[1], "watchdog.timeout: 30s -> 45s");
	CHECK_EQ_STR(s.text[2], "led.status: none -> /sys/class/leds/x");
	CHECK_EQ_INT(config_diff(&running, &fresh, NULL, NULL), 3);
	CHECK_EQ_INT(config_diff(NULL, &fresh, NULL, NULL), -EINVAL);
	CHECK_EQ_INT(config_diff(&running, NULL, NULL, NULL), -EINVAL);
}

TEST(diff_hides_secret_values)
{
	static const char text[] = "console.password_hash = sha256$00$11\n";
	struct seen_changes s = { 0 };
	struct config running, fresh;

	config_defaults(&running);
	REQUIRE(config_parse(&fresh, text, sizeof text - 1, &errs) == 0);
	CHECK_EQ_INT(config_diff(&running, &fresh, collect, &s), 1);
	CHECK_EQ_STR(s.text[0], "console.password_hash: <hidden> -> <hidden>");
}

TEST(invalid_reload_keeps_the_running_config)
{
	static const char text[] = "log.level = debug\nbogus = 1\n";
	struct config running, scratch, before;

	REQUIRE(parse("log.level = warn\n") == 0);
	running = cfg;
	before = running;
	/* the agent's pattern: parse into scratch, copy only when valid */
	if (config_parse(&scratch, text, sizeof text - 1, &errs) == 0)
		running = scratch;
	CHECK(same(&running, &before));
	CHECK_EQ_INT(errs.count, 1);
	CHECK_EQ_INT(errs.e[0].line, 2);
}

TEST_SUITE(config,
	   defaults_come_from_the_board, empty_file_gives_the_defaults,
	   every_key_is_named_helped_and_round_trips,
	   full_file_with_comments_crlf_bom_and_tabs, comment_rules,
	   quoted_values, crlf_and_carriage_returns, control_bytes_are_errors,
	   line_length_limit_is_exact, missing_equals_and_missing_key,
	   unknown_keys_get_a_hint_when_close,
	   unknown_key_hints_match_a_full_distance_table, duplicate_keys,
	   empty_values,
	   bool_spellings, enum_words, duration_units_and_bounds,
	   baud_rate_set, paths, device_name,
	   every_error_is_listed_up_to_the_bound, file_size_limit_is_exact,
	   parse_misuse_is_einval, load_valid_and_invalid_files,
	   load_unreadable_files, load_exactly_the_largest_file,
	   set_validates_and_leaves_c_alone_on_error, get_canonical_forms,
	   format_writes_only_changed_keys, format_quotes_what_the_syntax_needs,
	   format_worst_case_fits_and_parses_back,
	   format_enospc_commits_nothing, save_then_load,
	   diff_reports_changed_keys_in_table_order, diff_hides_secret_values,
	   invalid_reload_keeps_the_running_config)

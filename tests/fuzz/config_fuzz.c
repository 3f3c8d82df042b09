/*
 * config_fuzz.c — libFuzzer target for the configuration parser and
 * writer (firmware/config/config.c, config_keys.c): arbitrary bytes as a file.
 *
 * Properties checked (__builtin_trap on violation):
 *   - the verdict is 0, -EBADMSG, or -EMSGSIZE exactly when the input is
 *     larger than CONFIG_FILE_MAX; 0 exactly when no error was found;
 *   - errors are bounded (count <= CONFIG_ERRORS_MAX), at most one per
 *     line, in line order, each line number within the input's line
 *     count (0 only for the whole-file error), each message non-empty,
 *     NUL-terminated and printable ASCII, each key printable ASCII;
 *   - parsing is deterministic and does not depend on errs being given;
 *   - a valid parse written by config_format (which must fit
 *     CONFIG_FORMAT_MAX) parses back to the same struct (memcmp and
 *     config_diff), and formatting that gives the same text again;
 *   - every key's config_get text sets back to the same struct;
 *   - config_set with a key picked by the first byte and the rest as a
 *     value either succeeds, and then its canonical text sets back to
 *     the same struct, or fails with a message and changes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

static struct config_errors errs, errs2;
static char text[CONFIG_FORMAT_MAX], text2[CONFIG_FORMAT_MAX];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	require(n < cap);
	for (size_t i = 0; i < n; i++)
		require(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check_errors(const uint8_t *data, size_t size, int ret)
{
	unsigned lines = 0, prev = 0;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	lines += size > 0 && data[size - 1] != '\n';
	require(errs.count <= CONFIG_ERRORS_MAX);
	require((ret == 0) == (errs.count == 0 && errs.dropped == 0));
	require(errs.dropped == 0 || errs.count == CONFIG_ERRORS_MAX);
	if (ret == -EMSGSIZE) {
		require(errs.count == 1 && errs.e[0].line == 0);
		return;
	}
	for (unsigned i = 0; i < errs.count; i++) {
		const struct config_error *e = &errs.e[i];

		require(e->line >= 1 && e->line <= lines && e->line > prev);
		prev = e->line;
		printable(e->msg, sizeof e->msg);
		require(e->msg[0] != '\0');
		printable(e->key, sizeof e->key);
	}
}

static void round_trip(const struct config *c)
{
	struct config back;
	int n = config_format(c, text, sizeof text), m;

	require(n >= 0 && (size_t)n < CONFIG_FORMAT_MAX);
	require(config_parse(&back, text, (size_t)n, &errs2) == 0);
	require(memcmp(&back, c, sizeof back) == 0);
	require(config_diff(&back, c, NULL, NULL) == 0);
	m = config_format(&back, text2, sizeof text2);
	require(m == n && memcmp(text, text2, (size_t)n) == 0);
}

static void get_set_agree(const struct config *c)
{
	char v[CONFIG_VALUE_MAX];
	struct config copy = *c;

	for (unsigned i = 0; i < config_key_count(); i++) {
		const char *k = config_key_name(i);

		require(config_get(c, k, v, sizeof v) >= 0);
		require(config_set(&copy, k, v, NULL, 0) == 0);
	}
	require(memcmp(&copy, c, sizeof copy) == 0);
}

static void set_one(const struct config *c, const uint8_t *data,
		    size_t size)
{
	char value[CONFIG_LINE_MAX + 1], err[CONFIG_ERR_MSG_MAX];
	char v[CONFIG_VALUE_MAX];
	struct config copy = *c, again;
	const char *k;
	size_t n = size - 1 < CONFIG_LINE_MAX ? size - 1 : CONFIG_LINE_MAX;
	int ret;

	k = config_key_name(data[0] % config_key_count());
	memcpy(value, data + 1, n);
	value[n] = '\0'; /* an embedded NUL just ends the value early */
	ret = config_set(&copy, k, value, err, sizeof err);
	require(ret == 0 || ret == -EBADMSG);
	if (ret < 0) {
		require(memcmp(&copy, c, sizeof copy) == 0);
		printable(err, sizeof err);
		require(err[0] != '\0');
		return;
	}
	require(err[0] == '\0');
	require(config_get(&copy, k, v, sizeof v) >= 0);
	again = copy;
	require(config_set(&again, k, v, NULL, 0) == 0);
	require(memcmp(&again, &copy, sizeof again) == 0);
	round_trip(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c, c2;
	const char *t = (const char *)data;
	int ret = config_parse(&c, t, size, &errs);

	require(ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE);
	require((ret == -EMSGSIZE) == (size > CONFIG_FILE_MAX));
	check_errors(data, size, ret);
	require(config_parse(&c2, t, size, NULL) == ret);
	require(memcmp(&c, &c2, sizeof c) == 0);
	require(config_parse(&c2, t, size, &errs2) == ret);
	require(errs2.count == errs.count && errs2.dropped == errs.dropped);
	for (unsigned i = 0; i < errs.count; i++)
		require(errs2.e[i].line == errs.e[i].line &&
			!strcmp(errs2.e[i].key, errs.e[i].key) &&
			!strcmp(errs2.e[i].msg, errs.e[i].msg));
	if (ret == 0) {
		round_trip(&c);
		get_set_agree(&c);
	} else {
		config_defaults(&c);
	}
	if (size > 0)
		set_one(&c, data, size);
	return 0;
}

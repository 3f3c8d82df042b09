/*
 * v3_name_fuzz.c — libFuzzer target for CyberBackup v3 names
 * (protocol/v3_name.c): the deployed servers' file-name rule and the
 * path <-> name codec.
 *
 * Properties checked on the input (__builtin_trap on violation):
 *   - as a name: v3_file_name_check accepts it exactly when an
 *     independent restatement of the deployed rule (protocol text,
 *     "Variants") does, plus vigil's refusal of ".";
 *   - as a path (as is, and with a '/' in front): a mapped name passes
 *     that rule, is at most V3_NAME_MAX characters, and unmaps to exactly
 *     the path;
 *   - as a name: when it unmaps, the rule accepted it and the path maps
 *     back to exactly the input (so no two names unmap to one path);
 *     when it does not, the reason is set and the error is -EBADMSG.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "v3.h"

#define PATH_MAX_IN 1024

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* The part before the last '.' (the whole name without one), upper-
 * cased, is CON, PRN, AUX, NUL, COM1-COM9 or LPT1-LPT9. */
static int model_device(const uint8_t *s, size_t n)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL" };
	size_t stem = n;
	char b[5] = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			stem = i;
	}
	if (stem != 3 && stem != 4)
		return 0;
	for (size_t i = 0; i < stem; i++)
		b[i] = (char)upper(s[i]);
	if (stem == 4)
		return (!memcmp(b, "COM", 3) || !memcmp(b, "LPT", 3)) &&
		       b[3] >= '1' && b[3] <= '9';
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(b, dev[i]))
			return 1;
	}
	return 0;
}

/* ^[a-zA-Z0-9._\-\s]+$ with Python's ASCII \s, 1..250 characters, no
 * "..", not a device name; and not ".". */
static int model_rule(const uint8_t *s, size_t n)
{
	if (n < 1 || n > 250 || (n == 1 && s[0] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == ' ' || (c >= 9 && c <= 13)))
			return 0;
		if (i > 0 && c == '.' && s[i - 1] == '.')
			return 0;
	}
	return !model_device(s, n);
}

static void rule(const uint8_t *s, size_t n)
{
	enum v3_reason why = V3_OK;
	int ret = v3_file_name_check((const char *)s, n, &why);

	require(ret == (model_rule(s, n) ? 0 : -EBADMSG));
	require((ret == 0) == (why == V3_OK));
}

static void encode(const char *path, size_t len)
{
	char name[V3_NAME_MAX + 1], back[V3_NAME_MAX + 2];
	enum v3_reason why = V3_OK;
	int n = v3_name_from_path(name, sizeof name, path, len, &why);

	if (n < 0) {
		require(why == V3_E_PATH || why == V3_E_NAME_TOO_LONG);
		return;
	}
	require(n > 0 && (size_t)n == strlen(name) && n <= V3_NAME_MAX);
	require(model_rule((const uint8_t *)name, (size_t)n));
	require(v3_path_from_name(back, sizeof back, name, (size_t)n, NULL) ==
		(int)len);
	require(memcmp(back, path, len) == 0);
}

static void decode(const char *name, size_t len)
{
	char path[V3_NAME_MAX + 2], again[V3_NAME_MAX + 1];
	enum v3_reason why = V3_OK;
	int n = v3_path_from_name(path, sizeof path, name, len, &why);

	if (n < 0) {
		require(n == -EBADMSG && why != V3_OK);
		return;
	}
	require(model_rule((const uint8_t *)name, len));
	require((size_t)n == strlen(path) && path[0] == '/');
	require(v3_name_from_path(again, sizeof again, path, (size_t)n,
				  NULL) == (int)len);
	require(memcmp(again, name, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[PATH_MAX_IN + 1];

	rule(data, size);
	decode((const char *)data, size);
	if (size < PATH_MAX_IN) {
		encode((const char *)data, size);
		path[0] = '/';
		memcpy(path + 1, data, size);
		encode(path, size + 1);
	}
	return 0;
}

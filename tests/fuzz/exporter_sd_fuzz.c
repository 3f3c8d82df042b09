/*
 * exporter_sd_fuzz.c — libFuzzer target for the input files of `vigilctl
 * exporter` (tools/vigilctl_exporter_sd.c): the devices file in
 * Prometheus file_sd JSON form (parsed by jansson, then checked by us)
 * and the --psk-file lines.  The first input byte picks the parser.
 *
 * Properties checked (__builtin_trap on violation):
 *   - the verdicts are a count, -EBADMSG (with a NUL-terminated reason)
 *     or -E2BIG;
 *   - every target is 1..EXP_TARGET_MAX-1 bytes and unique; every label
 *     text is NUL-terminated within EXP_LABELS_MAX and has balanced,
 *     escaped quotes (an even number of unescaped '"');
 *   - PSK entries have a 1..EXP_PSK_ID_MAX identity and a
 *     1..EXP_PSK_KEY_MAX key;
 *   - nothing is read past size (ASan), nothing leaks (LeakSanitizer).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/vigilctl_exporter.h"

#define CAP 64

static struct exp_target targets[CAP];
static struct exp_psk psks[CAP];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_labels(const char *l)
{
	size_t n = strnlen(l, EXP_LABELS_MAX), quotes = 0;

	require(n < EXP_LABELS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (l[i] == '\\') {
			require(i + 1 < n && strchr("\\\"n", l[i + 1]));
			i++;
		} else if (l[i] == '"') {
			quotes++;
		} else {
			require(l[i] != '\n');
		}
	}
	require(quotes % 2 == 0);
}

static void check_sd(const char *buf, size_t len)
{
	char err[128];
	int n = exp_sd_parse(buf, len, targets, CAP, err, sizeof err);

	require(n >= 0 || n == -EBADMSG || n == -E2BIG);
	if (n == -EBADMSG)
		require(memchr(err, '\0', sizeof err) != NULL);
	for (int i = 0; i < n; i++) {
		size_t tl = strnlen(targets[i].target, EXP_TARGET_MAX);

		require(tl > 0 && tl < EXP_TARGET_MAX);
		check_labels(targets[i].labels);
		for (int j = 0; j < i; j++)
			require(strcmp(targets[i].target, targets[j].target));
	}
}

static void check_psk(const char *buf, size_t len)
{
	char err[128];
	int n = exp_psk_parse(buf, len, psks, CAP, err, sizeof err);

	require(n >= 0 || n == -EBADMSG || n == -E2BIG);
	for (int i = 0; i < n; i++) {
		size_t il = strnlen(psks[i].id, EXP_PSK_ID_MAX + 1);

		require(il > 0 && il <= EXP_PSK_ID_MAX);
		require(psks[i].key_len > 0 && psks[i].key_len <= EXP_PSK_KEY_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		check_psk((const char *)data + 1, size - 1);
	else
		check_sd((const char *)data + 1, size - 1);
	return 0;
}

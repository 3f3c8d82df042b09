/*
 * psk_fuzz.c — libFuzzer target for the "identity:hexkey" parser
 * (lib/psk.c) behind coap.psk, tls.psk and vigil-backupd's
 * --tls-psk file.
 *
 * Properties checked (__builtin_trap on violation):
 *   - the verdict is 0 or -EINVAL;
 *   - on success the identity is 1..PSK_ID_MAX printable bytes without
 *     ':' ',' or space, NUL-terminated, equal to the input before the
 *     first ':'; the key is 1..PSK_KEY_MAX bytes and printing it as hex
 *     gives back the input after the ':' (ignoring case);
 *   - the parse reads nothing past size (ASan).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "psk.h"

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_ok(const char *in, size_t size, const struct psk *k)
{
	char hex[3];

	require(k->idlen >= 1 && k->idlen <= PSK_ID_MAX);
	require(k->keylen >= 1 && k->keylen <= PSK_KEY_MAX);
	require(k->id[k->idlen] == '\0' && strlen(k->id) == k->idlen);
	require(memcmp(k->id, in, k->idlen) == 0 && in[k->idlen] == ':');
	for (size_t i = 0; i < k->idlen; i++)
		require(k->id[i] > ' ' && k->id[i] <= '~' && k->id[i] != ',' &&
			k->id[i] != ':');
	require(size == k->idlen + 1u + 2u * k->keylen);
	for (size_t i = 0; i < k->keylen; i++) {
		const char *h = in + k->idlen + 1 + 2 * i;

		snprintf(hex, sizeof hex, "%02x", k->key[i]);
		require(tolower((unsigned char)h[0]) == hex[0] &&
			tolower((unsigned char)h[1]) == hex[1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psk k;
	int ret = psk_parse((const char *)data, size, &k);

	require(ret == 0 || ret == -EINVAL);
	if (ret == 0)
		check_ok((const char *)data, size, &k);
	return 0;
}

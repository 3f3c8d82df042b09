/*
 * psk.c — see psk.h.
 */
#include "psk.h"

#include <errno.h>
#include <string.h>

#include "hex.h"
#include "mbedtls/platform_util.h"

/* see psk.h */
int psk_parse(const char *p, size_t n, struct psk *out)
{
	const char *colon = memchr(p, ':', n);
	size_t il, hl;

	if (!colon)
		return -EINVAL;
	il = (size_t)(colon - p);
	hl = n - il - 1;
	if (il == 0 || il > PSK_ID_MAX || hl == 0 || hl % 2 ||
	    hl / 2 > PSK_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < il; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == ',' || p[i] == ':')
			return -EINVAL;
	memset(out, 0, sizeof *out);
	memcpy(out->id, p, il);
	out->idlen = (uint8_t)il;
	out->keylen = (uint8_t)(hl / 2);
	for (size_t i = 0; i < hl / 2; i++) {
		int hi = hex_digit(colon[1 + 2 * i]);
		int lo = hex_digit(colon[2 + 2 * i]);

		if (hi < 0 || lo < 0) {
			mbedtls_platform_zeroize(out, sizeof *out);
			return -EINVAL;
		}
		out->key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* see psk.h */
const struct psk *psk_find(const struct psk *tab, unsigned n, const void *id,
			   size_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (tab[i].idlen == len && memcmp(tab[i].id, id, len) == 0)
			return &tab[i];
	return NULL;
}

/*
 * coap_dtls_psk.c — see coap_dtls.h: the coap.psk syntax and the key
 * table the PSK callback (coap_dtls.c) reads.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "hex.h"
#include "mbedtls/platform_util.h"

/* One "identity:hexkey" of length n. */
static int parse_pair(const char *p, size_t n, struct coap_dtls_psk *out)
{
	const char *colon = memchr(p, ':', n);
	size_t il, hl;

	if (!colon)
		return -EINVAL;
	il = (size_t)(colon - p);
	hl = n - il - 1;
	if (il == 0 || il > COAP_DTLS_ID_MAX || hl == 0 || hl % 2 ||
	    hl / 2 > COAP_DTLS_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < il; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == ',')
			return -EINVAL;
	memset(out, 0, sizeof *out);
	memcpy(out->id, p, il);
	out->idlen = (uint8_t)il;
	out->keylen = (uint8_t)(hl / 2);
	for (size_t i = 0; i < hl / 2; i++) {
		int hi = hex_digit(colon[1 + 2 * i]), lo = hex_digit(colon[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out->key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One identity:key; an identity given twice is an error. */
static int psk_item(void *ctx, unsigned i, const char *p, size_t n)
{
	struct coap_dtls_psk *out = ctx;

	if (parse_pair(p, n, &out[i]) < 0)
		return -EINVAL;
	for (unsigned k = 0; k < i; k++)
		if (out[k].idlen == out[i].idlen &&
		    !memcmp(out[k].id, out[i].id, out[i].idlen))
			return -EINVAL;
	return 0;
}

/* see coap_dtls.h */
int coap_dtls_parse_psk(const char *text, struct coap_dtls_psk *out,
			unsigned max)
{
	if (!text || !out)
		return -EINVAL;
	return coap_cfg_list(text, psk_item, out, max);
}

/* see coap_dtls.h */
int coap_dtls_set_keys(struct coap_srv *s, const char *psk)
{
	struct coap_dtls_psk tmp[COAP_DTLS_PSK_MAX];
	int n = coap_dtls_parse_psk(psk, tmp, COAP_DTLS_PSK_MAX);

	if (n >= 0) {
		mbedtls_platform_zeroize(s->dtls.psk, sizeof s->dtls.psk);
		memcpy(s->dtls.psk, tmp, sizeof tmp);
		s->dtls.npsk = (unsigned)n;
	}
	mbedtls_platform_zeroize(tmp, sizeof tmp);
	return n < 0 ? n : 0;
}

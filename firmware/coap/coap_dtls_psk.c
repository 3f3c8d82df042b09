/*
 * coap_dtls_psk.c — see coap_dtls.h: the coap.psk syntax and the key
 * table the PSK callback (coap_dtls.c) reads.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "mbedtls/platform_util.h"

/* One identity:key; an identity given twice is an error. */
static int psk_item(void *ctx, unsigned i, const char *p, size_t n)
{
	struct psk *out = ctx;

	if (psk_parse(p, n, &out[i]) < 0 ||
	    psk_find(out, i, out[i].id, out[i].idlen) != NULL)
		return -EINVAL;
	return 0;
}

/* see coap_dtls.h */
int coap_dtls_parse_psk(const char *text, struct psk *out,
			unsigned max)
{
	if (!text || !out)
		return -EINVAL;
	return coap_cfg_list(text, psk_item, out, max);
}

/* see coap_dtls.h */
int coap_dtls_set_keys(struct coap_srv *s, const char *psk)
{
	struct psk tmp[COAP_DTLS_PSK_MAX];
	int n = coap_dtls_parse_psk(psk, tmp, COAP_DTLS_PSK_MAX);

	if (n >= 0) {
		mbedtls_platform_zeroize(s->dtls.psk, sizeof s->dtls.psk);
		memcpy(s->dtls.psk, tmp, sizeof tmp);
		s->dtls.npsk = (unsigned)n;
	}
	mbedtls_platform_zeroize(tmp, sizeof tmp);
	return n < 0 ? n : 0;
}

/*
 * backupd_crypto.c — the server's v3 crypto with mbedTLS: session keys
 * wrapped with RSA-OAEP-SHA256 (SHA-1 for the original C++ client) for
 * the client's SPKI, and streaming
 * AES-256-CBC (zero IV, PKCS#7) decryption of received files.
 *
 * The server is not the agent: mbedTLS uses the C library's allocator
 * here, but only for a parsed public key that lives for one call.
 */
#include "backupd.h"

#include <errno.h>
#include <string.h>

#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "psa/crypto.h"

#include "hal/rng.h"

/* see backupd.h */
int bd_random(uint8_t *p, size_t n)
{
	return hal_rng_fill(p, n) == 0 ? 0 : -EIO;
}

static int bd_rng_cb(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return bd_random(out, len) == 0 ? 0 : -1;
}

/* PSA's random source (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG in the build's
 * mbedTLS configuration). */
psa_status_t mbedtls_psa_external_get_random(
	mbedtls_psa_external_random_context_t *ctx, uint8_t *out, size_t size,
	size_t *out_len);
psa_status_t mbedtls_psa_external_get_random(
	mbedtls_psa_external_random_context_t *ctx, uint8_t *out, size_t size,
	size_t *out_len)
{
	(void)ctx;
	if (bd_random(out, size) != 0)
		return PSA_ERROR_INSUFFICIENT_ENTROPY;
	*out_len = size;
	return PSA_SUCCESS;
}

/* see backupd.h */
int bd_crypto_init(void)
{
	return psa_crypto_init() == PSA_SUCCESS ? 0 : -EIO;
}

/* Parses spki into pk and checks it is RSA with a 1024-bit modulus. */
static int bd_parse_rsa1024(mbedtls_pk_context *pk, const uint8_t *spki,
			    size_t len)
{
	if (mbedtls_pk_parse_public_key(pk, spki, len) != 0)
		return -EBADMSG;
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA ||
	    mbedtls_pk_get_bitlen(pk) != 1024)
		return -EBADMSG;
	return 0;
}

/* see backupd.h */
int bd_crypto_check_spki(const uint8_t *spki, size_t len)
{
	mbedtls_pk_context pk;
	int ret;

	mbedtls_pk_init(&pk);
	ret = bd_parse_rsa1024(&pk, spki, len);
	mbedtls_pk_free(&pk);
	return ret;
}

/* see backupd.h */
int bd_crypto_wrap_new_key(const uint8_t *spki, size_t spki_len,
			   enum bd_oaep oaep, uint8_t key[32],
			   uint8_t out[V3_RSA_BLOB_SIZE])
{
	mbedtls_pk_context pk;
	mbedtls_rsa_context *rsa;
	int ret;

	mbedtls_pk_init(&pk);
	ret = bd_parse_rsa1024(&pk, spki, spki_len);
	if (ret != 0)
		goto out;
	ret = -EIO;
	if (bd_random(key, 32) != 0)
		goto out;
	rsa = mbedtls_pk_rsa(pk);
	if (mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21,
				    oaep == BD_OAEP_SHA1 ? MBEDTLS_MD_SHA1
							 : MBEDTLS_MD_SHA256) != 0 ||
	    mbedtls_rsa_get_len(rsa) != V3_RSA_BLOB_SIZE)
		goto out;
	if (mbedtls_rsa_pkcs1_encrypt(rsa, bd_rng_cb, NULL, 32, key, out) != 0)
		goto out;
	ret = 0;
out:
	mbedtls_pk_free(&pk);
	return ret;
}

/* see backupd.h */
int bd_cbc_start(struct bd_cbc *d, const uint8_t key[32])
{
	bd_cbc_free(d);
	mbedtls_aes_init(&d->aes);
	d->ready = 1;
	memset(d->iv, 0, sizeof d->iv);
	d->part_len = 0;
	d->held_ok = 0;
	if (mbedtls_aes_setkey_dec(&d->aes, key, 256) != 0)
		return -EIO;
	return 0;
}

/* Decrypts one whole block and rotates it into the held slot, writing the
 * previously held block to out; returns the bytes written (0 or 16). */
static size_t bd_cbc_block(struct bd_cbc *d, const uint8_t in[16],
			   uint8_t *out)
{
	size_t w = 0;

	if (d->held_ok) {
		memcpy(out, d->held, 16);
		w = 16;
	}
	mbedtls_aes_crypt_cbc(&d->aes, MBEDTLS_AES_DECRYPT, 16, d->iv, in,
			      d->held);
	d->held_ok = 1;
	return w;
}

/* see backupd.h */
int bd_cbc_feed(struct bd_cbc *d, const uint8_t *in, size_t n, uint8_t *out,
		size_t *olen)
{
	size_t w = 0, bulk;

	if (d->part_len > 0) {
		size_t take = 16u - d->part_len;

		if (take > n)
			take = n;
		memcpy(d->part + d->part_len, in, take);
		d->part_len = (uint8_t)(d->part_len + take);
		in += take;
		n -= take;
		if (d->part_len == 16) {
			w += bd_cbc_block(d, d->part, out + w);
			d->part_len = 0;
		}
	}
	bulk = n / 16u * 16u;
	if (bulk > 0) {
		/* held block first, then all but the last new block; the
		 * last one becomes the held block */
		if (d->held_ok) {
			memcpy(out + w, d->held, 16);
			w += 16;
		}
		mbedtls_aes_crypt_cbc(&d->aes, MBEDTLS_AES_DECRYPT, bulk,
				      d->iv, in, out + w);
		memcpy(d->held, out + w + bulk - 16, 16);
		d->held_ok = 1;
		w += bulk - 16;
		in += bulk;
		n -= bulk;
	}
	memcpy(d->part + d->part_len, in, n);
	d->part_len = (uint8_t)(d->part_len + n);
	*olen = w;
	return 0;
}

/* see backupd.h */
int bd_cbc_finish(struct bd_cbc *d, uint8_t *out, size_t *olen)
{
	uint8_t pad;
	unsigned i, bad = 0;

	*olen = 0;
	if (d->part_len != 0 || !d->held_ok)
		return -EBADMSG;
	pad = d->held[15];
	if (pad == 0 || pad > 16)
		return -EBADMSG;
	for (i = 16u - pad; i < 16u; i++)
		bad |= d->held[i] ^ pad;
	if (bad)
		return -EBADMSG;
	memcpy(out, d->held, 16u - pad);
	*olen = 16u - pad;
	d->held_ok = 0;
	return 0;
}

/* see backupd.h */
void bd_cbc_free(struct bd_cbc *d)
{
	if (d->ready)
		mbedtls_aes_free(&d->aes);
	d->ready = 0;
	d->part_len = 0;
	d->held_ok = 0;
}

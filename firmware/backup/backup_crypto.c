/*
 * backup_crypto.c — mbedTLS wrappers for the v3 client (backup_crypto.h).
 * mbedTLS error codes are mapped to the short errno list here and nowhere
 * else in the backup client.
 */
#include "backup_crypto.h"
#include "crypto_platform.h"

#include <errno.h>
#include <string.h>

#include "hal/rng.h"
#include "mbedtls/asn1.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/rsa.h"
#include "psa/crypto.h"

/* see backup_crypto.h; the arena is the process's one (crypto.h), sized
 * for this client and the DTLS server together.  A PSA failure shows up
 * where PSA is used (DTLS), not here: RSA/AES take the legacy paths. */
int backup_crypto_init(void)
{
	(void)crypto_init();
	return 0;
}

/* see backup_crypto.h */
int backup_crypto_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return hal_rng_fill(out, len) == 0 ? 0 : MBEDTLS_ERR_RSA_RNG_FAILED;
}

/* mbedtls_psa_external_get_random is crypto.c's (once per program). */

/* see backup_crypto.h */
void backup_key_init(struct backup_key *k)
{
	mbedtls_pk_init(&k->pk);
	k->ready = 0;
}

/* see backup_crypto.h */
void backup_key_free(struct backup_key *k)
{
	mbedtls_pk_free(&k->pk);
	k->ready = 0;
}

/* see backup_crypto.h */
int backup_key_generate(struct backup_key *k, int e)
{
	if (e != 17 && e != 65537)
		return -EINVAL;
	backup_key_free(k);
	if (mbedtls_pk_setup(&k->pk,
			     mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0)
		return -EIO;
	if (mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), backup_crypto_rng,
				NULL, BACKUP_RSA_BITS, e) != 0) {
		backup_key_free(k);
		return -EIO;
	}
	k->ready = 1;
	return 0;
}

/* mbedTLS's DER writers fill the END of the buffer; move to the start. */
static int der_to_front(uint8_t *tmp, size_t tmp_len, int n, uint8_t *out,
			size_t cap)
{
	if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
		return -ENOSPC;
	if (n <= 0)
		return -EIO;
	if ((size_t)n > cap) {
		mbedtls_platform_zeroize(tmp, tmp_len);
		return -ENOSPC;
	}
	memcpy(out, tmp + tmp_len - (size_t)n, (size_t)n);
	mbedtls_platform_zeroize(tmp, tmp_len);
	return n;
}

/* see backup_crypto.h */
int backup_key_spki(struct backup_key *k, uint8_t *out, size_t cap)
{
	uint8_t tmp[BACKUP_SPKI_MAX + 32];

	if (!k->ready)
		return -EINVAL;
	return der_to_front(tmp, sizeof tmp,
			    mbedtls_pk_write_pubkey_der(&k->pk, tmp, sizeof tmp),
			    out, cap);
}

/* see backup_crypto.h */
int backup_key_priv_der(struct backup_key *k, uint8_t *out, size_t cap)
{
	uint8_t tmp[BACKUP_PRIV_DER_MAX];

	if (!k->ready)
		return -EINVAL;
	return der_to_front(tmp, sizeof tmp,
			    mbedtls_pk_write_key_der(&k->pk, tmp, sizeof tmp),
			    out, cap);
}

/* see backup_crypto.h */
int backup_key_import(struct backup_key *k, const uint8_t *der, size_t len)
{
	backup_key_free(k);
	if (mbedtls_pk_parse_key(&k->pk, der, len, NULL, 0, backup_crypto_rng,
				 NULL) != 0)
		return -EBADMSG;
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA ||
	    mbedtls_pk_get_bitlen(&k->pk) != BACKUP_RSA_BITS) {
		backup_key_free(k);
		return -EBADMSG;
	}
	k->ready = 1;
	return 0;
}

static int oaep_try(mbedtls_rsa_context *rsa, mbedtls_md_type_t md,
		    const uint8_t *blob, uint8_t key[BACKUP_AES_KEY_SIZE])
{
	uint8_t pt[128];
	size_t olen = 0;
	int ret = -EBADMSG;

	if (mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md) != 0)
		return -EIO;
	if (mbedtls_rsa_pkcs1_decrypt(rsa, backup_crypto_rng, NULL, &olen,
				      blob, pt, sizeof pt) == 0 &&
	    olen == BACKUP_AES_KEY_SIZE) {
		memcpy(key, pt, BACKUP_AES_KEY_SIZE);
		ret = 0;
	}
	mbedtls_platform_zeroize(pt, sizeof pt);
	return ret;
}

/* see backup_crypto.h */
int backup_key_unwrap(struct backup_key *k, const uint8_t *blob,
		      size_t blob_len, uint8_t key[BACKUP_AES_KEY_SIZE],
		      int *sha1)
{
	mbedtls_rsa_context *rsa;
	int ret;

	if (!k->ready || blob_len != 128)
		return -EINVAL;
	rsa = mbedtls_pk_rsa(k->pk);
	ret = oaep_try(rsa, MBEDTLS_MD_SHA256, blob, key);
	if (ret == -EBADMSG) {
		ret = oaep_try(rsa, MBEDTLS_MD_SHA1, blob, key);
		if (sha1 && ret == 0)
			*sha1 = 1;
	} else if (sha1 && ret == 0) {
		*sha1 = 0;
	}
	return ret;
}

/* see backup_crypto.h */
int backup_enc_start(struct backup_enc *e,
		     const uint8_t key[BACKUP_AES_KEY_SIZE])
{
	mbedtls_aes_init(&e->aes);
	memset(e->iv, 0, sizeof e->iv);
	if (mbedtls_aes_setkey_enc(&e->aes, key, 256) != 0) {
		mbedtls_aes_free(&e->aes);
		return -EIO;
	}
	return 0;
}

/* see backup_crypto.h */
int backup_enc_blocks(struct backup_enc *e, uint8_t *buf, size_t len)
{
	if (len % BACKUP_AES_BLOCK != 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	/* in place is allowed by mbedtls_aes_crypt_cbc; iv carries over */
	return mbedtls_aes_crypt_cbc(&e->aes, MBEDTLS_AES_ENCRYPT, len, e->iv,
				     buf, buf) == 0 ? 0 : -EIO;
}

/* see backup_crypto.h */
int backup_enc_final(struct backup_enc *e, uint8_t *buf, size_t len)
{
	uint8_t pad;
	int ret;

	if (len >= BACKUP_AES_BLOCK)
		return -EINVAL;
	pad = (uint8_t)(BACKUP_AES_BLOCK - len);
	memset(buf + len, pad, pad);
	ret = backup_enc_blocks(e, buf, BACKUP_AES_BLOCK);
	return ret < 0 ? ret : BACKUP_AES_BLOCK;
}

/* see backup_crypto.h */
void backup_enc_free(struct backup_enc *e)
{
	mbedtls_aes_free(&e->aes);
	mbedtls_platform_zeroize(e->iv, sizeof e->iv);
}

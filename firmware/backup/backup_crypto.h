/*
 * backup_crypto.h — the CyberBackup v3 client's cryptography over mbedTLS:
 * the RSA-1024 identity key (generate, DER import/export, the 160/162-byte
 * SubjectPublicKeyInfo the 1026 request carries), the RSA-OAEP unwrap of
 * the session key (SHA-256, falling back to SHA-1 for the older server
 * revision), and the AES-256-CBC/PKCS#7 zero-IV stream cipher for files.
 *
 * Memory: every mbedTLS allocation comes from one static arena handed to
 * mbedtls_memory_buffer_alloc_init() by backup_crypto_init() (STYLE rule
 * 5).  BACKUP_CRYPTO_ARENA_SIZE: one RSA-1024 context is ~1.5 KB of
 * bignums; keygen holds about 4x that in temporaries; the DER writer and
 * the parser need under 2 KB more.  32 KiB leaves > 2x for fragmentation.
 * The arena is process-wide (mbedTLS has one allocator): the one-shot CLI
 * owns it; an agent that also runs TLS must share a single, larger arena.
 *
 * Errors: -EINVAL (misuse), -ENOSPC (output buffer), -EBADMSG (key or
 * ciphertext malformed / does not decrypt), -EIO (RNG or mbedTLS failure).
 */
#ifndef VIGIL_BACKUP_CRYPTO_H
#define VIGIL_BACKUP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/aes.h"
#include "mbedtls/pk.h"

#define BACKUP_CRYPTO_ARENA_SIZE (32u * 1024u)
#define BACKUP_RSA_BITS 1024
/* DER SubjectPublicKeyInfo of RSA-1024: 160 bytes (e = 17), 162 (65537). */
#define BACKUP_SPKI_MAX 162
/* DER RSAPrivateKey of RSA-1024: SEQ(4) + version(3) + n(3+129) +
 * e(<=5) + d(3+129) + p, q(2 x (3+65)) + dp, dq, qp(3 x (3+65)) = 609,
 * so 640 leaves room for a leading zero byte anywhere. */
#define BACKUP_PRIV_DER_MAX 640
#define BACKUP_AES_KEY_SIZE 32
#define BACKUP_AES_BLOCK 16

struct backup_key {
	mbedtls_pk_context pk;
	int ready;              /* 1 after generate/import */
};

/* Streaming AES-256-CBC encryptor with a zero IV. */
struct backup_enc {
	mbedtls_aes_context aes;
	uint8_t iv[BACKUP_AES_BLOCK];
};

/* Hands the static arena to mbedTLS.  Call once, before anything else
 * here; calling again resets the arena (only when no key is alive).
 * @retval 0 always */
int backup_crypto_init(void);

/* The RNG callback for mbedTLS (hal_rng_fill); ctx unused. */
int backup_crypto_rng(void *ctx, unsigned char *out, size_t len);

void backup_key_init(struct backup_key *k);
void backup_key_free(struct backup_key *k);

/* Generates an RSA-1024 key pair with public exponent e (17 or 65537),
 * replacing any key in *k.
 * @retval 0 done  @retval -EINVAL bad e  @retval -EIO mbedTLS failed */
int backup_key_generate(struct backup_key *k, int e);

/* Writes the DER SubjectPublicKeyInfo to out[0..cap) (at the start).
 * @retval >0 length (160 for e = 17, 162 for e = 65537)
 * @retval -EINVAL no key  @retval -ENOSPC cap < the length */
int backup_key_spki(struct backup_key *k, uint8_t *out, size_t cap);

/* Writes the DER RSAPrivateKey (PKCS#1) to out[0..cap) (at the start);
 * BACKUP_PRIV_DER_MAX bytes always suffice.
 * @retval >0 length  @retval -EINVAL no key  @retval -ENOSPC */
int backup_key_priv_der(struct backup_key *k, uint8_t *out, size_t cap);

/* Loads a DER private key (PKCS#1 or PKCS#8), which must be RSA-1024.
 * @retval 0 loaded  @retval -EBADMSG not an RSA-1024 private key */
int backup_key_import(struct backup_key *k, const uint8_t *der, size_t len);

/* Unwraps the 128-byte RSA-OAEP blob of 1602/1605 into key[32]: tries
 * OAEP-SHA256 and, when its check fails, OAEP-SHA1 (a wrong hash never
 * decrypts, so the fallback is safe).  *sha1 (may be NULL) tells which.
 * @retval 0 key filled
 * @retval -EINVAL no key, blob_len != 128
 * @retval -EBADMSG neither hash decrypts to a 32-byte key */
int backup_key_unwrap(struct backup_key *k, const uint8_t *blob,
		      size_t blob_len, uint8_t key[BACKUP_AES_KEY_SIZE],
		      int *sha1);

/* Starts a ciphertext stream under key (IV = 16 zero bytes).
 * @retval 0 ok  @retval -EIO mbedTLS refused the key */
int backup_enc_start(struct backup_enc *e,
		     const uint8_t key[BACKUP_AES_KEY_SIZE]);

/* Encrypts buf[0..len) in place, continuing the stream.  len must be a
 * multiple of 16.  @retval 0 ok  @retval -EINVAL len not whole blocks */
int backup_enc_blocks(struct backup_enc *e, uint8_t *buf, size_t len);

/* Pads buf[0..len) (len < 16 bytes of the last plaintext) with PKCS#7 to
 * 16 bytes and encrypts them in place: buf needs 16 bytes.
 * @retval 16  @retval -EINVAL len >= 16 */
int backup_enc_final(struct backup_enc *e, uint8_t *buf, size_t len);

/* Wipes the cipher state. */
void backup_enc_free(struct backup_enc *e);

#endif

/*
 * backup_test.c — the backup client's pure parts: retry schedule with
 * jitter bounds, server URL parsing, path normalisation, the me.info
 * format (and its atomic save on the sim storage), and the crypto
 * wrappers (key formats 160/162, OAEP-SHA256 and the SHA-1 fallback,
 * streaming AES-CBC against mbedTLS's own PKCS#7 cipher layer).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "backup_client.h"
#include "backup_crypto.h"
#include "backup_identity.h"
#include "backup_retry.h"
#include "backup_walk.h"
#include "hal/storage.h"
#include "mbedtls/cipher.h"
#include "mbedtls/rsa.h"
#include "test.h"

TEST(backup_retry_schedule)
{
	/* base 500 ms doubling: nominal 500, 1000, 2000, 4000 ... 30000 */
	uint32_t nominal = 500;

	CHECK_EQ_INT(backup_retry_delay_ms(0, 0, 12345), 0);
	for (unsigned f = 1; f <= 12; f++) {
		uint32_t lo = backup_retry_delay_ms(f, 0, 0);
		uint32_t mid = backup_retry_delay_ms(f, 0, 0x80000000u);
		uint32_t hi = backup_retry_delay_ms(f, 0, UINT32_MAX);

		CHECK_EQ_INT(lo, nominal - nominal / 4);
		CHECK_EQ_INT(mid, nominal);
		CHECK(hi <= 30000);
		CHECK(hi == (nominal + nominal / 4 > 30000 ? 30000
			     : nominal + nominal / 4));
		CHECK(lo <= mid && mid <= hi);
		nominal = nominal * 2 > 30000 ? 30000 : nominal * 2;
	}
	/* a configured cap bounds the doubling and the jitter */
	CHECK_EQ_INT(backup_retry_delay_ms(1, 100, UINT32_MAX), 100);
	CHECK_EQ_INT(backup_retry_delay_ms(9, 2000, 0), 1500);
	CHECK_EQ_INT(backup_retry_delay_ms(9, 2000, UINT32_MAX), 2000);
	/* huge failure counts do not overflow */
	CHECK_EQ_INT(backup_retry_delay_ms(4000000000u, 0, 0x80000000u), 30000);
	/* every rnd lands inside +-25 % */
	for (uint32_t r = 0; r < 0xffff0000u; r += 0x01010101u) {
		uint32_t d = backup_retry_delay_ms(2, 0, r);

		CHECK(d >= 750 && d <= 1250);
	}
}

TEST(backup_url)
{
	char host[BACKUP_HOST_MAX];
	uint16_t port = 0;
	int tls = -1;

	CHECK_EQ_INT(backup_url_parse("tcp://example.org:1256", &tls, host,
				      sizeof host, &port), 0);
	CHECK_EQ_STR(host, "example.org");
	CHECK_EQ_INT(port, 1256);
	CHECK_EQ_INT(tls, 0);
	CHECK_EQ_INT(backup_url_parse("tls://[::1]:1257", &tls, host,
				      sizeof host, &port), 0);
	CHECK_EQ_STR(host, "::1");
	CHECK_EQ_INT(port, 1257);
	CHECK_EQ_INT(tls, 1);
	CHECK_EQ_INT(backup_url_parse("http://a:1", &tls, host, sizeof host,
				      &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://a", &tls, host, sizeof host,
				      &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://:1", &tls, host, sizeof host,
				      &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://a:0", &tls, host, sizeof host,
				      &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://a:65536", &tls, host,
				      sizeof host, &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://a:12x", &tls, host, sizeof host,
				      &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://[::1:5", &tls, host,
				      sizeof host, &port), -EINVAL);
	CHECK_EQ_INT(backup_url_parse("tcp://abcdef:1", &tls, host, 6,
				      &port), -ENAMETOOLONG);
}

TEST(backup_path_normalize)
{
	char out[64];

	CHECK_EQ_INT(backup_walk_normalize(out, sizeof out, "/home/u",
					   "a/./b//c"), 13);
	CHECK_EQ_STR(out, "/home/u/a/b/c");
	backup_walk_normalize(out, sizeof out, "/x", "../../y/../z");
	CHECK_EQ_STR(out, "/z");
	backup_walk_normalize(out, sizeof out, NULL, "/a/b/..");
	CHECK_EQ_STR(out, "/a");
	backup_walk_normalize(out, sizeof out, NULL, "/..");
	CHECK_EQ_STR(out, "/");
	CHECK_EQ_INT(backup_walk_normalize(out, sizeof out, NULL, ""),
		     -EINVAL);
	CHECK_EQ_INT(backup_walk_normalize(out, 8, NULL, "/abcdefgh"),
		     -ENAMETOOLONG);
	/* the result maps to a name v3 servers accept */
	backup_walk_normalize(out, sizeof out, "/srv", "my_app/a b.txt");
	{
		char name[V3_NAME_MAX + 1];

		CHECK(v3_name_from_path(name, sizeof name, out, strlen(out),
					NULL) > 0);
		CHECK_EQ_STR(name, "srv_my_-5Fapp_a b.txt");
	}
}

static void sample_identity(struct backup_identity *id)
{
	memset(id, 0, sizeof *id);
	strcpy(id->name, "appliance 7");
	for (unsigned i = 0; i < V3_ID_SIZE; i++)
		id->uuid[i] = (uint8_t)(0xa0 + i);
	for (unsigned i = 0; i < 100; i++)
		id->priv[i] = (uint8_t)(i * 7);
	id->priv_len = 100;
}

TEST(backup_identity_text)
{
	static char text[BACKUP_IDENTITY_TEXT_MAX];
	struct backup_identity id, back;
	int n;

	sample_identity(&id);
	n = backup_identity_format(&id, text, sizeof text);
	REQUIRE(n > 0);
	CHECK(!strncmp(text, "appliance 7\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",
		       45));
	CHECK_EQ_INT(text[n - 1], '\n');
	CHECK_EQ_INT(backup_identity_parse(&back, text, (size_t)n), 0);
	CHECK_EQ_STR(back.name, id.name);
	CHECK_EQ_MEM(back.uuid, id.uuid, V3_ID_SIZE);
	CHECK_EQ_INT(back.priv_len, 100);
	CHECK_EQ_MEM(back.priv, id.priv, 100);
	CHECK_EQ_INT(backup_identity_format(&id, text, 100), -ENOSPC);
	id.name[0] = '\0';
	CHECK_EQ_INT(backup_identity_format(&id, text, sizeof text), -EINVAL);
}

TEST(backup_identity_tolerant_and_strict)
{
	struct backup_identity id;
	static const char crlf[] = "n\r\nA0A1A2A3A4A5A6A7A8A9AAABACADAEAF\r\n"
				   "AAEC\r\nAwQ=\r\n";
	static const char *bad[] = {
		"",                                       /* no lines */
		"n\n",                                    /* no uuid */
		"n\na0a1\nAAEC\n",                        /* short uuid */
		"n\na0a1a2a3a4a5a6a7a8a9aaabacadaeag\nAAEC\n", /* not hex */
		"\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf\nAAEC\n",  /* no name */
		"n\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",       /* no key */
		"n\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n!!!!\n", /* bad b64 */
		"n\tx\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf\nAAEC\n", /* name */
	};

	/* CRLF, upper-case hex, base64 over two lines */
	REQUIRE(backup_identity_parse(&id, crlf, sizeof crlf - 1) == 0);
	CHECK_EQ_STR(id.name, "n");
	CHECK_EQ_INT(id.uuid[15], 0xaf);
	CHECK_EQ_INT(id.priv_len, 5);
	CHECK_EQ_MEM(id.priv, "\x00\x01\x02\x03\x04", 5);
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(backup_identity_parse(&id, bad[i], strlen(bad[i])),
			     -EBADMSG);
}

TEST(backup_identity_file)
{
	struct backup_identity id, back;

	sample_identity(&id);
	CHECK_EQ_INT(backup_identity_load("/bkstate", &back), -ENOENT);
	REQUIRE(hal_storage_mkdir("/bkstate", 0700) == 0);
	CHECK_EQ_INT(backup_identity_save("/bkstate", &id), 0);
	CHECK_EQ_INT(backup_identity_load("/bkstate", &back), 0);
	CHECK_EQ_MEM(back.uuid, id.uuid, V3_ID_SIZE);
	CHECK_EQ_MEM(back.priv, id.priv, id.priv_len);
}

static void crypto_once(void)
{
	static int done;

	if (!done)
		backup_crypto_init();
	done = 1;
}

/* Wraps key32 for the public half of k, as a server does. */
static int server_wrap(struct backup_key *k, mbedtls_md_type_t md,
		       const uint8_t key32[32], uint8_t blob[128])
{
	uint8_t spki[BACKUP_SPKI_MAX];
	mbedtls_pk_context pub;
	int n = backup_key_spki(k, spki, sizeof spki), ret;

	mbedtls_pk_init(&pub);
	ret = mbedtls_pk_parse_public_key(&pub, spki, (size_t)n);
	if (ret == 0)
		ret = mbedtls_rsa_set_padding(mbedtls_pk_rsa(pub),
					      MBEDTLS_RSA_PKCS_V21, md);
	if (ret == 0)
		ret = mbedtls_rsa_pkcs1_encrypt(mbedtls_pk_rsa(pub),
						backup_crypto_rng, NULL, 32,
						key32, blob);
	mbedtls_pk_free(&pub);
	return ret;
}

TEST(backup_crypto_keys)
{
	static struct backup_key k, k2;
	uint8_t spki[BACKUP_SPKI_MAX], der[BACKUP_PRIV_DER_MAX];
	uint8_t key32[32], got[32], blob[128];
	int n, sha1 = -1;

	crypto_once();
	backup_key_init(&k);
	backup_key_init(&k2);
	CHECK_EQ_INT(backup_key_spki(&k, spki, sizeof spki), -EINVAL);
	CHECK_EQ_INT(backup_key_generate(&k, 3), -EINVAL);
	REQUIRE(backup_key_generate(&k, 17) == 0);
	CHECK_EQ_INT(backup_key_spki(&k, spki, sizeof spki), 160);
	CHECK_EQ_INT(backup_key_spki(&k, spki, 159), -ENOSPC);
	n = backup_key_priv_der(&k, der, sizeof der);
	REQUIRE(n > 0);
	CHECK_EQ_INT(backup_key_import(&k2, der, (size_t)n), 0);
	CHECK_EQ_INT(backup_key_import(&k2, der, 10), -EBADMSG);
	REQUIRE(backup_key_import(&k2, der, (size_t)n) == 0);
	/* OAEP-SHA256 (3.0 server) through the imported copy */
	memset(key32, 0x5c, sizeof key32);
	REQUIRE(server_wrap(&k, MBEDTLS_MD_SHA256, key32, blob) == 0);
	CHECK_EQ_INT(backup_key_unwrap(&k2, blob, 128, got, &sha1), 0);
	CHECK_EQ_MEM(got, key32, 32);
	CHECK_EQ_INT(sha1, 0);
	CHECK_EQ_INT(backup_key_unwrap(&k2, blob, 127, got, NULL), -EINVAL);
	blob[50] ^= 1;
	CHECK_EQ_INT(backup_key_unwrap(&k2, blob, 128, got, NULL), -EBADMSG);
	/* e = 65537, OAEP-SHA1 (the older server revision) */
	REQUIRE(backup_key_generate(&k, 65537) == 0);
	CHECK_EQ_INT(backup_key_spki(&k, spki, sizeof spki), 162);
	REQUIRE(server_wrap(&k, MBEDTLS_MD_SHA1, key32, blob) == 0);
	CHECK_EQ_INT(backup_key_unwrap(&k, blob, 128, got, &sha1), 0);
	CHECK_EQ_MEM(got, key32, 32);
	CHECK_EQ_INT(sha1, 1);
	backup_key_free(&k);
	backup_key_free(&k2);
}

/* mbedTLS's cipher layer with PKCS#7: the reference for one shot. */
static size_t ref_cbc(const uint8_t key[32], const uint8_t *in, size_t n,
		      uint8_t *out)
{
	mbedtls_cipher_context_t c;
	uint8_t iv[16] = { 0 };
	size_t olen = 0;

	mbedtls_cipher_init(&c);
	mbedtls_cipher_setup(&c, mbedtls_cipher_info_from_type(
					 MBEDTLS_CIPHER_AES_256_CBC));
	mbedtls_cipher_setkey(&c, key, 256, MBEDTLS_ENCRYPT);
	mbedtls_cipher_set_padding_mode(&c, MBEDTLS_PADDING_PKCS7);
	mbedtls_cipher_crypt(&c, iv, 16, in, n, out, &olen);
	mbedtls_cipher_free(&c);
	return olen;
}

TEST(backup_crypto_stream)
{
	static uint8_t pt[200], ref[224], buf[224];
	static const size_t lens[] = { 0, 1, 15, 16, 17, 64, 200 };
	uint8_t key[32];
	struct backup_enc e;

	crypto_once();
	for (unsigned i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i * 31 + 7);
	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (unsigned t = 0; t < sizeof lens / sizeof lens[0]; t++) {
		size_t n = lens[t], whole = n & ~(size_t)15, first;
		size_t r = ref_cbc(key, pt, n, ref);

		/* two slices on a block boundary, then the padded tail */
		first = whole >= 32 ? 32 : whole;
		memcpy(buf, pt, n);
		REQUIRE(backup_enc_start(&e, key) == 0);
		CHECK_EQ_INT(backup_enc_blocks(&e, buf, first), 0);
		CHECK_EQ_INT(backup_enc_blocks(&e, buf + first, whole - first),
			     0);
		CHECK_EQ_INT(backup_enc_final(&e, buf + whole, n - whole), 16);
		backup_enc_free(&e);
		CHECK_EQ_INT(whole + 16, r);
		CHECK_EQ_MEM(buf, ref, r);
	}
	REQUIRE(backup_enc_start(&e, key) == 0);
	CHECK_EQ_INT(backup_enc_blocks(&e, buf, 15), -EINVAL);
	CHECK_EQ_INT(backup_enc_final(&e, buf, 16), -EINVAL);
	backup_enc_free(&e);
}

TEST_SUITE(backup, backup_retry_schedule, backup_url, backup_path_normalize,
	   backup_identity_text, backup_identity_tolerant_and_strict,
	   backup_identity_file, backup_crypto_keys, backup_crypto_stream)

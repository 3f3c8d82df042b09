/*
 * sha256_test.c — protocol/sha256: the FIPS 180-4 / NIST known answers,
 * streaming at random split points against mbedTLS's one-shot
 * mbedtls_sha256, every length across the padding boundaries, and
 * checkpoints (a copied context) continued — each on both paths: the
 * instruction path where the build and CPU have one (x86_64 SHA-NI), and
 * mbedTLS's path, forced with sha256_hw_allow(0).  On a target or CPU
 * without the instructions both runs take mbedTLS's path.
 */
#include <stdio.h>

#include "hex.h"
#include "mbedtls/sha256.h"
#include "sha256.h"
#include "test.h"
#include "test_util.h"

/* The paths to run: 1 = whatever sha256_hw_active() gives by default,
 * 0 = mbedTLS's forced. */
static const int allow_modes[2] = { 1, 0 };

static void hex_of(const uint8_t d[SHA256_SIZE], char hex[2 * SHA256_SIZE + 1])
{
	hex_encode(d, SHA256_SIZE, hex);
	hex[2 * SHA256_SIZE] = '\0';
}

/* The digest of msg fed in pieces of at most step bytes. */
static void digest_steps(const uint8_t *msg, size_t len, size_t step,
			 uint8_t d[SHA256_SIZE])
{
	struct sha256_ctx c;
	size_t off = 0;

	sha256_init(&c);
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		sha256_update(&c, msg + off, n);
		off += n;
	}
	sha256_finish(&c, d);
}

/* FIPS 180-4's examples (NIST CSRC "SHA256.pdf", "SHA2_Additional"). */
TEST(known_answers)
{
	static const struct {
		const char *msg, *hex;
	} kat[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		/* 448 bits */
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		/* 896 bits */
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	uint8_t d[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];

	for (int m = 0; m < 2; m++) {
		sha256_hw_allow(allow_modes[m]);
		for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
			const uint8_t *msg = (const uint8_t *)kat[i].msg;
			size_t len = strlen(kat[i].msg);

			sha256_buf(msg, len, d);
			hex_of(d, hex);
			CHECK_EQ_STR(hex, kat[i].hex);
			digest_steps(msg, len, 1, d);   /* byte by byte */
			hex_of(d, hex);
			CHECK_EQ_STR(hex, kat[i].hex);
		}
	}
	sha256_hw_allow(1);
}

/* One million 'a' (FIPS 180-4's long example), in 1000-byte updates and
 * in one. */
TEST(million_a)
{
	static uint8_t a[1000000];
	static const char want[] =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	uint8_t d[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];

	memset(a, 'a', sizeof a);
	for (int m = 0; m < 2; m++) {
		sha256_hw_allow(allow_modes[m]);
		digest_steps(a, sizeof a, 1000, d);
		hex_of(d, hex);
		CHECK_EQ_STR(hex, want);
		sha256_buf(a, sizeof a, d);
		hex_of(d, hex);
		CHECK_EQ_STR(hex, want);
	}
	sha256_hw_allow(1);
}

/* Random lengths 0..8 KiB at random offsets, split at random update
 * boundaries (pieces of 0..300 bytes, so runs of partial blocks and
 * runs of whole ones), equal to mbedtls_sha256 of the whole. */
TEST(random_splits_equal_mbedtls)
{
	static uint8_t buf[8192 + 64];
	unsigned bad = 0, runs = 0;

	test_fill_random(buf, sizeof buf, 0x5eed);
	for (int m = 0; m < 2; m++) {
		sha256_hw_allow(allow_modes[m]);
		test_rand_seed(1234u + (uint32_t)m);
		for (int i = 0; i < 400; i++) {
			size_t off = test_rand() % 64;
			size_t len = test_rand() % 8193, pos = 0;
			uint8_t want[SHA256_SIZE], got[SHA256_SIZE];
			struct sha256_ctx c;

			REQUIRE(mbedtls_sha256(buf + off, len, want, 0) == 0);
			sha256_init(&c);
			while (pos < len) {
				size_t n = test_rand() % 301;

				n = n > len - pos ? len - pos : n;
				sha256_update(&c, buf + off + pos, n);
				pos += n;
			}
			sha256_update(&c, NULL, 0);
			sha256_finish(&c, got);
			bad += memcmp(want, got, sizeof want) != 0;
			runs++;
		}
	}
	sha256_hw_allow(1);
	CHECK_EQ_INT(runs, 800);
	CHECK_EQ_INT(bad, 0);
}

/* Every length 0..320 (the padding's cases: the length fits after 0x80
 * up to 55 bytes in a block, needs one more block from 56 to 63), both
 * paths equal to mbedtls_sha256. */
TEST(every_length_across_padding)
{
	static uint8_t buf[320];
	unsigned bad = 0;

	test_fill_random(buf, sizeof buf, 99);
	for (int m = 0; m < 2; m++) {
		sha256_hw_allow(allow_modes[m]);
		for (size_t len = 0; len <= sizeof buf; len++) {
			uint8_t want[SHA256_SIZE], got[SHA256_SIZE];

			REQUIRE(mbedtls_sha256(buf, len, want, 0) == 0);
			sha256_buf(buf, len, got);
			bad += memcmp(want, got, sizeof want) != 0;
			digest_steps(buf, len, 63, got);
			bad += memcmp(want, got, sizeof want) != 0;
		}
	}
	sha256_hw_allow(1);
	CHECK_EQ_INT(bad, 0);
}

/* A copied context is a checkpoint: the copy and the original, each
 * continued with the rest, give the digest of the whole; a copy may be
 * finished for the prefix's digest while the original goes on (the
 * engine's resume checkpoints, backup_engine.c hash_slice). */
TEST(checkpoint_copy_round_trips)
{
	static uint8_t buf[5000];
	uint8_t whole[SHA256_SIZE], prefix[SHA256_SIZE], d[SHA256_SIZE];

	test_fill_random(buf, sizeof buf, 7);
	REQUIRE(mbedtls_sha256(buf, sizeof buf, whole, 0) == 0);
	REQUIRE(mbedtls_sha256(buf, 1237, prefix, 0) == 0);
	for (int m = 0; m < 2; m++) {
		struct sha256_ctx c, saved, peek;

		sha256_hw_allow(allow_modes[m]);
		sha256_init(&c);
		sha256_update(&c, buf, 1000);
		sha256_update(&c, buf + 1000, 237);     /* a partial block */
		saved = c;
		peek = c;
		sha256_finish(&peek, d);
		CHECK_EQ_MEM(d, prefix, SHA256_SIZE);
		sha256_update(&c, buf + 1237, sizeof buf - 1237);
		sha256_finish(&c, d);
		CHECK_EQ_MEM(d, whole, SHA256_SIZE);
		/* the saved state, restored, continues the same way twice */
		for (int k = 0; k < 2; k++) {
			c = saved;
			sha256_update(&c, buf + 1237, sizeof buf - 1237);
			sha256_finish(&c, d);
			CHECK_EQ_MEM(d, whole, SHA256_SIZE);
		}
	}
	sha256_hw_allow(1);
}

/* sha256_hw_allow(0) sends new contexts to mbedTLS's path; one started
 * before keeps its path and its digest; allow(1) gives back the
 * instructions where the CPU has them. */
TEST(allow_switches_new_contexts_only)
{
	uint8_t want[SHA256_SIZE], d[SHA256_SIZE];
	struct sha256_ctx before, after;
	int hw;

	sha256_hw_allow(1);
	hw = sha256_hw_active();
	sha256_init(&before);
	sha256_update(&before, (const uint8_t *)"ab", 2);
	sha256_hw_allow(0);
	CHECK_EQ_INT(sha256_hw_active(), 0);
	sha256_init(&after);
	CHECK_EQ_INT(after.hw, 0);
	CHECK_EQ_INT(before.hw, hw);
	sha256_update(&before, (const uint8_t *)"c", 1);
	sha256_finish(&before, d);
	REQUIRE(mbedtls_sha256((const uint8_t *)"abc", 3, want, 0) == 0);
	CHECK_EQ_MEM(d, want, SHA256_SIZE);
	sha256_hw_allow(1);
	CHECK_EQ_INT(sha256_hw_active(), hw);
	printf("  sha256: instruction path on this CPU: %s\n", hw ? "yes" : "no");
}

TEST_SUITE(sha256, known_answers, million_a, random_splits_equal_mbedtls,
	   every_length_across_padding, checkpoint_copy_round_trips,
	   allow_switches_new_contexts_only)

/*
 * crypto.h — the process's one mbedTLS heap and random source.
 *
 * mbedTLS has a single allocator per process
 * (mbedtls_memory_buffer_alloc_init), so every user in vigild — the
 * CoAP DTLS server (coap_dtls.c), the backup client's RSA/AES
 * (backup_crypto.c) and its TLS 1.3 transport (backup_tls.c) — shares the static arena owned here (STYLE rule 5:
 * nothing from the C heap).  PSA's external random source
 * (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG) is defined here too, exactly once.
 *
 * The allocator is lib/arena.h (16-byte block headers; a page of the
 * arena counts in the resident set only once a block holds something in
 * it), not mbedtls_memory_buffer_alloc, which wrote the whole arena at
 * set-up and every block it handed out.
 *
 * CRYPTO_ARENA_SIZE, the derivation (x86_64; 32-bit targets are
 * smaller):
 *   DTLS: COAP_DTLS_SESSIONS + 1 (the hello slot) = 5 contexts, each
 *     with its IN record buffer (MBEDTLS_SSL_IN_CONTENT_LEN 16384 +
 *     ~300 header/IV/MAC/CID) and OUT buffer (4096 + ~300): ~21 KiB,
 *     so ~105 KiB; a handshake's state (checksum, key schedule, PSK
 *     copy, ~3 KiB) and a transform pair (~1.5 KiB) each, ~23 KiB if
 *     all five handshake at once; the config and cookie key ~1 KiB.
 *   backup: one RSA-1024 key and its keygen temporaries, the DER writer
 *     and parser: under 16 KiB (BACKUP_CRYPTO_ARENA_SIZE was 32 KiB
 *     with 2x for fragmentation).
 *   backup over tls://: one TLS 1.3 client context (IN 16384 + OUT 4096
 *     record buffers, ~21 KiB), its handshake state (ECDHE, transcript,
 *     ~4 KiB), CA + client certificate + key + the server's chain
 *     (~5 KiB), the saved session ticket (~1.5 KiB): ~32 KiB.
 *   PSA key slots and driver contexts: ~2 KiB.
 * ~195 KiB in all with everything live at once.  Measured (x86_64, the
 * coap_dtls unit test, 1 KiB probes): five DTLS contexts with four
 * sessions up use ~137 KiB.  Measured (x86_64, `vigild backup` over
 * tls:// registering a new key, arena shrunk until it failed): the
 * backup client with TLS, RSA keygen and ticket needs > 40 and <= 56 KiB
 * including fragmentation.  Measured (x86_64, lib/arena's peak logged at
 * debug level, agent_bench's set-up: a registration and two 16 MiB jobs
 * with five CoAP observers): 41,344 bytes held at most over tls://, 6,368
 * over tcp://; of them 28 KiB of pages resident (the IN record buffer's
 * tail is never written).  137 + 56 = 193 KiB; 256 KiB leaves ~60 KiB
 * (~25 %) for a DTLS handshake in progress and fragmentation (the DTLS
 * record buffers are allocated once, at start, at the bottom).
 */
#ifndef VIGIL_CRYPTO_H
#define VIGIL_CRYPTO_H

#include <stddef.h>

#define CRYPTO_ARENA_SIZE (256u * 1024u)

/*
 * Hands the arena to mbedTLS and initialises PSA.  The first call does
 * the work; later calls return its result (the arena is never reset
 * under live contexts).
 * @retval 0    ready
 * @retval -EIO psa_crypto_init failed (no randomness)
 */
int crypto_init(void);

/* The most bytes the arena has held at once (blocks with their 16-byte
 * headers), for the sizing above: vigild logs it at debug level after
 * each backup job. */
size_t crypto_arena_peak(void);

/* The mbedTLS f_rng callback (hal_rng_fill); ctx unused.
 * @retval 0 filled  @retval <0 an mbedTLS error code */
int crypto_rng(void *ctx, unsigned char *out, size_t len);

/* 1 when this CPU has AES and carry-less multiply instructions that
 * mbedTLS uses (x86-64 AES-NI + PCLMUL, Armv8 AES + PMULL): AES-GCM is
 * then several times faster than ChaCha20-Poly1305, else the reverse
 * (the Cortex-A72 of a Raspberry Pi 4 and the A8 of a BeagleBone have
 * no such instructions). */
int crypto_aes_is_fast(void);

#endif

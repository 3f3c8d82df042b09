/*
 * crypto_platform.c — see crypto_platform.h: the one mbedTLS arena and the PSA random
 * source.
 */
#include "crypto_platform.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "hal/cpu.h"
#include "hal/rng.h"
#include "mbedtls/error.h"
#include "mbedtls/platform.h"
#include "psa/crypto.h"

static unsigned char crypto_arena[CRYPTO_ARENA_SIZE]
	__attribute__((aligned(ARENA_ALIGN)));
static struct arena crypto_heap;
static bool crypto_done;
static int crypto_ret;

static void *crypto_calloc(size_t n, size_t size)
{
	return arena_calloc(&crypto_heap, n, size);
}

static void crypto_free(void *p)
{
	arena_free(&crypto_heap, p);
}

/* see crypto_platform.h */
int crypto_init(void)
{
	if (crypto_done)
		return crypto_ret;
	crypto_done = true;
	/* lib/arena.h, not mbedtls_memory_buffer_alloc: that one writes the
	 * whole arena at set-up and every block it hands out, so each page
	 * counted in the resident set (the set-up's 256 KiB were the
	 * start-up's peak); here a page counts once something is in it */
	(void)arena_init(&crypto_heap, crypto_arena, sizeof crypto_arena);
	mbedtls_platform_set_calloc_free(crypto_calloc, crypto_free);
	crypto_ret = psa_crypto_init() == PSA_SUCCESS ? 0 : -EIO;
	return crypto_ret;
}

/* see crypto_platform.h */
size_t crypto_arena_peak(void)
{
	return crypto_heap.peak;
}

/* see crypto_platform.h */
int crypto_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx; /* stateless: the kernel keeps the state */
	return hal_rng_fill(out, len) == 0 ? 0
		: MBEDTLS_ERR_ERROR_GENERIC_ERROR;
}

/* PSA's random source (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG in the project
 * config): libmbedcrypto references it as soon as PSA, RSA or TLS are
 * linked, so it must exist exactly once in the program: here. */
psa_status_t mbedtls_psa_external_get_random(
	mbedtls_psa_external_random_context_t *ctx, uint8_t *out, size_t size,
	size_t *out_len)
{
	(void)ctx; /* the context type is opaque and unused */
	if (hal_rng_fill(out, size) != 0)
		return PSA_ERROR_INSUFFICIENT_ENTROPY;
	*out_len = size;
	return PSA_SUCCESS;
}

/* see crypto_platform.h */
int crypto_aes_is_fast(void)
{
	return hal_cpu_aes_fast();
}

/*
 * sha256_x86_64.c — SHA-256 block compression with the x86 SHA extensions
 * (SHA-NI: sha256rnds2, sha256msg1, sha256msg2; Intel SDM vol. 2 and
 * Intel's "SHA Extensions" paper), when CPUID says the CPU has them.  The
 * build links this file instead of sha256_generic.c on x86_64; without
 * the instructions sha256.c takes mbedTLS's path.
 *
 * Register layout the instructions want (dword 3 is bits 127:96):
 *   ABEF = {A, B, E, F}, CDGH = {C, D, G, H} in dwords 3..0;
 *   sha256rnds2(CDGH, ABEF, WK) runs two rounds with W[t]+K[t] in WK's
 *   dword 0 and W[t+1]+K[t+1] in dword 1 and returns the new ABEF; the
 *   new CDGH is the old ABEF (C, D, G, H two rounds on are A, B, E, F).
 *   The working words H0..H7 (A..H) are stored in that order, so they are
 *   moved into that layout before the blocks and back after them.
 * Message schedule, four words W[t..t+3] at a time from the last sixteen
 * (FIPS 180-4 §6.2.2 step 1, t >= 16):
 *   sha256msg1(W[t-16..t-13], W[t-12..t-9]) = W[t-16+i] + s0(W[t-15+i])
 *   + W[t-7..t-4] (an alignr of the two newest groups)
 *   sha256msg2(that, W[t-4..t-1]) adds s1(W[t-2+i]), using the words it
 *   makes itself for i >= 2.
 *
 * As in cksum_x86_64.c, the one exception to protocol/'s header rule:
 * <immintrin.h> and <cpuid.h> (compiler headers), and the target
 * attribute on the functions that use the instructions, so the rest of
 * the build keeps its flags.  qemu-x86_64 -cpu qemu64 (no SHA-NI) runs
 * the mbedTLS path.
 */
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>

#include "sha256.h"
#include "sha256_int.h"

#define SHA_TARGET __attribute__((target("sha,ssse3,sse4.1")))
/* The helpers inline even at -Os (vigild's flags): called, they pass the
 * state through memory, and the path ran at half its speed (891 against
 * 1944 MiB/s measured). */
#define SHA_INLINE SHA_TARGET __attribute__((always_inline)) static inline

/* K, FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes. */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* CPUID's answer, asked once (a CPUID traps to the hypervisor in a VM):
 * -1 not asked yet.  Atomic (relaxed: a plain load and store on x86)
 * for programs with threads (vigilctl's exporter); two threads that ask
 * at once store the same answer. */
static _Atomic int cpu_has_sha = -1;

/* see sha256_int.h */
int sha256_hw_cpu(void)
{
	int known = atomic_load_explicit(&cpu_has_sha, memory_order_relaxed);
	unsigned a, b, c, d;
	int ssse3_sse41 = 0, sha = 0;

	if (known >= 0)
		return known;
	if (__get_cpuid(1, &a, &b, &c, &d))
		ssse3_sse41 = (c & bit_SSSE3) && (c & bit_SSE4_1);
	/* leaf 7 subleaf 0, EBX bit 29; 0 when the CPU has no leaf 7 */
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		sha = (b & bit_SHA) != 0;
	known = ssse3_sse41 && sha;
	atomic_store_explicit(&cpu_has_sha, known, memory_order_relaxed);
	return known;
}

/* Sixteen bytes of message as four big-endian words, W[t] in dword 0. */
SHA_INLINE __m128i load_words(const uint8_t *p)
{
	const __m128i bswap32 = _mm_set_epi64x(0x0c0d0e0f08090a0bll,
					       0x0405060700010203ll);

	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
				bswap32);
}

/* Four rounds on W[t..t+3] = w with K[t..t+3] = k. */
SHA_INLINE void rounds4(__m128i *abef, __m128i *cdgh, __m128i w,
			       const uint32_t *k)
{
	__m128i wk = _mm_add_epi32(w, _mm_load_si128((const __m128i *)(const void *)k));
	/* rounds t, t+1: CDGH then is the old ABEF */
	__m128i x = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	/* rounds t+2, t+3 with the high half of wk */
	__m128i y = _mm_sha256rnds2_epu32(*abef, x, _mm_shuffle_epi32(wk, 0x0e));

	*cdgh = x;
	*abef = y;
}

/* W[t..t+3] from m0 = W[t-16..t-13], m1, m2, m3 = W[t-4..t-1]. */
SHA_INLINE __m128i schedule(__m128i m0, __m128i m1, __m128i m2,
				   __m128i m3)
{
	__m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1),
				  _mm_alignr_epi8(m3, m2, 4));

	return _mm_sha256msg2_epu32(t, m3);
}

/* One block: the 64 rounds, then H(i) = H(i-1) + the working words. */
SHA_INLINE void block(__m128i *abef, __m128i *cdgh, const uint8_t *p)
{
	__m128i abef0 = *abef, cdgh0 = *cdgh;
	__m128i m0 = load_words(p), m1 = load_words(p + 16);
	__m128i m2 = load_words(p + 32), m3 = load_words(p + 48);
	unsigned t;

	rounds4(abef, cdgh, m0, sha256_k);
	rounds4(abef, cdgh, m1, sha256_k + 4);
	rounds4(abef, cdgh, m2, sha256_k + 8);
	rounds4(abef, cdgh, m3, sha256_k + 12);
	for (t = 16; t < 64; t += 16) {
		m0 = schedule(m0, m1, m2, m3);
		rounds4(abef, cdgh, m0, sha256_k + t);
		m1 = schedule(m1, m2, m3, m0);
		rounds4(abef, cdgh, m1, sha256_k + t + 4);
		m2 = schedule(m2, m3, m0, m1);
		rounds4(abef, cdgh, m2, sha256_k + t + 8);
		m3 = schedule(m3, m0, m1, m2);
		rounds4(abef, cdgh, m3, sha256_k + t + 12);
	}
	*abef = _mm_add_epi32(*abef, abef0);
	*cdgh = _mm_add_epi32(*cdgh, cdgh0);
}

/* see sha256_int.h */
SHA_TARGET void sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	__m128i *hv = (__m128i *)(void *)h;
	__m128i abcd = _mm_loadu_si128(hv), efgh = _mm_loadu_si128(hv + 1);
	/* {A,B,C,D} -> {B,A,D,C} (dwords 0..3), {E,F,G,H} -> {H,G,F,E} */
	__m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
	__m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
	__m128i abef = _mm_alignr_epi8(badc, hgfe, 8);     /* {F,E,B,A} */
	__m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);  /* {H,G,D,C} */
	__m128i abfe, ghcd;

	for (; n > 0; n--, p += SHA256_BLOCK)
		block(&abef, &cdgh, p);
	abfe = _mm_shuffle_epi32(abef, 0x1b);               /* {A,B,E,F} */
	ghcd = _mm_shuffle_epi32(cdgh, 0xb1);               /* {G,H,C,D} */
	_mm_storeu_si128(hv, _mm_blend_epi16(abfe, ghcd, 0xf0));
	_mm_storeu_si128(hv + 1, _mm_alignr_epi8(ghcd, abfe, 8));
}

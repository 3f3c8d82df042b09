/*
 * cksum_x86_64.c — cksum_crc on x86_64: carry-less multiplication
 * (PCLMULQDQ) folding when the CPU has it, the table code otherwise.
 * The build links this file instead of cksum_generic.c on x86_64.
 *
 * Folding, for a CRC taken most significant bit first (no reflection, so
 * the products need no shift): load each 16-byte block byte-reversed, so
 * the 128-bit value is the block as a polynomial, first bit = x^127.  The
 * CRC register is XORed into the top 32 bits of the first block.  An
 * accumulator A = Ah*x^64 + Al that stands D bits before a later block is
 * moved onto it by
 *     A*x^D == Ah*(x^(D+64) mod P) + Al*(x^D mod P)      (mod P),
 * two 64x32-bit carry-less products (< 2^96) XORed into that block.  Eight
 * accumulators walk 128-byte strides (D = 1024) so the multiplier's
 * latency overlaps; at the end they fold one onto the next (D = 128),
 * single 16-byte blocks follow the same way.  The last accumulator A is
 * congruent to the whole prefix mod P, so the register is
 * (A*x^32) mod P = the table CRC of A's 16 bytes from a zero register;
 * the last < 16 bytes go through the table code.  That avoids a Barrett
 * reduction and its constants.
 *
 * Constants (gen_cksum_table.py --fold):
 *     x^1088 mod P = 0x10bd4d7c   x^1024 mod P = 0x567fddeb
 *     x^192  mod P = 0xc5b9cd4c   x^128  mod P = 0xe8a45605
 *
 * The one exception to protocol/'s header rule: <immintrin.h> (compiler
 * intrinsics) and __builtin_cpu_supports (libgcc/compiler-rt data filled
 * by a constructor).  qemu-x86_64 -cpu qemu64 (no PCLMULQDQ, which qemu
 * then refuses) runs the table fallback.
 */
#include <immintrin.h>

#include "cksum.h"

/* Below this the table code is as fast: the fold needs 128 bytes to start,
 * and its setup and 16-byte finish cost about as much as 128 table bytes. */
#define CKSUM_FOLD_MIN 256

#define FOLD_TARGET __attribute__((target("pclmul,ssse3,sse2")))

FOLD_TARGET static __m128i load_block(const uint8_t *p, __m128i bswap)
{
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
				bswap);
}

/* A moved forward by the distance k was made for, XORed into block b. */
FOLD_TARGET static __m128i fold(__m128i a, __m128i k, __m128i b)
{
	__m128i hi = _mm_clmulepi64_si128(a, k, 0x11);
	__m128i lo = _mm_clmulepi64_si128(a, k, 0x00);

	return _mm_xor_si128(_mm_xor_si128(hi, lo), b);
}

/* invariant: len >= 128 */
FOLD_TARGET static uint32_t crc_pclmul(uint32_t crc, const uint8_t *p,
				       size_t len)
{
	const __m128i bswap = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8,
					    7, 6, 5, 4, 3, 2, 1, 0);
	const __m128i k1024 = _mm_set_epi64x(0x10bd4d7c, 0x567fddeb);
	const __m128i k128 = _mm_set_epi64x(0xc5b9cd4c, 0xe8a45605);
	__m128i x0, x1, x2, x3, x4, x5, x6, x7, a;
	uint8_t out[16];

	x0 = _mm_xor_si128(load_block(p, bswap),
			   _mm_set_epi32((int)crc, 0, 0, 0));
	x1 = load_block(p + 16, bswap);
	x2 = load_block(p + 32, bswap);
	x3 = load_block(p + 48, bswap);
	x4 = load_block(p + 64, bswap);
	x5 = load_block(p + 80, bswap);
	x6 = load_block(p + 96, bswap);
	x7 = load_block(p + 112, bswap);
	p += 128;
	len -= 128;
	while (len >= 128) {
		x0 = fold(x0, k1024, load_block(p, bswap));
		x1 = fold(x1, k1024, load_block(p + 16, bswap));
		x2 = fold(x2, k1024, load_block(p + 32, bswap));
		x3 = fold(x3, k1024, load_block(p + 48, bswap));
		x4 = fold(x4, k1024, load_block(p + 64, bswap));
		x5 = fold(x5, k1024, load_block(p + 80, bswap));
		x6 = fold(x6, k1024, load_block(p + 96, bswap));
		x7 = fold(x7, k1024, load_block(p + 112, bswap));
		p += 128;
		len -= 128;
	}
	a = fold(x0, k128, x1);
	a = fold(a, k128, x2);
	a = fold(a, k128, x3);
	a = fold(a, k128, x4);
	a = fold(a, k128, x5);
	a = fold(a, k128, x6);
	a = fold(a, k128, x7);
	while (len >= 16) {
		a = fold(a, k128, load_block(p, bswap));
		p += 16;
		len -= 16;
	}
	_mm_storeu_si128((__m128i *)(void *)out, _mm_shuffle_epi8(a, bswap));
	crc = cksum_crc_sw(0, out, sizeof out);
	return cksum_crc_sw(crc, p, len);
}

/* see cksum.h */
uint32_t cksum_crc(uint32_t crc, const uint8_t *buf, size_t len)
{
	/* __builtin_cpu_supports reads what libgcc's constructor stored:
	 * a load and a test, no syscall. */
	if (len >= CKSUM_FOLD_MIN && __builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("ssse3"))
		return crc_pclmul(crc, buf, len);
	return cksum_crc_sw(crc, buf, len);
}

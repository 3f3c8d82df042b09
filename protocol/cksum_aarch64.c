/*
 * cksum_aarch64.c — cksum_crc on aarch64: carry-less multiplication
 * (PMULL, ARMv8 Crypto Extension) folding when the CPU has it, the table
 * code otherwise.  The build links this file instead of cksum_generic.c
 * on aarch64.
 *
 * The CPU check matters: the Cortex-A72 of the Raspberry Pi 4 (BCM2711)
 * has no Crypto Extension, so PMULL is used only when the kernel reports
 * HWCAP_PMULL.  The folding is the one of cksum_x86_64.c (same constants,
 * derivation there): each 16-byte block is byte-reversed so the first
 * message bit is x^127, eight accumulators advance 128 bytes at a time
 * (x^1088, x^1024 mod P), fold into one (x^192, x^128 mod P), and the
 * last accumulator's 16 bytes plus the tail go through the table code.
 *
 * The one exception to protocol/'s header rule: <arm_neon.h> (compiler
 * intrinsics) and <sys/auxv.h> (getauxval, which reads the auxiliary
 * vector in memory: no I/O, no allocation).  Checked under qemu-user: the
 * PMULL path runs on "-cpu max", and with HWCAP_PMULL hidden
 * (-Wl,--wrap=getauxval) no PMULL instruction is executed and the unit
 * tests pass (docs/protocol/cksum.md).
 */
#include <arm_neon.h>
#include <sys/auxv.h>

#include "cksum.h"

#ifndef HWCAP_PMULL
#define HWCAP_PMULL (1ul << 4) /* Linux arch/arm64 uapi hwcap.h */
#endif

/* Same threshold as on x86_64, for the same reason. */
#define CKSUM_FOLD_MIN 256

#define FOLD_TARGET __attribute__((target("+crypto")))

/* 128 bits, byte-reversed: lane 1 holds the first 8 message bytes. */
FOLD_TARGET static uint8x16_t load_block(const uint8_t *p)
{
	uint8x16_t v = vrev64q_u8(vld1q_u8(p));

	return vextq_u8(v, v, 8);
}

/* a moved forward by the distance k (lane 0 x^D, lane 1 x^(D+64)) was
 * made for, XORed into block b. */
FOLD_TARGET static uint8x16_t fold(uint8x16_t a, poly64x2_t k, uint8x16_t b)
{
	poly64x2_t ap = vreinterpretq_p64_u8(a);
	poly128_t hi = vmull_high_p64(ap, k);
	poly128_t lo = vmull_p64(vgetq_lane_p64(ap, 0), vgetq_lane_p64(k, 0));

	return veorq_u8(veorq_u8(vreinterpretq_u8_p128(hi),
				 vreinterpretq_u8_p128(lo)), b);
}

static poly64x2_t consts(uint64_t x_d, uint64_t x_d64)
{
	return vcombine_p64(vcreate_p64(x_d), vcreate_p64(x_d64));
}

/* invariant: len >= 128 */
FOLD_TARGET static uint32_t crc_pmull(uint32_t crc, const uint8_t *p,
				      size_t len)
{
	const poly64x2_t k1024 = consts(0x567fddeb, 0x10bd4d7c);
	const poly64x2_t k128 = consts(0xe8a45605, 0xc5b9cd4c);
	uint8x16_t x[8], a;
	uint8_t out[16];

	for (int i = 0; i < 8; i++)
		x[i] = load_block(p + 16 * i);
	x[0] = veorq_u8(x[0], vreinterpretq_u8_u32(
				      vsetq_lane_u32(crc, vdupq_n_u32(0), 3)));
	p += 128;
	len -= 128;
	while (len >= 128) {
		for (int i = 0; i < 8; i++)
			x[i] = fold(x[i], k1024, load_block(p + 16 * i));
		p += 128;
		len -= 128;
	}
	a = x[0];
	for (int i = 1; i < 8; i++)
		a = fold(a, k128, x[i]);
	while (len >= 16) {
		a = fold(a, k128, load_block(p));
		p += 16;
		len -= 16;
	}
	a = vrev64q_u8(a);
	vst1q_u8(out, vextq_u8(a, a, 8));
	crc = cksum_crc_sw(0, out, sizeof out);
	return cksum_crc_sw(crc, p, len);
}

/* see cksum.h */
uint32_t cksum_crc(uint32_t crc, const uint8_t *buf, size_t len)
{
	/* getauxval reads the auxiliary vector in memory: no syscall */
	if (len >= CKSUM_FOLD_MIN && (getauxval(AT_HWCAP) & HWCAP_PMULL))
		return crc_pmull(crc, buf, len);
	return cksum_crc_sw(crc, buf, len);
}

/*
 * cksum.c — the POSIX cksum CRC: public functions and the portable
 * slice-by-16 register update.
 *
 * Slice-by-16: the register is XORed into the first 4 bytes of a 16-byte
 * block, and the block's effect on the register is the XOR of 16 table
 * lookups, cksum_tab[15 - i][byte i] (byte i is followed by 15 - i more
 * bytes).  That is 16 independent loads per 16 bytes instead of a chain
 * of 16 dependent ones.  The tables (16 x 256 x 4 = 16 KiB, const, in
 * .rodata) come from gen_cksum_table.py; see docs/protocol/cksum.md for
 * why 16 and not 8.  A board whose CPU folds with carry-less
 * multiplication builds with -DCKSUM_SLICES=1: this code then only does
 * the folding's last 16 bytes and tails, a byte at a time over one 1 KiB
 * table, and the other 15 KiB are not in the binary.
 */
#include "cksum.h"

#include "cksum_table.h"

static uint32_t crc_byte(uint32_t crc, uint8_t b)
{
	return (crc << 8) ^ cksum_tab[0][(crc >> 24) ^ b];
}

#if CKSUM_SLICES > 1
static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* One 16-byte block; invariant: p has 16 readable bytes.  Only the first
 * four lookups depend on the register (the loop-carried chain); the other
 * twelve depend on the data alone and overlap with the previous block. */
static uint32_t crc_block16(uint32_t crc, const uint8_t *p)
{
	uint32_t d = cksum_tab[11][p[4]] ^ cksum_tab[10][p[5]] ^
		     cksum_tab[9][p[6]] ^ cksum_tab[8][p[7]] ^
		     cksum_tab[7][p[8]] ^ cksum_tab[6][p[9]] ^
		     cksum_tab[5][p[10]] ^ cksum_tab[4][p[11]] ^
		     cksum_tab[3][p[12]] ^ cksum_tab[2][p[13]] ^
		     cksum_tab[1][p[14]] ^ cksum_tab[0][p[15]];
	uint32_t a = crc ^ load_be32(p);

	return d ^ ((cksum_tab[15][a >> 24] ^ cksum_tab[14][(a >> 16) & 0xff]) ^
		    (cksum_tab[13][(a >> 8) & 0xff] ^ cksum_tab[12][a & 0xff]));
}
#endif

/* see cksum.h */
uint32_t cksum_crc_sw(uint32_t crc, const uint8_t *buf, size_t len)
{
#if CKSUM_SLICES > 1
	while (len >= 16) {
		crc = crc_block16(crc, buf);
		buf += 16;
		len -= 16;
	}
#endif
	while (len > 0) {
		crc = crc_byte(crc, *buf++);
		len--;
	}
	return crc;
}

/* see cksum.h */
void cksum_init(struct cksum_ctx *c)
{
	c->crc = 0;
	c->len = 0;
}

/* see cksum.h */
void cksum_update(struct cksum_ctx *c, const uint8_t *buf, size_t len)
{
	if (len == 0)
		return;
	c->crc = cksum_crc(c->crc, buf, len);
	c->len += len;
}

/* see cksum.h */
uint32_t cksum_final(const struct cksum_ctx *c)
{
	uint32_t crc = c->crc;

	/* POSIX: the length in the fewest octets, least significant first;
	 * at most 8 rounds for a 64-bit count. */
	for (uint64_t n = c->len; n != 0; n >>= 8)
		crc = crc_byte(crc, (uint8_t)(n & 0xff));
	return ~crc;
}

/* see cksum.h */
uint32_t cksum_buf(const uint8_t *buf, size_t len)
{
	struct cksum_ctx c;

	cksum_init(&c);
	cksum_update(&c, buf, len);
	return cksum_final(&c);
}

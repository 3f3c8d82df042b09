/*
 * sha256.c — the public functions of sha256.h: the choice of path per
 * context, and for the instruction path the buffering of partial blocks
 * and the final padding (FIPS 180-4 §5.1.1, §5.3.3, §6.2); the per-arch
 * file (sha256_int.h) compresses whole blocks.  mbedTLS's path is its own
 * streaming API, unchanged.
 */
#include <string.h>

#include "sha256.h"
#include "sha256_int.h"

/* sha256_hw_allow's switch, read when a context starts (with the arch
 * file's cached CPUID answer, the module's only mutable state). */
static int hw_allowed = 1;

/* H(0), FIPS 180-4 §5.3.3. */
static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* see sha256.h */
int sha256_hw_active(void)
{
	return hw_allowed && sha256_hw_cpu();
}

/* see sha256.h */
void sha256_hw_allow(int allow)
{
	hw_allowed = allow != 0;
}

/* c takes the instruction path.  Asking sha256_hw_cpu() again (a load
 * of a cached answer) lets a build without the path (sha256_generic.c:
 * a constant 0) drop the code of that path at link time. */
static int hw_path(const struct sha256_ctx *c)
{
	return c->hw && sha256_hw_cpu();
}

/* see sha256.h */
void sha256_init(struct sha256_ctx *c)
{
	c->hw = (uint8_t)sha256_hw_active();
	if (c->hw) {
		memcpy(c->u.hw.h, sha256_h0, sizeof c->u.hw.h);
		c->u.hw.len = 0;
		return;
	}
	mbedtls_sha256_init(&c->u.mb);
	/* fails only for an is224 other than 0 or 1 */
	(void)mbedtls_sha256_starts(&c->u.mb, 0);
}

/* invariant: s->len % SHA256_BLOCK bytes of s->blk are pending */
static void hw_update(struct sha256_hw *s, const uint8_t *p, size_t n)
{
	size_t have = (size_t)(s->len % SHA256_BLOCK);

	s->len += n;
	if (have > 0) {
		size_t take = SHA256_BLOCK - have;

		if (n < take) {
			if (n > 0)
				memcpy(s->blk + have, p, n);
			return;
		}
		memcpy(s->blk + have, p, take);
		sha256_hw_blocks(s->h, s->blk, 1);
		p += take;
		n -= take;
	}
	if (n >= SHA256_BLOCK) {
		sha256_hw_blocks(s->h, p, n / SHA256_BLOCK);
		p += n - n % SHA256_BLOCK;
		n %= SHA256_BLOCK;
	}
	if (n > 0)
		memcpy(s->blk, p, n);
}

/* see sha256.h */
void sha256_update(struct sha256_ctx *c, const uint8_t *buf, size_t len)
{
	if (hw_path(c)) {
		hw_update(&c->u.hw, buf, len);
		return;
	}
	/* mbedTLS's software and ARMv8 block functions cannot fail */
	(void)mbedtls_sha256_update(&c->u.mb, buf, len);
}

/* The padding (0x80, zeros, the message length in bits as 64 bits big
 * endian: FIPS 180-4 §5.1.1) and the digest H0..H7 big endian. */
static void hw_finish(struct sha256_hw *s, uint8_t out[SHA256_SIZE])
{
	size_t have = (size_t)(s->len % SHA256_BLOCK);
	uint64_t bits = s->len << 3;    /* lengths below 2^61 bytes */
	unsigned i;

	s->blk[have++] = 0x80;
	if (have > SHA256_BLOCK - 8) {  /* no room for the length */
		memset(s->blk + have, 0, SHA256_BLOCK - have);
		sha256_hw_blocks(s->h, s->blk, 1);
		have = 0;
	}
	memset(s->blk + have, 0, SHA256_BLOCK - 8 - have);
	put_be32(s->blk + SHA256_BLOCK - 8, (uint32_t)(bits >> 32));
	put_be32(s->blk + SHA256_BLOCK - 4, (uint32_t)bits);
	sha256_hw_blocks(s->h, s->blk, 1);
	for (i = 0; i < 8; i++)
		put_be32(out + 4 * i, s->h[i]);
}

/* see sha256.h */
void sha256_finish(struct sha256_ctx *c, uint8_t out[SHA256_SIZE])
{
	if (hw_path(c)) {
		hw_finish(&c->u.hw, out);
		return;
	}
	/* as sha256_update: the software path has no failure */
	(void)mbedtls_sha256_finish(&c->u.mb, out);
	mbedtls_sha256_free(&c->u.mb);
}

/* see sha256.h */
void sha256_buf(const uint8_t *buf, size_t len, uint8_t out[SHA256_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, buf, len);
	sha256_finish(&c, out);
}

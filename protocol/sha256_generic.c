/*
 * sha256_generic.c — the targets without a SHA-256 instruction path of
 * ours (aarch64, whose mbedTLS uses the ARMv8 instructions itself, and
 * armv7): every context takes mbedTLS's path.  The build links exactly
 * one of sha256_generic.c and sha256_x86_64.c.
 */
#include "sha256.h"
#include "sha256_int.h"

/* see sha256_int.h */
int sha256_hw_cpu(void)
{
	return 0;
}

/* see sha256_int.h: never called here (sha256_hw_cpu is 0); defined for
 * the link, and a link-time optimized build drops it. */
void sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	(void)h; /* unused: no instruction path on this target */
	(void)p;
	(void)n;
}

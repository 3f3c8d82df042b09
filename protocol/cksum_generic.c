/*
 * cksum_generic.c — cksum_crc for targets without a carry-less multiply
 * path (armv7 and anything else): the table code of cksum.c.  The build
 * links exactly one of cksum_generic.c, cksum_x86_64.c, cksum_aarch64.c
 * (like musl's per-arch replacement files).
 */
#include "cksum.h"

/* see cksum.h */
uint32_t cksum_crc(uint32_t crc, const uint8_t *buf, size_t len)
{
	return cksum_crc_sw(crc, buf, len);
}

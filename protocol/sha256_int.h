/*
 * sha256_int.h — between sha256.c and the per-arch file the build links
 * (sha256_x86_64.c or sha256_generic.c).  Nothing outside them includes it.
 */
#ifndef VIGIL_SHA256_INT_H
#define VIGIL_SHA256_INT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this CPU runs sha256_hw_blocks, 0 otherwise.  Never fails. */
int sha256_hw_cpu(void);

/* Compresses the n whole blocks at p (n * SHA256_BLOCK bytes) into the
 * working words h (H0..H7, FIPS 180-4 §6.2.2).  Call only when
 * sha256_hw_cpu() is 1. */
void sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t n);

#endif

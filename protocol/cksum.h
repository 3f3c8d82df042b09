/*
 * cksum.h — the POSIX cksum CRC (what `cksum FILE` prints), streaming.
 *
 * The CRC is CRC-32 with polynomial 0x04C11DB7, bits taken most significant
 * first, register starting at 0; after the data, the byte count is fed in
 * as the fewest bytes that hold it, least significant byte first (none for
 * an empty input), and the result is inverted.  CyberBackup v3 checks every
 * file with it (server and client compute it over the plaintext).
 *
 * Usage:
 *     struct cksum_ctx c;
 *     cksum_init(&c);
 *     cksum_update(&c, buf, n);      any number of times, any split
 *     crc = cksum_final(&c);
 *
 * The context is a plain struct of the caller's: nothing is allocated and
 * there is no global mutable state, so any number of contexts may run at
 * once (one per transfer).
 *
 * Implementations: cksum.c holds the portable slice-by-16 code
 * (cksum_crc_sw, 16 KiB of const tables from cksum_table.h) and the public
 * functions; cksum_crc, the register update they use, comes from exactly
 * one of cksum_generic.c (the table code), cksum_x86_64.c (PCLMULQDQ
 * folding when the CPU has it) or cksum_aarch64.c (PMULL when the CPU has
 * it), chosen by the build per target architecture.  All give bit-identical
 * results (tests/unit/cksum_test.c).  docs/protocol/cksum.md has the
 * algorithm and the measured speeds.
 */
#ifndef VIGIL_CKSUM_H
#define VIGIL_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/* `cksum` of the empty input, and of "123456789" (known answers). */
#define CKSUM_EMPTY     4294967295u
#define CKSUM_123456789 930766865u

struct cksum_ctx {
	uint32_t crc;   /* CRC register over the data so far (not inverted) */
	uint64_t len;   /* bytes fed so far; 64 bits so no file size wraps */
};

/* Starts a computation.  Never fails. */
void cksum_init(struct cksum_ctx *c);

/* Feeds len bytes.  buf is borrowed for the call only and may be NULL
 * when len is 0.  Never fails; any split of the input gives the same
 * result as one call. */
void cksum_update(struct cksum_ctx *c, const uint8_t *buf, size_t len);

/* The cksum of everything fed since cksum_init, as `cksum` prints it.
 * Does not change the context: more data may follow and final may be
 * called again. */
uint32_t cksum_final(const struct cksum_ctx *c);

/* One-shot: cksum of buf[0..len). */
uint32_t cksum_buf(const uint8_t *buf, size_t len);

/* The raw CRC register update: returns the register after feeding
 * buf[0..len) into register crc (no length, no inversion).  The build's
 * fastest implementation (see above). */
uint32_t cksum_crc(uint32_t crc, const uint8_t *buf, size_t len);

/* The same, always the portable table-driven code: accelerated paths
 * use it for short inputs and tails, and tests compare against it. */
uint32_t cksum_crc_sw(uint32_t crc, const uint8_t *buf, size_t len);

#endif

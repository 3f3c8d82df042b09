/*
 * sha256.h — SHA-256 (FIPS 180-4), streaming: the content hash of every
 * file a backup moves (vigild's engine, vigil-backupd's content store).
 *
 * Usage:
 *     struct sha256_ctx c;
 *     sha256_init(&c);
 *     sha256_update(&c, buf, n);     any number of times, any split
 *     sha256_finish(&c, digest);
 *
 * The context is a plain struct of the caller's with no pointers: a copy
 * (struct assignment) is a checkpoint of the hash state that may be
 * continued later, or several times (the engine's resume checkpoints,
 * backup_engine.h).  Nothing is allocated and nothing needs freeing.
 *
 * Two paths, chosen per context when it starts:
 *   - the CPU's SHA-256 instructions where this file's build has code for
 *     them (sha256_x86_64.c: SHA-NI, sha256rnds2/sha256msg1/sha256msg2,
 *     when CPUID says the CPU has them, with SSSE3 and SSE4.1);
 *   - otherwise mbedTLS's SHA-256, which vigild links for TLS anyway (on
 *     aarch64 it uses the ARMv8 SHA-256 instructions itself:
 *     toolchain/vigil_mbedtls_config.h), so boards without a path here do
 *     not grow.
 * The build links exactly one of sha256_x86_64.c and sha256_generic.c,
 * as for cksum.  Both paths give the same digests (tests/unit/
 * sha256_test.c, against OpenSSL tests/integration/test_sha256_content.py);
 * make bench measures both (backup_bench: ~1930 against ~440 MiB/s on
 * the EPYC of docs/benchmarks.md).
 */
#ifndef VIGIL_SHA256_H
#define VIGIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/sha256.h"

#define SHA256_SIZE 32          /* digest bytes */
#define SHA256_BLOCK 64         /* bytes per compression */

/* The instruction path's state: the eight working words H0..H7, the
 * bytes fed so far, and the start of a block that is not complete
 * (len % SHA256_BLOCK bytes of it are valid). */
struct sha256_hw {
	uint32_t h[8];
	uint64_t len;
	uint8_t blk[SHA256_BLOCK];
};

struct sha256_ctx {
	union {
		mbedtls_sha256_context mb;      /* hw == 0 */
		struct sha256_hw hw;            /* hw == 1 */
	} u;
	uint8_t hw;
};

/* Starts a hash (on a context in any state; nothing to free first).
 * Never fails. */
void sha256_init(struct sha256_ctx *c);

/* Feeds len bytes.  buf is borrowed for the call only and may be NULL
 * when len is 0.  Never fails; any split gives the same digest. */
void sha256_update(struct sha256_ctx *c, const uint8_t *buf, size_t len);

/* Writes the digest of everything fed since sha256_init.  The context is
 * spent: sha256_init it again before more updates (finish a copy to
 * read a digest and go on). */
void sha256_finish(struct sha256_ctx *c, uint8_t out[SHA256_SIZE]);

/* One-shot: the digest of buf[0..len). */
void sha256_buf(const uint8_t *buf, size_t len, uint8_t out[SHA256_SIZE]);

/* 1 when contexts started now take the instruction path, 0 when they
 * take mbedTLS's.  Never fails. */
int sha256_hw_active(void);

/* allow 0: contexts started after this take mbedTLS's path even on a CPU
 * with the instructions (the unit tests and backup_bench run both paths
 * on one machine); 1 (the default): the instructions where there are.
 * Contexts already started keep their path. */
void sha256_hw_allow(int allow);

#endif

/*
 * cbor_diag_int.h — internals shared by cbor_diag.c (the walker) and
 * cbor_diag_num.c (number spelling).  Not part of the contract.
 */
#ifndef VIGIL_CBOR_DIAG_INT_H
#define VIGIL_CBOR_DIAG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cbor.h"
#include "cbor_diag.h"

/* Decimal of a CBOR_DIAG_BIGNUM_MAX-byte number: 512 bits < 10^155, so
 * at most 155 digits (156 after adding 1), a sign and the NUL. */
#define CBOR_DIAG_BIGDEC_MAX 160

/*
 * The decimal digits of the big-endian unsigned integer p[0..n) plus add
 * (0 or 1: tag 3 shows -1 - n as "-" and n + 1) into buf, NUL-terminated.
 * Leading zero bytes are allowed.  invariant: n <= CBOR_DIAG_BIGNUM_MAX,
 * cap >= CBOR_DIAG_BIGDEC_MAX.
 * @retval the length written (>= 1)
 */
size_t cbor_diag_bigdec(const uint8_t *p, size_t n, unsigned add, char *buf,
			size_t cap);

/*
 * Decimal of a uint64_t plus add (0 or 1; -1 - n for n = 2^64 - 1 needs
 * 18446744073709551616) into buf[0..21), NUL-terminated.
 * @retval the length written
 */
size_t cbor_diag_u64(uint64_t v, unsigned add, char *buf);


/* ---- the walker's state (cbor_diag.c) and its output (cbor_diag_str.c) */

/* How a byte string is spelled: diag hex, or JSON (RFC 8949 §3.4.5.2). */
enum cbor_benc {
	CBOR_BENC_HEX,    /* diag: lowercase hex inside h'' */
	CBOR_BENC_B64URL, /* JSON default and tag 21: base64url, no padding */
	CBOR_BENC_B64,    /* tag 22: base64 with padding */
	CBOR_BENC_B16,    /* tag 23: uppercase hex */
};

/* Output: the caller's buffer (sink NULL) or a staging buffer + sink. */
struct cbor_dout {
	char *buf;
	size_t cap; /* usable bytes of buf */
	size_t len;
	cbor_diag_sink sink; /* NULL: buf is the caller's, full is -ENOSPC */
	void *arg;
	int err;
	char stage[CBOR_DIAG_CHUNK];
};

struct cbor_dframe {
	uint64_t count; /* children written */
	uint8_t type;   /* CBOR_ARRAY/MAP/TAG, or BYTES/TEXT (indefinite) */
	uint8_t benc;   /* JSON: spelling of byte strings inside */
	uint8_t bignum; /* JSON tag frame: 2 or 3 when it is a bignum tag */
};

/* One walk: a frame per open container, mirroring the decoder's. */
struct cbor_dwalk {
	struct cbor_dout o;
	struct cbor_dec *d;
	unsigned flags;
	size_t depth;
	struct cbor_dframe st[CBOR_MAX_DEPTH];
	uint8_t carry[2]; /* JSON base64: bytes of an unfinished group */
	uint8_t ncarry;
	uint8_t senc;     /* spelling of the open indefinite byte string */
};

/* Appends n bytes (flushing to the sink when the stage is full); the first
 * error (-ENOSPC without a sink, or the sink's) is kept in o->err and
 * stops all later output. */
void cbor_dout_put(struct cbor_dout *o, const char *p, size_t n);
void cbor_dout_str(struct cbor_dout *o, const char *s);
/* Passes the staged bytes to the sink (no-op without one). */
void cbor_dout_flush(struct cbor_dout *o);
/* Text body without quotes, JSON-escaped (\uXXXX for non-ASCII with
 * CBOR_DIAG_ASCII); p[0..n) is valid UTF-8 (checked by the caller). */
void cbor_dwalk_text(struct cbor_dwalk *w, const uint8_t *p, size_t n);
/* Byte string body in spelling e; base64 keeps up to 2 bytes in w->carry
 * across chunks, cbor_dwalk_b64_end() writes the last group. */
void cbor_dwalk_bytes(struct cbor_dwalk *w, const uint8_t *p, size_t n,
		      enum cbor_benc e);
void cbor_dwalk_b64_end(struct cbor_dwalk *w, enum cbor_benc e);

#endif

/*
 * cbor.h — CBOR (RFC 8949): a streaming encoder into a caller buffer and a
 * pull decoder over a caller buffer.  Pure: no I/O, no allocation, bounded.
 *
 * Encoder.  struct cbor_enc writes items one call at a time, each with the
 * shortest head (preferred serialization, RFC 8949 §4.1/§4.2.1): integers
 * and lengths in the fewest bytes, floats in the shortest width that holds
 * the value exactly, NaN as f9 7e00.  Every call either writes its whole
 * item or nothing.  The first error is sticky (STYLE rule 4): every later
 * call returns it without writing, so a long sequence of calls is checked
 * once with cbor_enc_finish().  cbor_enc_rollback() drops a tail (e.g. the
 * element that did not fit) and clears the error.  Arrays and maps take
 * their count up front; the caller writes that many items (maps: 2 x pairs)
 * — the encoder does not count them.  Indefinite lengths exist only so that
 * every item can be reproduced (cbor_copy, tests); vigil's own documents use
 * definite lengths.
 *
 * Decoder.  struct cbor_dec hands out one event per cbor_dec_next() call, in
 * document order: a head (int, string, array, map, tag, simple, float) or
 * CBOR_END when an array, map, tag or indefinite string closes.  Every
 * container, tag and indefinite string produces exactly one CBOR_END, also
 * the definite ones (it comes after their last child).  A tag is a container
 * of one item.  Strings point into the input (zero copy).  Input may be a
 * CBOR sequence (RFC 8742): after a top-level item, the next one follows;
 * 0 is returned at the end of input between items.
 *
 * What the decoder checks: everything of RFC 8949 Appendix F
 * (well-formedness), each with its own enum cbor_reason and the offset of
 * the offending byte, and never reads past buf + len.  Optionally the
 * UTF-8 of text strings (CBOR_DEC_UTF8, or per call in cbor_dec_text_*).
 * Not checked, the caller's business: duplicate map keys, key order, tag
 * content types (e.g. tag 0 must hold text), preferred encoding of the
 * input.  Errors are sticky: after one, every call returns it.
 *
 * Limits.  CBOR_MAX_DEPTH open containers (arrays, maps, tags, indefinite
 * strings).  Encoder/writer buffers are used up to CBOR_BUF_MAX bytes so
 * that every byte count fits the int return value.
 *
 * Return codes (negated errno, STYLE rule 3):
 *   -ENOSPC   encoder/writer output buffer full (nothing of the item written)
 *   -EBADMSG  input not well-formed (or not valid, when a check was asked
 *             for); cbor_dec_reason()/cbor_dec_offset() say what and where
 *   -EMSGSIZE input nests deeper than CBOR_MAX_DEPTH (CBOR_R_DEPTH)
 *   -EINVAL   misuse: a reserved simple value, a float that does not fit
 *             the requested width, a bad argument
 */
#ifndef VIGIL_CBOR_H
#define VIGIL_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Open containers the decoder tracks.  Vigil's deepest document (the
 * status: root map -> health map -> check map -> value) nests 3 deep; 16
 * leaves room for tags and later schema growth, and bounds the decoder at
 * 16 x 16-byte frames (~260 bytes of context), the writers' state and any
 * caller recursion.  Deeper input is refused with -EMSGSIZE (CBOR_R_DEPTH).
 * A tag counts as a container: c6 c6 c6 ... is the cheapest way to nest.
 */
#define CBOR_MAX_DEPTH 16

/* Largest buffer the encoder and writers use (bigger ones are clamped):
 * every returned count must fit an int. */
#define CBOR_BUF_MAX 0x7fffffffu

/* Longest head: initial byte + 8-byte argument. */
#define CBOR_HEAD_MAX 9

/* Major types (RFC 8949 §3.1); also the first values of enum cbor_type. */
enum cbor_type {
	CBOR_UINT = 0,   /* val: the value */
	CBOR_NEGINT = 1, /* val = n; the value is -1 - n */
	CBOR_BYTES = 2,  /* ptr/len (definite), or CBOR_INDEF start */
	CBOR_TEXT = 3,   /* ptr/len (definite), or CBOR_INDEF start */
	CBOR_ARRAY = 4,  /* val: element count (definite) */
	CBOR_MAP = 5,    /* val: pair count (definite) */
	CBOR_TAG = 6,    /* val: tag number; its content and CBOR_END follow */
	CBOR_SIMPLE = 7, /* val: simple value (20 false, 21 true, ...) */
	CBOR_FLOAT = 8,  /* f: value; val: raw bits; width: 2, 4 or 8 */
	CBOR_END = 9,    /* val: type of the closed container; flags: its
			  * CBOR_INDEF; off: offset of its break or end */
};

/* Simple values with names (RFC 8949 §3.3). */
#define CBOR_SIMPLE_FALSE 20
#define CBOR_SIMPLE_TRUE  21
#define CBOR_SIMPLE_NULL  22
#define CBOR_SIMPLE_UNDEF 23

/* struct cbor_item flags */
#define CBOR_INDEF 0x01 /* indefinite-length start (or CBOR_END of one) */
#define CBOR_CHUNK 0x02 /* a chunk of an indefinite-length string */
#define CBOR_KEY   0x04 /* the item is a map key (not a value) */

/* Why input was refused: one reason per RFC 8949 Appendix F class, plus
 * the limits, the optional validity checks and the errors of layers above
 * (cbor_diag, schema readers) that report through cbor_dec_fail(). */
enum cbor_reason {
	CBOR_R_NONE = 0,
	CBOR_R_TRUNC_ARG,    /* input ends inside a head's argument */
	CBOR_R_TRUNC_STRING, /* a string's length runs past the end */
	CBOR_R_TRUNC_ITEM,   /* input ends where an item or break is due:
			      * open array/map, tag without content,
			      * indefinite item without its break */
	CBOR_R_RESERVED_AI,  /* additional information 28, 29 or 30 */
	CBOR_R_INDEF_TYPE,   /* indefinite length on major type 0, 1 or 6 */
	CBOR_R_STRAY_BREAK,  /* break outside an indefinite array/map/string */
	CBOR_R_ODD_MAP,      /* break in an indefinite map after a key */
	CBOR_R_CHUNK_TYPE,   /* chunk is not a string of the same major type */
	CBOR_R_CHUNK_INDEF,  /* chunk is itself an indefinite string */
	CBOR_R_SIMPLE,       /* two-byte simple value below 32 (f8 00..f8 1f) */
	CBOR_R_DEPTH,        /* more than CBOR_MAX_DEPTH open containers */
	CBOR_R_UTF8,         /* text string is not valid UTF-8 (when checked) */
	CBOR_R_JSON_KEY,     /* JSON: map key is not a text string */
	CBOR_R_JSON_NONFINITE, /* JSON: NaN or Infinity */
	CBOR_R_JSON_UNDEF,   /* JSON: undefined */
	CBOR_R_JSON_SIMPLE,  /* JSON: simple value other than false/true/null */
	CBOR_R_TYPE,         /* schema: unexpected type (callers) */
	CBOR_R_RANGE,        /* schema: value out of range (callers) */
	CBOR_R_COUNT_
};

/* ---------------------------------------------------------------- encoder */

struct cbor_enc {
	uint8_t *buf; /* NULL: count only */
	size_t cap;
	size_t len;   /* bytes committed */
	int err;      /* 0, or the first error (sticky) */
};

/*
 * Starts encoding into buf[0..cap).  buf is borrowed until the last call;
 * buf == NULL counts the bytes a sequence would need without writing them
 * (cap still limits; pass CBOR_BUF_MAX).  cap is clamped to CBOR_BUF_MAX.
 */
void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap);

/*
 * Each writer below appends one item (or one head) in preferred
 * serialization.
 * @retval >0 bytes written
 * @retval -ENOSPC the item does not fit; nothing of it was written
 * @retval -EINVAL misuse (documented per call); nothing written
 * @retval <0 an earlier call failed (sticky): that call's code
 */
int cbor_enc_uint(struct cbor_enc *e, uint64_t v);
int cbor_enc_int(struct cbor_enc *e, int64_t v);
/* The value -1 - n: reaches -2^64, beyond int64_t. */
int cbor_enc_negint(struct cbor_enc *e, uint64_t n);
/* A byte/text string: head + n bytes of p (p borrowed; may be NULL if
 * n == 0).  Text is not checked for UTF-8. */
int cbor_enc_bytes(struct cbor_enc *e, const void *p, size_t n);
int cbor_enc_text(struct cbor_enc *e, const char *s, size_t n);
/* A NUL-terminated text string (without the NUL). */
int cbor_enc_cstr(struct cbor_enc *e, const char *s);
/* Heads: the caller then writes count items / pairs key, value. */
int cbor_enc_array(struct cbor_enc *e, uint64_t count);
int cbor_enc_map(struct cbor_enc *e, uint64_t pairs);
/* Tag head: the caller then writes exactly one content item. */
int cbor_enc_tag(struct cbor_enc *e, uint64_t tag);
/* Simple value v.  @retval -EINVAL v in 24..31 (reserved, RFC 8949 §3.3) */
int cbor_enc_simple(struct cbor_enc *e, unsigned v);
int cbor_enc_bool(struct cbor_enc *e, bool v);
int cbor_enc_null(struct cbor_enc *e);
int cbor_enc_undef(struct cbor_enc *e);
/* A float in the shortest of half/single/double that holds v exactly
 * (subnormals of each width included; -0.0 is f9 8000);
 * any NaN becomes f9 7e00, +-Infinity f9 7c00 / f9 fc00 (RFC 8949 §4.2.2). */
int cbor_enc_float(struct cbor_enc *e, double v);
/*
 * A float of exactly `width` bytes (2 half, 4 single, 8 double).  NaN is
 * written as that width's quiet NaN (7e00, 7fc00000, 7ff8000000000000).
 * @retval -EINVAL width not 2/4/8, or v not exactly representable in it
 */
int cbor_enc_float_width(struct cbor_enc *e, double v, unsigned width);
/*
 * Start of an indefinite-length item of type t (CBOR_BYTES, CBOR_TEXT,
 * CBOR_ARRAY, CBOR_MAP), closed by cbor_enc_break().  Chunks of strings
 * are written with cbor_enc_bytes/cbor_enc_text.  The encoder does not
 * track nesting: balancing starts and breaks is the caller's job.
 * @retval -EINVAL t is another type
 */
int cbor_enc_indef(struct cbor_enc *e, enum cbor_type t);
int cbor_enc_break(struct cbor_enc *e);
/* Low level: a head of major type `major` (0..7) with argument arg in the
 * shortest form.  @retval -EINVAL major > 7 */
int cbor_enc_head(struct cbor_enc *e, unsigned major, uint64_t arg);
/* Low level: n raw bytes (a pre-encoded item, or a string body after its
 * head).  p borrowed. */
int cbor_enc_raw(struct cbor_enc *e, const void *p, size_t n);

/* Bytes committed so far (a mark for cbor_enc_rollback). */
size_t cbor_enc_len(const struct cbor_enc *e);
/* 0, or the sticky error. */
int cbor_enc_error(const struct cbor_enc *e);
/*
 * Ends a sequence of calls.
 * @retval >=0 bytes committed
 * @retval <0 the first error of any call since init/rollback
 */
int cbor_enc_finish(const struct cbor_enc *e);
/*
 * Drops everything after mark (a value of cbor_enc_len) and clears the
 * sticky error: "try to append an element; if it did not fit, end here".
 * @retval 0 done
 * @retval -EINVAL mark > cbor_enc_len(e) (nothing changed)
 */
int cbor_enc_rollback(struct cbor_enc *e, size_t mark);

/* ---------------------------------------------------------------- decoder */

/* cbor_dec_init flags */
#define CBOR_DEC_UTF8 0x1 /* check UTF-8 of every text string and chunk */

struct cbor_item {
	uint64_t val;       /* see enum cbor_type */
	double f;           /* CBOR_FLOAT: the value */
	const uint8_t *ptr; /* definite strings: bytes in the input (borrowed
			     * like the input), else NULL */
	size_t len;         /* definite strings: byte count */
	size_t off;         /* offset of the head in the input */
	uint8_t type;       /* enum cbor_type */
	uint8_t flags;      /* CBOR_INDEF | CBOR_CHUNK | CBOR_KEY */
	uint8_t width;      /* argument bytes after the initial byte:
			     * 0, 1, 2, 4, 8 (floats: 2, 4, 8) */
	uint8_t depth;      /* open containers around the item (top: 0);
			     * a CBOR_END has the depth of its start */
};

struct cbor_frame {
	uint64_t left;   /* definite: items due (a map's pairs count twice);
			  * indefinite: items read so far.  A map's key is
			  * due when left is even. */
	uint8_t type;    /* CBOR_BYTES/TEXT/ARRAY/MAP/TAG */
	uint8_t indef;   /* closed by a break */
	uint8_t half;    /* unused, 0 (the key/value turn is left's parity) */
};

/* A plain struct: copy it to save a position (no interior pointers). */
struct cbor_dec {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	size_t err_off;
	int err;        /* 0, or the sticky error */
	uint8_t reason; /* enum cbor_reason of err */
	uint8_t flags;  /* CBOR_DEC_* */
	uint8_t depth;  /* open frames */
	struct cbor_frame stack[CBOR_MAX_DEPTH];
};

/* Starts decoding buf[0..len); buf is borrowed for the decoder's life (items
 * point into it).  flags: CBOR_DEC_*.  buf == NULL is empty input.
 * Error offsets (cbor_dec_offset): the initial byte of the head at fault
 * (also for a string that runs past the end or is not UTF-8), the break at
 * fault, or len when input ends where an item or break is due. */
void cbor_dec_init(struct cbor_dec *d, const uint8_t *buf, size_t len,
		   unsigned flags);

/*
 * The next event (see the top of this file).
 * @retval 1 *it filled
 * @retval 0 end of input, outside any item (a complete CBOR sequence)
 * @retval -EBADMSG not well-formed (or invalid UTF-8 with CBOR_DEC_UTF8)
 * @retval -EMSGSIZE nesting deeper than CBOR_MAX_DEPTH
 */
int cbor_dec_next(struct cbor_dec *d, struct cbor_item *it);
/* Like cbor_dec_next without consuming.  An earlier sticky error is
 * returned; an error found by the peek itself is returned but, d being
 * const, not stored (the next cbor_dec_next stores it). */
int cbor_dec_peek(const struct cbor_dec *d, struct cbor_item *it);
/*
 * Consumes the next whole item (a container with everything in it): for
 * map values under unknown keys.
 * @retval 1 skipped
 * @retval 0 nothing to skip: the enclosing container's end (not consumed)
 *         or the end of input
 * @retval <0 as cbor_dec_next
 */
int cbor_dec_skip(struct cbor_dec *d);

/*
 * Typed reads of the next item.  On a type or range mismatch the item is
 * NOT consumed and the decoder stays usable (call cbor_dec_fail to make it
 * an error with a position).  A CBOR_END or the end of input is a type
 * mismatch too (nothing consumed).  Indefinite starts never match.
 * @retval 0 read and consumed
 * @retval -EBADMSG wrong type / out of range (not consumed), or malformed
 * @retval <0 other cbor_dec_next errors
 */
int cbor_dec_uint(struct cbor_dec *d, uint64_t *v);
int cbor_dec_int(struct cbor_dec *d, int64_t *v);      /* major 0 or 1 */
int cbor_dec_bool(struct cbor_dec *d, bool *v);
int cbor_dec_float(struct cbor_dec *d, double *v);     /* any width */

/* cbor_dec_text_* flags */
#define CBOR_TEXT_UTF8 0x1 /* check UTF-8: CBOR_R_UTF8 (sticky) if bad */

/*
 * Zero copy: the next item must be a definite text string; *s points into
 * the input (NOT NUL-terminated), *n is its length.
 * @retval 0 read and consumed
 * @retval -EBADMSG not a definite text string (not consumed; indefinite
 *         strings need cbor_dec_text_copy), or bad UTF-8 (sticky)
 */
int cbor_dec_text_ref(struct cbor_dec *d, const char **s, size_t *n,
		      unsigned flags);
/*
 * Copies the next text string, definite or indefinite, into buf and
 * NUL-terminates it.  Embedded NULs are copied (and counted).
 * @retval >=0 length without the NUL; consumed
 * @retval -ENOSPC cap < length + 1 (not consumed: retry with more room;
 *         buf's content is then unspecified).  cap is clamped to
 *         CBOR_BUF_MAX so that the length fits the int result.
 * @retval -EBADMSG not a text string (not consumed), malformed, bad UTF-8
 */
int cbor_dec_text_copy(struct cbor_dec *d, char *buf, size_t cap,
		       unsigned flags);

/*
 * Puts d into the failed state with reason r at offset off (for layers
 * above: schema and JSON errors).  Keeps an earlier error.
 * @retval the sticky error now in d (-EBADMSG, or -EMSGSIZE for
 *         CBOR_R_DEPTH)
 */
int cbor_dec_fail(struct cbor_dec *d, enum cbor_reason r, size_t off);
/* 0, or the sticky error. */
int cbor_dec_error(const struct cbor_dec *d);
/* Reason and input offset of the sticky error (CBOR_R_NONE, 0 if none). */
enum cbor_reason cbor_dec_reason(const struct cbor_dec *d);
size_t cbor_dec_offset(const struct cbor_dec *d);

/* ------------------------------------------------------------------ misc */

/* cbor_copy flags */
#define CBOR_COPY_DEFINITE 0x1 /* indefinite items become definite */

/*
 * Re-encodes the next whole item of d into e in preferred serialization
 * (shortest heads and floats, NaN as f9 7e00).  Indefinite-length items stay
 * indefinite (chunks kept) unless CBOR_COPY_DEFINITE: then arrays and maps
 * get their counted length and string chunks are joined.  Map key order is
 * kept.  Cost O(n) per item, O(n * depth) with CBOR_COPY_DEFINITE.
 * @retval 1 copied
 * @retval 0 nothing to copy (end of input or of the enclosing container)
 * @retval <0 a decoder error, or the encoder's (-ENOSPC, sticky in e).
 *         Either way nothing of the item stays in e (cbor_enc_len is what
 *         it was); on an encoder error d is also put back before the item,
 *         so after cbor_enc_rollback into more room the same call can be
 *         retried.  A decoder error is sticky in d.
 */
int cbor_copy(struct cbor_dec *d, struct cbor_enc *e, unsigned flags);

/* true if p[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool cbor_utf8_valid(const uint8_t *p, size_t n);

/* IEEE 754 binary16 bits -> double (exact). */
double cbor_half_to_double(uint16_t h);

/* English text for a reason ("truncated string"); never NULL. */
const char *cbor_reason_str(enum cbor_reason r);

#endif

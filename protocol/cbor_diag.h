/*
 * cbor_diag.h — CBOR items as text: RFC 8949 §8 diagnostic notation, or
 * JSON following the conversion guidance of RFC 8949 §6.1.  Pure: walks a
 * struct cbor_dec (cbor.h) and writes into a caller buffer or through a
 * small output callback; no I/O, no allocation, bounded stack.
 *
 * Diagnostic notation (one item per call, no encoding indicators):
 *   integers      0  -1  18446744073709551615  -18446744073709551616
 *   byte strings  h''  h'01ff'            text  "a\"b\n\u00fc" (see ASCII)
 *   arrays, maps  [1, 2]  {1: "a", "b": h''}    tags  1(1363896240)
 *   simple        false true null undefined simple(16)
 *   floats        0.0 -0.0 1.5 100000.0 1.0e+300 5.960464477539063e-8
 *                 Infinity -Infinity NaN (shortest text that reads back
 *                 as the same double: ECMAScript Number::toString rules,
 *                 plus ".0" when there is no fraction, as in RFC 8949
 *                 Appendix A; half/single floats print as their double)
 *   indefinite    [_ 1, 2]  {_ "a": 1}  (_ h'01', h'02')  (_ "a", "b")
 *                 ''_ and ""_ for indefinite strings without chunks
 *                 (RFC 8949 §8.1: "(_ )" would not say which type)
 * Text strings use JSON escapes: \" \\ \b \f \n \r \t and \u00XX for the
 * other C0 controls; other characters are copied as UTF-8 unless
 * CBOR_DIAG_ASCII asks for \uXXXX (surrogate pairs above U+FFFF).
 *
 * JSON (CBOR_DIAG_JSON), RFC 8949 §6.1:
 *   integers, finite floats -> numbers (same spelling as above)
 *   text -> string; byte strings -> base64url without padding, or as the
 *   enclosing tag 21 (base64url), 22 (base64 with padding) or 23 (base16,
 *   uppercase) says; tag 2/3 around a byte string (bignum) -> base64url
 *   string, "~" in front for tag 3; any other tag -> its content alone;
 *   arrays -> arrays; maps -> objects; false/true/null -> themselves;
 *   indefinite items -> definite.
 * What JSON cannot hold is an error (the decoder fails with a reason):
 *   CBOR_R_JSON_KEY        map key that is not a text string (tags on the
 *                          key are looked through)
 *   CBOR_R_JSON_NONFINITE  NaN, Infinity, -Infinity
 *   CBOR_R_JSON_UNDEF      undefined
 *   CBOR_R_JSON_SIMPLE     simple(N) other than false/true/null
 *
 * Both modes check the UTF-8 of every text string and chunk (CBOR_R_UTF8),
 * so the output is always valid UTF-8 (pure ASCII with CBOR_DIAG_ASCII).
 * Errors are the decoder's, sticky and reported through it: on -EBADMSG
 * or -EMSGSIZE, cbor_dec_reason()/cbor_dec_offset() say what and where.
 *
 * Sizes.  The output of one item is not bounded by its input size alone
 * (f0, one byte, prints as "simple(16)"; a control character in text as
 * "\u0001"): the caller picks the buffer, and -ENOSPC says it was short.
 * Use cbor_diag_stream() for output of unknown size.
 *
 * Stack: about 3 KB at the deepest (gcc -O2, x86_64: the walker's frames
 * and a decoder copy, ~1.4 KB, plus the float spelling's four ~1150-bit
 * numbers, ~1.1 KB); nothing recurses.  Time: O(input + output), a float
 * costs O(bits of its exponent) limb operations.
 */
#ifndef VIGIL_CBOR_DIAG_H
#define VIGIL_CBOR_DIAG_H

#include <stddef.h>

#include "cbor.h"

/* flags */
#define CBOR_DIAG_JSON   0x1 /* JSON instead of diagnostic notation */
#define CBOR_DIAG_ASCII  0x2 /* escape non-ASCII text as \uXXXX */
#define CBOR_DIAG_BIGNUM 0x4 /* diag: tag 2/3 around a definite byte string
			      * of at most CBOR_DIAG_BIGNUM_MAX bytes prints
			      * as the decimal integer (RFC 8949 Appendix A
			      * does so); otherwise as 2(h'...') */

/* Longest bignum shown as decimal: 64 bytes = 512 bits, 155 digits, the
 * size of the largest common key/hash values; bounds a 17-limb scratch
 * number on the stack. */
#define CBOR_DIAG_BIGNUM_MAX 64

/* Longest float text: sign, 17 digits, point, "e-", 3 exponent digits
 * ("-2.2250738585072014e-308" is 24) or fixed "-0.000001234567890123456"
 * (-6 < exponent: at most 1 + 2 + 5 + 17 = 25), plus the NUL. */
#define CBOR_DIAG_FLOAT_MAX 32

/* Bytes the streaming writer collects before calling the sink: the sink
 * sees at most this many per call. */
#define CBOR_DIAG_CHUNK 256

/*
 * Writes the next whole item of d (a container with everything in it) as
 * text into buf, NUL-terminated.  cap is clamped to CBOR_BUF_MAX.
 * @retval >0 length written (without the NUL)
 * @retval 0 end of input (no item left); buf[0] = '\0' if cap > 0
 * @retval -ENOSPC the text needs more than cap - 1 bytes; d is left where
 *         it was (retry with a bigger buffer), buf[0] = '\0' if cap > 0
 * @retval -EBADMSG malformed input, bad UTF-8, or (JSON) a value JSON
 *         cannot hold; the reason is in d (sticky), buf holds no item
 * @retval -EMSGSIZE nesting deeper than CBOR_MAX_DEPTH (CBOR_R_DEPTH)
 * @retval -EINVAL buf == NULL with cap > 0, or unknown flags
 */
int cbor_diag(struct cbor_dec *d, char *buf, size_t cap, unsigned flags);

/*
 * Output callback: gets n (1..CBOR_DIAG_CHUNK) bytes of text, not
 * NUL-terminated.  Returns 0, or a negative errno that stops the walk.
 */
typedef int (*cbor_diag_sink)(void *arg, const char *p, size_t n);

/*
 * Like cbor_diag, for output of any size: the text goes to sink in pieces
 * (no NUL).  Output already passed to sink stays passed when a later part
 * of the item fails: a caller that must not show half an item walks a
 * copy of d first with a sink that only counts.
 * @retval 1 one item written
 * @retval 0 end of input (sink not called)
 * @retval <0 as cbor_diag (never -ENOSPC from the writer itself), or the
 *         sink's error as it returned it
 */
int cbor_diag_stream(struct cbor_dec *d, unsigned flags, cbor_diag_sink sink,
		     void *arg);

/*
 * The diagnostic spelling of a double (see the top of this file) into buf,
 * NUL-terminated: the fewest significant digits that read back (round to
 * nearest even) as exactly v.
 * @retval >0 length (< CBOR_DIAG_FLOAT_MAX)
 * @retval -ENOSPC cap too small (buf[0] = '\0' if cap > 0)
 */
int cbor_diag_float(double v, char *buf, size_t cap);

#endif

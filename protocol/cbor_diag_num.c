/*
 * cbor_diag_num.c — numbers as text for cbor_diag: integers, bignums and
 * the shortest round-trip spelling of doubles.
 *
 * Floats: the free-format algorithm of Steele & White / Burger & Dybvig
 * ("Printing Floating-Point Numbers Quickly and Accurately", 1996) in
 * exact integer arithmetic.  With v = f * 2^e, the numbers r/s = v and
 * m-/s, m+/s = half the gaps to the neighbouring doubles are scaled by a
 * power of ten so that 0.1 <= (v + m+) / 10^k < 1; then each step takes
 * the next decimal digit of r/s and stops as soon as the digits so far (or
 * them with the last one rounded up) lie strictly inside the rounding
 * interval (or on its edge when f is even: readers round to even).  That
 * yields the fewest digits that read back as v, at most 17.
 *
 * Bignum size: r, s, m+ stay below 2^1090.  For e >= 0: r <= 2^53 * 2^971
 * * 4 = 2^1026 and s <= 4 * 10^309 < 2^1030.  For e < 0: s <= 2^(2 +
 * 1074) = 2^1076 and r is scaled until r < 10 s.  Digit steps multiply by
 * 10 (< 2^4) once more, and r + m+ adds a bit: 2^1081.  BN_LIMBS = 36
 * limbs of 32 bits = 1152 bits holds that with room; a CBOR_DIAG_BIGNUM_MAX
 * byte bignum (512 bits + 1) needs 17.
 */
#include "cbor_diag_int.h"

#include <errno.h>
#include <string.h>

#define BN_LIMBS 36

struct bn {
	uint32_t w[BN_LIMBS]; /* little-endian limbs */
	size_t n;             /* limbs in use: w[n - 1] != 0, or n == 0 */
};

static void bn_trim(struct bn *b)
{
	while (b->n > 0 && b->w[b->n - 1] == 0)
		b->n--;
}

static void bn_set64(struct bn *b, uint64_t v)
{
	b->w[0] = (uint32_t)v;
	b->w[1] = (uint32_t)(v >> 32);
	b->n = 2;
	bn_trim(b);
}

/* b = b * m + a.  invariant (see the top): the result fits BN_LIMBS; a
 * carry out of the last limb would be dropped, never written past it. */
static void bn_muladd(struct bn *b, uint32_t m, uint32_t a)
{
	uint64_t carry = a;

	for (size_t i = 0; i < b->n; i++) {
		uint64_t t = (uint64_t)b->w[i] * m + carry;

		b->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	if (carry && b->n < BN_LIMBS)
		b->w[b->n++] = (uint32_t)carry;
}

static void bn_mulpow10(struct bn *b, unsigned k)
{
	static const uint32_t p10[10] = { 1, 10, 100, 1000, 10000, 100000,
		1000000, 10000000, 100000000, 1000000000 };

	for (; k >= 9; k -= 9)
		bn_muladd(b, p10[9], 0);
	bn_muladd(b, p10[k], 0);
}

/* b <<= bits; bits < BN_LIMBS * 32 - 64 by the bound above. */
static void bn_shl(struct bn *b, unsigned bits)
{
	size_t limbs = bits / 32;
	unsigned sh = bits % 32;

	if (b->n == 0)
		return;
	if (b->n + limbs + 1 > BN_LIMBS)
		limbs = BN_LIMBS - 1 - b->n; /* NEVER: see the top */
	b->w[b->n] = 0;
	for (size_t i = b->n + 1; i-- > 0;) {
		uint32_t lo = i > 0 && sh ? b->w[i - 1] >> (32 - sh) : 0;

		b->w[i + limbs] = b->w[i] << sh | lo;
	}
	memset(b->w, 0, limbs * sizeof b->w[0]);
	b->n += limbs + 1;
	bn_trim(b);
}

static int bn_cmp(const struct bn *a, const struct bn *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (size_t i = a->n; i-- > 0;) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

/* out = a + b (out may be a). */
static void bn_add(struct bn *out, const struct bn *a, const struct bn *b)
{
	const struct bn *big = a->n >= b->n ? a : b;
	size_t small_n = a->n < b->n ? a->n : b->n;
	uint64_t carry = 0;

	for (size_t i = 0; i < big->n; i++) {
		uint64_t t = (uint64_t)big->w[i] + carry;

		if (i < small_n)
			t += (big == a ? b : a)->w[i];
		out->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	out->n = big->n;
	if (carry && out->n < BN_LIMBS)
		out->w[out->n++] = (uint32_t)carry;
}

/* a -= b; invariant: a >= b. */
static void bn_sub(struct bn *a, const struct bn *b)
{
	uint32_t borrow = 0;

	for (size_t i = 0; i < a->n; i++) {
		uint64_t sub = (uint64_t)(i < b->n ? b->w[i] : 0) + borrow;

		borrow = a->w[i] < sub;
		a->w[i] = (uint32_t)((uint64_t)a->w[i] - sub);
	}
	bn_trim(a);
}

/* b /= d, returns the remainder. */
static uint32_t bn_divsmall(struct bn *b, uint32_t d)
{
	uint64_t rem = 0;

	for (size_t i = b->n; i-- > 0;) {
		uint64_t cur = rem << 32 | b->w[i];

		b->w[i] = (uint32_t)(cur / d);
		rem = cur % d;
	}
	bn_trim(b);
	return (uint32_t)rem;
}

/* Digits of a bignum, most significant first; "0" for zero. */
static size_t bn_decimal(struct bn *b, char *buf)
{
	char rev[CBOR_DIAG_BIGDEC_MAX];
	size_t n = 0, len = 0;

	do {
		uint32_t group = bn_divsmall(b, 1000000000u);

		for (int i = 0; i < 9 && (group || b->n); i++) {
			rev[n++] = (char)('0' + group % 10);
			group /= 10;
		}
	} while (b->n > 0);
	if (n == 0)
		rev[n++] = '0';
	while (n > 0)
		buf[len++] = rev[--n];
	buf[len] = '\0';
	return len;
}

/* see cbor_diag_int.h */
size_t cbor_diag_bigdec(const uint8_t *p, size_t n, unsigned add, char *buf,
			size_t cap)
{
	struct bn b = { .n = 0 };

	(void)cap; /* >= CBOR_DIAG_BIGDEC_MAX by contract */
	if (n > CBOR_DIAG_BIGNUM_MAX)
		n = CBOR_DIAG_BIGNUM_MAX; /* NEVER: the caller checks */
	for (size_t i = 0; i < n; i++)
		bn_muladd(&b, 256, p[i]);
	if (add) {
		struct bn one;

		bn_set64(&one, 1);
		bn_add(&b, &b, &one);
	}
	return bn_decimal(&b, buf);
}

/* see cbor_diag_int.h */
size_t cbor_diag_u64(uint64_t v, unsigned add, char *buf)
{
	struct bn b;

	bn_set64(&b, v);
	if (add) {
		struct bn one;

		bn_set64(&one, 1);
		bn_add(&b, &b, &one);
	}
	return bn_decimal(&b, buf);
}

/* Shortest-digit state: v = r / s, half-gaps m- / s and m+ / s. */
struct dragon {
	struct bn r, s, mp, mm; /* mm only when uneven, else m- = m+ */
	int even;   /* f even: the interval's edges read back as v too */
	int uneven; /* v is a power of two: the gap below is half */
};

/* Sets up r, s, m+, m- for a positive finite double with these bits. */
static void dragon_init(struct dragon *g, uint64_t bits)
{
	unsigned be = (unsigned)(bits >> 52 & 0x7ff);
	uint64_t f = bits & ((UINT64_C(1) << 52) - 1);
	int e = be ? (int)be - 1075 : -1074;
	/* The gap below a power of two is half the gap above it. */
	unsigned uneven = f == 0 && be > 1;

	if (be)
		f |= UINT64_C(1) << 52;
	g->even = (f & 1) == 0;
	g->uneven = (int)uneven;
	bn_set64(&g->r, f);
	bn_set64(&g->s, 1);
	bn_set64(&g->mm, 1);
	bn_shl(&g->r, 1 + uneven);
	bn_shl(&g->s, 1 + uneven);
	if (e >= 0) {
		bn_shl(&g->r, (unsigned)e);
		bn_shl(&g->mm, (unsigned)e);
	} else {
		bn_shl(&g->s, (unsigned)-e);
	}
	g->mp = g->mm;
	bn_shl(&g->mp, uneven);
}

/* True when (r + m+) * scale reaches s (on the edge only when f is even):
 * with scale 1, the digits so far would round up past 1; with scale 10,
 * the first digit is not 0. */
static int dragon_high(const struct dragon *g, uint32_t scale)
{
	struct bn t;

	bn_add(&t, &g->r, &g->mp);
	bn_muladd(&t, scale, 0);
	return g->even ? bn_cmp(&t, &g->s) >= 0 : bn_cmp(&t, &g->s) > 0;
}

/* Scales so that 0.1 <= (v + m+) / 10^k < 1 and returns k.  log2v is
 * floor(log2(v)); 78913 / 2^18 is log10(2) rounded down (Ryu's constant),
 * so the estimate is k or a little below; the loops settle it. */
static int dragon_scale(struct dragon *g, int log2v)
{
	int k = log2v >= 0 ? (int)(((unsigned)log2v * 78913u) >> 18) :
		-(int)((((unsigned)-log2v * 78913u) + (1u << 18) - 1) >> 18);

	k += 1;
	if (k >= 0) {
		bn_mulpow10(&g->s, (unsigned)k);
	} else {
		bn_mulpow10(&g->r, (unsigned)-k);
		bn_mulpow10(&g->mp, (unsigned)-k);
		if (g->uneven)
			bn_mulpow10(&g->mm, (unsigned)-k);
	}
	while (dragon_high(g, 1)) {
		bn_muladd(&g->s, 10, 0);
		k++;
	}
	while (!dragon_high(g, 10)) {
		bn_muladd(&g->r, 10, 0);
		bn_muladd(&g->mp, 10, 0);
		if (g->uneven)
			bn_muladd(&g->mm, 10, 0);
		k--;
	}
	return k;
}

/* Generates the digits ('0'..'9') into out[0..20); returns their count. */
static size_t dragon_digits(struct dragon *g, char *out)
{
	size_t n = 0;

	while (n < 20) {
		struct bn t;
		unsigned d = 0;
		int low, high, c;

		bn_muladd(&g->r, 10, 0);
		bn_muladd(&g->mp, 10, 0);
		if (g->uneven)
			bn_muladd(&g->mm, 10, 0);
		while (bn_cmp(&g->r, &g->s) >= 0) { /* at most 9 times */
			bn_sub(&g->r, &g->s);
			d++;
		}
		c = bn_cmp(&g->r, g->uneven ? &g->mm : &g->mp);
		low = g->even ? c <= 0 : c < 0;
		high = dragon_high(g, 1);
		if (low && high) {
			/* d and d + 1 both read back: the nearer one, on a
			 * tie the even one. */
			bn_add(&t, &g->r, &g->r);
			c = bn_cmp(&t, &g->s);
			d += c > 0 || (c == 0 && (d & 1));
		} else if (high) {
			d++;
		}
		out[n++] = (char)('0' + d);
		if (low || high)
			break;
	}
	return n;
}

/* Digits and decimal exponent k of a positive finite double, v =
 * 0.d1d2...dn * 10^k.  ~600 bytes of stack for the four numbers, ~900
 * with their temporaries. */
static size_t float_digits(uint64_t bits, char *out, int *k)
{
	struct dragon g;
	unsigned be = (unsigned)(bits >> 52 & 0x7ff);
	uint64_t f = bits & ((UINT64_C(1) << 52) - 1);
	int log2v = (int)be - 1023;

	if (be == 0) { /* subnormal: f * 2^-1074 */
		log2v = -1075;
		for (; f; f >>= 1)
			log2v++;
	}
	dragon_init(&g, bits);
	*k = dragon_scale(&g, log2v);
	return dragon_digits(&g, out);
}

/* Lays out digits d[0..nd) with v = 0.d * 10^k the way ECMAScript's
 * Number::toString does (fixed for -6 < k <= 21, else exponent), with
 * ".0" where that shows no fraction, like RFC 8949 Appendix A. */
static size_t float_layout(const char *d, size_t nd, int k, char *t)
{
	size_t n = 0;

	if (k > 0 && k <= 21) {
		for (int i = 0; i < k; i++)
			t[n++] = (size_t)i < nd ? d[i] : '0';
		t[n++] = '.';
		if ((size_t)k >= nd)
			t[n++] = '0';
		for (size_t i = (size_t)k; i < nd; i++)
			t[n++] = d[i];
	} else if (k <= 0 && k > -6) {
		t[n++] = '0';
		t[n++] = '.';
		for (int i = k; i < 0; i++)
			t[n++] = '0';
		memcpy(t + n, d, nd);
		n += nd;
	} else {
		unsigned x = (unsigned)(k - 1 < 0 ? 1 - k : k - 1);

		t[n++] = d[0];
		t[n++] = '.';
		for (size_t i = 1; i < nd; i++)
			t[n++] = d[i];
		if (nd == 1)
			t[n++] = '0';
		t[n++] = 'e';
		t[n++] = k - 1 < 0 ? '-' : '+';
		if (x >= 100)
			t[n++] = (char)('0' + x / 100);
		if (x >= 10)
			t[n++] = (char)('0' + x / 10 % 10);
		t[n++] = (char)('0' + x % 10);
	}
	return n;
}

/* see cbor_diag.h */
int cbor_diag_float(double v, char *buf, size_t cap)
{
	char t[CBOR_DIAG_FLOAT_MAX], digits[20];
	const char *word = NULL;
	uint64_t bits;
	size_t n = 0, nd;
	int k;

	memcpy(&bits, &v, sizeof bits);
	if ((bits >> 52 & 0x7ff) == 0x7ff)
		word = bits << 12 ? "NaN" :
		       bits >> 63 ? "-Infinity" : "Infinity";
	else if (bits << 1 == 0)
		word = bits >> 63 ? "-0.0" : "0.0";
	if (word) {
		n = strlen(word);
		memcpy(t, word, n);
	} else {
		if (bits >> 63)
			t[n++] = '-';
		nd = float_digits(bits & ~(UINT64_C(1) << 63), digits, &k);
		n += float_layout(digits, nd, k, t + n);
	}
	if (n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, t, n);
	buf[n] = '\0';
	return (int)n;
}

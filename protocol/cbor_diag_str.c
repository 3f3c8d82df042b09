/*
 * cbor_diag_str.c — output for cbor_diag: the bounded output buffer (the
 * caller's, or a CBOR_DIAG_CHUNK stage flushed to a sink) and the spelling
 * of strings: JSON escapes, UTF-16 escapes for CBOR_DIAG_ASCII, hex and
 * base64 (RFC 4648 §4/§5) that may straddle string chunks.
 */
#include "cbor_diag_int.h"

#include <errno.h>
#include <string.h>

/* see cbor_diag_int.h */
void cbor_dout_flush(struct cbor_dout *o)
{
	if (o->sink && o->len > 0 && !o->err) {
		int r = o->sink(o->arg, o->buf, o->len);

		if (r < 0)
			o->err = r;
		o->len = 0;
	}
}

/* see cbor_diag_int.h */
void cbor_dout_put(struct cbor_dout *o, const char *p, size_t n)
{
	while (n > 0 && !o->err) {
		size_t room = o->cap - o->len, k = n < room ? n : room;

		if (room == 0) {
			if (!o->sink)
				o->err = -ENOSPC;
			cbor_dout_flush(o);
			continue;
		}
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

/* see cbor_diag_int.h */
void cbor_dout_str(struct cbor_dout *o, const char *s)
{
	cbor_dout_put(o, s, strlen(s));
}

static const char hexl[] = "0123456789abcdef";
static const char hexu[] = "0123456789ABCDEF";

/* "\uXXXX" for a UTF-16 unit. */
static void put_u16(struct cbor_dout *o, unsigned u)
{
	char e[6] = { '\\', 'u', hexl[u >> 12 & 15], hexl[u >> 8 & 15],
		      hexl[u >> 4 & 15], hexl[u & 15] };

	cbor_dout_put(o, e, sizeof e);
}

/* Code point of the valid UTF-8 sequence at p (checked before); *len
 * gets its length. */
static unsigned utf8_cp(const uint8_t *p, size_t *len)
{
	if (p[0] < 0xe0) {
		*len = 2;
		return (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
	}
	if (p[0] < 0xf0) {
		*len = 3;
		return (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 |
		       (p[2] & 0x3fu);
	}
	*len = 4;
	return (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
	       (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
}

/* One escaped character at p (a C0 control, '"', '\\', or with
 * CBOR_DIAG_ASCII a non-ASCII one); returns the bytes it took. */
static size_t put_escape(struct cbor_dwalk *w, const uint8_t *p)
{
	static const char named[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	size_t len = 1;
	unsigned cp;

	for (size_t i = 0; i < sizeof named - 1; i += 2) {
		if (p[0] == (uint8_t)named[i]) {
			char e[2] = { '\\', named[i + 1] };

			cbor_dout_put(&w->o, e, 2);
			return 1;
		}
	}
	if (p[0] < 0x80) {
		put_u16(&w->o, p[0]);
		return 1;
	}
	cp = utf8_cp(p, &len);
	if (cp >= 0x10000) {
		put_u16(&w->o, 0xd800 | (cp - 0x10000) >> 10);
		put_u16(&w->o, 0xdc00 | (cp & 0x3ff));
	} else {
		put_u16(&w->o, cp);
	}
	return len;
}

/* see cbor_diag_int.h */
void cbor_dwalk_text(struct cbor_dwalk *w, const uint8_t *p, size_t n)
{
	int ascii = (w->flags & CBOR_DIAG_ASCII) != 0;
	size_t run = 0, i = 0;

	while (i < n) {
		uint8_t c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\' &&
		    (c < 0x80 || !ascii)) {
			i++;
			continue;
		}
		cbor_dout_put(&w->o, (const char *)p + run, i - run);
		i += put_escape(w, p + i);
		run = i;
	}
	cbor_dout_put(&w->o, (const char *)p + run, n - run);
}

/* Hex (diag h'..', or JSON base16) of p[0..n), 32 bytes per output call. */
static void put_hex(struct cbor_dout *o, const uint8_t *p, size_t n,
		    const char *digits)
{
	char t[64];

	while (n > 0) {
		size_t k = n < sizeof t / 2 ? n : sizeof t / 2;

		for (size_t i = 0; i < k; i++) {
			t[2 * i] = digits[p[i] >> 4];
			t[2 * i + 1] = digits[p[i] & 15];
		}
		cbor_dout_put(o, t, 2 * k);
		p += k;
		n -= k;
	}
}

static const char *b64_alphabet(enum cbor_benc e)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";

	return e == CBOR_BENC_B64 ? b64 : url;
}

/* Base64 of w->carry + p[0..n); keeps the last n % 3 bytes in carry. */
static void put_b64(struct cbor_dwalk *w, const uint8_t *p, size_t n,
		    enum cbor_benc e)
{
	const char *a = b64_alphabet(e);
	char t[64];
	size_t k = 0;

	while (n > 0) {
		if (w->ncarry < 2) {
			w->carry[w->ncarry++] = *p++;
			n--;
			continue;
		}
		/* invariant: two bytes in carry, *p completes the group */
		t[k++] = a[w->carry[0] >> 2];
		t[k++] = a[(w->carry[0] & 3) << 4 | w->carry[1] >> 4];
		t[k++] = a[(w->carry[1] & 15) << 2 | *p >> 6];
		t[k++] = a[*p & 63];
		w->ncarry = 0;
		p++;
		n--;
		if (k == sizeof t) {
			cbor_dout_put(&w->o, t, k);
			k = 0;
		}
	}
	cbor_dout_put(&w->o, t, k);
}

/* see cbor_diag_int.h */
void cbor_dwalk_b64_end(struct cbor_dwalk *w, enum cbor_benc e)
{
	const char *a = b64_alphabet(e);
	char t[4] = { '=', '=', '=', '=' };
	uint8_t c1 = w->ncarry > 1 ? w->carry[1] : 0;

	if (w->ncarry == 0)
		return;
	t[0] = a[w->carry[0] >> 2];
	t[1] = a[(w->carry[0] & 3) << 4 | c1 >> 4];
	if (w->ncarry > 1)
		t[2] = a[(c1 & 15) << 2];
	cbor_dout_put(&w->o, t, e == CBOR_BENC_B64 ? 4 : w->ncarry + 1u);
	w->ncarry = 0;
}

/* see cbor_diag_int.h */
void cbor_dwalk_bytes(struct cbor_dwalk *w, const uint8_t *p, size_t n,
		      enum cbor_benc e)
{
	if (e == CBOR_BENC_HEX || e == CBOR_BENC_B16)
		put_hex(&w->o, p, n, e == CBOR_BENC_HEX ? hexl : hexu);
	else
		put_b64(w, p, n, e);
}


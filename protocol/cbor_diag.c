/*
 * cbor_diag.c — the walker behind cbor_diag()/cbor_diag_stream(): one
 * decoder event at a time, no recursion.
 *
 * State: a frame per open container (array, map, tag, indefinite string),
 * mirroring the decoder's own stack, so at most CBOR_MAX_DEPTH.  A frame
 * counts the children written, which places the separators (", " between
 * elements, ": " after a map key, nothing inside a tag or, in JSON, between
 * string chunks) and tells a map key (even count) from its value.  JSON
 * byte strings carry up to 2 bytes of a base64 group from one chunk to the
 * next (carry[]).
 *
 * Output goes through struct cbor_dout (cbor_diag_str.c): into the
 * caller's buffer (cbor_diag; one byte kept for the NUL), or through a
 * CBOR_DIAG_CHUNK staging buffer to the sink (cbor_diag_stream).  The
 * first output error is sticky and ends the walk.
 */
#include "cbor_diag.h"
#include "cbor_diag_int.h"

#include <errno.h>
#include <string.h>

#define FLAGS_ALL (CBOR_DIAG_JSON | CBOR_DIAG_ASCII | CBOR_DIAG_BIGNUM)

static int json(const struct cbor_dwalk *w)
{
	return (w->flags & CBOR_DIAG_JSON) != 0;
}

static struct cbor_dframe *top(struct cbor_dwalk *w)
{
	return w->depth > 0 ? &w->st[w->depth - 1] : NULL;
}

/* True if the next item at the key position is text (tags looked through,
 * RFC 8949 §6.1 ignores them).  A decoder error says yes: the walk meets
 * it next and reports it. */
static int key_is_text(const struct cbor_dec *d)
{
	struct cbor_dec t = *d;
	struct cbor_item it;

	while (cbor_dec_next(&t, &it) == 1) {
		if (it.type != CBOR_TAG)
			return it.type == CBOR_TEXT;
	}
	return 1;
}

/* Writes what goes before the item in its parent (and counts it). */
static int put_sep(struct cbor_dwalk *w, const struct cbor_item *it)
{
	struct cbor_dframe *f = top(w);

	if (!f)
		return 0;
	if (f->type == CBOR_MAP && f->count % 2 == 0 && json(w) &&
	    it->type != CBOR_TEXT &&
	    (it->type != CBOR_TAG || !key_is_text(w->d)))
		return cbor_dec_fail(w->d, CBOR_R_JSON_KEY, it->off);
	if (f->type == CBOR_MAP && f->count % 2 == 1) {
		cbor_dout_str(&w->o, ": ");
	} else if (f->type == CBOR_BYTES || f->type == CBOR_TEXT) {
		if (!json(w)) /* chunks: (_ h'01', h'02'); JSON joins them */
			cbor_dout_str(&w->o, f->count == 0 ? "(_ " : ", ");
	} else if (f->type != CBOR_TAG && f->count > 0) {
		cbor_dout_str(&w->o, ", ");
	}
	f->count++;
	return 0;
}

static int push(struct cbor_dwalk *w, const struct cbor_item *it)
{
	struct cbor_dframe *parent = top(w);
	struct cbor_dframe *f;

	if (w->depth == CBOR_MAX_DEPTH) /* NEVER: the decoder stops first */
		return cbor_dec_fail(w->d, CBOR_R_DEPTH, it->off);
	f = &w->st[w->depth++];
	f->count = 0;
	f->type = it->type;
	f->benc = parent ? parent->benc : CBOR_BENC_B64URL;
	f->bignum = 0;
	if (it->type == CBOR_TAG && it->val >= 21 && it->val <= 23)
		f->benc = (uint8_t)(CBOR_BENC_B64URL + (it->val - 21));
	if (it->type == CBOR_TAG && (it->val == 2 || it->val == 3))
		f->bignum = (uint8_t)it->val;
	return 0;
}

/* JSON: how the byte string about to start is spelled ("~" prefix for a
 * negative bignum written into *prefix). */
static enum cbor_benc json_benc(struct cbor_dwalk *w, const char **prefix)
{
	struct cbor_dframe *f = top(w);

	*prefix = "";
	if (!f)
		return CBOR_BENC_B64URL;
	if (f->bignum) {
		*prefix = f->bignum == 3 ? "~" : "";
		return CBOR_BENC_B64URL;
	}
	return (enum cbor_benc)f->benc;
}

static int on_string(struct cbor_dwalk *w, const struct cbor_item *it)
{
	const char *prefix;
	int bytes = it->type == CBOR_BYTES;
	int chunk = (it->flags & CBOR_CHUNK) != 0;
	int indef = (it->flags & CBOR_INDEF) != 0;

	if (!bytes && !indef && !cbor_utf8_valid(it->ptr, it->len))
		return cbor_dec_fail(w->d, CBOR_R_UTF8, it->off);
	if (!json(w)) {
		if (indef) /* "(_ " comes with the first chunk */
			return push(w, it);
		cbor_dout_str(&w->o, bytes ? "h'" : "\"");
		if (bytes)
			cbor_dwalk_bytes(w, it->ptr, it->len, CBOR_BENC_HEX);
		else
			cbor_dwalk_text(w, it->ptr, it->len);
		cbor_dout_str(&w->o, bytes ? "'" : "\"");
		return 0;
	}
	if (!chunk) { /* a definite string or an indefinite start */
		cbor_dout_str(&w->o, "\"");
		if (bytes) {
			w->senc = (uint8_t)json_benc(w, &prefix);
			w->ncarry = 0;
			cbor_dout_str(&w->o, prefix);
		}
	}
	if (indef)
		return push(w, it);
	if (bytes)
		cbor_dwalk_bytes(w, it->ptr, it->len, (enum cbor_benc)w->senc);
	else
		cbor_dwalk_text(w, it->ptr, it->len);
	if (!chunk) {
		if (bytes)
			cbor_dwalk_b64_end(w, (enum cbor_benc)w->senc);
		cbor_dout_str(&w->o, "\"");
	}
	return 0;
}

static int on_end(struct cbor_dwalk *w, const struct cbor_item *it)
{
	struct cbor_dframe *f = top(w);

	(void)it; /* the decoder pairs every END with our frame */
	if (!f) /* NEVER */
		return cbor_dec_fail(w->d, CBOR_R_STRAY_BREAK, it->off);
	if (f->type == CBOR_ARRAY)
		cbor_dout_str(&w->o, "]");
	else if (f->type == CBOR_MAP)
		cbor_dout_str(&w->o, "}");
	else if (f->type == CBOR_TAG && !json(w))
		cbor_dout_str(&w->o, ")");
	else if (f->type != CBOR_TAG && json(w)) {
		cbor_dwalk_b64_end(w, (enum cbor_benc)w->senc);
		cbor_dout_str(&w->o, "\"");
	} else if (f->type != CBOR_TAG)
		cbor_dout_str(&w->o, f->count > 0 ? ")" :
			       f->type == CBOR_BYTES ? "''_" : "\"\"_");
	w->depth--;
	return 0;
}

/* Diag with CBOR_DIAG_BIGNUM: tag 2/3 around a short definite byte string
 * as a decimal integer.  Returns 1 if written (content and END consumed),
 * 0 to write the tag as usual. */
static int diag_bignum(struct cbor_dwalk *w, const struct cbor_item *tag)
{
	struct cbor_dec t = *w->d;
	struct cbor_item c, e;
	char dec[CBOR_DIAG_BIGDEC_MAX];

	if (cbor_dec_next(&t, &c) != 1 || c.type != CBOR_BYTES ||
	    (c.flags & CBOR_INDEF) || c.len > CBOR_DIAG_BIGNUM_MAX ||
	    cbor_dec_next(&t, &e) != 1 || e.type != CBOR_END)
		return 0;
	*w->d = t;
	if (tag->val == 3)
		cbor_dout_str(&w->o, "-");
	cbor_diag_bigdec(c.ptr, c.len, tag->val == 3, dec, sizeof dec);
	cbor_dout_str(&w->o, dec);
	return 1;
}

static int on_tag(struct cbor_dwalk *w, const struct cbor_item *it)
{
	char num[24];

	if (json(w))
		return push(w, it);
	if ((w->flags & CBOR_DIAG_BIGNUM) && (it->val == 2 || it->val == 3) &&
	    diag_bignum(w, it))
		return 0;
	cbor_diag_u64(it->val, 0, num);
	cbor_dout_str(&w->o, num);
	cbor_dout_str(&w->o, "(");
	return push(w, it);
}

static int on_simple(struct cbor_dwalk *w, const struct cbor_item *it)
{
	static const char *const names[] = { "false", "true", "null",
					     "undefined" };
	char num[24];

	if (it->val >= CBOR_SIMPLE_FALSE && it->val <= CBOR_SIMPLE_UNDEF &&
	    !(json(w) && it->val == CBOR_SIMPLE_UNDEF)) {
		cbor_dout_str(&w->o, names[it->val - CBOR_SIMPLE_FALSE]);
		return 0;
	}
	if (json(w))
		return cbor_dec_fail(w->d, it->val == CBOR_SIMPLE_UNDEF ?
				     CBOR_R_JSON_UNDEF : CBOR_R_JSON_SIMPLE,
				     it->off);
	cbor_diag_u64(it->val, 0, num);
	cbor_dout_str(&w->o, "simple(");
	cbor_dout_str(&w->o, num);
	cbor_dout_str(&w->o, ")");
	return 0;
}

static int on_number(struct cbor_dwalk *w, const struct cbor_item *it)
{
	char num[CBOR_DIAG_FLOAT_MAX];
	uint64_t bits;

	if (it->type == CBOR_FLOAT) {
		memcpy(&bits, &it->f, sizeof bits);
		if (json(w) && (bits >> 52 & 0x7ff) == 0x7ff)
			return cbor_dec_fail(w->d, CBOR_R_JSON_NONFINITE,
					     it->off);
		cbor_diag_float(it->f, num, sizeof num);
	} else {
		if (it->type == CBOR_NEGINT)
			cbor_dout_str(&w->o, "-");
		cbor_diag_u64(it->val, it->type == CBOR_NEGINT, num);
	}
	cbor_dout_str(&w->o, num);
	return 0;
}

static int on_item(struct cbor_dwalk *w, const struct cbor_item *it)
{
	int r = put_sep(w, it);

	if (r < 0)
		return r;
	switch (it->type) {
	case CBOR_UINT:
	case CBOR_NEGINT:
	case CBOR_FLOAT:
		return on_number(w, it);
	case CBOR_BYTES:
	case CBOR_TEXT:
		return on_string(w, it);
	case CBOR_ARRAY:
	case CBOR_MAP:
		cbor_dout_str(&w->o, it->type == CBOR_ARRAY ? "[" : "{");
		if ((it->flags & CBOR_INDEF) && !json(w))
			cbor_dout_str(&w->o, "_ ");
		return push(w, it);
	case CBOR_TAG:
		return on_tag(w, it);
	case CBOR_SIMPLE:
		return on_simple(w, it);
	default: /* NEVER: END is handled by the caller */
		return cbor_dec_fail(w->d, CBOR_R_TYPE, it->off);
	}
}

/* One whole item: 1, 0 at the end of input, or an error. */
static int walk(struct cbor_dwalk *w)
{
	struct cbor_item it;

	do {
		int r = cbor_dec_next(w->d, &it);

		if (r == 0 && w->depth > 0) /* NEVER: 0 only between items */
			r = cbor_dec_fail(w->d, CBOR_R_TRUNC_ITEM,
					  cbor_dec_offset(w->d));
		if (r <= 0)
			return r;
		r = it.type == CBOR_END ? on_end(w, &it) : on_item(w, &it);
		if (r < 0)
			return r;
		if (w->o.err)
			return w->o.err;
	} while (w->depth > 0);
	return 1;
}

static void walk_init(struct cbor_dwalk *w, struct cbor_dec *d, unsigned flags)
{
	w->o.len = 0;
	w->o.err = 0;
	w->d = d;
	w->flags = flags;
	w->depth = 0;
	w->ncarry = 0;
	w->senc = CBOR_BENC_B64URL;
}

/* see cbor_diag.h */
int cbor_diag(struct cbor_dec *d, char *buf, size_t cap, unsigned flags)
{
	struct cbor_dwalk w;
	struct cbor_dec saved = *d;
	int r;

	if ((!buf && cap > 0) || (flags & ~(unsigned)FLAGS_ALL))
		return -EINVAL;
	if (cap > CBOR_BUF_MAX)
		cap = CBOR_BUF_MAX;
	walk_init(&w, d, flags);
	w.o.buf = buf;
	w.o.cap = cap > 0 ? cap - 1 : 0; /* room for the NUL */
	w.o.sink = NULL;
	r = walk(&w);
	if (r == -ENOSPC && w.o.err == -ENOSPC)
		*d = saved; /* nothing consumed: retry with more room */
	if (cap > 0)
		buf[r > 0 ? w.o.len : 0] = '\0';
	return r > 0 ? (int)w.o.len : r;
}

/* see cbor_diag.h */
int cbor_diag_stream(struct cbor_dec *d, unsigned flags, cbor_diag_sink sink,
		     void *arg)
{
	struct cbor_dwalk w;
	int r;

	if (!sink || (flags & ~(unsigned)FLAGS_ALL))
		return -EINVAL;
	walk_init(&w, d, flags);
	w.o.buf = w.o.stage;
	w.o.cap = sizeof w.o.stage;
	w.o.sink = sink;
	w.o.arg = arg;
	r = walk(&w);
	if (r > 0) {
		cbor_dout_flush(&w.o);
		if (w.o.err)
			return w.o.err;
	}
	return r;
}

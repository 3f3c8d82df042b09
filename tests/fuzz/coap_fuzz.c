/*
 * coap_fuzz.c — libFuzzer target for the CoAP codec (protocol/coap_*.c)
 * and the link-format writer (protocol/coap_link.c).
 *
 * Properties checked (__builtin_trap on violation):
 *   - parse returns 0, -EBADMSG or -EMSGSIZE, with a reason that agrees;
 *     every pointer of the view lies inside the input (ASan also catches
 *     any read past it: libFuzzer's buffer is exactly the input);
 *   - classify is idempotent and its action is one the table in coap.h
 *     allows for the message's type and code;
 *   - a message that parses is rebuilt by coap_build() to exactly the
 *     input (the CoAP encoding of deltas and lengths is unique, and uint
 *     values are copied as they are, so every well-formed input is
 *     "minimally encoded") and re-parses to the same header, token,
 *     options in order and payload; one byte less of room is -ENOSPC with
 *     the output untouched;
 *   - a message classified OK with no ignored option is rebuilt by the
 *     incremental writer (coap_put_opt per option) to the same bytes;
 *   - getters stay inside their outputs;
 *   - the input split at NULs as href/rt/if/title of a link: the writer
 *     either refuses it (-EINVAL) or writes exactly what it returns, and
 *     with one byte less writes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "coap.h"
#include "coap_link.h"

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int inside(const uint8_t *p, size_t n, const uint8_t *d, size_t size)
{
	if (n == 0)
		return 1;
	return p >= d && p <= d + size && n <= (size_t)(d + size - p);
}

static void check_view(const struct coap_msg *m, int ret, const uint8_t *d,
		       size_t size)
{
	require(ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE);
	require((ret == 0) == (m->reason == COAP_R_OK));
	require((ret == -EMSGSIZE) == (m->reason == COAP_R_TOO_MANY_OPTS));
	require(m->nopts <= COAP_MAX_OPTS && m->tkl <= COAP_TOKEN_MAX);
	if (ret == -EBADMSG)
		return;
	require(inside(m->token, m->tkl, d, size));
	require(inside(m->payload, m->payload_len, d, size));
	require((m->payload == NULL) == (m->payload_len == 0));
	for (size_t i = 0; i < m->nopts; i++) {
		require(inside(m->opts[i].val, m->opts[i].len, d, size));
		require(i == 0 || m->opts[i - 1].num <= m->opts[i].num);
	}
}

static void check_action(struct coap_msg *m, int ret)
{
	enum coap_action a = coap_classify(m);
	enum coap_reason r = m->reason;
	uint16_t bad = m->bad_opt;
	unsigned cls = COAP_CODE_CLASS(m->code);

	require(coap_classify(m) == a && m->reason == r && m->bad_opt == bad);
	switch (a) {
	case COAP_ACT_OK:
		require(ret == 0 && r == COAP_R_OK);
		break;
	case COAP_ACT_RESET:
		require(m->type <= COAP_NON && r != COAP_R_OK);
		break;
	case COAP_ACT_BAD_OPTION:
		require(m->type == COAP_CON && cls == 0 && m->code != 0);
		require(COAP_OPT_IS_CRITICAL(bad));
		break;
	case COAP_ACT_BAD_REQUEST:
		require(cls == 0 && m->code != 0 && m->type <= COAP_NON);
		break;
	case COAP_ACT_IGNORE:
		require(r != COAP_R_OK);
		break;
	default:
		require(0);
	}
}

static void same_msg(const struct coap_msg *a, const struct coap_msg *b)
{
	require(a->type == b->type && a->code == b->code && a->mid == b->mid);
	require(a->tkl == b->tkl && memcmp(a->token, b->token, a->tkl) == 0);
	require(a->nopts == b->nopts && a->payload_len == b->payload_len);
	for (size_t i = 0; i < a->nopts; i++) {
		const struct coap_opt *x = &a->opts[i], *y = &b->opts[i];

		require(x->num == y->num && x->len == y->len);
		require(x->len == 0 || memcmp(x->val, y->val, x->len) == 0);
	}
	require(a->payload_len == 0 ||
		memcmp(a->payload, b->payload, a->payload_len) == 0);
}

static void rebuild(const struct coap_msg *m, const uint8_t *d, size_t size)
{
	static uint8_t out[COAP_MSG_LIMIT + 1];
	struct coap_msg again;
	int n = coap_build(m, out, sizeof out);

	if (size > COAP_MSG_LIMIT) {
		require(n == -EMSGSIZE);
		return;
	}
	require(n == (int)size && memcmp(out, d, size) == 0);
	require(coap_parse(&again, out, size) == 0);
	same_msg(m, &again);
	memset(out, 0x5a, size);
	require(coap_build(m, out, size - 1) == -ENOSPC);
	for (size_t i = 0; i < size; i++)
		require(out[i] == 0x5a);
}

static void rewrite(const struct coap_msg *m, const uint8_t *d, size_t size)
{
	static uint8_t out[COAP_MSG_LIMIT];
	struct coap_writer w;

	for (size_t i = 0; i < m->nopts; i++) {
		if ((m->opts[i].flags & COAP_OPTF_IGNORED) ||
		    m->opts[i].num == 0)
			return;
	}
	if (size > COAP_MSG_LIMIT)
		return;
	coap_writer_init(&w, out, sizeof out, m->type, m->code, m->mid,
			 m->token, m->tkl);
	for (size_t i = 0; i < m->nopts; i++)
		coap_put_opt(&w, m->opts[i].num, m->opts[i].val,
			     m->opts[i].len);
	coap_put_payload(&w, m->payload, m->payload_len);
	require(coap_writer_finish(&w) == (int)size);
	require(memcmp(out, d, size) == 0);
}

static void getters(const struct coap_msg *m)
{
	char path[64];
	struct coap_query q;
	struct coap_block b;
	size_t pos = 0;
	uint32_t v;
	int n = coap_path_format(m, path, sizeof path);

	require(n == -ENOSPC ? path[0] == '\0' :
		n >= 1 && (size_t)n < sizeof path && path[n] == '\0' &&
		strlen(path) == (size_t)n);
	while (coap_query_next(m, &pos, &q))
		require(q.key_len + q.val_len + q.has_val <= COAP_OPT_LEN_MAX &&
			(q.has_val || q.val == NULL));
	if (coap_get_block(m, COAP_OPT_BLOCK2, &b) == 1)
		require(b.szx <= COAP_SZX_MAX && b.num <= COAP_BLOCK_NUM_MAX);
	if (coap_get_observe(m, &v) == 1)
		require(v <= COAP_OBSERVE_SEQ_MASK);
	(void)coap_path_equals(m, "/.well-known/core"); /* no crash is all */
	(void)coap_get_max_age(m);                       /* any value */
}

/* The input cut at NULs into href, rt, if, title of one link. */
static void link_check(const uint8_t *d, size_t size)
{
	static char text[4][257], out[1200], out2[1200];
	const char *f[4] = { NULL, NULL, NULL, NULL };
	struct coap_link l;
	struct coap_linkw lw;
	size_t k = 0, j = 0;
	int n;

	for (size_t i = 0; i < size && k < 4 && j < 256; i++) {
		if (d[i] == 0) {
			text[k][j] = '\0';
			f[k] = text[k];
			k++;
			j = 0;
			continue;
		}
		text[k][j++] = (char)d[i];
	}
	if (k < 4 && j > 0) {
		text[k][j] = '\0';
		f[k] = text[k];
	}
	memset(&l, 0, sizeof l);
	l.href = f[0];
	l.rt = f[1];
	l.ifd = f[2];
	l.title = f[3];
	l.has_ct = size & 1;
	l.ct = (uint16_t)(size * 257u);
	l.obs = (size & 2) != 0;
	coap_link_init(&lw, out, sizeof out);
	n = coap_link_add(&lw, &l);
	require(n == -EINVAL || (n > 0 && (size_t)n == lw.len));
	require(coap_link_format(out2, sizeof out2, &l, 1, NULL) == n);
	if (n <= 0)
		return;
	require(memcmp(out, out2, (size_t)n) == 0 && out[0] == '<');
	memset(out2, '#', sizeof out2);
	coap_link_init(&lw, out2, (size_t)n - 1);
	require(coap_link_add(&lw, &l) == -ENOSPC && lw.len == 0);
	require(out2[0] == '#');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct coap_msg m;
	int ret = coap_parse(&m, data, size);

	check_view(&m, ret, data, size);
	check_action(&m, ret);
	if (ret == 0) {
		rebuild(&m, data, size);
		if (coap_classify(&m) == COAP_ACT_OK)
			rewrite(&m, data, size);
	}
	if (ret != -EBADMSG)
		getters(&m);
	if (size <= 1024)
		link_check(data, size);
	return 0;
}

/*
 * lineedit.c — see lineedit.h.
 *
 * States (one switch in step()):
 *   IDLE     a line was handed out; nothing is consumed until le_begin
 *   EDIT     bytes are keys
 *   ESC      after ESC: '[' -> CSI, 'O' -> SS3, anything else ends it
 *   CSI      parameter/intermediate bytes collected (at most LE_ESC_MAX),
 *            a final byte 0x40..0x7e acts; a control byte aborts the
 *            sequence and is handled in EDIT
 *   SS3      one byte names the key
 *   TOOLONG  the line overflowed: everything up to CR/LF is dropped
 *
 * Screen model: the terminal cursor is at prompt_len + pos on the line
 * being edited.  Every edit emits the characters that changed, ESC[K
 * when the line got shorter, and moves back to the cursor; nothing
 * needs the terminal width.
 *
 * Output never commits a partial step: emit() drops a piece that does
 * not fit and counts it, and le_feed() stops before a step when fewer
 * than LE_STEP_MAX bytes are free, so with a draining caller nothing is
 * ever dropped (the fuzz target checks both).
 */
#include "lineedit.h"

#include <errno.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 0x1b
#define KEY_DEL 0x7f

/* Keys the escape parser produces (outside the byte range). */
enum { K_UP = 0x100, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_DELETE };

static void emit(struct le *e, const void *p, size_t n)
{
	if (n > LE_OUT_MAX - e->out_len) {
		e->out_dropped += n;
		return;
	}
	memcpy(e->out + e->out_len, p, n);
	e->out_len += n;
}

static void emit_s(struct le *e, const char *s)
{
	emit(e, s, strlen(s));
}

static int echo(const struct le *e)
{
	return !(e->flags & LE_F_NOECHO);
}

/* ESC [ n <dir>, or BS for one step left (the cheapest, and any
 * terminal knows it).  n < 1000 (LE_LINE_MAX + LE_PROMPT_MAX). */
static void move(struct le *e, size_t n, char dir)
{
	char b[8];
	size_t i = sizeof b;

	if (n == 0 || !echo(e))
		return;
	if (n == 1 && dir == 'D') {
		emit(e, "\b", 1);
		return;
	}
	b[--i] = dir;
	do {
		b[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n && i > 2);
	b[--i] = '[';
	b[--i] = KEY_ESC;
	emit(e, b + i, sizeof b - i);
}

/* Repaints from the cursor to the end of the line, erases what is
 * left of a longer old line, and returns to the cursor. */
static void repaint_tail(struct le *e)
{
	if (!echo(e))
		return;
	emit(e, e->line + e->pos, e->len - e->pos);
	emit_s(e, "\x1b[K");
	move(e, e->len - e->pos, 'D');
}

static void redraw(struct le *e)
{
	emit(e, e->prompt, e->prompt_len);
	if (!echo(e))
		return;
	emit(e, e->line, e->len);
	move(e, e->len - e->pos, 'D');
}

static void set_line(struct le *e, const char *s)
{
	size_t n = strlen(s);

	if (n > LE_LINE_MAX - 1)
		n = LE_LINE_MAX - 1;
	move(e, e->pos, 'D');
	memcpy(e->line, s, n);
	e->line[n] = '\0';
	e->len = e->pos = n;
	if (echo(e)) {
		emit(e, e->line, n);
		emit_s(e, "\x1b[K");
	}
}

/* ---- editing ---- */

static void insert(struct le *e, char c)
{
	if (e->len >= LE_LINE_MAX - 1) {
		emit_s(e, "\r\n" LE_MSG_TOOLONG "\r\n");
		e->st = LE_ST_TOOLONG;
		return;
	}
	memmove(e->line + e->pos + 1, e->line + e->pos, e->len - e->pos + 1);
	e->line[e->pos++] = c;
	e->len++;
	if (echo(e)) {
		emit(e, &c, 1);
		if (e->pos < e->len)
			repaint_tail(e);
	}
}

/* Deletes line[from..to) with the cursor at `to` or inside. */
static void delete_range(struct le *e, size_t from, size_t to)
{
	if (from >= to)
		return;
	move(e, e->pos - from, 'D');
	memmove(e->line + from, e->line + to, e->len - to + 1);
	e->len -= to - from;
	e->pos = from;
	repaint_tail(e);
}

static void delete_word(struct le *e)
{
	size_t p = e->pos;

	while (p > 0 && e->line[p - 1] == ' ')
		p--;
	while (p > 0 && e->line[p - 1] != ' ')
		p--;
	delete_range(e, p, e->pos);
}

static void clear_screen(struct le *e)
{
	emit_s(e, "\x1b[H\x1b[2J");
	redraw(e);
}

/* ---- history ---- */

/* The i-th newest entry, 1-based (i <= hist_count). */
static const char *hist_get(const struct le *e, unsigned i)
{
	return e->hist[(e->hist_head + LE_HIST_MAX - i) % LE_HIST_MAX];
}

static void hist_add(struct le *e, const char *s)
{
	if (s[0] == '\0' || (e->flags & LE_F_NOHIST))
		return;
	if (e->hist_count > 0 && strcmp(hist_get(e, 1), s) == 0)
		return;
	memcpy(e->hist[e->hist_head], s, strlen(s) + 1);
	e->hist_head = (e->hist_head + 1) % LE_HIST_MAX;
	if (e->hist_count < LE_HIST_MAX)
		e->hist_count++;
}

static void hist_move(struct le *e, int up)
{
	unsigned to;

	if (e->flags & LE_F_NOHIST)
		return;
	if (up && e->hist_idx >= e->hist_count) {
		emit_s(e, "\a");
		return;
	}
	if (!up && e->hist_idx == 0) {
		emit_s(e, "\a");
		return;
	}
	if (e->hist_idx == 0)
		memcpy(e->saved, e->line, e->len + 1);
	to = up ? e->hist_idx + 1 : e->hist_idx - 1;
	e->hist_idx = to;
	set_line(e, to == 0 ? e->saved : hist_get(e, to));
}

/* ---- completion ---- */

/* Splits line[0..pos) into words (in place in a copy); *start gets where
 * the word under the cursor begins.  @retval word count before it, or
 * -EMSGSIZE for too many words */
static int split_words(const struct le *e, char *copy, const char **words,
		       size_t *start)
{
	size_t i = 0, s;
	int n = 0;

	memcpy(copy, e->line, e->pos);
	copy[e->pos] = '\0';
	s = e->pos;
	while (s > 0 && copy[s - 1] != ' ')
		s--;
	*start = s;
	while (i < s) {
		while (i < s && copy[i] == ' ')
			i++;
		if (i >= s)
			break;
		if (n == LE_WORDS_MAX)
			return -EMSGSIZE;
		words[n++] = copy + i;
		while (i < s && copy[i] != ' ')
			i++;
		copy[i++] = '\0'; /* i < s here: copy[s - 1] is a blank */
	}
	return n;
}

/* Length of the prefix all stored candidates share. */
static size_t common_len(const struct le_cands *c)
{
	size_t n = strlen(c->c[0]);

	for (unsigned i = 1; i < c->stored; i++) {
		size_t k = 0;

		while (k < n && c->c[i][k] == c->c[0][k])
			k++;
		n = k;
	}
	return n;
}

static void list_cands(struct le *e)
{
	/* a column's padding in one piece, not one emit per space */
	static const char pad[] = "                                  ";
	const struct le_cands *c = &e->cands;
	size_t col = 0;

	_Static_assert(sizeof pad - 1 == LE_CAND_LEN + 2, "pad: one column");

	emit_s(e, "\r\n");
	for (unsigned i = 0; i < c->stored; i++) {
		size_t n = strlen(c->c[i]), w = LE_CAND_LEN + 2;

		if (col > 0 && col + w > LE_COLS) {
			emit_s(e, "\r\n");
			col = 0;
		}
		emit(e, c->c[i], n);
		emit(e, pad, w - n);
		col += w;
	}
	emit_s(e, "\r\n");
	redraw(e);
}

/* @retval 1 the line changed, 0 not (a second Tab then lists) */
static int complete(struct le *e, int second_tab)
{
	char copy[LE_LINE_MAX];
	const char *words[LE_WORDS_MAX];
	struct le_cands *c = &e->cands;
	size_t start, have, common;
	int n = split_words(e, copy, words, &start);

	if (n < 0 || !e->complete || (e->flags & LE_F_NOHIST)) {
		emit_s(e, "\a");
		return 0;
	}
	c->prefix = e->line + start;
	c->prefix_len = e->pos - start;
	c->count = c->stored = 0;
	e->complete(e->complete_arg, (unsigned)n, words, c);
	have = e->pos - start;
	if (c->stored == 0) {
		emit_s(e, "\a");
		return 0;
	}
	common = common_len(c);
	for (size_t i = have; i < common && e->st == LE_ST_EDIT; i++)
		insert(e, c->c[0][i]);
	if (c->count == 1 && c->stored == 1 && e->st == LE_ST_EDIT) {
		if (e->pos == e->len || e->line[e->pos] != ' ')
			insert(e, ' ');
	} else if (common == have && second_tab) {
		list_cands(e);
	} else if (common == have) {
		emit_s(e, "\a");
	}
	return common > have || c->count == 1;
}

/* see lineedit.h */
void le_cand_add(struct le_cands *c, const char *word)
{
	size_t n = strlen(word);

	if (n < c->prefix_len || memcmp(word, c->prefix, c->prefix_len) != 0)
		return;
	c->count++;
	if (n >= LE_CAND_LEN || c->stored >= LE_CAND_MAX)
		return;
	memcpy(c->c[c->stored++], word, n + 1);
}

/* ---- keys ---- */

static void finish(struct le *e, enum le_event *ev, enum le_event what)
{
	emit_s(e, "\r\n");
	if (what == LE_EV_LINE)
		hist_add(e, e->line);
	e->st = LE_ST_IDLE;
	*ev = what;
}

/* Keys that move or edit; @retval 1 handled */
static int key_edit(struct le *e, int k)
{
	switch (k) {
	case CTRL('A'): case K_HOME:
		move(e, e->pos, 'D');
		e->pos = 0;
		return 1;
	case CTRL('E'): case K_END:
		move(e, e->len - e->pos, 'C');
		e->pos = e->len;
		return 1;
	case CTRL('B'): case K_LEFT:
		if (e->pos > 0) {
			move(e, 1, 'D');
			e->pos--;
		}
		return 1;
	case CTRL('F'): case K_RIGHT:
		if (e->pos < e->len) {
			move(e, 1, 'C');
			e->pos++;
		}
		return 1;
	case CTRL('H'): case KEY_DEL:
		if (e->pos > 0)
			delete_range(e, e->pos - 1, e->pos);
		return 1;
	case CTRL('D'): case K_DELETE:
		if (e->pos < e->len)
			delete_range(e, e->pos, e->pos + 1);
		return 1;
	case CTRL('U'):
		delete_range(e, 0, e->pos);
		return 1;
	case CTRL('K'):
		e->len = e->pos;
		e->line[e->len] = '\0';
		if (echo(e))
			emit_s(e, "\x1b[K");
		return 1;
	case CTRL('W'):
		delete_word(e);
		return 1;
	}
	return 0;
}

static void key(struct le *e, int k, enum le_event *ev)
{
	int tab = e->last_tab;

	e->last_tab = 0;
	if (k == '\r' || k == '\n') {
		finish(e, ev, LE_EV_LINE);
	} else if (k == CTRL('C')) {
		emit_s(e, echo(e) ? "^C" : "");
		finish(e, ev, LE_EV_INTR);
	} else if (k == CTRL('D') && e->len == 0) {
		finish(e, ev, LE_EV_EOF);
	} else if (k == '\t') {
		e->last_tab = !complete(e, tab);
	} else if (k == CTRL('L')) {
		clear_screen(e);
	} else if (k == CTRL('P') || k == K_UP) {
		hist_move(e, 1);
	} else if (k == CTRL('N') || k == K_DOWN) {
		hist_move(e, 0);
	} else if (k >= 0x20 && k < 0x7f) {
		insert(e, (char)k);
	} else {
		key_edit(e, k); /* unknown keys fall through: ignored */
	}
}

/* The key of "ESC [ <params> <final>": the first parameter picks among
 * the "~" keys; modifiers (";5") are ignored. */
static int csi_key(const struct le *e, uint8_t fin)
{
	unsigned p = 0;

	if (e->esc_len >= LE_ESC_MAX)
		return 0;
	for (size_t i = 0; i < e->esc_len && e->esc[i] >= '0' &&
	     e->esc[i] <= '9' && p < 100; i++)
		p = p * 10 + (unsigned)(e->esc[i] - '0');
	switch (fin) {
	case 'A': return K_UP;
	case 'B': return K_DOWN;
	case 'C': return K_RIGHT;
	case 'D': return K_LEFT;
	case 'H': return K_HOME;
	case 'F': return K_END;
	case '~':
		if (p == 1 || p == 7)
			return K_HOME;
		if (p == 4 || p == 8)
			return K_END;
		return p == 3 ? K_DELETE : 0;
	}
	return 0;
}

static int ss3_key(uint8_t b)
{
	switch (b) {
	case 'A': return K_UP;
	case 'B': return K_DOWN;
	case 'C': return K_RIGHT;
	case 'D': return K_LEFT;
	case 'H': return K_HOME;
	case 'F': return K_END;
	}
	return 0;
}

/* One byte inside an escape sequence.  @retval 1 consumed, 0 the
 * sequence ended without it (handle b in EDIT). */
static int esc_byte(struct le *e, uint8_t b, enum le_event *ev)
{
	int k = 0;

	if (b < 0x20 || b >= 0x7f) {
		e->st = LE_ST_EDIT;
		return b == KEY_ESC ? (e->st = LE_ST_ESC, 1) : 0;
	}
	if (e->st == LE_ST_ESC) {
		e->esc_len = 0;
		e->st = b == '[' ? LE_ST_CSI : b == 'O' ? LE_ST_SS3 : LE_ST_EDIT;
		return 1;
	}
	if (e->st == LE_ST_SS3) {
		k = ss3_key(b);
	} else if (b < 0x40) { /* CSI parameter or intermediate byte */
		/* an over-long sequence is swallowed up to its final byte;
		 * esc_len stays at LE_ESC_MAX, which no key matches */
		if (e->esc_len < LE_ESC_MAX)
			e->esc[e->esc_len++] = b;
		return 1;
	} else {
		k = csi_key(e, b);
	}
	e->st = LE_ST_EDIT;
	if (k)
		key(e, k, ev);
	return 1;
}

static void step(struct le *e, uint8_t b, enum le_event *ev)
{
	int after_cr = e->after_cr;

	e->after_cr = 0;
	switch (e->st) {
	case LE_ST_IDLE:
		return;
	case LE_ST_TOOLONG:
		if (b == '\r' || b == '\n') {
			e->after_cr = b == '\r';
			e->st = LE_ST_IDLE;
			*ev = LE_EV_TOOLONG;
		} else if (b == CTRL('C')) {
			key(e, b, ev);
		}
		return;
	case LE_ST_ESC: case LE_ST_CSI: case LE_ST_SS3:
		if (esc_byte(e, b, ev))
			return;
		break;
	case LE_ST_EDIT:
		break;
	default:
		e->st = LE_ST_EDIT; /* cannot happen: recover to editing */
		break;
	}
	if (b == '\n' && after_cr)
		return; /* the LF of a CR LF pair */
	if (b == KEY_ESC) {
		e->st = LE_ST_ESC;
		return;
	}
	if (b == '\r')
		e->after_cr = 1;
	key(e, b, ev);
}

/* see lineedit.h */
size_t le_feed(struct le *e, const uint8_t *in, size_t len,
	       enum le_event *ev)
{
	size_t i = 0;

	*ev = LE_EV_NONE;
	while (i < len && e->st != LE_ST_IDLE && *ev == LE_EV_NONE &&
	       LE_OUT_MAX - e->out_len >= LE_STEP_MAX)
		step(e, in[i++], ev);
	return i;
}

/* see lineedit.h */
void le_init(struct le *e, le_complete_cb *complete_fn, void *complete_arg)
{
	memset(e, 0, sizeof *e);
	e->st = LE_ST_IDLE;
	e->complete = complete_fn;
	e->complete_arg = complete_arg;
}

/* see lineedit.h */
void le_begin(struct le *e, const char *prompt, unsigned flags)
{
	size_t n = strlen(prompt);

	if (n > LE_PROMPT_MAX - 1)
		n = LE_PROMPT_MAX - 1;
	memcpy(e->prompt, prompt, n);
	e->prompt[n] = '\0';
	e->prompt_len = n;
	e->flags = flags;
	e->line[0] = '\0';
	e->len = e->pos = 0;
	e->hist_idx = 0;
	e->last_tab = 0;
	e->st = LE_ST_EDIT;
	emit(e, e->prompt, n);
}

/* see lineedit.h */
const char *le_line(const struct le *e)
{
	return e->line;
}

/* see lineedit.h */
const uint8_t *le_output(const struct le *e, size_t *n)
{
	*n = e->out_len;
	return e->out;
}

/* see lineedit.h */
void le_output_take(struct le *e, size_t n)
{
	if (n > e->out_len)
		n = e->out_len;
	memmove(e->out, e->out + n, e->out_len - n);
	e->out_len -= n;
}

/* see lineedit.h */
int le_output_put(struct le *e, const char *s, size_t n)
{
	if (n > LE_OUT_MAX - e->out_len)
		return -ENOSPC;
	emit(e, s, n);
	return 0;
}

/* see lineedit.h */
void le_history_clear(struct le *e)
{
	e->hist_count = 0;
	e->hist_head = 0;
	e->hist_idx = 0;
}

/*
 * lineedit_fuzz.c — the console line editor (firmware/console/lineedit.c) on
 * any bytes.
 *
 * Input: byte 0 picks the chunk size (1..64) the bytes are fed in, the
 * rest is typed.  The caller drains the output after every le_feed, as
 * the console does.  Properties (trap on violation):
 *   - the line is NUL-terminated, printable ASCII, pos <= len < LE_LINE_MAX
 *   - le_feed consumes at most what it was given, and nothing only when
 *     it stopped on an event or the editor is idle (no wedge)
 *   - the output stays within LE_OUT_MAX and is never dropped, and one
 *     call writes at most LE_STEP_MAX bytes per byte consumed
 *   - history holds at most LE_HIST_MAX entries, each a valid line
 *   - after the input, "^C CR ok CR" gives three events, the last the
 *     line "ok", whatever state the editor was left in (recovery)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lineedit.h"

static struct le ed;
static char last_line[LE_LINE_MAX];

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_text(const char *s, size_t len)
{
	check(len < LE_LINE_MAX && s[len] == '\0');
	for (size_t i = 0; i < len; i++)
		check(s[i] >= 0x20 && s[i] < 0x7f);
}

/* Many candidates, some longer than LE_CAND_LEN, more than LE_CAND_MAX. */
static void cands(void *arg, unsigned argc, const char *const *w,
		  struct le_cands *c)
{
	static const char *const words[] = { "a", "ab", "abc", "config",
		"conns", "log.level", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };
	char gen[8];

	(void)arg;
	for (unsigned i = 0; i < argc; i++)
		check_text(w[i], strlen(w[i]));
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		le_cand_add(c, words[i]);
	for (unsigned i = 0; i < 80; i++) {
		gen[0] = 'a';
		gen[1] = (char)('a' + i % 26);
		gen[2] = (char)('a' + i / 26);
		gen[3] = '\0';
		le_cand_add(c, gen);
	}
}

static void check_state(void)
{
	check(ed.pos <= ed.len);
	check_text(ed.line, ed.len);
	check(strlen(ed.line) == ed.len);
	check(ed.out_len <= LE_OUT_MAX);
	check(ed.out_dropped == 0);
	check(ed.hist_count <= LE_HIST_MAX);
	for (unsigned i = 0; i < ed.hist_count; i++)
		check_text(ed.hist[i], strlen(ed.hist[i]));
}

/* Feeds in[0..n) fully in chunks; returns the number of events. */
static unsigned feed(const uint8_t *in, size_t n, size_t chunk)
{
	size_t off = 0;
	unsigned events = 0;

	while (off < n) {
		size_t len = n - off < chunk ? n - off : chunk;
		size_t before = ed.out_len, used, out_n;
		enum le_event ev;

		used = le_feed(&ed, in + off, len, &ev);
		check(used <= len);
		check(ed.out_len - before <= used * LE_STEP_MAX);
		check(used > 0 || ev != LE_EV_NONE || ed.st == LE_ST_IDLE);
		check_state();
		off += used;
		(void)le_output(&ed, &out_n);
		le_output_take(&ed, out_n);
		if (ev != LE_EV_NONE) {
			events++;
			if (ev == LE_EV_LINE) {
				check_text(le_line(&ed), strlen(le_line(&ed)));
				memcpy(last_line, le_line(&ed), LE_LINE_MAX);
			}
		}
		if (ed.st == LE_ST_IDLE)
			le_begin(&ed, (off & 1) ? "vigil> " : "Password: ",
				 (off & 1) ? 0 : LE_F_NOECHO | LE_F_NOHIST);
	}
	return events;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t tail[] = "\x03\rok\r";
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)(data[0] % 64) + 1;
	le_init(&ed, cands, NULL);
	le_begin(&ed, "vigil> ", 0);
	feed(data + 1, size - 1, chunk);
	/* whatever state is left, ^C or CR ends it, and "ok" is a line */
	check(feed(tail, sizeof tail - 1, 1) >= 3);
	check(!strcmp(last_line, "ok"));
	return 0;
}

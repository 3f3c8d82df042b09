/*
 * lineedit_test.c — firmware/console/lineedit.c: key sequences in, the finished
 * line, the echo and the cursor out.
 */
#include "lineedit.h"

#include <stdio.h>
#include <string.h>

#include "test.h"

static struct le ed;
static char out[LE_OUT_MAX * 8];
static size_t out_len;

static void drain(void)
{
	size_t n;
	const uint8_t *p = le_output(&ed, &n);

	if (n > sizeof out - 1 - out_len)
		n = sizeof out - 1 - out_len;
	memcpy(out + out_len, p, n);
	out_len += n;
	out[out_len] = '\0';
	le_output_take(&ed, n);
}

/* Feeds s (n bytes) completely; returns the last event seen. */
static enum le_event feedn(const char *s, size_t n)
{
	enum le_event ev = LE_EV_NONE, last = LE_EV_NONE;
	size_t off = 0;

	while (off < n) {
		size_t used = le_feed(&ed, (const uint8_t *)s + off, n - off,
				      &ev);

		drain();
		off += used;
		if (ev != LE_EV_NONE)
			last = ev;
		if (ed.st == LE_ST_IDLE && off < n)
			le_begin(&ed, "> ", 0);
		else if (used == 0 && ed.st == LE_ST_IDLE)
			break;
	}
	return last;
}

static enum le_event feed(const char *s)
{
	return feedn(s, strlen(s));
}

static void start(unsigned flags)
{
	le_init(&ed, NULL, NULL);
	le_begin(&ed, "> ", flags);
	out_len = 0;
	drain();
	out_len = 0;
	out[0] = '\0';
}

static void clear_out(void)
{
	out_len = 0;
	out[0] = '\0';
}

TEST(le_prompt_and_plain_line)
{
	le_init(&ed, NULL, NULL);
	le_begin(&ed, "vigil> ", 0);
	out_len = 0;
	drain();
	CHECK_EQ_STR(out, "vigil> ");
	clear_out();
	CHECK_EQ_INT(feed("help\r"), LE_EV_LINE);
	CHECK_EQ_STR(le_line(&ed), "help");
	CHECK_EQ_STR(out, "help\r\n");
	/* idle: nothing consumed until le_begin */
	enum le_event ev;
	CHECK_EQ_INT(le_feed(&ed, (const uint8_t *)"x", 1, &ev), 0);
	CHECK_EQ_INT(ev, LE_EV_NONE);
}

TEST(le_crlf_is_one_line)
{
	start(0);
	CHECK_EQ_INT(feed("a\r"), LE_EV_LINE);
	le_begin(&ed, "> ", 0);
	clear_out();
	/* the LF of the CR LF pair is skipped, "b\n" is the next line */
	CHECK_EQ_INT(feed("\nb\n"), LE_EV_LINE);
	CHECK_EQ_STR(le_line(&ed), "b");
	le_begin(&ed, "> ", 0);
	CHECK_EQ_INT(feed("\n"), LE_EV_LINE); /* LF after LF: empty line */
	CHECK_EQ_STR(le_line(&ed), "");
}

TEST(le_backspace_and_del)
{
	start(0);
	feed("abc\x7f");
	CHECK_EQ_STR(ed.line, "ab");
	CHECK_EQ_STR(out, "abc\b\x1b[K");
	feed("\b\b\b\x7f"); /* past the start: no effect */
	CHECK_EQ_STR(ed.line, "");
	CHECK_EQ_INT(ed.pos, 0);
}

TEST(le_ctrl_keys_move_and_edit)
{
	start(0);
	feed("world\x01hello \x05!");
	CHECK_EQ_STR(ed.line, "hello world!");
	feed("\x02\x02\x02\x02\x02\x02"); /* 6 left: before "world!" */
	CHECK_EQ_INT(ed.pos, 6);
	feed("\x06"); /* right */
	CHECK_EQ_INT(ed.pos, 7);
	feed("\x0b"); /* ^K: cut at the cursor */
	CHECK_EQ_STR(ed.line, "hello w");
	feed("\x01\x04"); /* home, ^D deletes under the cursor */
	CHECK_EQ_STR(ed.line, "ello w");
	feed("\x05\x17"); /* end, ^W */
	CHECK_EQ_STR(ed.line, "ello ");
	feed("\x17"); /* ^W over the blank and the word */
	CHECK_EQ_STR(ed.line, "");
	feed("abc def\x02\x02\x15"); /* ^U: delete to the start */
	CHECK_EQ_STR(ed.line, "ef");
	CHECK_EQ_INT(ed.pos, 0);
}

TEST(le_insert_in_middle_repaints_tail)
{
	start(0);
	feed("ac\x02");
	clear_out();
	feed("b");
	CHECK_EQ_STR(ed.line, "abc");
	CHECK_EQ_INT(ed.pos, 2);
	CHECK_EQ_STR(out, "bc\x1b[K\b");
}

TEST(le_escape_sequences_csi_and_ss3)
{
	static const struct { const char *seq; size_t pos; } keys[] = {
		{ "\x1b[D", 2 }, { "\x1bOD", 2 }, { "\x1b[H", 0 },
		{ "\x1b[1~", 0 }, { "\x1b[7~", 0 }, { "\x1bOH", 0 },
		{ "\x1b[F", 3 }, { "\x1b[4~", 3 }, { "\x1b[8~", 3 },
		{ "\x1bOF", 3 }, { "\x1b[1;5D", 2 },
	};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		start(0);
		feed("abc");
		feed(keys[i].seq);
		CHECK_EQ_INT(ed.pos, keys[i].pos);
		CHECK_EQ_STR(ed.line, "abc");
	}
	start(0);
	feed("abc\x1b[H\x1b[C\x1bOC");
	CHECK_EQ_INT(ed.pos, 2);
	feed("\x1b[3~"); /* delete under the cursor */
	CHECK_EQ_STR(ed.line, "ab");
	feed("\x1b[H\x1b[3~");
	CHECK_EQ_STR(ed.line, "b");
}

TEST(le_move_output_is_vt100)
{
	start(0);
	feed("abcdefghijkl");
	clear_out();
	feed("\x01");
	CHECK_EQ_STR(out, "\x1b[12D");
	clear_out();
	feed("\x05");
	CHECK_EQ_STR(out, "\x1b[12C");
}

TEST(le_unknown_escapes_and_noise_are_ignored)
{
	start(0);
	feed("a\x1b[99~b\x1b[Zc\x1bxd\x1b[[Ae");
	/* ESC [ [ ends at the second '[' (a final byte): "A" is text */
	CHECK_EQ_STR(ed.line, "abcdAe");
	start(0);
	CHECK_EQ_INT(feedn("x\0y\x80\xff\x1d\x1cz", 8), LE_EV_NONE);
	CHECK_EQ_STR(ed.line, "xyz");
	/* an over-long CSI is dropped and editing goes on */
	start(0);
	feed("\x1b[1111111111111111111111111111111~q");
	CHECK_EQ_STR(ed.line, "q");
}

TEST(le_cr_inside_escape_ends_line)
{
	start(0);
	CHECK_EQ_INT(feed("ls\x1b[12\r"), LE_EV_LINE);
	CHECK_EQ_STR(le_line(&ed), "ls");
}

TEST(le_ctrl_c_drops_line)
{
	start(0);
	CHECK_EQ_INT(feed("junk\x03"), LE_EV_INTR);
	CHECK_EQ_STR(out, "junk^C\r\n");
	CHECK_EQ_INT(ed.hist_count, 0);
}

TEST(le_ctrl_d_on_empty_line_is_eof)
{
	start(0);
	CHECK_EQ_INT(feed("\x04"), LE_EV_EOF);
	start(0);
	CHECK_EQ_INT(feed("a\x04"), LE_EV_NONE);
}

TEST(le_ctrl_l_redraws)
{
	start(0);
	feed("abc\x02");
	clear_out();
	feed("\x0c");
	CHECK_EQ_STR(out, "\x1b[H\x1b[2J> abc\b");
}

TEST(le_too_long_line_is_discarded_not_cut)
{
	char buf[LE_LINE_MAX + 10];

	start(0);
	memset(buf, 'x', sizeof buf);
	CHECK_EQ_INT(feedn(buf, sizeof buf), LE_EV_NONE);
	CHECK(strstr(out, LE_MSG_TOOLONG) != NULL);
	CHECK_EQ_INT(ed.st, LE_ST_TOOLONG);
	CHECK_EQ_INT(feed("more\r"), LE_EV_TOOLONG);
	/* recovers: the next line works */
	le_begin(&ed, "> ", 0);
	CHECK_EQ_INT(feed("\nok\r"), LE_EV_LINE);
	CHECK_EQ_STR(le_line(&ed), "ok");
	/* exactly LE_LINE_MAX - 1 characters fit */
	start(0);
	CHECK_EQ_INT(feedn(buf, LE_LINE_MAX - 1), LE_EV_NONE);
	CHECK_EQ_INT(feed("\r"), LE_EV_LINE);
	CHECK_EQ_INT(strlen(le_line(&ed)), LE_LINE_MAX - 1);
}

TEST(le_paste_10k_is_bounded)
{
	static char paste[10 * 1024];

	start(0);
	for (size_t i = 0; i < sizeof paste; i++)
		paste[i] = (char)('a' + i % 26);
	CHECK_EQ_INT(feedn(paste, sizeof paste), LE_EV_NONE);
	CHECK(out_len < 2 * LE_LINE_MAX);
	CHECK_EQ_INT(ed.out_dropped, 0);
	CHECK_EQ_INT(feed("\n"), LE_EV_TOOLONG);
}

TEST(le_history_up_down)
{
	start(0);
	feed("one\r");
	le_begin(&ed, "> ", 0);
	feed("two\r");
	le_begin(&ed, "> ", 0);
	feed("two\r"); /* a repeat is kept once */
	le_begin(&ed, "> ", 0);
	feed("\r");    /* empty lines are not kept */
	CHECK_EQ_INT(ed.hist_count, 2);
	le_begin(&ed, "> ", 0);
	feed("dra");
	feed("\x1b[A");
	CHECK_EQ_STR(ed.line, "two");
	feed("\x1bOA");
	CHECK_EQ_STR(ed.line, "one");
	clear_out();
	feed("\x10"); /* ^P past the oldest: bell */
	CHECK_EQ_STR(out, "\a");
	feed("\x0e\x0e"); /* ^N twice: back to the edited line */
	CHECK_EQ_STR(ed.line, "dra");
	CHECK_EQ_INT(ed.pos, 3);
	feed("\x1b[A\r");
	CHECK_EQ_STR(le_line(&ed), "two");
}

TEST(le_history_ring_is_bounded)
{
	char cmd[16];

	start(0);
	for (int i = 0; i < LE_HIST_MAX + 5; i++) {
		snprintf(cmd, sizeof cmd, "c%d\r", i);
		feed(cmd);
		le_begin(&ed, "> ", 0);
	}
	CHECK_EQ_INT(ed.hist_count, LE_HIST_MAX);
	for (int i = 0; i < LE_HIST_MAX; i++)
		feed("\x1b[A");
	snprintf(cmd, sizeof cmd, "c%d", 5);
	CHECK_EQ_STR(ed.line, cmd); /* the oldest kept */
}

TEST(le_noecho_hides_input_and_history)
{
	start(LE_F_NOECHO | LE_F_NOHIST);
	CHECK_EQ_INT(feed("secret\x7f\r"), LE_EV_LINE);
	CHECK_EQ_STR(le_line(&ed), "secre");
	CHECK_EQ_STR(out, "\r\n");
	CHECK_EQ_INT(ed.hist_count, 0);
}

static void words_cb(void *arg, unsigned argc, const char *const *words,
		     struct le_cands *c)
{
	(void)arg; /* callback signature */
	if (argc == 0) {
		le_cand_add(c, "backup");
		le_cand_add(c, "config");
		le_cand_add(c, "conns");
		le_cand_add(c, "help");
	} else if (argc == 1 && !strcmp(words[0], "config")) {
		le_cand_add(c, "get");
		le_cand_add(c, "set");
		le_cand_add(c, "save");
	} else if (argc == 2 && !strcmp(words[1], "get")) {
		le_cand_add(c, "log.level");
		le_cand_add(c, "log.stderr");
	}
}

static void start_cb(void)
{
	le_init(&ed, words_cb, NULL);
	le_begin(&ed, "> ", 0);
	clear_out();
	le_output_take(&ed, LE_OUT_MAX);
}

TEST(le_tab_completes_unique_word)
{
	start_cb();
	feed("he\t");
	CHECK_EQ_STR(ed.line, "help ");
	start_cb();
	feed("config g\t");
	CHECK_EQ_STR(ed.line, "config get ");
	feed("log.s\t");
	CHECK_EQ_STR(ed.line, "config get log.stderr ");
}

TEST(le_tab_extends_common_prefix_then_lists)
{
	start_cb();
	feed("co\t");
	CHECK_EQ_STR(ed.line, "con");
	clear_out();
	feed("\t");
	CHECK_EQ_STR(out, "\a");
	clear_out();
	feed("\t"); /* double Tab: list */
	CHECK(strstr(out, "config") != NULL);
	CHECK(strstr(out, "conns") != NULL);
	CHECK(strstr(out, "backup") == NULL);
	CHECK(strstr(out, "\r\n> con") != NULL); /* redrawn after */
	CHECK_EQ_STR(ed.line, "con");
	start_cb();
	feed("config get log.\t\t");
	CHECK_EQ_STR(ed.line, "config get log.");
	CHECK(strstr(out, "log.stderr") != NULL);
}

TEST(le_tab_without_candidates_rings)
{
	start_cb();
	feed("zz\t");
	CHECK_EQ_STR(ed.line, "zz");
	CHECK(strchr(out, '\a') != NULL);
	le_init(&ed, NULL, NULL);
	le_begin(&ed, "> ", 0);
	feed("a\t");
	CHECK_EQ_STR(ed.line, "a");
}

TEST(le_tab_in_middle_of_line)
{
	start_cb();
	feed("he x\x02\x02");
	feed("\t");
	CHECK_EQ_STR(ed.line, "help x");
	CHECK_EQ_INT(ed.pos, 4);
}

TEST(le_output_never_drops_with_draining_caller)
{
	start_cb();
	for (int i = 0; i < 200; i++)
		feed("\t\t\x0c");
	CHECK_EQ_INT(ed.out_dropped, 0);
	CHECK_EQ_INT(le_output_put(&ed, "x", 1), 0);
}

TEST_SUITE(lineedit, le_prompt_and_plain_line, le_crlf_is_one_line,
	   le_backspace_and_del, le_ctrl_keys_move_and_edit,
	   le_insert_in_middle_repaints_tail, le_escape_sequences_csi_and_ss3,
	   le_move_output_is_vt100, le_unknown_escapes_and_noise_are_ignored,
	   le_cr_inside_escape_ends_line, le_ctrl_c_drops_line,
	   le_ctrl_d_on_empty_line_is_eof, le_ctrl_l_redraws,
	   le_too_long_line_is_discarded_not_cut, le_paste_10k_is_bounded,
	   le_history_up_down, le_history_ring_is_bounded,
	   le_noecho_hides_input_and_history, le_tab_completes_unique_word,
	   le_tab_extends_common_prefix_then_lists,
	   le_tab_without_candidates_rings, le_tab_in_middle_of_line,
	   le_output_never_drops_with_draining_caller);

/*
 * lineedit.h — the console's line editor: a state machine that turns
 * terminal input bytes into edited lines and the bytes to echo.  It makes
 * no system calls: the caller feeds what it read and writes out what the
 * editor produced (BearSSL's engine model).
 *
 * Life cycle:
 *   le_init() once; le_begin(prompt) emits the prompt and starts a line;
 *   le_feed() consumes input until an event (a line, Ctrl-C, end of
 *   input, a discarded over-long line) or until its output buffer has
 *   no room for one more step; le_output()/le_output_take() hand the
 *   echo to the caller.  After an event the editor is idle (le_feed
 *   consumes nothing) until the next le_begin().
 *
 * Keys (VT100; both the CSI "ESC [" and SS3 "ESC O" forms of cursor keys):
 *   printable ASCII          insert at the cursor
 *   BS (^H), DEL             delete before the cursor
 *   ^A / Home                start of line    ^E / End        end of line
 *   ^B / Left                one left         ^F / Right      one right
 *   ^D / Delete (ESC[3~)     delete under the cursor (^D on an empty line:
 *                            LE_EV_EOF)
 *   ^U  delete to start      ^K  delete to end    ^W  delete word before
 *   ^C  drop the line        ^L  clear screen, redraw
 *   ^P / Up, ^N / Down       history          Tab  completion
 *   CR, LF, CR LF            end the line (LF right after CR is skipped)
 * Home: ESC[H ESC[1~ ESC[7~ ESCOH; End: ESC[F ESC[4~ ESC[8~ ESCOF.
 * Anything else is ignored: other control bytes, NUL, bytes >= 0x80,
 * unknown or over-long escape sequences (at most LE_ESC_MAX bytes are
 * looked at; a control byte inside a sequence ends it and is then
 * handled as itself, so a CR always ends the line).
 *
 * Over-long lines: typing past LE_LINE_MAX - 1 characters prints
 * LE_MSG_TOOLONG once, then discards input up to the next CR/LF, which
 * yields LE_EV_TOOLONG (the line is never cut and run).
 *
 * Output: only VT100 sequences: BS, CR, LF, BEL, ESC[nC, ESC[nD, ESC[K,
 * ESC[H, ESC[2J.  Edits in the middle of a line wider than the terminal
 * may display wrongly (the width is unknown); ^L redraws.
 *
 * Buffers (all inside struct le, no allocation):
 *   line      LE_LINE_MAX             the line being edited, NUL-terminated
 *   history   LE_HIST_MAX x LE_LINE_MAX, a ring, oldest overwritten
 *   cands     LE_CAND_MAX x LE_CAND_LEN, completion candidates
 *   out       LE_OUT_MAX              echo waiting for the caller
 */
#ifndef VIGIL_LINEEDIT_H
#define VIGIL_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

/* Line buffer, NUL included: 255 characters hold the longest command
 * (config set <31-byte key> <127-byte path>, quoted = 175) with room. */
#define LE_LINE_MAX 256
/* History entries: a screenful of recent commands. */
#define LE_HIST_MAX 16
/* Prompt, NUL included ("Password: ", "vigil> "). */
#define LE_PROMPT_MAX 32
/* Completion: candidates kept per Tab (the config schema has at most
 * CONFIG_KEYS_MAX = 48 keys) and the longest one + NUL (config keys are
 * at most 31 bytes). */
#define LE_CAND_MAX 64
#define LE_CAND_LEN 32
/* Bytes of an escape sequence looked at (ESC [ 1 ; 5 C is 6). */
#define LE_ESC_MAX 16
/* Listing width for candidates: a VT100 has 80 columns. */
#define LE_COLS 80

#define LE_MSG_TOOLONG "line too long: discarded up to the next newline"

/* Worst-case output of one input byte: a candidate listing ("\r\n", each
 * candidate padded to LE_CAND_LEN + 2 columns, a "\r\n" per row of at
 * least one candidate, "\r\n"), then prompt + line + ESC[nnnD; the other
 * steps (^L: ESC[H ESC[2J + prompt + line + move; the too-long message)
 * are smaller. */
#define LE_STEP_MAX \
	(2 + LE_CAND_MAX * (LE_CAND_LEN + 2 + 2) + 2 + LE_PROMPT_MAX + \
	 LE_LINE_MAX + 16)
/* Output buffer: room for two steps so a step never waits on a drain. */
#define LE_OUT_MAX (2 * LE_STEP_MAX)

/* le_begin() flags */
#define LE_F_NOECHO 0x1 /* echo nothing typed (passwords, pipes) */
#define LE_F_NOHIST 0x2 /* keep the line out of the history, no Tab */

enum le_event {
	LE_EV_NONE = 0,   /* input consumed, nothing finished */
	LE_EV_LINE,       /* a line: le_line() */
	LE_EV_INTR,       /* ^C dropped the line */
	LE_EV_EOF,        /* ^D on an empty line */
	LE_EV_TOOLONG,    /* an over-long line ended and was discarded */
};

/* Candidates for one Tab.  Filled through le_cand_add() only. */
struct le_cands {
	const char *prefix; /* the word being completed (borrowed) */
	size_t prefix_len;
	unsigned count;     /* matching candidates offered (may be > stored) */
	unsigned stored;
	char c[LE_CAND_MAX][LE_CAND_LEN];
};

/*
 * Completion callback: offer every word that may stand at word index
 * argc, given the argc words before it (words[i], each NUL-terminated,
 * borrowed for the call), by calling le_cand_add(); the editor keeps
 * those that start with the word under the cursor.
 */
typedef void le_complete_cb(void *arg, unsigned argc,
			    const char *const *words, struct le_cands *c);

/* Words of the line before the cursor passed to the callback; a line
 * with more words gets no completion. */
#define LE_WORDS_MAX 8

enum le_state { LE_ST_IDLE, LE_ST_EDIT, LE_ST_ESC, LE_ST_CSI, LE_ST_SS3,
		LE_ST_TOOLONG };

struct le {
	enum le_state st;
	unsigned flags;
	char line[LE_LINE_MAX];
	size_t len, pos;               /* invariant: pos <= len < LE_LINE_MAX */
	char prompt[LE_PROMPT_MAX];
	size_t prompt_len;
	uint8_t esc[LE_ESC_MAX];       /* parameter bytes of a CSI sequence */
	size_t esc_len;
	int after_cr;                  /* last line ended with CR */
	int last_tab;                  /* previous key was Tab */
	char hist[LE_HIST_MAX][LE_LINE_MAX];
	unsigned hist_count;           /* entries held, <= LE_HIST_MAX */
	unsigned hist_head;            /* slot of the next entry */
	unsigned hist_idx;             /* browsing: 0 = the edited line */
	char saved[LE_LINE_MAX];       /* the edited line while browsing */
	le_complete_cb *complete;
	void *complete_arg;
	struct le_cands cands;
	uint8_t out[LE_OUT_MAX];
	size_t out_len;
	uint64_t out_dropped;          /* stays 0 while the caller drains */
};

/* Prepares an idle editor with an empty history; complete may be NULL
 * (Tab rings the bell).  complete_arg is retained. */
void le_init(struct le *e, le_complete_cb *complete, void *complete_arg);

/*
 * Starts a new line: emits the prompt (cut to LE_PROMPT_MAX - 1 bytes)
 * and goes to editing.  prompt is copied.
 */
void le_begin(struct le *e, const char *prompt, unsigned flags);

/*
 * Consumes in[0..len) until an event or until the output buffer lacks
 * LE_STEP_MAX free bytes (drain it with le_output_take and call again).
 * *ev gets the event (LE_EV_NONE when none).  In the idle state nothing
 * is consumed.
 * @retval >=0 bytes consumed (0..len)
 */
size_t le_feed(struct le *e, const uint8_t *in, size_t len,
	       enum le_event *ev);

/* The finished line after LE_EV_LINE (NUL-terminated, printable ASCII),
 * valid until le_begin(). */
const char *le_line(const struct le *e);

/* Output waiting: *n bytes at the returned pointer (borrowed until the
 * next le_* call). */
const uint8_t *le_output(const struct le *e, size_t *n);

/* Removes the first n (<= waiting) bytes of the output. */
void le_output_take(struct le *e, size_t n);

/* Appends text to the output as is (the caller's own messages between
 * lines).  @retval 0  @retval -ENOSPC no room: nothing appended */
int le_output_put(struct le *e, const char *s, size_t n);

/* Offers word as a completion (see le_complete_cb); ignored unless it
 * starts with the word being completed; words of LE_CAND_LEN bytes or
 * more are counted but not stored. */
void le_cand_add(struct le_cands *c, const char *word);

/* Forgets the history. */
void le_history_clear(struct le *e);

#endif

/*
 * vigilctl_table.c — a CBOR document (vigild's status, a job list, a
 * probe result) as an aligned table for people (vigilctl_status.h).
 *
 * Layout, one line per scalar, two spaces of indent per level:
 *
 *   device
 *     id                  appliance-7
 *   uptime                3d 04:05:06 (273906 s)
 *   health
 *     overall             ok
 *     checks
 *       [0]
 *         name            disk
 *   conns                 (none)
 *   tags                  a, b, c
 *
 * Maps are sections, arrays of maps numbered entries, arrays of scalars
 * one comma-separated line.  Scalars print as diagnostic notation
 * (cbor_diag.h) except text (as is, control characters as '?'), null
 * ("-"), and the unit-bearing members recognised by key name: durations
 * ("uptime", "*_s", "idle"), epoch times ("*time", "*_at", "last_*",
 * "since" with a plausible epoch value) and byte counts ("*bytes*").
 * The whole item is checked first, so malformed input prints nothing.
 * Recursion depth is bounded by CBOR_MAX_DEPTH (the decoder refuses
 * deeper input during the check).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cbor.h"
#include "cbor_diag.h"
#include "vigilctl_status.h"

/* Key column: values start here (indent + key + padding). */
#define KEY_COL 24
/* Map keys shown: longer ones are cut with "..." (a status key is < 20). */
#define KEY_MAX 64
/* A diag scalar (number, bytes, tag) as text: longer values are cut. */
#define SCALAR_MAX 512
/* Epoch seconds 2001-09-09 .. 2286-11-20: anything else is a counter. */
#define EPOCH_MIN 1000000000ull
#define EPOCH_MAX 9999999999ull

struct tw {
	FILE *f;
	struct cbor_dec d;
	bool compact;                 /* grid cells: short units */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void put_text(FILE *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc((unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i], f);
}

enum unit { U_NONE, U_TIME, U_DUR, U_SEC, U_BYTES, U_MILLI, U_MILLI_C };

/* Members of docs/status.cddl with a unit (parent NULL: any parent; key
 * NULL: every member of that parent).  First match wins; the fallbacks
 * in unit_of() cover documents this table does not know. */
static const struct {
	const char *parent, *key;
	uint8_t unit;
} unit_rules[] = {
	{ "uptime", NULL, U_DUR },          /* agent, system */
	{ "conns", "uptime", U_DUR },
	{ NULL, "idle", U_DUR },
	{ "watchdog", "timeout", U_SEC },
	{ "memory", NULL, U_BYTES },        /* total, available */
	{ "storage", "free", U_BYTES },
	{ "storage", "total", U_BYTES },
	{ "system", "load", U_MILLI },      /* load average x 1000 */
	{ "system", "temperature", U_MILLI_C },
	{ NULL, "started", U_TIME },
};

static enum unit unit_of(const char *parent, const char *key)
{
	for (size_t i = 0; i < sizeof unit_rules / sizeof unit_rules[0]; i++)
		if ((!unit_rules[i].parent || !strcmp(parent, unit_rules[i].parent))
		    && (!unit_rules[i].key || !strcmp(key, unit_rules[i].key)))
			return unit_rules[i].unit;
	if (!strcmp(key, "uptime"))
		return U_DUR;
	if (ends_with(key, "time") || ends_with(key, "_at") ||
	    !strncmp(key, "last_", 5) || !strcmp(key, "since"))
		return U_TIME;
	if (ends_with(key, "_s"))
		return U_SEC;
	return strstr(key, "bytes") ? U_BYTES : U_NONE;
}

static void put_bytes(FILE *f, uint64_t v, bool compact)
{
	static const char units[] = "KMGTPE";
	double x = (double)v / 1024.0;
	size_t u = 0;

	if (v < 1024) {
		fprintf(f, "%llu%s", (unsigned long long)v, compact ? " B" : "");
		return;
	}
	while (x >= 1024.0 && u + 1 < sizeof units - 1)
		x /= 1024.0, u++;
	if (compact)
		fprintf(f, "%.1f %ciB", x, units[u]);
	else
		fprintf(f, "%llu (%.1f %ciB)", (unsigned long long)v, x, units[u]);
}

/* An integer with a unit; false when it has none (printed as is). */
static bool put_unit(FILE *f, enum unit u, uint64_t v, bool neg, bool compact)
{
	time_t tt = (time_t)v;
	struct tm tm;
	char buf[32];

	if (u == U_MILLI || u == U_MILLI_C) {
		fprintf(f, "%s%lld.%03lld%s", neg ? "-" : "", (long long)(v / 1000),
			(long long)(v % 1000), u == U_MILLI_C ? " °C" : "");
		return true;
	}
	if (neg)
		return false;
	if (u == U_TIME && v >= EPOCH_MIN && v <= EPOCH_MAX &&
	    gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, compact ?
		"%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M:%S UTC", &tm)) {
		fprintf(f, compact ? "%s" : "%s (%llu)", buf, (unsigned long long)v);
		return true;
	}
	if (u == U_DUR) {
		fprintf(f, "%llud %02llu:%02llu:%02llu", (unsigned long long)(v / 86400),
			(unsigned long long)(v / 3600 % 24),
			(unsigned long long)(v / 60 % 60), (unsigned long long)(v % 60));
		if (!compact)
			fprintf(f, " (%llu s)", (unsigned long long)v);
		return true;
	}
	if (u == U_SEC)
		fprintf(f, "%llu s", (unsigned long long)v);
	else if (u == U_BYTES)
		put_bytes(f, v, compact);
	return u == U_SEC || u == U_BYTES;
}

/* The next item, a scalar or a tag, as one value (no newline); parent
 * and key name it for units. */
static int put_scalar(struct tw *t, const char *parent, const char *key)
{
	struct cbor_item it;
	char buf[SCALAR_MAX];
	int r = cbor_dec_peek(&t->d, &it);

	if (r != 1)
		return r < 0 ? r : -EBADMSG;
	if (it.type == CBOR_TEXT && !(it.flags & CBOR_INDEF)) {
		put_text(t->f, (const char *)it.ptr, it.len);
		if (it.len == 0 && t->compact)
			fputc('-', t->f);
		return cbor_dec_skip(&t->d) < 0 ? -EBADMSG : 0;
	}
	if ((it.type == CBOR_SIMPLE && it.val == CBOR_SIMPLE_NULL) ||
	    ((it.type == CBOR_UINT || it.type == CBOR_NEGINT) &&
	     put_unit(t->f, unit_of(parent, key), it.type == CBOR_UINT ?
		      it.val : it.val + 1, it.type == CBOR_NEGINT, t->compact))) {
		if (it.type == CBOR_SIMPLE)
			fputc('-', t->f);
		return cbor_dec_skip(&t->d) < 0 ? -EBADMSG : 0;
	}
	if (it.type == CBOR_TAG && it.val == 1) { /* epoch-based date/time */
		cbor_dec_next(&t->d, &it);
		r = put_scalar(t, "", "time");
		return r < 0 || cbor_dec_next(&t->d, &it) != 1 ? -EBADMSG : 0;
	}
	r = cbor_diag(&t->d, buf, sizeof buf, 0);
	if (r == -ENOSPC) {
		fputs("(too long)", t->f);
		return cbor_dec_skip(&t->d) < 0 ? -EBADMSG : 0;
	}
	if (r < 0)
		return r;
	fputs(buf, t->f);
	return 0;
}

static void indent_key(FILE *f, int indent, const char *key, bool value)
{
	int n = fprintf(f, "%*s%s", indent, "", key);

	if (value)
		fprintf(f, "%*s", n < KEY_COL - 1 ? KEY_COL - n : 2, "");
}

/* Copies a map key into key[KEY_MAX] (text as is, cut with "..."; other
 * types as diagnostic notation), controls as '?'. */
static int read_key(struct tw *t, char *key)
{
	struct cbor_item it;
	int r;

	if (cbor_dec_peek(&t->d, &it) != 1)
		return -EBADMSG;
	if (it.type == CBOR_TEXT && !(it.flags & CBOR_INDEF)) {
		size_t n = it.len < KEY_MAX - 4 ? it.len : KEY_MAX - 4;

		memcpy(key, it.ptr, n);
		strcpy(key + n, n < it.len ? "..." : "");
		r = cbor_dec_skip(&t->d) < 0 ? -EBADMSG : 0;
	} else {
		r = cbor_diag(&t->d, key, KEY_MAX, 0);
		if (r == -ENOSPC) {
			strcpy(key, "(key)");
			r = cbor_dec_skip(&t->d) < 0 ? -EBADMSG : 0;
		}
	}
	for (char *k = key; *k; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			*k = '?';
	return r < 0 ? r : 0;
}

/* Whether the next item ends the open container (then consumed). */
static int at_end(struct tw *t)
{
	struct cbor_item it;

	if (cbor_dec_peek(&t->d, &it) != 1)
		return -EBADMSG;
	if (it.type != CBOR_END)
		return 0;
	return cbor_dec_next(&t->d, &it) == 1 ? 1 : -EBADMSG;
}

/*
 * Grids: a map of maps (rows named by the keys: health.checks) or an
 * array of maps (backup.jobs, conns) whose members are all scalars print
 * as aligned columns, one row per entry, values in short units:
 *
 *   checks
 *                 state     kind      result  error  ...
 *     liveness    healthy   required  pass    -      ...
 */
#define GRID_COLS 12                  /* more members: sections instead */
#define CELL_MAX 40                   /* longer values are cut with "..." */

struct grid {
	size_t ncols;
	char col[GRID_COLS][KEY_MAX];
	size_t width[GRID_COLS];
	size_t name_w;
	size_t rows;
};

/* Display width of UTF-8 text: code points (°C is one column). */
static size_t u8width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The next scalar in compact form into out[CELL_MAX + 1]. */
static int cell(struct tw *t, const char *parent, const char *key, char *out)
{
	char buf[SCALAR_MAX + 64];
	FILE *m, *saved = t->f;
	size_t n;
	int r;

	memset(buf, 0, sizeof buf);
	m = fmemopen(buf, sizeof buf - 1, "w"); /* the last NUL stays */
	if (!m)
		return -EIO;
	t->f = m;
	t->compact = true;
	r = put_scalar(t, parent, key);
	fclose(m);
	t->f = saved;
	t->compact = false;
	n = strlen(buf);
	if (n > CELL_MAX) {
		n = CELL_MAX - 3;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--; /* never cut a character in two */
		strcpy(buf + n, "...");
	}
	strcpy(out, buf);
	return r;
}

static int grid_col(struct grid *g, const char *key, bool add)
{
	for (size_t i = 0; i < g->ncols; i++)
		if (!strcmp(g->col[i], key))
			return (int)i;
	if (!add || g->ncols == GRID_COLS)
		return -1;
	strcpy(g->col[g->ncols], key);
	g->width[g->ncols] = u8width(key);
	return (int)g->ncols++;
}

static void grid_row(struct tw *t, const struct grid *g, int indent,
		     const char *name, bool named, char cells[][CELL_MAX + 1])
{
	fprintf(t->f, "%*s", indent, "");
	if (named)
		fprintf(t->f, "%s%*s", name, (int)(g->name_w + 2 - u8width(name)), "");
	for (size_t c = 0; c < g->ncols; c++)
		fprintf(t->f, "%s%*s", cells[c], c + 1 < g->ncols ?
			(int)(g->width[c] + 2 - u8width(cells[c])) : 0, "");
	fputc('\n', t->f);
}

/* One pass over the rows: measuring (print false: finds the columns,
 * fails on anything that is not grid-shaped) or printing. */
static int grid_pass(struct tw *t, struct grid *g, int indent,
		     const char *parent, bool named, bool print)
{
	char cells[GRID_COLS][CELL_MAX + 1], name[KEY_MAX], key[KEY_MAX];
	struct cbor_item it;
	int r, c;

	while ((r = at_end(t)) == 0) {
		name[0] = '\0';
		if ((named && read_key(t, name) < 0) ||
		    cbor_dec_next(&t->d, &it) != 1 || it.type != CBOR_MAP)
			return -EBADMSG;
		memset(cells, 0, sizeof cells);
		while ((r = at_end(t)) == 0) {
			if (read_key(t, key) < 0 || cbor_dec_peek(&t->d, &it) != 1 ||
			    it.type == CBOR_MAP || it.type == CBOR_ARRAY ||
			    (c = grid_col(g, key, !print)) < 0 ||
			    cell(t, parent, key, cells[c]) < 0)
				return -EBADMSG;
			if (u8width(cells[c]) > g->width[c])
				g->width[c] = u8width(cells[c]);
		}
		if (r < 0)
			return r;
		if (u8width(name) > g->name_w)
			g->name_w = u8width(name);
		g->rows++;
		if (print)
			grid_row(t, g, indent, name, named, cells);
	}
	return r < 0 ? r : 0;
}

/* The container whose head was consumed as a grid under key, if it has
 * that shape.  @retval 1 printed / 0 not a grid (nothing consumed) / <0 */
static int grid(struct tw *t, int indent, const char *key, bool named)
{
	struct tw probe = *t;
	struct grid g;
	char head[GRID_COLS][CELL_MAX + 1];

	memset(&g, 0, sizeof g);
	if (grid_pass(&probe, &g, indent + 2, key, named, false) < 0 ||
	    g.rows == 0 || g.ncols == 0)
		return 0;
	fprintf(t->f, "%*s%s\n", indent, "", key);
	for (size_t c = 0; c < g.ncols; c++)
		snprintf(head[c], sizeof head[c], "%s", g.col[c]);
	grid_row(t, &g, indent + 2, "", named, head);
	return grid_pass(t, &g, indent + 2, key, named, true) < 0 ? -EBADMSG : 1;
}

static int walk(struct tw *t, int indent, const char *parent, const char *key);

/* The members of a map whose head was consumed, up to its CBOR_END. */
static int walk_map(struct tw *t, int indent, const char *parent)
{
	char key[KEY_MAX];
	int r;

	while ((r = at_end(t)) == 0) {
		if ((r = read_key(t, key)) < 0 ||
		    (r = walk(t, indent, parent, key)) < 0)
			return r;
	}
	return r < 0 ? r : 0;
}

/* An array of scalars on one line (head consumed). */
static int scalar_line(struct tw *t, int indent, const char *parent,
		       const char *key)
{
	int r;

	indent_key(t->f, indent, key, true);
	for (size_t i = 0; (r = at_end(t)) == 0; i++) {
		if (i)
			fputs(", ", t->f);
		if ((r = put_scalar(t, parent, key)) < 0)
			return r;
	}
	fputc('\n', t->f);
	return r < 0 ? r : 0;
}

/* An array whose head was consumed. */
static int walk_array(struct tw *t, int indent, const char *parent,
		      const char *key)
{
	struct cbor_item first;
	char idx[24];
	int r;

	if (cbor_dec_peek(&t->d, &first) != 1)
		return -EBADMSG;
	if (first.type == CBOR_END) {
		indent_key(t->f, indent, key, true);
		fputs("(none)\n", t->f);
		return at_end(t) == 1 ? 0 : -EBADMSG;
	}
	if (first.type != CBOR_MAP && first.type != CBOR_ARRAY)
		return scalar_line(t, indent, parent, key);
	r = grid(t, indent, key, false);
	if (r != 0)
		return r < 0 ? r : 0;
	fprintf(t->f, "%*s%s\n", indent, "", key);
	for (unsigned long i = 0; (r = at_end(t)) == 0; i++) {
		snprintf(idx, sizeof idx, "[%lu]", i);
		if ((r = walk(t, indent + 2, key, idx)) < 0)
			return r;
	}
	return r < 0 ? r : 0;
}

/* key's value: a section, an array or one line.  Members of an array's
 * maps take the array's key as their parent (units of "conns"). */
static int walk(struct tw *t, int indent, const char *parent, const char *key)
{
	struct cbor_item it;
	int r = cbor_dec_peek(&t->d, &it);

	if (r != 1)
		return -EBADMSG;
	if (it.type == CBOR_MAP) {
		cbor_dec_next(&t->d, &it);
		if ((r = at_end(t)) != 0) {
			indent_key(t->f, indent, key, true);
			fputs("(empty)\n", t->f);
			return r < 0 ? r : 0;
		}
		r = grid(t, indent, key, true);
		if (r != 0)
			return r < 0 ? r : 0;
		fprintf(t->f, "%*s%s\n", indent, "", key);
		return walk_map(t, indent + 2, key[0] == '[' ? parent : key);
	}
	if (it.type == CBOR_ARRAY) {
		cbor_dec_next(&t->d, &it);
		return walk_array(t, indent, parent, key);
	}
	indent_key(t->f, indent, key, true);
	r = put_scalar(t, parent, key);
	fputc('\n', t->f);
	return r;
}

static int count_sink(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n; /* the dry run only looks for errors */
	return 0;
}

/* see vigilctl_status.h */
int vigilctl_table(FILE *f, const uint8_t *buf, size_t len)
{
	struct tw t = { .f = f };
	struct cbor_dec dry;
	struct cbor_item it;
	int r;

	cbor_dec_init(&t.d, buf, len, CBOR_DEC_UTF8);
	dry = t.d;
	if (cbor_diag_stream(&dry, 0, count_sink, NULL) != 1 ||
	    cbor_dec_next(&dry, &it) != 0)
		return -EBADMSG; /* not exactly one well-formed item */
	if (cbor_dec_peek(&t.d, &it) == 1 && it.type == CBOR_MAP) {
		cbor_dec_next(&t.d, &it);
		r = at_end(&t);
		if (r == 1)
			fputs("(empty)\n", f);
		else if (r == 0)
			r = walk_map(&t, 0, "");
	} else {
		r = put_scalar(&t, "", "");
		fputc('\n', f);
	}
	if (r < 0)
		return -EBADMSG;
	return ferror(f) ? -EIO : 0;
}

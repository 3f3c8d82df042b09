/*
 * config.c — see config.h.  The file syntax and the API; the keys and
 * their typed values are in config_keys.c.
 *
 * Parsing is one pass over the caller's bytes.  Each line is cut at '\n'
 * (memchr bounded by len; a '\r' just before the cut is dropped), checked
 * raw (length, control bytes), split at its first '=' into key and value,
 * the value unquoted into a CONFIG_LINE_MAX + 1 stack buffer (never
 * longer than the line) and applied to the scratch struct by the key's
 * typed setter, which validates before it writes anything.  At most one
 * error per line is recorded, and parsing goes on with the next line.
 */
#include "config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/storage.h"

/* Parser state for one config_parse() call. */
struct pctx {
	struct config_errors *errs;    /* may be NULL */
	unsigned line;
	unsigned nerr;                 /* errors found, stored or not */
	unsigned seen[CONFIG_KEYS_MAX]; /* line that set each key, 0 = not */
};

static void errs_clear(struct config_errors *errs)
{
	if (errs) {
		errs->count = 0;
		errs->dropped = 0;
	}
}

/* Records one error; key (n bytes) is stored as cfg_show prints it. */
static void errs_vadd(struct config_errors *errs, unsigned line,
		      const char *key, size_t n, const char *fmt, va_list ap)
{
	struct config_error *e;
	char shown[CFG_SHOW_MAX];
	int w;

	if (!errs)
		return;
	if (errs->count >= CONFIG_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->count++];
	e->line = line;
	snprintf(e->key, sizeof e->key, "%s", cfg_show(key, n, shown));
	w = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (w >= (int)sizeof e->msg) /* cut: make it visible */
		memcpy(e->msg + sizeof e->msg - 4, "...", 4);
}

/* An error about line x->line; key is key[0..n) ("" when none). */
static void perr(struct pctx *x, const char *key, size_t n, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
static void perr(struct pctx *x, const char *key, size_t n, const char *fmt,
		 ...)
{
	va_list ap;

	x->nerr++;
	va_start(ap, fmt);
	errs_vadd(x->errs, x->line, key, n, fmt, ap);
	va_end(ap);
}

/* A line-0 error (the whole file). */
static void file_err(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void file_err(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(errs, 0, "", 0, fmt, ap);
	va_end(ap);
}

/* ---- one line ---- */

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Unquotes p[0..n), the rest of the line after an opening '"', into val.
 * @retval 0  @retval -EBADMSG (error recorded) */
static int unquote(struct pctx *x, const struct cfg_key *k, const char *p,
		   size_t n, char *val)
{
	const char *name = k->name;
	size_t i = 0, o = 0;

	/* invariant: o <= i <= n <= CONFIG_LINE_MAX, so val never overflows */
	while (i < n && p[i] != '"') {
		if (p[i] == '\\' && i + 1 < n) {
			if (p[i + 1] != '"' && p[i + 1] != '\\') {
				perr(x, name, strlen(name), "%s: `\\%c` in quotes: "
				     "the only escapes are \\\" and \\\\", name,
				     p[i + 1] > 0x20 && p[i + 1] < 0x7f ?
				     p[i + 1] : '?');
				return -EBADMSG;
			}
			i++; /* the escaped byte is copied below */
		}
		val[o++] = p[i++];
	}
	if (i >= n) {
		perr(x, name, strlen(name), "%s: no closing `\"`", name);
		return -EBADMSG;
	}
	val[o] = '\0';
	for (i++; i < n && is_blank(p[i]); i++)
		;
	if (i < n && p[i] != '#') {
		perr(x, name, strlen(name), "%s: text after the closing `\"` "
		     "(a comment starts with `#`)", name);
		return -EBADMSG;
	}
	return 0;
}

/* The value part of a line, p[0..n) after '=', into val (NUL-ended).
 * @retval 0  @retval -EBADMSG (error recorded) */
static int read_value(struct pctx *x, const struct cfg_key *k,
		      const char *p, size_t n, char *val)
{
	char e[CONFIG_ERR_MSG_MAX - 48];
	size_t i = 0, end;

	while (i < n && is_blank(p[i]))
		i++;
	if (i < n && p[i] == '"')
		return unquote(x, k, p + i + 1, n - i - 1, val);
	/* a '#' at the start of the value or after a blank opens a comment */
	for (end = i; end < n; end++)
		if (p[end] == '#' && (end == i || is_blank(p[end - 1])))
			break;
	while (end > i && is_blank(p[end - 1]))
		end--;
	if (end == i) {
		cfg_expect(k, e, sizeof e);
		perr(x, k->name, strlen(k->name), "%s: no value after `=` "
		     "(expected %s)", k->name, e);
		return -EBADMSG;
	}
	memcpy(val, p + i, end - i);
	val[end - i] = '\0';
	return 0;
}

/* p[0..n) without leading and trailing blanks: *s start, returns length */
static size_t trim(const char *p, size_t n, size_t *s)
{
	size_t i = 0;

	while (i < n && is_blank(p[i]))
		i++;
	while (n > i && is_blank(p[n - 1]))
		n--;
	*s = i;
	return n - i;
}

/* One line without its ending, n <= CONFIG_LINE_MAX, no control bytes. */
static void parse_line(struct pctx *x, struct config *c, const char *p,
		       size_t n)
{
	char val[CONFIG_LINE_MAX + 1], msg[CONFIG_ERR_MSG_MAX];
	const char *eq = memchr(p, '=', n);
	const struct cfg_key *k;
	size_t ks, kn, at;

	kn = trim(p, eq ? (size_t)(eq - p) : n, &ks);
	if (kn == 0 && !eq)
		return; /* blank line */
	if (p[ks] == '#')
		return; /* comment line */
	if (!eq) {
		for (at = ks; at < ks + kn && !is_blank(p[at]); at++)
			;
		k = cfg_find(p + ks, at - ks);
		perr(x, k ? k->name : "", k ? strlen(k->name) : 0, "%s%s"
		     "missing `=` (expected `key = value`)", k ? k->name : "",
		     k ? ": " : "");
		return;
	}
	if (kn == 0) {
		perr(x, "", 0, "missing key before `=`");
		return;
	}
	k = cfg_find(p + ks, kn);
	if (!k) {
		/* the hint costs O(keys x len^2): only for an error kept */
		msg[0] = '\0';
		if (x->errs && x->errs->count < CONFIG_ERRORS_MAX)
			cfg_unknown_msg(p + ks, kn, msg, sizeof msg);
		perr(x, p + ks, kn, "%s", msg);
		return;
	}
	if (x->seen[k - cfg_keys]) {
		perr(x, k->name, strlen(k->name), "%s: already set on line %u",
		     k->name, x->seen[k - cfg_keys]);
		return;
	}
	x->seen[k - cfg_keys] = x->line;
	at = (size_t)(eq - p) + 1;
	if (read_value(x, k, p + at, n - at, val) == 0 &&
	    cfg_apply(c, k, val, msg, sizeof msg) < 0)
		perr(x, k->name, strlen(k->name), "%s", msg);
}

/* One raw line (without '\n'): ending, length and byte checks first. */
static void parse_raw(struct pctx *x, struct config *c, const char *p,
		      size_t n)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > CONFIG_LINE_MAX) {
		perr(x, "", 0, "line has %zu bytes; at most %d are allowed",
		     n, CONFIG_LINE_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			perr(x, "", 0, "control byte 0x%02x in column %zu "
			     "(only tab is allowed)", ch, i + 1);
			return;
		}
	}
	parse_line(x, c, p, n);
}

/* ---- files ---- */

/* see config.h */
int config_parse(struct config *c, const char *text, size_t len,
		 struct config_errors *errs)
{
	static const char bom[] = "\xef\xbb\xbf"; /* UTF-8 byte order mark */
	struct pctx x;
	size_t pos = 0;

	errs_clear(errs);
	if (!c || (!text && len > 0))
		return -EINVAL;
	config_defaults(c);
	if (len > CONFIG_FILE_MAX) {
		file_err(errs, "file has %zu bytes; at most %d are allowed",
			 len, CONFIG_FILE_MAX);
		return -EMSGSIZE;
	}
	memset(&x, 0, sizeof x);
	x.errs = errs;
	if (len >= 3 && !memcmp(text, bom, 3))
		pos = 3; /* some editors write one */
	/* invariant: pos <= len; each pass consumes one line */
	while (pos < len) {
		const char *p = text + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;

		x.line++;
		parse_raw(&x, c, p, n);
		pos += n + (nl != NULL);
	}
	return x.nerr ? -EBADMSG : 0;
}

/* see config.h */
int config_load(struct config *c, const char *path,
		struct config_errors *errs)
{
	static char buf[CONFIG_FILE_MAX]; /* static: the agent allocates nothing */
	int n = -EIO;

	errs_clear(errs);
	if (!c || !path)
		return -EINVAL;
	n = hal_storage_read(path, buf, sizeof buf);
	if (n == -EMSGSIZE)
		file_err(errs, "file is larger than %d bytes", CONFIG_FILE_MAX);
	else if (n < 0)
		file_err(errs, "cannot read: %s", strerror(-n));
	if (n < 0)
		return n;
	return config_parse(c, buf, (size_t)n, errs);
}

/* see config.h */
void config_defaults(struct config *c)
{
	char msg[CONFIG_ERR_MSG_MAX];

	memset(c, 0, sizeof *c);
	for (unsigned i = 0; i < cfg_key_total; i++) {
		/* a refused board default is a build mistake; the unit tests
		 * apply every default of the host board, and vigild on any
		 * other board stops here at its first start, saying which
		 * (an assert(3) took musl's abort path and said less) */
		if (cfg_apply(c, &cfg_keys[i], cfg_keys[i].def, msg,
			      sizeof msg) != 0) {
			fprintf(stderr, "vigild: board default refused: %s\n",
				msg);
			exit(EXIT_FAILURE);
		}
	}
}

/* ---- single keys ---- */

/* see config.h */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errcap)
{
	char msg[CONFIG_ERR_MSG_MAX];
	const struct cfg_key *k;
	int ret = -EINVAL;

	if (!c || !key || !value) {
		snprintf(msg, sizeof msg, "missing key or value");
	} else if (!(k = cfg_find(key, strlen(key)))) {
		cfg_unknown_msg(key, strlen(key), msg, sizeof msg);
		ret = -ENOENT;
	} else {
		ret = cfg_apply(c, k, value, msg, sizeof msg);
	}
	if (err && errcap)
		snprintf(err, errcap, "%s", ret < 0 ? msg : "");
	return ret;
}

/* see config.h */
int config_get(const struct config *c, const char *key, char *buf,
	       size_t cap)
{
	const struct cfg_key *k;

	if (!c || !key || (!buf && cap > 0))
		return -EINVAL;
	if (cap)
		buf[0] = '\0';
	k = cfg_find(key, strlen(key));
	if (!k)
		return -ENOENT;
	return cfg_text(c, k, buf, cap);
}

/* see config.h */
int config_diff(const struct config *a, const struct config *b,
		config_diff_cb *cb, void *arg)
{
	char va[CONFIG_VALUE_MAX], vb[CONFIG_VALUE_MAX];
	int n = 0;

	if (!a || !b)
		return -EINVAL;
	for (unsigned i = 0; i < cfg_key_total; i++) {
		/* CONFIG_VALUE_MAX holds every value (unit-tested); a failure
		 * leaves "" and can only hide a change, never invent one */
		if (cfg_text(a, &cfg_keys[i], va, sizeof va) < 0 ||
		    cfg_text(b, &cfg_keys[i], vb, sizeof vb) < 0)
			continue;
		if (!strcmp(va, vb))
			continue;
		n++;
		if (cb && (cfg_keys[i].flags & CFG_F_SECRET))
			cb(cfg_keys[i].name, CFG_HIDDEN, CFG_HIDDEN, arg);
		else if (cb)
			cb(cfg_keys[i].name, va, vb, arg);
	}
	return n;
}

/* see config.h */
unsigned config_key_count(void)
{
	return cfg_key_total;
}

/* see config.h */
const char *config_key_name(unsigned i)
{
	return i < cfg_key_total ? cfg_keys[i].name : NULL;
}

/* ---- writing ---- */

/* Bounded output: the first failure sticks, buf stays NUL-terminated. */
struct out {
	char *buf;
	size_t cap, len;
	int err;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->err || n >= o->cap - o->len) {
		o->err = -ENOSPC;
		return;
	}
	/* invariant: len + n < cap, so the NUL fits */
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* v as read_value() reads it back: bare when that is exact, else quoted
 * with '"' and '\' escaped.  Values hold no control bytes (validated). */
static void out_value(struct out *o, const char *v)
{
	size_t n = strlen(v);
	int quote = n == 0 || is_blank(v[0]) || is_blank(v[n - 1]) ||
		    v[0] == '"' || memchr(v, '#', n) != NULL;

	if (!quote) {
		out_put(o, v, n);
		return;
	}
	out_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			out_put(o, "\\", 1);
		out_put(o, v + i, 1);
	}
	out_put(o, "\"", 1);
}

/* see config.h */
int config_format(const struct config *c, char *buf, size_t cap)
{
	static const char head[] = "# vigild configuration, written by "
		"vigild (docs/config.md).\n# Keys not listed have their "
		"built-in defaults.\n";
	struct out o = { buf, cap, 0, 0 };
	char v[CONFIG_VALUE_MAX], d[CONFIG_VALUE_MAX];
	struct config def;

	_Static_assert(sizeof head <= CONFIG_FORMAT_HEAD_MAX,
		       "config_format header longer than its bound");
	if (!c || (!buf && cap > 0))
		return -EINVAL;
	config_defaults(&def);
	out_str(&o, head);
	for (unsigned i = 0; i < cfg_key_total; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		/* CONFIG_VALUE_MAX holds every value (unit-tested) */
		if (cfg_text(c, k, v, sizeof v) < 0 ||
		    cfg_text(&def, k, d, sizeof d) < 0) {
			o.err = -ENOSPC;
			break;
		}
		if (!strcmp(v, d))
			continue;
		out_str(&o, k->name);
		out_str(&o, " = ");
		out_value(&o, v);
		out_str(&o, "\n");
	}
	if (o.err && cap)
		buf[0] = '\0';
	return o.err ? o.err : (int)o.len;
}

/* see config.h */
int config_save(const struct config *c, const char *path)
{
	static char buf[CONFIG_FORMAT_MAX]; /* static: no allocation */
	int n = -EIO;

	if (!c || !path)
		return -EINVAL;
	n = config_format(c, buf, sizeof buf);
	if (n < 0)
		return n;
	return hal_storage_write_atomic(path, buf, (size_t)n, 0644);
}

/*
 * vigilctl_exporter_doc.c — a status document (docs/status.cddl) into the
 * numbers and words the exporter serves.
 *
 * One pass over the CBOR with the decoder of protocol/cbor.h: maps and
 * arrays are walked recursively, and every scalar is looked up by its
 * path ("boot.count", "system.load[]", "health.checks.*.state": the name
 * of a check is kept aside and its place in the path is "*").  Paths that
 * are not in the tables are skipped, so a newer document with more keys
 * still reads.  The document comes from the network: its depth is bounded
 * by the decoder (CBOR_MAX_DEPTH), its strings are cut to their fields.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cbor.h"
#include "vigilctl_exporter.h"

#define PATH_MAX_LEN 96

struct walk {
	struct cbor_dec d;
	struct exp_status *st;
	char path[PATH_MAX_LEN];
	size_t plen;
	bool path_cut;                /* a key did not fit: ignore below */
	long idx;                     /* index in the innermost array */
	int check;                    /* index into st->checks, or -1 */
};

static const struct {
	const char *path;
	enum exp_num n;
} numbers[] = {
	{ "time", N_TIME },
	{ "uptime.agent", N_UPTIME_AGENT },
	{ "uptime.system", N_UPTIME_SYSTEM },
	{ "boot.count", N_BOOT_COUNT },
	{ "boot.reset_time", N_BOOT_RESET_TIME },
	{ "boot.watchdog_streak", N_BOOT_WDT_STREAK },
	{ "boot.safe_mode", N_SAFE_MODE },
	{ "watchdog.open", N_WDT_OPEN },
	{ "watchdog.timeout", N_WDT_TIMEOUT },
	{ "watchdog.kicks", N_WDT_KICKS },
	{ "watchdog.kick_errors", N_WDT_KICK_ERRORS },
	{ "watchdog.last_kick", N_WDT_LAST_KICK },
	{ "watchdog.stopped", N_WDT_STOPPED },
	{ "backup.since", N_BACKUP_SINCE },
	{ "backup.reconnects", N_BACKUP_RECONNECTS },
	{ "backup.last_success", N_BACKUP_LAST_SUCCESS },
	{ "backup.last_error.time", N_BACKUP_LAST_ERROR_TIME },
	{ "system.memory.total", N_MEM_TOTAL },
	{ "system.memory.available", N_MEM_AVAILABLE },
	{ "system.temperature", N_TEMPERATURE },
	{ "system.storage.free", N_STORAGE_FREE },
	{ "system.storage.total", N_STORAGE_TOTAL },
	{ "system.procs", N_PROCS },
	{ "network.coap.requests", N_COAP_REQUESTS },
	{ "network.coap.rejected", N_COAP_REJECTED },
	{ "network.coap.observers", N_COAP_OBSERVERS },
};

/* Words: fields of struct exp_status. */
#define WORD(p, f) { p, offsetof(struct exp_status, f), \
		     sizeof ((struct exp_status *)0)->f }
static const struct {
	const char *path;
	size_t off, cap;
} words[] = {
	WORD("device.id", id),
	WORD("device.board", board),
	WORD("device.arch", arch),
	WORD("device.firmware.version", version),
	WORD("device.firmware.build", build),
	WORD("boot.last_reset", last_reset),
	WORD("health.overall", overall),
	WORD("backup.state", backup_state),
	WORD("backup.link", backup_link),
};

/* The scalar it as a number; NaN for null (and anything else). */
static double number_of(const struct cbor_item *it)
{
	if (it->type == CBOR_UINT)
		return (double)it->val;
	if (it->type == CBOR_NEGINT)
		return -1.0 - (double)it->val;
	if (it->type == CBOR_FLOAT)
		return it->f;
	if (it->type == CBOR_SIMPLE && (it->val == CBOR_SIMPLE_TRUE ||
					it->val == CBOR_SIMPLE_FALSE))
		return it->val == CBOR_SIMPLE_TRUE ? 1.0 : 0.0;
	return NAN;
}

static void copy_text(char *dst, size_t cap, const struct cbor_item *it)
{
	size_t n = it->len < cap - 1 ? it->len : cap - 1;

	if (it->type != CBOR_TEXT || (it->flags & CBOR_INDEF))
		n = 0;
	if (n)
		memcpy(dst, it->ptr, n);
	dst[n] = '\0';
}

static bool is_null(const struct cbor_item *it)
{
	return it->type == CBOR_SIMPLE && it->val == CBOR_SIMPLE_NULL;
}

/* health.checks.*.field */
static void check_field(struct walk *w, const char *field,
			const struct cbor_item *it)
{
	struct exp_check *c;

	if (w->check < 0)
		return;
	c = &w->st->checks[w->check];
	if (!strcmp(field, "state"))
		copy_text(c->state, sizeof c->state, it);
	else if (!strcmp(field, "kind"))
		copy_text(c->kind, sizeof c->kind, it);
	else if (!strcmp(field, "result"))
		copy_text(c->result, sizeof c->result, it);
	else if (!strcmp(field, "runs"))
		c->runs = number_of(it);
	else if (!strcmp(field, "fails"))
		c->fails = number_of(it);
}

/* backup.jobs[].field: the newest EXP_JOBS_MAX jobs. */
static void job_field(struct walk *w, const char *field,
		      const struct cbor_item *it)
{
	struct exp_job *j;

	if (w->idx < 0 || w->idx >= EXP_JOBS_MAX)
		return;
	j = &w->st->jobs[w->idx];
	j->used = true;
	if (!strcmp(field, "state"))
		copy_text(j->state, sizeof j->state, it);
	else if (!strcmp(field, "bytes_done"))
		j->bytes_done = number_of(it);
	else if (!strcmp(field, "files_failed"))
		j->files_failed = number_of(it);
}

/* Paths with a computed meaning (counts, sums, presence). */
static bool special(struct walk *w, const struct cbor_item *it)
{
	struct exp_status *st = w->st;
	const char *p = w->path;
	double v = number_of(it);

	if (!strcmp(p, "watchdog.gated"))
		st->num[N_WDT_GATED] = is_null(it) ? 0.0 : 1.0;
	else if (!strcmp(p, "backup.server"))
		st->num[N_BACKUP_CONFIGURED] = is_null(it) ? 0.0 : 1.0;
	else if (!strcmp(p, "conns[].id"))
		st->num[N_CONNS] += 1.0;
	else if (!strcmp(p, "conns[].errors") && !isnan(v))
		st->num[N_CONN_ERRORS] += v;
	else if (!strcmp(p, "system.load[]") && w->idx >= 0 && w->idx < 3)
		st->num[N_LOAD1 + w->idx] = v / 1000.0;
	else if (!strcmp(p, "system.temperature"))
		st->num[N_TEMPERATURE] = v / 1000.0;
	else if (!strncmp(p, "health.checks.*.", 16))
		check_field(w, p + 16, it);
	else if (!strncmp(p, "backup.jobs[].", 14))
		job_field(w, p + 14, it);
	else
		return false;
	return true;
}

static void scalar(struct walk *w, const struct cbor_item *it)
{
	if (w->path_cut || special(w, it))
		return;
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		if (!strcmp(w->path, numbers[i].path)) {
			w->st->num[numbers[i].n] = number_of(it);
			return;
		}
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(w->path, words[i].path)) {
			copy_text((char *)w->st + words[i].off, words[i].cap,
				  it);
			return;
		}
}

static int walk_item(struct walk *w, const struct cbor_item *it);

/* Appends ".key" (or "[]") to the path; on overflow marks it cut. */
static size_t push(struct walk *w, const char *s, size_t n, bool dot)
{
	size_t old = w->plen, need = n + (dot && old ? 1 : 0);

	if (w->path_cut || old + need >= sizeof w->path) {
		w->path_cut = true;
		return old;
	}
	if (dot && old)
		w->path[w->plen++] = '.';
	memcpy(w->path + w->plen, s, n);
	w->plen += n;
	w->path[w->plen] = '\0';
	return old;
}

static void pop(struct walk *w, size_t old, bool was_cut)
{
	w->plen = old;
	w->path[old] = '\0';
	w->path_cut = was_cut;
}

/* A new check named by key (under health.checks). */
static void start_check(struct walk *w, const struct cbor_item *key)
{
	struct exp_status *st = w->st;

	w->check = -1;
	if (st->nchecks >= EXP_CHECKS_MAX || (key->flags & CBOR_INDEF))
		return;
	w->check = (int)st->nchecks++;
	copy_text(st->checks[w->check].name, EXP_NAME_MAX, key);
	st->checks[w->check].runs = NAN;
	st->checks[w->check].fails = NAN;
}

static int walk_map(struct walk *w)
{
	struct cbor_item key, val;
	int r;

	while ((r = cbor_dec_next(&w->d, &key)) == 1 && key.type != CBOR_END) {
		bool cut = w->path_cut, in_checks;
		size_t old;

		if (key.type != CBOR_TEXT || (key.flags & CBOR_INDEF))
			return cbor_dec_fail(&w->d, CBOR_R_TYPE, key.off);
		in_checks = !strcmp(w->path, "health.checks");
		if (in_checks)
			start_check(w, &key);
		old = in_checks ? push(w, "*", 1, true) :
		      push(w, (const char *)key.ptr, key.len, true);
		r = cbor_dec_next(&w->d, &val);
		if (r == 1)
			r = walk_item(w, &val);
		pop(w, old, cut);
		if (r < 0)
			return r;
	}
	return r < 0 ? r : 0;
}

static int walk_array(struct walk *w)
{
	struct cbor_item it;
	bool cut = w->path_cut;
	size_t old = push(w, "[]", 2, false);
	long saved = w->idx;
	int r;

	w->idx = 0;
	while ((r = cbor_dec_next(&w->d, &it)) == 1 && it.type != CBOR_END) {
		r = walk_item(w, &it);
		if (r < 0)
			break;
		w->idx++;
	}
	pop(w, old, cut);
	w->idx = saved;
	return r < 0 ? r : 0;
}

/* Skips what follows a head up to its CBOR_END (tags, indefinite
 * strings). */
static int skip_to_end(struct walk *w)
{
	struct cbor_item it;
	int r;

	while ((r = cbor_dec_next(&w->d, &it)) == 1 && it.type != CBOR_END)
		if (it.type == CBOR_MAP || it.type == CBOR_ARRAY ||
		    it.type == CBOR_TAG || (it.flags & CBOR_INDEF)) {
			r = skip_to_end(w);
			if (r < 0)
				return r;
		}
	return r < 0 ? r : 0;
}

static int walk_item(struct walk *w, const struct cbor_item *it)
{
	if (it->type == CBOR_MAP)
		return walk_map(w);
	if (it->type == CBOR_ARRAY)
		return walk_array(w);
	if (it->type == CBOR_TAG || (it->flags & CBOR_INDEF))
		return skip_to_end(w);
	scalar(w, it);
	return 0;
}

/* see vigilctl_exporter.h */
int exp_status_decode(const uint8_t *buf, size_t len, struct exp_status *st)
{
	struct walk w = { .st = st, .idx = -1, .check = -1 };
	struct cbor_item top;
	int r;

	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < N_COUNT; i++)
		st->num[i] = NAN;
	st->num[N_CONNS] = 0.0;
	st->num[N_CONN_ERRORS] = 0.0;
	cbor_dec_init(&w.d, buf, len, 0);
	r = cbor_dec_next(&w.d, &top);
	if (r != 1 || top.type != CBOR_MAP)
		return r < 0 ? r : -EBADMSG;
	r = walk_map(&w);
	if (r < 0)
		return r;
	/* one item, nothing after it */
	return cbor_dec_next(&w.d, &top) == 0 ? 0 : -EBADMSG;
}

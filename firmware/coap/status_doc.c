/*
 * status_doc.c — see status_doc.h.
 *
 * Every map is written with its pair count up front (definite lengths,
 * cbor.h), so each writer below states its count next to the keys it
 * writes; the unit and integration tests decode and validate every part
 * against docs/status.cddl, which catches a count that disagrees.  The
 * encoder's errors are sticky: the writers make all their calls and the
 * result is checked once, in status_doc_encode.
 */
#include "status_doc.h"

#include "backup_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "boot.h"
#include "cbor.h"
#include "hal/storage.h"
#include "hal/sysinfo.h"
#include "hex.h"
#include "metrics.h"
#include "version.h"

/* The clock pair every time conversion uses. */
struct sd_clock {
	uint64_t now_ms;
	int64_t wall_ms;
};

static void kv_text(struct cbor_enc *e, const char *k, const char *v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_cstr(e, v);
}

static void kv_text_or_null(struct cbor_enc *e, const char *k, const char *v)
{
	cbor_enc_cstr(e, k);
	if (v && v[0])
		cbor_enc_cstr(e, v);
	else
		cbor_enc_null(e);
}

static void kv_uint(struct cbor_enc *e, const char *k, uint64_t v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_uint(e, v);
}

static void kv_bool(struct cbor_enc *e, const char *k, int v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_bool(e, v != 0);
}

/* Epoch seconds of monotonic instant t (0: never, written null).  A
 * wall clock before 1970 (no RTC, not synced) clamps to 0. */
static void kv_time(struct cbor_enc *e, const char *k, uint64_t t,
		    const struct sd_clock *c)
{
	int64_t ms;

	cbor_enc_cstr(e, k);
	if (t == 0) {
		cbor_enc_null(e);
		return;
	}
	ms = c->wall_ms - (int64_t)(c->now_ms >= t ? c->now_ms - t : 0);
	cbor_enc_uint(e, ms > 0 ? (uint64_t)ms / 1000u : 0);
}

/* device: 4 pairs; firmware: 3 pairs */
static void enc_device(struct cbor_enc *e, const struct status_src *s)
{
	cbor_enc_cstr(e, "device");
	cbor_enc_map(e, 4);
	kv_text_or_null(e, "id", s->cfg ? s->cfg->device_name : NULL);
	kv_text(e, "board", BOARD_NAME);
	kv_text(e, "arch", BOARD_ARCH);
	cbor_enc_cstr(e, "firmware");
	cbor_enc_map(e, 3);
	kv_text(e, "version", VIGIL_VERSION);
	kv_text(e, "build", VIGIL_GIT_REV);
	kv_text(e, "date", VIGIL_BUILD_DATE);
}

/* uptime: 2 pairs */
static void enc_uptime(struct cbor_enc *e, const struct status_src *s,
		       const struct sd_clock *c)
{
	int64_t sys = hal_sysinfo_uptime_s();

	cbor_enc_cstr(e, "uptime");
	cbor_enc_map(e, 2);
	kv_uint(e, "agent", c->now_ms >= s->start_ms
			    ? (c->now_ms - s->start_ms) / 1000u : 0);
	kv_uint(e, "system", sys > 0 ? (uint64_t)sys : 0);
}

/* boot: 7 pairs */
static void enc_boot(struct cbor_enc *e, const struct health_boot *b)
{
	cbor_enc_cstr(e, "boot");
	cbor_enc_map(e, 7);
	kv_uint(e, "count", b->count);
	kv_text(e, "last_reset", boot_reset_name(b->last_reset));
	kv_text(e, "reason", b->reason);
	cbor_enc_cstr(e, "reset_time");
	if (b->reset_wall_ms > 0)
		cbor_enc_uint(e, (uint64_t)b->reset_wall_ms / 1000u);
	else
		cbor_enc_null(e);
	kv_uint(e, "watchdog_streak", b->watchdog_streak);
	kv_bool(e, "safe_mode", b->safe_mode);
	cbor_enc_cstr(e, "persist_error");
	cbor_enc_int(e, b->persist_error);
}

/* one check: 8 pairs */
static void enc_check(struct cbor_enc *e, const struct health_check *k,
		      const struct sd_clock *c)
{
	cbor_enc_cstr(e, k->name);
	cbor_enc_map(e, 8);
	kv_text(e, "state", health_state_name(k->state));
	kv_text(e, "kind", k->def.kind == HEALTH_REQUIRED ? "required"
							  : "wanted");
	kv_text(e, "result", health_result_name(k->last_result));
	kv_text(e, "error", k->last_result == HEALTH_PASS ? ""
							  : k->last_error);
	kv_time(e, "last_run", k->runs ? k->last_run_ms : 0, c);
	kv_time(e, "since", k->last_change_ms ? k->last_change_ms : 1, c);
	kv_uint(e, "runs", k->runs);
	kv_uint(e, "fails", k->fails);
}

/* health: 2 pairs (the value alone; the caller writes the key) */
static void enc_health(struct cbor_enc *e, const struct health *h,
		       const struct sd_clock *c)
{
	cbor_enc_map(e, 2);
	kv_text(e, "overall", health_state_name(health_overall(h)));
	cbor_enc_cstr(e, "checks");
	cbor_enc_map(e, h->nchecks);
	for (unsigned i = 0; i < h->nchecks; i++)
		enc_check(e, &h->checks[i], c);
}

/* watchdog: 9 pairs */
static void enc_watchdog(struct cbor_enc *e, const struct health_wdt *w,
			 const struct sd_clock *c)
{
	cbor_enc_cstr(e, "watchdog");
	cbor_enc_map(e, 9);
	kv_text_or_null(e, "device", w->device);
	kv_bool(e, "open", w->open);
	kv_uint(e, "timeout", w->timeout_s > 0 ? (uint64_t)w->timeout_s : 0);
	kv_uint(e, "kicks", w->kicks);
	kv_uint(e, "kick_errors", w->kick_errors);
	kv_time(e, "last_kick", w->kicks ? w->last_kick_ms : 0, c);
	kv_text_or_null(e, "gated", w->gated);
	kv_bool(e, "stopped", w->stopped);
	cbor_enc_cstr(e, "boot_status");
	if (w->boot_status >= 0)
		cbor_enc_int(e, w->boot_status);
	else
		cbor_enc_null(e);
}

static const char *link_name(const struct backup_link *l)
{
	static const char *const names[] = { "off", "down", "connecting",
					     "up" };

	return l && (unsigned)l->state < 4 ? names[l->state] : "off";
}

/* see status_doc.h */
const char *status_backup_state(const struct backup_link *link)
{
	/* "busy" needs the job source: enc_backup reads the status word */
	if (!link)
		return "offline";
	switch (link->state) {
	case BACKUP_LINK_UP:
		return "connected";
	case BACKUP_LINK_CONNECTING:
		return "standby";
	case BACKUP_LINK_DOWN:
	case BACKUP_LINK_OFF:
	default:
		return "offline";
	}
}

/* Jobs shown in the document: the newest ones, so the whole document
 * stays inside STATUS_DOC_MAX (a job with a long error and cancel reason
 * is ~600 bytes). */
#define SD_JOBS_MAX 4

static const struct backup_job *sd_newest(const struct backup_status *b,
					  uint32_t below)
{
	const struct backup_job *n = NULL;

	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		const struct backup_job *j = &b->jobs[i];

		if (j->state != BACKUP_JOB_FREE && j->id < below &&
		    (!n || j->id > n->id))
			n = j;
	}
	return n;
}

/* job: 9 pairs + file, error, cancel_reason when set */
static void enc_job(struct cbor_enc *e, const struct backup_job *j,
		    const struct sd_clock *c)
{
	size_t fl = strlen(j->file);
	int file = fl > 0 && fl <= 200;

	cbor_enc_map(e, 10u + (unsigned)file + (j->error[0] != 0) +
			(j->cancel_reason[0] != 0));
	kv_uint(e, "id", j->id);
	kv_text(e, "trace", j->trace);
	kv_text(e, "state", backup_job_state_name(j->state));
	kv_text(e, "phase", j->phase ? j->phase : "");
	kv_uint(e, "files", j->files_total);
	kv_uint(e, "files_done", j->files_done);
	kv_uint(e, "files_failed", j->files_failed);
	kv_uint(e, "bytes", j->bytes_total);
	kv_uint(e, "bytes_done", j->bytes_done);
	kv_time(e, "started", j->started_ms, c);
	if (file)
		kv_text(e, "file", j->file);
	if (j->error[0])
		kv_text(e, "error", j->error);
	if (j->cancel_reason[0])
		kv_text(e, "cancel_reason", j->cancel_reason);
}

static void enc_jobs(struct cbor_enc *e, const struct backup_status *b,
		     const struct sd_clock *c)
{
	const struct backup_job *j = NULL;
	unsigned n = 0;
	uint32_t below = UINT32_MAX;

	cbor_enc_cstr(e, "jobs");
	while (b && n < SD_JOBS_MAX && (j = sd_newest(b, below)) != NULL) {
		below = j->id;
		n++;
	}
	cbor_enc_array(e, n);
	below = UINT32_MAX;
	for (unsigned i = 0; i < n; i++) {
		j = sd_newest(b, below);
		enc_job(e, j, c);
		below = j->id;
	}
}

/* server: 2 pairs */
static void enc_server(struct cbor_enc *e, const struct backup_status *b)
{
	cbor_enc_cstr(e, "server");
	if (!b || !b->server[0]) {
		cbor_enc_null(e);  /* no backup client configured */
		return;
	}
	cbor_enc_map(e, 2);
	kv_text(e, "address", b->server_text[0] ? b->server_text
						: b->server);
	kv_text(e, "transport", b->tls ? "tls" : "tcp");
}

/* An epoch time already in seconds (0: null). */
static void kv_epoch(struct cbor_enc *e, const char *k, int64_t t)
{
	cbor_enc_cstr(e, k);
	if (t > 0)
		cbor_enc_uint(e, (uint64_t)t);
	else
		cbor_enc_null(e);
}

/* window: 5 pairs, only with backup.window set */
static void enc_window(struct cbor_enc *e, const struct backup_window_status *w)
{
	cbor_enc_cstr(e, "window");
	cbor_enc_map(e, 5);
	kv_text(e, "spec", w->spec);
	kv_bool(e, "open", w->open);
	kv_epoch(e, "next_open", w->next_open_s);
	kv_epoch(e, "next_close", w->next_close_s);
	kv_bool(e, "waiting", w->due);
}

/* backup: 9 pairs, 10 with a window (the value alone); last_error: 3 */
static void enc_backup(struct cbor_enc *e, const struct status_src *s,
		       const struct sd_clock *c)
{
	const struct backup_link *l = s->link;
	const struct backup_status *b = s->backup;
	int win = b && b->window.spec[0];

	cbor_enc_map(e, 9u + (unsigned)win);
	kv_text(e, "state", b ? backup_status_state(b)
			      : status_backup_state(l));
	kv_text(e, "link", link_name(l));
	kv_time(e, "since", l ? l->state_since_ms : 0, c);
	kv_time(e, "last_activity", l ? l->last_activity_ms : 0, c);
	kv_uint(e, "reconnects", l ? l->reconnects : 0);
	enc_server(e, b);
	kv_time(e, "last_success", b ? b->last_success_ms : 0, c);
	cbor_enc_cstr(e, "last_error");
	if (l && l->last_error) {
		cbor_enc_map(e, 3);
		cbor_enc_cstr(e, "code");
		cbor_enc_int(e, l->last_error);
		kv_text(e, "text", l->last_error_text);
		cbor_enc_cstr(e, "time");
		cbor_enc_null(e); /* backup_link keeps no error time */
	} else {
		cbor_enc_null(e);
	}
	enc_jobs(e, b, c);
	if (win)
		enc_window(e, &b->window);
}

/* conns: the backup connection when it is up; conn: 12 pairs */
static void enc_conns(struct cbor_enc *e, const struct backup_status *b,
		      const struct sd_clock *c)
{
	const struct backup_conn_stats *st = b ? &b->conn : NULL;
	char id[2 * V3_ID_SIZE + 1];
	uint64_t last;

	if (!b || !b->connected || st->connected_ms == 0) {
		cbor_enc_array(e, 0);
		return;
	}
	hex_encode(st->client_id, V3_ID_SIZE, id);
	last = st->last_read_ms > st->last_write_ms ? st->last_read_ms
						    : st->last_write_ms;
	last = last ? last : st->connected_ms;
	cbor_enc_array(e, 1);
	cbor_enc_map(e, 12);
	kv_uint(e, "id", b->conn_seq);
	kv_text(e, "peer", st->peer);
	kv_text(e, "client", id);
	kv_text(e, "transport", st->transport ? st->transport : "tcp");
	kv_uint(e, "bytes_in", st->bytes_in);
	kv_uint(e, "bytes_out", st->bytes_out);
	kv_time(e, "last_read", st->last_read_ms, c);
	kv_time(e, "last_write", st->last_write_ms, c);
	kv_uint(e, "errors", (uint64_t)st->read_errors + st->write_errors);
	cbor_enc_cstr(e, "last_error");
	cbor_enc_int(e, st->last_error);
	kv_uint(e, "idle", c->now_ms > last ? (c->now_ms - last) / 1000 : 0);
	kv_uint(e, "uptime", c->now_ms > st->connected_ms
			     ? (c->now_ms - st->connected_ms) / 1000 : 0);
}

/* system: 5 pairs */
static void enc_system(struct cbor_enc *e, const struct status_src *s)
{
	struct hal_sysinfo si;
	int32_t milli_c = 0;
	uint64_t fr = 0, tot = 0;
	const char *dir = s->cfg ? s->cfg->data_dir : "";
	const char *zone = s->cfg ? s->cfg->thermal_zone : "";

	if (hal_sysinfo_read(&si) < 0)
		memset(&si, 0, sizeof si);
	cbor_enc_cstr(e, "system");
	cbor_enc_map(e, 5);
	cbor_enc_cstr(e, "load");
	cbor_enc_array(e, 3);
	for (unsigned i = 0; i < 3; i++)
		cbor_enc_uint(e, si.load_milli[i]);
	cbor_enc_cstr(e, "memory");
	cbor_enc_map(e, 2);
	kv_uint(e, "total", si.mem_total);
	kv_uint(e, "available", si.mem_available);
	cbor_enc_cstr(e, "temperature");
	if (zone[0] && hal_sysinfo_thermal(zone, &milli_c) == 0)
		cbor_enc_int(e, milli_c);
	else
		cbor_enc_null(e);
	cbor_enc_cstr(e, "storage");
	if (dir[0] && hal_storage_space(dir, &fr, &tot) == 0) {
		cbor_enc_map(e, 3);
		kv_text(e, "path", dir);
		kv_uint(e, "free", fr);
		kv_uint(e, "total", tot);
	} else {
		cbor_enc_null(e);
	}
	kv_uint(e, "procs", si.procs);
}

/* network: 2 pairs; coap: 5 pairs */
static void enc_network(struct cbor_enc *e, const struct status_coap *co)
{
	unsigned n = 0;

	cbor_enc_cstr(e, "network");
	cbor_enc_map(e, 2);
	cbor_enc_cstr(e, "interfaces");
	cbor_enc_null(e);        /* the HAL has no interface query */
	cbor_enc_cstr(e, "coap");
	if (!co) {
		cbor_enc_null(e);
		return;
	}
	while (n < 4 && co->listen[n])
		n++;
	cbor_enc_map(e, 5);
	cbor_enc_cstr(e, "listen");
	cbor_enc_array(e, n);
	for (unsigned i = 0; i < n; i++)
		cbor_enc_cstr(e, co->listen[i]);
	kv_uint(e, "requests", co->requests);
	kv_uint(e, "rejected", co->rejected);
	kv_uint(e, "observers", co->observers);
	kv_bool(e, "dtls", co->dtls);
}

/* /metrics: the histograms in full, the agent's then each health
 * check's as "health_check/<name>" */
static void enc_metrics(struct cbor_enc *e, const struct health *h)
{
	char name[sizeof "health_check/" + HEALTH_NAME_MAX];

	cbor_enc_map(e, (uint64_t)M_AGENT_END + h->nchecks);
	for (enum metric m = 0; m < M_AGENT_END; m++)
		metric_enc_named(e, metric_name(m), metric_get(m), m);
	for (unsigned i = 0; i < h->nchecks; i++) {
		snprintf(name, sizeof name, "health_check/%s",
			 h->checks[i].name);
		metric_enc_named(e, name, &h->checks[i].ms, M_HEALTH_CHECK_MS);
	}
}

/* the whole document: 12 pairs */
static void enc_all(struct cbor_enc *e, const struct status_src *s,
		    const struct sd_clock *c)
{
	cbor_enc_map(e, 12);
	kv_uint(e, "schema", STATUS_SCHEMA_VERSION);
	kv_time(e, "time", c->now_ms ? c->now_ms : 1, c);
	enc_device(e, s);
	enc_uptime(e, s, c);
	enc_boot(e, &s->health->boot);
	cbor_enc_cstr(e, "health");
	enc_health(e, s->health, c);
	enc_watchdog(e, &s->health->wdt, c);
	cbor_enc_cstr(e, "backup");
	enc_backup(e, s, c);
	cbor_enc_cstr(e, "conns");
	enc_conns(e, s->backup, c);
	enc_system(e, s);
	enc_network(e, s->coap);
	/* compact (metrics.h): the bounds are in docs/status.cddl, so the
	 * fresh document stays within two 1024-byte blocks */
	cbor_enc_cstr(e, "metrics");
	metrics_enc_compact(e, 0, M_AGENT_END);
}

/* see status_doc.h */
int status_doc_encode(const struct status_src *src, enum status_part part,
		      uint64_t now_ms, int64_t wall_ms, uint8_t *buf,
		      size_t cap)
{
	struct sd_clock c = { now_ms, wall_ms };
	struct cbor_enc e;

	if (!src || !src->health || !buf || (unsigned)part >= STATUS_PART_COUNT)
		return -EINVAL;
	cbor_enc_init(&e, buf, cap);
	switch (part) {
	case STATUS_ALL:
		enc_all(&e, src, &c);
		break;
	case STATUS_HEALTH:
		enc_health(&e, src->health, &c);
		break;
	case STATUS_BACKUP:
		enc_backup(&e, src, &c);
		break;
	case STATUS_METRICS:
		enc_metrics(&e, src->health);
		break;
	case STATUS_CONNS:
	default:
		enc_conns(&e, src->backup, &c);
		break;
	}
	return cbor_enc_finish(&e);
}

/* FNV-1a, 32 bits: cheap, and a change detector needs no more. */
static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t fnv_u32(uint32_t h, uint32_t v)
{
	return fnv(h, &v, sizeof v);
}

static uint32_t fnv_str(uint32_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

static uint32_t key_health(uint32_t k, const struct health *h)
{
	k = fnv_u32(k, (uint32_t)health_overall(h));
	for (unsigned i = 0; i < h->nchecks; i++) {
		const struct health_check *c = &h->checks[i];

		k = fnv_u32(k, (uint32_t)c->state);
		k = fnv_u32(k, (uint32_t)c->last_result);
		k = fnv_u32(k, c->transitions);
		k = fnv_str(k, c->last_result == HEALTH_PASS ? ""
							     : c->last_error);
	}
	return k;
}

/* A running job's bytes count as a change every 2^KEY_BYTES_SHIFT
 * bytes (4 MiB), not every slice: with each 64 KiB slice a change, every
 * observer got a notification (and vigild rendered the document) per
 * slice, ~16,000 per GiB, which was more of vigild's CPU in a backup
 * than its TLS record sends (perf, make bench). */
#define KEY_BYTES_SHIFT 22

static uint32_t key_backup(uint32_t k, const struct backup_link *l,
			   const struct backup_status *b)
{
	for (int i = 0; b && i < BACKUP_JOBS_MAX; i++) {
		uint64_t steps = b->jobs[i].bytes_done >> KEY_BYTES_SHIFT;

		k = fnv_u32(k, b->jobs[i].id);
		k = fnv_u32(k, (uint32_t)b->jobs[i].state);
		k = fnv_u32(k, b->jobs[i].files_done);
		k = fnv(k, &steps, sizeof steps);
	}
	if (b) {
		k = fnv_u32(k, (uint32_t)b->window.open);
		k = fnv_u32(k, (uint32_t)b->window.due);
		k = fnv(k, &b->window.next_open_s, sizeof b->window.next_open_s);
	}
	if (!l)
		return fnv_u32(k, 0xffffffffu);
	k = fnv_u32(k, (uint32_t)l->state);
	k = fnv_u32(k, (uint32_t)l->last_error);
	k = fnv_u32(k, l->reconnects);
	return fnv_str(k, l->last_error_text);
}

/* see status_doc.h */
uint32_t status_doc_change_key(const struct status_src *src,
			       enum status_part part)
{
	uint32_t k = 2166136261u;

	if (!src || !src->health)
		return k;
	if (part == STATUS_HEALTH)
		return key_health(k, src->health);
	if (part == STATUS_BACKUP)
		return key_backup(k, src->link, src->backup);
	if (part == STATUS_CONNS)   /* bytes move: a fresh snapshot each time */
		return src->backup ? fnv(k, &src->backup->conn,
					 sizeof src->backup->conn) : k;
	if (part == STATUS_METRICS) {   /* every new sample changes it */
		for (enum metric m = 0; m < M_AGENT_END; m++)
			k = fnv(k, &metric_get(m)->count,
				sizeof metric_get(m)->count);
		return k;
	}
	k = key_health(k, src->health);
	k = key_backup(k, src->link, src->backup);
	k = fnv_u32(k, (uint32_t)src->health->wdt.open);
	k = fnv_u32(k, (uint32_t)src->health->wdt.stopped);
	k = fnv_str(k, src->health->wdt.gated);
	k = fnv_u32(k, src->health->boot.count);
	k = fnv_u32(k, (uint32_t)src->health->boot.persist_error);
	return fnv_u32(k, src->reloads ? *src->reloads : 0);
}

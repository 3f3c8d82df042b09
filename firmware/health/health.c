/*
 * health.c — see health.h.
 *
 * Invariants of a check c:
 *   c->consecutive >= 1 once a counted result arrived, and is the length
 *   of the current run of results arguing for c->candidate;
 *   c->state changes only in check_feed(), when candidate != state and
 *   the run reached the threshold of the target (retries for unhealthy,
 *   debounce otherwise).
 * Only FAILs of a check that is still starting, inside the start period,
 * stay out of the count (docker: "failures during the start period are
 * not counted"); they are still recorded (last result, error, fails).
 */
#include "health.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "log.h"
#include "metrics.h"

static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n > cap - 1)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* see health.h */
void health_init(struct health *h, uint64_t now_ms)
{
	memset(h, 0, sizeof *h);
	h->started_ms = now_ms;
	h->wdt.dev.fd = -1;
	h->wdt.notify.fd = -1;
	h->wdt.boot_status = -ENOTSUP;
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

/* see health.h */
int health_add(struct health *h, const struct health_check_def *def,
	       uint64_t now_ms)
{
	struct health_check *c;
	size_t len;

	if (!h || !def || !def->name || !def->fn)
		return -EINVAL;
	len = strlen(def->name);
	if (len == 0 || len >= HEALTH_NAME_MAX)
		return -EINVAL;
	if (h->nchecks >= HEALTH_CHECKS_MAX)
		return -ENOSPC;
	c = &h->checks[h->nchecks];
	memset(c, 0, sizeof *c);
	c->def = *def;
	c->def.interval_ms = or_default(def->interval_ms,
					HEALTH_DEF_INTERVAL_MS);
	c->def.timeout_ms = or_default(def->timeout_ms, HEALTH_DEF_TIMEOUT_MS);
	c->def.start_period_ms = or_default(def->start_period_ms,
					    HEALTH_DEF_START_PERIOD_MS);
	c->def.grace_ms = or_default(def->grace_ms, HEALTH_DEF_GRACE_MS);
	c->def.retries = or_default(def->retries, HEALTH_DEF_RETRIES);
	c->def.debounce = or_default(def->debounce, HEALTH_DEF_DEBOUNCE);
	if (c->def.timeout_ms > c->def.interval_ms)
		return -EINVAL; /* a run would overlap the next one */
	memcpy(c->name, def->name, len + 1);
	c->def.name = c->name;
	c->state = HEALTH_STARTING;
	c->candidate = HEALTH_STARTING;
	c->last_result = HEALTH_NONE;
	c->last_change_ms = now_ms;
	c->next_due_ms = now_ms;
	return (int)h->nchecks++;
}

/* see health.h */
struct health_check *health_find(struct health *h, const char *name)
{
	for (unsigned i = 0; i < h->nchecks; i++) {
		if (strcmp(h->checks[i].name, name) == 0)
			return &h->checks[i];
	}
	return NULL;
}

static enum health_state state_for(enum health_result r)
{
	if (r == HEALTH_WARN)
		return HEALTH_DEGRADED;
	if (r == HEALTH_FAIL)
		return HEALTH_UNHEALTHY;
	return HEALTH_HEALTHY;
}

/* Counts r into the run; returns 1 when the state flips. */
static int check_feed(struct health *h, struct health_check *c,
		      enum health_result r, uint64_t now_ms)
{
	enum health_state want = state_for(r);
	uint32_t need;

	if (r == HEALTH_FAIL && c->state == HEALTH_STARTING &&
	    now_ms - h->started_ms < c->def.start_period_ms)
		return 0;
	if (want == c->candidate) {
		if (c->consecutive < UINT32_MAX)
			c->consecutive++;
	} else {
		c->candidate = want;
		c->consecutive = 1;
	}
	need = want == HEALTH_UNHEALTHY ? c->def.retries : c->def.debounce;
	if (want == c->state || c->consecutive < need)
		return 0;
	log_msg(want == HEALTH_HEALTHY ? LOG_INFO : LOG_WARN, "health",
		"%s: %s -> %s%s%s", c->name, health_state_name(c->state),
		health_state_name(want), r == HEALTH_PASS ? "" : ": ",
		r == HEALTH_PASS ? "" : c->last_error);
	c->state = want;
	c->last_change_ms = now_ms;
	c->transitions++;
	if (want == HEALTH_UNHEALTHY && c->def.recover)
		c->def.recover(c->def.arg);
	return 1;
}

/* see health.h */
int health_record(struct health *h, unsigned idx, enum health_result r,
		  const char *err, uint64_t now_ms)
{
	struct health_check *c;

	if (!h || idx >= h->nchecks || r == HEALTH_NONE || r > HEALTH_SKIP)
		return -EINVAL;
	c = &h->checks[idx];
	if (c->async_started_ms) {
		uint64_t took = hal_clock_mono_ms() - c->async_started_ms;

		c->async_started_ms = 0;
		metric_add(M_HEALTH_CHECK_MS, took);
		metric_add_to(&c->ms, M_HEALTH_CHECK_MS, took);
	}
	c->last_result = r;
	c->last_run_ms = now_ms;
	if (c->runs < UINT32_MAX)
		c->runs++;
	if (r == HEALTH_FAIL && c->fails < UINT32_MAX)
		c->fails++;
	/* a PASS keeps the last error visible: it says what was wrong */
	if (r != HEALTH_PASS)
		copy_text(c->last_error, sizeof c->last_error, err);
	return check_feed(h, c, r, now_ms);
}

/* Runs check i once, timed. */
static void run_one(struct health *h, unsigned i, uint64_t now_ms)
{
	struct health_check *c = &h->checks[i];
	char err[HEALTH_ERR_MAX] = "";
	uint64_t t0 = hal_clock_mono_ms(), took;
	enum health_result r = c->def.fn(c->def.arg, now_ms, err);

	err[sizeof err - 1] = '\0'; /* whatever the check wrote, a string */
	if (r == HEALTH_NONE) { /* started; health_record comes later */
		c->async_started_ms = t0 ? t0 : 1;
		c->next_due_ms = now_ms + c->def.interval_ms;
		return;
	}
	took = hal_clock_mono_ms() - t0;
	metric_add(M_HEALTH_CHECK_MS, took);
	metric_add_to(&c->ms, M_HEALTH_CHECK_MS, took);
	if (took > c->def.timeout_ms) {
		r = HEALTH_FAIL;
		snprintf(err, sizeof err, "took %" PRIu64 " ms (timeout %"
			 PRIu32 " ms)", took, c->def.timeout_ms);
	}
	if (r > HEALTH_SKIP) {
		r = HEALTH_FAIL;
		snprintf(err, sizeof err, "invalid result");
	}
	health_record(h, i, r, err, now_ms);
	c->next_due_ms = now_ms + c->def.interval_ms;
}

/* see health.h */
int health_run_due(struct health *h, uint64_t now_ms)
{
	int ran = 0;

	for (unsigned i = 0; i < h->nchecks; i++) {
		if (h->checks[i].next_due_ms <= now_ms) {
			run_one(h, i, now_ms);
			ran++;
		}
	}
	return ran;
}

/* see health.h */
uint64_t health_next_due(const struct health *h, uint64_t now_ms)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < h->nchecks; i++) {
		uint64_t d = h->checks[i].next_due_ms;
		uint64_t wait = d > now_ms ? d - now_ms : 0;

		if (wait < best)
			best = wait;
	}
	return best;
}

/* see health.h */
enum health_state health_overall(const struct health *h)
{
	int starting = 0, degraded = 0;

	for (unsigned i = 0; i < h->nchecks; i++) {
		const struct health_check *c = &h->checks[i];
		int req = c->def.kind == HEALTH_REQUIRED;

		if (req && c->state == HEALTH_UNHEALTHY)
			return HEALTH_UNHEALTHY;
		if (req && c->state == HEALTH_STARTING)
			starting = 1;
		if (c->state == HEALTH_DEGRADED ||
		    (!req && c->state == HEALTH_UNHEALTHY))
			degraded = 1;
	}
	if (starting)
		return HEALTH_STARTING;
	return degraded ? HEALTH_DEGRADED : HEALTH_HEALTHY;
}

/* see health.h */
int health_gate(const struct health *h, uint64_t now_ms, char *reason)
{
	reason[0] = '\0';
	for (unsigned i = 0; i < h->nchecks; i++) {
		const struct health_check *c = &h->checks[i];
		uint64_t for_ms = now_ms > c->last_change_ms
				  ? now_ms - c->last_change_ms : 0;

		if (c->def.kind != HEALTH_REQUIRED ||
		    c->state != HEALTH_UNHEALTHY || for_ms <= c->def.grace_ms)
			continue;
		snprintf(reason, HEALTH_REASON_MAX,
			 "%s unhealthy for %" PRIu64 " s: %s", c->name,
			 for_ms / 1000, c->last_error);
		return 1;
	}
	return 0;
}

/* see health.h */
int health_beat_add(struct health *h, const char *name,
		    uint32_t max_silence_ms, uint64_t now_ms)
{
	struct health_beat *b;

	if (!h || !name || !*name || max_silence_ms == 0)
		return -EINVAL;
	if (h->nbeats >= HEALTH_BEATS_MAX)
		return -ENOSPC;
	b = &h->beats[h->nbeats];
	b->name = name;
	b->last_ms = now_ms;
	b->max_silence_ms = max_silence_ms;
	return (int)h->nbeats++;
}

/* see health.h */
void health_beat(struct health *h, int id, uint64_t now_ms)
{
	if (id >= 0 && (unsigned)id < h->nbeats)
		h->beats[id].last_ms = now_ms;
}

/* see health.h */
const char *health_state_name(enum health_state s)
{
	static const char *const names[] = { "starting", "healthy",
					     "degraded", "unhealthy" };

	return (unsigned)s < 4 ? names[s] : "?";
}

/* see health.h */
const char *health_result_name(enum health_result r)
{
	static const char *const names[] = { "none", "pass", "warn", "fail",
					     "skip" };

	return (unsigned)r < 5 ? names[r] : "?";
}

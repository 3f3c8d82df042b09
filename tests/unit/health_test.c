/*
 * health_test.c — the checks framework (firmware/health/health.c): tables of
 * results over (virtual) time and the state each one must leave, for the
 * debounce, the start period, retries and the reset of the count; the
 * schedule (interval, timeout); the overall state; the watchdog gate.
 */
#include <errno.h>
#include <string.h>

#include "hal/sim.h"
#include "health.h"
#include "log.h"
#include "test.h"

#define P HEALTH_PASS
#define W HEALTH_WARN
#define F HEALTH_FAIL
#define S HEALTH_SKIP
#define ST HEALTH_STARTING
#define OK HEALTH_HEALTHY
#define DG HEALTH_DEGRADED
#define BAD HEALTH_UNHEALTHY

/* One result at time at_ms and what the check must show after it. */
struct step {
	uint64_t at_ms;
	enum health_result r;
	enum health_state state;
	uint32_t consecutive;
};

static enum health_result fixed_pass(void *arg, uint64_t now, char *err)
{
	(void)arg; (void)now; (void)err; /* a check that always passes */
	return HEALTH_PASS;
}

static int add_check(struct health *h, const char *name,
		     enum health_kind kind)
{
	struct health_check_def d = { .name = name, .kind = kind,
				      .fn = fixed_pass };

	return health_add(h, &d, 0);
}

/* Plays steps on check 0 of a fresh health started at 0. */
static void play(const struct step *s, size_t n)
{
	static struct health h;

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	REQUIRE(add_check(&h, "c", HEALTH_REQUIRED) == 0);
	for (size_t i = 0; i < n; i++) {
		const struct health_check *c = &h.checks[0];

		health_record(&h, 0, s[i].r, "e", s[i].at_ms);
		if (c->state != s[i].state ||
		    c->consecutive != s[i].consecutive)
			test_fail(__FILE__, __LINE__, "step %zu (t=%llu %s): "
				  "%s/%u, expected %s/%u", i,
				  (unsigned long long)s[i].at_ms,
				  health_result_name(s[i].r),
				  health_state_name(c->state),
				  (unsigned)c->consecutive,
				  health_state_name(s[i].state),
				  (unsigned)s[i].consecutive);
	}
}

/* Failures inside the 40 s start period are not counted; after it,
 * three in a row (retries) make the check unhealthy. */
TEST(start_period_then_retries)
{
	static const struct step s[] = {
		{ 0, F, ST, 0 },      { 30000, F, ST, 0 },
		{ 39999, F, ST, 0 },  { 40000, F, ST, 1 },
		{ 70000, F, ST, 2 },  { 100000, F, BAD, 3 },
		{ 130000, F, BAD, 4 },
	};
	play(s, sizeof s / sizeof s[0]);
}

TEST(three_passes_make_healthy)
{
	static const struct step s[] = {
		{ 0, P, ST, 1 }, { 30000, P, ST, 2 }, { 60000, P, OK, 3 },
		{ 90000, P, OK, 4 },
	};
	play(s, sizeof s / sizeof s[0]);
}

/* A failure inside the start period neither counts nor breaks a run of
 * passes; SKIP counts as a pass. */
TEST(start_period_failure_ignored_skip_counts)
{
	static const struct step s[] = {
		{ 0, P, ST, 1 }, { 10000, F, ST, 1 }, { 20000, S, ST, 2 },
		{ 30000, P, OK, 3 },
	};
	play(s, sizeof s / sizeof s[0]);
}

/* An opposite result resets the count: F F P F F stays healthy. */
TEST(opposite_result_resets_count)
{
	static const struct step s[] = {
		{ 0, P, ST, 1 },      { 1, P, ST, 2 },     { 2, P, OK, 3 },
		{ 50000, F, OK, 1 },  { 60000, F, OK, 2 }, { 70000, P, OK, 1 },
		{ 80000, F, OK, 1 },  { 90000, F, OK, 2 }, { 100000, W, OK, 1 },
		{ 110000, F, OK, 1 }, { 120000, F, OK, 2 },
		{ 130000, F, BAD, 3 },
		/* back: three passes, interrupted once */
		{ 140000, P, BAD, 1 }, { 150000, P, BAD, 2 },
		{ 160000, F, BAD, 1 }, { 170000, P, BAD, 1 },
		{ 180000, P, BAD, 2 }, { 190000, P, OK, 3 },
	};
	play(s, sizeof s / sizeof s[0]);
}

TEST(warnings_degrade_and_recover)
{
	static const struct step s[] = {
		{ 0, P, ST, 1 },     { 1, P, ST, 2 },     { 2, P, OK, 3 },
		{ 100, W, OK, 1 },   { 200, W, OK, 2 },   { 300, W, DG, 3 },
		{ 400, F, DG, 1 },   { 500, F, DG, 2 },   { 600, F, BAD, 3 },
		{ 700, W, BAD, 1 },  { 800, W, BAD, 2 },  { 900, W, DG, 3 },
		{ 1000, S, DG, 1 },  { 1100, P, DG, 2 },  { 1200, P, OK, 3 },
	};
	play(s, sizeof s / sizeof s[0]);
}

TEST(retries_and_debounce_are_separate_knobs)
{
	static struct health h;
	struct health_check_def d = { .name = "c", .fn = fixed_pass,
				      .retries = 2, .debounce = 4,
				      .start_period_ms = 1 };

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	REQUIRE(health_add(&h, &d, 0) == 0);
	for (int i = 0; i < 3; i++)
		health_record(&h, 0, P, "", 10 + (uint64_t)i);
	CHECK_EQ_INT(h.checks[0].state, ST);
	health_record(&h, 0, P, "", 20);
	CHECK_EQ_INT(h.checks[0].state, OK);
	health_record(&h, 0, F, "x", 30);
	CHECK_EQ_INT(h.checks[0].state, OK);
	health_record(&h, 0, F, "x", 40);
	CHECK_EQ_INT(h.checks[0].state, BAD);
	CHECK_EQ_INT(h.checks[0].last_change_ms, 40);
	CHECK_EQ_INT(h.checks[0].transitions, 2);
	CHECK_EQ_INT(h.checks[0].fails, 2);
	CHECK_EQ_STR(h.checks[0].last_error, "x");
}

/* A scripted check: results in order, each run may take `took` ms. */
struct script {
	const enum health_result *r;
	const uint64_t *took;
	unsigned n, calls;
	uint64_t at[16];
};

static enum health_result scripted(void *arg, uint64_t now, char *err)
{
	struct script *s = arg;
	unsigned i = s->calls < s->n ? s->calls : s->n - 1;

	if (s->calls < 16)
		s->at[s->calls] = now;
	s->calls++;
	if (s->took)
		hal_sim_clock_advance(s->took[i]);
	if (s->r[i] != HEALTH_PASS)
		strcpy(err, "scripted");
	return s->r[i];
}

/* Ticks every second from 0 to end_ms; runs due checks. */
static void tick_until(struct health *h, uint64_t end_ms)
{
	for (uint64_t t = 0; t <= end_ms; t += 1000)
		health_run_due(h, t);
}

TEST(runs_every_interval)
{
	static struct health h;
	static const enum health_result r[] = { P };
	struct script s = { .r = r, .n = 1 };
	struct health_check_def d = { .name = "c", .fn = scripted, .arg = &s };

	health_init(&h, 0);
	REQUIRE(health_add(&h, &d, 0) == 0);
	CHECK_EQ_INT(health_next_due(&h, 0), 0);
	tick_until(&h, 95000);
	CHECK_EQ_INT(s.calls, 4);
	CHECK_EQ_INT(s.at[0], 0);
	CHECK_EQ_INT(s.at[1], 30000);
	CHECK_EQ_INT(s.at[3], 90000);
	CHECK_EQ_INT(health_next_due(&h, 95000), 25000);
	CHECK_EQ_INT(h.checks[0].state, OK);
	CHECK_EQ_INT(h.checks[0].last_run_ms, 90000);
}

/* A run that takes longer than the timeout (10 s) is a FAIL, one that
 * takes exactly the timeout is not. */
TEST(slow_run_is_a_timeout_failure)
{
	static struct health h;
	static const enum health_result r[] = { P, P, P, P };
	static const uint64_t took[] = { 10000, 10001, 10001, 10001 };
	struct script s = { .r = r, .took = took, .n = 4 };
	struct health_check_def d = { .name = "slow", .fn = scripted,
				      .arg = &s, .start_period_ms = 1 };

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	REQUIRE(health_add(&h, &d, 0) == 0);
	health_run_due(&h, 0);
	CHECK_EQ_INT(h.checks[0].last_result, P);
	health_run_due(&h, 30000);
	CHECK_EQ_INT(h.checks[0].last_result, F);
	CHECK(strstr(h.checks[0].last_error, "timeout 10000 ms") != NULL);
	health_run_due(&h, 60000);
	health_run_due(&h, 90000);
	CHECK_EQ_INT(h.checks[0].state, BAD);
}

TEST(add_validates)
{
	static struct health h;
	struct health_check_def d = { .name = "c", .fn = fixed_pass };
	char name[HEALTH_NAME_MAX + 1];

	health_init(&h, 0);
	d.fn = NULL;
	CHECK_EQ_INT(health_add(&h, &d, 0), -EINVAL);
	d.fn = fixed_pass;
	d.name = "";
	CHECK_EQ_INT(health_add(&h, &d, 0), -EINVAL);
	memset(name, 'a', HEALTH_NAME_MAX);
	name[HEALTH_NAME_MAX] = '\0';
	d.name = name;
	CHECK_EQ_INT(health_add(&h, &d, 0), -EINVAL);
	name[HEALTH_NAME_MAX - 1] = '\0';
	CHECK_EQ_INT(health_add(&h, &d, 0), 0);
	d.name = "c";
	d.timeout_ms = 31000;
	CHECK_EQ_INT(health_add(&h, &d, 0), -EINVAL);
	d.timeout_ms = 0;
	for (int i = 1; i < HEALTH_CHECKS_MAX; i++)
		CHECK_EQ_INT(health_add(&h, &d, 0), i);
	CHECK_EQ_INT(health_add(&h, &d, 0), -ENOSPC);
	CHECK_EQ_INT(health_record(&h, HEALTH_CHECKS_MAX, P, "", 0), -EINVAL);
	CHECK_EQ_INT(health_record(&h, 0, HEALTH_NONE, "", 0), -EINVAL);
	CHECK(health_find(&h, "c") == &h.checks[1]);
	CHECK(health_find(&h, "nope") == NULL);
}

/* Overall state from (required state, wanted state). */
TEST(overall_is_derived_from_checks)
{
	static const struct {
		enum health_state req, want, overall;
	} t[] = {
		{ ST, ST, ST },   { ST, BAD, ST },  { OK, OK, OK },
		{ OK, ST, OK },   { OK, DG, DG },   { OK, BAD, DG },
		{ DG, OK, DG },   { BAD, OK, BAD }, { BAD, ST, BAD },
		{ ST, OK, ST },
	};
	static struct health h;

	health_init(&h, 0);
	CHECK_EQ_INT(health_overall(&h), OK); /* no checks: nothing wrong */
	REQUIRE(add_check(&h, "req", HEALTH_REQUIRED) == 0);
	REQUIRE(add_check(&h, "want", HEALTH_WANTED) == 1);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		h.checks[0].state = t[i].req;
		h.checks[1].state = t[i].want;
		if (health_overall(&h) != t[i].overall)
			test_fail(__FILE__, __LINE__, "row %zu: %s", i,
				  health_state_name(health_overall(&h)));
	}
}

static int recovers;
static void count_recover(void *arg)
{
	(void)arg; /* counts calls only */
	recovers++;
}

/* Kicks are allowed until a required check has been unhealthy for
 * longer than its grace; wanted checks never gate. */
TEST(gate_opens_until_grace_passes)
{
	static struct health h;
	struct health_check_def d = { .name = "storage", .fn = fixed_pass,
				      .recover = count_recover,
				      .start_period_ms = 1,
				      .grace_ms = 60000 };
	char why[HEALTH_REASON_MAX];

	log_configure(LOG_ERR, 0, 0);
	recovers = 0;
	health_init(&h, 0);
	REQUIRE(health_add(&h, &d, 0) == 0);
	REQUIRE(add_check(&h, "want", HEALTH_WANTED) == 1);
	for (int i = 0; i < 3; i++)
		health_record(&h, 1, F, "w", 100000 + 1000 * (uint64_t)i);
	CHECK_EQ_INT(h.checks[1].state, BAD);
	CHECK_EQ_INT(health_gate(&h, 10000000, why), 0);
	CHECK_EQ_STR(why, "");
	health_record(&h, 0, F, "full", 10000);
	health_record(&h, 0, F, "full", 20000);
	health_record(&h, 0, F, "full", 30000);
	CHECK_EQ_INT(h.checks[0].state, BAD);
	CHECK_EQ_INT(recovers, 1);
	health_record(&h, 0, F, "full", 40000);
	CHECK_EQ_INT(recovers, 1); /* once per turn to unhealthy */
	CHECK_EQ_INT(health_gate(&h, 90000, why), 0);
	CHECK_EQ_INT(health_gate(&h, 90001, why), 1);
	CHECK_EQ_STR(why, "storage unhealthy for 60 s: full");
	CHECK_EQ_INT(health_overall(&h), BAD);
}

TEST(beats_register_and_move)
{
	static struct health h;
	int id;

	health_init(&h, 0);
	CHECK_EQ_INT(health_beat_add(&h, "x", 0, 0), -EINVAL);
	id = health_beat_add(&h, "loop", 5000, 100);
	CHECK_EQ_INT(id, 0);
	health_beat(&h, id, 700);
	health_beat(&h, 7, 800); /* unknown: ignored */
	CHECK_EQ_INT(h.beats[0].last_ms, 700);
	for (int i = 1; i < HEALTH_BEATS_MAX; i++)
		CHECK_EQ_INT(health_beat_add(&h, "b", 1, 0), i);
	CHECK_EQ_INT(health_beat_add(&h, "b", 1, 0), -ENOSPC);
}

TEST_SUITE(health, start_period_then_retries, three_passes_make_healthy,
	   start_period_failure_ignored_skip_counts,
	   opposite_result_resets_count, warnings_degrade_and_recover,
	   retries_and_debounce_are_separate_knobs, runs_every_interval,
	   slow_run_is_a_timeout_failure, add_validates,
	   overall_is_derived_from_checks, gate_opens_until_grace_passes,
	   beats_register_and_move);

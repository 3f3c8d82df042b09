/*
 * test.h — the unit test framework: one header, one runner (runner.c).
 *
 * A test file defines static test functions and registers them as a suite:
 *
 *     TEST(ev_timer_fires_in_order) { ... CHECK_EQ_INT(a, b); ... }
 *     TEST_SUITE(ev, ev_timer_fires_in_order, ev_fd_dispatch);
 *
 * Suites register themselves from a constructor, so adding a *_test.c file
 * to the build is all it takes.  CHECK* records a failure and goes on;
 * REQUIRE* records it and returns from the test.  Before every test the
 * runner calls test_env_reset() (sim: hal_sim_reset(); linux: nothing), so
 * tests never see each other's state.
 *
 * The runner prints "ok - suite.test" / "not ok - suite.test" lines, each
 * failing check as "  file:line: what", and ends with "N passed, N failed".
 * Arguments select tests by substring of "suite.test".
 */
#ifndef VIGIL_TEST_H
#define VIGIL_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct test_suite {
	const char *name;
	void (*const *fns)(void);
	size_t count;
	/* The test names as written in TEST_SUITE, comma-separated. */
	const char *names;
};

/* Capacity of the suite registry; test_register() aborts past it. */
#define TEST_MAX_SUITES 64

void test_register(const struct test_suite *suite);
/* Records a failed check; returns 0 so it can sit inside an expression. */
int test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A fresh, empty directory for this test (sim: in the in-memory storage;
 * linux: under $TMPDIR, removed by the runner at exit).  Borrowed until
 * the next call. */
const char *test_tmpdir(void);
/* Called by the runner before each test. */
void test_env_reset(void);

#define TEST(fn) static void fn(void)

#define TEST_SUITE(suite, ...)                                              \
	static void (*const suite##_fns_[])(void) = { __VA_ARGS__ };        \
	static const struct test_suite suite##_suite_ = {                   \
		#suite, suite##_fns_,                                       \
		sizeof suite##_fns_ / sizeof suite##_fns_[0], #__VA_ARGS__  \
	};                                                                  \
	__attribute__((constructor)) static void suite##_register_(void)    \
	{                                                                   \
		test_register(&suite##_suite_);                             \
	}

#define CHECK(expr)                                                         \
	((expr) ? 1 : test_fail(__FILE__, __LINE__, "CHECK(%s)", #expr))

#define REQUIRE(expr)                                                       \
	do {                                                                \
		if (!CHECK(expr))                                           \
			return;                                             \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                               \
			test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
				  #a, #b, a_, b_);                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                  \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
			test_fail(__FILE__, __LINE__,                       \
				  "%s == %s: \"%s\" != \"%s\"", #a, #b,     \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

#define CHECK_EQ_MEM(a, b, n)                                               \
	do {                                                                \
		if (memcmp((a), (b), (n)) != 0)                             \
			test_fail(__FILE__, __LINE__,                       \
				  "memory %s != %s (%zu bytes)", #a, #b,    \
				  (size_t)(n));                             \
	} while (0)

#endif

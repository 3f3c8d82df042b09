/*
 * runner.c — runs every registered suite (see test.h) and prints the
 * closing "N passed, N failed" line.  Exit status 0 only when nothing
 * failed and at least one test ran (a filter that matches nothing is an
 * error, not a silent pass).
 */
#include "test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const struct test_suite *suites[TEST_MAX_SUITES];
static size_t suite_count;
static unsigned current_failures;

void test_register(const struct test_suite *suite)
{
	if (suite_count == TEST_MAX_SUITES) {
		fprintf(stderr, "test: more than %d suites\n", TEST_MAX_SUITES);
		abort();
	}
	suites[suite_count++] = suite;
}

int test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failures++;
	fprintf(stdout, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return 0;
}

/* Copies the i-th name of a comma-separated list into out. */
static void nth_name(const char *names, size_t i, char *out, size_t cap)
{
	const char *p = names;
	size_t n = 0;

	while (i > 0 && *p) {
		if (*p++ == ',')
			i--;
	}
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	while (*p && *p != ',' && *p != ' ' && n + 1 < cap)
		out[n++] = *p++;
	out[n] = '\0';
}

static int selected(const char *full, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strstr(full, argv[i]))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	char name[128], full[200];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t s = 0; s < suite_count; s++) {
		const struct test_suite *suite = suites[s];

		for (size_t i = 0; i < suite->count; i++) {
			nth_name(suite->names, i, name, sizeof name);
			snprintf(full, sizeof full, "%s.%s", suite->name, name);
			if (!selected(full, argc, argv))
				continue;
			current_failures = 0;
			test_env_reset();
			suite->fns[i]();
			if (current_failures) {
				failed++;
				printf("not ok - %s\n", full);
			} else {
				passed++;
				printf("ok - %s\n", full);
			}
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return (failed == 0 && passed > 0) ? 0 : 1;
}

/*
 * pattern_fuzz.c — libFuzzer target for lib/pattern.c (restore --path).
 * The input is "pattern NUL string".
 *
 * Properties checked (__builtin_trap on violation):
 *   - pattern_match never reads past either string (ASan) and answers
 *     0 or 1;
 *   - for patterns without '\' and without "[:" "[." "[=" whose last
 *     '[' has a set that is closed, it answers like glibc's fnmatch(pattern,
 *     s, 0) (glibc escapes inside a set, knows collating elements, and
 *     matches nothing when a set with a range is not closed, where musl
 *     and pattern.h take the '[' as an ordinary byte);
 *   - the string with every byte escaped ("\c") matches the string and
 *     not the string with one more byte;
 *   - "*" before a pattern that matches s also matches s behind any
 *     prefix.
 */
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static int plain_enough(const char *pat)
{
	const char *open = strrchr(pat, '[');

	if (open != NULL) {     /* the set's first member may be ']' */
		open++;
		if (*open == '!' || *open == '^')
			open++;
		if (*open == ']')
			open++;
	}
	return strchr(pat, '\\') == NULL && strstr(pat, "[:") == NULL &&
	       strstr(pat, "[.") == NULL && strstr(pat, "[=") == NULL &&
	       (open == NULL || strchr(open, ']') != NULL);
}

static void check_escaped(const char *s, size_t n)
{
	char *pat = malloc(2 * n + 1);
	char *longer = malloc(n + 2);

	if (pat == NULL || longer == NULL)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		pat[2 * i] = '\\';
		pat[2 * i + 1] = s[i];
	}
	pat[2 * n] = '\0';
	memcpy(longer, s, n);
	longer[n] = 'x';
	longer[n + 1] = '\0';
	if (pattern_match(pat, s) != 1 || pattern_match(pat, longer) != 0)
		__builtin_trap();
	free(pat);
	free(longer);
}

/* pat matches s: "*pat" matches s and "x" s. */
static void check_star(const char *pat, const char *s)
{
	size_t pn = strlen(pat), sn = strlen(s);
	char *star = malloc(pn + 2);
	char *behind = malloc(sn + 2);

	if (star == NULL || behind == NULL)
		__builtin_trap();
	star[0] = '*';
	memcpy(star + 1, pat, pn + 1);
	behind[0] = 'x';
	memcpy(behind + 1, s, sn + 1);
	if (pattern_match(star, s) != 1 || pattern_match(star, behind) != 1)
		__builtin_trap();
	free(star);
	free(behind);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	char *pat, *s;
	int got;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	pat = buf;
	s = buf + strlen(buf) + 1;
	if (s > buf + size)
		s = buf + size + 1;     /* no NUL in the input: s is "" */
	got = pattern_match(pat, s);
	if (got != 0 && got != 1)
		__builtin_trap();
	if (plain_enough(pat) && got != (fnmatch(pat, s, 0) == 0))
		__builtin_trap();
	check_escaped(s, strlen(s));
	if (got)
		check_star(pat, s);
	free(buf);
	return 0;
}

/*
 * pattern_test.c — pattern_match against a table of patterns, each with
 * the answer written down and checked against the C library's
 * fnmatch(pattern, s, 0) too (glibc in the host build, musl in the arch
 * builds), which the table keeps to cases where both agree.
 */
#include <fnmatch.h>
#include <string.h>

#include "pattern.h"
#include "test.h"

static const struct {
	const char *pat;
	const char *s;
	int match;
} cases[] = {
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "a", "", 0 },
	{ "/etc/hosts", "/etc/hosts", 1 },
	{ "/etc/hosts", "/etc/host", 0 },
	{ "/etc/host", "/etc/hosts", 0 },
	{ "*", "", 1 },
	{ "*", "/any/path/at/all", 1 },
	{ "/etc/*", "/etc/ssl/certs/ca.pem", 1 },   /* '*' crosses '/' */
	{ "*.conf", "/etc/vigil.conf", 1 },
	{ "*.conf", "/etc/vigil.conf.bak", 0 },
	{ "*a*b*c", "xxaxxbxxcxxc", 1 },
	{ "*a*b*c", "xxaxxcxxbxx", 0 },
	{ "a**b", "ab", 1 },
	{ "?", "", 0 },
	{ "?", "x", 1 },
	{ "/log/??.txt", "/log/01.txt", 1 },
	{ "/log/??.txt", "/log/1.txt", 0 },
	{ "[abc]", "b", 1 },
	{ "[abc]", "d", 0 },
	{ "[!abc]", "d", 1 },
	{ "[!abc]", "a", 0 },
	{ "[^abc]", "a", 0 },
	{ "[a-c]x", "bx", 1 },
	{ "[a-c]x", "dx", 0 },
	{ "[]a]", "]", 1 },
	{ "[!]a]", "]", 0 },
	{ "[!]a]", "b", 1 },
	{ "[a-]", "-", 1 },
	{ "[-a]", "-", 1 },
	{ "[[:digit:]][[:alpha:]]", "7q", 1 },
	{ "[[:digit:]][[:alpha:]]", "q7", 0 },
	{ "[[:upper:][:space:]]", " ", 1 },
	{ "[[:xdigit:]]", "F", 1 },
	{ "[[:punct:]]", "_", 1 },
	{ "[[:alnum:]]", "_", 0 },
	{ "[", "[", 1 },           /* not closed: an ordinary '[' */
	{ "[ab", "[ab", 1 },
	{ "a[", "a[", 1 },
	{ "\\*", "*", 1 },
	{ "\\*", "x", 0 },
	{ "\\?x", "?x", 1 },
	{ "\\[a]", "[a]", 1 },
	{ "a\\b", "ab", 1 },
	{ "*x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy", 0 },
};

TEST(pattern_table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = pattern_match(cases[i].pat, cases[i].s);
		int libc = fnmatch(cases[i].pat, cases[i].s, 0) == 0;

		if (got != cases[i].match)
			test_fail(__FILE__, __LINE__, "'%s' on '%s': %d, want %d",
				  cases[i].pat, cases[i].s, got, cases[i].match);
		if (libc != cases[i].match)
			test_fail(__FILE__, __LINE__, "libc fnmatch '%s' on '%s': %d, the table says %d",
				  cases[i].pat, cases[i].s, libc, cases[i].match);
	}
}

/* Bytes above 127 are bytes: never in an ASCII class, equal to
 * themselves, and inside ranges by value. */
TEST(pattern_high_bytes)
{
	CHECK_EQ_INT(pattern_match("/d/\xc3\xa9t\xc3\xa9", "/d/\xc3\xa9t\xc3\xa9"), 1);
	CHECK_EQ_INT(pattern_match("/d/??t??", "/d/\xc3\xa9t\xc3\xa9"), 1);
	CHECK_EQ_INT(pattern_match("[[:alpha:]]", "\xc3"), 0);
	CHECK_EQ_INT(pattern_match("[\x80-\xff]", "\xc3"), 1);
}

/* An unknown class matches nothing; a class that is not closed makes
 * the '[' before it an ordinary byte (as in musl), and what follows it
 * is read on its own: here the set [:alph]. */
TEST(pattern_odd_classes)
{
	CHECK_EQ_INT(pattern_match("[[:nope:]]", "n"), 0);
	CHECK_EQ_INT(pattern_match("[[:alpha]", "[a"), 1);
	CHECK_EQ_INT(pattern_match("[[:alpha]", "[[:alpha]"), 0);
}

TEST_SUITE(pattern, pattern_table, pattern_high_bytes, pattern_odd_classes);

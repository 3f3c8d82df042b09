/*
 * pattern.c — see pattern.h.
 */
#include "pattern.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* Whether byte c is in the class named by the n bytes at name. */
static int in_class(const char *name, size_t n, unsigned char c)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} classes[] = {
		{ "alpha", isalpha }, { "digit", isdigit }, { "alnum", isalnum },
		{ "upper", isupper }, { "lower", islower }, { "space", isspace },
		{ "punct", ispunct }, { "xdigit", isxdigit }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "graph", isgraph }, { "print", isprint },
	};

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		if (strlen(classes[i].name) == n &&
		    memcmp(classes[i].name, name, n) == 0)
			return c < 128 && classes[i].is(c) != 0;
	}
	return 0;
}

/* Walks the set that starts after the '[' at p: returns its closing
 * ']' (NULL when the set is not closed) and sets *in to whether c is a
 * member.  One walk for both, so the end and the members never
 * disagree about what a "[:", a range or a ']' is. */
static const char *scan_set(const char *p, unsigned char c, int *in)
{
	int negate = *p == '!' || *p == '^';
	int found = 0;
	const char *first;

	p += negate;
	first = p;
	for (; *p != ']' || p == first; p++) {
		const char *q;

		if (*p == '\0')
			return NULL;
		if (p[0] == '[' && p[1] == ':') {
			q = strstr(p + 2, ":]");
			if (q == NULL)
				return NULL;
			found |= in_class(p + 2, (size_t)(q - (p + 2)), c);
			p = q + 1;
		} else if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			found |= (unsigned char)p[0] <= c &&
				 c <= (unsigned char)p[2];
			p += 2;
		} else {
			found |= (unsigned char)*p == c;
		}
	}
	*in = found != negate;
	return p;
}

/* Matches the one element at *pp (not '*') against c and steps *pp past
 * it.  Returns 1 when c matches. */
static int match_one(const char **pp, unsigned char c)
{
	const char *p = *pp;
	const char *end;
	int in;

	switch (*p) {
	case '?':
		*pp = p + 1;
		return 1;
	case '[':
		end = scan_set(p + 1, c, &in);
		if (end == NULL)
			break;
		*pp = end + 1;
		return in;
	case '\\':
		if (p[1] != '\0')
			p++;
		break;
	default:
		break;
	}
	*pp = p + 1;
	return (unsigned char)*p == c;
}

/* see pattern.h */
int pattern_match(const char *pat, const char *s)
{
	const char *star_pat = NULL;  /* just after the last '*' seen */
	const char *star_s = NULL;    /* where that '*' stopped eating */

	while (*s != '\0') {
		const char *p = pat;

		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			star_pat = pat;
			star_s = s;
			continue;
		}
		if (*pat != '\0' && match_one(&p, (unsigned char)*s)) {
			pat = p;
			s++;
			continue;
		}
		if (star_pat == NULL)
			return 0;
		/* Backtrack: the last '*' eats one more byte. */
		pat = star_pat;
		s = ++star_s;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

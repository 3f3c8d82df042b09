/*
 * v3_name_test.c — protocol/v3_name.c: the deployed servers' file-name
 * rule, the path <-> name mapping with its examples and refusals, and a
 * property test over many random byte paths.
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "v3.h"

static int fcheck(const char *s, enum v3_reason *why)
{
	return v3_file_name_check(s, strlen(s), why);
}

TEST(file_name_rule_exact)
{
	static const struct {
		const char *name;
		enum v3_reason why;
	} cases[] = {
		{ "data.db", V3_OK },
		{ "var_lib_app_data.db", V3_OK },
		{ "a b c.txt", V3_OK },
		{ "tab\there\n\v\f\r", V3_OK },  /* Python's \s */
		{ ".bashrc", V3_OK },
		{ "-", V3_OK },
		{ "_", V3_OK },
		{ "a.b.c", V3_OK },
		{ "a.", V3_OK },
		{ "console.log", V3_OK },  /* "console" is not "con" */
		{ "con.tar.gz", V3_OK },   /* the part before the LAST '.' */
		{ "CON .txt", V3_OK },     /* "CON " is not "CON" */
		{ "com0", V3_OK },         /* COM1-9 and LPT1-9 only */
		{ "lpt0.bin", V3_OK },
		{ "com10", V3_OK },
		{ "com", V3_OK },
		{ ".con", V3_OK },
		{ "xcon", V3_OK },
		{ "", V3_E_NAME_EMPTY },
		{ "%41", V3_E_NAME_CHAR },
		{ "a+b", V3_E_NAME_CHAR },
		{ "ab:c", V3_E_NAME_CHAR },
		{ "c$", V3_E_NAME_CHAR },
		{ "~x", V3_E_NAME_CHAR },
		{ ".", V3_E_NAME_DOTDOT },
		{ "..", V3_E_NAME_DOTDOT },
		{ "...", V3_E_NAME_DOTDOT },
		{ "a..b", V3_E_NAME_DOTDOT },
		{ "..a", V3_E_NAME_DOTDOT },
		{ "b..", V3_E_NAME_DOTDOT },
		{ "/etc/passwd", V3_E_NAME_SEPARATOR },
		{ "a/b", V3_E_NAME_SEPARATOR },
		{ "a\\b", V3_E_NAME_SEPARATOR },
		{ "a\x01", V3_E_NAME_CONTROL },
		{ "a\x7f", V3_E_NAME_CONTROL },
		{ "\x1c", V3_E_NAME_CONTROL },   /* Unicode space, not ASCII's */
		{ "caf\xc3\xa9", V3_E_NAME_NON_ASCII },
		{ "\xa0", V3_E_NAME_NON_ASCII },
		{ "CON", V3_E_NAME_DEVICE },
		{ "con", V3_E_NAME_DEVICE },
		{ "con.", V3_E_NAME_DEVICE },
		{ "Prn.txt", V3_E_NAME_DEVICE },
		{ "aux.c", V3_E_NAME_DEVICE },
		{ "nul", V3_E_NAME_DEVICE },
		{ "com1", V3_E_NAME_DEVICE },
		{ "COM9.log", V3_E_NAME_DEVICE },
		{ "lpt1", V3_E_NAME_DEVICE },
		{ "LpT9", V3_E_NAME_DEVICE },
	};
	char longest[V3_NAME_MAX + 2];
	enum v3_reason why;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int ret = fcheck(cases[i].name, &why);

		CHECK_EQ_INT(ret, (cases[i].why == V3_OK ? 0 : -EBADMSG));
		if (why != cases[i].why)
			test_fail(__FILE__, __LINE__, "\"%s\": %s, want %s",
				  cases[i].name, v3_reason_str(why),
				  v3_reason_str(cases[i].why));
	}
	memset(longest, 'a', sizeof longest);
	CHECK_EQ_INT(v3_file_name_check(longest, V3_NAME_MAX, &why), 0);
	CHECK_EQ_INT(v3_file_name_check(longest, V3_NAME_MAX + 1, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_TOO_LONG);
	/* a NUL inside the given length is a control byte */
	CHECK_EQ_INT(v3_file_name_check("a\0b", 3, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_CONTROL);
}

TEST(client_name_rules)
{
	char longest[V3_NAME_FIELD];
	enum v3_reason why;

	CHECK_EQ_INT(v3_client_name_check("Appliance 7/a", 13, &why), 0);
	CHECK_EQ_INT(v3_client_name_check("", 0, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_EMPTY);
	CHECK_EQ_INT(v3_client_name_check("a\x01", 2, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_CONTROL);
	CHECK_EQ_INT(v3_client_name_check("\x80", 1, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_NON_ASCII);
	memset(longest, 'x', sizeof longest);
	CHECK_EQ_INT(v3_client_name_check(longest, 254, &why), 0);
	CHECK_EQ_INT(v3_client_name_check(longest, 255, &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_TOO_LONG);
}

static int map(const char *path, char *out, size_t cap, enum v3_reason *why)
{
	return v3_name_from_path(out, cap, path, strlen(path), why);
}

/* The table in docs/protocol/cyberbackup-v3.md, and more. */
TEST(path_mapping_examples)
{
	static const struct {
		const char *path, *name;
	} cases[] = {
		{ "/var/lib/app/data.db", "var_lib_app_data.db" },
		{ "/tmp/x/one_mib.bin", "tmp_x_one_-5Fmib.bin" },
		{ "/srv/my_app/a b.txt", "srv_my_-5Fapp_a b.txt" },
		{ "/a_/b", "a_-5F_b" },
		{ "/a/_b", "a__-5Fb" },
		{ "/a-b/c-d", "a-b_c-d" },
		{ "/a/-x", "a__-2Dx" },     /* '-' after '/' would read "_-" */
		{ "/-x", "-x" },
		{ "/x-/y", "x-_y" },
		{ "/100%", "100_-25" },
		{ "/a..b", "a._-2Eb" },
		{ "/...", "._-2E." },
		{ "/..a/b..", "._-2Ea_b._-2E" },
		{ "/.hidden", ".hidden" },
		{ "/a/.b", "a_.b" },
		{ "/home/caf\xc3\xa9", "home_caf_-C3_-A9" },
		{ "/tab\there", "tab_-09here" },
		{ "/q?/*.txt", "q_-3F__-2A.txt" },
		{ "/c:/x", "c_-3A_x" },
		{ "/a\\b", "a_-5Cb" },
		{ "/~u/#1+y", "_-7Eu__-231_-2By" },
		{ "/con", "_-63on" },
		{ "/con.txt", "_-63on.txt" },
		{ "/NUL", "_-4EUL" },
		{ "/aux.tar.gz", "_-61ux.tar.gz" },  /* Windows' rule */
		{ "/com0", "_-63om0" },
		{ "/nul .txt", "_-6Eul .txt" },
		{ "/lpt10", "lpt10" },
		{ "/x/con.txt", "x_con.txt" },
		{ "/con/x", "con_x" },
		{ "/ a ", " a " },
	};
	char name[V3_NAME_MAX + 1], path[V3_NAME_MAX + 2];
	enum v3_reason why;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int n = map(cases[i].path, name, sizeof name, &why);

		CHECK_EQ_INT(n, (int)strlen(cases[i].name));
		CHECK_EQ_STR(name, cases[i].name);
		CHECK_EQ_INT(fcheck(name, NULL), 0);
		n = v3_path_from_name(path, sizeof path, name, strlen(name),
				      &why);
		CHECK_EQ_INT(n, (int)strlen(cases[i].path));
		CHECK_EQ_STR(path, cases[i].path);
	}
}

TEST(path_mapping_refusals)
{
	static const char *const bad[] = {
		"", "/", "relative/path", "//x", "/a//b", "/a/", "/.", "/..",
		"/a/./b", "/a/../b",
	};
	char name[V3_NAME_MAX + 1], path[300];
	enum v3_reason why;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ_INT(map(bad[i], name, sizeof name, &why), -EINVAL);
		CHECK_EQ_INT(why, V3_E_PATH);
	}
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, "/a\0b", 4, &why),
		     -EINVAL);
	/* 250 characters map, 251 do not */
	path[0] = '/';
	memset(path + 1, 'p', 251);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 251, &why),
		     250);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 252, &why),
		     -EMSGSIZE);
	CHECK_EQ_INT(why, V3_E_NAME_TOO_LONG);
	/* escapes count: 62 escaped bytes = 248, 62 + 2 literals = 250 */
	memset(path + 1, '_', 62);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 63, &why),
		     248);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 65, &why),
		     250);
	path[63] = '_';
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 64, &why),
		     -EMSGSIZE);
	/* a device name at the limit has no room for its escape */
	memcpy(path, "/con.", 5);
	memset(path + 5, 'x', 245);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 248, &why),
		     250);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 249, &why),
		     -EMSGSIZE);
	/* output too small for the name and its NUL */
	CHECK_EQ_INT(map("/abc", name, 3, &why), -ENOSPC);
	CHECK_EQ_INT(map("/abc", name, 4, &why), 3);
}

TEST(unmapping_refuses_foreign_names)
{
	static const char *const bad[] = {
		"_-41",     /* 'A' is never escaped */
		"a_-2Db",   /* nor a '-' that follows no '/' */
		"a_-2E",    /* nor a '.' that follows no '.' */
		"_-5f",     /* lower-case hex */
		"_-5",      /* truncated */
		"a_-",
		"_-ZZ",
		"a__b",     /* empty component */
		"_a",       /* would be "//a" */
		"a_",
		"a_-2Fb",   /* '/' is '_', never _-2F */
		"x__-2E",   /* "." component */
		"_-00",     /* NUL */
		"_-2E_-2E", /* the path "/.." */
		"b-_-2E",   /* '.' after '-' needs no escape */
	};
	char path[V3_NAME_MAX + 2];
	enum v3_reason why;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int ret = v3_path_from_name(path, sizeof path, bad[i],
					    strlen(bad[i]), &why);

		if (ret != -EBADMSG)
			test_fail(__FILE__, __LINE__, "\"%s\" -> %d", bad[i],
				  ret);
	}
	/* names the rule refuses are refused with the rule's reason */
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "a%5Fb", 5, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_CHAR);
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "_-63on", 6, &why),
		     4);
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "con", 3, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_DEVICE);
	/* "con.tar.gz" passes the rule but the mapping escapes it */
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "con.tar.gz", 10,
				       &why), -EBADMSG);
	CHECK_EQ_INT(why, V3_E_ESCAPE);
	CHECK_EQ_INT(v3_path_from_name(path, 4, "abc", 3, &why), -ENOSPC);
	CHECK_EQ_INT(why, V3_E_LENGTH);
	CHECK_EQ_INT(v3_path_from_name(path, 5, "abc", 3, &why), 4);
	/* nothing is written on failure */
	memset(path, '#', sizeof path);
	CHECK_EQ_INT(v3_path_from_name(path, 4, "abc", 3, &why), -ENOSPC);
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "a__b", 4, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_ESCAPE);
	CHECK_EQ_INT(path[0], '#');
	/* the longest name unmaps into V3_NAME_MAX + 2 bytes */
	{
		char name[V3_NAME_MAX];

		memset(name, 'n', sizeof name);
		CHECK_EQ_INT(v3_path_from_name(path, V3_NAME_MAX + 2, name,
					       sizeof name, &why),
			     V3_NAME_MAX + 1);
		CHECK_EQ_INT(v3_path_from_name(path, V3_NAME_MAX + 1, name,
					       sizeof name, &why), -ENOSPC);
	}
}

/* ---- property test ---- */

#define PROP_PATHS 20000
#define PROP_PATH_MAX 160

static uint32_t rng_state;

/* xorshift32: the same paths on every run, so a failure reproduces. */
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Pieces a component is made of, chosen to hit every rule: the mapping's
 * own characters, "..", UTF-8, whitespace and control bytes, device
 * words; plus any single byte. */
static const char *const pieces[] = {
	"_", "__", "-", " ", "%", "%5F", "_-", "_-5F", ".", "..", "a", "Z",
	"0", "9", "F", "x.txt", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x99\x82",
	"\t", "\n", "\r", "\x01", "\x1f", "\x7f", "\xff", "\\", ":", "+",
	"CON", "con", "aux.txt", "com1", "COM0", "NUL", "lpt9", "prn.", "$",
};

/* Appends one random component to p[0..*n) ('/' first); 0 if it would
 * not fit or is "." or "..". */
static int add_component(char *p, size_t *n)
{
	size_t start = *n + 1, k = 1 + rng() % 4;

	if (start >= PROP_PATH_MAX)
		return 0;
	p[(*n)++] = '/';
	for (size_t i = 0; i < k; i++) {
		const char *s;
		char one[2] = { 0, 0 };
		size_t len;

		if (rng() % 5 == 0) {
			do
				one[0] = (char)(rng() & 0xff);
			while (one[0] == '/' || one[0] == '\0');
			s = one;
		} else {
			s = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
		}
		len = strlen(s);
		if (*n + len > PROP_PATH_MAX)
			break;
		memcpy(p + *n, s, len);
		*n += len;
	}
	if (*n == start || (*n - start == 1 && p[start] == '.') ||
	    (*n - start == 2 && memcmp(p + start, "..", 2) == 0))
		return 0;
	return 1;
}

/* A random absolute path of 1-4 components into p; its length. */
static size_t random_path(char p[PROP_PATH_MAX + 1])
{
	size_t n = 0, comps = 1 + rng() % 4;

	for (size_t c = 0; c < comps; c++) {
		size_t before = n;

		if (!add_component(p, &n)) {
			n = before;
			if (n > 0)
				break;
			memcpy(p, "/x", 2);
			n = 2;
		}
	}
	p[n] = '\0';
	return n;
}

/* The deployed rule restated from the protocol text, independently of
 * v3_file_name_check: an oracle for the mapped names. */
static int deployed_rule(const char *s, size_t n)
{
	size_t stem = n;
	char up[5] = { 0 };

	if (n < 1 || n > 250)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._- \t\n\v\f\r", c)) ||
		    c == '\0')
			return 0;
		if (i > 0 && c == '.' && s[i - 1] == '.')
			return 0;
	}
	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == '.') {
			stem = i - 1;
			break;
		}
	}
	if (stem < 3 || stem > 4)
		return 1;
	for (size_t i = 0; i < stem; i++)
		up[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
	if (stem == 3)
		return strcmp(up, "CON") && strcmp(up, "PRN") &&
		       strcmp(up, "AUX") && strcmp(up, "NUL");
	return !((memcmp(up, "COM", 3) == 0 || memcmp(up, "LPT", 3) == 0) &&
		 up[3] >= '1' && up[3] <= '9');
}

struct prop_entry {
	char name[V3_NAME_MAX + 1];
	char path[PROP_PATH_MAX + 1];
};

static struct prop_entry prop[PROP_PATHS];

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct prop_entry *)a)->name,
		      ((const struct prop_entry *)b)->name);
}

/* Maps one random path into e; 1 if it mapped (and checks it), 0 if too
 * long for a name. */
static int prop_one(struct prop_entry *e)
{
	char back[V3_NAME_MAX + 2];
	size_t len = random_path(e->path);
	int n = v3_name_from_path(e->name, sizeof e->name, e->path, len, NULL);

	if (n == -EMSGSIZE)
		return 0;
	if (n <= 0)
		return test_fail(__FILE__, __LINE__, "\"%s\" -> %d", e->path,
				 n);
	if (v3_file_name_check(e->name, (size_t)n, NULL) != 0 ||
	    !deployed_rule(e->name, (size_t)n))
		return test_fail(__FILE__, __LINE__, "\"%s\" -> \"%s\" refused",
				 e->path, e->name);
	if (v3_path_from_name(back, sizeof back, e->name, (size_t)n, NULL) !=
	    (int)len || memcmp(back, e->path, len + 1) != 0)
		return test_fail(__FILE__, __LINE__, "\"%s\" -> \"%s\" -> \"%s\"",
				 e->path, e->name, back);
	return 1;
}

/* Every mapped name passes the rule (v3_file_name_check and a restated
 * oracle), unmaps to its path, and no two different paths share a name. */
TEST(random_paths_map_to_accepted_distinct_reversible_names)
{
	size_t mapped = 0, device = 0, collisions = 0;

	rng_state = 0x2545f491u;
	for (size_t i = 0; i < PROP_PATHS; i++) {
		struct prop_entry *e = &prop[mapped];

		if (!prop_one(e))
			continue;
		/* a leading letter is escaped for device names only */
		device += e->name[0] == '_' &&
			  ((e->path[1] >= 'a' && e->path[1] <= 'z') ||
			   (e->path[1] >= 'A' && e->path[1] <= 'Z'));
		mapped++;
	}
	/* the generator must really exercise the mapping */
	CHECK(mapped > PROP_PATHS * 3 / 4);
	CHECK(device > 50);
	qsort(prop, mapped, sizeof prop[0], by_name);
	for (size_t i = 1; i < mapped; i++) {
		if (strcmp(prop[i].name, prop[i - 1].name) == 0 &&
		    strcmp(prop[i].path, prop[i - 1].path) != 0) {
			collisions++;
			test_fail(__FILE__, __LINE__, "\"%s\" and \"%s\" -> \"%s\"",
				  prop[i - 1].path, prop[i].path, prop[i].name);
		}
	}
	CHECK_EQ_INT(collisions, 0);
}

/* Every path of one or two bytes (65 023 of them): all map, all pass,
 * all come back (so all names differ: unmapping is a function). */
TEST(all_short_paths_map_and_unmap)
{
	char p[3] = { '/', 0, 0 }, name[V3_NAME_MAX + 1], back[8];
	size_t count = 0, bad = 0;

	for (int a = 1; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			size_t len = b == 0 ? 2 : 3;
			int n;

			p[1] = (char)a;
			p[2] = (char)b;
			if (a == '/' || b == '/' ||
			    (a == '.' && (b == 0 || b == '.')))
				continue; /* "//", "/x/", "/." and "/.." */
			n = v3_name_from_path(name, sizeof name, p, len, NULL);
			count++;
			if (n <= 0 || v3_file_name_check(name, (size_t)n,
							 NULL) != 0 ||
			    v3_path_from_name(back, sizeof back, name,
					      (size_t)n, NULL) != (int)len ||
			    memcmp(back, p, len) != 0)
				bad++;
		}
	}
	CHECK(count > 64000);
	CHECK_EQ_INT(bad, 0);
}

TEST_SUITE(v3_name, file_name_rule_exact, client_name_rules,
	   path_mapping_examples, path_mapping_refusals,
	   unmapping_refuses_foreign_names,
	   random_paths_map_to_accepted_distinct_reversible_names,
	   all_short_paths_map_and_unmap)

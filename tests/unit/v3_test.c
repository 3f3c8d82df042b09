/*
 * v3_test.c — protocol/v3.c: the file-name rules, the path <-> name
 * mapping, size helpers and reason texts.
 */
#include <errno.h>

#include "test.h"
#include "v3.h"

static int fcheck(const char *s, enum v3_reason *why)
{
	return v3_file_name_check(s, strlen(s), why);
}

TEST(file_name_rules)
{
	static const struct {
		const char *name;
		enum v3_reason why;
	} cases[] = {
		{ "data.db", V3_OK },
		{ "var_lib_app_data.db", V3_OK },
		{ "a b c.txt", V3_OK },
		{ ".bashrc", V3_OK },
		{ "...", V3_OK },
		{ "..a", V3_OK },
		{ "%41", V3_OK },
		{ "console.log", V3_OK },  /* "console" is not "con" */
		{ "com10", V3_OK },
		{ "com", V3_OK },
		{ "lpt", V3_OK },
		{ "conin", V3_OK },
		{ "conout$x", V3_OK },
		{ "con$", V3_OK },
		{ "xcon", V3_OK },
		{ "ab:c", V3_OK },         /* ':' only refused as a drive */
		{ "a:b", V3_E_NAME_ABSOLUTE }, /* drive-relative */
		{ "1:x", V3_OK },
		{ "", V3_E_NAME_EMPTY },
		{ "/etc/passwd", V3_E_NAME_ABSOLUTE },
		{ "/", V3_E_NAME_ABSOLUTE },
		{ "\\windows", V3_E_NAME_ABSOLUTE },
		{ "C:", V3_E_NAME_ABSOLUTE },
		{ "c:autoexec.bat", V3_E_NAME_ABSOLUTE },
		{ ".", V3_E_NAME_DOTDOT },
		{ "..", V3_E_NAME_DOTDOT },
		{ "a/b", V3_E_NAME_SEPARATOR },
		{ "../x", V3_E_NAME_SEPARATOR },
		{ "a\\b", V3_E_NAME_SEPARATOR },
		{ "a\nb", V3_E_NAME_CONTROL },
		{ "a\x7f", V3_E_NAME_CONTROL },
		{ "\x1f", V3_E_NAME_CONTROL },
		{ "caf\xc3\xa9", V3_E_NAME_NON_ASCII },
		{ "\xff", V3_E_NAME_NON_ASCII },
		{ "CON", V3_E_NAME_DEVICE },
		{ "con", V3_E_NAME_DEVICE },
		{ "Prn.txt", V3_E_NAME_DEVICE },
		{ "aux.tar.gz", V3_E_NAME_DEVICE },
		{ "nul", V3_E_NAME_DEVICE },
		{ "NUL .txt", V3_E_NAME_DEVICE },
		{ "com1", V3_E_NAME_DEVICE },
		{ "COM9.log", V3_E_NAME_DEVICE },
		{ "lpt1", V3_E_NAME_DEVICE },
		{ "LpT9", V3_E_NAME_DEVICE },
		{ "con.", V3_E_NAME_DEVICE },
		{ "com0", V3_E_NAME_DEVICE },
		{ "LPT0.bin", V3_E_NAME_DEVICE },
		{ "CONIN$", V3_E_NAME_DEVICE },
		{ "conout$.txt", V3_E_NAME_DEVICE },
		{ "con:stream", V3_E_NAME_DEVICE }, /* NTFS stream of CON */
		{ "aux :x", V3_E_NAME_DEVICE },
		{ "prn  ", V3_E_NAME_DEVICE },
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

TEST(path_mapping_examples)
{
	static const struct {
		const char *path, *name;
	} cases[] = {
		{ "/var/lib/app/data.db", "var_lib_app_data.db" },
		{ "/srv/my_app/a b.txt", "srv_my%5Fapp_a b.txt" },
		{ "/a_/b", "a%5F_b" },
		{ "/a/_b", "a_%5Fb" },
		{ "/100%", "100%25" },
		{ "/c:/x", "c%3A_x" },
		{ "/q?/*.txt", "q%3F_%2A.txt" },
		{ "/a<b>c|d\"e", "a%3Cb%3Ec%7Cd%22e" },
		{ "/~user/#1 (x)+y=z;'!", "~user_#1 (x)+y=z;'!" },
		{ "/a\\b", "a%5Cb" },
		{ "/caf\xc3\xa9", "caf%C3%A9" },
		{ "/tab\there", "tab%09here" },
		{ "/con", "%63on" },
		{ "/CON.txt", "%43ON.txt" },
		{ "/com1", "%63om1" },
		{ "/com0", "%63om0" },
		{ "/conin$", "%63onin$" },
		{ "/aux :x", "aux %3Ax" },   /* ":" is escaped: no stream */
		{ "/aux .txt", "%61ux .txt" },
		{ "/con/x", "con_x" },
		{ "/x/con", "x_con" },
		{ "/.hidden", ".hidden" },
		{ "/...", "..." },
		{ "/a/..b", "a_..b" },
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
		"/a/./b", "/a/../b", "/..",
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
	/* escapes count: 83 escaped bytes = 249, 84 = 252 */
	memset(path + 1, '_', 84);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 84, &why),
		     249);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 85, &why),
		     -EMSGSIZE);
	/* a device name at the limit has no room for its escape */
	memcpy(path, "/con.", 5);
	memset(path + 5, 'x', 245);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 249, &why),
		     250);
	CHECK_EQ_INT(v3_name_from_path(name, sizeof name, path, 250, &why),
		     -EMSGSIZE);
	/* output too small for the name and its NUL */
	CHECK_EQ_INT(map("/abc", name, 3, &why), -ENOSPC);
	CHECK_EQ_INT(map("/abc", name, 4, &why), 3);
}

TEST(unmapping_refuses_foreign_names)
{
	static const char *const bad[] = {
		"%41",      /* 'A' is never escaped */
		"a*b",      /* '*' always is */
		"%5f",      /* lower-case hex */
		"%5",       /* truncated */
		"a%",
		"%ZZ",
		"a__b",     /* empty component */
		"_a",       /* would be "//a" */
		"a_",
		"a%2Fb",    /* '/' is '_', never %2F */
		"con_%2E",  /* "." component */
		"%00",      /* NUL */
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
	CHECK_EQ_INT(v3_path_from_name(path, sizeof path, "a/b", 3, &why),
		     -EBADMSG);
	CHECK_EQ_INT(why, V3_E_NAME_SEPARATOR);
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

TEST(cbc_size_and_packet_count)
{
	uint32_t c = 0;
	uint16_t t = 0;

	CHECK_EQ_INT(v3_cbc_size(0, &c), 0);
	CHECK_EQ_INT(c, 16);
	CHECK_EQ_INT(v3_cbc_size(15, &c), 0);
	CHECK_EQ_INT(c, 16);
	CHECK_EQ_INT(v3_cbc_size(16, &c), 0);
	CHECK_EQ_INT(c, 32);
	CHECK_EQ_INT(v3_cbc_size(V3_FILE_MAX, &c), 0);
	CHECK_EQ_INT(c, 0xfffffff0u);
	CHECK_EQ_INT(v3_cbc_size((uint64_t)V3_FILE_MAX + 1, &c), -EMSGSIZE);
	CHECK_EQ_INT(v3_cbc_size(1ull << 40, &c), -EMSGSIZE);
	CHECK_EQ_INT(v3_packet_count(16, 1, &t), 0);
	CHECK_EQ_INT(t, 16);
	CHECK_EQ_INT(v3_packet_count(100, 64, &t), 0);
	CHECK_EQ_INT(t, 2);
	CHECK_EQ_INT(v3_packet_count(128, 64, &t), 0);
	CHECK_EQ_INT(t, 2);
	CHECK_EQ_INT(v3_packet_count(65535, 1, &t), 0);
	CHECK_EQ_INT(t, 65535);
	CHECK_EQ_INT(v3_packet_count(65536, 1, &t), -EMSGSIZE);
	/* the largest file in 64 KiB slices is one packet too many */
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, 65536, &t), -EMSGSIZE);
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, 65537, &t), 0);
	CHECK_EQ_INT(v3_packet_count(0xfffffff0u, (size_t)-1, &t), 0);
	CHECK_EQ_INT(t, 1);
	CHECK_EQ_INT(v3_packet_count(0, 1, &t), -EINVAL);
	CHECK_EQ_INT(v3_packet_count(1, 0, &t), -EINVAL);
}

TEST(reason_texts_distinct)
{
	for (int i = 0; i < V3_REASON_COUNT; i++) {
		const char *a = v3_reason_str((enum v3_reason)i);

		CHECK(a != NULL && strcmp(a, "unknown reason") != 0);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(a, v3_reason_str((enum v3_reason)j)) != 0);
	}
	CHECK_EQ_STR(v3_reason_str(V3_REASON_COUNT), "unknown reason");
	CHECK_EQ_STR(v3_reason_str((enum v3_reason)-1), "unknown reason");
}

TEST_SUITE(v3, file_name_rules, client_name_rules, path_mapping_examples,
	   path_mapping_refusals, unmapping_refuses_foreign_names,
	   cbc_size_and_packet_count, reason_texts_distinct)

/*
 * linux_walk_test.c — the resumable backup walk (firmware/backup/
 * backup_walk.c) over hal/linux's directory iterator, on a real
 * temporary directory (symbolic links exist only there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_walk.h"
#include "test.h"

static void touch_file(const char *dir, const char *name, size_t n)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "wb");
	REQUIRE(f);
	for (size_t i = 0; i < n; i++)
		fputc('x', f);
	fclose(f);
}

TEST(incremental_walk_finds_regular_files_only)
{
	static struct backup_walk w;
	char root[] = "/tmp/vigil-iwalk-XXXXXX", p[512], list[1100];
	uint64_t bytes = 0;
	unsigned files = 0, again = 0;
	int ret;

	REQUIRE(mkdtemp(root) != NULL);
	snprintf(p, sizeof p, "%s/d1", root);
	REQUIRE(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/d1/d2", root);
	REQUIRE(mkdir(p, 0700) == 0);
	touch_file(root, "a", 3);
	touch_file(root, "d1/b", 5);
	touch_file(root, "d1/d2/c", 7);
	snprintf(p, sizeof p, "%s/link", root);
	REQUIRE(symlink("a", p) == 0);
	/* the same file twice in the list is sent twice; blanks trimmed */
	snprintf(list, sizeof list, " %s , %s/a,,%s/missing", root, root,
		 root);
	backup_walk_start(&w, list, ',');
	while ((ret = backup_walk_next(&w, 1)) != 0) {
		if (ret == -EAGAIN) {
			again++;
			continue;
		}
		REQUIRE(ret == 1);
		CHECK(strncmp(w.path, root, strlen(root)) == 0);
		files++;
		bytes += w.size;
	}
	CHECK_EQ_INT(files, 4);
	CHECK_EQ_INT(bytes, 3 + 5 + 7 + 3);
	CHECK(again > 0);               /* budget 1: it had to come back */
	CHECK_EQ_INT(w.st.skipped, 1);  /* the symlink */
	CHECK_EQ_INT(w.st.errors, 1);   /* missing */
	CHECK_EQ_INT(w.depth, 0);
	backup_walk_stop(&w);
	snprintf(p, sizeof p, "rm -rf '%s'", root);
	CHECK_EQ_INT(system(p), 0);
}

TEST_SUITE(linux_walk, incremental_walk_finds_regular_files_only)

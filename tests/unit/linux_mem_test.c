/*
 * linux_mem_test.c — hal/linux/mem.c's hal_mem_drop_code really gives
 * the program's code pages back (the file-backed resident set of this
 * test program falls) and the code runs on afterwards (a called function
 * gives its answer: its page came back from the page cache).
 */
#include <stdio.h>
#include <string.h>

#include "hal/mem.h"
#include "test.h"

/* RssFile of this process in kB (/proc/self/status), or -1. */
static long rss_file_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "RssFile: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Not inlined: the call must fetch this function's code again. */
__attribute__((noinline)) static unsigned mix(unsigned x)
{
	return x * 2654435761u ^ (x >> 7);
}

TEST(drop_code_gives_the_code_pages_back)
{
	long before = rss_file_kb();
	long after;

	CHECK(before > 0);
	hal_mem_drop_code();
	after = rss_file_kb();
	/* the runner and every suite before this one mapped far more code
	 * than reading one status file needs again */
	CHECK(after >= 0 && after < before);
	CHECK_EQ_INT(mix(12345u), 12345u * 2654435761u ^ (12345u >> 7));
}

TEST_SUITE(linux_mem, drop_code_gives_the_code_pages_back)

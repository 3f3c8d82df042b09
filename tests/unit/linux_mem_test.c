/*
 * linux_mem_test.c — hal/linux/mem.c's hal_mem_drop_code really gives
 * the program's code pages back (the file-backed resident set of this
 * test program falls) and the code runs on afterwards (a called function
 * gives its answer: its page came back from the page cache).  Under
 * qemu-user (make check runs the aarch64 and armv7 builds so) the guest's
 * code is qemu's private copy, not a file mapping, and qemu ignores the
 * call: there only the second half is checked.
 */
#include <stdio.h>
#include <string.h>

#include "hal/mem.h"
#include "test.h"

/* RssFile of this process in kB (/proc/self/status), or -1; *qemu: the
 * process is qemu-user's (its Name). */
static long rss_file_kb(int *qemu)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "Name:", 5))
			*qemu = strstr(line, "qemu-") != NULL;
		if (sscanf(line, "RssFile: %ld", &kb) == 1)
			break;
	}
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
	int qemu = 0;
	long before = rss_file_kb(&qemu);
	long after;

	CHECK(before > 0);
	hal_mem_drop_code();
	after = rss_file_kb(&qemu);
	/* the runner and every suite before this one mapped far more code
	 * than reading one status file needs again */
	if (!qemu)
		CHECK(after >= 0 && after < before);
	CHECK_EQ_INT(mix(12345u), 12345u * 2654435761u ^ (12345u >> 7));
}

TEST_SUITE(linux_mem, drop_code_gives_the_code_pages_back)

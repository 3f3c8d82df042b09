/*
 * atomic_writer.c — drives hal/linux/storage.c's streaming atomic write
 * from the outside, so tests/integration/test_storage_atomic.py can kill
 * it with SIGKILL at chosen or random moments and look at what is left.
 *
 *     atomic_writer [-m MODE] [-c CHUNK] [-s BYTES] write PATH SRC
 *         replaces PATH with the content of SRC (hal_storage_afile_*,
 *         CHUNK bytes per afile_write, default 65536).  With -s, once
 *         BYTES bytes are written (all of them if BYTES >= the size) it
 *         prints "ready <written>" and waits for a signal forever, before
 *         the commit (fsync + rename), so the test can kill -9 it there.
 *     atomic_writer [-m MODE] loop PATH SRC_A SRC_B COUNT
 *         writes A, B, A, ... COUNT times (0: until killed), printing the
 *         number of finished commits after each one.
 *
 * Exit 0 on success; 1 with "atomic_writer: PATH: STEP: MESSAGE (ECODE)"
 * on stderr when a storage call fails; 2 on bad usage.  Sources are read
 * whole into static buffers of WRITER_MAX bytes (a test tool, not agent
 * code: the limit only has to exceed what the tests write).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/storage.h"

#define WRITER_MAX (4u << 20)

static unsigned char src_a[WRITER_MAX], src_b[WRITER_MAX];

static const char *err_name(int e)
{
	switch (e) {
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EISDIR: return "EISDIR";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	default: return "EIO";
	}
}

static int fail(const char *path, const char *step, int ret)
{
	fprintf(stderr, "atomic_writer: %s: %s: %s (%s)\n", path, step,
		strerror(-ret), err_name(-ret));
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: atomic_writer [-m MODE] [-c CHUNK] [-s BYTES] write PATH SRC\n"
		"       atomic_writer [-m MODE] loop PATH SRC_A SRC_B COUNT\n");
	return 2;
}

/* Reads all of path into buf; returns its size, or -1 with a message. */
static long read_src(const char *path, unsigned char *buf)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "atomic_writer: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, WRITER_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == WRITER_MAX)
			break;
	}
	close(fd);
	if (got == WRITER_MAX) {
		fprintf(stderr, "atomic_writer: %s: larger than %u bytes\n",
			path, WRITER_MAX - 1);
		return -1;
	}
	return (long)got;
}

/* Prints "ready N" and waits until a signal ends the process. */
static void stop_here(size_t written)
{
	printf("ready %zu\n", written);
	fflush(stdout);
	for (;;)
		pause();
}

/* One atomic replacement of path by buf[0..len), chunk bytes a call. */
static int write_one(const char *path, const unsigned char *buf, size_t len,
		     unsigned mode, size_t chunk, long stop_at)
{
	struct hal_afile f;
	size_t off = 0;
	int ret = hal_storage_afile_open(&f, path, mode);

	if (ret < 0)
		return fail(path, "open", ret);
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (stop_at >= 0 && off >= (size_t)stop_at)
			stop_here(off);
		ret = hal_storage_afile_write(&f, buf + off, n);
		if (ret < 0) {
			hal_storage_afile_abort(&f);
			return fail(path, "write", ret);
		}
		off += n;
	}
	if (stop_at >= 0)
		stop_here(off);
	ret = hal_storage_afile_commit(&f);
	return ret < 0 ? fail(path, "commit", ret) : 0;
}

static int run_loop(const char *path, char **srcs, unsigned mode,
		    size_t chunk, unsigned long count)
{
	long la = read_src(srcs[0], src_a), lb = read_src(srcs[1], src_b);

	if (la < 0 || lb < 0)
		return 1;
	for (unsigned long i = 0; count == 0 || i < count; i++) {
		int odd = (int)(i & 1);

		if (write_one(path, odd ? src_b : src_a,
			      (size_t)(odd ? lb : la), mode, chunk, -1) != 0)
			return 1;
		printf("%lu\n", i + 1);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long mode = 0600, chunk = 65536;
	long stop_at = -1, len;
	int opt;

	while ((opt = getopt(argc, argv, "m:c:s:")) != -1) {
		if (opt == 'm')
			mode = strtoul(optarg, NULL, 8);
		else if (opt == 'c')
			chunk = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			stop_at = strtol(optarg, NULL, 0);
		else
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (chunk == 0 || mode > 07777 || argc < 1)
		return usage();
	if (strcmp(argv[0], "write") == 0 && argc == 3) {
		if ((len = read_src(argv[2], src_a)) < 0)
			return 1;
		return write_one(argv[1], src_a, (size_t)len, (unsigned)mode,
				 chunk, stop_at);
	}
	if (strcmp(argv[0], "loop") == 0 && argc == 5)
		return run_loop(argv[1], argv + 2, (unsigned)mode, chunk,
				strtoul(argv[4], NULL, 0));
	return usage();
}

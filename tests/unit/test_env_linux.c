/*
 * test_env_linux.c — the test environment on the Linux HAL: nothing to
 * reset between tests; temp directories are subdirectories of one
 * mkdtemp directory under $TMPDIR (or /tmp), removed with everything in
 * it at exit; the watchdog is a plain file, the serial line a pty pair.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/signal.h"
#include "hal_test_env.h"
#include "test.h"

static char env_base[512];
static char env_dir[600];
static unsigned env_dir_seq;
static char env_wdt[700];
static int env_pty = -1;

static int env_rm_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st; /* the flag says file or directory */
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void env_cleanup(void)
{
	if (env_pty >= 0)
		close(env_pty);
	if (env_base[0])
		nftw(env_base, env_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void test_env_reset(void)
{
}

const char *test_tmpdir(void)
{
	if (!env_base[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(env_base, sizeof env_base, "%s/vigil-unit-XXXXXX",
			 t && *t ? t : "/tmp");
		if (!mkdtemp(env_base)) {
			perror("mkdtemp");
			abort();
		}
		atexit(env_cleanup);
	}
	snprintf(env_dir, sizeof env_dir, "%s/t%u", env_base, ++env_dir_seq);
	if (mkdir(env_dir, 0700) < 0) {
		perror("mkdir");
		abort();
	}
	return env_dir;
}

const char *test_env_wdt_device(void)
{
	int fd;

	snprintf(env_wdt, sizeof env_wdt, "%s/watchdog", test_tmpdir());
	fd = open(env_wdt, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	return env_wdt;
}

/* The bytes written to the fake device so far. */
static ssize_t env_wdt_bytes(char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(env_wdt, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, cap);
	close(fd);
	return n < 0 ? 0 : n;
}

unsigned test_env_wdt_kicks(void)
{
	char buf[4096];
	ssize_t n = env_wdt_bytes(buf, sizeof buf);
	unsigned k = 0;

	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != 'V')
			k++;
	return k;
}

int test_env_wdt_magic_closed(void)
{
	char buf[4096];
	ssize_t n = env_wdt_bytes(buf, sizeof buf);

	return n > 0 && buf[n - 1] == 'V';
}

const char *test_env_serial_device(void)
{
	if (env_pty >= 0)
		close(env_pty);
	env_pty = posix_openpt(O_RDWR | O_NOCTTY);
	if (env_pty < 0 || grantpt(env_pty) < 0 || unlockpt(env_pty) < 0)
		return NULL;
	fcntl(env_pty, F_SETFL, fcntl(env_pty, F_GETFL) | O_NONBLOCK);
	return ptsname(env_pty);
}

int test_env_serial_feed(const void *buf, size_t len)
{
	return write(env_pty, buf, len) == (ssize_t)len ? 0 : -EIO;
}

size_t test_env_serial_drain(void *buf, size_t cap, size_t want)
{
	struct pollfd p = { .fd = env_pty, .events = POLLIN };
	size_t got = 0;

	/* the pty passes bytes on from a kernel worker: wait for them */
	for (int tries = 0; tries < 100 && got < want && got < cap; tries++) {
		ssize_t n = read(env_pty, (char *)buf + got, cap - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		poll(&p, 1, 10);
	}
	return got;
}

void test_env_raise(int hal_sig)
{
	raise(hal_sig == HAL_SIG_TERM ? SIGTERM
	      : hal_sig == HAL_SIG_INT ? SIGINT : SIGHUP);
}

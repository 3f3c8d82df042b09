/*
 * cksum_bench.c — vigil's cksum against GNU coreutils `cksum`, measured in
 * the same run (make bench).
 *
 *   vigil:  cksum_init/update/final over a 256 MiB buffer in memory,
 *           repeated until a measurement lasts >= 0.5 s; best of 5.
 *   GNU:    `cksum FILE` on the same 256 MiB written to /dev/shm (tmpfs:
 *           no disk), timed with CLOCK_MONOTONIC around fork+exec+wait,
 *           repeated until >= 0.5 s; best of 5.  Nothing is subtracted:
 *           the process start and the read(2) copies are part of what a
 *           user of `cksum` pays.  The same for an empty file shows that
 *           overhead alone.
 * Also printed: the portable table path (cksum_crc_sw) on the same buffer,
 * so the gain of the accelerated path is visible.  MB = 10^6 bytes.
 * The program checks that GNU cksum prints the CRC vigil computed and
 * exits 1 otherwise.  $VIGIL_CKSUM_REF overrides the reference command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cksum.h"

#define BENCH_BYTES  (256u << 20)
#define BENCH_RUNS   5
#define BENCH_MIN_NS 500000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *ref_cmd(void)
{
	const char *c = getenv("VIGIL_CKSUM_REF");

	return c && *c ? c : "cksum";
}

/* Runs `cksum path`; its stdout goes to out_fd.  Returns 0 on exit 0. */
static int run_ref(const char *path, int out_fd)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(out_fd, 1);
		execlp(ref_cmd(), ref_cmd(), path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Best of BENCH_RUNS of (ns per call of fn); each run repeats fn until it
 * has lasted BENCH_MIN_NS. */
static double best_ns(int (*fn)(void *), void *arg)
{
	double best = 0;

	for (int r = 0; r < BENCH_RUNS; r++) {
		uint64_t t0 = now_ns(), t;
		unsigned n = 0;

		do {
			if (fn(arg) != 0) {
				fprintf(stderr, "cksum_bench: run failed\n");
				exit(1);
			}
			n++;
			t = now_ns() - t0;
		} while (t < BENCH_MIN_NS);
		if (r == 0 || (double)t / n < best)
			best = (double)t / n;
	}
	return best;
}

static uint8_t *buf;
static volatile uint32_t sink;
static int devnull = -1;

static int run_vigil(void *arg)
{
	(void)arg; /* no state: the buffer is global */
	sink = cksum_buf(buf, BENCH_BYTES);
	return 0;
}

static int run_table(void *arg)
{
	(void)arg; /* no state: the buffer is global */
	sink = cksum_crc_sw(0, buf, BENCH_BYTES);
	return 0;
}

static int run_gnu(void *path)
{
	return run_ref(path, devnull);
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

/* GNU cksum's first number for path, or -1. */
static long long gnu_crc(const char *path)
{
	char out[128] = "";
	int fds[2];
	ssize_t n;

	if (pipe(fds) != 0)
		return -1;
	if (run_ref(path, fds[1]) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	return n > 0 ? strtoll(out, NULL, 10) : -1;
}

static void fill(uint8_t *p, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

int main(void)
{
	char big[64], empty[80];
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	double mb = BENCH_BYTES / 1e6, v, t, g, e;
	uint32_t ours;
	long long theirs;
	int ret = 1;

	buf = malloc(BENCH_BYTES);
	devnull = open("/dev/null", O_WRONLY);
	if (!buf || devnull < 0)
		return 1;
	fill(buf, BENCH_BYTES);
	snprintf(big, sizeof big, "%s/vigil-cksum-bench-%d", dir, (int)getpid());
	snprintf(empty, sizeof empty, "%s.empty", big);
	if (write_file(big, buf, BENCH_BYTES) != 0 ||
	    write_file(empty, buf, 0) != 0) {
		fprintf(stderr, "cksum_bench: cannot write %s\n", big);
		goto out;
	}
	ours = cksum_buf(buf, BENCH_BYTES);
	theirs = gnu_crc(big);
	if (theirs != (long long)ours) {
		fprintf(stderr, "cksum_bench: %s says %lld, vigil %u\n",
			ref_cmd(), theirs, ours);
		goto out;
	}
	v = best_ns(run_vigil, NULL);
	t = best_ns(run_table, NULL);
	g = best_ns(run_gnu, big);
	e = best_ns(run_gnu, empty);
	printf("bench cksum 256 MiB: %.0f MB/s (reference GNU cksum %.0f MB/s, "
	       "ratio %.2f)\n", mb / (v / 1e9), mb / (g / 1e9), g / v);
	printf("bench cksum table path 256 MiB: %.0f MB/s (reference GNU "
	       "cksum %.0f MB/s, ratio %.2f)\n", mb / (t / 1e9),
	       mb / (g / 1e9), g / t);
	printf("bench cksum GNU process overhead (empty file): %.3f ms "
	       "(reference 256 MiB run %.3f ms, ratio %.3f)\n", e / 1e6,
	       g / 1e6, e / g);
	ret = 0;
out:
	unlink(big);
	unlink(empty);
	free(buf);
	return ret;
}

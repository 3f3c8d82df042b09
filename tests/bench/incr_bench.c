/*
 * incr_bench.c — restore next to backup, and incremental runs (make
 * bench; issue 17's benchmark), each against a reference measured in the
 * same run:
 *
 *   - restore: `vigild restore` of a 1 GiB file from vigil-backupd over
 *     tls:// (ALPN vigil/2, 1041/1043), timed from fork to exit 0 (every
 *     byte received, cksummed, written, the file verified and renamed
 *     into place).  Reference: `vigild backup` of the same file to the
 *     same server in the same run (its manifest removed first, so every
 *     byte goes).  Best of BENCH_ROUNDS each; ratio restore / backup.
 *   - incremental: a tree of BENCH_FILES files of BENCH_FILE_SIZE bytes.
 *     Run 1 sends all of it; run 2 (unchanged, with run 1's manifest)
 *     sends one 1046 per file and no content; reference run 3 is the
 *     same second run without the manifest (every file sent again: what
 *     a second run cost before incremental runs; the server still stores
 *     nothing new).  Time from fork to exit, and the bytes vigil-backupd
 *     read on the wire (its --status `bytes_in`, TLS records included).
 *     Ratios run 2 / run 3.
 *
 * Setup as backup_bench.c: `vigilctl pki init` (server certificate for
 * 127.0.0.1, device certificate devices/device1, whose CN is the device
 * name), vigil-backupd --tls on 127.0.0.1:0 in TMPDIR/incr_bench.XXXXXX,
 * a first small backup that registers the client (RSA key generation is
 * once per device, not part of any figure).  Needs BENCH_FREE_MIN of
 * disk (the source, one stored copy, one restored copy).
 *
 * Exit status: 0 whatever the figures (a benchmark reports, it does not
 * gate); 1 when something broke (a run that failed, a restored file of
 * the wrong size, a figure that could not be read).  An alarm bounds the
 * program to BENCH_DEADLINE_S, then kills every child and removes the
 * directory.
 */
#define _GNU_SOURCE             /* mkdtemp, realpath */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_DEADLINE_S 900
#define BENCH_ROUNDS 2
#define BENCH_BIG (1ull << 30)
#define BENCH_FILES 10000u
#define BENCH_DIRS 100u
#define BENCH_FILE_SIZE 1024u
#define BENCH_FREE_MIN (4ull << 30)
#define BENCH_CHUNK (1u << 20)
#define LISTENING "listening TLS v3 on 127.0.0.1:"

static pid_t child, server;
static char tmpdir[512], bindir[512], url[64];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void remove_tmpdir(void)
{
	char *rm[] = { "/bin/rm", "-rf", tmpdir, NULL };
	pid_t p;

	if (!tmpdir[0])
		return;
	p = fork();             /* fork, execv, waitpid: safe in a handler */
	if (p == 0) {
		execv(rm[0], rm);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static void on_alarm(int sig)
{
	static const char msg[] = "incr_bench: deadline reached\n";
	ssize_t n;

	(void)sig; /* the only alarm: the deadline */
	if (child > 0)
		kill(child, SIGKILL);
	if (server > 0)
		kill(server, SIGKILL);
	n = write(2, msg, sizeof msg - 1);
	(void)n; /* a failed write to stderr: nowhere left to report it */
	remove_tmpdir();
	_exit(1);
}

/* argv with stdout to out and stderr to err (NULL: /dev/null). */
static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int i = open("/dev/null", O_RDONLY);
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT |
			     O_TRUNC, 0600);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT |
			     O_TRUNC, 0600);

		if (i < 0 || o < 0 || e < 0 || dup2(i, 0) < 0 ||
		    dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Runs argv to its end (stdout to out, stderr to err); its time to *ns.
 * @retval exit status / -1 */
static int run(char *const argv[], const char *out, const char *err,
	       uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int st;

	child = spawn(argv, out, err);
	if (child < 0 || waitpid(child, &st, 0) != child)
		st = -1;
	child = 0;
	if (ns)
		*ns = now_ns() - t0;
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t read_file(const char *name, char *buf, size_t cap)
{
	size_t n = 0;
	FILE *f = fopen(name, "r");

	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n;
}

static void show(const char *name)
{
	char buf[4096];

	if (read_file(name, buf, sizeof buf) > 0)
		fprintf(stderr, "--- %s:\n%s\n", name, buf);
}

static void exe(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", bindir, name);
}

/* xorshift bytes: incompressible and cheap. */
static void fill(uint8_t *p, size_t n, uint64_t *x)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		memcpy(p + i, x, 8);
	}
}

static int write_file(const char *path, uint64_t size, uint64_t seed,
		      uint8_t *buf)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	uint64_t left = size;

	if (fd < 0)
		return perror(path), -1;
	while (left > 0) {
		size_t n = left < BENCH_CHUNK ? (size_t)left : BENCH_CHUNK;

		fill(buf, n, &seed);
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			return perror(path), -1;
		}
		left -= n;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return perror(path), -1;
	return 0;
}

/* The big file and the tree of small ones. */
static int make_sources(void)
{
	static uint8_t buf[BENCH_CHUNK];
	char p[600];

	if (mkdir("tree", 0755) != 0 || mkdir("one", 0755) != 0 ||
	    write_file("one/first", 100, 1, buf) != 0 ||
	    write_file("big", BENCH_BIG, 2, buf) != 0)
		return -1;
	for (unsigned d = 0; d < BENCH_DIRS; d++) {
		snprintf(p, sizeof p, "tree/d%02u", d);
		if (mkdir(p, 0755) != 0)
			return perror(p), -1;
		for (unsigned f = 0; f < BENCH_FILES / BENCH_DIRS; f++) {
			int fd;

			snprintf(p, sizeof p, "tree/d%02u/f%03u", d, f);
			fill(buf, BENCH_FILE_SIZE, &(uint64_t){ 3 + d * 1000 + f });
			fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, buf, BENCH_FILE_SIZE) !=
			    (ssize_t)BENCH_FILE_SIZE || close(fd) != 0)
				return perror(p), -1;
		}
	}
	return 0;
}

static int make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char made[sizeof tmpdir];
	struct statvfs v;

	base = base && *base ? base : "/tmp";
	if (statvfs(base, &v) != 0)
		return perror(base), -1;
	if ((uint64_t)v.f_bavail * v.f_frsize < BENCH_FREE_MIN) {
		printf("bench incr: SKIPPED: less than %llu GiB free in %s\n",
		       BENCH_FREE_MIN >> 30, base);
		return 1;
	}
	snprintf(made, sizeof made, "%s/incr_bench.XXXXXX", base);
	if (!mkdtemp(made))
		return perror("mkdtemp"), -1;
	if (!realpath(made, tmpdir) || chdir(tmpdir) != 0)
		return perror(made), -1;
	return 0;
}

/* vigil-backupd --tls on a free port; the URL of it into url. */
static int start_server(void)
{
	char e[600], log[8192];
	const char *p;

	exe(e, sizeof e, "vigil-backupd");
	server = spawn((char *const[]){ e, "--data", "data", "--tls",
		"127.0.0.1:0", "--tls-cert", "pki/server.crt", "--tls-key",
		"pki/server.key", "--tls-ca", "pki/ca.crt", NULL }, NULL,
		"backupd.log");
	for (int i = 0; i < 250 && server > 0; i++) {   /* 5 s */
		read_file("backupd.log", log, sizeof log);
		p = strstr(log, LISTENING);
		if (p && strstr(log, "ready:")) {
			snprintf(url, sizeof url, "tls://127.0.0.1:%d",
				 atoi(p + strlen(LISTENING)));
			return 0;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	}
	fprintf(stderr, "incr_bench: vigil-backupd did not start\n");
	show("backupd.log");
	return -1;
}

/* vigild backup|restore as device1 with its identity in state/. */
static int vigild(const char *verb, const char *arg, uint64_t *ns)
{
	char e[600];
	int restore = strcmp(verb, "restore") == 0;
	char *const argv[] = { e, (char *)verb, "--server", url, "--tls-ca",
		"pki/ca.crt", "--tls-cert", "pki/devices/device1.crt",
		"--tls-key", "pki/devices/device1.key",
		restore ? "--device" : "--name", "device1",
		"--state", "state", "--timeout", "60000", (char *)arg, NULL };
	int ret;

	exe(e, sizeof e, "vigild");
	ret = run(argv, NULL, "vigild.log", ns);
	if (ret != 0) {
		fprintf(stderr, "incr_bench: vigild %s %s failed (%d)\n", verb,
			arg, ret);
		show("vigild.log");
		return -1;
	}
	return 0;
}

/* vigil-backupd's bytes_in (all connections, on the wire).
 * @retval the count / -1 */
static long long server_bytes_in(void)
{
	char e[600], buf[65536];
	const char *p;

	exe(e, sizeof e, "vigil-backupd");
	if (run((char *const[]){ e, "--data", "data", "--status=json", NULL },
		"status.json", NULL, NULL) != 0)
		return -1;
	read_file("status.json", buf, sizeof buf);
	/* the server totals come first in the document */
	p = strstr(buf, "\"bytes_in\":");
	return p ? atoll(p + 11) : -1;
}

static int rm_rf(const char *path)
{
	return run((char *const[]){ "/bin/rm", "-rf", (char *)path, NULL },
		   NULL, NULL, NULL);
}

static double mib_s(uint64_t bytes, uint64_t ns)
{
	return (double)bytes / (1 << 20) / secs(ns);
}

/* Backup (manifest removed: every byte) and restore of the big file,
 * best of BENCH_ROUNDS each.  @retval 0 / -1 */
static int restore_vs_backup(void)
{
	uint64_t bk = UINT64_MAX, rs = UINT64_MAX, ns;
	char dest[64], got[700];
	struct stat st;

	for (int r = 1; r <= BENCH_ROUNDS; r++) {
		unlink("state/manifest");
		if (vigild("backup", "big", &ns) != 0)
			return -1;
		printf("bench restore round %d: vigild backup 1 GiB %.2f s\n",
		       r, secs(ns));
		bk = ns < bk ? ns : bk;
		snprintf(dest, sizeof dest, "dest%d", r);
		if (vigild("restore", dest, &ns) != 0)
			return -1;
		snprintf(got, sizeof got, "%s%s/big", dest, tmpdir);
		if (stat(got, &st) != 0 || (uint64_t)st.st_size != BENCH_BIG) {
			fprintf(stderr, "incr_bench: %s missing or not 1 GiB\n",
				got);
			return -1;
		}
		printf("bench restore round %d: vigild restore 1 GiB %.2f s\n",
		       r, secs(ns));
		rs = ns < rs ? ns : rs;
		rm_rf(dest);
	}
	printf("bench restore: 1 GiB over TLS 1.3 (vigil/2) on 127.0.0.1, "
	       "best of %d\n", BENCH_ROUNDS);
	printf("  %-52s %6.2f s %7.1f MiB/s\n", "vigild backup -> vigil-backupd",
	       secs(bk), mib_s(BENCH_BIG, bk));
	printf("  %-52s %6.2f s %7.1f MiB/s\n", "vigild restore <- vigil-backupd",
	       secs(rs), mib_s(BENCH_BIG, rs));
	printf("bench restore ratio: restore / backup throughput %.2f\n",
	       (double)bk / (double)rs);
	return 0;
}

struct run_fig {
	uint64_t ns;
	long long bytes;
};

/* One backup run of the tree: time and bytes on the wire. */
static int tree_run(struct run_fig *f)
{
	long long before = server_bytes_in(), after;

	if (before < 0 || vigild("backup", "tree", &f->ns) != 0)
		return -1;
	after = server_bytes_in();
	if (after < 0)
		return -1;
	f->bytes = after - before;
	return 0;
}

static int incremental(void)
{
	struct run_fig r1, r2, r3;
	char summary[4096];
	const char *u;

	unlink("state/manifest");
	if (tree_run(&r1) != 0 || tree_run(&r2) != 0)
		return -1;
	read_file("vigild.log", summary, sizeof summary);
	u = strstr(summary, "files verified");
	unlink("state/manifest");
	if (tree_run(&r3) != 0)
		return -1;
	printf("bench incr: %u files of %u bytes in %u directories, over TLS "
	       "1.3 (vigil/2) on 127.0.0.1\n", BENCH_FILES, BENCH_FILE_SIZE,
	       BENCH_DIRS);
	printf("  %-52s %6.2f s %10lld B on the wire\n", "run 1: every file "
	       "new", secs(r1.ns), r1.bytes);
	printf("  %-52s %6.2f s %10lld B on the wire\n", "run 2: unchanged, "
	       "with the manifest (1046 each)", secs(r2.ns), r2.bytes);
	printf("  %-52s %6.2f s %10lld B on the wire\n", "run 3 (reference): "
	       "unchanged, no manifest (all sent)", secs(r3.ns), r3.bytes);
	printf("  run 2 said: %.*s\n", u ? (int)strcspn(u, "\n") : 0, u ? u : "");
	printf("bench incr ratios: run 2 / run 3: time %.2f, bytes %.3f; "
	       "bytes per unchanged file %.0f\n", (double)r2.ns / (double)r3.ns,
	       (double)r2.bytes / (double)r3.bytes,
	       (double)r2.bytes / BENCH_FILES);
	return 0;
}

int main(void)
{
	const char *b = getenv("VIGIL_BIN_DIR");
	char e[600];
	int ret;

	if (!b || !realpath(b, bindir)) {
		fprintf(stderr, "incr_bench: VIGIL_BIN_DIR not set or missing\n");
		return 1;
	}
	signal(SIGALRM, on_alarm);
	alarm(BENCH_DEADLINE_S);
	ret = make_tmpdir();
	if (ret != 0)
		return ret < 0;
	exe(e, sizeof e, "vigilctl");
	ret = -1;
	if (run((char *const[]){ e, "pki", "init", "pki", NULL }, NULL,
		"pki.log", NULL) != 0)
		show("pki.log");
	else if (make_sources() == 0 && start_server() == 0 &&
		 vigild("backup", "one", NULL) == 0 &&
		 restore_vs_backup() == 0 && incremental() == 0)
		ret = 0;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = 0;
	}
	remove_tmpdir();
	return ret == 0 ? 0 : 1;
}

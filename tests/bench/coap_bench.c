/*
 * coap_bench.c — vigild's CoAP server against libcoap's coap-server-notls,
 * answering the same load generator in the same run (make bench).
 *
 * Setup: both servers are started here on free loopback ports (vigild
 * from $VIGIL_BIN_DIR or build/host/bin with a temporary config that sets
 * coap.listen; coap-server-notls -A 127.0.0.1) and killed at the end; a
 * watchdog alarm bounds the whole program to BENCH_DEADLINE_S.
 *
 * Load: one process, one UDP socket, BENCH_WINDOW outstanding CON GETs,
 * each with its own message id and token; the answers waiting are read
 * in one recvmmsg, each records its latency, and the requests that
 * replace them go out in one sendmmsg (so the generator spends as
 * little per request as it can: ~4 us against vigild, ~8-10 us against
 * libcoap, whose one-answer-per-wakeup gives it one datagram per read).
 * A request without an answer after 1 s is counted lost and its slot
 * reused.  Each measurement runs >= 1 s; rounds alternate vigild and
 * libcoap, 5 rounds; each figure is the median of the 5 (req/s, p50,
 * p99, CPU per request), the ratio that of the medians, and each
 * round's own ratios are printed too.
 *
 * CPUs: the generator is pinned to one CPU and both servers to another
 * (when this process may use two; COAP_BENCH_NOPIN=1 leaves it to the
 * scheduler), as a client on another machine would be.  Unpinned, the
 * generator woken by an answer often ran on the server's CPU and
 * preempted it mid-burst, so the server's CPU per request depended on
 * where the scheduler put the two (it moved by 20 % between runs).
 *
 * Why the req/s ratio moves between runs: the machine has 2 cores and
 * other work; neither server is ever busy for a whole round (the busy
 * share is printed), so a round's rate is the round trip through the
 * generator and the scheduler while others' processes take turns on
 * both CPUs, and the ratio moves with the load of the two servers'
 * turns.  What does not move with load is the CPU a server spends per
 * request (its on-CPU ns from /proc/PID/schedstat over a round, divided
 * by its requests; /proc/PID/stat's 10 ms ticks were a tenth of a
 * round's figure): that figure and its ratio are the server comparison
 * (lower is better).
 *
 * What is fetched, so that both answer a payload of the same size:
 *   vigild:  GET /status with Block2 (0, SZX 6): block 0 of the status
 *            document, up to 1024 bytes (the document is larger than
 *            one block), with coap.amplification = off: this measures
 *            serving; the load generator answers no verification ping,
 *            and coap_read_bench.c measures what verification costs.
 *   libcoap: GET /example_data after a PUT of as many bytes as vigild's
 *            block 0 had (the example server stores what is PUT).
 *
 * Heap per request: vigild must allocate nothing after start.  Two
 * measurements:
 * 1. Before and after BENCH_HEAP_REQS more requests (after warm-up),
 *    /proc/PID/status VmData (every brk/mmap growth shows there) and the
 *    minor page faults of /proc/PID/stat (touching any new heap page
 *    faults once).  This sees growth, not a malloc+free pair that reuses
 *    its memory.  libcoap's figures are printed as the reference.
 * 2. A second vigild runs under strace (--seccomp-bpf, only brk, mmap,
 *    munmap, mremap traced, so the rest runs at full speed); the calls
 *    recorded during BENCH_HEAP_REQS requests are counted.  musl's malloc
 *    gets every byte through brk or mmap, and vigild (static, musl) makes
 *    none of these calls at all, start-up included, so it has no heap:
 *    any malloc while serving would show as at least one call.
 * The program exits 1 when VmData grew or a call was seen; without strace
 * (or where ptrace is refused) the second line says "not measured".
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "coap.h"

#define BENCH_WINDOW 16                 /* requests in flight */
#define BENCH_RUNS 5
#define BENCH_MIN_NS 1000000000ull      /* per measurement */
#define BENCH_LOST_NS 1000000000ull     /* unanswered: lost */
#define BENCH_HEAP_REQS 100000u
#define BENCH_DEADLINE_S 60             /* whole program, then kill all */
#define BENCH_MAX_SAMPLES (4u << 20)    /* latencies kept per run */
#define BENCH_PAYLOAD 1024
#define STRACE "/usr/bin/strace"

struct target {
	const char *name;
	const char *path;
	bool block2;
	uint16_t port;
	pid_t pid;
	double rate[BENCH_RUNS];        /* each round's */
	double p50[BENCH_RUNS], p99[BENCH_RUNS];
	double cpu_us[BENCH_RUNS];      /* server CPU per request */
	double gen_us[BENCH_RUNS];      /* load generator CPU per request */
	double busy[BENCH_RUNS];        /* server CPU / wall time */
	unsigned lost[BENCH_RUNS];
	size_t payload;                 /* bytes in one answer */
};

struct slot {
	uint64_t sent_ns;
	uint16_t mid;
	uint32_t gen;
};

static struct target strace_tgt = { .name = "vigild under strace",
				.path = "/status", .block2 = true };
static struct target tgts[2] = {
	{ .name = "vigild", .path = "/status", .block2 = true },
	{ .name = "libcoap coap-server-notls", .path = "/example_data" },
};
static uint32_t samples[BENCH_MAX_SAMPLES];
static char tmpdir[] = "/tmp/coap_bench.XXXXXX";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pid_t tracee_of(pid_t pid);

static void kill_all(void)
{
	for (int i = 0; i < 2; i++)
		if (tgts[i].pid > 0)
			kill(tgts[i].pid, SIGKILL);
	if (strace_tgt.pid > 0) {
		pid_t child = tracee_of(strace_tgt.pid); /* fopen in a signal
			handler: acceptable at the deadline, the process ends */

		if (child > 0)
			kill(child, SIGKILL);
		kill(strace_tgt.pid, SIGKILL);
	}
}

static void on_alarm(int sig)
{
	(void)sig; /* the only alarm: the deadline */
	kill_all();
	_exit(1);
}

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The CPUs: the load generator on one, the servers on another, when
 * this process may use two or more (-1: not pinned). */
static int cpu_gen = -1, cpu_srv = -1;

static void pin_setup(void)
{
	cpu_set_t set;
	int first = -1;

	if (getenv("COAP_BENCH_NOPIN") ||
	    sched_getaffinity(0, sizeof set, &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET((size_t)c, &set))
			continue;
		if (first < 0) {
			first = c;
		} else {
			cpu_gen = first;
			cpu_srv = c;
			break;
		}
	}
	if (cpu_gen >= 0) {
		CPU_ZERO(&set);
		CPU_SET((size_t)cpu_gen, &set);
		sched_setaffinity(0, sizeof set, &set);
	}
}

static void pin_server(void)
{
	cpu_set_t set;

	if (cpu_srv < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((size_t)cpu_srv, &set);
	sched_setaffinity(0, sizeof set, &set);
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		pin_server();
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* vigild with a config of its own (name: "a" or "b"); traced: under
 * strace, recording brk/mmap/munmap/mremap into tmpdir/strace.out
 * (--seccomp-bpf stops the process only for those calls). */
static int start_vigild(struct target *t, const char *name, bool traced)
{
	const char *dir = getenv("VIGIL_BIN_DIR");
	char exe[512], conf[600], log[600], out[600];
	FILE *f;

	snprintf(exe, sizeof exe, "%s/vigild", dir && *dir ? dir : "build/host/bin");
	snprintf(conf, sizeof conf, "%s/%s.conf", tmpdir, name);
	snprintf(log, sizeof log, "%s/vigild.log", tmpdir);
	snprintf(out, sizeof out, "%s/strace.out", tmpdir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "data.dir = %s/data-%s\nwatchdog.device = none\n"
		"console.device = none\nlog.syslog = false\nlog.level = warn\n"
		"coap.listen = 127.0.0.1:%u\ncoap.amplification = off\n",
		tmpdir, name, (unsigned)t->port);
	fclose(f);
	if (traced)
		t->pid = spawn((char *const[]){ STRACE, "-f", "--seccomp-bpf",
			"-e", "trace=brk,mmap,munmap,mremap", "-o", out, exe,
			"--config", conf, NULL }, log);
	else
		t->pid = spawn((char *const[]){ exe, "--config", conf, NULL }, log);
	return t->pid > 0 ? 0 : -1;
}

/* Lines of tmpdir/strace.out naming a memory call, or -1. */
static long traced_calls(void)
{
	char path[600], line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/strace.out", tmpdir);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		n += strstr(line, "brk(") || strstr(line, "mmap(") ||
		     strstr(line, "munmap(") || strstr(line, "mremap(");
	fclose(f);
	return n;
}

static int start_libcoap(struct target *t)
{
	char port[8], log[600];

	snprintf(port, sizeof port, "%u", (unsigned)t->port);
	snprintf(log, sizeof log, "%s/libcoap.log", tmpdir);
	t->pid = spawn((char *const[]){ "/usr/bin/coap-server-notls", "-A",
					"127.0.0.1", "-p", port, NULL }, log);
	return t->pid > 0 ? 0 : -1;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 4 << 20;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	return fd;
}

/* Builds the request of slot i, generation gen. */
static int build(const struct target *t, uint8_t code, uint16_t mid,
		 unsigned i, uint32_t gen, const uint8_t *body, size_t blen,
		 uint8_t *out, size_t cap)
{
	struct coap_writer w;
	struct coap_block b = { .num = 0, .szx = 6 };
	uint8_t tok[4] = { (uint8_t)i, (uint8_t)(gen >> 16), (uint8_t)(gen >> 8),
			   (uint8_t)gen };

	coap_writer_init(&w, out, cap, COAP_CON, code, mid, tok, sizeof tok);
	coap_put_path(&w, t->path);
	if (t->block2 && code == COAP_GET)
		coap_put_block(&w, COAP_OPT_BLOCK2, &b);
	if (blen)
		coap_put_payload(&w, body, blen);
	return coap_writer_finish(&w);
}

struct run {
	uint64_t ns;
	uint64_t done;
	unsigned lost;
	size_t nsamples;
};

/* Requests to send, collected while a batch of answers is read and sent
 * in one sendmmsg (the socket is connected: no addresses). */
struct txq {
	uint8_t msg[BENCH_WINDOW][128];
	struct iovec iov[BENCH_WINDOW];
	struct mmsghdr mm[BENCH_WINDOW];
	unsigned n;
};

static uint16_t next_mid = 0x1000;
static uint32_t next_gen = 1;          /* unique across runs: old answers
					* never match a new slot */

/* Queues slot i's next request.  @retval 0 / -1 not buildable */
static int send_slot(struct txq *q, const struct target *t, struct slot *s,
		     unsigned i)
{
	int n;

	s->mid = next_mid++;
	s->gen = next_gen++ & 0xffffffu;
	n = build(t, COAP_GET, s->mid, i, s->gen, NULL, 0, q->msg[q->n],
		  sizeof q->msg[0]);
	if (n < 0)
		return -1;
	s->sent_ns = now_ns();
	q->iov[q->n] = (struct iovec){ q->msg[q->n], (size_t)n };
	q->mm[q->n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &q->iov[q->n],
						      .msg_iovlen = 1 } };
	q->n++;
	return 0;
}

/* Sends the queued requests; one the socket refuses (buffer full, an
 * ICMP error of an earlier one) is skipped: its slot is lost and
 * re-sent after BENCH_LOST_NS.  @retval 0 / -1 socket error */
static int flush(int fd, struct txq *q)
{
	unsigned i = 0;

	while (i < q->n) {
		int r = sendmmsg(fd, q->mm + i, q->n - i, 0);

		if (r > 0)
			i += (unsigned)r;
		else if (errno == EAGAIN || errno == ECONNREFUSED)
			i++;
		else if (errno != EINTR)
			return -1;
	}
	q->n = 0;
	return 0;
}

/* Re-sends the slots that waited longer than BENCH_LOST_NS. */
static int reap_lost(int fd, struct txq *q, const struct target *t,
		     struct slot *s, struct run *r)
{
	uint64_t now = now_ns();

	for (unsigned i = 0; i < BENCH_WINDOW; i++) {
		if (now - s[i].sent_ns < BENCH_LOST_NS)
			continue;
		r->lost++;
		if (send_slot(q, t, &s[i], i) < 0)
			return -1;
	}
	return flush(fd, q);
}

/* A response: the slot's latency, then its next request. */
static int on_response(struct txq *q, const struct target *t,
		       struct slot *s, const uint8_t *rx, size_t n,
		       uint64_t now, struct run *r)
{
	struct coap_msg m;
	unsigned i;
	uint32_t gen;

	if (coap_parse(&m, rx, n) != 0 || m.tkl != 4 || m.type != COAP_ACK)
		return 0;
	i = m.token[0];
	gen = (uint32_t)m.token[1] << 16 | (uint32_t)m.token[2] << 8 |
	      m.token[3];
	if (i >= BENCH_WINDOW || s[i].gen != gen || s[i].mid != m.mid ||
	    COAP_CODE_CLASS(m.code) != 2)
		return 0;
	if (r->nsamples < BENCH_MAX_SAMPLES)
		samples[r->nsamples++] = (uint32_t)((now - s[i].sent_ns) / 1000u);
	r->done++;
	return send_slot(q, t, &s[i], i);
}

/* Keeps BENCH_WINDOW requests in flight for min_ns, or for max_reqs
 * answers: the answers waiting are read in one recvmmsg and their
 * successors sent in one sendmmsg, so the generator spends as little
 * as it can per request (both servers get the same generator).
 * @retval 0 / -1 socket error */
static int load(int fd, const struct target *t, uint64_t min_ns,
		uint64_t max_reqs, struct run *r)
{
	static uint8_t rx[BENCH_WINDOW][2048];
	static struct txq q;
	struct iovec iov[BENCH_WINDOW];
	struct mmsghdr mm[BENCH_WINDOW];
	struct slot s[BENCH_WINDOW];
	uint64_t t0 = now_ns();

	memset(r, 0, sizeof *r);
	q.n = 0;
	for (unsigned i = 0; i < BENCH_WINDOW; i++)
		if (send_slot(&q, t, &s[i], i) < 0)
			return -1;
	if (flush(fd, &q) < 0)
		return -1;
	for (;;) {
		uint64_t now = now_ns();
		int n;

		if ((min_ns && now - t0 >= min_ns) ||
		    (max_reqs && r->done >= max_reqs))
			break;
		for (unsigned i = 0; i < BENCH_WINDOW; i++) {
			iov[i] = (struct iovec){ rx[i], sizeof rx[i] };
			mm[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, mm, BENCH_WINDOW, MSG_DONTWAIT, NULL);
		if (n < 0 && (errno == EAGAIN || errno == ECONNREFUSED ||
			      errno == EINTR)) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 10);
			if (reap_lost(fd, &q, t, s, r) < 0)
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		now = now_ns();
		for (int k = 0; k < n; k++)
			if (on_response(&q, t, s, rx[k], mm[k].msg_len, now,
					r) < 0)
				return -1;
		if (flush(fd, &q) < 0)
			return -1;
	}
	r->ns = now_ns() - t0;
	return 0;
}

/* One request, waiting up to wait_ms for its answer.
 * @retval the response code / -1 none */
static int one(int fd, const struct target *t, uint8_t code,
	       const uint8_t *body, size_t blen, size_t *plen, int wait_ms)
{
	uint8_t msg[COAP_MAX_MSG + 64], rx[2048];
	uint16_t mid = next_mid++;
	int n = build(t, code, mid, 0xff, 0, body, blen, msg, sizeof msg);
	uint64_t end = now_ns() + (uint64_t)wait_ms * 1000000u;
	struct coap_msg m;

	if (n < 0 || send(fd, msg, (size_t)n, 0) != n)
		return -1;
	while (now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		poll(&p, 1, 20);
		r = recv(fd, rx, sizeof rx, 0);
		if (r > 0 && coap_parse(&m, rx, (size_t)r) == 0 && m.mid == mid) {
			if (plen)
				*plen = m.payload_len;
			return m.code;
		}
	}
	return -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* CPU time (ns) pid has run so far, from /proc/PID/schedstat (the
 * scheduler's own count, exact; /proc/PID/stat's utime + stime are
 * 10 ms ticks, a tenth of a round's figure); 0: pid itself.
 * @retval -1 unreadable */
static int64_t cpu_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns;
	FILE *f;
	int n;

	if (pid)
		snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/schedstat");
	if (!(f = fopen(path, "r")))
		return -1;
	n = fscanf(f, "%llu", &ns);
	fclose(f);
	return n == 1 ? (int64_t)ns : -1;
}

/* Keeps round k's figures; cpu, gen: the server's and the generator's
 * CPU ns during it (-1: not measured). */
static void record(struct target *t, int k, const struct run *r,
		   int64_t cpu, int64_t gen)
{
	t->rate[k] = (double)r->done * 1e9 / (double)r->ns;
	t->lost[k] = r->lost;
	t->cpu_us[k] = r->done && cpu >= 0 ? (double)cpu / 1e3 /
		(double)r->done : 0;
	t->gen_us[k] = r->done && gen >= 0 ? (double)gen / 1e3 /
		(double)r->done : 0;
	t->busy[k] = cpu >= 0 ? (double)cpu / (double)r->ns : 0;
	if (r->nsamples == 0)
		return;
	qsort(samples, r->nsamples, sizeof samples[0], cmp_u32);
	t->p50[k] = samples[r->nsamples / 2];
	t->p99[k] = samples[r->nsamples * 99 / 100];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double s[BENCH_RUNS];

	memcpy(s, v, sizeof s);
	qsort(s, BENCH_RUNS, sizeof s[0], cmp_double);
	return s[BENCH_RUNS / 2];
}

struct procfig {
	long vmdata_kb;
	long vmrss_kb;
	unsigned long minflt;
};

static int read_proc(pid_t pid, struct procfig *pf)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f)) {
		sscanf(line, "VmData: %ld", &pf->vmdata_kb);
		sscanf(line, "VmRSS: %ld", &pf->vmrss_kb);
	}
	fclose(f);
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	/* field 10 (minflt) after "pid (comm) state ppid pgrp session tty
	 * tpgid flags"; comm has no spaces for our two programs */
	if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %lu",
		   &pf->minflt) != 1)
		pf->minflt = 0;
	fclose(f);
	return 0;
}

static int wait_ready(int fd, struct target *t)
{
	struct target probe = *t;

	probe.path = "/.well-known/core";
	probe.block2 = false;
	for (int i = 0; i < 50; i++) {
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
			t->pid = -1;
			return -1;
		}
		if (one(fd, &probe, COAP_GET, NULL, 0, NULL, 100) > 0)
			return 0;
	}
	return -1;
}

static void show_log(const char *name)
{
	char path[600], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if (!(f = fopen(path, "r")))
		return;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "--- %s:\n%s", name, buf);
}

/* The process strace started (killing strace alone would leave it
 * running, detached), or -1. */
static pid_t tracee_of(pid_t pid)
{
	char path[64];
	FILE *f;
	int child = -1;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	if (fscanf(f, "%d", &child) != 1)
		child = -1;
	fclose(f);
	return child;
}

static void stop(struct target *t)
{
	pid_t child = t == &strace_tgt && t->pid > 0 ? tracee_of(t->pid) : -1;

	if (t->pid <= 0)
		return;
	if (child > 0)
		kill(child, SIGTERM); /* strace exits with its tracee */
	else
		kill(t->pid, SIGTERM);
	for (int k = 0; k < 100 && waitpid(t->pid, NULL, WNOHANG) == 0; k++)
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	kill(t->pid, SIGKILL); /* no-op when it has exited */
	waitpid(t->pid, NULL, 0);
	t->pid = -1;
}

static void stop_all(void)
{
	char *rm[] = { "/bin/rm", "-rf", tmpdir, NULL };
	pid_t p;

	stop(&tgts[0]);
	stop(&tgts[1]);
	stop(&strace_tgt);
	p = spawn(rm, "/dev/null");
	if (p > 0)
		waitpid(p, NULL, 0);
}

/* Both servers up, and libcoap's /example_data holding as many bytes as
 * vigild's block 0.  @retval 0 / -1 (reported) */
static int prepare(int fd[2])
{
	static uint8_t fill[BENCH_PAYLOAD];
	int code;

	if (!mkdtemp(tmpdir))
		return perror("mkdtemp"), -1;
	tgts[0].port = free_port();
	tgts[1].port = free_port();
	if (start_vigild(&tgts[0], "a", false) < 0 || start_libcoap(&tgts[1]) < 0)
		return perror("fork"), -1;
	for (int i = 0; i < 2; i++) {
		fd[i] = connect_to(tgts[i].port);
		if (fd[i] < 0 || wait_ready(fd[i], &tgts[i]) < 0) {
			fprintf(stderr, "coap_bench: %s does not answer on "
				"127.0.0.1:%u\n", tgts[i].name, tgts[i].port);
			show_log(i ? "libcoap.log" : "vigild.log");
			return -1;
		}
	}
	code = one(fd[0], &tgts[0], COAP_GET, NULL, 0, &tgts[0].payload, 1000);
	if (code != COAP_CODE_CONTENT || tgts[0].payload == 0) {
		fprintf(stderr, "coap_bench: vigild GET /status: code %d\n", code);
		return -1;
	}
	memset(fill, 'x', sizeof fill);
	code = one(fd[1], &tgts[1], COAP_PUT, fill, tgts[0].payload, NULL, 1000);
	if (COAP_CODE_CLASS(code) != 2 ||
	    one(fd[1], &tgts[1], COAP_GET, NULL, 0, &tgts[1].payload, 1000) !=
	    COAP_CODE_CONTENT || tgts[1].payload != tgts[0].payload) {
		fprintf(stderr, "coap_bench: libcoap PUT/GET /example_data "
			"failed (code %d)\n", code);
		return -1;
	}
	return 0;
}

/* Heap growth over BENCH_HEAP_REQS requests.  @retval VmData growth (KiB) */
static long heap(int fd, const struct target *t, struct procfig *a,
		 struct procfig *b, unsigned *lost)
{
	struct run r;

	read_proc(t->pid, a);
	if (load(fd, t, 0, BENCH_HEAP_REQS, &r) < 0)
		return -1;
	read_proc(t->pid, b);
	*lost = r.lost;
	return b->vmdata_kb - a->vmdata_kb;
}

/* brk/mmap/munmap/mremap calls of a traced vigild during
 * BENCH_HEAP_REQS requests (after 10000 of warm-up).
 * @retval the count / -1 not measured (no strace, or ptrace refused) */
static long traced_heap_calls(long *before)
{
	struct run r;
	int fd;

	if (access(STRACE, X_OK) != 0)
		return -1;
	strace_tgt.port = free_port();
	if (start_vigild(&strace_tgt, "b", true) < 0)
		return -1;
	fd = connect_to(strace_tgt.port);
	if (fd < 0 || wait_ready(fd, &strace_tgt) < 0 ||
	    load(fd, &strace_tgt, 0, 10000, &r) < 0 ||
	    (*before = traced_calls()) < 0 ||
	    load(fd, &strace_tgt, 0, BENCH_HEAP_REQS, &r) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return traced_calls() - *before;
}

static void report(void)
{
	const struct target *v = &tgts[0], *l = &tgts[1];
	double vr = median(v->rate), lr = median(l->rate);
	double vc = median(v->cpu_us), lc = median(l->cpu_us);
	unsigned vl = 0, ll = 0;

	printf("bench coap GET %s (vigild, %zu-byte Block2 block, %d in flight,"
	       " median of %d): %.0f req/s (reference %s GET %s %zu bytes "
	       "%.0f req/s, ratio %.2f)\n", v->path, v->payload, BENCH_WINDOW,
	       BENCH_RUNS, vr, l->name, l->path, l->payload, lr, vr / lr);
	printf("  each round's req/s ratio:");
	for (int k = 0; k < BENCH_RUNS; k++)
		printf(" %.2f", v->rate[k] / l->rate[k]);
	printf(" (the spread is the machine's load, see coap_bench.c)\n");
	printf("bench coap server CPU per request: %.2f us (reference %.2f us,"
	       " ratio %.2f; lower is better: the server comparison)\n",
	       vc, lc, lc > 0 ? vc / lc : 0);
	printf("  each round's CPU per request ratio:");
	for (int k = 0; k < BENCH_RUNS; k++)
		printf(" %.2f", l->cpu_us[k] > 0 ? v->cpu_us[k] / l->cpu_us[k]
						 : 0);
	printf("\n  per CPU-second: vigild %.0f req, libcoap %.0f req (ratio "
	       "%.2f)\n", vc > 0 ? 1e6 / vc : 0, lc > 0 ? 1e6 / lc : 0,
	       vc > 0 ? lc / vc : 0);
	printf("bench coap what bounds the rate: server busy %.0f %% of its "
	       "rounds (reference %.0f %%); load generator %.2f us per request "
	       "(in the reference's rounds %.2f us)%s\n",
	       100 * median(v->busy), 100 * median(l->busy),
	       median(v->gen_us), median(l->gen_us),
	       median(v->busy) < 0.9 ? ": vigild waits for requests, so its "
	       "req/s is the generator's and the machine's, not vigild's" : "");
	printf("bench coap p50 latency: %.0f us (reference %.0f us, ratio %.2f)"
	       "\n", median(v->p50), median(l->p50),
	       median(v->p50) / median(l->p50));
	printf("bench coap p99 latency: %.0f us (reference %.0f us, ratio %.2f)"
	       "\n", median(v->p99), median(l->p99),
	       median(v->p99) / median(l->p99));
	for (int k = 0; k < BENCH_RUNS; k++) {
		vl += v->lost[k];
		ll += l->lost[k];
	}
	printf("bench coap lost in %d rounds: %u (reference %u)\n", BENCH_RUNS,
	       vl, ll);
}

int main(void)
{
	int fd[2] = { -1, -1 }, rc = 1;
	struct procfig a[2], b[2];
	long grow[2], calls, start_calls = 0;
	unsigned lost[2];
	struct run r;

	signal(SIGALRM, on_alarm);
	alarm(BENCH_DEADLINE_S);
	pin_setup();
	if (prepare(fd) < 0)
		goto out;
	for (int i = 0; i < 2; i++)            /* warm-up */
		if (load(fd[i], &tgts[i], BENCH_MIN_NS / 2, 0, &r) < 0)
			goto out;
	for (int k = 0; k < BENCH_RUNS; k++) {
		for (int i = 0; i < 2; i++) {
			int64_t c0 = cpu_ns(tgts[i].pid), g0 = cpu_ns(0), c1, g1;

			if (load(fd[i], &tgts[i], BENCH_MIN_NS, 0, &r) < 0)
				goto out;
			c1 = cpu_ns(tgts[i].pid);
			g1 = cpu_ns(0);
			record(&tgts[i], k, &r, c0 < 0 || c1 < 0 ? -1 : c1 - c0,
			       g0 < 0 || g1 < 0 ? -1 : g1 - g0);
		}
	}
	report();
	for (int i = 0; i < 2; i++)
		if ((grow[i] = heap(fd[i], &tgts[i], &a[i], &b[i], &lost[i])) < -1000000)
			goto out;
	printf("bench coap vigild heap growth per request: %.3f bytes (VmData "
	       "%ld -> %ld KiB, VmRSS %ld -> %ld KiB, %.4f minor faults per "
	       "request, over %u requests) (reference libcoap %.3f bytes, "
	       "VmData %ld -> %ld KiB, %.4f minor faults per request)\n",
	       (double)grow[0] * 1024.0 / BENCH_HEAP_REQS, a[0].vmdata_kb,
	       b[0].vmdata_kb, a[0].vmrss_kb, b[0].vmrss_kb,
	       (double)(b[0].minflt - a[0].minflt) / BENCH_HEAP_REQS,
	       BENCH_HEAP_REQS, (double)grow[1] * 1024.0 / BENCH_HEAP_REQS,
	       a[1].vmdata_kb, b[1].vmdata_kb,
	       (double)(b[1].minflt - a[1].minflt) / BENCH_HEAP_REQS);
	rc = grow[0] != 0;
	if (rc)
		fprintf(stderr, "coap_bench: vigild's data segment grew by %ld "
			"KiB: it allocates per request\n", grow[0]);
	calls = traced_heap_calls(&start_calls);
	if (calls < 0)
		printf("bench coap vigild brk/mmap calls per request: not "
		       "measured (strace missing or ptrace refused)\n");
	else
		printf("bench coap vigild brk/mmap/munmap/mremap calls per "
		       "request: %.5f (%ld over %u requests; %ld before them, "
		       "start-up and 10000 warm-up requests included; strace)\n",
		       (double)calls / BENCH_HEAP_REQS, calls, BENCH_HEAP_REQS,
		       start_calls);
	if (calls > 0) {
		fprintf(stderr, "coap_bench: vigild called the allocator's "
			"system calls while serving\n");
		rc = 1;
	}
out:
	fflush(stdout);
	stop_all();
	return rc;
}

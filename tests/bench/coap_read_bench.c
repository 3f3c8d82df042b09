/*
 * coap_read_bench.c — one read of vigild's /status by libcoap's
 * coap-client-notls over a simulated 50 ms round trip, next to libcoap's
 * coap-server-notls serving a document of the same size (make bench).
 *
 * A delaying UDP proxy of our own sits between client and server: every
 * datagram is held BENCH_ONE_WAY_MS in each direction and counted.  An
 * "exchange" is one datagram from the client (a request, or the RST that
 * answers vigild's address-verification ping) and the one it draws.
 *
 * Servers (free loopback ports, killed at the end; an alarm bounds the
 * program to BENCH_DEADLINE_S):
 *   vigild, coap.amplification = echo (the default): a cold read (a new
 *     client address: ping, RST, then 1024-byte blocks) and a warm one
 *     (the same address, verified for 5 minutes);
 *   vigild, coap.amplification = limit: the 3x rule alone (64-byte blocks
 *     at least), what a client without verification gets;
 *   libcoap, GET /example_data after a PUT of vigild's document.
 * The proxy keeps one upstream socket per server, so the warm read comes
 * from the address the cold one verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define BENCH_ONE_WAY_MS 25             /* 50 ms round trip */
#define BENCH_DEADLINE_S 120
#define BENCH_QUEUE 64                  /* datagrams in flight */
#define CLIENT "/usr/bin/coap-client-notls"

struct srv {
	const char *name, *path;
	uint16_t port;
	pid_t pid;
	int up;                         /* the proxy's upstream socket */
};

struct held {
	uint64_t due_ms;
	int to_server;
	size_t len;
	uint8_t buf[1500];
};

struct count {
	unsigned c2s, s2c;
	size_t bytes_in, bytes_out;
	double ms;
	long size;
};

static char tmpdir[] = "/tmp/coap_read_bench.XXXXXX";
static struct srv srvs[3] = {
	{ .name = "vigild", .path = "/status", .pid = -1, .up = -1 },
	{ .name = "vigild (limit)", .path = "/status", .pid = -1, .up = -1 },
	{ .name = "libcoap coap-server", .path = "/example_data", .pid = -1,
	  .up = -1 },
};
static struct held q[BENCH_QUEUE];

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void kill_all(void)
{
	for (int i = 0; i < 3; i++)
		if (srvs[i].pid > 0) {
			kill(srvs[i].pid, SIGKILL);
			waitpid(srvs[i].pid, NULL, 0);
			srvs[i].pid = -1;
		}
}

static void on_alarm(int sig)
{
	(void)sig; /* the only alarm: the deadline */
	kill_all();
	_exit(1);
}

static int udp_socket(uint16_t port, struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	return fd;
}

static uint16_t free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = udp_socket(0, &a);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
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

static int start_vigild(struct srv *s, const char *name, const char *amp)
{
	const char *dir = getenv("VIGIL_BIN_DIR");
	char exe[512], conf[600], log[600];
	FILE *f;

	snprintf(exe, sizeof exe, "%s/vigild", dir && *dir ? dir : "build/host/bin");
	snprintf(conf, sizeof conf, "%s/%s.conf", tmpdir, name);
	snprintf(log, sizeof log, "%s/%s.log", tmpdir, name);
	if (!(f = fopen(conf, "w")))
		return -1;
	fprintf(f, "data.dir = %s/data-%s\nwatchdog.device = none\n"
		"console.device = none\nlog.syslog = false\nlog.level = warn\n"
		"coap.listen = 127.0.0.1:%u\ncoap.amplification = %s\n",
		tmpdir, name, (unsigned)s->port, amp);
	fclose(f);
	s->pid = spawn((char *const[]){ exe, "--config", conf, NULL }, log);
	return s->pid > 0 ? 0 : -1;
}

/* Runs coap-client-notls with args to completion (or 20 s).
 * @retval its exit status, -1 not run */
static int client(char *const argv[])
{
	char log[600];
	pid_t p;
	int st;

	snprintf(log, sizeof log, "%s/client.log", tmpdir);
	if ((p = spawn(argv, log)) < 0)
		return -1;
	for (int i = 0; i < 2000; i++) {
		if (waitpid(p, &st, WNOHANG) == p)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	return -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* GET url into out (directly, no proxy) until it answers (5 s). */
static long fetch(const char *url, const char *out)
{
	for (int i = 0; i < 25; i++) {
		unlink(out);
		if (client((char *const[]){ CLIENT, "-m", "get", "-B", "1",
			   "-o", (char *)out, (char *)url, NULL }) == 0 &&
		    file_size(out) > 0)
			return file_size(out);
	}
	return -1;
}

static void enqueue(int to_server, const uint8_t *buf, size_t len)
{
	for (int i = 0; i < BENCH_QUEUE; i++)
		if (!q[i].len) {
			q[i].due_ms = now_ms() + BENCH_ONE_WAY_MS;
			q[i].to_server = to_server;
			q[i].len = len;
			memcpy(q[i].buf, buf, len);
			return;
		}
}

/* Sends what is due; @retval ms until the next is, at most 5. */
static int flush_due(int lfd, int up, const struct sockaddr_in *cli,
		     struct count *c)
{
	uint64_t t = now_ms();
	int wait = 5;

	for (int i = 0; i < BENCH_QUEUE; i++) {
		if (!q[i].len)
			continue;
		if (q[i].due_ms > t) {
			if ((int)(q[i].due_ms - t) < wait)
				wait = (int)(q[i].due_ms - t);
			continue;
		}
		if (q[i].to_server)
			(void)send(up, q[i].buf, q[i].len, 0);
		else
			(void)sendto(lfd, q[i].buf, q[i].len, 0,
				     (const struct sockaddr *)cli, sizeof *cli);
		c->c2s += q[i].to_server ? 1u : 0u;
		c->s2c += q[i].to_server ? 0u : 1u;
		q[i].len = 0;
	}
	return wait;
}

/* The proxy's loop while the client runs. */
static int relay(int lfd, int up, pid_t p, struct count *c)
{
	struct sockaddr_in cli;
	uint8_t buf[1500];
	int st = -1;
	uint64_t end = now_ms() + 20000;

	memset(&cli, 0, sizeof cli);
	while (now_ms() < end) {
		struct pollfd pf[2] = { { lfd, POLLIN, 0 }, { up, POLLIN, 0 } };
		int wait = flush_due(lfd, up, &cli, c);
		socklen_t al = sizeof cli;
		ssize_t n;

		if (waitpid(p, &st, WNOHANG) == p)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (poll(pf, 2, wait) <= 0)
			continue;
		if (pf[0].revents & POLLIN &&
		    (n = recvfrom(lfd, buf, sizeof buf, 0,
				  (struct sockaddr *)&cli, &al)) > 0) {
			c->bytes_in += (size_t)n;
			enqueue(1, buf, (size_t)n);
		}
		if (pf[1].revents & POLLIN &&
		    (n = recv(up, buf, sizeof buf, 0)) > 0) {
			c->bytes_out += (size_t)n;
			enqueue(0, buf, (size_t)n);
		}
	}
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	return -1;
}

/* One read of s's document through the proxy.  @retval 0 / -1 */
static int read_once(struct srv *s, struct count *c)
{
	struct sockaddr_in a;
	char url[128], out[600], log[600];
	uint16_t lport = free_port();
	int lfd = udp_socket(lport, &a), ret = -1;
	uint64_t t0;
	pid_t p;

	memset(c, 0, sizeof *c);
	memset(q, 0, sizeof q);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0)
		goto done;
	snprintf(url, sizeof url, "coap://127.0.0.1:%u%s", (unsigned)lport,
		 s->path);
	snprintf(out, sizeof out, "%s/read.out", tmpdir);
	snprintf(log, sizeof log, "%s/client.log", tmpdir);
	unlink(out);
	t0 = now_ms();
	p = spawn((char *const[]){ CLIENT, "-m", "get", "-B", "10", "-o", out,
				   url, NULL }, log);
	if (p > 0 && relay(lfd, s->up, p, c) == 0) {
		c->ms = (double)(now_ms() - t0);
		c->size = file_size(out);
		ret = c->size > 0 ? 0 : -1;
	}
done:
	if (lfd >= 0)
		close(lfd);
	return ret;
}

static int connect_up(struct srv *s)
{
	struct sockaddr_in a;

	s->up = udp_socket(s->port, &a);
	return s->up >= 0 && connect(s->up, (struct sockaddr *)&a,
				     sizeof a) == 0 ? 0 : -1;
}

/* Servers up, libcoap holding a copy of vigild's document.
 * @retval the document's size / -1 */
static long prepare(void)
{
	char url[128], doc[600], put[128];
	long size;

	if (!mkdtemp(tmpdir))
		return -1;
	for (int i = 0; i < 3; i++)
		srvs[i].port = free_port();
	if (start_vigild(&srvs[0], "echo", "echo") < 0 ||
	    start_vigild(&srvs[1], "limit", "limit") < 0)
		return -1;
	snprintf(put, sizeof put, "%u", (unsigned)srvs[2].port);
	srvs[2].pid = spawn((char *const[]){ "/usr/bin/coap-server-notls",
		"-A", "127.0.0.1", "-p", put, NULL }, "/dev/null");
	snprintf(url, sizeof url, "coap://127.0.0.1:%u/status",
		 (unsigned)srvs[0].port);
	snprintf(doc, sizeof doc, "%s/status.cbor", tmpdir);
	if (srvs[2].pid < 0 || (size = fetch(url, doc)) < 0)
		return -1;
	snprintf(put, sizeof put, "coap://127.0.0.1:%u/example_data",
		 (unsigned)srvs[2].port);
	if (client((char *const[]){ CLIENT, "-m", "put", "-B", "5", "-f", doc,
				    put, NULL }) != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (connect_up(&srvs[i]) < 0)
			return -1;
	return size;
}

static void show(const char *what, const struct srv *s, const struct count *c,
		 const struct count *ref)
{
	printf("bench coap read %s %s (%ld bytes, %d ms RTT): %u exchanges "
	       "(%u datagrams back, %zu bytes in, %zu out), %.0f ms (reference "
	       "libcoap coap-server %u exchanges, %.0f ms; ratio %.2f)\n",
	       s->name, what, c->size, 2 * BENCH_ONE_WAY_MS, c->c2s, c->s2c,
	       c->bytes_in, c->bytes_out, c->ms, ref->c2s, ref->ms,
	       c->ms / ref->ms);
}

int main(void)
{
	struct count cold, warm, lim, ref;
	long size;
	int rc = 1;

	signal(SIGALRM, on_alarm);
	alarm(BENCH_DEADLINE_S);
	if ((size = prepare()) < 0) {
		fprintf(stderr, "coap_read_bench: servers not ready (%s)\n",
			tmpdir);
		goto out;
	}
	if (read_once(&srvs[2], &ref) < 0 || read_once(&srvs[0], &cold) < 0 ||
	    read_once(&srvs[0], &warm) < 0 || read_once(&srvs[1], &lim) < 0) {
		fprintf(stderr, "coap_read_bench: a read failed\n");
		goto out;
	}
	show("/status, new address", &srvs[0], &cold, &ref);
	show("/status, verified address", &srvs[0], &warm, &ref);
	show("/status, coap.amplification = limit", &srvs[1], &lim, &ref);
	rc = cold.size != size || ref.size != size || cold.c2s > 3;
	if (rc)
		fprintf(stderr, "coap_read_bench: sizes %ld/%ld of %ld, or more "
			"than 3 exchanges\n", cold.size, ref.size, size);
out:
	fflush(stdout);
	kill_all();
	if (fork() == 0)
		execl("/bin/rm", "rm", "-rf", tmpdir, (char *)NULL);
	wait(NULL);
	return rc;
}

/*
 * vigilctl_exporter.c — `vigilctl exporter --devices FILE --listen
 * HOST:PORT [--psk-file F] [--down-after SEC] [--ack-timeout SEC]`: the
 * command line, the devices list and the one poll(2) loop (see
 * vigilctl_exporter.h for the pieces, docs/fleet.md for the manual).
 *
 * Loop: poll every device socket and libmicrohttpd's epoll descriptor,
 * with the earliest device timer as the timeout; read what arrived, run
 * the timers that are due, and look at the devices file once a second
 * (stat: a change of inode, size or mtime re-reads it; writers should
 * replace it atomically, as for Prometheus's own file_sd).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "vigilctl.h"
#include "vigilctl_coap.h"
#include "vigilctl_exporter.h"
#include "vigilctl_status.h"

#define SD_CHECK_MS 1000u
#define PSK_ENTRIES_MAX 10000u
#define DOWN_AFTER_MS_DEFAULT 90000u

struct opts {
	const char *devices, *listen, *psk_file;
	unsigned down_after_ms, ack_timeout_ms;
};

struct sd_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool valid;
};

static volatile sig_atomic_t stop_flag, reload_flag;
static struct exp_state state;
static struct exp_psk *psks;
static size_t npsks;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static void print_help(void)
{
	fputs("Usage: vigilctl exporter --devices FILE --listen HOST:PORT "
	      "[OPTION]...\n"
	      "Observe /status of every device in FILE over CoAP and serve "
	      "Prometheus\nmetrics at http://HOST:PORT/metrics "
	      "(docs/fleet.md).\n\n"
	      "  --devices FILE     Prometheus file_sd JSON: [{\"targets\": "
	      "[\"host:port\",\n"
	      "                     ...], \"labels\": {...}}]; coaps://host:"
	      "port for DTLS;\n"
	      "                     re-read when it changes (or on SIGHUP)\n"
	      "  --listen HOST:PORT address of the HTTP server "
	      "(127.0.0.1:9808, [::]:9808)\n"
	      "  --psk-file F       DTLS keys: lines \"TARGET IDENTITY:HEXKEY\""
	      " (TARGET * for all)\n"
	      "  --down-after SEC   a device silent this long is down "
	      "(default 90); after\n"
	      "                     SEC/3 of silence it is pinged\n"
	      "  --ack-timeout SEC  RFC 7252 ACK_TIMEOUT (default 2)\n"
	      "  -h, --help         print this help\n"
	      "\nExit status: 0 stopped by SIGINT/SIGTERM; 1 failure; 2 usage"
	      " error.\n", stdout);
}

static int parse_seconds(const char *s, unsigned *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0.05 && v <= 86400.0))
		return -EINVAL;
	*ms = (unsigned)(v * 1000.0 + 0.5);
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help();
			return VIGILCTL_OK;
		}
		if (!v)
			return vigilctl_usage_error("exporter", "%s: %s", a,
						    a[0] == '-' ? "needs a value"
						    : "unexpected argument");
		i++;
		if (!strcmp(a, "--devices"))
			o->devices = v;
		else if (!strcmp(a, "--listen"))
			o->listen = v;
		else if (!strcmp(a, "--psk-file"))
			o->psk_file = v;
		else if (!strcmp(a, "--down-after") &&
			 !parse_seconds(v, &o->down_after_ms))
			continue;
		else if (!strcmp(a, "--ack-timeout") &&
			 !parse_seconds(v, &o->ack_timeout_ms))
			continue;
		else
			return vigilctl_usage_error("exporter", "bad option or "
						    "value: %s %s", a, v);
	}
	if (!o->devices || !o->listen)
		return vigilctl_usage_error("exporter", "--devices and --listen"
					    " are required");
	return -1;
}

static const struct exp_psk *psk_for(const char *target)
{
	const struct exp_psk *any = NULL;

	for (size_t i = 0; i < npsks; i++) {
		if (!strcmp(psks[i].target, target))
			return &psks[i];
		if (!strcmp(psks[i].target, "*"))
			any = &psks[i];
	}
	return any;
}

static int load_psks(const char *path)
{
	char err[160], *buf;
	size_t len;
	int r = exp_read_file(path, EXP_PSK_FILE_MAX, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "vigilctl: exporter: %s: %s\n", path,
			strerror(-r));
		return r;
	}
	psks = calloc(PSK_ENTRIES_MAX, sizeof *psks);
	r = psks ? exp_psk_parse(buf, len, psks, PSK_ENTRIES_MAX, err,
				 sizeof err) : -ENOMEM;
	free(buf);
	if (r < 0) {
		fprintf(stderr, "vigilctl: exporter: %s: %s\n", path,
			r == -EBADMSG ? err : strerror(-r));
		return r;
	}
	npsks = (size_t)r;
	return 0;
}

static struct exp_dev *find_dev(const char *target)
{
	for (size_t i = 0; i < state.ndevs; i++)
		if (!strcmp(state.devs[i]->t.target, target))
			return state.devs[i];
	return NULL;
}

/* The device for target t: the running one, or a new one. */
static struct exp_dev *take_dev(const struct exp_target *t, uint64_t now)
{
	struct exp_dev *d = find_dev(t->target);
	const char *why = "";

	if (d) {
		memcpy(d->t.labels, t->labels, sizeof t->labels);
		d->present = true;
		return d;
	}
	d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->t = *t;
	d->present = true;
	d->next_ms = now;
	if (exp_dev_open(d, psk_for(t->target), now, &why) < 0) {
		fprintf(stderr, "vigilctl: exporter: %s: %s (stays down until "
			"the devices file changes)\n", t->target, why);
		state.stats.errors[E_SOCKET]++;
		exp_dev_close(d);
		d->next_ms = UINT64_MAX;
	} else {
		d->open = true;
	}
	return d;
}

/* Applies a parsed list: keeps running devices, opens new ones, closes
 * the ones no longer listed. */
static int apply(const struct exp_target *t, size_t n, uint64_t now)
{
	struct exp_dev **devs = calloc(n ? n : 1, sizeof *devs);

	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < state.ndevs; i++)
		state.devs[i]->present = false;
	for (size_t i = 0; i < n; i++) {
		devs[i] = take_dev(&t[i], now);
		if (!devs[i]) {
			for (size_t j = 0; j < i; j++) /* undo the new ones */
				if (!find_dev(devs[j]->t.target)) {
					exp_dev_close(devs[j]);
					free(devs[j]);
				}
			free(devs);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < state.ndevs; i++)
		if (!state.devs[i]->present) {
			exp_dev_close(state.devs[i]);
			free(state.devs[i]);
		}
	free(state.devs);
	state.devs = devs;
	state.ndevs = n;
	return 0;
}

static int load_devices(const char *path, uint64_t now)
{
	static struct exp_target *targets; /* EXP_DEVICES_MAX entries */
	char err[200], *buf;
	size_t len;
	int r;

	state.sd_reloads++;
	if (!targets)
		targets = calloc(EXP_DEVICES_MAX, sizeof *targets);
	r = targets ? exp_read_file(path, EXP_SD_FILE_MAX, &buf, &len) :
	    -ENOMEM;
	if (r == 0) {
		r = exp_sd_parse(buf, len, targets, EXP_DEVICES_MAX, err,
				 sizeof err);
		free(buf);
	} else {
		snprintf(err, sizeof err, "%s", strerror(-r));
	}
	if (r >= 0)
		r = apply(targets, (size_t)r, now);
	state.sd_ok = r >= 0;
	if (r < 0) {
		state.sd_errors++;
		fprintf(stderr, "vigilctl: exporter: %s: %s (the device list "
			"stays as it was)\n", path, r == -ENOMEM ?
			"out of memory" : err);
		return r;
	}
	fprintf(stderr, "vigilctl: exporter: %s: %zu devices\n", path,
		state.ndevs);
	return 0;
}

/* Whether the file changed since *st (and records it). */
static bool sd_changed(const char *path, struct sd_stamp *st)
{
	struct stat sb;
	struct sd_stamp now = { 0 };

	if (stat(path, &sb) == 0)
		now = (struct sd_stamp){ .dev = sb.st_dev, .ino = sb.st_ino,
					 .size = sb.st_size,
					 .mtime = sb.st_mtim, .valid = true };
	if (now.valid == st->valid && now.dev == st->dev &&
	    now.ino == st->ino && now.size == st->size &&
	    now.mtime.tv_sec == st->mtime.tv_sec &&
	    now.mtime.tv_nsec == st->mtime.tv_nsec)
		return false;
	*st = now;
	return true;
}

/* Logs a device that went up or down. */
static void log_change(struct exp_dev *d, uint64_t now)
{
	bool up = exp_dev_up(d, &state.conf, now);

	if (up == d->was_up)
		return;
	d->was_up = up;
	fprintf(stderr, "vigilctl: exporter: %s %s%s%s\n", d->t.target,
		up ? "up" : "down", !up && d->last_error ? ": " : "",
		!up && d->last_error ? d->last_error : "");
}

/* Timers of all devices; returns the earliest next one. */
static uint64_t run_timers(uint64_t now)
{
	uint64_t next = now + 60000u;

	for (size_t i = 0; i < state.ndevs; i++) {
		struct exp_dev *d = state.devs[i];

		if (d->open && now >= d->next_ms)
			d->next_ms = exp_dev_tick(d, &state.conf, &state.stats,
						  now);
		if (d->open && d->next_ms < next)
			next = d->next_ms;
		/* down is also a matter of time: look again then */
		if (d->was_up && d->heard_ms + state.conf.down_after_ms < next)
			next = d->heard_ms + state.conf.down_after_ms;
		log_change(d, now);
	}
	return next;
}

static int loop(const struct opts *o, struct MHD_Daemon *h)
{
	struct pollfd *p = NULL;
	size_t pcap = 0;
	struct sd_stamp stamp = { 0 };
	uint64_t next_sd = 0;

	(void)sd_changed(o->devices, &stamp);
	while (!stop_flag) {
		uint64_t now = vcoap_now_ms(), next = run_timers(now);
		int ht = exp_http_timeout(h), wait, n;

		if (reload_flag || now >= next_sd) {
			if (reload_flag || sd_changed(o->devices, &stamp))
				(void)load_devices(o->devices, now);
			reload_flag = 0;
			next_sd = now + SD_CHECK_MS;
			continue;
		}
		if (pcap < state.ndevs + 1) {
			free(p);
			pcap = state.ndevs + 1;
			p = calloc(pcap, sizeof *p);
			if (!p)
				return VIGILCTL_FAIL;
		}
		p[0] = (struct pollfd){ .fd = exp_http_fd(h), .events = POLLIN };
		for (size_t i = 0; i < state.ndevs; i++)
			p[i + 1] = (struct pollfd){ .fd = state.devs[i]->fd,
						    .events = POLLIN };
		next = next < next_sd ? next : next_sd;
		wait = next > now ? (int)(next - now) : 0;
		if (ht >= 0 && ht < wait)
			wait = ht;
		n = poll(p, state.ndevs + 1, wait);
		if (n < 0 && errno != EINTR)
			return VIGILCTL_FAIL;
		now = vcoap_now_ms();
		for (size_t i = 0; n > 0 && i < state.ndevs; i++)
			if (p[i + 1].revents) {
				exp_dev_input(state.devs[i], &state.conf,
					      &state.stats, now);
				state.devs[i]->next_ms = now;
			}
		exp_http_run(h);
	}
	free(p);
	return VIGILCTL_OK;
}

/* One descriptor per device: lift the soft limit to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void shutdown_all(void)
{
	for (size_t i = 0; i < state.ndevs; i++) {
		exp_dev_close(state.devs[i]);
		free(state.devs[i]);
	}
	free(state.devs);
	free(psks);
}

/* see vigilctl.h */
int vigilctl_exporter(int argc, char **argv)
{
	struct opts o = { .down_after_ms = DOWN_AFTER_MS_DEFAULT,
			  .ack_timeout_ms = VCOAP_ACK_TIMEOUT_MS_DEFAULT };
	const char *why = "";
	struct MHD_Daemon *h;
	int r = parse_args(&o, argc, argv);

	if (r >= 0)
		return r;
	state.conf.down_after_ms = o.down_after_ms;
	state.conf.ack_timeout_ms = o.ack_timeout_ms;
	raise_fd_limit();
	set_signals();
	if ((o.psk_file && load_psks(o.psk_file) < 0) || exp_dtls_init() < 0 ||
	    load_devices(o.devices, vcoap_now_ms()) < 0) {
		shutdown_all();
		return VIGILCTL_FAIL;
	}
	h = exp_http_start(o.listen, &state, &why);
	if (!h) {
		fprintf(stderr, "vigilctl: exporter: %s: %s\n", o.listen, why);
		shutdown_all();
		return VIGILCTL_FAIL;
	}
	fprintf(stderr, "vigilctl: exporter: serving http://%s/metrics\n",
		o.listen);
	r = loop(&o, h);
	exp_http_stop(h);
	shutdown_all();
	return r;
}

/*
 * vigilctl_exporter_http.c — the exporter's HTTP side: libmicrohttpd
 * serves GET /metrics in the Prometheus text format (version 0.0.4),
 * rendered from the devices' last documents at each scrape.
 *
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL, driven
 * by the exporter's poll loop through its epoll descriptor); at most
 * HTTP_CONNECTIONS_MAX connections, each closed after HTTP_TIMEOUT_S idle
 * seconds.  A scrape's text is built in one malloc'd buffer that
 * libmicrohttpd frees after sending (~6 KiB per device).
 *
 * Naming (Prometheus conventions): units in names (_seconds, _bytes,
 * _celsius), _total for counters, words as label values with the value 1
 * (vigil_health_state{state="degraded"} 1: only the current word, so a
 * change ends the old series).  A device that is down has vigil_up 0 and
 * nothing else: its last document would be stale.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "vigilctl_coap.h"
#include "vigilctl_exporter.h"

#define HTTP_CONNECTIONS_MAX 16
#define HTTP_TIMEOUT_S 30

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (o->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap * 2 + (size_t)n;
		char *p = realloc(o->p, cap);

		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
}

/* A sample value: integers exactly, others with 15 digits. */
static void put_value(struct out *o, double v)
{
	if (isnan(v))
		put(o, "NaN\n");
	else if (v == floor(v) && fabs(v) < 9e15)
		put(o, "%.0f\n", v);
	else
		put(o, "%.15g\n", v);
}

static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The labels of device d: instance="target" and the file's labels. */
static void dev_labels(const struct exp_dev *d, char *buf, size_t cap)
{
	char inst[EXP_TARGET_MAX * 2];

	if (exp_label_escape(d->t.target, inst, sizeof inst) < 0)
		inst[0] = '\0';
	snprintf(buf, cap, "instance=\"%s\"%s%s", inst, d->t.labels[0] ? "," :
		 "", d->t.labels);
}

struct ctx {
	const struct exp_state *x;
	uint64_t now;
	double wall;
	struct out *o;
};

typedef void (*per_dev_fn)(struct ctx *c, const struct exp_dev *d,
			   const char *lbl, const void *arg);

/* Calls fn for every device that is up. */
static void each_up(struct ctx *c, per_dev_fn fn, const void *arg)
{
	char lbl[EXP_LABELS_MAX + EXP_TARGET_MAX * 2 + 16];

	for (size_t i = 0; i < c->x->ndevs; i++) {
		const struct exp_dev *d = c->x->devs[i];

		if (!exp_dev_up(d, &c->x->conf, c->now))
			continue;
		dev_labels(d, lbl, sizeof lbl);
		fn(c, d, lbl, arg);
	}
}

/* Plain numbers of the document. */
static const struct num_family {
	const char *name, *type, *help;
	enum exp_num n;
} num_families[] = {
	{ "vigil_boots_total", "counter", "Starts of vigild on this data.dir "
	  "(boot.count).", N_BOOT_COUNT },
	{ "vigil_boot_watchdog_streak", "gauge", "Consecutive watchdog "
	  "resets.", N_BOOT_WDT_STREAK },
	{ "vigil_boot_reset_timestamp_seconds", "gauge", "When the last "
	  "run's end was recorded (epoch seconds).", N_BOOT_RESET_TIME },
	{ "vigil_safe_mode", "gauge", "1 while vigild runs in safe mode.",
	  N_SAFE_MODE },
	{ "vigil_watchdog_kicks_total", "counter", "Watchdog kicks.",
	  N_WDT_KICKS },
	{ "vigil_watchdog_kick_errors_total", "counter", "Watchdog kicks "
	  "that failed.", N_WDT_KICK_ERRORS },
	{ "vigil_watchdog_gated", "gauge", "1 while kicks are withheld "
	  "(a required check is unhealthy past health.grace).", N_WDT_GATED },
	{ "vigil_watchdog_stopped", "gauge", "1 when kicks stopped for "
	  "good (a reset is coming).", N_WDT_STOPPED },
	{ "vigil_watchdog_open", "gauge", "1 when the watchdog device is "
	  "open.", N_WDT_OPEN },
	{ "vigil_watchdog_timeout_seconds", "gauge", "Watchdog timeout.",
	  N_WDT_TIMEOUT },
	{ "vigil_watchdog_last_kick_timestamp_seconds", "gauge", "Last kick "
	  "(epoch seconds).", N_WDT_LAST_KICK },
	{ "vigil_backup_configured", "gauge", "1 when a backup server is "
	  "configured.", N_BACKUP_CONFIGURED },
	{ "vigil_backup_reconnects_total", "counter", "Reconnections of "
	  "the backup link.", N_BACKUP_RECONNECTS },
	{ "vigil_backup_last_success_timestamp_seconds", "gauge", "End of "
	  "the last successful backup job (epoch seconds).",
	  N_BACKUP_LAST_SUCCESS },
	{ "vigil_backup_last_error_timestamp_seconds", "gauge", "Time of the "
	  "last backup error (epoch seconds).", N_BACKUP_LAST_ERROR_TIME },
	{ "vigil_backup_link_change_timestamp_seconds", "gauge", "Last "
	  "change of the backup link (epoch seconds).", N_BACKUP_SINCE },
	{ "vigil_connections", "gauge", "Open CyberBackup v3 connections.",
	  N_CONNS },
	{ "vigil_connection_errors", "gauge", "Errors on the open v3 "
	  "connections (sum).", N_CONN_ERRORS },
	{ "vigil_load1", "gauge", "1-minute load average.", N_LOAD1 },
	{ "vigil_load5", "gauge", "5-minute load average.", N_LOAD5 },
	{ "vigil_load15", "gauge", "15-minute load average.", N_LOAD15 },
	{ "vigil_memory_total_bytes", "gauge", "Memory of the board.",
	  N_MEM_TOTAL },
	{ "vigil_memory_available_bytes", "gauge", "MemAvailable.",
	  N_MEM_AVAILABLE },
	{ "vigil_temperature_celsius", "gauge", "Board temperature.",
	  N_TEMPERATURE },
	{ "vigil_storage_free_bytes", "gauge", "Free bytes in data.dir's "
	  "filesystem.", N_STORAGE_FREE },
	{ "vigil_storage_size_bytes", "gauge", "Size of data.dir's "
	  "filesystem.", N_STORAGE_TOTAL },
	{ "vigil_processes", "gauge", "Processes on the board.", N_PROCS },
	{ "vigil_coap_requests_total", "counter", "CoAP requests served.",
	  N_COAP_REQUESTS },
	{ "vigil_coap_rejected_total", "counter", "CoAP datagrams refused "
	  "or dropped.", N_COAP_REJECTED },
	{ "vigil_coap_observers", "gauge", "CoAP observers registered.",
	  N_COAP_OBSERVERS },
	{ "vigil_status_timestamp_seconds", "gauge", "When the device took "
	  "its last document (epoch seconds, device clock).", N_TIME },
};

static void num_one(struct ctx *c, const struct exp_dev *d, const char *lbl,
		    const void *arg)
{
	const struct num_family *f = arg;
	double v = d->st.num[f->n];

	if (isnan(v))
		return; /* null in the document: no sample */
	put(c->o, "%s{%s} ", f->name, lbl);
	put_value(c->o, v);
}

static void up_one(struct ctx *c, const struct exp_dev *d, const char *lbl)
{
	put(c->o, "vigil_up{%s} %d\n", lbl, exp_dev_up(d, &c->x->conf, c->now));
}

static void info_one(struct ctx *c, const struct exp_dev *d, const char *lbl,
		     const void *arg)
{
	char id[EXP_INFO_MAX * 2], board[EXP_INFO_MAX * 2];
	char arch[EXP_INFO_MAX * 2], ver[EXP_INFO_MAX * 2];
	char build[EXP_INFO_MAX * 2];

	(void)arg;
	(void)exp_label_escape(d->st.id, id, sizeof id);
	(void)exp_label_escape(d->st.board, board, sizeof board);
	(void)exp_label_escape(d->st.arch, arch, sizeof arch);
	(void)exp_label_escape(d->st.version, ver, sizeof ver);
	(void)exp_label_escape(d->st.build, build, sizeof build);
	put(c->o, "vigil_device_info{%s,id=\"%s\",board=\"%s\",arch=\"%s\","
	    "version=\"%s\",build=\"%s\"} 1\n", lbl, id, board, arch, ver,
	    build);
}

/* Words of the document: one series, the current word as a label. */
static const struct word_family {
	const char *name, *key, *help;
	size_t off;
} word_families[] = {
	{ "vigil_health_state", "state", "Overall health (1 for the current "
	  "state: starting, healthy, degraded, unhealthy).",
	  offsetof(struct exp_status, overall) },
	{ "vigil_boot_last_reset", "reason", "Why the board last reset (1 "
	  "for the reason: power_on, watchdog, requested, crash, unknown).",
	  offsetof(struct exp_status, last_reset) },
	{ "vigil_backup_state", "state", "Backup state (1 for the current "
	  "one: busy, connected, standby, offline).",
	  offsetof(struct exp_status, backup_state) },
	{ "vigil_backup_link_state", "link", "Backup link (1 for the current "
	  "one: off, down, connecting, up).",
	  offsetof(struct exp_status, backup_link) },
};

static void word_one(struct ctx *c, const struct exp_dev *d, const char *lbl,
		     const void *arg)
{
	const struct word_family *f = arg;
	const char *w = (const char *)&d->st + f->off;
	char esc[EXP_NAME_MAX * 2];

	if (!*w || exp_label_escape(w, esc, sizeof esc) < 0)
		return;
	put(c->o, "%s{%s,%s=\"%s\"} 1\n", f->name, lbl, f->key, esc);
}

static void checks_one(struct ctx *c, const struct exp_dev *d,
		       const char *lbl, const void *arg)
{
	const char *what = arg;

	for (unsigned i = 0; i < d->st.nchecks; i++) {
		const struct exp_check *k = &d->st.checks[i];
		char name[EXP_NAME_MAX * 2], st[EXP_NAME_MAX * 2];
		char kind[EXP_NAME_MAX * 2];

		(void)exp_label_escape(k->name, name, sizeof name);
		(void)exp_label_escape(k->state, st, sizeof st);
		(void)exp_label_escape(k->kind, kind, sizeof kind);
		if (!strcmp(what, "state")) {
			put(c->o, "vigil_health_check_state{%s,check=\"%s\","
			    "kind=\"%s\",state=\"%s\"} 1\n", lbl, name, kind, st);
		} else if (!isnan(what[0] == 'r' ? k->runs : k->fails)) {
			put(c->o, "vigil_health_check_%s_total{%s,check=\"%s\"} ",
			    what[0] == 'r' ? "runs" : "failures", lbl, name);
			put_value(c->o, what[0] == 'r' ? k->runs : k->fails);
		}
	}
}

/* The newest job in state "done", or NULL. */
static const struct exp_job *last_done(const struct exp_status *st)
{
	for (int i = 0; i < EXP_JOBS_MAX; i++)
		if (st->jobs[i].used && !strcmp(st->jobs[i].state, "done"))
			return &st->jobs[i];
	return NULL;
}

static void jobs_one(struct ctx *c, const struct exp_dev *d, const char *lbl,
		     const void *arg)
{
	static const char *const states[] = { "queued", "running", "done",
					      "failed", "cancelled" };
	const struct exp_job *j = last_done(&d->st);
	const char *what = arg;

	if (!strcmp(what, "recent")) {
		for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
			int n = 0;

			for (int i = 0; i < EXP_JOBS_MAX; i++)
				n += d->st.jobs[i].used &&
				     !strcmp(d->st.jobs[i].state, states[s]);
			put(c->o, "vigil_backup_recent_jobs{%s,state=\"%s\"} "
			    "%d\n", lbl, states[s], n);
		}
	} else if (j) {
		put(c->o, "vigil_backup_last_job_%s{%s} ", what, lbl);
		put_value(c->o, !strcmp(what, "bytes") ? j->bytes_done :
			  j->files_failed);
	}
}

/* Uptimes advance with the exporter's clock between documents (vigild
 * notifies on change, not every second). */
static void uptime_one(struct ctx *c, const struct exp_dev *d,
		       const char *lbl, const void *arg)
{
	const char *what = arg;
	double age = (double)(c->now - d->status_ms) / 1000.0;
	double v = d->st.num[what[0] == 'a' ? N_UPTIME_AGENT : N_UPTIME_SYSTEM];

	if (isnan(v))
		return;
	put(c->o, "vigil_%s_uptime_seconds{%s} ", what, lbl);
	put_value(c->o, floor(v + age));
}

/* Start time from the document's own clock: constant between
 * documents, so alerts can compare it with time(). */
static void start_one(struct ctx *c, const struct exp_dev *d,
		      const char *lbl, const void *arg)
{
	double t = d->st.num[N_TIME], v = d->st.num[N_UPTIME_AGENT];

	(void)arg;
	if (isnan(t) || isnan(v))
		return;
	put(c->o, "vigil_agent_start_time_seconds{%s} ", lbl);
	put_value(c->o, t - v);
}

static void age_one(struct ctx *c, const struct exp_dev *d, const char *lbl,
		    const void *arg)
{
	(void)arg;
	put(c->o, "vigil_status_age_seconds{%s} ", lbl);
	put_value(c->o, (double)(c->now - d->status_ms) / 1000.0);
}

static void device_families(struct ctx *c)
{
	family(c->o, "vigil_up", "gauge", "1 while the device is observed "
	       "and heard from within --down-after.");
	for (size_t i = 0; i < c->x->ndevs; i++) {
		char lbl[EXP_LABELS_MAX + EXP_TARGET_MAX * 2 + 16];

		dev_labels(c->x->devs[i], lbl, sizeof lbl);
		up_one(c, c->x->devs[i], lbl);
	}
	family(c->o, "vigil_device_info", "gauge", "The device's name, board "
	       "and firmware.");
	each_up(c, info_one, NULL);
	for (size_t i = 0; i < sizeof word_families / sizeof word_families[0];
	     i++) {
		family(c->o, word_families[i].name, "gauge",
		       word_families[i].help);
		each_up(c, word_one, &word_families[i]);
	}
	family(c->o, "vigil_health_check_state", "gauge", "State of each "
	       "health check (1 for the current state).");
	each_up(c, checks_one, "state");
	family(c->o, "vigil_health_check_runs_total", "counter", "Runs of "
	       "each health check.");
	each_up(c, checks_one, "runs");
	family(c->o, "vigil_health_check_failures_total", "counter",
	       "Failed runs of each health check.");
	each_up(c, checks_one, "fails");
	family(c->o, "vigil_agent_uptime_seconds", "gauge", "Seconds since "
	       "vigild started.");
	each_up(c, uptime_one, "agent");
	family(c->o, "vigil_system_uptime_seconds", "gauge", "Seconds since "
	       "the board booted.");
	each_up(c, uptime_one, "system");
	family(c->o, "vigil_agent_start_time_seconds", "gauge", "When vigild "
	       "started (epoch seconds, device clock).");
	each_up(c, start_one, NULL);
	family(c->o, "vigil_backup_recent_jobs", "gauge", "The newest (at "
	       "most 4) backup jobs by state.");
	each_up(c, jobs_one, "recent");
	family(c->o, "vigil_backup_last_job_bytes", "gauge", "Bytes sent by "
	       "the newest successful job.");
	each_up(c, jobs_one, "bytes");
	family(c->o, "vigil_backup_last_job_files_failed", "gauge", "Files "
	       "that failed in the newest successful job.");
	each_up(c, jobs_one, "files_failed");
	for (size_t i = 0; i < sizeof num_families / sizeof num_families[0];
	     i++) {
		family(c->o, num_families[i].name, num_families[i].type,
		       num_families[i].help);
		each_up(c, num_one, &num_families[i]);
	}
	family(c->o, "vigil_status_age_seconds", "gauge", "Seconds since the "
	       "exporter received the device's last document.");
	each_up(c, age_one, NULL);
}

static void counter(struct out *o, const char *name, const char *help,
		    uint64_t v)
{
	family(o, name, "counter", help);
	put(o, "%s %llu\n", name, (unsigned long long)v);
}

static void exporter_families(struct ctx *c)
{
	static const char *const kinds[E_COUNT] = {
		[E_TIMEOUT] = "timeout", [E_RESET] = "reset",
		[E_REFUSED] = "refused", [E_RESPONSE] = "response",
		[E_DOCUMENT] = "document", [E_BLOCK] = "block",
		[E_DTLS] = "dtls", [E_SOCKET] = "socket",
	};
	const struct exp_state *x = c->x;
	size_t up = 0, observed = 0;

	for (size_t i = 0; i < x->ndevs; i++) {
		up += exp_dev_up(x->devs[i], &x->conf, c->now);
		observed += x->devs[i]->observing;
	}
	family(c->o, "vigil_exporter_devices", "gauge", "Devices in the "
	       "devices file.");
	put(c->o, "vigil_exporter_devices %zu\n", x->ndevs);
	family(c->o, "vigil_exporter_devices_up", "gauge", "Devices up.");
	put(c->o, "vigil_exporter_devices_up %zu\n", up);
	family(c->o, "vigil_exporter_devices_observed", "gauge", "Devices "
	       "whose /status observation is registered.");
	put(c->o, "vigil_exporter_devices_observed %zu\n", observed);
	counter(c->o, "vigil_exporter_notifications_total", "Status "
		"documents received (rate() gives notifications/s).",
		x->stats.notifications);
	counter(c->o, "vigil_exporter_registrations_total", "Observe "
		"registrations and refreshes sent.", x->stats.registrations);
	counter(c->o, "vigil_exporter_pings_total", "CoAP pings sent to "
		"silent devices.", x->stats.pings);
	counter(c->o, "vigil_exporter_echo_repeats_total", "Requests "
		"repeated with an Echo option (RFC 9175).",
		x->stats.echo_repeats);
	family(c->o, "vigil_exporter_errors_total", "counter", "Errors "
	       "talking to devices, by kind.");
	for (int k = 0; k < E_COUNT; k++)
		put(c->o, "vigil_exporter_errors_total{kind=\"%s\"} %llu\n",
		    kinds[k], (unsigned long long)x->stats.errors[k]);
	counter(c->o, "vigil_exporter_devices_file_reloads_total", "Reads "
		"of the devices file.", x->sd_reloads);
	counter(c->o, "vigil_exporter_devices_file_errors_total", "Reads "
		"of the devices file that failed (the old list stays).",
		x->sd_errors);
	family(c->o, "vigil_exporter_devices_file_ok", "gauge", "1 when the "
	       "last read of the devices file worked.");
	put(c->o, "vigil_exporter_devices_file_ok %d\n", x->sd_ok);
	counter(c->o, "vigil_exporter_scrapes_total", "Requests for "
		"/metrics.", x->scrapes);
}

/* see vigilctl_exporter.h */
int exp_metrics_render(const struct exp_state *x, uint64_t now,
		       double wall_now, char **text, size_t *len)
{
	struct out o = { .cap = 4096 + x->ndevs * 6144u };
	struct ctx c = { .x = x, .now = now, .wall = wall_now, .o = &o };

	o.p = malloc(o.cap);
	if (!o.p)
		return -ENOMEM;
	o.p[0] = '\0';
	device_families(&c);
	exporter_families(&c);
	if (o.oom) {
		free(o.p);
		return -ENOMEM;
	}
	*text = o.p;
	*len = o.len;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
								 mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	static char index[] = "<html><body><a href=\"/metrics\">metrics"
			      "</a></body></html>\n";
	static char not_found[] = "not found\n", not_allowed[] = "GET only\n";
	struct exp_state *x = cls;
	struct timespec ts;
	char *text;
	size_t len;

	(void)version, (void)upload, (void)upload_len, (void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     not_allowed, strlen(not_allowed),
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", index,
			     strlen(index), MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     strlen(not_found), MHD_RESPMEM_PERSISTENT);
	x->scrapes++;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (exp_metrics_render(x, vcoap_now_ms(), (double)ts.tv_sec, &text,
			       &len) < 0)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; "
		     "charset=utf-8", text, len, MHD_RESPMEM_MUST_FREE);
}

/* see vigilctl_exporter.h */
struct MHD_Daemon *exp_http_start(const char *listen, struct exp_state *x,
				  const char **why)
{
	char uri[300];
	struct vcoap_uri u;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST }, *res = NULL;
	struct MHD_Daemon *h;
	char port[8];

	snprintf(uri, sizeof uri, "coap://%s", listen);
	if (vcoap_uri_parse(uri, &u, why) < 0 || u.path[0] ||
	    !strchr(listen, ':'))
		return *why = "not HOST:PORT (an IPv4 or [IPv6] address)", NULL;
	snprintf(port, sizeof port, "%u", (unsigned)u.port);
	if (getaddrinfo(u.host, port, &hints, &res) != 0 || !res)
		return *why = "not a numeric address", NULL;
	h = MHD_start_daemon(MHD_USE_EPOLL | (res->ai_family == AF_INET6 ?
			     MHD_USE_IPv6 : 0), u.port, NULL, NULL,
			     on_request, x,
			     MHD_OPTION_SOCK_ADDR, res->ai_addr,
			     MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)HTTP_CONNECTIONS_MAX,
			     MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
	freeaddrinfo(res);
	if (!h)
		*why = "cannot listen there (in use, or not a local address)";
	return h;
}

/* see vigilctl_exporter.h */
int exp_http_fd(struct MHD_Daemon *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

/* see vigilctl_exporter.h */
int exp_http_timeout(struct MHD_Daemon *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

/* see vigilctl_exporter.h */
void exp_http_run(struct MHD_Daemon *h)
{
	(void)MHD_run(h);
}

/* see vigilctl_exporter.h */
void exp_http_stop(struct MHD_Daemon *h)
{
	MHD_stop_daemon(h);
}

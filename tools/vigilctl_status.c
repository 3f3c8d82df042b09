/*
 * vigilctl_status.c — the CoAP subcommands of vigilctl (backup and probe
 * themselves are in vigilctl_backup.c):
 *
 *   vigilctl status [OPTION]... URI          GET (default path /status)
 *   vigilctl backup [OPTION]... URI now      POST /backup
 *   vigilctl backup [OPTION]... URI cancel ID|all [--reason TEXT]
 *                                            POST /backup/cancel
 *   vigilctl probe [OPTION]... URI           POST /probe
 *
 * One request per run through the client in vigilctl_coap.h (or an
 * observation with status --observe).  Output: a table (vigilctl_table.c),
 * JSON (cbor_diag) or the raw CBOR; errors on stderr with exit codes
 * 1 (error response, bad data), 2 (usage), 3 (timeout), 4 (Reset).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cbor_diag.h"
#include "vigilctl.h"
#include "vigilctl_coap.h"
#include "vigilctl_status.h"

static struct vcoap client;           /* ~70 KB: static, not stack */
static uint8_t body[VCOAP_BODY_MAX];
static volatile int stop_flag;

static const char common_help[] =
	"  --timeout SEC      give up after SEC seconds without an answer "
	"(default 10;\n"
	"                     retransmissions follow RFC 7252 within it)\n"
	"  --ack-timeout SEC  RFC 7252 ACK_TIMEOUT (default 2)\n"
	"  --json             print the response as JSON\n"
	"  --cbor             write the response's raw CBOR to stdout\n"
	"  --psk-identity ID, --psk-key KEY\n"
	"                     DTLS 1.2 pre-shared key for coaps:// URIs (the "
	"key as\n                     text, as libcoap's -k takes it)\n"
	"  -h, --help         print this help\n"
	"\n"
	"URI: coap://HOST[:PORT][/PATH] (PORT 5683 by default) or coaps://... "
	"(DTLS,\n5684); HOST a name, an IPv4 or an [IPv6] address.\n"
	"Exit status: 0 done; 1 error response (e.g. 4.04 Not Found) or bad "
	"data;\n2 usage error; 3 no response (timeout); 4 the server reset "
	"the request.\n";

static void print_help(const char *cmd)
{
	if (!strcmp(cmd, "status"))
		fputs("Usage: vigilctl status [OPTION]... URI\n"
		      "Read an agent's status document (GET, path /status unless"
		      " URI names one)\nand print it as a table.\n\n"
		      "  --observe          print the document again on every "
		      "change (RFC 7641);\n"
		      "                     Ctrl-C deregisters and stops\n"
		      "  --count N          with --observe: stop after N "
		      "documents\n"
		      "  --block-size N     ask for Block2 blocks of N bytes "
		      "(16..1024)\n", stdout);
	else if (!strcmp(cmd, "backup"))
		fputs("Usage: vigilctl backup [OPTION]... URI now\n"
		      "       vigilctl backup [OPTION]... URI cancel ID|all "
		      "[--reason TEXT]\n"
		      "Start a backup (POST /backup) or cancel one job or all "
		      "(POST /backup/cancel).\n\n"
		      "  --reason TEXT      why (kept with the cancelled jobs; "
		      "at most 128 bytes)\n", stdout);
	else
		fputs("Usage: vigilctl probe [OPTION]... URI\n"
		      "Ask the agent to probe its backup server once (POST "
		      "/probe).\n\n", stdout);
	fputs(common_help, stdout);
}

/* Seconds ("0.5", "10") to milliseconds in 1..3600000. */
static int parse_seconds(const char *s, unsigned *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0.001 && v <= 3600.0))
		return -EINVAL;
	*ms = (unsigned)(v * 1000.0 + 0.5);
	return 0;
}

/* see vigilctl_status.h */
int vctl_parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end || errno || *v > max ? -EINVAL : 0;
}

/* An option with a value; *i advanced.  @retval 0 / VIGILCTL_USAGE */
static int value_opt(struct vctl_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	unsigned long n;

	if (!v)
		return vigilctl_usage_error(o->cmd, "%s needs a value", a);
	++*i;
	if (!strcmp(a, "--timeout") && !parse_seconds(v, &o->timeout_ms))
		return 0;
	if (!strcmp(a, "--ack-timeout") && !parse_seconds(v, &o->ack_timeout_ms))
		return 0;
	if (!strcmp(a, "--count") && !vctl_parse_uint(v, 1000000000ul, &n) && n) {
		o->count = (unsigned)n;
		return 0;
	}
	if (!strcmp(a, "--block-size") && !vctl_parse_uint(v, 1024, &n) &&
	    coap_szx_of_size(n) >= 0) {
		o->block_szx = coap_szx_of_size(n);
		return 0;
	}
	if (!strcmp(a, "--reason") && strlen(v) <= VCTL_REASON_MAX) {
		o->reason = v;
		return 0;
	}
	if (!strcmp(a, "--psk-identity") || !strcmp(a, "--psk-key")) {
		*(a[6] == 'i' ? &o->psk_id : &o->psk_key) = v;
		return 0;
	}
	return vigilctl_usage_error(o->cmd, "bad value '%s' for %s", v, a);
}

static const char *const value_opts[] = {
	"--timeout", "--ack-timeout", "--count", "--block-size", "--reason",
	"--psk-identity", "--psk-key",
};

static bool is_value_opt(const char *a)
{
	for (size_t i = 0; i < sizeof value_opts / sizeof value_opts[0]; i++)
		if (!strcmp(a, value_opts[i]))
			return true;
	return false;
}

/* @retval -1 parsed / VIGILCTL_OK (help printed) / VIGILCTL_USAGE */
static int parse_args(struct vctl_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help(o->cmd);
			return VIGILCTL_OK;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--cbor")) {
			o->cbor = true;
		} else if (!strcmp(a, "--observe") && !strcmp(o->cmd, "status")) {
			o->observe = true;
		} else if (is_value_opt(a)) {
			r = value_opt(o, argc, argv, &i);
			if (r)
				return r;
		} else if (a[0] == '-' && a[1] != '\0') {
			return vigilctl_usage_error(o->cmd, "unknown option "
						    "'%s'", a);
		} else if (!o->uri) {
			o->uri = a;
		} else if (o->npos < 3) {
			o->pos[o->npos++] = a;
		} else {
			return vigilctl_usage_error(o->cmd, "too many "
						    "arguments");
		}
	}
	return -1;
}

/* Checks what parse_args cannot see alone.  @retval -1 / VIGILCTL_USAGE */
static int check_args(struct vctl_opts *o, struct vcoap_uri *u)
{
	const char *why = NULL;

	if (!o->uri)
		return vigilctl_usage_error(o->cmd, "no URI given");
	if (vcoap_uri_parse(o->uri, u, &why) < 0)
		return vigilctl_usage_error(o->cmd, "%s: %s", o->uri, why);
	if (o->json && o->cbor)
		return vigilctl_usage_error(o->cmd, "--json and --cbor "
					    "exclude each other");
	if (u->secure && (!o->psk_id || !o->psk_key))
		return vigilctl_usage_error(o->cmd, "coaps:// needs "
					    "--psk-identity and --psk-key");
	if ((o->psk_id || o->psk_key) && !u->secure)
		return vigilctl_usage_error(o->cmd, "--psk-identity/--psk-key "
					    "need a coaps:// URI");
	if (o->count && !o->observe)
		return vigilctl_usage_error(o->cmd, "--count needs --observe");
	if (strcmp(o->cmd, "status") && u->path[0] && strcmp(u->path, "/"))
		return vigilctl_usage_error(o->cmd, "the URI names a path "
					    "(%s); %s uses its own", u->path,
					    o->cmd);
	why = o->check_pos(o);
	return why ? vigilctl_usage_error(o->cmd, "%s", why) : -1;
}

/* The exit code for a client error, after saying what went wrong. */
static int fail(const struct vctl_opts *o, int err)
{
	fprintf(stderr, "vigilctl: %s: %s: %s\n", o->cmd, o->uri,
		vcoap_strerror(err));
	if (err == -ETIMEDOUT)
		fprintf(stderr, "vigilctl: %s: %u transmission(s) in %.1f s\n",
			o->cmd, client.transmissions,
			(double)client.timeout_ms / 1000.0);
	return err == -ETIMEDOUT ? VIGILCTL_TIMEOUT :
	       err == -ECONNRESET ? VIGILCTL_RESET : VIGILCTL_FAIL;
}

static int count_sink(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n; /* the dry run only looks for errors */
	return 0;
}

static int file_sink(void *arg, const char *p, size_t n)
{
	return fwrite(p, 1, n, arg) == n ? 0 : -EIO;
}

/* One CBOR item as JSON (or diagnostic notation) and a newline, or
 * nothing when it cannot be shown.  @retval 0 / <0 */
static int print_diag(FILE *f, const uint8_t *p, size_t n, unsigned flags)
{
	struct cbor_dec d, dry;
	int r;

	cbor_dec_init(&d, p, n, 0);
	dry = d;
	r = cbor_diag_stream(&dry, flags, count_sink, NULL);
	if (r != 1)
		return r < 0 ? r : -EBADMSG;
	r = cbor_diag_stream(&d, flags, file_sink, f);
	return r < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}

/* Text payload (diagnostic message, link format) with controls shown
 * as '?' so a hostile server cannot drive the terminal. */
static void print_text(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i], f);
	fputc('\n', f);
}

/* Content-Format 60; without the option, only --json assumes CBOR (it
 * has no other way to show the body), the table shows text. */
static bool is_cbor(const struct vctl_opts *o, const struct vcoap_resp *resp)
{
	return resp->has_cf ? resp->cf == COAP_CF_CBOR : o->json;
}

/* An error response: "4.04 Not Found: <diagnostic payload>". */
static int show_error(const struct vctl_opts *o, const struct vcoap_resp *resp,
		      const uint8_t *p, size_t n)
{
	char code[VCOAP_CODE_STR_MAX];

	fprintf(stderr, "vigilctl: %s: %s: %s%s", o->cmd, o->uri,
		vcoap_code_str(resp->code, code, sizeof code), n ? ": " : "\n");
	if (n && (!is_cbor(o, resp) || print_diag(stderr, p, n, 0) < 0))
		print_text(stderr, p, n);
	return VIGILCTL_FAIL;
}

/* A success response's body in the chosen form.  @retval exit code */
static int show(const struct vctl_opts *o, const struct vcoap_resp *resp,
		const uint8_t *p, size_t n)
{
	char code[VCOAP_CODE_STR_MAX];
	int r = 0;

	if (COAP_CODE_CLASS(resp->code) != 2)
		return show_error(o, resp, p, n);
	if (o->cbor) {
		r = n && fwrite(p, 1, n, stdout) != n ? -EIO : 0;
	} else if (n == 0) {
		if (!o->json)
			printf("%s\n", vcoap_code_str(resp->code, code,
						      sizeof code));
	} else if (!is_cbor(o, resp) && o->json) {
		fprintf(stderr, "vigilctl: %s: %s: the response is not CBOR "
			"(Content-Format %u)\n", o->cmd, o->uri,
			(unsigned)resp->cf);
		return VIGILCTL_FAIL;
	} else if (!is_cbor(o, resp)) {
		print_text(stdout, p, n);
	} else {
		r = o->json ? print_diag(stdout, p, n, CBOR_DIAG_JSON) :
		    vigilctl_table(stdout, p, n);
	}
	if (fflush(stdout) != 0 || r == -EIO) {
		fprintf(stderr, "vigilctl: %s: write error\n", o->cmd);
		return VIGILCTL_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "vigilctl: %s: %s: the response is not %s CBOR"
			"\n", o->cmd, o->uri, o->json ? "JSON-compatible" :
			"well-formed");
		return VIGILCTL_FAIL;
	}
	return VIGILCTL_OK;
}

/* see vigilctl_status.h */
int vctl_setup(struct vctl_opts *o, struct vcoap_uri *u, int argc, char **argv)
{
	const char *why = "";
	int r = parse_args(o, argc, argv);

	if (r >= 0)
		return r;
	r = check_args(o, u);
	if (r >= 0)
		return r;
	if (vcoap_open(&client, u, &why) < 0) {
		fprintf(stderr, "vigilctl: %s: %s: %s\n", o->cmd, o->uri, why);
		return VIGILCTL_FAIL;
	}
	client.timeout_ms = o->timeout_ms;
	client.ack_timeout_ms = o->ack_timeout_ms;
	client.block_szx = o->block_szx;
	if (u->secure) {
		r = vcoap_dtls_start(&client, o->psk_id, o->psk_key, &why);
		if (r < 0) {
			vcoap_close(&client);
			fprintf(stderr, "vigilctl: %s: %s: %s\n", o->cmd, o->uri,
				why);
			return r == -ETIMEDOUT ? VIGILCTL_TIMEOUT : VIGILCTL_FAIL;
		}
	}
	return -1;
}

static const char *no_pos(struct vctl_opts *o)
{
	static char msg[64];

	if (o->npos == 0)
		return NULL;
	snprintf(msg, sizeof msg, "unexpected argument '%.30s'", o->pos[0]);
	return msg;
}

/* see vigilctl_status.h */
void vctl_opts_init(struct vctl_opts *o, const char *cmd)
{
	memset(o, 0, sizeof *o);
	o->cmd = cmd;
	o->check_pos = no_pos;
	o->timeout_ms = VCOAP_TIMEOUT_MS_DEFAULT;
	o->ack_timeout_ms = VCOAP_ACK_TIMEOUT_MS_DEFAULT;
	o->block_szx = -1;
}

/* see vigilctl_status.h */
int vctl_request(const struct vctl_opts *o, const struct vcoap_req *q)
{
	struct vcoap_resp resp;
	size_t len = 0;
	int r = vcoap_fetch(&client, q, &resp, body, sizeof body, &len);

	vcoap_close(&client);
	if (r < 0)
		return fail(o, r);
	return show(o, &resp, body, len);
}

struct obs_ctx {
	const struct vctl_opts *o;
	int rc;                       /* exit code of the last document */
	bool had_observe;
};

static int on_notify(void *arg, const struct vcoap_resp *resp,
		     const uint8_t *p, size_t n)
{
	struct obs_ctx *x = arg;

	x->had_observe = resp->has_observe;
	if (!x->o->json && !x->o->cbor && COAP_CODE_CLASS(resp->code) == 2)
		printf("# Observe %u\n", (unsigned)resp->observe);
	x->rc = show(x->o, resp, p, n);
	return x->rc == VIGILCTL_OK || COAP_CODE_CLASS(resp->code) != 2 ?
	       0 : -EBADMSG;
}

static void on_signal(int sig)
{
	(void)sig; /* SIGINT and SIGTERM both mean stop */
	stop_flag = 1;
}

static int observe(const struct vctl_opts *o, const struct vcoap_req *q)
{
	struct obs_ctx x = { .o = o, .rc = VIGILCTL_OK };
	struct sigaction sa;
	int r;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = vcoap_observe(&client, q, body, sizeof body, o->count, &stop_flag,
			  on_notify, &x);
	vcoap_close(&client);
	if (r < 0 && r != -EBADMSG)
		return fail(o, r);
	if (r == 1 && x.rc == VIGILCTL_OK && !x.had_observe) {
		fprintf(stderr, "vigilctl: status: %s: the server does not "
			"offer Observe here (one document printed)\n", o->uri);
		return VIGILCTL_FAIL;
	}
	return r < 0 ? VIGILCTL_FAIL : x.rc;
}

/* see vigilctl.h */
int vigilctl_status(int argc, char **argv)
{
	struct vctl_opts o;
	struct vcoap_uri u;
	struct vcoap_req q;
	int r;

	vctl_opts_init(&o, "status");
	r = vctl_setup(&o, &u, argc, argv);
	if (r >= 0)
		return r;
	memset(&q, 0, sizeof q);
	q.code = COAP_GET;
	q.path = u.path[0] && strcmp(u.path, "/") ? u.path : "/status";
	q.query = u.query;
	return o.observe ? observe(&o, &q) : vctl_request(&o, &q);
}

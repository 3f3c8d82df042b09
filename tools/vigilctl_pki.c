/*
 * vigilctl_pki.c — `vigilctl pki init DIR` and `vigilctl pki device DIR
 * NAME`: a small X.509 PKI for vigil-backupd's TLS listener and the agents
 * that back up to it (docs/vigilctl.md).  The command line is here; keys
 * and certificates are vigilctl_pki_cert.c, files vigilctl_pki_file.c.
 *
 * DIR (mode 0700 when init creates it):
 *   ca.crt, ca.key                the CA
 *   server.crt, server.key        vigil-backupd --tls-cert / --tls-key
 *   devices/NAME.crt, NAME.key    an agent's tls.cert / tls.key
 * Keys are 0600, certificates 0644.  Nothing is ever overwritten: init
 * refuses a DIR that holds any file it would write, device a NAME that
 * exists; both check before making any key, so a refusal writes nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vigilctl.h"
#include "vigilctl_pki.h"
#include "vigilctl_status.h"

#define LEAF_DAYS 825u  /* CA/Browser Forum's old leaf maximum */
#define CA_DAYS 3650u

static const char usage_text[] =
	"Usage: vigilctl pki init DIR [--server-name NAME]... [--device NAME]"
	"...\n"
	"                            [--days N] [--ca-days N]\n"
	"       vigilctl pki device DIR NAME [--days N]\n"
	"Make a PKI for vigil-backupd's TLS listener and its agents (ECDSA "
	"P-256,\nSHA-256).  'init' creates DIR with a new CA (ca.crt, ca.key), "
	"a server\ncertificate (server.crt, server.key) and one certificate per "
	"device\n(devices/NAME.crt, devices/NAME.key).  'device' issues one more "
	"device\ncertificate from DIR's CA.  Keys get mode 0600.  Existing files "
	"are never\noverwritten.  Prints one line per file written.\n"
	"\n"
	"  --server-name NAME  a name clients reach the server by: DNS name or "
	"IP\n"
	"                      address (repeatable, up to 16; default "
	"localhost,\n"
	"                      127.0.0.1 and ::1); the first is also the CN\n"
	"  --device NAME       a device certificate to issue (repeatable, up to "
	"64;\n"
	"                      default device1); NAME is 1-64 of A-Z a-z 0-9 . _ "
	"-,\n"
	"                      not starting with '.'\n"
	"  --days N            days the server and device certificates are valid"
	"\n"
	"                      (default 825, never beyond the CA's end)\n"
	"  --ca-days N         days the CA is valid (init; default 3650)\n"
	"  -h, --help          print this help\n"
	"\n"
	"Exit status: 0 done; 1 failure (a file that exists, an I/O or mbedTLS "
	"error;\nthe reason on stderr); 2 usage error.\n";

static const char *const default_servers[] = { "localhost", "127.0.0.1",
					       "::1" };
static const char *const default_device = "device1";

struct pki_opts {
	bool init;                    /* else device */
	const char *pos[2];           /* DIR [NAME] */
	int npos;
	const char *servers[PKI_SERVER_NAMES_MAX];
	size_t nservers;
	const char *devices[PKI_DEVICES_MAX];
	size_t ndevices;
	unsigned long days, ca_days;
};

/* see vigilctl_pki.h */
int pki_host_kind(const char *s, unsigned char ip[16])
{
	size_t n = strlen(s), label = 0;
	bool alpha = false;

	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 16;
	if (n == 0 || n > PKI_HOST_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return -EINVAL;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			alpha = label == 0 ? isalpha(c) : alpha || isalpha(c);
			label++;
		} else {
			return -EINVAL;
		}
	}
	/* An all-digit last label is a mistyped address (RFC 3696 §2). */
	return alpha ? 0 : -EINVAL;
}

static bool device_name_ok(const char *s)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t n = strlen(s);

	return n > 0 && n <= PKI_DEVICE_NAME_MAX && s[0] != '.' &&
	       strspn(s, allowed) == n;
}

static int add_device(struct pki_opts *o, const char *v)
{
	if (!device_name_ok(v))
		return vigilctl_usage_error("pki", "bad device name '%s' (1-64 "
					    "of A-Z a-z 0-9 . _ -, not "
					    "starting with '.')", v);
	for (size_t i = 0; i < o->ndevices; i++)
		if (!strcmp(o->devices[i], v))
			return vigilctl_usage_error("pki", "device '%s' given "
						    "twice", v);
	if (o->ndevices == PKI_DEVICES_MAX)
		return vigilctl_usage_error("pki", "more than %d devices",
					    PKI_DEVICES_MAX);
	o->devices[o->ndevices++] = v;
	return 0;
}

static int add_server(struct pki_opts *o, const char *v)
{
	unsigned char ip[16];

	if (pki_host_kind(v, ip) < 0)
		return vigilctl_usage_error("pki", "bad server name '%s' (a DNS "
					    "name or an IP address)", v);
	if (o->nservers == PKI_SERVER_NAMES_MAX)
		return vigilctl_usage_error("pki", "more than %d server names",
					    PKI_SERVER_NAMES_MAX);
	o->servers[o->nservers++] = v;
	return 0;
}

/* Option a with value v.  @retval 0 / VIGILCTL_USAGE */
static int value_opt(struct pki_opts *o, const char *a, const char *v)
{
	if (!strcmp(a, "--days") || !strcmp(a, "--ca-days")) {
		unsigned long *d = a[2] == 'd' ? &o->days : &o->ca_days;

		if (vctl_parse_uint(v, PKI_DAYS_MAX, d) || *d == 0)
			return vigilctl_usage_error("pki", "bad value '%s' for "
						    "%s (1-%u)", v, a,
						    PKI_DAYS_MAX);
		return 0;
	}
	return !strcmp(a, "--device") ? add_device(o, v) : add_server(o, v);
}

/* --days is for both commands, the others only make sense for init. */
static bool is_value_opt(const struct pki_opts *o, const char *a)
{
	return !strcmp(a, "--days") ||
	       (o->init && (!strcmp(a, "--ca-days") || !strcmp(a, "--device") ||
			    !strcmp(a, "--server-name")));
}

/* argv[2..]: options and DIR [NAME].
 * @retval -1 parsed / VIGILCTL_OK (help printed) / VIGILCTL_USAGE */
static int parse_args(struct pki_opts *o, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return VIGILCTL_OK;
		} else if (is_value_opt(o, a)) {
			if (i + 1 == argc)
				return vigilctl_usage_error("pki", "%s needs a "
							    "value", a);
			r = value_opt(o, a, argv[++i]);
			if (r)
				return r;
		} else if (a[0] == '-' && a[1] != '\0') {
			return vigilctl_usage_error("pki", "unknown option "
						    "'%s'", a);
		} else if (o->npos < (o->init ? 1 : 2)) {
			o->pos[o->npos++] = a;
		} else {
			return vigilctl_usage_error("pki", "too many arguments");
		}
	}
	if (o->npos == 0 || !o->pos[0][0])
		return vigilctl_usage_error("pki", "no DIR given");
	if (!o->init && o->npos < 2)
		return vigilctl_usage_error("pki", "no device NAME given");
	if (!o->init && !device_name_ok(o->pos[1]))
		return vigilctl_usage_error("pki", "bad device name '%s' (1-64 "
					    "of A-Z a-z 0-9 . _ -, not "
					    "starting with '.')", o->pos[1]);
	return -1;
}

/* Whether dir/name exists, saying so.  @retval 0 no / VIGILCTL_FAIL */
static int refuse(const char *dir, const char *name)
{
	int r = pki_exists(dir, name);

	if (r == 1 && !strcmp(name, "ca.key"))
		fprintf(stderr, "vigilctl: pki: %s already holds a CA (ca.key); "
			"not overwriting it\n", dir);
	else if (r == 1)
		fprintf(stderr, "vigilctl: pki: %s/%s exists; not overwriting "
			"it\n", dir, name);
	return r ? VIGILCTL_FAIL : 0;
}

/* Neither devdir/NAME.key nor NAME.crt.  @retval 0 / VIGILCTL_FAIL */
static int refuse_device(const char *devdir, const char *name)
{
	static const char *const ext[] = { "key", "crt" };
	char file[PKI_DEVICE_NAME_MAX + 8];

	for (size_t i = 0; i < 2; i++) {
		int r;

		snprintf(file, sizeof file, "%s.%s", name, ext[i]); /* fits */
		r = pki_exists(devdir, file);
		if (r == 1)
			fprintf(stderr, "vigilctl: pki: device '%s' exists "
				"(%s/%s); not overwriting it\n", name, devdir,
				file);
		if (r)
			return VIGILCTL_FAIL;
	}
	return 0;
}

static int issue_device(struct pki_ca *ca, const char *devdir,
			const char *name, unsigned days)
{
	struct pki_leaf l = { .cn = name, .days = days };

	return pki_issue(ca, &l, devdir, name);
}

static int run_init(struct pki_opts *o, const char *dir, const char *devdir)
{
	static const char *const top[] = { "ca.key", "ca.crt", "server.key",
					   "server.crt" };
	/* RFC 5280 ub-common-name: 64; clients match the SANs anyway */
	const char *cn = strlen(o->servers[0]) <= 64 ? o->servers[0] :
			 "vigil-backupd";
	struct pki_leaf server = { .cn = cn, .sans = o->servers,
				   .nsans = o->nservers, .server = true,
				   .days = (unsigned)o->days };
	struct pki_ca ca;
	int ret;

	for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
		if (refuse(dir, top[i]))
			return VIGILCTL_FAIL;
	for (size_t i = 0; i < o->ndevices; i++)
		if (refuse_device(devdir, o->devices[i]))
			return VIGILCTL_FAIL;
	if (pki_mkdir(dir) || pki_mkdir(devdir))
		return VIGILCTL_FAIL;
	pki_crypto_init();
	ret = pki_ca_create(&ca, dir, (unsigned)o->ca_days);
	if (!ret)
		ret = pki_issue(&ca, &server, dir, "server");
	for (size_t i = 0; !ret && i < o->ndevices; i++)
		ret = issue_device(&ca, devdir, o->devices[i],
				   (unsigned)o->days);
	pki_ca_free(&ca);
	return ret ? VIGILCTL_FAIL : VIGILCTL_OK;
}

static int run_device(struct pki_opts *o, const char *dir, const char *devdir)
{
	const char *name = o->pos[1];
	struct pki_ca ca;
	int ret = pki_exists(dir, "ca.key");

	if (ret == 0)
		fprintf(stderr, "vigilctl: pki: %s holds no CA (ca.key); make "
			"one with 'vigilctl pki init %s'\n", dir, dir);
	if (ret != 1 || refuse_device(devdir, name))
		return VIGILCTL_FAIL;
	pki_crypto_init();
	ret = pki_ca_load(&ca, dir);
	if (!ret)
		ret = pki_mkdir(devdir);
	if (!ret)
		ret = issue_device(&ca, devdir, name, (unsigned)o->days);
	pki_ca_free(&ca);
	return ret ? VIGILCTL_FAIL : VIGILCTL_OK;
}

/* see vigilctl.h */
int vigilctl_pki(int argc, char **argv)
{
	struct pki_opts o = { .days = LEAF_DAYS, .ca_days = CA_DAYS };
	char devdir[PKI_PATH_MAX];
	const char *a = argc > 1 ? argv[1] : "";
	int r;

	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		fputs(usage_text, stdout);
		return VIGILCTL_OK;
	}
	if (!*a)
		return vigilctl_usage_error("pki", "init or device expected");
	if (strcmp(a, "init") && strcmp(a, "device"))
		return vigilctl_usage_error("pki", "unknown command '%s' (init "
					    "or device)", a);
	o.init = !strcmp(a, "init");
	r = parse_args(&o, argc, argv);
	if (r >= 0)
		return r;
	if (o.nservers == 0) {
		memcpy(o.servers, default_servers, sizeof default_servers);
		o.nservers = sizeof default_servers / sizeof default_servers[0];
	}
	if (o.init && o.ndevices == 0)
		o.devices[o.ndevices++] = default_device;
	if (pki_path(devdir, o.pos[0], "devices"))
		return VIGILCTL_FAIL;
	return o.init ? run_init(&o, o.pos[0], devdir) :
	       run_device(&o, o.pos[0], devdir);
}

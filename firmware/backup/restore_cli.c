/*
 * restore_cli.c — `vigild restore [OPTION]... DEST` (restore_cli.h):
 * options (the same defaults as `vigild backup`, taken from --config),
 * one line per file, the exit status.
 */
#include "restore_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_cli.h"
#include "backup_client.h"
#include "num.h"
#include "restore_client.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: %s [OPTION]... DEST\n"
	"Gets a device's files back from vigil-backupd (tls://, ALPN "
	"vigil/2) into\nDEST (a backed-up /srv/a lands in DEST/srv/a), each "
	"verified against the\nstored cksum before it is renamed into place; "
	"exit 0 only when every\nselected file was restored.\n\n"
	"      --server URL      tls://HOST:PORT (default: backup.server of "
	"--config)\n"
	"      --device NAME     whose files (default: the client name, as for\n"
	"                        vigild backup: backup.name, device.name, host)\n"
	"      --snapshot ID     a snapshot id, or latest (default)\n"
	"      --path PATTERN    only paths matching the shell pattern, or under\n"
	"                        the directory PATTERN\n"
	"      --overwrite       replace existing files (default: keep them)\n"
	"      --config FILE     vigild configuration: defaults as for backup\n"
	"      --state DIR       state directory (default: data.dir)\n"
	"      --tls-ca FILE     CA certificate(s) the server must chain to\n"
	"      --tls-cert FILE   client certificate (its CN is the device)\n"
	"      --tls-key FILE    its private key\n"
	"      --timeout MS      I/O timeout per operation (default 30000)\n";

static struct restore_client rc;
/* "vigild restore" or "vigilctl restore", for messages. */
static const char *prog = "vigild restore";

struct args {
	const char *server, *config, *dest;
	struct restore_opts o;
};

static int usage(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

static int snapshot_arg(const char *v, uint64_t *out)
{
	if (!strcmp(v, "latest")) {
		*out = 0;
		return 0;
	}
	return num_u64(v, UINT64_MAX, out) == 0 && *out > 0 ? 0 : -1;
}

/* One option with its value v.  @retval 0  @retval exit status */
static int one_opt(const char *a, const char *v, struct args *g,
		   struct backup_client_cfg *cfg)
{
	int ret = backup_cli_common_opt(a, v, cfg);

	if (ret < 0)
		return usage("bad number '%s'", v);
	if (ret > 0)
		return 0;
	if (!strcmp(a, "--server"))
		g->server = v;
	else if (!strcmp(a, "--device"))
		g->o.device = v;
	else if (!strcmp(a, "--snapshot")) {
		if (snapshot_arg(v, &g->o.snapshot) != 0)
			return usage("bad snapshot '%s' (an id or latest)", v);
	} else if (!strcmp(a, "--path"))
		g->o.pattern = v;
	else if (!strcmp(a, "--config"))
		g->config = v;
	else
		return usage("unknown option '%s'", a);
	return 0;
}

static int parse(int argc, char **argv, struct args *g,
		 struct backup_client_cfg *cfg)
{
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf(usage_text, prog);
			return -1;
		}
		if (!strcmp(a, "--overwrite")) {
			g->o.overwrite = 1;
			continue;
		}
		if (i + 1 >= argc)
			return usage("%s needs a value", a);
		ret = one_opt(a, argv[++i], g, cfg);
		if (ret != 0)
			return ret;
	}
	if (i + 1 != argc)
		return usage("%s", "give exactly one DEST");
	g->dest = argv[i];
	return 0;
}

static void report(const char *path, const char *why)
{
	if (why == NULL)
		printf("restored %s\n", path);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, path, why);
}

static int run(const struct backup_client_cfg *cfg, struct args *g)
{
	int ret;

	backup_crypto_init();
	g->o.dest = g->dest;
	g->o.report = report;
	ret = restore_client_run(&rc, cfg, &g->o);
	fflush(stdout);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", prog, rc.e.err);
		return 1;
	}
	fprintf(stderr, "%s: %u files restored and verified, %u failed, "
		"%u skipped, %llu bytes (snapshot %llu)\n", prog, rc.e.files_ok,
		rc.e.files_failed, rc.e.files_skipped,
		(unsigned long long)rc.e.bytes,
		(unsigned long long)rc.e.snapshot);
	return ret == 0 ? 0 : 1;
}

/* see restore_cli.h */
int restore_cli_run(const char *name, int need_device, int argc, char **argv)
{
	static struct backup_client_cfg cfg;
	struct args g;
	int ret;

	prog = name;
	memset(&g, 0, sizeof g);
	ret = parse(argc, argv, &g, &cfg);
	if (ret != 0)
		return ret < 0 ? 0 : ret;
	if (g.config && backup_cli_config(prog, g.config, &cfg, &g.server))
		return 1;
	backup_cli_defaults(&cfg);
	if (g.o.device == NULL && need_device)
		return usage("%s", "--device NAME is required");
	if (g.o.device == NULL)
		g.o.device = cfg.name;
	if (g.server == NULL)
		return usage("%s", "--server URL is required (or backup.server "
			     "in the --config file)");
	if (strncmp(g.server, "tls://", 6) != 0)
		return usage("%s", "restore needs a tls:// server (the TLS "
			     "identity is the device)");
	ret = backup_cli_resolve(prog, &cfg, g.server);
	return ret ? ret : run(&cfg, &g);
}

/* see restore_cli.h */
int restore_cli_main(int argc, char **argv)
{
	return restore_cli_run("vigild restore", 0, argc, argv);
}

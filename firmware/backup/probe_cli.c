/*
 * probe_cli.c — see probe_cli.h.  The configuration is read like the
 * agent reads it: the default file may be missing (built-in defaults), a
 * file named with --config must exist.  A host name is resolved first
 * (this may block; this is a one-shot command, not the agent), and only
 * its first address is tried: one attempt, as the operator asked.
 */
#include "probe_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_client.h"
#include "config.h"
#include "probe.h"

#define PROBE_CLI_USAGE 2
#define PROBE_CLI_DEFAULT_CONFIG "/etc/vigil.conf"

static const char usage_text[] =
	"Usage: vigild probe [--config FILE]\n"
	"Makes one TCP connection attempt (0.5 s at most) to backup.server "
	"and\nprints reachable/unreachable with the latency or the error.\n"
	"Exit status: 0 reachable, 1 not reachable or no server, 2 usage "
	"error.\n";

/* Loads the configuration.  @retval 0 ok  @retval 1 reported failure */
static int probe_cli_config(struct config *cfg, const char *path)
{
	int ret = config_load(cfg, path ? path : PROBE_CLI_DEFAULT_CONFIG,
			      NULL);

	if (ret == -ENOENT && !path) {
		config_defaults(cfg);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "vigild probe: %s: %s\n",
			path ? path : PROBE_CLI_DEFAULT_CONFIG,
			ret == -EBADMSG ? "invalid configuration "
			"(vigild --check-config shows why)" : strerror(-ret));
		return 1;
	}
	return 0;
}

/* backup.server -> its first address.  @retval 0  @retval 1 reported */
static int probe_cli_target(const char *url, struct hal_addr *a)
{
	char host[BACKUP_HOST_MAX];
	uint16_t port = 0;
	int tls = 0, ret;

	if (!url[0]) {
		fprintf(stderr, "vigild probe: no backup.server configured\n");
		return 1;
	}
	if (backup_url_parse(url, &tls, host, sizeof host, &port) < 0) {
		fprintf(stderr, "vigild probe: backup.server `%s`: expected "
			"tcp://host:port or tls://host:port\n", url);
		return 1;
	}
	ret = hal_net_resolve(host, port, a, 1);
	if (ret <= 0) {
		fprintf(stderr, "vigild probe: %s: %s\n", host,
			ret == -ENOENT ? "no such host" : strerror(-ret));
		return 1;
	}
	return 0;
}

/* see probe_cli.h */
int probe_cli_main(int argc, char **argv)
{
	static struct config cfg;
	struct probe_result r;
	struct hal_addr a;
	char line[PROBE_TEXT_MAX];
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if ((strcmp(argv[i], "-c") && strcmp(argv[i], "--config")) ||
		    i + 1 >= argc) {
			fputs(usage_text, stderr);
			return PROBE_CLI_USAGE;
		}
		path = argv[++i];
	}
	if (probe_cli_config(&cfg, path) || probe_cli_target(cfg.backup_server,
							     &a))
		return 1;
	if (probe_run(&a, &r) < 0) {
		fprintf(stderr, "vigild probe: waiting failed\n");
		return 1;
	}
	if (probe_format(&r, line, sizeof line) < 0)
		snprintf(line, sizeof line, "%s", r.reachable ? "reachable"
							       : "unreachable");
	printf("%s\n", line);
	return r.reachable ? 0 : 1;
}

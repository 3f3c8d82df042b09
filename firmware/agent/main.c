/*
 * main.c — vigild's command line: options, --version, --check-config, and
 * the foreground agent.  Exit status: 0 success, 1 failure (invalid
 * configuration, startup error), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "backup_cli.h"
#include "restore_cli.h"
#include "board.h"
#include "config.h"
#include "log.h"
#include "probe_cli.h"
#include "version.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: vigild [OPTION]...\n"
	"The vigil appliance agent: backs up files, watches the board's "
	"health and\ndrives its watchdog, serves status over CoAP, answers "
	"a serial console.\n"
	"\n"
	"  -c, --config FILE        read FILE (default /etc/vigil.conf; "
	"built-in\n"
	"                           defaults when that file does not exist)\n"
	"      --check-config FILE  validate FILE: print every error with its "
	"line,\n"
	"                           exit 0 when valid, 1 when not\n"
	"      --console            run the console on this terminal "
	"(stdin/stdout)\n"
	"                           instead of console.device; `exit` or "
	"end of\n"
	"                           input stops vigild (docs/console.md)\n"
	"      backup [OPT] PATH... back up files once and exit (vigild backup\n"
	"                           --help, docs/backup.md)\n"
	"      probe [--config FILE] one 0.5 s connection attempt to "
	"backup.server;\n"
	"                           exit 0 reachable, 1 not\n"
	"  -V, --version            print version, git revision, board and "
	"build date\n"
	"  -h, --help               print this help\n"
	"\n"
	"vigild runs in the foreground.  SIGTERM or SIGINT stop it cleanly; "
	"SIGHUP\nreloads the configuration (an invalid file is refused and "
	"the running\nconfiguration kept).\n"
	"\n"
	"Exit status: 0 clean stop, 1 error, 2 usage error.\n";

static void print_version(void)
{
	printf("vigild %s (git %s, board %s, %s, built %s)\n", VIGIL_VERSION,
	       VIGIL_GIT_REV, BOARD_NAME, BOARD_ARCH, VIGIL_BUILD_DATE);
}

static int check_config(const char *path)
{
	static struct config cfg;
	static struct config_errors errs;
	int ret = config_load(&cfg, path, &errs);

	if (ret == 0) {
		printf("%s: ok\n", path);
		return 0;
	}
	for (unsigned i = 0; i < errs.count && i < CONFIG_ERRORS_MAX; i++) {
		if (errs.e[i].line)
			fprintf(stderr, "%s:%u: %s\n", path, errs.e[i].line,
				errs.e[i].msg);
		else
			fprintf(stderr, "%s: %s\n", path, errs.e[i].msg);
	}
	if (errs.dropped)
		fprintf(stderr, "%s: %u more errors not shown\n", path,
			errs.dropped);
	if (errs.count == 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
	return 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vigild: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vigild --help' for more information.\n");
	return EXIT_USAGE;
}

static int run_agent(const char *config_path)
{
	int ret = agent_init(config_path);

	if (ret == 0)
		ret = agent_run();
	agent_shutdown();
	return ret == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;

	/* `vigild backup ...`: one foreground backup job (docs/backup.md) */
	if (argc > 1 && !strcmp(argv[1], "backup"))
		return backup_cli_main(argc - 1, argv + 1);
	/* `vigild restore ...`: files back from vigil-backupd (docs/backup.md) */
	if (argc > 1 && !strcmp(argv[1], "restore"))
		return restore_cli_main(argc - 1, argv + 1);
	/* `vigild probe`: one connection attempt (docs/health.md) */
	if (argc > 1 && !strcmp(argv[1], "probe"))
		return probe_cli_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			print_version();
			return 0;
		} else if (!strcmp(a, "--check-config")) {
			if (!next)
				return usage_error("%s needs a FILE", a);
			return check_config(next);
		} else if (!strcmp(a, "--console")) {
			agent.console_stdio = 1;
			agent.console_crlf = isatty(0);
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (!next)
				return usage_error("%s needs a FILE", a);
			config_path = argv[++i];
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	return run_agent(config_path);
}

/*
 * vigilctl.c — the workstation tool's entry point: global options and the
 * subcommand table.  A subcommand is one row in `commands` plus its file
 * tools/vigilctl_<name>.c; everything after the command name is its own.
 * Exit status: 0 done, 1 failure, 2 usage error (vigilctl.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "version.h"
#include "vigilctl.h"

static const struct vigilctl_cmd commands[] = {
	{ "cbor", "diag|json [OPTION]... [FILE]",
	  "print CBOR as diagnostic notation (RFC 8949 §8) or JSON",
	  vigilctl_cbor },
	{ "status", "[OPTION]... URI", "read an agent's status over CoAP "
	  "(table, --json, --cbor, --observe)", vigilctl_status },
	{ "backup", "[OPTION]... URI now|cancel ID|all [--reason TEXT]",
	  "start a backup or cancel jobs on an agent (CoAP POST)",
	  vigilctl_backup },
	{ "probe", "[OPTION]... URI", "ask an agent to probe its backup server",
	  vigilctl_probe },
	{ "pki", "init DIR [OPTION]... | device DIR NAME [--days N]",
	  "make a CA, server and device certificates (ECDSA P-256)",
	  vigilctl_pki },
	{ "restore", "--server tls://HOST:PORT --device NAME [OPTION]... DEST",
	  "get a device's files back from vigil-backupd, verified",
	  vigilctl_restore },
	{ "exporter", "--devices FILE --listen HOST:PORT [OPTION]...",
	  "observe many agents' /status, serve Prometheus /metrics",
	  vigilctl_exporter },
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f)
{
	fputs("Usage: vigilctl [OPTION]... COMMAND [ARG]...\n"
	      "The vigil workstation tool.\n"
	      "\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name,
			commands[i].synopsis, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -V, --version  print version, git revision and build date\n"
	      "  -h, --help     print this help\n"
	      "\n"
	      "'vigilctl COMMAND --help' describes a command.\n"
	      "Exit status: 0 done, 1 failure, 2 usage error.\n", f);
}

/* see vigilctl.h */
int vigilctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vigilctl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vigilctl %s%s--help' for more information.\n",
		cmd ? cmd : "", cmd ? " " : "");
	return VIGILCTL_USAGE;
}

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : NULL;

	if (!a)
		return vigilctl_usage_error(NULL, "no command given");
	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		print_usage(stdout);
		return VIGILCTL_OK;
	}
	if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
		printf("vigilctl %s (git %s, built %s)\n", VIGIL_VERSION,
		       VIGIL_GIT_REV, VIGIL_BUILD_DATE);
		return VIGILCTL_OK;
	}
	if (a[0] == '-')
		return vigilctl_usage_error(NULL, "unknown option '%s'", a);
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		if (!strcmp(a, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	return vigilctl_usage_error(NULL, "unknown command '%s'", a);
}

/*
 * probe_cli.h — `vigild probe [--config FILE]`: one connection attempt to
 * backup.server (probe.h), its verdict on stdout.
 */
#ifndef VIGIL_PROBE_CLI_H
#define VIGIL_PROBE_CLI_H

/*
 * argv[0] is "probe".  Exit status: 0 reachable, 1 not reachable, no
 * server configured, or the configuration unusable, 2 usage error.
 */
int probe_cli_main(int argc, char **argv);

#endif

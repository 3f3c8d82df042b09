/*
 * restore_cli.h — `vigild restore [OPTION]... DEST`: gets a device's
 * files back from vigil-backupd (restore_client.h).
 */
#ifndef VIGIL_RESTORE_CLI_H
#define VIGIL_RESTORE_CLI_H

/* argv[0] is "restore".  Returns the exit status: 0 every selected file
 * restored and verified, 1 a failure, 2 a usage error. */
int restore_cli_main(int argc, char **argv);
/* The same as command name (in messages); need_device: --device has no
 * default (vigilctl, which is not the device). */
int restore_cli_run(const char *name, int need_device, int argc, char **argv);

#endif

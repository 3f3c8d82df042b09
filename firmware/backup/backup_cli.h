/*
 * backup_cli.h — `vigild backup`: one backup job in the foreground
 * (docs/backup.md).
 */
#ifndef VIGIL_BACKUP_CLI_H
#define VIGIL_BACKUP_CLI_H

/* argv[0] is "backup".  Returns the exit status: 0 every file verified
 * by cksum, 1 failure (one line on stderr says why), 2 usage error. */
int backup_cli_main(int argc, char **argv);

#endif

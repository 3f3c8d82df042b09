/*
 * vigilctl_restore.c — `vigilctl restore --server tls://HOST:PORT --device
 * NAME [OPTION]... DEST`: a device's files back from vigil-backupd on a
 * workstation.  The same client as `vigild restore` (firmware/backup/
 * restore_cli.c and the restore engine beneath it), linked into vigilctl;
 * the difference is that --device has no default here, since the tool is
 * not the device: its TLS certificate must be the device's or one the
 * server granted (docs/backup.md, "vigild restore").
 */
#include <stddef.h>

#include "restore_cli.h"
#include "vigilctl.h"

/* see vigilctl.h */
int vigilctl_restore(int argc, char **argv)
{
	return restore_cli_run("vigilctl restore", 1, argc, argv);
}

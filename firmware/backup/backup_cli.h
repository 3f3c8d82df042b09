/*
 * backup_cli.h — `vigild backup`: one backup job in the foreground
 * (docs/backup.md).
 */
#ifndef VIGIL_BACKUP_CLI_H
#define VIGIL_BACKUP_CLI_H

/* argv[0] is "backup".  Returns the exit status: 0 every file verified
 * by cksum, 1 failure (one line on stderr says why), 2 usage error. */
int backup_cli_main(int argc, char **argv);

struct backup_client_cfg;
/* Shared by `vigild backup` and `vigild restore` (prog names the command
 * in messages). */
/* Loads the vigild configuration path and fills what the command line
 * left empty: *server (backup.server), name (backup.name, device.name),
 * state_dir (data.dir), tls.*.  @retval 0  @retval 1 invalid (said) */
int backup_cli_config(const char *prog, const char *path,
		      struct backup_client_cfg *bc, const char **server);
/* The options both commands take for the transport and the state:
 * --state, --tls-ca, --tls-cert, --tls-key, --timeout (a with value v).
 * @retval 1 taken into cfg  @retval 0 not one of them
 * @retval -1 one of them, but v is not a number (--timeout) */
int backup_cli_common_opt(const char *a, const char *v,
			  struct backup_client_cfg *cfg);
/* state_dir /var/lib/vigil and the host name as the name, when empty. */
void backup_cli_defaults(struct backup_client_cfg *cfg);
/* Parses and resolves url into cfg.  @retval 0  @retval 1 cannot
 * resolve  @retval 2 bad URL or missing TLS options (said) */
int backup_cli_resolve(const char *prog, struct backup_client_cfg *cfg,
		       const char *url);

#endif

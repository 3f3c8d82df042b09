/*
 * console_int.h — what the console's files share (console.c, the command
 * table console_cmds.c and the commands in console_system.c,
 * console_probe.c, console_backup.c); nothing outside console/ includes
 * it.
 */
#ifndef VIGIL_CONSOLE_INT_H
#define VIGIL_CONSOLE_INT_H

#include "console.h"

struct backup_agent;
struct backup_status;

/* ---- console_cmds.c (used by console.c) ---- */

/* Health views (console_system.c), read from env->health: the table of
 * `health`, the lines of `wdt`, the one-line summary in `status`. */
void con_show_health(struct con *c);
void con_show_wdt(struct con *c);
void con_show_health_summary(struct con *c);
/* `metrics`: each histogram's count, sum, mean, p50/p99 (console_metrics.c) */
void con_show_metrics(struct con *c);
/* `reboot`: records reason as the REQUESTED boot marker, then restarts the
 * board; refused where *env->can_reboot is 0 (the host board).  Returns
 * only when the restart did not happen (the marker is taken back). */
void con_reboot(struct con *c, const char *reason);

/* `probe` (console_probe.c): starts the attempt; the verdict is printed
 * when it comes, and the console takes commands meanwhile. */
void con_cmd_probe(struct con *c, int argc, char **argv);

/* Runs one command line (modified in place while it is split). */
void con_cmd_run(struct con *c, char *line);

/* The editor's completion callback; arg is the struct con. */
void con_cmd_complete(void *arg, unsigned argc, const char *const *words,
		      struct le_cands *cands);

/* `backup now|jobs|cancel <id>|all [reason]` (argv checked by the
 * caller: argv[1] is now, jobs or cancel, cancel has argv[2]). */
void con_backup_cmd(struct con *c, struct backup_agent *ba, int argc,
		    char **argv);
/* `conns`: the backup connection with its statistics. */
void con_conns_cmd(struct con *c, const struct backup_status *ba);
/* restore [--snapshot ID|latest] [--path PATTERN] [--overwrite]
 * [--device NAME] DEST | status | cancel [reason] */
void con_restore_cmd(struct con *c, struct backup_agent *ba, int argc,
		     char **argv);

#endif

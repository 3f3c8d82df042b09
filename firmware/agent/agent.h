/*
 * agent.h — vigild's running state and its lifecycle: init (config, log,
 * signals, data directory), the event loop, reload, graceful stop.
 *
 * Everything the agent owns lives in one static struct agent; nothing is
 * allocated after agent_init() returns.  Subsystems (health, backup, CoAP,
 * console) hang their contexts here as they arrive.
 */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include "backup_link.h"
#include "backup_agent.h"
#include "coap_server.h"
#include "config.h"
#include "console.h"
#include "ev.h"
#include "health.h"
#include "health_checks.h"
#include "health_exec.h"

struct agent {
	struct config cfg;
	char config_path[CON_CONFIG_PATH_MAX];
	int config_required;   /* the path was given: missing file = error */
	struct ev_loop loop;
	int sig_fd;
	unsigned reloads;      /* successful reloads since start */
	unsigned reloads_refused;
	/* console: set console_stdio (and console_crlf: stdin is a tty)
	 * before agent_init for `vigild --console` */
	int console_stdio;
	int console_crlf;
	uint64_t start_ms;     /* hal_clock_mono_ms() at agent_init */
	int can_reboot;        /* BOARD_CAN_REBOOT: `reboot` may restart */
	struct con console;
	/* health, watchdog and boot state (health.h): what status and the
	 * console show; health_env is the built-in checks' context */
	struct health health;
	struct health_builtin health_env;
	struct health_cmd health_cmd;   /* the check `command` (health_cmd.h) */
	struct backup_link backup_link; /* written by the backup client */
	struct backup_agent backup;     /* the backup client and its jobs */
	int health_timer;      /* ev timer id of the health tick, or -1 */
	int loop_beat;         /* heartbeat id of the event loop */
	/* the CoAP status server (coap_server.h) and what it serves */
	struct status_src status_src;
	struct coap_srv coap;
};

/* The one agent of this process. */
extern struct agent agent;

/*
 * Loads the configuration (config_path NULL: the default path, where a
 * missing file means "built-in defaults"), applies logging, creates the
 * data directory, installs signal handling and prepares the loop.
 * Problems are logged to stderr in full.
 * @retval 0 ready to run
 * @retval -EINVAL the configuration is invalid
 * @retval <0 another startup failure (errno of the failing step)
 */
int agent_init(const char *config_path);

/* Runs the loop until SIGTERM/SIGINT.  @retval 0 clean stop, <0 loop
 * failure */
int agent_run(void);

/*
 * Re-reads the configuration file; an invalid one is refused and the
 * running configuration stays.  Called on SIGHUP.
 * @retval 0 applied (logged key by key)
 * @retval -EBADMSG refused (errors logged)
 * @retval <0 the file could not be read (logged; old config kept)
 */
int agent_reload(void);

/* What the console's commands act on: the agent's own state (a static
 * struct, the same pointer every call). */
const struct con_env *agent_con_env(void);

/* Releases what init took (signal handlers, syslog). */
void agent_shutdown(void);

#endif

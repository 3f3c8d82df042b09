/*
 * agent.c — see agent.h.
 *
 * Start-up order matters: configuration first (so the log goes where the
 * operator asked), then the data directory (a clear error now beats a
 * failing backup later), then signals and the loop.  A reload parses into
 * a scratch struct and only swaps it in when it is entirely valid.
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/signal.h"
#include "hal/storage.h"
#include "log.h"
#include "boot.h"
#include "version.h"
#include "watchdog.h"

#define DEFAULT_CONFIG_PATH "/etc/vigil.conf"

struct agent agent;
EV_MEM_DEFINE(agent_ev_mem, EV_AGENT_FDS, EV_AGENT_TIMERS);

/* Scratch space for parsing: static, the agent allocates nothing. */
static struct config cfg_next;
static struct config_errors cfg_errs;

static void health_configure(void); /* health.* keys, below */
static void coap_reconfigure(void);  /* coap.* keys, below */
static void backup_configure(void);  /* backup.* keys, below */

static void log_config_errors(const char *path,
			      const struct config_errors *errs)
{
	for (unsigned i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++) {
		const struct config_error *e = &errs->e[i];

		if (e->line)
			log_err("config", "%s:%u: %s", path, e->line, e->msg);
		else
			log_err("config", "%s: %s", path, e->msg);
	}
	if (errs->dropped)
		log_err("config", "%s: %u more errors not shown", path,
			errs->dropped);
}

/* Reads the configuration into out; a missing default file is fine. */
static int load_config(struct config *out)
{
	int ret = config_load(out, agent.config_path, &cfg_errs);

	if (ret == -ENOENT && !agent.config_required) {
		config_defaults(out);
		log_info("config", "%s not found: using built-in defaults",
			 agent.config_path);
		return 0;
	}
	if (ret < 0)
		log_config_errors(agent.config_path, &cfg_errs);
	return ret;
}

static int apply_logging(const struct config *c)
{
	int ret = log_configure(c->log_level, c->log_stderr, c->log_syslog);

	(void)log_set_format(c->log_format); /* the config checked the word */

	if (ret == -ENOENT)
		log_warn("main", "log.syslog: no system logger; logging "
			 "without it");
	return ret == -ENOENT ? 0 : ret;
}

static void log_change(const char *key, const char *old_val,
		       const char *new_val, void *arg)
{
	(void)arg; /* callback signature */
	log_info("config", "%s: %s -> %s", key, old_val, new_val);
}

/* Login settings of a reloaded configuration; a malformed hash keeps the
 * old one (a typo must not open the console). */
static void apply_console(void)
{
	if (agent.console.st == CON_CLOSED)
		return;
	if (con_set_login(&agent.console, agent.cfg.console_password_hash,
			  (uint64_t)agent.cfg.console_idle_ms) < 0)
		log_err("console", "console.password_hash is not "
			"sha256$<salt>$<digest>: old login kept");
}

/* see agent.h */
int agent_reload(void)
{
	int ret = load_config(&cfg_next);
	int changed;

	if (ret < 0) {
		agent.reloads_refused++;
		log_err("config", "reload refused; running configuration kept");
		return ret;
	}
	changed = config_diff(&agent.cfg, &cfg_next, log_change, NULL);
	agent.cfg = cfg_next;
	health_configure();
	agent.reloads++;
	apply_logging(&agent.cfg);
	apply_console();
	coap_reconfigure();
	backup_configure();
	log_info("config", "reloaded %s: %d key%s changed", agent.config_path,
		 changed, changed == 1 ? "" : "s");
	return 0;
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events,
		      void *arg)
{
	int sig;

	(void)fd; (void)events; (void)arg; /* one source, always readable */
	while ((sig = hal_signal_next()) > 0) {
		if (sig == HAL_SIG_HUP) {
			log_info("main", "SIGHUP: reloading configuration");
			(void)agent_reload(); /* outcome logged inside */
		} else {
			log_info("main", "%s: stopping",
				 sig == HAL_SIG_TERM ? "SIGTERM" : "SIGINT");
			ev_stop(loop);
		}
	}
}

static int prepare_data_dir(const char *dir)
{
	int ret = hal_storage_mkdir(dir, 0750);

	if (ret < 0)
		log_err("main", "data.dir %s: %s", dir, strerror(-ret));
	return ret;
}

static int prepare_loop(void)
{
	int ret = ev_init(&agent.loop, &agent_ev_mem);

	if (ret < 0)
		return ret;
	agent.sig_fd = hal_signal_open();
	if (agent.sig_fd < 0) {
		log_err("main", "signal handling: %s", strerror(-agent.sig_fd));
		return agent.sig_fd;
	}
	return ev_add(&agent.loop, agent.sig_fd, EV_READ, on_signal, NULL);
}

/* see agent.h */
const struct con_env *agent_con_env(void)
{
	static struct con_env env;

	env = (struct con_env){
		.cfg = &agent.cfg, .config_path = agent.config_path,
		.reloads = &agent.reloads,
		.reloads_refused = &agent.reloads_refused,
		.health = &agent.health, .backup = &agent.backup,
		.backup_status = backup_agent_status(&agent.backup),
		.backup_link = &agent.backup_link,
		.can_reboot = &agent.can_reboot, .reload = agent_reload,
	};
	return &env;
}

/* The console on console.device, or on stdin/stdout with --console.  A
 * device that cannot be opened is logged and the agent runs without it;
 * a --console that cannot attach is an error (it was asked for). */
static int start_console(void)
{
	struct con_opts o = {
		.device = agent.console_stdio ? NULL : agent.cfg.console_device,
		.baud = (unsigned)agent.cfg.console_baud,
		.crlf = agent.console_crlf,
		.start_ms = agent.start_ms,
		.password_hash = agent.cfg.console_password_hash,
		.idle_ms = (uint64_t)agent.cfg.console_idle_ms,
		.env = agent_con_env(),
	};
	int ret;

	if (!agent.console_stdio && agent.cfg.console_device[0] == '\0')
		return 0;
	ret = con_open(&agent.console, &agent.loop, &o);
	if (ret == -EINVAL)
		log_err("console", "console.password_hash is not "
			"sha256$<salt>$<digest>: console not started");
	else if (ret < 0 && agent.console_stdio)
		log_err("console", "stdin: %s", strerror(-ret));
	if (ret < 0 && agent.console_stdio)
		return ret;
	if (ret < 0 && ret != -EINVAL)
		log_warn("console", "%s: %s; running without a console",
			 o.device, strerror(-ret));
	return 0;
}

/* ---- health checks, watchdog, boot record (docs/health.md) ---- */

/* The loop's own heartbeat, taken after each health tick, may be this
 * late (a callback that blocked) before liveness fails: two ticks at the
 * laziest (WATCHDOG_TICK_MAX_MS). */
#define AGENT_LOOP_SILENCE_MS 10000u
/* While the health command runs, its output and exit are read at each
 * tick: this often. */
#define AGENT_CMD_POLL_MS 1000u
/* Shortest wait between health ticks, so a check due "now" cannot spin. */
#define AGENT_HEALTH_TICK_MIN_MS 10u

/* Applies the health.* keys to the limits and every check (start and
 * reload; the watchdog device and timeout apply at the next start). */
static void health_configure(void)
{
	const struct config *c = &agent.cfg;
	struct health_limits *lim = &agent.health_env.lim;
	uint32_t interval = (uint32_t)c->health_interval_ms;
	uint32_t timeout = (uint32_t)c->health_timeout_ms;

	if (timeout > interval) {
		log_warn("health", "health.timeout is above health.interval; "
			 "using %u ms", (unsigned)interval);
		timeout = interval;
	}
	health_limits_default(lim);
	snprintf(lim->data_dir, sizeof lim->data_dir, "%s", c->data_dir);
	snprintf(lim->thermal_zone, sizeof lim->thermal_zone, "%s",
		 c->thermal_zone);
	snprintf(lim->interface, sizeof lim->interface, "%s",
		 c->health_interface);
	health_cmd_configure(&agent.health_cmd, c->health_command,
			     (uint32_t)c->health_command_timeout_ms);
	lim->min_free = (uint64_t)c->health_min_free;
	lim->min_mem = (uint64_t)c->health_min_memory;
	lim->max_load = (uint32_t)c->health_max_load;
	lim->max_temp = (int32_t)(c->health_max_temp * 1000);
	for (unsigned i = 0; i < agent.health.nchecks; i++) {
		struct health_check_def *d = &agent.health.checks[i].def;

		d->interval_ms = interval;
		d->timeout_ms = timeout;
		/* health_add reads 0 as "default": 1 ms is no start period */
		d->start_period_ms = c->health_start_period_ms
				     ? (uint32_t)c->health_start_period_ms : 1;
		d->grace_ms = (uint32_t)c->health_grace_ms;
		d->retries = (uint32_t)c->health_retries;
		d->debounce = (uint32_t)c->health_debounce;
	}
}

/* Runs due checks, then the kick decision; the loop beats last, so the
 * liveness check sees the gap between two ticks. */
static int64_t on_health_tick(struct ev_loop *loop, void *arg)
{
	uint64_t now = hal_clock_mono_ms();
	uint64_t next;

	(void)loop; (void)arg; /* the state is all in agent.health */
	health_cmd_tick(&agent.health_cmd, now); /* results of the command */
	health_run_due(&agent.health, now);
	watchdog_tick(&agent.health, now);
	health_beat(&agent.health, agent.loop_beat, now);
	next = health_next_due(&agent.health, now);
	if (next > watchdog_tick_ms(&agent.health))
		next = watchdog_tick_ms(&agent.health);
	if (health_cmd_running(&agent.health_cmd) && next > AGENT_CMD_POLL_MS)
		next = AGENT_CMD_POLL_MS;
	return next < AGENT_HEALTH_TICK_MIN_MS ? AGENT_HEALTH_TICK_MIN_MS
						: (int64_t)next;
}

/* The watchdog first (its boot status feeds the reset reason), then the
 * boot record, then the checks and their tick.  A watchdog that cannot
 * be opened or a boot record that cannot be written is logged and shown
 * in the health state; the agent runs on. */
static int start_health(void)
{
	const struct config *c = &agent.cfg;
	const struct health_check_def tmpl = { .name = NULL };
	uint64_t now = hal_clock_mono_ms();
	int ret;

	health_init(&agent.health, now);
	agent.health_timer = -1;
	/* failures are logged inside and leave health.wdt.open = 0 */
	(void)watchdog_open(&agent.health, c->watchdog_device,
			    (int)(c->watchdog_timeout_ms / 1000), now);
	/* systemd's NOTIFY_SOCKET; failures are logged inside */
	(void)watchdog_notify_open(&agent.health, now);
	/* failures are logged inside and kept in boot.persist_error */
	(void)boot_init(&agent.health, c->data_dir,
			(unsigned)c->watchdog_safe_after);
	agent.health_env.link = &agent.backup_link;
	if (health_parse_date(VIGIL_BUILD_DATE,
			      &agent.health_env.build_wall_ms) < 0)
		agent.health_env.build_wall_ms = 0;
	ret = health_checks_add(&agent.health, &agent.health_env, &tmpl, now);
	if (ret < 0)
		return ret;
	ret = health_cmd_add(&agent.health, &agent.health_cmd, &tmpl, now);
	if (ret < 0)
		return ret;
	health_configure();
	agent.loop_beat = health_beat_add(&agent.health, "loop",
					  AGENT_LOOP_SILENCE_MS, now);
	ret = ev_timer_add(&agent.loop, 0, on_health_tick, NULL);
	if (ret < 0)
		return ret;
	agent.health_timer = ret;
	return 0;
}

/* Graceful stop: the marker first, then the magic close.  After a
 * deliberate watchdog stop its marker is kept: it says why. */
static void stop_health(void)
{
	if (agent.health_timer > 0)
		ev_timer_cancel(&agent.loop, agent.health_timer);
	agent.health_timer = -1;
	health_cmd_stop(&agent.health_cmd);
	if (agent.health.boot.path[0] && !agent.health.wdt.stopped)
		(void)boot_mark(&agent.health, BOOT_MARK_STOPPED,
				"vigild stopped"); /* failure logged inside */
	(void)watchdog_close(&agent.health, 1); /* failure logged inside */
}

/* ---- backup client (docs/backup.md, "In the agent") ---- */

/* Applies the backup.* keys (start and reload); state lives in data.dir.
 * A host name in backup.server is resolved here, not in a callback. */
static void backup_configure(void)
{
	const struct config *c = &agent.cfg;
	struct backup_agent_cfg bc;

	memset(&bc, 0, sizeof bc);
	snprintf(bc.server, sizeof bc.server, "%s", c->backup_server);
	snprintf(bc.paths, sizeof bc.paths, "%s", c->backup_paths);
	snprintf(bc.name, sizeof bc.name, "%s", c->backup_name[0] ?
		 c->backup_name : c->device_name);
	snprintf(bc.state_dir, sizeof bc.state_dir, "%s", c->data_dir);
	bc.interval_ms = (uint64_t)c->backup_interval_ms;
	bc.retry_cap_ms = (uint32_t)c->backup_retry_cap_ms;
	bc.io_timeout_ms = (uint32_t)c->backup_timeout_ms;
	bc.max_rate = (uint64_t)c->backup_max_rate;
	snprintf(bc.tls_ca, sizeof bc.tls_ca, "%s", c->tls_ca);
	snprintf(bc.tls_cert, sizeof bc.tls_cert, "%s", c->tls_cert);
	snprintf(bc.tls_key, sizeof bc.tls_key, "%s", c->tls_key);
	snprintf(bc.tls_psk, sizeof bc.tls_psk, "%s", c->tls_psk);
	bc.tls_allow12 = c->tls_min_version == CONFIG_TLS_1_2;
	snprintf(bc.window, sizeof bc.window, "%s", c->backup_window);
	snprintf(bc.zone, sizeof bc.zone, "%s", c->time_zone);
	(void)backup_agent_configure(&agent.backup, &bc); /* logs itself */
}

static void start_backup(void)
{
	(void)backup_agent_init(&agent.backup, &agent.loop,
				&agent.backup_link,
				&agent.health.boot.safe_mode); /* never fails */
	backup_configure();
	if (agent.health.boot.safe_mode && agent.cfg.backup_server[0])
		log_warn("backup", "safe mode: backups refused until a "
			 "clean start");
}

static int coap_backup_now(void *arg, const char **why)
{
	(void)arg; /* the agent is global */
	return backup_agent_now(&agent.backup, why);
}

static int coap_backup_cancel(void *arg, uint64_t job, const char *reason)
{
	(void)arg; /* the agent is global */
	if (job > UINT32_MAX)
		return -ENOENT;
	return backup_agent_cancel(&agent.backup, (uint32_t)job, reason);
}

/* ---- CoAP status server (docs/coap.md) ---- */

static int coap_reload_hook(void *arg)
{
	(void)arg; /* the agent is global */
	return agent_reload();
}

/* coap.open_control, coap.amplification and coap.psk apply at once;
 * coap.listen and coap.dtls_listen at the next start. */
static void coap_reconfigure(void)
{
	coap_srv_configure(&agent.coap, agent.cfg.coap_open_control != 0,
			   (uint8_t)agent.cfg.coap_amplification);
	if (agent.coap.dtls.ready &&
	    coap_dtls_set_keys(&agent.coap, agent.cfg.coap_psk) < 0)
		log_err("coap", "coap.psk: expected identity:hexkey pairs, "
			"comma-separated (at most %d): keys unchanged",
			COAP_DTLS_PSK_MAX);
}

/* DTLS runs when coap.psk has keys at start: without one no handshake
 * can succeed, so the sessions' arena share (crypto.h) stays unused. */
static int start_coap_dtls(void)
{
	const char *psk = agent.cfg.coap_psk;
	int ret;

	if (!psk[0] || !strcmp(psk, "none")) {
		log_info("coap", "coap.psk is empty: no DTLS listener");
		return 0;
	}
	ret = coap_srv_start_dtls(&agent.coap, agent.cfg.coap_dtls_listen,
				  psk);
	if (ret == -EINVAL)
		log_err("coap", "coap.dtls_listen `%s` or coap.psk does not "
			"parse (addresses as coap.listen; identity:hexkey "
			"pairs, at most %d)", agent.cfg.coap_dtls_listen,
			COAP_DTLS_PSK_MAX);
	else if (ret < 0)
		log_err("coap", "dtls: cannot start: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* A coap.listen that does not parse is a configuration error; an
 * address that cannot be bound is logged and skipped (coap_server.h). */
/* After every loop pass that ran a callback: whatever that callback
 * changed (a check's state, the watchdog gate, a backup job, a reload)
 * reaches the CoAP observers now, not at the next timer. */
static void on_loop_pass(struct ev_loop *loop, void *arg)
{
	(void)loop; (void)arg; /* the agent is global */
	coap_srv_changed(&agent.coap, hal_clock_mono_ms());
}

static int start_coap(void)
{
	const struct coap_srv_hooks hooks = { coap_reload_hook, NULL };
	int ret;

	agent.status_src = (struct status_src){
		.cfg = &agent.cfg, .health = &agent.health,
		.link = &agent.backup_link,
		.backup = backup_agent_status(&agent.backup),
		.reloads = &agent.reloads,
		.coap = &agent.coap.pub, .start_ms = agent.start_ms };
	ret = coap_srv_start(&agent.coap, &agent.loop, agent.cfg.coap_listen,
			     &agent.status_src, &hooks);
	if (ret == -EINVAL)
		log_err("coap", "coap.listen `%s`: expected a.b.c.d:port or "
			"[v6]:port, comma-separated, or none",
			agent.cfg.coap_listen);
	else if (ret < 0)
		log_err("coap", "cannot start: %s", strerror(-ret));
	if (ret < 0)
		return ret;
	agent.coap.backup = (struct coap_srv_backup_hooks){
		coap_backup_now, coap_backup_cancel, NULL };
	ev_set_after(&agent.loop, on_loop_pass, NULL);
	ret = start_coap_dtls();
	if (ret < 0)
		return ret;
	coap_reconfigure();
	return 0;
}

/* see agent.h */
int agent_init(const char *config_path)
{
	int ret;

	agent.sig_fd = -1;
	agent.start_ms = hal_clock_mono_ms();
	agent.can_reboot = BOARD_CAN_REBOOT;
	agent.config_required = config_path != NULL;
	snprintf(agent.config_path, sizeof agent.config_path, "%s",
		 config_path ? config_path : DEFAULT_CONFIG_PATH);
	ret = load_config(&agent.cfg);
	if (ret < 0)
		return ret == -ENOENT || ret == -EBADMSG ? -EINVAL : ret;
	ret = apply_logging(&agent.cfg);
	if (ret < 0)
		return ret;
	ret = prepare_data_dir(agent.cfg.data_dir);
	if (ret < 0)
		return ret;
	ret = prepare_loop();
	if (ret < 0)
		return ret;
	ret = start_health();
	if (ret < 0)
		return ret;
	start_backup();
	ret = start_console();
	if (ret < 0)
		return ret;
	return start_coap();
}

/* see agent.h */
int agent_run(void)
{
	int ret;

	log_info("main", "running (board %s, config %s, data %s)",
		 BOARD_NAME, agent.config_path, agent.cfg.data_dir);
	/* up: the service manager may start what depends on us */
	(void)watchdog_notify(&agent.health, "READY=1"); /* counted inside */
	/* start-up's code (configuration, set-up) runs no more: only the
	 * code the loop runs comes back (hal/mem.h, firmware/agent/hot.ld) */
	hal_mem_drop_code();
	ret = ev_run(&agent.loop);
	if (ret < 0)
		log_err("main", "event loop failed: %s", strerror(-ret));
	else
		log_info("main", "stopped cleanly");
	return ret;
}

/* see agent.h */
void agent_shutdown(void)
{
	backup_agent_stop(&agent.backup);
	stop_health();
	coap_srv_stop(&agent.coap);
	con_close(&agent.console);
	if (agent.sig_fd >= 0) {
		ev_del(&agent.loop, agent.sig_fd);
		hal_signal_close();
		agent.sig_fd = -1;
	}
	log_configure(agent.cfg.log_level, agent.cfg.log_stderr, 0);
}

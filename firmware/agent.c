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
#include "hal/signal.h"
#include "hal/storage.h"
#include "log.h"

#define DEFAULT_CONFIG_PATH "/etc/vigil.conf"

struct agent agent;
EV_MEM_DEFINE(agent_ev_mem, EV_AGENT_FDS, EV_AGENT_TIMERS);

/* Scratch space for parsing: static, the agent allocates nothing. */
static struct config cfg_next;
static struct config_errors cfg_errs;

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
	agent.reloads++;
	apply_logging(&agent.cfg);
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
int agent_init(const char *config_path)
{
	int ret;

	agent.sig_fd = -1;
	agent.config_required = config_path != NULL;
	snprintf(agent.config_path, sizeof agent.config_path, "%s",
		 config_path ? config_path : DEFAULT_CONFIG_PATH);
	ret = load_config(&agent.cfg);
	if (ret < 0)
		return ret == -ENOENT || ret == -EINVAL ? -EINVAL : ret;
	ret = apply_logging(&agent.cfg);
	if (ret < 0)
		return ret;
	ret = prepare_data_dir(agent.cfg.data_dir);
	if (ret < 0)
		return ret;
	return prepare_loop();
}

/* see agent.h */
int agent_run(void)
{
	int ret;

	log_info("main", "running (board %s, config %s, data %s)",
		 BOARD_NAME, agent.config_path, agent.cfg.data_dir);
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
	if (agent.sig_fd >= 0) {
		ev_del(&agent.loop, agent.sig_fd);
		hal_signal_close();
		agent.sig_fd = -1;
	}
	log_configure(agent.cfg.log_level, agent.cfg.log_stderr, 0);
}

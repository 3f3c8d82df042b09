/*
 * console_cmds.c — the console's commands: one static const table,
 * cmds[], with the usage, help text, handler and completion of each.
 *
 * A command line is split into words at blanks; "double quotes" group
 * blanks into one word ("" is an empty word; no escapes).  Handlers get
 * argv[0] = the command.  Every error is one line starting with the
 * command's name.
 *
 * Subsystems that are not part of this build yet answer
 * "<cmd>: not available in this build"; when one lands, its entry's
 * handler changes and nothing else does.
 */
#include "console_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "boot.h"
#include "backup_agent.h"
#include "config.h"
#include "hal/clock.h"
#include "hal/sysinfo.h"
#include "health.h"
#include "log.h"
#include "version.h"

#define LOG_DEFAULT_LINES 20
#define HASH_KEY "console.password_hash"

struct con_cmd {
	const char *name;
	const char *usage;
	const char *help;
	void (*run)(struct con *c, int argc, char **argv);
	const char *const *subs;   /* words completing argv[1], or NULL */
	/* completion of later words (argc >= 2 words before), or NULL */
	void (*complete)(const struct con *c, unsigned argc,
			 const char *const *w, struct le_cands *cands);
};

/* after the table, which refers to the handlers */
static const struct con_cmd *find(const char *name);
static void help_all(struct con *c);

/* ---- helpers ---- */

/* Splits line in place.  @retval argc  @retval -EMSGSIZE too many words
 * @retval -EBADMSG unterminated quote */
static int split(char *line, char **argv)
{
	char *p = line, *w;
	int argc = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return argc;
		if (argc == CON_ARGS_MAX)
			return -EMSGSIZE;
		if (*p == '"') {
			w = ++p;
			p = strchr(p, '"');
			if (!p)
				return -EBADMSG;
		} else {
			w = p;
			p += strcspn(p, " \t");
		}
		argv[argc++] = w;
		if (*p)
			*p++ = '\0';
	}
}

static void usage(struct con *c, const struct con_cmd *k)
{
	con_printf(c, "%s: usage: %s\n", k->name, k->usage);
}

/* "1d 02:03:04" */
static void fmt_dur(char *buf, size_t cap, uint64_t s)
{
	snprintf(buf, cap, "%llud %02u:%02u:%02u",
		 (unsigned long long)(s / 86400), (unsigned)(s / 3600 % 24),
		 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static uint64_t agent_uptime_s(const struct con *c)
{
	return (hal_clock_mono_ms() - c->start_ms) / 1000;
}

/* Reads a whole decimal number in 1..max.  @retval 0  @retval -EINVAL */
static int parse_count(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > max)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- commands ---- */

static void cmd_help(struct con *c, int argc, char **argv)
{
	const struct con_cmd *k;

	if (argc > 2) {
		usage(c, find("help"));
		return;
	}
	if (argc == 2) {
		k = find(argv[1]);
		if (!k) {
			con_printf(c, "help: no command `%s` (type `help` for "
				   "a list)\n", argv[1]);
			return;
		}
		con_printf(c, "usage: %s\n  %s\n", k->usage, k->help);
		return;
	}
	help_all(c);
}

static void cmd_version(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	con_printf(c, "vigild %s (git %s, board %s, %s, built %s)\n",
		   VIGIL_VERSION, VIGIL_GIT_REV, BOARD_NAME, BOARD_ARCH,
		   VIGIL_BUILD_DATE);
}

static void cmd_uptime(struct con *c, int argc, char **argv)
{
	char a[32], s[32];
	int64_t sys = hal_sysinfo_uptime_s();

	(void)argc; (void)argv; /* no arguments */
	fmt_dur(a, sizeof a, agent_uptime_s(c));
	if (sys >= 0)
		fmt_dur(s, sizeof s, (uint64_t)sys);
	else
		snprintf(s, sizeof s, "unknown");
	con_printf(c, "agent up %s, system up %s\n", a, s);
}

/* s as a JSON string (quotes included) into out[cap]; cut visibly when
 * it does not fit (cap >= 8). */
static const char *json_str(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s && n + 8 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	if (*s)
		out[n++] = '~'; /* cut */
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/* "backup":{...} of status --json, from the backup client: state,
 * server ("host:port" or null), last success (s ago, or null), last
 * error (link failure or configuration problem, or null), jobs in the
 * table and how many of them are queued or running. */
static void status_json_backup(struct con *c)
{
	const struct backup_status *ba = c->env->backup_status;
	const struct backup_link *l = c->env->backup_link;
	const char *err = l->last_error ? l->last_error_text
		: ba->cfg_error[0] ? ba->cfg_error : NULL;
	char text[2 * BACKUP_ERR_MAX + 8], ago[24];
	unsigned jobs = 0, active = 0;

	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		enum backup_job_state st = ba->jobs[i].state;

		jobs += st != BACKUP_JOB_FREE;
		active += st == BACKUP_JOB_QUEUED || st == BACKUP_JOB_RUNNING;
	}
	if (ba->last_success_ms)
		snprintf(ago, sizeof ago, "%llu", (unsigned long long)
			 ((hal_clock_mono_ms() - ba->last_success_ms) / 1000));
	else
		snprintf(ago, sizeof ago, "null");
	con_printf(c, "\"backup\":{\"state\":\"%s\",\"server\":%s,",
		   backup_status_state(ba), ba->server[0]
		   ? json_str(text, sizeof text, ba->server_text[0]
			      ? ba->server_text : ba->server) : "null");
	con_printf(c, "\"last_success_ago_s\":%s,\"last_error\":%s,"
		   "\"jobs\":%u,\"active\":%u},", ago,
		   err ? json_str(text, sizeof text, err) : "null", jobs,
		   active);
}

static void status_json(struct con *c)
{
	char name[2 * CONFIG_NAME_MAX + 8], path[2 * CON_CONFIG_PATH_MAX];
	int64_t sys = hal_sysinfo_uptime_s();

	con_printf(c, "{\"version\":\"%s\",\"git\":\"%s\",\"board\":\"%s\","
		   "\"arch\":\"%s\",\"device\":%s,", VIGIL_VERSION,
		   VIGIL_GIT_REV, BOARD_NAME, BOARD_ARCH,
		   json_str(name, sizeof name, c->env->cfg->device_name));
	con_printf(c, "\"uptime_s\":%llu,\"system_uptime_s\":%lld,",
		   (unsigned long long)agent_uptime_s(c), (long long)sys);
	con_printf(c, "\"health\":{\"overall\":\"%s\",\"safe_mode\":%s,"
		   "\"boot_count\":%u,\"last_reset\":\"%s\"},",
		   health_state_name(health_overall(c->env->health)),
		   c->env->health->boot.safe_mode ? "true" : "false",
		   (unsigned)c->env->health->boot.count,
		   boot_reset_name(c->env->health->boot.last_reset));
	status_json_backup(c);
	con_printf(c, "\"config\":{\"path\":%s,\"reloads\":%u,\"refused\":%u},",
		   json_str(path, sizeof path, c->env->config_path),
		   *c->env->reloads, *c->env->reloads_refused);
	con_printf(c, "\"console\":{\"login\":%s,\"commands\":%u,"
		   "\"output_dropped\":%llu},\"log_seq\":%lu}\n",
		   c->hash[0] ? "true" : "false", c->commands,
		   (unsigned long long)c->out_dropped,
		   (unsigned long)log_last_seq());
}

static void cmd_status(struct con *c, int argc, char **argv)
{
	char up[32];

	if (argc == 2 && !strcmp(argv[1], "--json")) {
		status_json(c);
		return;
	}
	if (argc != 1) {
		usage(c, find("status"));
		return;
	}
	fmt_dur(up, sizeof up, agent_uptime_s(c));
	con_printf(c, "device:  %s\n", c->env->cfg->device_name[0] ?
		   c->env->cfg->device_name : "(hostname)");
	con_printf(c, "version: %s (board %s, %s)\n", VIGIL_VERSION,
		   BOARD_NAME, BOARD_ARCH);
	con_printf(c, "uptime:  %s\n", up);
	con_show_health_summary(c);
	con_printf(c, "backup:  %s%s%s\n", backup_status_state(c->env->backup_status),
		   c->env->backup_status->server[0] ? ", " : "",
		   c->env->backup_status->server);
	con_printf(c, "config:  %s (%u reloads, %u refused)\n",
		   c->env->config_path, *c->env->reloads, *c->env->reloads_refused);
	con_printf(c, "console: %s, login %s, %llu bytes of output dropped\n",
		   c->stdio ? "stdin" : c->device, c->hash[0] ? "on" : "off",
		   (unsigned long long)c->out_dropped);
}

static void cmd_backup(struct con *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	int ok = (argc == 2 && (!strcmp(sub, "now") || !strcmp(sub, "jobs"))) ||
		 (argc >= 3 && !strcmp(sub, "cancel"));

	if (!ok) {
		usage(c, find("backup"));
		return;
	}
	con_backup_cmd(c, c->env->backup, argc, argv);
}

static void cmd_restore(struct con *c, int argc, char **argv)
{
	if (argc < 2) {
		usage(c, find("restore"));
		return;
	}
	con_restore_cmd(c, c->env->backup, argc, argv);
}

static void cmd_conns(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	con_conns_cmd(c, c->env->backup_status);
}

static void cmd_log(struct con *c, int argc, char **argv)
{
	unsigned n = LOG_DEFAULT_LINES;
	uint32_t last = log_last_seq(), seq;
	struct log_record r;
	char line[LOG_LINE_MAX];

	if (argc > 2 || (argc == 2 && parse_count(argv[1], LOG_RING_RECORDS,
						   &n) < 0)) {
		con_printf(c, "log: usage: log [n] (n: 1..%d)\n",
			   LOG_RING_RECORDS);
		return;
	}
	seq = last >= n ? last - n + 1 : 1;
	for (; last > 0 && seq <= last; seq++)
		if (log_read(seq, &r) == 0 &&
		    log_format(&r, line, sizeof line) > 0)
			con_puts(c, line);
}

static void cmd_metrics(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	con_show_metrics(c);
}

static void cmd_wdt(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	con_show_wdt(c);
}

static void cmd_health(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	con_show_health(c);
}

/* The reason is the rest of the line, words joined by one blank. */
static void cmd_reboot(struct con *c, int argc, char **argv)
{
	char reason[HEALTH_REASON_MAX] = "";
	size_t n = 0;

	for (int i = 1; i < argc && n + 1 < sizeof reason; i++) {
		int w = snprintf(reason + n, sizeof reason - n, "%s%s",
				 i > 1 ? " " : "", argv[i]);

		if (w < 0)
			break;
		n += (size_t)w < sizeof reason - n ? (size_t)w
						   : sizeof reason - n - 1;
	}
	con_reboot(c, reason[0] ? reason : "console reboot");
}

static void cmd_exit(struct con *c, int argc, char **argv)
{
	(void)argc; (void)argv; /* no arguments */
	if (c->stdio) {
		c->quit = 1;
	} else if (c->hash[0]) {
		log_info("console", "logout");
		con_puts(c, "logged out\n");
		c->st = CON_LOGIN;
	} else {
		con_puts(c, "exit: this console has no login to leave\n");
	}
}

/* ---- config ---- */

static void config_show(struct con *c, const char *key)
{
	char v[CONFIG_VALUE_MAX];
	int ret = config_get(c->env->cfg, key, v, sizeof v);

	if (ret == -ENOENT) {
		con_printf(c, "config: unknown key `%s` (`config get` lists "
			   "them)\n", key);
		return;
	}
	if (!strcmp(key, HASH_KEY) && v[0])
		snprintf(v, sizeof v, "(set)"); /* never show the hash */
	con_printf(c, "%s = %s\n", key, ret < 0 ? "?" : v);
}

/* A change made in memory takes effect where it can right away. */
static void config_apply(struct con *c, const char *key)
{
	if (!strncmp(key, "log.", 4)) {
		(void)log_configure(c->env->cfg->log_level, c->env->cfg->log_stderr,
				    c->env->cfg->log_syslog); /* logs its own
							    * problems */
		(void)log_set_format(c->env->cfg->log_format);
	}
	if (!strncmp(key, "console.", 8))
		(void)con_set_login(c, c->env->cfg->console_password_hash,
				    (uint64_t)c->env->cfg->console_idle_ms);
	/* the hash was checked before config_set: cannot fail */
}

static void config_set_cmd(struct con *c, const char *key, const char *val)
{
	char err[CONFIG_ERR_MSG_MAX];
	int ret = -EIO;

	if (!strcmp(key, HASH_KEY) && val[0] && con_hash_check(val, "") < 0) {
		con_puts(c, "config: " HASH_KEY ": not sha256$<2..48 hex "
			 "salt>$<64 hex digest>\n");
		return;
	}
	ret = config_set(c->env->cfg, key, val, err, sizeof err);
	if (ret < 0) {
		con_printf(c, "config: %s\n", err[0] ? err : "refused");
		return;
	}
	config_apply(c, key);
	log_info("console", "config set %s", key);
	config_show(c, key);
	con_puts(c, "(running configuration; `config save` keeps it)\n");
}

static void config_reload_cmd(struct con *c)
{
	uint32_t seq = log_last_seq();
	int ret = c->env->reload();
	struct log_record r;
	char line[LOG_LINE_MAX];

	/* what the reload logged is the operator's answer */
	for (uint32_t s = seq + 1; s <= log_last_seq(); s++)
		if (log_read(s, &r) == 0 &&
		    log_format(&r, line, sizeof line) > 0)
			con_puts(c, line);
	con_printf(c, "config reload: %s\n", ret == 0 ? "applied" :
		   "refused; running configuration kept");
}

static void cmd_config(struct con *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	int ret;

	if (!strcmp(sub, "get") && argc == 2) {
		for (unsigned i = 0; i < config_key_count(); i++)
			config_show(c, config_key_name(i));
	} else if (!strcmp(sub, "get") && argc == 3) {
		config_show(c, argv[2]);
	} else if (!strcmp(sub, "set") && argc == 4) {
		config_set_cmd(c, argv[2], argv[3]);
	} else if (!strcmp(sub, "save") && argc == 2) {
		ret = config_save(c->env->cfg, c->env->config_path);
		if (ret < 0)
			con_printf(c, "config save: %s: %s\n",
				   c->env->config_path, strerror(-ret));
		else
			con_printf(c, "config save: written to %s\n",
				   c->env->config_path);
	} else if (!strcmp(sub, "reload") && argc == 2) {
		config_reload_cmd(c);
	} else {
		usage(c, find("config"));
	}
}

/* ---- completion ---- */

static void complete_keys(const struct con *c, unsigned argc,
			  const char *const *w,
			  struct le_cands *cands)
{
	(void)c; /* the key names are static */
	if (argc != 2 || (strcmp(w[1], "get") && strcmp(w[1], "set")))
		return;
	for (unsigned i = 0; i < config_key_count(); i++)
		le_cand_add(cands, config_key_name(i));
}

static void complete_cancel(const struct con *c, unsigned argc,
			  const char *const *w,
			    struct le_cands *cands)
{
	char id[12];

	if (argc != 2 || strcmp(w[1], "cancel"))
		return;
	le_cand_add(cands, "all");
	/* the jobs a cancel can still stop (an ended one is refused) */
	for (int i = 0; i < BACKUP_JOBS_MAX; i++) {
		const struct backup_job *j = &c->env->backup_status->jobs[i];

		if (j->state != BACKUP_JOB_QUEUED &&
		    j->state != BACKUP_JOB_RUNNING)
			continue;
		snprintf(id, sizeof id, "%u", (unsigned)j->id);
		le_cand_add(cands, id); /* copied */
	}
}

static void complete_help(const struct con *c, unsigned argc,
			  const char *const *w,
			  struct le_cands *cands);

static const char *const backup_subs[] = { "now", "jobs", "cancel", NULL };
static const char *const restore_subs[] = { "status", "cancel",
					    "--snapshot", "--path",
					    "--overwrite", "--device", NULL };
static const char *const config_subs[] = { "get", "set", "save", "reload",
					   NULL };
static const char *const status_subs[] = { "--json", NULL };

static const struct con_cmd cmds[] = {
	{ "help", "help [cmd]", "list the commands, or explain one",
	  cmd_help, NULL, complete_help },
	{ "version", "version", "firmware version, git revision, board",
	  cmd_version, NULL, NULL },
	{ "uptime", "uptime", "how long the agent and the system have run",
	  cmd_uptime, NULL, NULL },
	{ "status", "status [--json]", "summary of the agent's state",
	  cmd_status, status_subs, NULL },
	{ "health", "health", "each health check and its state",
	  cmd_health, NULL, NULL },
	{ "backup", "backup now|jobs|cancel <id>|all [reason]",
	  "start a backup, list jobs, cancel one or all", cmd_backup,
	  backup_subs, complete_cancel },
	{ "restore", "restore [--snapshot ID|latest] [--path PATTERN] "
	  "[--overwrite] [--device NAME] DEST|status|cancel [reason]",
	  "get files back from backup.server into DEST", cmd_restore,
	  restore_subs, NULL },
	{ "conns", "conns", "connections with their byte counts and idle "
	  "time", cmd_conns, NULL, NULL },
	{ "probe", "probe", "test the backup server link now (0.5 s)",
	  con_cmd_probe, NULL, NULL },
	{ "config", "config get [key]|set <key> <value>|save|reload",
	  "show or change the configuration", cmd_config, config_subs,
	  complete_keys },
	{ "log", "log [n]", "the last n log records (default 20)", cmd_log,
	  NULL, NULL },
	{ "wdt", "wdt", "watchdog device, timeout, last kick, gating",
	  cmd_wdt, NULL, NULL },
	{ "metrics", "metrics", "operation timings: count, sum, p50/p99",
	  cmd_metrics, NULL, NULL },
	{ "reboot", "reboot [reason]", "record the reason, then reboot",
	  cmd_reboot, NULL, NULL },
	{ "exit", "exit", "leave the console (log out; --console: stop)",
	  cmd_exit, NULL, NULL },
};
static const size_t cmd_count = sizeof cmds / sizeof cmds[0];

static const struct con_cmd *find(const char *name)
{
	for (size_t i = 0; i < cmd_count; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void help_all(struct con *c)
{
	for (size_t i = 0; i < cmd_count; i++)
		con_printf(c, "  %-48s %s\n", cmds[i].usage, cmds[i].help);
	con_puts(c, "Keys: Tab completes, Up/Down history, ^A/^E line "
		 "start/end, ^U/^K/^W delete, ^L redraw, ^C drop line.\n");
}

static void complete_help(const struct con *c, unsigned argc,
			  const char *const *w,
			  struct le_cands *cands)
{
	(void)c; (void)w; /* only the position matters */
	for (size_t i = 0; argc == 1 && i < cmd_count; i++)
		le_cand_add(cands, cmds[i].name);
}

/* see console.h */
void con_cmd_complete(void *arg, unsigned argc, const char *const *words,
		      struct le_cands *cands)
{
	const struct con_cmd *k;

	if (argc == 0) {
		for (size_t i = 0; i < cmd_count; i++)
			le_cand_add(cands, cmds[i].name);
		return;
	}
	k = find(words[0]);
	if (!k)
		return;
	if (argc == 1 && k->subs)
		for (size_t i = 0; k->subs[i]; i++)
			le_cand_add(cands, k->subs[i]);
	if (k->complete)
		k->complete(arg, argc, words, cands);
}

/* ---- dispatch ---- */

/* Edit distance of two short words, capped at 3 (only "close" matters). */
static unsigned distance(const char *a, const char *b)
{
	unsigned d[17][17];
	size_t la = strlen(a), lb = strlen(b);

	if (la > 16 || lb > 16)
		return 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins)
					    : (del < ins ? del : ins);
		}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

static void unknown(struct con *c, const char *word)
{
	const char *best = NULL;
	unsigned bd = 3;

	for (size_t i = 0; i < cmd_count; i++) {
		unsigned dd = distance(word, cmds[i].name);

		if (dd < bd) {
			bd = dd;
			best = cmds[i].name;
		}
	}
	for (size_t i = 0; !best && i < cmd_count; i++)
		if (!strncmp(cmds[i].name, word, strlen(word)))
			best = cmds[i].name;
	if (best)
		con_printf(c, "unknown command `%.32s`; did you mean `%s`? "
			   "(`help` lists commands)\n", word, best);
	else
		con_printf(c, "unknown command `%.32s` (`help` lists "
			   "commands)\n", word);
}

/* see console.h */
void con_cmd_run(struct con *c, char *line)
{
	char *argv[CON_ARGS_MAX];
	const struct con_cmd *k;
	int argc = split(line, argv);

	if (argc == -EMSGSIZE) {
		con_printf(c, "error: more than %d words\n", CON_ARGS_MAX);
		return;
	}
	if (argc == -EBADMSG) {
		con_puts(c, "error: unterminated quote\n");
		return;
	}
	if (argc == 0)
		return;
	k = find(argv[0]);
	if (!k) {
		unknown(c, argv[0]);
		return;
	}
	k->run(c, argc, argv);
}

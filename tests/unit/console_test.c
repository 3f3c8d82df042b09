/*
 * console_test.c — firmware/console/console.c and console_cmds.c on the sim
 * serial line: bytes in through hal_sim_serial_input, the loop runs,
 * what the console wrote comes back through hal_sim_serial_output.
 */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "boot.h"
#include "config.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "health.h"
#include "log.h"
#include "test.h"
#include "test_util.h"

#define DEV "/dev/ttyS0"
/* sha256$00112233$SHA-256(00 11 22 33 || "s3cret") */
#define HASH "sha256$00112233$" \
	"8794b0eac6ee067f43fd796e50bd4d66d5bfb13bd73a1dc5246a1c677e9cb740"

EV_MEM_DEFINE(con_test_mem, 8, 8);
static struct ev_loop loop;
static struct con con;
static char out[128 * 1024];
static size_t out_len;

static void pump(void)
{
	test_pump(&loop);
}

static const char *take(void)
{
	out_len = hal_sim_serial_output(out, sizeof out - 1);
	out[out_len] = '\0';
	return out;
}

/* Types s, runs the loop, returns everything written meanwhile. */
static const char *type(const char *s)
{
	if (hal_sim_serial_input(s, strlen(s)) != 0)
		test_fail(__FILE__, __LINE__, "sim serial input full");
	pump();
	return take();
}

static int open_con(const char *device, const char *hash, uint64_t idle)
{
	struct con_opts o = { .device = device, .baud = 115200, .crlf = 0,
			      .password_hash = hash, .idle_ms = idle,
			      .start_ms = hal_clock_mono_ms(),
			      .env = agent_con_env() };

	hal_sim_serial_install(DEV);
	if (ev_init(&loop, &con_test_mem) < 0)
		return -EIO;
	config_defaults(&agent.cfg);
	agent.cfg.log_stderr = 0; /* config set log.* re-applies it */
	snprintf(agent.config_path, sizeof agent.config_path, "/vigil.conf");
	log_reset();
	log_configure(LOG_INFO, 0, 0);
	return con_open(&con, &loop, &o);
}

static int has(const char *s)
{
	return strstr(out, s) != NULL;
}

/* Every LF is part of a CR LF. */
static int all_crlf(const char *s)
{
	for (const char *p = strchr(s, '\n'); p; p = strchr(p + 1, '\n'))
		if (p == s || p[-1] != '\r')
			return 0;
	return 1;
}

TEST(con_open_prints_banner_and_prompt)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	pump();
	take();
	CHECK(has("Type `help`"));
	CHECK(has("vigil> "));
	CHECK(all_crlf(out));
	CHECK(open_con("/dev/nothere", NULL, 0) == -ENOENT);
	CHECK(con_open(&con, &loop, &(struct con_opts){ .device = DEV,
		.baud = 115200, .password_hash = "md5$x" }) == -EINVAL);
	con_close(&con);
}

TEST(con_help_lists_every_command_with_crlf)
{
	static const char *const names[] = { "help", "version", "uptime",
		"status", "health", "backup", "restore", "conns", "probe",
		"config",
		"log", "wdt", "reboot", "exit" };

	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("help\r");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		CHECK(has(names[i]));
	CHECK(all_crlf(out));
	type("help config\r");
	CHECK(has("usage: config get [key]|set <key> <value>|save|reload"));
	type("help nope\r");
	CHECK(has("help: no command `nope`"));
	con_close(&con);
}

TEST(con_version_uptime_status)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("version\r");
	CHECK(has("vigild 0.1"));
	CHECK(has("board host"));
	hal_sim_clock_advance(3723 * 1000);
	type("uptime\r");
	CHECK(has("agent up 0d 01:02:03"));
	type("status\r");
	CHECK(has("version: "));
	CHECK(has("health:  healthy; boot 0, last reset unknown"));
	CHECK(has("config:  /vigil.conf (0 reloads, 0 refused)"));
	type("status --json\r");
	CHECK(has("{\"version\":\""));
	CHECK(has("\"board\":\"host\""));
	CHECK(has("\"config\":{\"path\":\"/vigil.conf\""));
	type("status --xml\r");
	CHECK(has("status: usage: status [--json]"));
	con_close(&con);
}

TEST(con_unbuilt_subsystems_say_so)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("conns\r");
	CHECK(has("conns: no connections"));
	type("probe\r");
	CHECK(has("probe: no backup.server configured"));
	type("backup now\r");
	CHECK(has("backup: no backup.server configured"));
	type("backup cancel all power work\r");
	CHECK(has("backup: 0 jobs cancelled"));
	type("backup cancel 7\r");
	CHECK(has("backup: no job 7"));
	type("backup jobs\r");
	CHECK(has("backup: offline, server (none), last success never"));
	type("backup sideways\r");
	CHECK(has("backup: usage: backup now|jobs|cancel <id>|all [reason]"));
	type("restore /mnt/new\r");
	CHECK(has("restore: no backup.server configured"));
	type("restore status\r");
	CHECK(has("restore: none since start"));
	type("restore cancel\r");
	CHECK(has("restore: none is running"));
	type("restore --snapshot 0 /mnt/new\r");
	CHECK(has("restore: bad snapshot `0` (an id or latest)"));
	type("restore --device\r");
	CHECK(has("restore: --device needs a value"));
	type("restore\r");
	CHECK(has("restore: usage: restore [--snapshot ID|latest] [--path "
		  "PATTERN] [--overwrite] [--device NAME] DEST|status|cancel "
		  "[reason]"));
	type("wdt\r");
	CHECK(has("wdt: no watchdog"));
	con_close(&con);
}

static enum health_result always_pass(void *arg, uint64_t now, char *err)
{
	(void)arg; (void)now; (void)err; /* a fixed verdict */
	return HEALTH_PASS;
}

TEST(con_health_and_wdt_read_the_health_state)
{
	const struct health_check_def def = {
		.name = "disk", .kind = HEALTH_REQUIRED, .fn = always_pass,
		.interval_ms = 1000, .timeout_ms = 500, .retries = 3,
		.debounce = 1, .start_period_ms = 1,
	};
	struct health *h = &agent.health;

	health_init(h, hal_clock_mono_ms());
	REQUIRE(health_add(h, &def, hal_clock_mono_ms()) == 0);
	REQUIRE(health_record(h, 0, HEALTH_FAIL, "disk on fire",
			      hal_clock_mono_ms()) >= 0);
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("health\r");
	CHECK(has("disk         required"));
	CHECK(has("disk on fire"));
	snprintf(h->wdt.device, sizeof h->wdt.device, "/dev/watchdog");
	h->wdt.timeout_s = 15;
	h->wdt.kicks = 7;
	snprintf(h->wdt.gated, sizeof h->wdt.gated, "disk unhealthy");
	type("wdt\r");
	CHECK(has("wdt: device /dev/watchdog (not open), timeout 15s, 7 kicks"));
	CHECK(has("wdt: kicks withheld: disk unhealthy"));
	con_close(&con);
	memset(h, 0, sizeof *h);
}

TEST(con_reboot_records_the_reason_first)
{
	struct health *h = &agent.health;
	const char *dir = test_tmpdir();

	log_configure(LOG_ERR, 0, 0);
	health_init(h, 0);
	REQUIRE(boot_init(h, dir, 3) == 0);
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	agent.can_reboot = 0;
	type("reboot now\r");
	CHECK(has("reboot: refused on this board"));
	CHECK_EQ_INT(hal_sim_power_reboots(), 0);
	agent.can_reboot = 1;
	type("reboot new  firmware\r");
	CHECK(has("rebooting"));
	CHECK(has("reboot: refused by the system: Operation not permitted"));
	CHECK_EQ_INT(hal_sim_power_reboots(), 1);
	/* the marker was taken back: the next start is not "requested" */
	REQUIRE(boot_init(h, dir, 3) == 0);
	CHECK_EQ_INT(h->boot.last_reset, BOOT_RESET_CRASH);
	/* a reboot that happens leaves the reason for the next start */
	hal_sim_power_set_result(-EIO);
	type("reboot new  firmware\r");
	REQUIRE(boot_mark(h, BOOT_MARK_REQUESTED, "new firmware") == 0);
	REQUIRE(boot_init(h, dir, 3) == 0);
	CHECK_EQ_INT(h->boot.last_reset, BOOT_RESET_REQUESTED);
	CHECK_EQ_STR(h->boot.reason, "new firmware");
	hal_sim_storage_set_readonly(1);
	type("reboot x\r");
	CHECK(has("reboot: cannot record the reason"));
	CHECK_EQ_INT(hal_sim_power_reboots(), 2);
	hal_sim_storage_set_readonly(0);
	con_close(&con);
	agent.can_reboot = 0;
	memset(h, 0, sizeof *h);
}

TEST(con_unknown_command_one_line_with_hint)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("stauts\r");
	CHECK(has("unknown command `stauts`; did you mean `status`?"));
	type("xyzzyq\r");
	CHECK(has("unknown command `xyzzyq` (`help` lists commands)"));
	type("echo \"open\r");
	CHECK(has("error: unterminated quote"));
	con_close(&con);
}

TEST(con_config_get_set_save_reload)
{
	static struct config back;

	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("config get log.level\r");
	CHECK(has("log.level = info"));
	type("config get\r");
	CHECK(has("watchdog.timeout = 30s"));
	type("config set log.level debug\r");
	CHECK(has("log.level = debug"));
	CHECK_EQ_INT(agent.cfg.log_level, LOG_DEBUG);
	type("config set log.level shouting\r");
	CHECK(has("config: log.level"));
	CHECK_EQ_INT(agent.cfg.log_level, LOG_DEBUG);
	type("config set no.such.key 1\r");
	CHECK(has("unknown key"));
	type("config get no.such.key\r");
	CHECK(has("config: unknown key `no.such.key`"));
	type("config set device.name \"\"\r");
	CHECK(has("device.name = "));
	type("config save\r");
	CHECK(has("config save: written to /vigil.conf"));
	REQUIRE(config_load(&back, "/vigil.conf", NULL) == 0);
	CHECK_EQ_INT(back.log_level, LOG_DEBUG);
	agent.config_required = 1;
	type("config set log.level warn\r");
	type("config reload\r");
	CHECK(has("config reload: applied"));
	CHECK_EQ_INT(agent.cfg.log_level, LOG_DEBUG); /* from the file */
	type("config frob\r");
	CHECK(has("config: usage:"));
	con_close(&con);
}

TEST(con_log_shows_last_records)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	log_info("test", "first marker");
	log_info("test", "second marker");
	type("log 1\r");
	CHECK(has("second marker"));
	CHECK(!has("first marker"));
	type("log\r");
	CHECK(has("first marker"));
	type("log 0\r");
	CHECK(has("log: usage: log [n]"));
	type("log 99999999999\r");
	CHECK(has("log: usage: log [n]"));
	con_close(&con);
}

/* A scripted backup server at 192.0.2.<host>:4433 that answers connect
 * with result after delay_ms; agent.backup points at it. */
static void probe_target(int host, int result, uint32_t delay_ms)
{
	char ip[32];
	struct hal_sim_peer peer = { .type = HAL_SOCK_STREAM,
				     .connect_result = result,
				     .connect_delay_ms = delay_ms };

	snprintf(ip, sizeof ip, "192.0.2.%d", host);
	REQUIRE(hal_net_addr_parse(ip, 4433, &peer.addr) == 0);
	REQUIRE(hal_sim_net_add_peer(&peer) == 0);
	agent.backup.st.configured = 1;
	agent.backup.st.addr = peer.addr;
}

TEST(con_probe_runs_in_the_loop)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	probe_target(1, 0, 3);
	type("probe\r");
	CHECK(!has("reachable"));
	type("version\r");          /* the console answers meanwhile */
	CHECK(has("vigild 0.1"));
	type("probe\r");
	CHECK(has("probe: one is under way"));
	hal_sim_clock_advance(3);
	pump();
	take();
	CHECK(has("probe: reachable 192.0.2.1:4433 in 3 ms"));

	probe_target(2, -ECONNREFUSED, 1);
	type("probe\r");
	hal_sim_clock_advance(1);
	pump();
	take();
	CHECK(has("probe: unreachable 192.0.2.2:4433: Connection refused "
		  "after 1 ms"));

	probe_target(3, 0, 60000);   /* a server that never answers */
	type("probe\r");
	hal_sim_clock_advance(499);
	pump();
	CHECK(!strstr(take(), "192.0.2.3"));
	hal_sim_clock_advance(2);
	pump();
	take();
	CHECK(has("probe: unreachable 192.0.2.3:4433: "));
	CHECK(has(" timed out after 50")); /* glibc / musl wording */
	type("probe now\r");
	CHECK(has("probe: usage: probe"));
	memset(&agent.backup, 0, sizeof agent.backup);
	con_close(&con);
}

/* A backup client with jobs 2 (done), 3 (queued) and 12 (running). */
static void fake_jobs(void)
{
	memset(&agent.backup, 0, sizeof agent.backup);
	memset(&agent.backup_link, 0, sizeof agent.backup_link);
	agent.backup.st.configured = 1;
	snprintf(agent.backup.st.server, sizeof agent.backup.st.server,
		 "tcp://192.0.2.1:4433");
	snprintf(agent.backup.st.server_text,
		 sizeof agent.backup.st.server_text,
		 "192.0.2.1:4433");
	agent.backup.st.jobs[0] = (struct backup_job){ .id = 2,
		.state = BACKUP_JOB_DONE };
	agent.backup.st.jobs[1] = (struct backup_job){ .id = 3,
		.state = BACKUP_JOB_QUEUED };
	agent.backup.st.jobs[5] = (struct backup_job){ .id = 12,
		.state = BACKUP_JOB_RUNNING };
	agent.backup.cur = 5;
	agent.backup_link.last_error = -ECONNREFUSED;
	snprintf(agent.backup_link.last_error_text,
		 sizeof agent.backup_link.last_error_text, "connect: refused");
}

TEST(con_status_json_shows_the_backup_client)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("status --json\r");
	CHECK(has("\"backup\":{\"state\":\"offline\",\"server\":null,"
		  "\"last_success_ago_s\":null,\"last_error\":null,"
		  "\"jobs\":0,\"active\":0},\"config\":"));
	fake_jobs();
	hal_sim_clock_advance(90 * 1000);
	agent.backup.st.last_success_ms = hal_clock_mono_ms() - 61 * 1000;
	type("status --json\r");
	CHECK(has("\"backup\":{\"state\":\"busy\",\"server\":"
		  "\"192.0.2.1:4433\",\"last_success_ago_s\":61,"
		  "\"last_error\":\"connect: refused\",\"jobs\":3,"
		  "\"active\":2},"));
	memset(&agent.backup, 0, sizeof agent.backup);
	memset(&agent.backup_link, 0, sizeof agent.backup_link);
	con_close(&con);
}

TEST(con_cancel_completes_job_ids)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	fake_jobs();
	take();
	type("backup cancel \t\t");
	CHECK(has("\nall "));
	CHECK(has(" 3 "));
	CHECK(has("\n12 "));
	CHECK(!has("\n2 ") && !has(" 2 ")); /* done: not offered */
	type("\x15" "backup cancel 1\t");
	CHECK(has("2 "));                 /* completed to "12 " */
	type("\x15");
	memset(&agent.backup, 0, sizeof agent.backup);
	memset(&agent.backup_link, 0, sizeof agent.backup_link);
	con_close(&con);
}

TEST(con_tab_completion_on_the_line)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	take();
	type("con\t");
	CHECK(has("\a") || has("config"));
	type("\t\t");
	CHECK(has("config"));
	CHECK(has("conns"));
	type("\x15" "config g\t");
	CHECK(has("get "));
	type("log.le\t\r");
	CHECK(has("log.level = info"));
	type("help ver\t\r");
	CHECK(has("usage: version"));
	type("backup cancel a\t\r");
	CHECK(has("backup: 0 jobs cancelled"));
	con_close(&con);
}

TEST(con_history_on_the_line)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("version\r");
	type("\x1b[A\r");
	CHECK(has("vigild 0.1"));
	con_close(&con);
}

TEST(con_login_delay_grows_and_input_is_dropped)
{
	REQUIRE(open_con(DEV, HASH, 0) == 0);
	pump();
	take();
	CHECK(has("password required"));
	CHECK(has("Password: "));
	type("wrong\r");
	CHECK(!has("wrong"));
	CHECK(has("Login incorrect; wait 1 s."));
	CHECK_EQ_INT(con.st, CON_LOCKED);
	type("s3cret\r"); /* typed during the delay: dropped */
	CHECK_EQ_INT(con.st, CON_LOCKED);
	ev_run_once(&loop, 999);
	CHECK_EQ_INT(con.st, CON_LOCKED);
	ev_run_once(&loop, 10);
	take();
	CHECK(has("Password: "));
	type("again\r");
	CHECK(has("wait 2 s"));
	ev_run_once(&loop, 2000);
	pump();
	take();
	type("s3cret\r");
	CHECK(has("Welcome"));
	CHECK(has("vigil> "));
	CHECK(!has("s3cret"));
	CHECK_EQ_INT(con.st, CON_OPEN);
	CHECK_EQ_INT(con.failures, 0);
	type("\x1b[A"); /* the password is not in the history */
	CHECK_EQ_STR(con.ed.line, "");
	type("exit\r"); /* device console with a login: log out */
	CHECK(has("logged out"));
	CHECK(has("Password: "));
	con_close(&con);
}

TEST(con_login_delay_is_capped)
{
	REQUIRE(open_con(DEV, HASH, 0) == 0);
	for (int i = 0; i < 8; i++) {
		type("x\r");
		ev_run_once(&loop, (int)CON_LOGIN_DELAY_MAX_MS);
		pump();
	}
	type("x\r");
	CHECK(has("wait 30 s"));
	con_close(&con);
}

TEST(con_idle_logout)
{
	REQUIRE(open_con(DEV, HASH, 60000) == 0);
	type("s3cret\r");
	REQUIRE(con.st == CON_OPEN);
	ev_run_once(&loop, 30000);
	type("version\r"); /* activity restarts the idle time */
	ev_run_once(&loop, 40000);
	pump();
	CHECK_EQ_INT(con.st, CON_OPEN);
	ev_run_once(&loop, 30000);
	pump();
	take();
	CHECK(has("idle: logged out"));
	CHECK_EQ_INT(con.st, CON_LOGIN);
	con_close(&con);
}

TEST(con_no_login_exit_on_device_explains)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	type("exit\r");
	CHECK(has("exit: this console has no login to leave"));
	CHECK_EQ_INT(con.st, CON_OPEN);
	con_close(&con);
}

TEST(con_stdio_exit_stops_loop_plain_newlines)
{
	REQUIRE(open_con(NULL, NULL, 0) == 0);
	type("version\n");
	CHECK(has("vigild"));
	CHECK(!has("\r"));
	type("exit\n");
	CHECK_EQ_INT(con.st, CON_CLOSED);
	CHECK_EQ_INT(loop.stopped, 1);
	con_close(&con); /* twice is safe */
}

TEST(con_stdio_eof_stops_loop)
{
	REQUIRE(open_con(NULL, NULL, 0) == 0);
	hal_sim_serial_hangup();
	pump();
	CHECK_EQ_INT(con.st, CON_CLOSED);
	CHECK_EQ_INT(loop.stopped, 1);
}

TEST(con_device_hangup_reopens)
{
	REQUIRE(open_con(DEV, NULL, 0) == 0);
	pump();
	hal_sim_serial_hangup();
	pump();
	CHECK_EQ_INT(con.st, CON_CLOSED);
	CHECK_EQ_INT(loop.stopped, 0);
	hal_sim_serial_install(DEV); /* the cable is back */
	ev_run_once(&loop, CON_REOPEN_MS);
	pump();
	take();
	CHECK_EQ_INT(con.st, CON_OPEN);
	CHECK(has("vigil> "));
	type("version\r");
	CHECK(has("vigild"));
	con_close(&con);
}

TEST(con_stalled_line_drops_and_counts)
{
	char cmds[200 * 5 + 1];

	REQUIRE(open_con(DEV, NULL, 0) == 0);
	for (int i = 0; i < 200; i++)
		memcpy(cmds + 5 * i, "help\r", 5);
	cmds[sizeof cmds - 1] = '\0';
	/* nobody reads the line: the sim's 64 KiB fill, then the ring */
	REQUIRE(hal_sim_serial_input(cmds, strlen(cmds)) == 0);
	pump();
	CHECK(con.out_dropped > 0);
	CHECK(con.out_len <= CON_OUT_MAX);
	CHECK_EQ_INT(con.commands, 200);
	/* the line drains: a note says what was lost, the console works */
	for (int i = 0; i < 4; i++) {
		take();
		pump();
	}
	type("version\r");
	CHECK(has("vigild"));
	while (take()[0]) /* drain, keeping the last piece */
		pump();
	con_close(&con);
}

TEST(con_drop_note_after_drain)
{
	char cmds[40 * 5 + 1];
	static char all[256 * 1024];
	size_t n = 0;

	REQUIRE(open_con(DEV, NULL, 0) == 0);
	for (int i = 0; i < 40; i++)
		memcpy(cmds + 5 * i, "help\r", 5);
	cmds[sizeof cmds - 1] = '\0';
	for (int round = 0; round < 3; round++) {
		REQUIRE(hal_sim_serial_input(cmds, strlen(cmds)) == 0);
		pump();
	}
	CHECK(con.out_dropped > 0);
	for (int i = 0; i < 20; i++) {
		size_t k = hal_sim_serial_output(all + n, sizeof all - 1 - n);

		n += k;
		pump();
	}
	all[n] = '\0';
	CHECK(strstr(all, "bytes of output dropped]") != NULL);
	con_close(&con);
}

TEST(con_garbage_then_newline_recovers)
{
	static uint8_t junk[10 * 1024];
	uint64_t x = 12345;

	REQUIRE(open_con(DEV, NULL, 0) == 0);
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		junk[i] = (uint8_t)(x >> 56);
		if (junk[i] == '\r' || junk[i] == '\n' || junk[i] == 3 ||
		    junk[i] == 4)
			junk[i] = 0;
	}
	REQUIRE(hal_sim_serial_input(junk, sizeof junk) == 0);
	pump();
	take();
	type("\rversion\r");
	CHECK(has("vigild 0.1"));
	con_close(&con);
}

TEST(con_hash_check_formats)
{
	CHECK_EQ_INT(con_hash_check(HASH, "s3cret"), 1);
	CHECK_EQ_INT(con_hash_check(HASH, "s3cre"), 0);
	CHECK_EQ_INT(con_hash_check(HASH, ""), 0);
	CHECK_EQ_INT(con_hash_check("", "x"), -EINVAL);
	CHECK_EQ_INT(con_hash_check("sha256$0$" "8794b0eac6ee067f43fd796e50"
		"bd4d66d5bfb13bd73a1dc5246a1c677e9cb740", "s3cret"), -EINVAL);
	CHECK_EQ_INT(con_hash_check("sha256$00112233$8794", "x"), -EINVAL);
	CHECK_EQ_INT(con_hash_check("sha256$0011223g$8794b0eac6ee067f43fd796"
		"e50bd4d66d5bfb13bd73a1dc5246a1c677e9cb740", "x"), -EINVAL);
	CHECK_EQ_INT(con_hash_check("sha512$00$00", "x"), -EINVAL);
	/* upper-case hex is the same hash */
	CHECK_EQ_INT(con_hash_check("sha256$00112233$8794B0EAC6EE067F43FD796"
		"E50BD4D66D5BFB13BD73A1DC5246A1C677E9CB740", "s3cret"), 1);
}

TEST_SUITE(console, con_open_prints_banner_and_prompt,
	   con_help_lists_every_command_with_crlf, con_version_uptime_status,
	   con_unbuilt_subsystems_say_so,
	   con_health_and_wdt_read_the_health_state,
	   con_reboot_records_the_reason_first,
	   con_unknown_command_one_line_with_hint,
	   con_config_get_set_save_reload, con_log_shows_last_records,
	   con_probe_runs_in_the_loop,
	   con_status_json_shows_the_backup_client,
	   con_cancel_completes_job_ids,
	   con_tab_completion_on_the_line, con_history_on_the_line,
	   con_login_delay_grows_and_input_is_dropped,
	   con_login_delay_is_capped, con_idle_logout,
	   con_no_login_exit_on_device_explains,
	   con_stdio_exit_stops_loop_plain_newlines, con_stdio_eof_stops_loop,
	   con_device_hangup_reopens, con_stalled_line_drops_and_counts,
	   con_drop_note_after_drain, con_garbage_then_newline_recovers,
	   con_hash_check_formats);

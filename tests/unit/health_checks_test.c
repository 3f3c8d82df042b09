/*
 * health_checks_test.c — the built-in checks (firmware/health/health_checks.c)
 * against the sim's storage, sysinfo, thermal zone and clocks, each at
 * its thresholds; the passive backup-link verdict table, and proof that
 * running every check opens no connection to the backup server.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_link.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "health.h"
#include "health_checks.h"
#include "log.h"
#include "test.h"

#define MIB (1024u * 1024u)
#define ZONE "/sys/class/thermal/thermal_zone0"

static struct health h;
static struct health_builtin b;
static struct backup_link link;

static void setup(void)
{
	const struct health_check_def tmpl = { .name = NULL };
	const char *dir = test_tmpdir();

	log_configure(LOG_ERR, 0, 0);
	memset(&b, 0, sizeof b);
	memset(&link, 0, sizeof link);
	health_limits_default(&b.lim);
	snprintf(b.lim.data_dir, sizeof b.lim.data_dir, "%s", dir);
	b.link = &link;
	REQUIRE(health_parse_date("2025-06-01", &b.build_wall_ms) == 0);
	health_init(&h, 0);
	CHECK_EQ_INT(health_checks_add(&h, &b, &tmpl, 0), 8);
}

/* Runs the named check once at now; err gets its text. */
static enum health_result run(const char *name, uint64_t now, char *err)
{
	struct health_check *c = health_find(&h, name);

	err[0] = '\0';
	if (!c) {
		test_fail(__FILE__, __LINE__, "no check %s", name);
		return HEALTH_NONE;
	}
	return c->def.fn(c->def.arg, now, err);
}

TEST(builtins_are_registered_with_kinds)
{
	static const struct { const char *name; enum health_kind kind; } t[] = {
		{ "liveness", HEALTH_REQUIRED }, { "storage", HEALTH_REQUIRED },
		{ "memory", HEALTH_REQUIRED },   { "load", HEALTH_WANTED },
		{ "temperature", HEALTH_WANTED }, { "clock", HEALTH_WANTED },
		{ "backup_link", HEALTH_WANTED }, { "network", HEALTH_WANTED },
	};

	setup();
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const struct health_check *c = health_find(&h, t[i].name);

		REQUIRE(c != NULL);
		CHECK_EQ_INT(c->def.kind, t[i].kind);
		CHECK_EQ_INT(c->def.interval_ms, HEALTH_DEF_INTERVAL_MS);
	}
}

TEST(storage_writable_and_free_space)
{
	char err[HEALTH_ERR_MAX];

	setup();
	hal_sim_storage_set_space(2 * MIB, 100 * MIB);
	CHECK_EQ_INT(run("storage", 0, err), HEALTH_PASS);
	hal_sim_storage_set_space(2 * MIB - 1, 100 * MIB);
	CHECK_EQ_INT(run("storage", 0, err), HEALTH_WARN);
	CHECK(strstr(err, "2097151 bytes free") != NULL);
	hal_sim_storage_set_space(MIB - 1, 100 * MIB);
	CHECK_EQ_INT(run("storage", 0, err), HEALTH_FAIL);
	hal_sim_storage_set_space(50 * MIB, 100 * MIB);
	hal_sim_storage_set_readonly(1);
	CHECK_EQ_INT(run("storage", 0, err), HEALTH_FAIL);
	CHECK(strstr(err, "not writable") != NULL);
	hal_sim_storage_set_readonly(0);
	snprintf(b.lim.data_dir, sizeof b.lim.data_dir, "/no/such/dir");
	CHECK_EQ_INT(run("storage", 0, err), HEALTH_FAIL);
}

TEST(memory_thresholds)
{
	struct hal_sysinfo si = { .mem_total = 64 * MIB };
	char err[HEALTH_ERR_MAX];

	setup();
	si.mem_available = 8 * MIB;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("memory", 0, err), HEALTH_PASS);
	si.mem_available = 8 * MIB - 2;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("memory", 0, err), HEALTH_WARN);
	si.mem_available = 4 * MIB;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("memory", 0, err), HEALTH_WARN);
	si.mem_available = 4 * MIB - 1;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("memory", 0, err), HEALTH_FAIL);
	CHECK(strstr(err, "MemAvailable 4194303") != NULL);
}

TEST(load_threshold)
{
	struct hal_sysinfo si = { .mem_total = 64 * MIB,
				  .mem_available = 32 * MIB };
	char err[HEALTH_ERR_MAX];

	setup();
	si.load_milli[0] = 8000;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("load", 0, err), HEALTH_PASS);
	si.load_milli[0] = 8010;
	hal_sim_sysinfo_set(&si);
	CHECK_EQ_INT(run("load", 0, err), HEALTH_WARN);
	CHECK_EQ_STR(err, "load 8.01 above 8.00");
	b.lim.max_load = 0; /* no limit */
	CHECK_EQ_INT(run("load", 0, err), HEALTH_PASS);
}

TEST(temperature_thresholds)
{
	char err[HEALTH_ERR_MAX];

	setup();
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_SKIP);
	CHECK_EQ_STR(err, "no thermal zone configured");
	snprintf(b.lim.thermal_zone, sizeof b.lim.thermal_zone, ZONE);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_WARN); /* absent */
	hal_sim_thermal_set(ZONE, 74999, 0);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_PASS);
	hal_sim_thermal_set(ZONE, 75000, 0);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_WARN);
	hal_sim_thermal_set(ZONE, 85000, 0);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "85.0 C, maximum 85 C");
	hal_sim_thermal_set(ZONE, -5000, 0);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_PASS);
	hal_sim_thermal_set(ZONE, 0, -EIO);
	CHECK_EQ_INT(run("temperature", 0, err), HEALTH_WARN);
}

TEST(clock_sanity)
{
	char err[HEALTH_ERR_MAX];
	int64_t d;

	setup();
	/* the sim's wall clock starts at 2026-01-01, after the build */
	CHECK_EQ_INT(run("clock", 0, err), HEALTH_PASS);
	hal_sim_clock_set_wall(86400000); /* 1970-01-02: no RTC */
	CHECK_EQ_INT(run("clock", 0, err), HEALTH_WARN);
	CHECK(strstr(err, "before the build date") != NULL);
	hal_sim_clock_set_wall(b.build_wall_ms);
	CHECK_EQ_INT(run("clock", 0, err), HEALTH_PASS);
	/* the monotonic clock going back (simulated by the last reading) */
	b.last_mono_ms = 5000;
	CHECK_EQ_INT(run("clock", 0, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "monotonic clock went back 5000 ms");
	CHECK_EQ_INT(run("clock", 0, err), HEALTH_PASS);
	CHECK_EQ_INT(health_parse_date("1970-01-01", &d), 0);
	CHECK_EQ_INT(d, 0);
	CHECK_EQ_INT(health_parse_date("2026-11-23", &d), 0);
	CHECK_EQ_INT(d, 1795392000000);
	CHECK_EQ_INT(health_parse_date("2026-13-01", &d), -EINVAL);
	CHECK_EQ_INT(health_parse_date("2026-1-01", &d), -EINVAL);
	CHECK_EQ_INT(health_parse_date("2026-11-23x", &d), -EINVAL);
}

TEST(liveness_detects_a_stuck_subsystem)
{
	char err[HEALTH_ERR_MAX];
	int loop, backup;

	setup();
	CHECK_EQ_INT(run("liveness", 0, err), HEALTH_PASS); /* no beats */
	loop = health_beat_add(&h, "loop", 5000, 0);
	backup = health_beat_add(&h, "backup", 20000, 0);
	health_beat(&h, loop, 10000);
	CHECK_EQ_INT(run("liveness", 15000, err), HEALTH_PASS);
	CHECK_EQ_INT(run("liveness", 15001, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "loop stuck: silent for 5001 ms (max 5000)");
	health_beat(&h, loop, 20000);
	CHECK_EQ_INT(run("liveness", 20001, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "backup stuck: silent for 20001 ms (max 20000)");
	health_beat(&h, backup, 20001);
	CHECK_EQ_INT(run("liveness", 20001, err), HEALTH_PASS);
}

/* The passive verdict: (state, activity age) -> result. */
TEST(backup_link_verdict_table)
{
	static const struct {
		enum backup_link_state state;
		uint64_t age_ms;
		enum health_result want;
	} t[] = {
		{ BACKUP_LINK_OFF, 0, HEALTH_SKIP },
		{ BACKUP_LINK_UP, 0, HEALTH_PASS },
		{ BACKUP_LINK_UP, 29999, HEALTH_PASS },
		{ BACKUP_LINK_UP, 30000, HEALTH_WARN },
		{ BACKUP_LINK_UP, 59999, HEALTH_WARN },
		{ BACKUP_LINK_UP, 60000, HEALTH_FAIL },
		{ BACKUP_LINK_DOWN, 0, HEALTH_FAIL },
		{ BACKUP_LINK_CONNECTING, 0, HEALTH_FAIL },
	};
	struct backup_link l;
	char err[HEALTH_ERR_MAX];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(&l, 0, sizeof l);
		l.state = t[i].state;
		l.last_activity_ms = 100000;
		if (health_judge_link(&l, 100000 + t[i].age_ms, err) !=
		    t[i].want)
			test_fail(__FILE__, __LINE__, "row %zu: %s", i, err);
	}
	CHECK_EQ_INT(health_judge_link(NULL, 0, err), HEALTH_SKIP);
	l.state = BACKUP_LINK_DOWN;
	strcpy(l.last_error_text, "connect: Connection refused");
	health_judge_link(&l, 0, err);
	CHECK_EQ_STR(err, "down: connect: Connection refused");
	l.state = BACKUP_LINK_UP;
	l.last_activity_ms = 0;
	health_judge_link(&l, 75000, err);
	CHECK_EQ_STR(err, "stale: no activity for 75 s");
}

/* Hours of checks with a backup server configured: not one connection
 * attempt reaches it (the check reads struct backup_link only). */
TEST(backup_link_check_opens_no_socket)
{
	static const uint8_t ip[4] = { 192, 0, 2, 10 };
	struct hal_sim_peer server;
	struct hal_addr addr;

	setup();
	memset(&addr, 0, sizeof addr);
	addr.family = HAL_AF_INET;
	addr.port = 4433;
	memcpy(addr.ip, ip, sizeof ip);
	memset(&server, 0, sizeof server);
	server.addr = addr;
	server.type = HAL_SOCK_STREAM;
	REQUIRE(hal_sim_net_add_peer(&server) == 0);
	link.state = BACKUP_LINK_DOWN;
	for (uint64_t t = 0; t <= 4 * 3600 * 1000; t += 1000) {
		if (t == 600000)
			link.state = BACKUP_LINK_UP;
		health_run_due(&h, t);
	}
	CHECK_EQ_INT(hal_sim_net_contacts(&addr), 0);
	CHECK_EQ_INT(health_find(&h, "backup_link")->runs, 481);
	CHECK_EQ_INT(health_find(&h, "backup_link")->state,
		     HEALTH_UNHEALTHY); /* up, but never any activity */
}

TEST(network_interface_up_down_missing)
{
	struct hal_netif st = { HAL_NETIF_OPER_UP, 1, 1, 1 };
	char err[HEALTH_ERR_MAX];

	setup();
	CHECK_EQ_INT(run("network", 0, err), HEALTH_SKIP);
	CHECK_EQ_STR(err, "no interface configured");
	snprintf(b.lim.interface, sizeof b.lim.interface, "eth0");
	CHECK_EQ_INT(run("network", 0, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "eth0: no such interface");
	hal_sim_netif_set("eth0", &st);
	CHECK_EQ_INT(run("network", 0, err), HEALTH_PASS);
	st.oper = HAL_NETIF_OPER_DOWN;
	st.carrier = 0;
	hal_sim_netif_set("eth0", &st);
	CHECK_EQ_INT(run("network", 0, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "eth0 down (operstate down, admin up, no carrier)");
	/* "unknown" (a driver without operstate): IFF_UP and carrier decide */
	st.oper = HAL_NETIF_OPER_UNKNOWN;
	st.carrier = 1;
	hal_sim_netif_set("eth0", &st);
	CHECK_EQ_INT(run("network", 0, err), HEALTH_PASS);
	st.admin_up = 0;
	st.carrier = -1;
	hal_sim_netif_set("eth0", &st);
	CHECK_EQ_INT(run("network", 0, err), HEALTH_FAIL);
	CHECK_EQ_STR(err, "eth0 down (operstate unknown, admin down, "
		     "carrier unknown)");
	snprintf(b.lim.interface, sizeof b.lim.interface, "lo");
	CHECK_EQ_INT(run("network", 0, err), HEALTH_PASS);
}

TEST_SUITE(health_checks, builtins_are_registered_with_kinds,
	   storage_writable_and_free_space, memory_thresholds,
	   load_threshold, temperature_thresholds, clock_sanity,
	   liveness_detects_a_stuck_subsystem, backup_link_verdict_table,
	   backup_link_check_opens_no_socket,
	   network_interface_up_down_missing);

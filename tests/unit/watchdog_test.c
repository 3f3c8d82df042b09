/*
 * watchdog_test.c — the watchdog owner (firmware/health/watchdog.c) on the sim's
 * fake device: kicks every timeout/2 while healthy, stop exactly when a
 * required check has been unhealthy past its grace (marker written, the
 * fake device fires one timeout later), safe mode keeps kicking, magic
 * close on a graceful stop, device "none".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "health.h"
#include "log.h"
#include "test.h"
#include "watchdog.h"

#define DEV "/dev/watchdog0"

static struct health h;

static enum health_result pass(void *arg, uint64_t now, char *err)
{
	(void)arg; (void)now; (void)err; /* results come via health_record */
	return HEALTH_PASS;
}

/* h with one required check "storage" (grace 60 s), a watchdog with
 * timeout_s opened at 0, and boot state in a fresh dir. */
static void setup(int timeout_s, unsigned boot_status)
{
	struct health_check_def d = { .name = "storage", .fn = pass,
				      .start_period_ms = 1,
				      .grace_ms = 60000 };
	const char *dir = test_tmpdir();

	log_configure(LOG_ERR, 0, 0);
	hal_sim_wdt_install(DEV, 60, boot_status);
	health_init(&h, 0);
	CHECK_EQ_INT(health_add(&h, &d, 0), 0);
	CHECK_EQ_INT(watchdog_open(&h, DEV, timeout_s, 0), 0);
	CHECK_EQ_INT(boot_init(&h, dir, BOOT_DEF_SAFE_AFTER), 0);
}

/* Ticks every second over (from_ms, to_ms]; the sim clock follows. */
static void ticks(uint64_t from_ms, uint64_t to_ms)
{
	for (uint64_t t = from_ms + 1000; t <= to_ms; t += 1000) {
		hal_sim_clock_advance(1000);
		watchdog_tick(&h, t);
	}
}

TEST(open_sets_timeout_and_kicks_once)
{
	setup(30, 0);
	CHECK_EQ_INT(h.wdt.open, 1);
	CHECK_EQ_INT(h.wdt.timeout_s, 30);
	CHECK_EQ_INT(hal_sim_wdt_state()->timeout_s, 30);
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 1);
	CHECK_EQ_INT(h.wdt.kicks, 1);
	CHECK_EQ_INT(h.wdt.boot_status, 0);
	CHECK_EQ_STR(h.wdt.device, DEV);
	CHECK_EQ_INT(watchdog_tick_ms(&h), WATCHDOG_TICK_MAX_MS);
}

/* timeout 30 s: a kick at open, then every 15 s and never in between. */
TEST(kicks_every_half_timeout)
{
	setup(30, 0);
	for (uint64_t t = 1000; t <= 100000; t += 1000) {
		hal_sim_clock_advance(1000);
		CHECK_EQ_INT(watchdog_tick(&h, t), t % 15000 == 0 ? 1 : 0);
	}
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 1 + 6);
	CHECK_EQ_INT(hal_sim_wdt_state()->last_kick_ms, 90000);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0);
	CHECK_EQ_STR(h.wdt.gated, "");
}

/* storage turns unhealthy at 30 s; grace 60 s: the last kick is the one
 * at 90 s (unhealthy for exactly the grace), the tick at 91 s stops,
 * writes the marker, and the fake device fires 30 s after that kick. */
TEST(kicks_stop_exactly_after_grace)
{
	struct boot_record rec;
	uint8_t buf[BOOT_RECORD_SIZE];
	char path[HAL_PATH_MAX];

	setup(30, 0);
	snprintf(path, sizeof path, "%s", h.boot.path);
	for (uint64_t t = 1000; t <= 90000; t += 1000) {
		hal_sim_clock_advance(1000);
		if (t == 10000 || t == 20000 || t == 30000)
			health_record(&h, 0, HEALTH_FAIL, "not writable", t);
		watchdog_tick(&h, t);
	}
	REQUIRE(h.checks[0].state == HEALTH_UNHEALTHY);
	CHECK_EQ_INT(h.checks[0].last_change_ms, 30000);
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 1 + 6);
	CHECK_EQ_INT(hal_sim_wdt_state()->last_kick_ms, 90000);
	CHECK_EQ_INT(h.wdt.stopped, 0);
	CHECK_EQ_STR(h.wdt.gated, "");
	hal_sim_clock_advance(1000);
	CHECK_EQ_INT(watchdog_tick(&h, 91000), 0);
	CHECK_EQ_INT(h.wdt.stopped, 1);
	CHECK_EQ_STR(h.wdt.gated, "storage unhealthy for 61 s: not writable");
	REQUIRE(hal_storage_read(path, buf, sizeof buf) == BOOT_RECORD_SIZE);
	REQUIRE(boot_record_decode(buf, sizeof buf, &rec) == 0);
	CHECK_EQ_INT(rec.mark, BOOT_MARK_WATCHDOG);
	CHECK_EQ_STR(rec.reason, h.wdt.gated);
	/* healthy again: still no kicks (the stop is final) */
	health_record(&h, 0, HEALTH_PASS, "", 92000);
	for (uint64_t t = 92000; t <= 121000; t += 1000) {
		hal_sim_clock_advance(1000);
		CHECK_EQ_INT(watchdog_tick(&h, t), 0);
	}
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 1 + 6);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 1);
}

/* The next boot reads the marker and the device's CARDRESET. */
TEST(next_boot_reports_the_watchdog_reason)
{
	char dir[HAL_PATH_MAX];
	size_t n;

	setup(30, 0);
	n = strlen(h.boot.path) - strlen("/" BOOT_STATE_FILE);
	memcpy(dir, h.boot.path, n);
	dir[n] = '\0';
	for (uint64_t t = 0; t < 3; t++)
		health_record(&h, 0, HEALTH_FAIL, "disk full", 1000 + t);
	hal_sim_clock_advance(70000);
	watchdog_tick(&h, 70000);
	REQUIRE(h.wdt.stopped == 1);
	/* reboot: the device reports the card reset */
	hal_sim_wdt_install(DEV, 30, HAL_WDT_CARDRESET);
	health_init(&h, 0);
	CHECK_EQ_INT(watchdog_open(&h, DEV, 30, 0), 0);
	CHECK_EQ_INT(boot_init(&h, dir, 3), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_WATCHDOG);
	CHECK_EQ_STR(h.boot.reason, "storage unhealthy for 68 s: disk full");
	CHECK_EQ_INT(h.boot.count, 2);
	CHECK_EQ_INT(h.boot.watchdog_streak, 1);
	CHECK_EQ_INT(h.boot.safe_mode, 0);
}

/* In safe mode the verdict is shown but the kicks go on. */
TEST(safe_mode_keeps_kicking)
{
	setup(30, 0);
	h.boot.safe_mode = 1;
	for (uint64_t t = 0; t < 3; t++)
		health_record(&h, 0, HEALTH_FAIL, "bad", 1000 + t);
	ticks(0, 200000);
	CHECK_EQ_INT(h.wdt.stopped, 0);
	CHECK(strstr(h.wdt.gated, "storage unhealthy") != NULL);
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 1 + 13);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0);
}

TEST(kick_failure_is_counted_and_retried)
{
	setup(30, 0);
	hal_sim_clock_advance(15000);
	hal_sim_fail_after(1, -EIO);
	CHECK_EQ_INT(watchdog_tick(&h, 15000), -EIO);
	CHECK_EQ_INT(h.wdt.kick_errors, 1);
	hal_sim_clock_advance(1000);
	CHECK_EQ_INT(watchdog_tick(&h, 16000), 1);
	CHECK_EQ_INT(hal_sim_wdt_state()->last_kick_ms, 16000);
}

TEST(graceful_stop_is_a_magic_close)
{
	setup(30, 0);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->magic_closed, 1);
	CHECK_EQ_INT(hal_sim_wdt_state()->armed, 0);
	CHECK_EQ_INT(h.wdt.open, 0);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0); /* nothing open: fine */
	hal_sim_clock_advance(100000);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0);
}

TEST(no_device_gates_without_kicking)
{
	struct health_check_def d = { .name = "storage", .fn = pass,
				      .start_period_ms = 1, .grace_ms = 1000 };

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	CHECK_EQ_INT(health_add(&h, &d, 0), 0);
	CHECK_EQ_INT(watchdog_open(&h, "none", 30, 0), 0);
	CHECK_EQ_INT(h.wdt.open, 0);
	CHECK_EQ_STR(h.wdt.device, "");
	CHECK(h.wdt.boot_status < 0);
	CHECK_EQ_INT(watchdog_tick(&h, 20000), 0);
	for (uint64_t t = 0; t < 3; t++)
		health_record(&h, 0, HEALTH_FAIL, "x", 1000 + t);
	CHECK_EQ_INT(watchdog_tick(&h, 3003), 0);
	CHECK_EQ_INT(h.wdt.stopped, 1);
	CHECK_EQ_INT(h.wdt.kicks, 0);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0);
}

TEST(open_errors)
{
	char longdev[HEALTH_DEVICE_MAX + 1];

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	CHECK_EQ_INT(watchdog_open(&h, DEV, 30, 0), -ENOENT);
	CHECK_EQ_INT(h.wdt.open, 0);
	CHECK_EQ_INT(watchdog_open(&h, DEV, 0, 0), -EINVAL);
	memset(longdev, 'd', sizeof longdev - 1);
	longdev[sizeof longdev - 1] = '\0';
	CHECK_EQ_INT(watchdog_open(&h, longdev, 30, 0), -EINVAL);
	hal_sim_wdt_install(DEV, 30, 0);
	/* the sim accepts 1..2046 s: 5000 is refused and assumed */
	CHECK_EQ_INT(watchdog_open(&h, DEV, 5000, 0), 0);
	CHECK_EQ_INT(h.wdt.timeout_s, 5000);
	CHECK_EQ_INT(watchdog_tick_ms(&h), WATCHDOG_TICK_MAX_MS);
	h.wdt.timeout_s = 1;
	CHECK_EQ_INT(watchdog_tick_ms(&h), 250);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0);
}

TEST_SUITE(watchdog, open_sets_timeout_and_kicks_once,
	   kicks_every_half_timeout, kicks_stop_exactly_after_grace,
	   next_boot_reports_the_watchdog_reason, safe_mode_keeps_kicking,
	   kick_failure_is_counted_and_retried,
	   graceful_stop_is_a_magic_close, no_device_gates_without_kicking,
	   open_errors);

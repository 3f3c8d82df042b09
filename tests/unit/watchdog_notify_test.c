/*
 * watchdog_notify_test.c — systemd notification from the watchdog owner
 * (firmware/health/watchdog.c) on the sim's recorded notify socket: READY=1 and
 * STOPPING=1 on request, WATCHDOG=1 every WATCHDOG_USEC / 2 from the same
 * gated tick as the hardware kick, stopping exactly when the kicks stop,
 * with or without a watchdog device.
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

/* One required check "storage" (grace 60 s), device dev ("none" or DEV
 * with timeout 30 s), notification env (socket, usec), boot state. */
static void setup(const char *dev, const char *sock, uint64_t usec)
{
	struct health_check_def d = { .name = "storage", .fn = pass,
				      .start_period_ms = 1,
				      .grace_ms = 60000 };

	log_configure(LOG_ERR, 0, 0);
	hal_sim_wdt_install(DEV, 60, 0);
	hal_sim_notify_env_set(sock, usec);
	health_init(&h, 0);
	CHECK_EQ_INT(health_add(&h, &d, 0), 0);
	CHECK_EQ_INT(watchdog_open(&h, dev, 30, 0), 0);
	CHECK_EQ_INT(boot_init(&h, test_tmpdir(), BOOT_DEF_SAFE_AFTER), 0);
}

/* Takes every recorded message; returns how many were equal to want
 * (the sim records no time, so callers drain after every tick). */
static unsigned drain(const char *want)
{
	char m[HAL_NOTIFY_MSG_MAX];
	unsigned n = 0;

	while (hal_sim_notify_take(m, sizeof m) >= 0)
		n += strcmp(m, want) == 0;
	return n;
}

TEST(no_notify_socket_sends_nothing)
{
	setup(DEV, NULL, 0);
	CHECK_EQ_INT(watchdog_notify_open(&h, 0), 0);
	CHECK_EQ_INT(watchdog_notify(&h, "READY=1"), 0);
	for (uint64_t t = 1000; t <= 60000; t += 1000)
		watchdog_tick(&h, t);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0);
	CHECK_EQ_INT(hal_sim_notify_sent(), 0);
	CHECK_EQ_INT(watchdog_tick_ms(&h), WATCHDOG_TICK_MAX_MS);
}

TEST(ready_stopping_and_the_interval)
{
	char m[HAL_NOTIFY_MSG_MAX];

	setup(DEV, "@vigil", 2000000); /* WATCHDOG_USEC 2 s */
	CHECK_EQ_INT(watchdog_notify_open(&h, 0), 1);
	CHECK_EQ_INT(h.wdt.notify_ms, 1000);
	CHECK_EQ_INT(watchdog_tick_ms(&h), 500); /* 2 s / 4 */
	CHECK_EQ_INT(watchdog_notify(&h, "READY=1"), 0);
	CHECK_EQ_INT(hal_sim_notify_take(m, sizeof m), 7);
	CHECK_EQ_STR(m, "READY=1");
	/* the first tick notifies at once, then every second */
	for (uint64_t t = 500; t <= 10000; t += 500) {
		hal_sim_clock_advance(500);
		watchdog_tick(&h, t);
		CHECK_EQ_INT(drain("WATCHDOG=1"), t % 1000 == 500 ? 1 : 0);
	}
	CHECK_EQ_INT(h.wdt.notifies, 10);
	CHECK_EQ_INT(watchdog_close(&h, 1), 0);
	CHECK_EQ_INT(hal_sim_notify_take(m, sizeof m), 10);
	CHECK_EQ_STR(m, "STOPPING=1");
	CHECK_EQ_INT(h.wdt.notify.fd, -1);
	CHECK_EQ_INT(watchdog_notify(&h, "READY=1"), 0); /* closed: nothing */
	CHECK_EQ_INT(hal_sim_notify_take(m, sizeof m), -EAGAIN);
}

/* storage unhealthy from 30 s, grace 60 s (WATCHDOG_USEC 2 s: one
 * WATCHDOG=1 per 1 s tick): the last WATCHDOG=1 goes out at 90 s with
 * the hardware's last kick, the tick at 91 s stops both, and none
 * follows, even after the check recovers.  Without a device the marker
 * is written all the same: the service manager will restart vigild. */
static void stop_follows_kicks(const char *dev)
{
	struct boot_record rec;
	uint8_t buf[BOOT_RECORD_SIZE];
	uint64_t last_notify_at = 0, last_kick = 0;
	char path[HAL_PATH_MAX];
	char m[HAL_NOTIFY_MSG_MAX];

	setup(dev, "/run/systemd/notify", 2000000);
	snprintf(path, sizeof path, "%s", h.boot.path);
	REQUIRE(watchdog_notify_open(&h, 0) == 1);
	for (uint64_t t = 1000; t <= 150000; t += 1000) {
		hal_sim_clock_advance(1000);
		if (t == 10000 || t == 20000 || t == 30000)
			health_record(&h, 0, HEALTH_FAIL, "not writable", t);
		if (t == 100000)
			health_record(&h, 0, HEALTH_PASS, "", t);
		if (watchdog_tick(&h, t) == 1)
			last_kick = t;
		if (h.wdt.stopped && h.wdt.notify_errors == 0 &&
		    hal_sim_notify_take(m, sizeof m) >= 0) {
			/* the one message of the stop: why */
			CHECK_EQ_STR(m, "STATUS=stopping watchdog kicks: "
				     "storage unhealthy for 61 s: not writable");
			CHECK_EQ_INT(t, 91000);
		}
		if (drain("WATCHDOG=1"))
			last_notify_at = t;
	}
	CHECK_EQ_INT(h.wdt.stopped, 1);
	CHECK_EQ_INT(last_notify_at, 90000);
	CHECK_EQ_INT(h.wdt.notifies, 90);
	CHECK_EQ_INT(last_kick, strcmp(dev, "none") ? 90000 : 0);
	REQUIRE(hal_storage_read(path, buf, sizeof buf) == BOOT_RECORD_SIZE);
	REQUIRE(boot_record_decode(buf, sizeof buf, &rec) == 0);
	CHECK_EQ_INT(rec.mark, BOOT_MARK_WATCHDOG);
}

TEST(watchdog_notify_stops_with_the_kicks)
{
	stop_follows_kicks(DEV);
}

TEST(watchdog_notify_without_a_device)
{
	stop_follows_kicks("none");
	CHECK_EQ_INT(h.wdt.open, 0);
}

/* Safe mode keeps kicking on a bad verdict, and keeps notifying. */
TEST(safe_mode_keeps_notifying)
{
	setup("none", "@vigil", 2000000);
	REQUIRE(watchdog_notify_open(&h, 0) == 1);
	h.boot.safe_mode = 1;
	for (uint64_t t = 0; t < 3; t++)
		health_record(&h, 0, HEALTH_FAIL, "bad", 1000 + t);
	for (uint64_t t = 1000; t <= 200000; t += 1000) {
		watchdog_tick(&h, t);
		CHECK_EQ_INT(drain("WATCHDOG=1"), 1);
	}
	CHECK_EQ_INT(h.wdt.stopped, 0);
	CHECK_EQ_INT(h.wdt.notifies, 200);
	CHECK_EQ_INT(h.wdt.notify_errors, 0);
}

TEST(malformed_socket_is_ignored)
{
	setup(DEV, "relative/path", 2000000);
	CHECK_EQ_INT(watchdog_notify_open(&h, 0), -EINVAL);
	CHECK_EQ_INT(h.wdt.notify.fd, -1);
	watchdog_tick(&h, 1000);
	CHECK_EQ_INT(hal_sim_notify_sent(), 0);
}

TEST_SUITE(watchdog_notify, no_notify_socket_sends_nothing,
	   ready_stopping_and_the_interval,
	   watchdog_notify_stops_with_the_kicks,
	   watchdog_notify_without_a_device, safe_mode_keeps_notifying,
	   malformed_socket_is_ignored)

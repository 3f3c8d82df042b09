/*
 * sim_wdt_test.c — the sim's fake watchdog: firing after the timeout
 * without kicks, not firing while kicked or after a magic close.
 */
#include <errno.h>

#include "hal/poll.h"
#include "hal/sim.h"
#include "hal/wdt.h"
#include "test.h"

#define DEV "/dev/watchdog0"

TEST(not_installed_is_enoent)
{
	struct hal_wdt w = HAL_WDT_INIT;

	CHECK_EQ_INT(hal_wdt_open(&w, DEV), -ENOENT);
	hal_sim_wdt_install(DEV, 30, 0);
	CHECK_EQ_INT(hal_wdt_open(&w, "/dev/watchdog1"), -ENOENT);
	CHECK_EQ_INT(hal_wdt_open(&w, DEV), 0);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), 0);
}

TEST(fires_after_timeout_without_kicks)
{
	struct hal_wdt w = HAL_WDT_INIT;

	hal_sim_wdt_install(DEV, 30, 0);
	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->armed, 1);
	hal_sim_clock_advance(30000);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0); /* exactly at timeout */
	hal_sim_clock_advance(1);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 1);
	/* a late kick does not undo a reset */
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 1);
}

TEST(kicks_keep_it_quiet)
{
	struct hal_wdt w = HAL_WDT_INIT;

	hal_sim_wdt_install(DEV, 10, 0);
	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	for (int i = 0; i < 30; i++) {
		/* time passes through hal_poll too */
		CHECK_EQ_INT(hal_poll(NULL, 0, 9000), 0);
		CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	}
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 30);
	CHECK_EQ_INT(hal_sim_wdt_state()->last_kick_ms, 270000);
}

TEST(magic_close_disarms_plain_close_does_not)
{
	struct hal_wdt w = HAL_WDT_INIT;

	hal_sim_wdt_install(DEV, 5, 0);
	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), 0);
	hal_sim_clock_advance(60000);
	CHECK_EQ_INT(hal_sim_wdt_state()->armed, 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->magic_closed, 1);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 0);

	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	CHECK_EQ_INT(hal_wdt_close(&w, 0), 0);
	CHECK_EQ_INT(hal_sim_wdt_state()->armed, 1);
	CHECK_EQ_INT(hal_sim_wdt_state()->magic_closed, 0);
	hal_sim_clock_advance(5001);
	CHECK_EQ_INT(hal_sim_wdt_state()->fired, 1);
}

TEST(timeouts_status_identity)
{
	struct hal_wdt w = HAL_WDT_INIT, w2 = HAL_WDT_INIT;
	char id[HAL_WDT_IDENTITY_MAX];

	hal_sim_wdt_install(DEV, 30, HAL_WDT_CARDRESET);
	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	CHECK_EQ_INT(hal_wdt_open(&w2, DEV), -EBUSY);
	CHECK_EQ_INT(hal_wdt_get_timeout(&w), 30);
	CHECK_EQ_INT(hal_wdt_set_timeout(&w, 10), 10);
	CHECK_EQ_INT(hal_wdt_get_timeout(&w), 10);
	CHECK_EQ_INT(hal_sim_wdt_state()->timeout_s, 10);
	CHECK_EQ_INT(hal_wdt_set_timeout(&w, 5000), -EINVAL);
	CHECK_EQ_INT(hal_wdt_boot_status(&w), HAL_WDT_CARDRESET);
	CHECK(hal_wdt_identity(&w, id, sizeof id) > 0);
	CHECK_EQ_INT(hal_wdt_identity(&w, id, 4), -ENOSPC);
	CHECK_EQ_STR(id, "");
	CHECK_EQ_INT(hal_wdt_close(&w, 1), 0);
}

TEST(kick_fault_is_eio)
{
	struct hal_wdt w = HAL_WDT_INIT;

	hal_sim_wdt_install(DEV, 30, 0);
	REQUIRE(hal_wdt_open(&w, DEV) == 0);
	hal_sim_fail_after(2, -EIO);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(hal_wdt_kick(&w), -EIO);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0); /* fires once */
	CHECK_EQ_INT(hal_sim_wdt_state()->kicks, 2);
	/* a failed magic write leaves it armed */
	hal_sim_fail_after(1, -EIO);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), -EIO);
	CHECK_EQ_INT(w.fd, -1);
	CHECK_EQ_INT(hal_sim_wdt_state()->armed, 1);
}

TEST_SUITE(sim_wdt, not_installed_is_enoent, fires_after_timeout_without_kicks,
	   kicks_keep_it_quiet, magic_close_disarms_plain_close_does_not,
	   timeouts_status_identity, kick_fault_is_eio)

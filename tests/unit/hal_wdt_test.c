/*
 * hal_wdt_test.c — contract of hal/wdt.h on both implementations; the
 * device comes from hal_test_env.h (sim device / plain file).
 */
#include <errno.h>
#include <stdio.h>

#include "hal/wdt.h"
#include "hal_test_env.h"
#include "test.h"

TEST(open_missing_device_is_enoent)
{
	struct hal_wdt w = HAL_WDT_INIT;
	char p[600];

	snprintf(p, sizeof p, "%s/no-watchdog", test_tmpdir());
	CHECK_EQ_INT(hal_wdt_open(&w, p), -ENOENT);
	CHECK_EQ_INT(w.fd, -1);
}

TEST(closed_handle_is_ebadf)
{
	struct hal_wdt w = HAL_WDT_INIT;
	char id[HAL_WDT_IDENTITY_MAX];

	CHECK_EQ_INT(hal_wdt_kick(&w), -EBADF);
	CHECK_EQ_INT(hal_wdt_set_timeout(&w, 10), -EBADF);
	CHECK_EQ_INT(hal_wdt_get_timeout(&w), -EBADF);
	CHECK_EQ_INT(hal_wdt_boot_status(&w), -EBADF);
	CHECK_EQ_INT(hal_wdt_identity(&w, id, sizeof id), -EBADF);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), -EBADF);
}

TEST(kick_then_magic_close)
{
	struct hal_wdt w = HAL_WDT_INIT;
	const char *dev = test_env_wdt_device();

	REQUIRE(hal_wdt_open(&w, dev) == 0);
	CHECK(w.fd >= 0);
	CHECK_EQ_INT(hal_wdt_open(&w, dev), -EALREADY);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(test_env_wdt_kicks(), 3);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), 0);
	CHECK_EQ_INT(w.fd, -1);
	CHECK_EQ_INT(test_env_wdt_magic_closed(), 1);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), -EBADF);
}

TEST(plain_close_is_not_magic)
{
	struct hal_wdt w = HAL_WDT_INIT;

	REQUIRE(hal_wdt_open(&w, test_env_wdt_device()) == 0);
	CHECK_EQ_INT(hal_wdt_kick(&w), 0);
	CHECK_EQ_INT(hal_wdt_close(&w, 0), 0);
	CHECK_EQ_INT(test_env_wdt_magic_closed(), 0);
	CHECK_EQ_INT(test_env_wdt_kicks(), 1);
}

TEST(argument_checks_on_open_handle)
{
	struct hal_wdt w = HAL_WDT_INIT;

	REQUIRE(hal_wdt_open(&w, test_env_wdt_device()) == 0);
	CHECK_EQ_INT(hal_wdt_set_timeout(&w, 0), -EINVAL);
	CHECK_EQ_INT(hal_wdt_set_timeout(&w, -5), -EINVAL);
	CHECK_EQ_INT(hal_wdt_identity(&w, NULL, 8), -EINVAL);
	CHECK_EQ_INT(hal_wdt_close(&w, 1), 0);
}

TEST_SUITE(hal_wdt, open_missing_device_is_enoent, closed_handle_is_ebadf,
	   kick_then_magic_close, plain_close_is_not_magic,
	   argument_checks_on_open_handle)

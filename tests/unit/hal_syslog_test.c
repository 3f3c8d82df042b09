/*
 * hal_syslog_test.c — contract of hal/syslog.h that holds whether or not
 * a logger runs: nothing is sent before open.
 */
#include <errno.h>

#include "hal/syslog.h"
#include "test.h"

TEST(send_before_open_is_enotconn)
{
	hal_syslog_close();
	CHECK_EQ_INT(hal_syslog_send(HAL_SYSLOG_INFO, "x", 1), -ENOTCONN);
	hal_syslog_close();
	CHECK_EQ_INT(hal_syslog_send(HAL_SYSLOG_ERR, "x", 1), -ENOTCONN);
}

TEST(open_send_close)
{
	int ret = hal_syslog_open("vigil-test");

	/* no logger on a build host is fine; anything else is not */
	CHECK(ret == 0 || ret == -ENOENT);
	if (ret == 0) {
		ret = hal_syslog_send(HAL_SYSLOG_DEBUG, "unit test", 9);
		CHECK(ret == 0 || ret == -EAGAIN);
		CHECK(hal_syslog_dropped() <= 1);
	}
	hal_syslog_close();
	CHECK_EQ_INT(hal_syslog_send(HAL_SYSLOG_INFO, "x", 1), -ENOTCONN);
}

TEST_SUITE(hal_syslog, send_before_open_is_enotconn, open_send_close)

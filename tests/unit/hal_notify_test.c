/*
 * hal_notify_test.c — contract of hal/notify.h on both implementations:
 * argument checks and the state machine (closed -> open -> closed).
 * Delivery to a real listener is in linux_notify_test.c (sim: recorded
 * messages are checked in watchdog_notify tests).
 */
#include <errno.h>
#include <string.h>

#include "hal/notify.h"
#include "test.h"

TEST(open_refuses_bad_paths)
{
	struct hal_notify n = HAL_NOTIFY_INIT;
	char longp[HAL_NOTIFY_PATH_MAX + 1];

	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	CHECK_EQ_INT(hal_notify_open(&n, ""), -EINVAL);
	CHECK_EQ_INT(hal_notify_open(&n, "relative/sock"), -EINVAL);
	CHECK_EQ_INT(hal_notify_open(&n, "@"), -EINVAL);
	CHECK_EQ_INT(hal_notify_open(&n, longp), -EINVAL);
	CHECK_EQ_INT(n.fd, -1);
}

TEST(send_needs_open_and_bounded_message)
{
	struct hal_notify n = HAL_NOTIFY_INIT;
	char big[HAL_NOTIFY_MSG_MAX + 1];

	CHECK_EQ_INT(hal_notify_send(&n, "READY=1"), -EBADF);
	REQUIRE(hal_notify_open(&n, "@vigil-test-nobody") == 0);
	CHECK_EQ_INT(hal_notify_open(&n, "@vigil-test-nobody"), -EALREADY);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_EQ_INT(hal_notify_send(&n, big), -EMSGSIZE);
	hal_notify_close(&n);
	CHECK_EQ_INT(n.fd, -1);
	CHECK_EQ_INT(hal_notify_send(&n, "READY=1"), -EBADF);
	hal_notify_close(&n); /* closing twice is harmless */
}

TEST_SUITE(hal_notify, open_refuses_bad_paths,
	   send_needs_open_and_bounded_message)

/*
 * hal_signal_test.c — contract of hal/signal.h on both implementations.
 * Signals are delivered with test_env_raise (raise() / the sim's raise).
 */
#include <errno.h>

#include "hal/poll.h"
#include "hal/signal.h"
#include "hal_test_env.h"
#include "test.h"

/* hal_poll on fd, repeated while it reports -EINTR (a real or simulated
 * signal interrupting the wait is allowed once per signal). */
static int poll_in(int fd, int timeout_ms, unsigned short *rev)
{
	struct hal_pollfd p = { fd, HAL_POLLIN, 0 };
	int n = -EINTR;

	for (int i = 0; i < 4 && n == -EINTR; i++)
		n = hal_poll(&p, 1, timeout_ms);
	*rev = p.revents;
	return n;
}

TEST(open_twice_is_ebusy)
{
	int fd = hal_signal_open();

	CHECK(fd >= 0);
	CHECK_EQ_INT(hal_signal_open(), -EBUSY);
	CHECK_EQ_INT(hal_signal_next(), 0);
	hal_signal_close();
	hal_signal_close(); /* harmless */
	fd = hal_signal_open();
	CHECK(fd >= 0);
	hal_signal_close();
}

TEST(next_is_oldest_first_and_repeats_collapse)
{
	unsigned short rev = 0;
	int fd = hal_signal_open();

	REQUIRE(fd >= 0);
	CHECK_EQ_INT(poll_in(fd, 0, &rev), 0);
	test_env_raise(HAL_SIG_HUP);
	test_env_raise(HAL_SIG_TERM);
	test_env_raise(HAL_SIG_HUP);
	CHECK_EQ_INT(poll_in(fd, 0, &rev), 1);
	CHECK_EQ_INT(rev, HAL_POLLIN);
	CHECK_EQ_INT(hal_signal_next(), HAL_SIG_HUP);
	/* still readable while one is left */
	CHECK_EQ_INT(poll_in(fd, 0, &rev), 1);
	CHECK_EQ_INT(hal_signal_next(), HAL_SIG_TERM);
	CHECK_EQ_INT(hal_signal_next(), 0);
	CHECK_EQ_INT(poll_in(fd, 0, &rev), 0);
	hal_signal_close();
}

TEST(int_is_reported)
{
	unsigned short rev = 0;
	int fd = hal_signal_open();

	REQUIRE(fd >= 0);
	test_env_raise(HAL_SIG_INT);
	CHECK_EQ_INT(poll_in(fd, 100, &rev), 1);
	CHECK_EQ_INT(hal_signal_next(), HAL_SIG_INT);
	hal_signal_close();
}

TEST_SUITE(hal_signal, open_twice_is_ebusy,
	   next_is_oldest_first_and_repeats_collapse, int_is_reported)

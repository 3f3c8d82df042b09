/*
 * sim_poll_test.c — virtual time through hal_poll on the sim (see the top
 * of hal/sim/poll.c).
 */
#include <errno.h>

#include "hal/clock.h"
#include "hal/net.h"
#include "hal/poll.h"
#include "hal/signal.h"
#include "hal/sim.h"
#include "test.h"

static struct hal_addr addr(const char *text, uint16_t port)
{
	struct hal_addr a;

	hal_net_addr_parse(text, port, &a);
	return a;
}

TEST(timeout_advances_the_clock)
{
	CHECK_EQ_INT(hal_clock_mono_ms(), 0);
	CHECK_EQ_INT(hal_poll(NULL, 0, 500), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 500);
	CHECK_EQ_INT(hal_poll(NULL, 0, 0), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 500);
}

TEST(forever_without_events_returns_at_once)
{
	int fd = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);
	struct hal_pollfd p = { fd, HAL_POLLIN, 0 };

	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hal_poll(&p, 1, -1), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 0);
}

TEST(clock_jumps_to_the_next_scripted_event)
{
	struct hal_sim_peer peer = { addr("192.0.2.7", 443), HAL_SOCK_STREAM,
				     0, 300, NULL, 0 };
	struct hal_pollfd p;
	int fd;

	REQUIRE(hal_sim_net_add_peer(&peer) == 0);
	fd = hal_net_socket(HAL_AF_INET, HAL_SOCK_STREAM);
	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hal_net_connect(fd, &peer.addr), -EINPROGRESS);
	p.fd = fd;
	p.events = HAL_POLLOUT;
	/* the deadline comes first */
	CHECK_EQ_INT(hal_poll(&p, 1, 100), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 100);
	/* then the connect completes at 300, before the 10 s deadline */
	CHECK_EQ_INT(hal_poll(&p, 1, 10000), 1);
	CHECK_EQ_INT(hal_clock_mono_ms(), 300);
	CHECK_EQ_INT(p.revents, HAL_POLLOUT);
	CHECK_EQ_INT(hal_net_connect_result(fd), 0);
}

TEST(forever_waits_for_a_future_event)
{
	struct hal_sim_peer peer = { addr("192.0.2.8", 80), HAL_SOCK_STREAM,
				     0, 2500, NULL, 0 };
	struct hal_pollfd p;
	int fd = hal_net_socket(HAL_AF_INET, HAL_SOCK_STREAM);

	REQUIRE(fd >= 0);
	REQUIRE(hal_sim_net_add_peer(&peer) == 0);
	CHECK_EQ_INT(hal_net_connect(fd, &peer.addr), -EINPROGRESS);
	p.fd = fd;
	p.events = HAL_POLLOUT;
	CHECK_EQ_INT(hal_poll(&p, 1, -1), 1);
	CHECK_EQ_INT(hal_clock_mono_ms(), 2500);
}

TEST(signal_interrupts_once)
{
	int fd = hal_signal_open();
	struct hal_pollfd p = { fd, HAL_POLLIN, 0 };

	REQUIRE(fd >= 0);
	hal_sim_signal_raise(HAL_SIG_TERM);
	CHECK_EQ_INT(hal_poll(&p, 1, 1000), -EINTR);
	CHECK_EQ_INT(hal_clock_mono_ms(), 0);
	CHECK_EQ_INT(hal_poll(&p, 1, 1000), 1);
	CHECK_EQ_INT(p.revents, HAL_POLLIN);
	CHECK_EQ_INT(hal_signal_next(), HAL_SIG_TERM);
	CHECK_EQ_INT(hal_poll(&p, 1, 0), 0);
	hal_signal_close();
	/* no handler installed: the raise is ignored */
	hal_sim_signal_raise(HAL_SIG_HUP);
	CHECK_EQ_INT(hal_poll(NULL, 0, 0), 0);
}

TEST(non_sim_descriptor_is_nval)
{
	struct hal_pollfd p = { 0, HAL_POLLIN, 0 };

	CHECK_EQ_INT(hal_poll(&p, 1, 0), 1);
	CHECK_EQ_INT(p.revents, HAL_POLLNVAL);
}

TEST_SUITE(sim_poll, timeout_advances_the_clock,
	   forever_without_events_returns_at_once,
	   clock_jumps_to_the_next_scripted_event,
	   forever_waits_for_a_future_event, signal_interrupts_once,
	   non_sim_descriptor_is_nval)

/*
 * hal_poll_test.c — contract of hal/poll.h on both implementations.
 */
#include <errno.h>

#include "hal/net.h"
#include "hal/poll.h"
#include "test.h"

TEST(too_many_entries_is_einval)
{
	static struct hal_pollfd fds[HAL_POLL_MAX + 1];

	for (unsigned i = 0; i <= HAL_POLL_MAX; i++)
		fds[i].fd = -1;
	CHECK_EQ_INT(hal_poll(fds, HAL_POLL_MAX + 1, 0), -EINVAL);
	/* exactly the maximum is fine (all ignored: negative fds) */
	CHECK_EQ_INT(hal_poll(fds, HAL_POLL_MAX, 0), 0);
}

TEST(null_set_with_entries_is_einval)
{
	CHECK_EQ_INT(hal_poll(NULL, 1, 0), -EINVAL);
	CHECK_EQ_INT(hal_poll(NULL, 0, 0), 0);
}

TEST(udp_socket_is_writable_not_readable)
{
	struct hal_addr a;
	struct hal_pollfd p;
	int fd = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(fd >= 0);
	REQUIRE(hal_net_addr_parse("127.0.0.1", 0, &a) == 0);
	REQUIRE(hal_net_bind(fd, &a, 0) == 0);
	p.fd = fd;
	p.events = HAL_POLLIN | HAL_POLLOUT;
	p.revents = 0;
	CHECK_EQ_INT(hal_poll(&p, 1, 0), 1);
	CHECK_EQ_INT(p.revents, HAL_POLLOUT);
	p.events = HAL_POLLIN;
	CHECK_EQ_INT(hal_poll(&p, 1, 10), 0);
	CHECK_EQ_INT(p.revents, 0);
	hal_net_close(fd);
}

TEST(closed_descriptor_is_nval_negative_is_ignored)
{
	struct hal_pollfd p[2];
	int fd = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(fd >= 0);
	REQUIRE(hal_net_close(fd) == 0);
	p[0].fd = fd;
	p[0].events = HAL_POLLIN;
	p[1].fd = -1;
	p[1].events = HAL_POLLIN;
	CHECK_EQ_INT(hal_poll(p, 2, 0), 1);
	CHECK_EQ_INT(p[0].revents, HAL_POLLNVAL);
	CHECK_EQ_INT(p[1].revents, 0);
}

TEST_SUITE(hal_poll, too_many_entries_is_einval,
	   null_set_with_entries_is_einval, udp_socket_is_writable_not_readable,
	   closed_descriptor_is_nval_negative_is_ignored)

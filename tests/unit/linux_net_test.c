/*
 * linux_net_test.c — hal/linux/net.c with a real peer on loopback:
 * hal_net_sendto_many delivers every datagram, in order, byte for byte.
 */
#include <errno.h>
#include <string.h>

#include "hal/net.h"
#include "test.h"

TEST(sendto_many_delivers_in_order)
{
	static const char *const text[] = { "one", "", "three", "x" };
	struct hal_addr a, to, from;
	struct hal_dgram d[4];
	char buf[16];
	int tx = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);
	int rx = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(tx >= 0 && rx >= 0);
	REQUIRE(hal_net_addr_parse("127.0.0.1", 0, &a) == 0);
	REQUIRE(hal_net_bind(rx, &a, 0) == 0 && hal_net_bind(tx, &a, 0) == 0);
	REQUIRE(hal_net_local_addr(rx, &to) == 0);
	for (unsigned i = 0; i < 4; i++)
		d[i] = (struct hal_dgram){ text[i], strlen(text[i]), &to };
	CHECK_EQ_INT(hal_net_sendto_many(tx, d, 4), 4);
	for (unsigned i = 0; i < 4; i++) {
		int n = hal_net_recvfrom(rx, buf, sizeof buf, &from);

		CHECK_EQ_INT(n, (int)strlen(text[i]));
		CHECK(n >= 0 && memcmp(buf, text[i], (size_t)n) == 0);
	}
	CHECK_EQ_INT(hal_net_recvfrom(rx, buf, sizeof buf, &from), -EAGAIN);
	hal_net_close(tx);
	hal_net_close(rx);
}

TEST_SUITE(linux_net, sendto_many_delivers_in_order)

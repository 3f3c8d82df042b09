/*
 * hal_netif_test.c — contract of hal/netif.h on both implementations:
 * the loopback interface is up (sim's start state mirrors the kernel's:
 * operstate unknown, IFF_UP, carrier), unknown names are -ENOENT, and
 * names that cannot be interfaces are refused before any lookup.
 */
#include <errno.h>
#include <string.h>

#include "hal/netif.h"
#include "test.h"

TEST(loopback_is_up)
{
	struct hal_netif st;

	memset(&st, 0xa5, sizeof st);
	REQUIRE(hal_netif_read("lo", &st) == 0);
	CHECK_EQ_INT(st.up, 1);
	CHECK_EQ_INT(st.admin_up, 1);
	/* lo reports "unknown" (it has no operstate); some kernels "up" */
	CHECK(st.oper == HAL_NETIF_OPER_UNKNOWN ||
	      st.oper == HAL_NETIF_OPER_UP);
	CHECK(st.carrier == 1 || st.oper == HAL_NETIF_OPER_UP);
}

TEST(missing_interface_is_enoent)
{
	struct hal_netif st;

	CHECK_EQ_INT(hal_netif_read("vigilnone0", &st), -ENOENT);
}

TEST(bad_names_are_einval)
{
	struct hal_netif st;
	static const char *const bad[] = { "", ".", "..", "a/b", "../lo",
		"eth 0", "x234567890123456", "lo\n" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (hal_netif_read(bad[i], &st) != -EINVAL)
			test_fail(__FILE__, __LINE__, "name `%s` not -EINVAL",
				  bad[i]);
	CHECK_EQ_INT(hal_netif_read(NULL, &st), -EINVAL);
	CHECK_EQ_INT(hal_netif_read("lo", NULL), -EINVAL);
	/* 15 bytes is the longest name: not refused for its length */
	CHECK_EQ_INT(hal_netif_read("x23456789012345", &st), -ENOENT);
}

TEST(oper_names)
{
	CHECK_EQ_STR(hal_netif_oper_name(HAL_NETIF_OPER_UP), "up");
	CHECK_EQ_STR(hal_netif_oper_name(HAL_NETIF_OPER_DOWN), "down");
	CHECK_EQ_STR(hal_netif_oper_name(HAL_NETIF_OPER_LOWERLAYERDOWN),
		     "lowerlayerdown");
	CHECK_EQ_STR(hal_netif_oper_name((enum hal_netif_oper)99), "unknown");
}

TEST_SUITE(hal_netif, loopback_is_up, missing_interface_is_enoent,
	   bad_names_are_einval, oper_names)

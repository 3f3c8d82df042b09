/*
 * hal_net_test.c — the parts of hal/net.h's contract that need no remote
 * peer, run unchanged against hal/sim and hal/linux: address text,
 * socket/bind/listen misuse, options, and the codes of unconnected
 * sockets.  Traffic with a peer is tested per side (linux_net_test.c
 * over real loopback, sim_net_test.c with scripted peers).
 */
#include <errno.h>

#include "hal/net.h"
#include "test.h"

static struct hal_addr addr(const char *text, uint16_t port)
{
	struct hal_addr a;

	memset(&a, 0, sizeof a);
	if (hal_net_addr_parse(text, port, &a) != 0)
		test_fail(__FILE__, __LINE__, "parse %s", text);
	return a;
}

TEST(parse_v4)
{
	struct hal_addr a;

	CHECK_EQ_INT(hal_net_addr_parse("192.0.2.1", 80, &a), 0);
	CHECK_EQ_INT(a.family, HAL_AF_INET);
	CHECK_EQ_INT(a.port, 80);
	CHECK_EQ_MEM(a.ip, "\xc0\x00\x02\x01", 4);
	CHECK_EQ_INT(a.scope, 0);
}

TEST(parse_v6_and_scope)
{
	struct hal_addr a;

	CHECK_EQ_INT(hal_net_addr_parse("::1", 5683, &a), 0);
	CHECK_EQ_INT(a.family, HAL_AF_INET6);
	CHECK_EQ_INT(a.ip[15], 1);
	CHECK_EQ_INT(a.scope, 0);
	CHECK_EQ_INT(hal_net_addr_parse("fe80::1%2", 1, &a), 0);
	CHECK_EQ_INT(a.ip[0], 0xfe);
	CHECK_EQ_INT(a.ip[1], 0x80);
	CHECK_EQ_INT(a.scope, 2);
	CHECK_EQ_INT(hal_net_addr_parse("fe80::1%4294967295", 1, &a), 0);
	CHECK_EQ_INT(a.scope, 4294967295u);
}

TEST(parse_rejects_non_numeric)
{
	static const char *bad[] = {
		"", "localhost", "256.0.0.1", "1.2.3", "[::1]", "::1:80x",
		"192.0.2.1:80", "fe80::1%", "fe80::1%eth0",
		"fe80::1%4294967296", "1.2.3.4%1", ":::",
	};
	struct hal_addr a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (hal_net_addr_parse(bad[i], 1, &a) != -EINVAL)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
	CHECK_EQ_INT(hal_net_addr_parse(NULL, 1, &a), -EINVAL);
}

TEST(format_v4_v6_scope)
{
	struct hal_addr a = addr("192.0.2.1", 8080);
	char buf[HAL_ADDR_TEXT_MAX];

	CHECK_EQ_INT(hal_net_addr_format(&a, buf, sizeof buf), 14);
	CHECK_EQ_STR(buf, "192.0.2.1:8080");
	a = addr("2001:db8::1", 443);
	CHECK_EQ_INT(hal_net_addr_format(&a, buf, sizeof buf), 17);
	CHECK_EQ_STR(buf, "[2001:db8::1]:443");
	a = addr("fe80::1%3", 0);
	CHECK_EQ_INT(hal_net_addr_format(&a, buf, sizeof buf), 13);
	CHECK_EQ_STR(buf, "[fe80::1%3]:0");
}

TEST(format_longest_fits_text_max)
{
	struct hal_addr a =
		addr("1111:2222:3333:4444:5555:6666:7777:8888%4294967295",
		     65535);
	char buf[HAL_ADDR_TEXT_MAX];
	int n = hal_net_addr_format(&a, buf, sizeof buf);

	CHECK_EQ_INT(n, 58); /* 1 + 39 + 1 + 10 + 2 + 5 */
	CHECK(n > 0 && (size_t)n < sizeof buf);
}

TEST(format_enospc_at_exact_boundary)
{
	struct hal_addr a = addr("10.0.0.1", 1); /* "10.0.0.1:1": 10 */
	char buf[16];

	memset(buf, 'x', sizeof buf);
	CHECK_EQ_INT(hal_net_addr_format(&a, buf, 10), -ENOSPC);
	CHECK_EQ_STR(buf, "");
	CHECK_EQ_INT(hal_net_addr_format(&a, buf, 11), 10);
	CHECK_EQ_STR(buf, "10.0.0.1:1");
	CHECK_EQ_INT(hal_net_addr_format(&a, NULL, 0), -ENOSPC);
	a.family = 99;
	CHECK_EQ_INT(hal_net_addr_format(&a, buf, sizeof buf), -EINVAL);
}

TEST(resolve_numeric_and_localhost)
{
	struct hal_addr out[4];
	int n;

	CHECK_EQ_INT(hal_net_resolve("127.0.0.1", 7, out, 4), 1);
	CHECK_EQ_INT(out[0].family, HAL_AF_INET);
	CHECK_EQ_INT(out[0].port, 7);
	CHECK_EQ_INT(out[0].ip[0], 127);
	n = hal_net_resolve("localhost", 9, out, 1);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(out[0].port, 9);
	CHECK_EQ_INT(hal_net_resolve(NULL, 1, out, 4), -EINVAL);
	CHECK_EQ_INT(hal_net_resolve("", 1, out, 4), -EINVAL);
	CHECK_EQ_INT(hal_net_resolve("127.0.0.1", 1, out, 0), -EINVAL);
}

TEST(socket_bad_arguments)
{
	CHECK_EQ_INT(hal_net_socket(5, HAL_SOCK_STREAM), -EAFNOSUPPORT);
	CHECK_EQ_INT(hal_net_socket(HAL_AF_INET, 99), -EINVAL);
}

TEST(bind_cases)
{
	struct hal_addr a = addr("127.0.0.1", 0), got;
	int u1 = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);
	int u2 = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(u1 >= 0 && u2 >= 0);
	CHECK_EQ_INT(hal_net_bind(u1, &a, 0), 0);
	CHECK_EQ_INT(hal_net_local_addr(u1, &got), 0);
	CHECK(got.port != 0); /* the system chose one */
	CHECK_EQ_INT(got.ip[0], 127);
	CHECK_EQ_INT(hal_net_bind(u1, &a, 0), -EINVAL); /* already bound */
	CHECK_EQ_INT(hal_net_bind(u2, &got, 0), -EADDRINUSE);
	a = addr("192.0.2.1", 0); /* TEST-NET-1: not a local address */
	CHECK_EQ_INT(hal_net_bind(u2, &a, 0), -EADDRNOTAVAIL);
	a = addr("::1", 0); /* wrong family for the socket */
	CHECK_EQ_INT(hal_net_bind(u2, &a, 0), -EINVAL);
	CHECK_EQ_INT(hal_net_close(u1), 0);
	CHECK_EQ_INT(hal_net_close(u2), 0);
}

TEST(bind_v6_v6only)
{
	struct hal_addr a = addr("::1", 0), got;
	int fd = hal_net_socket(HAL_AF_INET6, HAL_SOCK_STREAM);

	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hal_net_bind(fd, &a, HAL_NET_V6ONLY | HAL_NET_REUSEADDR),
		     0);
	CHECK_EQ_INT(hal_net_local_addr(fd, &got), 0);
	CHECK_EQ_INT(got.family, HAL_AF_INET6);
	CHECK_EQ_INT(hal_net_listen(fd, 4), 0);
	hal_net_close(fd);
}

TEST(listen_and_accept_misuse)
{
	struct hal_addr a = addr("127.0.0.1", 0), peer;
	int u = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);
	int t = hal_net_socket(HAL_AF_INET, HAL_SOCK_STREAM);

	REQUIRE(u >= 0 && t >= 0);
	CHECK_EQ_INT(hal_net_bind(u, &a, 0), 0);
	CHECK_EQ_INT(hal_net_listen(u, 4), -EOPNOTSUPP);
	CHECK_EQ_INT(hal_net_accept(t, &peer), -EINVAL); /* not listening */
	CHECK_EQ_INT(hal_net_bind(t, &a, HAL_NET_REUSEADDR), 0);
	CHECK_EQ_INT(hal_net_listen(t, 4), 0);
	CHECK_EQ_INT(hal_net_accept(t, &peer), -EAGAIN);
	CHECK_EQ_INT(hal_net_accept(t, NULL), -EAGAIN);
	hal_net_close(u);
	hal_net_close(t);
}

TEST(unconnected_stream_codes)
{
	char buf[4];
	int t = hal_net_socket(HAL_AF_INET, HAL_SOCK_STREAM);

	REQUIRE(t >= 0);
	CHECK_EQ_INT(hal_net_send(t, "x", 1), -EPIPE);
	CHECK_EQ_INT(hal_net_recv(t, buf, sizeof buf), -ENOTCONN);
	hal_net_close(t);
}

TEST(datagram_codes_without_peer)
{
	static char big[65508]; /* one more than an IPv4 UDP payload */
	struct hal_addr a = addr("127.0.0.1", 0), from;
	char buf[8];
	int u = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(u >= 0);
	CHECK_EQ_INT(hal_net_bind(u, &a, 0), 0);
	CHECK_EQ_INT(hal_net_recvfrom(u, buf, sizeof buf, &from), -EAGAIN);
	CHECK_EQ_INT(hal_net_recv(u, buf, sizeof buf), -EAGAIN);
	a = addr("127.0.0.1", 9);
	CHECK_EQ_INT(hal_net_sendto(u, big, sizeof big, &a), -EMSGSIZE);
	CHECK_EQ_INT(hal_net_sendto(u, "x", 1, NULL), -EINVAL);
	hal_net_close(u);
}

TEST(sendto_many_codes)
{
	struct hal_addr a = addr("127.0.0.1", 0), to = addr("127.0.0.1", 9);
	struct hal_dgram d[HAL_NET_SEND_MANY_MAX + 1];
	int u = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(u >= 0);
	CHECK_EQ_INT(hal_net_bind(u, &a, 0), 0);
	for (unsigned i = 0; i <= HAL_NET_SEND_MANY_MAX; i++)
		d[i] = (struct hal_dgram){ "abc", 1 + i % 3, &to };
	CHECK_EQ_INT(hal_net_sendto_many(u, d, 0), 0);
	CHECK_EQ_INT(hal_net_sendto_many(u, d, 3), 3);
	CHECK_EQ_INT(hal_net_sendto_many(u, d, HAL_NET_SEND_MANY_MAX + 1),
		     -EINVAL);
	CHECK_EQ_INT(hal_net_sendto_many(u, NULL, 1), -EINVAL);
	d[1].to = NULL;
	CHECK_EQ_INT(hal_net_sendto_many(u, d, 3), -EINVAL);
	hal_net_close(u);
}

TEST(options)
{
	int u = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);
	int t = hal_net_socket(HAL_AF_INET, HAL_SOCK_STREAM);

	REQUIRE(u >= 0 && t >= 0);
	CHECK_EQ_INT(hal_net_set_keepalive(t, 30, 10, 3), 0);
	CHECK_EQ_INT(hal_net_set_keepalive(t, 0, 10, 3), -EINVAL);
	CHECK_EQ_INT(hal_net_set_keepalive(t, 30, -1, 3), -EINVAL);
	CHECK_EQ_INT(hal_net_set_keepalive(t, 30, 10, 0), -EINVAL);
	CHECK_EQ_INT(hal_net_set_keepalive(u, 30, 10, 3), -EINVAL);
	CHECK_EQ_INT(hal_net_set_nodelay(t), 0);
	CHECK_EQ_INT(hal_net_set_nodelay(u), -EINVAL);
	hal_net_close(u);
	hal_net_close(t);
}

TEST(close_twice_and_bad_descriptors)
{
	struct hal_addr a;
	int u = hal_net_socket(HAL_AF_INET, HAL_SOCK_DGRAM);

	REQUIRE(u >= 0);
	CHECK_EQ_INT(hal_net_close(u), 0);
	CHECK_EQ_INT(hal_net_close(u), -EBADF);
	CHECK_EQ_INT(hal_net_local_addr(u, &a), -EINVAL);
	CHECK_EQ_INT(hal_net_set_nodelay(u), -EINVAL);
	CHECK_EQ_INT(hal_net_listen(u, 1), -EINVAL);
	a = addr("127.0.0.1", 0);
	CHECK_EQ_INT(hal_net_bind(u, &a, 0), -EINVAL);
}

TEST_SUITE(hal_net, parse_v4, parse_v6_and_scope, parse_rejects_non_numeric,
	   format_v4_v6_scope, format_longest_fits_text_max,
	   format_enospc_at_exact_boundary, resolve_numeric_and_localhost,
	   socket_bad_arguments, bind_cases, bind_v6_v6only,
	   listen_and_accept_misuse, unconnected_stream_codes,
	   datagram_codes_without_peer, sendto_many_codes, options,
	   close_twice_and_bad_descriptors)

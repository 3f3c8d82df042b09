/*
 * hal/net.h — sockets, limited to the BSD subset lwIP's socket API offers
 * (socket, bind, listen, accept, connect, send, recv, sendto, recvfrom,
 * setsockopt, getsockname, getaddrinfo, fcntl(O_NONBLOCK), close), so the
 * agent can move onto an lwIP board.  A build check compiles
 * hal/linux/net.c against lwIP's headers to keep it that way.
 *
 * Every socket is non-blocking from creation, and close-on-exec where the
 * platform has it.  Errors are negative errno values; -EAGAIN means "wait
 * for HAL_POLLIN/HAL_POLLOUT and call again with the same arguments".
 */
#ifndef HAL_NET_H
#define HAL_NET_H

#include <stddef.h>
#include <stdint.h>

#define HAL_AF_INET  4
#define HAL_AF_INET6 6

#define HAL_SOCK_STREAM 1
#define HAL_SOCK_DGRAM  2

/* An IPv4 or IPv6 endpoint, independent of the platform's sockaddr. */
struct hal_addr {
	uint8_t family;   /* HAL_AF_INET or HAL_AF_INET6 */
	uint16_t port;    /* host byte order */
	uint8_t ip[16];   /* network byte order; IPv4 uses ip[0..3] */
	uint32_t scope;   /* IPv6 scope id, 0 otherwise */
};

/* Longest text hal_net_addr_format writes: "[v6%scope]:65535" + NUL. */
#define HAL_ADDR_TEXT_MAX 64

/* Bind flags. */
#define HAL_NET_REUSEADDR 0x1 /* SO_REUSEADDR (listening TCP sockets) */
#define HAL_NET_V6ONLY    0x2 /* IPV6_V6ONLY=1; without it, 0 on IPv6 */

/*
 * Parses a numeric address: "192.0.2.1", "::1", "fe80::1%2" (no names, no
 * brackets, no port).  Never allocates.
 * @retval 0 parsed into out, with port set
 * @retval -EINVAL not a numeric IPv4/IPv6 address
 */
int hal_net_addr_parse(const char *text, uint16_t port, struct hal_addr *out);

/*
 * Writes "a.b.c.d:port" or "[v6]:port" into buf.
 * @retval >=0 length written (without NUL)
 * @retval -ENOSPC buf too small (buf holds "" if cap > 0)
 * @retval -EINVAL unknown family
 */
int hal_net_addr_format(const struct hal_addr *a, char *buf, size_t cap);

/*
 * Resolves host (a name or numeric address) to at most max addresses.
 * BLOCKS and may allocate inside the C library: call only at init or
 * config reload, never from an event callback.
 * @retval >0 number of addresses written
 * @retval -ENOENT name does not exist
 * @retval -EAGAIN temporary resolver failure
 * @retval -EINVAL bad arguments
 */
int hal_net_resolve(const char *host, uint16_t port, struct hal_addr *out,
		    unsigned max);

/*
 * Creates a non-blocking socket.
 * @retval >=0 descriptor
 * @retval -EAFNOSUPPORT family not supported
 * @retval -EINVAL bad type
 * @retval -EMFILE/-ENFILE/-ENOMEM no resources
 */
int hal_net_socket(int family, int type);

/*
 * Binds fd to a (HAL_NET_* flags applied first).
 * @retval 0 bound
 * @retval -EADDRINUSE port taken
 * @retval -EACCES privileged port
 * @retval -EADDRNOTAVAIL no such local address
 * @retval -EINVAL bad arguments or already bound
 */
int hal_net_bind(int fd, const struct hal_addr *a, unsigned flags);

/* @retval 0 listening  @retval -EINVAL/-EOPNOTSUPP not a bound stream socket */
int hal_net_listen(int fd, int backlog);

/*
 * Accepts a connection as a new non-blocking socket; peer may be NULL.
 * @retval >=0 new descriptor
 * @retval -EAGAIN none pending
 * @retval -ECONNABORTED the peer gave up first (try again)
 * @retval -EMFILE/-ENFILE no descriptor left
 */
int hal_net_accept(int fd, struct hal_addr *peer);

/*
 * Starts connecting.  On -EINPROGRESS wait for HAL_POLLOUT, then ask
 * hal_net_connect_result().
 * @retval 0 connected at once (loopback)
 * @retval -EINPROGRESS under way
 * @retval -ECONNREFUSED/-ENETUNREACH/-EHOSTUNREACH failed at once
 */
int hal_net_connect(int fd, const struct hal_addr *a);

/*
 * Outcome of a connect that was -EINPROGRESS, once fd is writable.
 * @retval 0 connected
 * @retval -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH/... the failure
 */
int hal_net_connect_result(int fd);

/*
 * Sends up to len bytes; never raises SIGPIPE.
 * @retval >=0 bytes sent (may be fewer than len: send the rest later)
 * @retval -EAGAIN socket buffer full
 * @retval -EPIPE/-ECONNRESET connection gone
 */
int hal_net_send(int fd, const void *buf, size_t len);

/*
 * Receives up to cap bytes.
 * @retval >0 bytes received
 * @retval 0 the peer closed its side (stream sockets)
 * @retval -EAGAIN nothing yet
 * @retval -ECONNRESET/-ETIMEDOUT connection gone
 */
int hal_net_recv(int fd, void *buf, size_t cap);

/*
 * Sends one datagram to a.
 * @retval >=0 bytes sent (the whole datagram)
 * @retval -EAGAIN buffer full
 * @retval -EMSGSIZE datagram too large
 */
int hal_net_sendto(int fd, const void *buf, size_t len,
		   const struct hal_addr *a);

/* One datagram of hal_net_sendto_many. */
struct hal_dgram {
	const void *buf;
	size_t len;
	const struct hal_addr *to;
};

/* Most datagrams one hal_net_sendto_many call takes. */
#define HAL_NET_SEND_MANY_MAX 16

/*
 * Sends d[0..n) in order, in as few system calls as the platform allows
 * (Linux: sendmmsg); a datagram that fails is skipped, the rest still go.
 * @retval >=0 how many were sent
 * @retval -EINVAL n above HAL_NET_SEND_MANY_MAX, or a bad datagram
 */
int hal_net_sendto_many(int fd, const struct hal_dgram *d, unsigned n);

/*
 * Receives one datagram; from may be NULL.  A datagram longer than cap is
 * truncated to cap and reported as -EMSGSIZE (its bytes are gone).
 * @retval >=0 datagram length
 * @retval -EAGAIN nothing yet
 * @retval -EMSGSIZE datagram longer than cap (dropped)
 */
int hal_net_recvfrom(int fd, void *buf, size_t cap, struct hal_addr *from);

/*
 * Turns on SO_KEEPALIVE with the given idle time, probe interval and probe
 * count (seconds; a platform without per-socket timing keeps its defaults
 * and still returns 0).
 * @retval 0 done  @retval -EINVAL bad fd or values
 */
int hal_net_set_keepalive(int fd, int idle_s, int interval_s, int count);

/* TCP_NODELAY on.  @retval 0 done  @retval -EINVAL not a TCP socket */
int hal_net_set_nodelay(int fd);

/* Local address of fd (e.g. the port bind chose).  @retval 0 / -EINVAL */
int hal_net_local_addr(int fd, struct hal_addr *out);

/* Closes fd.  @retval 0 closed  @retval -EBADF not open */
int hal_net_close(int fd);

#endif

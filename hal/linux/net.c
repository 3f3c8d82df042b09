/*
 * hal/linux/net.c — hal/net.h on BSD sockets, restricted to what lwIP's
 * socket API offers (tests/lwip/check.sh compiles this file against lwIP's
 * headers; net_sock.h picks the headers).  Hence:
 *   - non-blocking through fcntl(F_GETFL/F_SETFL, O_NONBLOCK) right after
 *     socket()/accept(), never SOCK_NONBLOCK or accept4 (lwIP has neither);
 *     FD_CLOEXEC only where the platform defines it (lwIP does not);
 *   - fcntl() always with three arguments (lwIP's macro takes three);
 *   - datagram truncation seen through recvmsg's MSG_TRUNC flag;
 *   - getaddrinfo only in hal_net_resolve (it allocates in musl).
 * Errors are -errno; EWOULDBLOCK is folded into EAGAIN.  One call lwIP
 * lacks, sendmmsg (hal_net_sendto_many), is a loop of sendto there.
 */
#ifndef HAL_NET_LWIP_CHECK
#define _GNU_SOURCE /* sendmmsg */
#endif
#include "hal/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net_sock.h"

static int net_errno(void)
{
	int e = errno;

#if EWOULDBLOCK != EAGAIN
	if (e == EWOULDBLOCK)
		e = EAGAIN;
#endif
	return e ? -e : -EIO;
}

/* Port fields are big-endian on the wire and in sockaddr; moving the
 * bytes avoids htons, which the lwIP port may or may not provide. */
static void net_put_port(void *dst, uint16_t port)
{
	uint8_t b[2] = { (uint8_t)(port >> 8), (uint8_t)(port & 0xff) };

	memcpy(dst, b, 2);
}

static uint16_t net_get_port(const void *src)
{
	uint8_t b[2];

	memcpy(b, src, 2);
	return (uint16_t)((b[0] << 8) | b[1]);
}

/* Fills ss from a; returns the sockaddr length or -EINVAL. */
static int net_to_sockaddr(const struct hal_addr *a,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == HAL_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		net_put_port(&in->sin_port, a->port);
		memcpy(&in->sin_addr, a->ip, 4);
		return (int)sizeof *in;
	}
	if (a->family == HAL_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		net_put_port(&in6->sin6_port, a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		in6->sin6_scope_id = a->scope;
		return (int)sizeof *in6;
	}
	return -EINVAL;
}

static int net_from_sockaddr(const struct sockaddr *sa, struct hal_addr *a)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		a->family = HAL_AF_INET;
		a->port = net_get_port(&in->sin_port);
		memcpy(a->ip, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		a->family = HAL_AF_INET6;
		a->port = net_get_port(&in6->sin6_port);
		memcpy(a->ip, &in6->sin6_addr, 16);
		a->scope = in6->sin6_scope_id;
		return 0;
	}
	return -EINVAL;
}

static int net_resolve_err(int gai)
{
	switch (gai) {
	case EAI_NONAME:
		return -ENOENT;
	case EAI_FAMILY:
	case EAI_SERVICE:
		return -EINVAL;
	default:
		/* EAI_AGAIN, EAI_FAIL, EAI_MEMORY, EAI_SYSTEM: try later */
		return -EAGAIN;
	}
}

/* see hal/net.h */
int hal_net_resolve(const char *host, uint16_t port, struct hal_addr *out,
		    unsigned max)
{
	struct addrinfo hints, *res = NULL, *ai;
	char serv[8];
	int ret = -EIO, gai;
	unsigned n = 0;

	if (!host || !*host || !out || max == 0)
		return -EINVAL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	/* one entry per address instead of one per socket type */
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof serv, "%u", (unsigned)port);
	gai = getaddrinfo(host, serv, &hints, &res);
	if (gai != 0)
		return net_resolve_err(gai);
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		if (ai->ai_addr && net_from_sockaddr(ai->ai_addr, &out[n]) == 0)
			n++;
	}
	freeaddrinfo(res);
	ret = n > 0 ? (int)n : -ENOENT;
	return ret;
}

/* Non-blocking and close-on-exec, as right after creation. */
static int net_setup_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL, 0);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return net_errno();
#ifdef FD_CLOEXEC
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return net_errno();
#endif
	return 0;
}

/* see hal/net.h */
int hal_net_socket(int family, int type)
{
	int ret = -EIO, fd, af, st;

	if (family == HAL_AF_INET)
		af = AF_INET;
	else if (family == HAL_AF_INET6)
		af = AF_INET6;
	else
		return -EAFNOSUPPORT;
	if (type == HAL_SOCK_STREAM)
		st = SOCK_STREAM;
	else if (type == HAL_SOCK_DGRAM)
		st = SOCK_DGRAM;
	else
		return -EINVAL;
	fd = socket(af, st, 0);
	if (fd < 0)
		return net_errno();
	ret = net_setup_fd(fd);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

static int net_setopt(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, (socklen_t)sizeof val) < 0)
		return net_errno();
	return 0;
}

/* see hal/net.h */
int hal_net_bind(int fd, const struct hal_addr *a, unsigned flags)
{
	struct sockaddr_storage ss;
	int ret = -EIO, len;

	if (!a || (len = net_to_sockaddr(a, &ss)) < 0)
		return -EINVAL;
	if (flags & HAL_NET_REUSEADDR) {
		ret = net_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
		if (ret < 0)
			return ret == -EBADF || ret == -ENOTSOCK ? -EINVAL : ret;
	}
	if (a->family == HAL_AF_INET6) {
		/* explicit both ways: the system default may be either */
		ret = net_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
				 (flags & HAL_NET_V6ONLY) ? 1 : 0);
		if (ret < 0)
			return -EINVAL;
	}
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0) {
		ret = net_errno();
		/* a bad fd or a family mismatch is a bad argument */
		if (ret == -EBADF || ret == -ENOTSOCK || ret == -EAFNOSUPPORT)
			ret = -EINVAL;
		return ret;
	}
	return 0;
}

/* see hal/net.h */
int hal_net_listen(int fd, int backlog)
{
	if (listen(fd, backlog) < 0) {
		int ret = net_errno();

		return ret == -EOPNOTSUPP ? ret : -EINVAL;
	}
	return 0;
}

/* see hal/net.h */
int hal_net_accept(int fd, struct hal_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)sizeof ss;
	int ret = -EIO, nfd;

	nfd = accept(fd, (struct sockaddr *)&ss, &len);
	if (nfd < 0)
		return net_errno();
	/* the new socket does not inherit O_NONBLOCK on Linux */
	ret = net_setup_fd(nfd);
	if (ret < 0) {
		close(nfd);
		return ret;
	}
	if (peer && net_from_sockaddr((struct sockaddr *)&ss, peer) < 0)
		memset(peer, 0, sizeof *peer);
	return nfd;
}

/* see hal/net.h */
int hal_net_connect(int fd, const struct hal_addr *a)
{
	struct sockaddr_storage ss;
	int len;

	if (!a || (len = net_to_sockaddr(a, &ss)) < 0)
		return -EINVAL;
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0)
		return net_errno();
	return 0;
}

/* see hal/net.h */
int hal_net_connect_result(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return net_errno();
	if (err != 0)
		return -err;
	/* SO_ERROR is 0 also while the handshake is still running */
	len = (socklen_t)sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return errno == ENOTCONN ? -EINPROGRESS : net_errno();
	return 0;
}

/* see hal/net.h */
int hal_net_send(int fd, const void *buf, size_t len)
{
	ssize_t r;

	if (len > 0 && !buf)
		return -EINVAL;
	if (len > INT32_MAX)
		len = INT32_MAX; /* the count must fit the int result */
	r = send(fd, buf, len, MSG_NOSIGNAL);
	return r < 0 ? net_errno() : (int)r;
}

/* see hal/net.h */
int hal_net_recv(int fd, void *buf, size_t cap)
{
	ssize_t r;

	if (cap > 0 && !buf)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	r = recv(fd, buf, cap, 0);
	return r < 0 ? net_errno() : (int)r;
}

/* see hal/net.h */
int hal_net_sendto(int fd, const void *buf, size_t len,
		   const struct hal_addr *a)
{
	struct sockaddr_storage ss;
	int slen;
	ssize_t r;

	if (!a || (len > 0 && !buf) || (slen = net_to_sockaddr(a, &ss)) < 0)
		return -EINVAL;
	if (len > INT32_MAX)
		return -EMSGSIZE;
	r = sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&ss,
		   (socklen_t)slen);
	return r < 0 ? net_errno() : (int)r;
}

#ifdef HAL_NET_LWIP_CHECK
/* see hal/net.h: lwIP has no sendmmsg */
int hal_net_sendto_many(int fd, const struct hal_dgram *d, unsigned n)
{
	int sent = 0;

	if (n > HAL_NET_SEND_MANY_MAX || (n > 0 && !d))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!d[i].to || (d[i].len > 0 && !d[i].buf))
			return -EINVAL;  /* none sent, as on Linux */
	for (unsigned i = 0; i < n; i++)
		sent += hal_net_sendto(fd, d[i].buf, d[i].len, d[i].to) >= 0;
	return sent;
}
#else
/* musl's sendmmsg on 64-bit targets is a loop of sendmsg: its struct
 * msghdr has int msg_iovlen and msg_controllen plus padding where the
 * kernel has size_t.  With the padding zeroed (hal_net_sendto_many
 * clears the headers) and no control data the two layouts agree on a
 * little-endian machine, so the system call is made directly there. */
static int net_sendmmsg(int fd, struct mmsghdr *mm, unsigned n)
{
#if defined(SYS_sendmmsg) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (int)syscall(SYS_sendmmsg, fd, mm, n, MSG_NOSIGNAL);
#else
	return sendmmsg(fd, mm, n, MSG_NOSIGNAL);
#endif
}

/* see hal/net.h: one sendmmsg for the lot; it stops at a datagram that
 * fails, which is skipped (UDP: its peer retransmits). */
int hal_net_sendto_many(int fd, const struct hal_dgram *d, unsigned n)
{
	struct sockaddr_storage ss[HAL_NET_SEND_MANY_MAX];
	struct iovec iov[HAL_NET_SEND_MANY_MAX];
	struct mmsghdr mm[HAL_NET_SEND_MANY_MAX];
	unsigned i = 0;
	int sent = 0, len;

	if (n > HAL_NET_SEND_MANY_MAX || (n > 0 && !d))
		return -EINVAL;
	memset(mm, 0, n * sizeof mm[0]);
	for (unsigned k = 0; k < n; k++) {
		if (!d[k].to || (d[k].len > 0 && !d[k].buf) ||
		    (len = net_to_sockaddr(d[k].to, &ss[k])) < 0)
			return -EINVAL;
		iov[k].iov_base = (void *)(uintptr_t)d[k].buf; /* not written */
		iov[k].iov_len = d[k].len;
		mm[k].msg_hdr.msg_name = &ss[k];
		mm[k].msg_hdr.msg_namelen = (socklen_t)len;
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	while (i < n) {
		int r = net_sendmmsg(fd, mm + i, n - i);

		if (r > 0) {
			sent += r;
			i += (unsigned)r;
		} else if (r == 0 || errno != EINTR) {
			i++;  /* this one failed: the rest still go */
		}
	}
	return sent;
}
#endif

/* see hal/net.h */
int hal_net_recvfrom(int fd, void *buf, size_t cap, struct hal_addr *from)
{
	struct sockaddr_storage ss;
	struct iovec iov;
	struct msghdr mh;
	ssize_t r;

	if (cap > 0 && !buf)
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	iov.iov_base = buf;
	iov.iov_len = cap;
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &ss;
	mh.msg_namelen = (socklen_t)sizeof ss;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	r = recvmsg(fd, &mh, 0);
	if (r < 0)
		return net_errno();
	/* the kernel sets MSG_TRUNC when the datagram did not fit */
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (from && net_from_sockaddr((struct sockaddr *)&ss, from) < 0)
		memset(from, 0, sizeof *from);
	return (int)r;
}

/* see hal/net.h */
int hal_net_set_keepalive(int fd, int idle_s, int interval_s, int count)
{
	if (idle_s <= 0 || interval_s <= 0 || count <= 0)
		return -EINVAL;
	/* TCP-level options first: they fail on anything but TCP */
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
	if (net_setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_s) < 0 ||
	    net_setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval_s) < 0 ||
	    net_setopt(fd, IPPROTO_TCP, TCP_KEEPCNT, count) < 0)
		return -EINVAL;
#endif
	if (net_setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) < 0)
		return -EINVAL;
	return 0;
}

/* see hal/net.h */
int hal_net_set_nodelay(int fd)
{
	return net_setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1) < 0 ? -EINVAL : 0;
}

/* see hal/net.h */
int hal_net_local_addr(int fd, struct hal_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)sizeof ss;

	if (!out)
		return -EINVAL;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -EINVAL;
	return net_from_sockaddr((struct sockaddr *)&ss, out);
}

/* see hal/net.h */
int hal_net_close(int fd)
{
	if (close(fd) < 0 && errno == EBADF)
		return -EBADF;
	/* any other error (EINTR, EIO) still released the descriptor */
	return 0;
}

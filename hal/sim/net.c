/*
 * hal/sim/net.c — the socket calls of hal/net.h on simulated sockets,
 * with the return codes hal/linux/net.c gives for the same situations.
 *
 * The sim host has the addresses 0.0.0.0/127.0.0.0/8 and ::/::1 only
 * (bind elsewhere: -EADDRNOTAVAIL) and runs privileged (ports < 1024 may
 * be bound).  Remote ends are the scripted peers of net_peer.c.  A
 * connect to an unscripted address is refused at once on loopback, and
 * times out (-ETIMEDOUT after SIM_CONNECT_TIMEOUT_MS) anywhere else.
 * Ephemeral ports are handed out from SIM_PORT_FIRST upward.  Address
 * text and name resolution are in net_addr.c.
 */
#include "hal/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

#define SIM_PORT_FIRST 40000u
#define SIM_PORT_LAST 60999u
/* largest UDP payload: 65535 - 8 (UDP) - 20 (IPv4) / - 0 (IPv6 header
 * is outside the 65535 payload length) */
#define SIM_UDP4_MAX 65507u
#define SIM_UDP6_MAX 65527u

static uint16_t sim_port_next = SIM_PORT_FIRST;

static int sim_is_local(const struct hal_addr *a)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };

	if (sim_addr_is_any(a))
		return 1;
	if (a->family == HAL_AF_INET)
		return a->ip[0] == 127;
	return memcmp(a->ip, v6_loop, 16) == 0;
}

static int sim_port_taken(const struct sim_sock *self, int type, int family,
			  const struct hal_addr *a)
{
	for (int i = 0; i < HAL_SIM_FDS_MAX; i++) {
		const struct sim_sock *s = &sim_socks[i];

		if (s == self || !s->open || !s->bound || s->type != type ||
		    s->family != family || s->local.port != a->port)
			continue;
		if (sim_addr_is_any(&s->local) || sim_addr_is_any(a) ||
		    memcmp(s->local.ip, a->ip, 16) == 0)
			return 1;
	}
	return 0;
}

/* Binds s to its family's wildcard address and a free ephemeral port. */
static void sim_autobind(struct sim_sock *s)
{
	struct hal_addr a;

	if (s->bound)
		return;
	memset(&a, 0, sizeof a);
	a.family = (uint8_t)s->family;
	for (unsigned i = 0; i <= SIM_PORT_LAST - SIM_PORT_FIRST; i++) {
		a.port = sim_port_next;
		if (sim_port_next == SIM_PORT_LAST)
			sim_port_next = SIM_PORT_FIRST;
		else
			sim_port_next++;
		if (!sim_port_taken(s, s->type, s->family, &a))
			break;
	}
	s->local = a;
	s->bound = 1;
	if (s->st == SIM_SK_NEW)
		s->st = SIM_SK_BOUND;
}

static int sim_sock_new(int family, int type)
{
	int fd = sim_fd_alloc(SIM_FD_SOCK, 0);
	struct sim_sock *s;

	if (fd < 0)
		return fd;
	s = &sim_socks[sim_fd_slot(fd)];
	memset(s, 0, offsetof(struct sim_sock, in));
	s->in.len = 0;
	s->out.len = 0;
	s->open = 1;
	s->family = family;
	s->type = type;
	s->st = SIM_SK_NEW;
	return fd;
}

/* see hal/net.h */
int hal_net_socket(int family, int type)
{
	if (family != HAL_AF_INET && family != HAL_AF_INET6)
		return -EAFNOSUPPORT;
	if (type != HAL_SOCK_STREAM && type != HAL_SOCK_DGRAM)
		return -EINVAL;
	return sim_sock_new(family, type);
}

/* see hal/net.h */
int hal_net_bind(int fd, const struct hal_addr *a, unsigned flags)
{
	struct sim_sock *s = sim_sock_get(fd);
	struct hal_addr want;

	if (!s || !a || a->family != s->family || s->bound)
		return -EINVAL;
	if (!sim_is_local(a))
		return -EADDRNOTAVAIL;
	if (a->port != 0 && sim_port_taken(s, s->type, s->family, a))
		return -EADDRINUSE;
	want = *a;
	sim_autobind(s); /* picks the port when a->port is 0 */
	if (want.port == 0)
		want.port = s->local.port;
	s->local = want;
	s->v6only = (flags & HAL_NET_V6ONLY) != 0;
	return 0;
}

/* see hal/net.h */
int hal_net_listen(int fd, int backlog)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s)
		return -EINVAL;
	if (s->type != HAL_SOCK_STREAM)
		return -EOPNOTSUPP;
	if (s->st != SIM_SK_NEW && s->st != SIM_SK_BOUND &&
	    s->st != SIM_SK_LISTEN)
		return -EINVAL;
	sim_autobind(s); /* Linux gives an unbound socket a port too */
	s->st = SIM_SK_LISTEN;
	if (backlog < 1)
		backlog = 1;
	s->backlog_max = (unsigned)backlog < SIM_BACKLOG_MAX
				 ? (unsigned)backlog : SIM_BACKLOG_MAX;
	return 0;
}

/* see hal/net.h */
int hal_net_accept(int fd, struct hal_addr *peer)
{
	struct sim_sock *l = sim_sock_get(fd), *s;
	struct sim_pending_conn pc;
	int nfd;

	if (!l)
		return -EBADF;
	if (l->st != SIM_SK_LISTEN)
		return -EINVAL;
	if (l->nbacklog == 0)
		return -EAGAIN;
	nfd = sim_sock_new(l->family, HAL_SOCK_STREAM);
	if (nfd < 0)
		return -EMFILE; /* the connection stays queued */
	pc = l->backlog[0];
	l->nbacklog--;
	memmove(&l->backlog[0], &l->backlog[1],
		l->nbacklog * sizeof l->backlog[0]);
	s = &sim_socks[sim_fd_slot(nfd)];
	s->st = SIM_SK_CONNECTED;
	s->bound = 1;
	s->local = l->local;
	s->remote = pc.peer.addr;
	s->has_remote = 1;
	sim_sock_script(s, &pc.peer, pc.at);
	if (peer)
		*peer = pc.peer.addr;
	return nfd;
}

/* Where a connect goes: the peer's verdict, or the defaults above. */
static void sim_connect_plan(struct sim_sock *s, const struct hal_addr *a)
{
	const struct hal_sim_peer *p = sim_net_find_peer(a, HAL_SOCK_STREAM);

	memset(&s->peer, 0, sizeof s->peer);
	s->scripted = 0;
	s->peer_closed = s->peer_reset = s->pending_err = 0;
	if (p) {
		s->peer = *p;
		s->conn_err = p->connect_result;
		s->done_at = sim_now + p->connect_delay_ms;
	} else if (sim_is_local(a)) {
		s->conn_err = -ECONNREFUSED;
		s->done_at = sim_now;
	} else {
		s->conn_err = -ETIMEDOUT;
		s->done_at = sim_now + SIM_CONNECT_TIMEOUT_MS;
	}
}

/* see hal/net.h */
int hal_net_connect(int fd, const struct hal_addr *a)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s)
		return -EBADF;
	if (!a)
		return -EINVAL;
	/* what Linux's tcp_v4_connect / tcp_v6_connect answer */
	if (a->family != s->family)
		return s->family == HAL_AF_INET ? -EAFNOSUPPORT : -EINVAL;
	sim_autobind(s);
	s->remote = *a;
	s->has_remote = 1;
	if (s->type == HAL_SOCK_DGRAM)
		return 0; /* just the default destination */
	if (s->st == SIM_SK_CONNECTING)
		return -EALREADY;
	if (s->st == SIM_SK_CONNECTED || s->st == SIM_SK_LISTEN)
		return -EISCONN;
	sim_net_contact(a);
	sim_connect_plan(s, a);
	s->st = SIM_SK_CONNECTING;
	if (s->done_at > sim_now)
		return -EINPROGRESS;
	sim_sock_pump(s);
	return s->conn_err;
}

/* see hal/net.h */
int hal_net_connect_result(int fd)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s)
		return -EBADF;
	sim_sock_pump(s);
	if (s->st == SIM_SK_CONNECTED)
		return 0;
	if (s->st == SIM_SK_FAILED)
		return s->conn_err;
	return -EINPROGRESS; /* as Linux: SO_ERROR 0 but no peer yet */
}

static int sim_take_err(struct sim_sock *s)
{
	int e = s->pending_err;

	s->pending_err = 0;
	return e;
}

static int sim_stream_send(struct sim_sock *s, const void *buf, size_t len)
{
	size_t room, n;

	sim_sock_pump(s);
	if (s->pending_err)
		return sim_take_err(s);
	if (s->peer_reset)
		return -EPIPE;
	if (s->st == SIM_SK_CONNECTING)
		return -EAGAIN;
	if (s->st != SIM_SK_CONNECTED)
		return -EPIPE;
	room = sizeof s->out.data - s->out.len;
	if (room == 0 && len > 0)
		return -EAGAIN;
	n = len < room ? len : room;
	if (n > 0)
		memcpy(s->out.data + s->out.len, buf, n);
	s->out.len += n;
	return (int)n;
}

/* see hal/net.h */
int hal_net_send(int fd, const void *buf, size_t len)
{
	struct sim_sock *s = sim_sock_get(fd);
	int err;

	if (!s)
		return -EBADF;
	if (len > 0 && !buf)
		return -EINVAL;
	if (s->type == HAL_SOCK_DGRAM)
		return s->has_remote ? hal_net_sendto(fd, buf, len, &s->remote)
				     : -EDESTADDRREQ;
	if ((err = sim_fault()) < 0)
		return err;
	return sim_stream_send(s, buf, len);
}

static int sim_stream_recv(struct sim_sock *s, void *buf, size_t cap)
{
	size_t n;

	sim_sock_pump(s);
	if (s->in.len > 0) {
		n = s->in.len < cap ? s->in.len : cap;
		if (n > INT32_MAX)
			n = INT32_MAX;
		memcpy(buf, s->in.data, n);
		memmove(s->in.data, s->in.data + n, s->in.len - n);
		s->in.len -= n;
		return (int)n;
	}
	if (s->pending_err)
		return sim_take_err(s);
	if (s->peer_reset || s->peer_closed)
		return 0;
	if (s->st == SIM_SK_CONNECTING || s->st == SIM_SK_CONNECTED)
		return -EAGAIN;
	return -ENOTCONN;
}

/* see hal/net.h */
int hal_net_recv(int fd, void *buf, size_t cap)
{
	struct sim_sock *s = sim_sock_get(fd);
	int err, len;

	if (!s)
		return -EBADF;
	if (cap > 0 && !buf)
		return -EINVAL;
	if ((err = sim_fault()) < 0)
		return err;
	if (s->type == HAL_SOCK_STREAM)
		return sim_stream_recv(s, buf, cap);
	sim_sock_pump(s);
	/* recv on a datagram socket truncates silently, as recv(2) does */
	len = sim_buf_take_dgram(&s->in, buf, cap, NULL);
	return len < 0 || (size_t)len <= cap ? len : (int)cap;
}

/* see hal/net.h */
int hal_net_sendto(int fd, const void *buf, size_t len,
		   const struct hal_addr *a)
{
	struct sim_sock *s = sim_sock_get(fd);
	const struct hal_sim_peer *p;
	int err;

	if (!s)
		return -EBADF;
	if (!a || (len > 0 && !buf))
		return -EINVAL;
	if (s->type == HAL_SOCK_STREAM)
		return hal_net_send(fd, buf, len);
	if (a->family != s->family)
		return -EAFNOSUPPORT;
	if (len > (s->family == HAL_AF_INET ? SIM_UDP4_MAX : SIM_UDP6_MAX))
		return -EMSGSIZE;
	if ((err = sim_fault()) < 0)
		return err;
	sim_autobind(s);
	if (sim_buf_put_dgram(&s->out, a, buf, len) < 0)
		return -EAGAIN;
	sim_net_contact(a);
	p = sim_net_find_peer(a, HAL_SOCK_DGRAM);
	if (p && (!s->scripted || s->step >= s->peer.nsteps ||
		  !sim_addr_eq(&s->peer.addr, a)))
		sim_sock_script(s, p, sim_now);
	return (int)len;
}

/* see hal/net.h: one sendto each (the sim counts datagrams, not calls) */
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

/* see hal/net.h */
int hal_net_recvfrom(int fd, void *buf, size_t cap, struct hal_addr *from)
{
	struct sim_sock *s = sim_sock_get(fd);
	int err, len;

	if (!s)
		return -EBADF;
	if (cap > 0 && !buf)
		return -EINVAL;
	if (s->type == HAL_SOCK_STREAM) {
		len = hal_net_recv(fd, buf, cap);
		if (len >= 0 && from)
			*from = s->remote;
		return len;
	}
	if ((err = sim_fault()) < 0)
		return err;
	sim_sock_pump(s);
	len = sim_buf_take_dgram(&s->in, buf, cap, from);
	if (len < 0)
		return len;
	return (size_t)len > cap ? -EMSGSIZE : len;
}

/* see hal/net.h */
int hal_net_set_keepalive(int fd, int idle_s, int interval_s, int count)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s || s->type != HAL_SOCK_STREAM || idle_s <= 0 ||
	    interval_s <= 0 || count <= 0)
		return -EINVAL;
	return 0;
}

/* see hal/net.h */
int hal_net_set_nodelay(int fd)
{
	struct sim_sock *s = sim_sock_get(fd);

	return s && s->type == HAL_SOCK_STREAM ? 0 : -EINVAL;
}

/* see hal/net.h */
int hal_net_local_addr(int fd, struct hal_addr *out)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s || !out)
		return -EINVAL;
	if (s->bound) {
		*out = s->local;
	} else {
		memset(out, 0, sizeof *out);
		out->family = (uint8_t)s->family;
	}
	return 0;
}

/* see hal/net.h */
int hal_net_close(int fd)
{
	struct sim_sock *s = sim_sock_get(fd);

	if (!s)
		return -EBADF;
	s->open = 0;
	s->scripted = 0;
	s->nbacklog = 0;
	sim_fd_free(fd);
	return 0;
}

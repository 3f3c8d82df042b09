/*
 * hal/sim/net_peer.c — the far side of the sim network: declared peers,
 * their scripts, connections and datagrams injected by tests, the capture
 * of what the agent sent, and socket readiness for hal_poll.
 *
 * Script playback (sim_sock_pump): step i is due at est_at + at_ms.  Due
 * SEND steps are copied into the socket's `in` buffer (a stream step may
 * be delivered in parts when the buffer is full: the rest waits for the
 * agent to read; a datagram step waits whole).  CLOSE marks EOF after
 * the data before it; RESET drops unread data and makes the next recv or
 * send fail with -ECONNRESET (then recv gives 0 and send -EPIPE, as on
 * Linux).  Steps must be in time order (checked by add_peer).
 *
 * A stream peer's steps start when the connection is established (the
 * connect delay ends, or the injected connect arrives).  A datagram
 * peer's steps start at the agent's first datagram to it on a socket.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hal/net.h"
#include "sim_int.h"

struct sim_contact {
	struct hal_addr addr;
	unsigned n;
};

struct sim_sock sim_socks[HAL_SIM_FDS_MAX];
static struct hal_sim_peer sim_peers[HAL_SIM_PEERS_MAX];
static unsigned sim_npeers;
static struct sim_contact sim_contacts[SIM_CONTACTS_MAX];

/* see sim_int.h */
void sim_net_reset(void)
{
	for (int i = 0; i < HAL_SIM_FDS_MAX; i++) {
		struct sim_sock *s = &sim_socks[i];

		/* the big buffers need only their lengths cleared */
		s->in.len = 0;
		s->out.len = 0;
		memset(s, 0, offsetof(struct sim_sock, in));
	}
	sim_npeers = 0;
	memset(sim_contacts, 0, sizeof sim_contacts);
}

/* see sim_int.h */
int sim_addr_eq(const struct hal_addr *a, const struct hal_addr *b)
{
	size_t n = a->family == HAL_AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, n) == 0;
}

/* see sim_int.h */
int sim_addr_is_any(const struct hal_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == HAL_AF_INET ? 4 : 16) == 0;
}

/* see sim_int.h */
struct sim_sock *sim_sock_get(int fd)
{
	if (!sim_fd_get(fd, SIM_FD_SOCK))
		return NULL;
	return &sim_socks[sim_fd_slot(fd)];
}

/* see sim_int.h */
int sim_buf_put_dgram(struct sim_buf *b, const struct hal_addr *a,
		      const void *data, size_t len)
{
	struct sim_dgram_hdr h;

	if (len > sizeof b->data - b->len ||
	    sizeof h > sizeof b->data - b->len - len)
		return -EAGAIN;
	memset(&h, 0, sizeof h);
	h.addr = *a;
	h.len = (uint32_t)len;
	memcpy(b->data + b->len, &h, sizeof h);
	if (len > 0)
		memcpy(b->data + b->len + sizeof h, data, len);
	b->len += sizeof h + len;
	return 0;
}

/* see sim_int.h */
int sim_buf_take_dgram(struct sim_buf *b, void *buf, size_t cap,
		       struct hal_addr *a)
{
	struct sim_dgram_hdr h;
	size_t rec;

	if (b->len < sizeof h)
		return -EAGAIN;
	memcpy(&h, b->data, sizeof h);
	if (a)
		*a = h.addr;
	if (cap > 0)
		memcpy(buf, b->data + sizeof h, h.len < cap ? h.len : cap);
	rec = sizeof h + h.len;
	memmove(b->data, b->data + rec, b->len - rec);
	b->len -= rec;
	return (int)h.len;
}

/* see sim_int.h */
void sim_sock_script(struct sim_sock *s, const struct hal_sim_peer *peer,
		     uint64_t at)
{
	s->peer = *peer;
	s->scripted = 1;
	s->est_at = at;
	s->step = 0;
	s->step_off = 0;
}

/* Plays one due step; returns 0 to go on, -1 to stop for now. */
static int sim_play(struct sim_sock *s, const struct hal_sim_step *t)
{
	size_t room = sizeof s->in.data - s->in.len, n;

	if (t->kind == HAL_SIM_PEER_RESET) {
		s->peer_reset = 1;
		s->pending_err = -ECONNRESET;
		s->in.len = 0;
		s->scripted = 0; /* nothing follows a reset */
		return -1;
	}
	if (t->kind == HAL_SIM_PEER_CLOSE) {
		if (s->type == HAL_SOCK_STREAM)
			s->peer_closed = 1;
	} else if (s->type == HAL_SOCK_DGRAM) {
		if (sim_buf_put_dgram(&s->in, &s->peer.addr, t->data,
				      t->len) < 0)
			return -1;
	} else {
		n = t->len - s->step_off < room ? t->len - s->step_off : room;
		if (n > 0)
			memcpy(s->in.data + s->in.len,
			       (const uint8_t *)t->data + s->step_off, n);
		s->in.len += n;
		s->step_off += n;
		if (s->step_off < t->len)
			return -1;
	}
	s->step++;
	s->step_off = 0;
	return 0;
}

/* see sim_int.h */
void sim_sock_pump(struct sim_sock *s)
{
	if (s->st == SIM_SK_CONNECTING && sim_now >= s->done_at) {
		if (s->conn_err == 0) {
			s->st = SIM_SK_CONNECTED;
			if (s->peer.nsteps > 0)
				sim_sock_script(s, &s->peer, s->done_at);
		} else {
			s->st = SIM_SK_FAILED;
		}
	}
	while (s->scripted && s->step < s->peer.nsteps) {
		const struct hal_sim_step *t = &s->peer.steps[s->step];

		if (s->est_at + t->at_ms > sim_now || sim_play(s, t) < 0)
			break;
	}
}

/* see sim_int.h */
uint64_t sim_net_next_event(void)
{
	uint64_t next = UINT64_MAX, t;

	for (int i = 0; i < HAL_SIM_FDS_MAX; i++) {
		const struct sim_sock *s = &sim_socks[i];

		if (!s->open)
			continue;
		if (s->st == SIM_SK_CONNECTING && s->done_at > sim_now &&
		    s->done_at < next)
			next = s->done_at;
		if (!s->scripted || s->step >= s->peer.nsteps)
			continue;
		t = s->est_at + s->peer.steps[s->step].at_ms;
		if (t > sim_now && t < next)
			next = t;
	}
	return next;
}

static unsigned short sim_stream_revents(const struct sim_sock *s)
{
	unsigned short ev = 0;

	switch (s->st) {
	case SIM_SK_LISTEN:
		return s->nbacklog > 0 ? HAL_POLLIN : 0;
	case SIM_SK_CONNECTING:
		return 0;
	case SIM_SK_FAILED:
		return HAL_POLLOUT | HAL_POLLERR | HAL_POLLHUP;
	case SIM_SK_CONNECTED:
		if (s->in.len > 0 || s->peer_closed || s->peer_reset)
			ev |= HAL_POLLIN;
		if (s->peer_reset)
			ev |= HAL_POLLERR | HAL_POLLHUP;
		else if (s->out.len < sizeof s->out.data)
			ev |= HAL_POLLOUT;
		return ev;
	default:
		/* never connected: Linux reports a closed TCP socket so */
		return HAL_POLLOUT | HAL_POLLHUP;
	}
}

/* see sim_int.h */
unsigned short sim_net_revents(int slot, unsigned short events)
{
	struct sim_sock *s = &sim_socks[slot];
	unsigned short ev;

	sim_sock_pump(s);
	if (s->type == HAL_SOCK_DGRAM) {
		ev = s->in.len > 0 ? HAL_POLLIN : 0;
		/* a datagram record needs its header as well */
		if (sizeof s->out.data - s->out.len > sizeof(struct sim_dgram_hdr))
			ev |= HAL_POLLOUT;
	} else {
		ev = sim_stream_revents(s);
	}
	/* IN/OUT only when asked for; ERR/HUP always, as poll(2) */
	return (unsigned short)(ev & (events | HAL_POLLERR | HAL_POLLHUP));
}

/* see sim_int.h */
const struct hal_sim_peer *sim_net_find_peer(const struct hal_addr *a,
					     int type)
{
	for (unsigned i = 0; i < sim_npeers; i++)
		if (sim_peers[i].type == type && sim_addr_eq(&sim_peers[i].addr, a))
			return &sim_peers[i];
	return NULL;
}

/* see sim_int.h */
void sim_net_contact(const struct hal_addr *a)
{
	struct sim_contact *free_c = NULL;

	for (int i = 0; i < SIM_CONTACTS_MAX; i++) {
		struct sim_contact *c = &sim_contacts[i];

		if (c->n > 0 && sim_addr_eq(&c->addr, a)) {
			c->n++;
			return;
		}
		if (c->n == 0 && !free_c)
			free_c = c;
	}
	if (free_c) {
		free_c->addr = *a;
		free_c->n = 1;
	}
}

/* see hal/sim.h */
unsigned hal_sim_net_contacts(const struct hal_addr *addr)
{
	for (int i = 0; addr && i < SIM_CONTACTS_MAX; i++)
		if (sim_contacts[i].n > 0 && sim_addr_eq(&sim_contacts[i].addr, addr))
			return sim_contacts[i].n;
	return 0;
}

static int sim_peer_valid(const struct hal_sim_peer *p)
{
	if (!p || (p->type != HAL_SOCK_STREAM && p->type != HAL_SOCK_DGRAM))
		return 0;
	if (p->addr.family != HAL_AF_INET && p->addr.family != HAL_AF_INET6)
		return 0;
	if (p->nsteps > HAL_SIM_STEPS_MAX || (p->nsteps > 0 && !p->steps) ||
	    p->connect_result > 0)
		return 0;
	for (unsigned i = 0; i < p->nsteps; i++) {
		const struct hal_sim_step *t = &p->steps[i];

		if ((i > 0 && t->at_ms < p->steps[i - 1].at_ms) ||
		    (t->len > 0 && !t->data))
			return 0;
		if (t->kind == HAL_SIM_PEER_SEND && p->type == HAL_SOCK_DGRAM &&
		    t->len > HAL_SIM_BUF_MAX - sizeof(struct sim_dgram_hdr))
			return 0;
	}
	return 1;
}

/* see hal/sim.h */
int hal_sim_net_add_peer(const struct hal_sim_peer *peer)
{
	if (!sim_peer_valid(peer))
		return -EINVAL;
	if (sim_npeers == HAL_SIM_PEERS_MAX)
		return -ENOSPC;
	sim_peers[sim_npeers++] = *peer;
	return 0;
}

/* The open socket of type bound to `local` (wildcard binds match any
 * address of the family), in state st (or any state when st < 0). */
static struct sim_sock *sim_find_bound(const struct hal_addr *local,
				       int type, int st)
{
	for (int i = 0; i < HAL_SIM_FDS_MAX; i++) {
		struct sim_sock *s = &sim_socks[i];

		if (!s->open || !s->bound || s->type != type ||
		    s->local.family != local->family ||
		    s->local.port != local->port || (st >= 0 && (int)s->st != st))
			continue;
		if (sim_addr_is_any(&s->local) ||
		    memcmp(s->local.ip, local->ip,
			   local->family == HAL_AF_INET ? 4 : 16) == 0)
			return s;
	}
	return NULL;
}

/* see hal/sim.h */
int hal_sim_net_inject_connect(const struct hal_addr *local,
			       const struct hal_sim_peer *peer)
{
	struct sim_sock *s;

	if (!local || !sim_peer_valid(peer))
		return -ECONNREFUSED;
	s = sim_find_bound(local, HAL_SOCK_STREAM, SIM_SK_LISTEN);
	if (!s)
		return -ECONNREFUSED;
	if (s->nbacklog >= s->backlog_max)
		return -ENOSPC;
	s->backlog[s->nbacklog].peer = *peer;
	s->backlog[s->nbacklog].at = sim_now;
	s->nbacklog++;
	return 0;
}

/* see hal/sim.h */
int hal_sim_net_inject_datagram(const struct hal_addr *local,
				const struct hal_addr *from,
				const void *buf, size_t len)
{
	struct sim_sock *s;

	if (!local || !from || (len > 0 && !buf))
		return -ECONNREFUSED;
	s = sim_find_bound(local, HAL_SOCK_DGRAM, -1);
	if (!s)
		return -ECONNREFUSED;
	return sim_buf_put_dgram(&s->in, from, buf, len) < 0 ? -ENOSPC : 0;
}

/* Captures survive close until the slot is reused (see sim_int.h). */
static struct sim_sock *sim_capture(int fd)
{
	int slot = sim_fd_slot(fd);

	return slot < 0 ? NULL : &sim_socks[slot];
}

/* see hal/sim.h */
size_t hal_sim_net_sent(int fd, void *buf, size_t cap)
{
	struct sim_sock *s = sim_capture(fd);
	size_t n;

	if (!s || s->type != HAL_SOCK_STREAM || !buf)
		return 0;
	n = s->out.len < cap ? s->out.len : cap;
	memcpy(buf, s->out.data, n);
	memmove(s->out.data, s->out.data + n, s->out.len - n);
	s->out.len -= n;
	return n;
}

/* see hal/sim.h */
int hal_sim_net_sent_datagram(int fd, void *buf, size_t cap,
			      struct hal_addr *to)
{
	struct sim_sock *s = sim_capture(fd);
	int len;

	if (!s || s->type != HAL_SOCK_DGRAM || (cap > 0 && !buf))
		return -EAGAIN;
	len = sim_buf_take_dgram(&s->out, buf, cap, to);
	if (len < 0)
		return len;
	return (size_t)len < cap ? len : (int)cap;
}

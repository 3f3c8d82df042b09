/*
 * probe.c — see probe.h.  Invariant: p->fd >= 0 exactly while an attempt
 * is under way (p->res.done == 0).
 */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/poll.h"

/* Records the verdict and closes the socket. */
static int probe_end(struct probe *p, int err, uint64_t now_ms)
{
	if (p->fd >= 0)
		hal_net_close(p->fd);
	p->fd = -1;
	p->res.done = 1;
	p->res.reachable = err == 0;
	p->res.err = err;
	p->res.latency_ms = (uint32_t)(now_ms - p->started_ms);
	return 1;
}

/* see probe.h */
int probe_start(struct probe *p, const struct hal_addr *a, uint64_t now_ms)
{
	int ret;

	if (p->fd >= 0)
		return -EALREADY;
	if (!a || (a->family != HAL_AF_INET && a->family != HAL_AF_INET6))
		return -EINVAL;
	memset(&p->res, 0, sizeof p->res);
	p->res.addr = *a;
	p->started_ms = now_ms;
	ret = hal_net_socket(a->family, HAL_SOCK_STREAM);
	if (ret < 0)
		return probe_end(p, ret, now_ms);
	p->fd = ret;
	ret = hal_net_connect(p->fd, a);
	if (ret == -EINPROGRESS)
		return 0;
	return probe_end(p, ret, now_ms);
}

/* see probe.h */
int probe_step(struct probe *p, uint64_t now_ms)
{
	struct hal_pollfd pfd = { p->fd, HAL_POLLOUT, 0 };
	int ret;

	if (p->fd < 0)
		return 1;
	/* writable (or failed) now?  A zero-timeout look, never a wait */
	ret = hal_poll(&pfd, 1, 0);
	if (ret > 0)
		return probe_end(p, hal_net_connect_result(p->fd), now_ms);
	if (now_ms - p->started_ms >= PROBE_TIMEOUT_MS)
		return probe_end(p, -ETIMEDOUT, now_ms);
	return 0;
}

/* see probe.h */
uint32_t probe_wait_ms(const struct probe *p, uint64_t now_ms)
{
	uint64_t spent = now_ms - p->started_ms;

	if (p->fd < 0 || spent >= PROBE_TIMEOUT_MS)
		return 0;
	return (uint32_t)(PROBE_TIMEOUT_MS - spent);
}

/* see probe.h */
void probe_cancel(struct probe *p)
{
	if (p->fd >= 0)
		hal_net_close(p->fd);
	p->fd = -1;
}

/* see probe.h */
int probe_run(const struct hal_addr *a, struct probe_result *r)
{
	struct probe p = PROBE_INIT;
	int ret = probe_start(&p, a, hal_clock_mono_ms());

	while (ret == 0) {
		struct hal_pollfd pfd = { p.fd, HAL_POLLOUT, 0 };
		int w = (int)probe_wait_ms(&p, hal_clock_mono_ms());

		if (hal_poll(&pfd, 1, w) == -EIO) {
			probe_cancel(&p);
			return -EIO;
		}
		ret = probe_step(&p, hal_clock_mono_ms());
	}
	if (ret < 0)
		return ret;
	*r = p.res;
	return 0;
}

/* see probe.h */
int probe_format(const struct probe_result *r, char *buf, size_t cap)
{
	char addr[HAL_ADDR_TEXT_MAX];
	int n;

	if (hal_net_addr_format(&r->addr, addr, sizeof addr) < 0)
		snprintf(addr, sizeof addr, "?");
	if (r->reachable)
		n = snprintf(buf, cap, "reachable %s in %u ms", addr,
			     (unsigned)r->latency_ms);
	else
		n = snprintf(buf, cap, "unreachable %s: %s after %u ms", addr,
			     strerror(-r->err), (unsigned)r->latency_ms);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

/*
 * hal/sim/poll.c — readiness of sim descriptors, and where virtual time
 * passes.
 *
 * A signal raised since the last call makes it return -EINTR first.
 * Otherwise, loop: evaluate every entry; if something is ready, or the
 * timeout is 0, return.  Else move the clock to the earlier of the
 * deadline (now + timeout) and the next scripted network event, and
 * evaluate again.  With timeout -1 and no scripted event ahead nothing
 * could ever become ready: it returns 0 at once, without moving the clock,
 * instead of hanging the test.  Every pass either returns or moves the
 * clock strictly forward to an event, and events are finite, so the loop
 * ends.  A descriptor that is not an open sim descriptor reports
 * HAL_POLLNVAL; a negative one is ignored, as poll(2) does.
 */
#include "hal/poll.h"

#include <errno.h>

#include "sim_int.h"

static unsigned short sim_poll_one(const struct hal_pollfd *p)
{
	switch (sim_fd_kind_of(p->fd)) {
	case SIM_FD_SOCK:
		return sim_net_revents(sim_fd_slot(p->fd), p->events);
	case SIM_FD_SERIAL:
		return sim_serial_revents(p->events);
	case SIM_FD_SIGNAL:
		return sim_signal_revents(p->events);
	case SIM_FD_WDT:
	case SIM_FD_AFILE:
	case SIM_FD_RFILE:
		/* files are always ready, as poll(2) says of regular files */
		return (unsigned short)(p->events & (HAL_POLLIN | HAL_POLLOUT));
	case SIM_FD_FREE:
	default:
		return HAL_POLLNVAL;
	}
}

static int sim_poll_eval(struct hal_pollfd *fds, unsigned n)
{
	int count = 0;

	for (unsigned i = 0; i < n; i++) {
		fds[i].revents = fds[i].fd < 0 ? 0 : sim_poll_one(&fds[i]);
		if (fds[i].revents)
			count++;
	}
	return count;
}

/* see hal/poll.h */
int hal_poll(struct hal_pollfd *fds, unsigned n, int timeout_ms)
{
	uint64_t deadline = UINT64_MAX, next;
	int count;

	if (n > HAL_POLL_MAX || (n > 0 && !fds))
		return -EINVAL;
	if (sim_signal_take_interrupt() < 0)
		return -EINTR;
	if (timeout_ms >= 0)
		deadline = sim_now + (uint64_t)timeout_ms;
	for (;;) {
		count = sim_poll_eval(fds, n);
		if (count > 0 || timeout_ms == 0)
			return count;
		next = sim_net_next_event();
		if (next > deadline)
			next = deadline;
		if (next == UINT64_MAX || next <= sim_now)
			return 0;
		sim_time_set(next);
	}
}

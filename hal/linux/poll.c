/*
 * hal/linux/poll.c — hal_poll over poll(2).
 *
 * The HAL's flag values are its own, so every call copies the set into a
 * struct pollfd array on the stack (HAL_POLL_MAX entries, 8 bytes each:
 * 2 KiB) and maps the flags both ways.  Negative descriptors are ignored,
 * as poll(2) does.
 */
#include "hal/poll.h"

#include <errno.h>
#include <poll.h>

static short poll_events_to_os(unsigned short ev)
{
	short os = 0;

	if (ev & HAL_POLLIN)
		os |= POLLIN;
	if (ev & HAL_POLLOUT)
		os |= POLLOUT;
	return os;
}

static unsigned short poll_revents_from_os(short os)
{
	unsigned short ev = 0;

	if (os & POLLIN)
		ev |= HAL_POLLIN;
	if (os & POLLOUT)
		ev |= HAL_POLLOUT;
	if (os & POLLERR)
		ev |= HAL_POLLERR;
	if (os & POLLHUP)
		ev |= HAL_POLLHUP;
	if (os & POLLNVAL)
		ev |= HAL_POLLNVAL;
	return ev;
}

/* see hal/poll.h */
int hal_poll(struct hal_pollfd *fds, unsigned n, int timeout_ms)
{
	struct pollfd pfd[HAL_POLL_MAX];
	int ret = -EIO;

	if (n > HAL_POLL_MAX || (n > 0 && !fds))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		pfd[i].fd = fds[i].fd;
		pfd[i].events = poll_events_to_os(fds[i].events);
		pfd[i].revents = 0;
	}
	ret = poll(pfd, (nfds_t)n, timeout_ms < 0 ? -1 : timeout_ms);
	if (ret < 0) {
		/* ENOMEM is the only other failure with valid arguments. */
		return errno == EINTR ? -EINTR : -EIO;
	}
	for (unsigned i = 0; i < n; i++)
		fds[i].revents = poll_revents_from_os(pfd[i].revents);
	return ret;
}

/*
 * hal/poll.h — waiting for descriptors, the one blocking call of the agent.
 *
 * Descriptors come from hal_net, hal_serial and hal_signal.  The layout and
 * flags are the HAL's own (lwIP's poll and Linux's agree on the meaning,
 * not necessarily on values), so the event loop never includes <poll.h>.
 *
 * On the sim, hal_poll() is where virtual time passes: when nothing is
 * ready it advances the sim clock by the timeout (or to the next scripted
 * network event, whichever is first) and returns.
 */
#ifndef HAL_POLL_H
#define HAL_POLL_H

#define HAL_POLLIN  0x1
#define HAL_POLLOUT 0x2
#define HAL_POLLERR 0x4 /* error on the descriptor (output only) */
#define HAL_POLLHUP 0x8 /* peer hung up (output only) */
#define HAL_POLLNVAL 0x10 /* not an open descriptor (output only) */

/* Most entries one hal_poll() call takes (the Linux side copies them into
 * a stack array of this size). */
#define HAL_POLL_MAX 256

struct hal_pollfd {
	int fd;
	unsigned short events;
	unsigned short revents;
};

/*
 * Waits until one of fds is ready or timeout_ms passes (-1: forever).
 * @retval >=0 number of entries with revents set
 * @retval -EINTR a signal arrived (hal_signal has something to read)
 * @retval -EINVAL n > HAL_POLL_MAX or fds NULL with n > 0
 * @retval -EIO the kernel ran out of memory for the wait
 * A negative fd is ignored (revents 0); a descriptor that is not open
 * gets HAL_POLLNVAL and counts as ready.
 */
int hal_poll(struct hal_pollfd *fds, unsigned n, int timeout_ms);

#endif

/*
 * ev.h — the event loop: one thread, poll(2) through hal_poll, descriptor
 * callbacks and timers, no allocation.
 *
 * Storage is the caller's: EV_MEM_DEFINE(name, nfds, ntimers) declares the
 * static arrays (the agent uses EV_AGENT_FDS/EV_AGENT_TIMERS; a server may
 * pass larger ones), ev_init() takes them.  Time is the monotonic clock in
 * milliseconds, read once per pass (ev_now).
 *
 * One pass (ev_run_once):
 *   1. wait in hal_poll until a descriptor is ready or the earliest timer
 *      is due (never longer than max_wait_ms);
 *   2. call the callback of every ready descriptor, re-reading its
 *      registration first, because an earlier callback in the same pass
 *      may have removed or changed it;
 *   3. run every timer that was due when the pass started; a timer armed
 *      during the pass waits for the next one, so a zero-delay timer cannot
 *      starve the descriptors;
 *   4. if any callback ran, call the after-pass hook (ev_set_after): the
 *      one place to notice state that callbacks changed (like Redis's
 *      beforeSleep), so observers learn of a change in the pass that made
 *      it, without polling for it.
 *
 * Callbacks may add, change and remove registrations and timers freely.
 */
#ifndef VIGIL_EV_H
#define VIGIL_EV_H

#include <stdint.h>

#include "hal/poll.h"

#define EV_READ  0x1
#define EV_WRITE 0x2
#define EV_ERROR 0x4 /* delivered, never requested: error or hang-up */

/* Timer callbacks return the next delay in ms (>= 0), or EV_STOP. */
#define EV_STOP (-1)

/* The agent's capacities: signal pipe, console, CoAP (2 sockets), backup
 * connection, watchdog helper, probe, plus headroom; timers: one per
 * subsystem tick, retries, timeouts, observers' deadlines. */
#define EV_AGENT_FDS    16
#define EV_AGENT_TIMERS 32

/* Largest capacity ev_init accepts (timer ids carry the slot in 16 bits). */
#define EV_CAP_MAX 65535u

struct ev_loop;

typedef void (*ev_fd_cb)(struct ev_loop *loop, int fd, unsigned events,
			 void *arg);
typedef int64_t (*ev_timer_cb)(struct ev_loop *loop, void *arg);

struct ev_fd {
	int fd;       /* -1: free slot (or removed during this pass) */
	unsigned mask;
	ev_fd_cb cb;
	void *arg;
};

struct ev_timer {
	uint64_t deadline;
	uint64_t seq;      /* arming order: ties run first-armed first */
	ev_timer_cb cb;
	void *arg;
	int heap_pos;      /* index in the heap, -1 when not queued */
	uint16_t gen;      /* bumped when the slot is freed: stale ids fail */
	uint8_t used;
	uint8_t cancelled; /* cancelled while its callback runs */
};

struct ev_mem {
	struct ev_fd *fds;
	struct hal_pollfd *pfds;
	unsigned nfds;
	struct ev_timer *timers;
	unsigned *heap;
	unsigned ntimers;
};

#define EV_MEM_DEFINE(name, nfds_, ntimers_)                                \
	static struct ev_fd name##_fds_[nfds_];                             \
	static struct hal_pollfd name##_pfds_[nfds_];                       \
	static struct ev_timer name##_timers_[ntimers_];                    \
	static unsigned name##_heap_[ntimers_];                             \
	static const struct ev_mem name = { name##_fds_, name##_pfds_,      \
					    nfds_, name##_timers_,          \
					    name##_heap_, ntimers_ }

typedef void ev_after_cb(struct ev_loop *loop, void *arg);

struct ev_loop {
	struct ev_mem mem;
	ev_after_cb *after;   /* ev_set_after; NULL: none */
	void *after_arg;
	unsigned nfds_used;   /* slots [0, nfds_used) may hold registrations */
	unsigned nheap;
	uint64_t now;
	uint64_t seq;
	int dispatching;
	int stopped;
};

/*
 * Prepares loop over mem (borrowed: must outlive the loop).
 * @retval 0 ready
 * @retval -EINVAL a capacity is 0 or above EV_CAP_MAX, or a pointer NULL
 */
int ev_init(struct ev_loop *loop, const struct ev_mem *mem);

/*
 * Registers fd for the events in mask (EV_READ|EV_WRITE; 0 is allowed and
 * keeps the slot while waiting for nothing).  EV_ERROR is always delivered.
 * @retval 0 registered
 * @retval -EEXIST fd already registered (use ev_mod)
 * @retval -ENOSPC table full
 * @retval -EINVAL fd < 0 or cb NULL
 */
int ev_add(struct ev_loop *loop, int fd, unsigned mask, ev_fd_cb cb,
	   void *arg);

/* Changes the events fd waits for.  @retval 0 / -ENOENT not registered */
int ev_mod(struct ev_loop *loop, int fd, unsigned mask);

/* Forgets fd (does not close it).  @retval 0 / -ENOENT not registered */
int ev_del(struct ev_loop *loop, int fd);

/*
 * Arms a timer delay_ms from now.
 * @retval >0 timer id (valid until the timer stops or is cancelled)
 * @retval -ENOSPC no free timer
 * @retval -EINVAL delay_ms < 0 or cb NULL
 */
int ev_timer_add(struct ev_loop *loop, int64_t delay_ms, ev_timer_cb cb,
		 void *arg);

/* Moves a timer's deadline to delay_ms from now.
 * @retval 0 re-armed  @retval -ENOENT no such timer  @retval -EINVAL */
int ev_timer_rearm(struct ev_loop *loop, int id, int64_t delay_ms);

/* Stops a timer (also from inside its own callback).
 * @retval 0 cancelled  @retval -ENOENT no such timer (or already gone) */
int ev_timer_cancel(struct ev_loop *loop, int id);

/* Sets (fn NULL: clears) the hook called at the end of every pass in
 * which a callback ran. */
void ev_set_after(struct ev_loop *loop, ev_after_cb *fn, void *arg);

/*
 * One pass, waiting at most max_wait_ms (-1: until something happens).
 * @retval >=0 number of callbacks run
 * @retval -EINVAL hal_poll refused the descriptor set
 */
int ev_run_once(struct ev_loop *loop, int max_wait_ms);

/* Runs passes until ev_stop().  @retval 0 stopped  @retval <0 as
 * ev_run_once */
int ev_run(struct ev_loop *loop);

/* Makes ev_run return after the current pass. */
void ev_stop(struct ev_loop *loop);

/* The monotonic time (ms) read at the start of the current pass. */
uint64_t ev_now(const struct ev_loop *loop);

#endif

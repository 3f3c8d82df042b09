/*
 * ev.c — the event loop (see ev.h for the contract and the pass order).
 *
 * Descriptors: slot i of mem.fds is polled through mem.pfds[i], so a poll
 * result maps to its registration without a search.  Removing a slot
 * during a pass only marks it (fd = -1); the table is compacted when the
 * pass ends, so indices stay valid while callbacks run.  Lookups by fd are
 * O(nfds), fine for the agent's 16 slots and cheaper than poll itself for
 * a server's hundreds.
 *
 * Timers: a binary min-heap of slot indices ordered by (deadline, seq);
 * each slot knows its heap position, so cancel and re-arm are O(log n).
 * A timer id is (gen << 16 | slot + 1): a stale id from a freed and reused
 * slot does not match the slot's new generation.
 */
#include "ev.h"

#include <errno.h>
#include <stddef.h>

#include "hal/clock.h"

/* ---- timer heap ---- */

static int timer_before(const struct ev_loop *loop, unsigned a, unsigned b)
{
	const struct ev_timer *ta = &loop->mem.timers[a];
	const struct ev_timer *tb = &loop->mem.timers[b];

	if (ta->deadline != tb->deadline)
		return ta->deadline < tb->deadline;
	return ta->seq < tb->seq;
}

static void heap_place(struct ev_loop *loop, unsigned pos, unsigned slot)
{
	loop->mem.heap[pos] = slot;
	loop->mem.timers[slot].heap_pos = (int)pos;
}

static void heap_up(struct ev_loop *loop, unsigned pos)
{
	unsigned slot = loop->mem.heap[pos];

	while (pos > 0) {
		unsigned parent = (pos - 1) / 2;

		if (!timer_before(loop, slot, loop->mem.heap[parent]))
			break;
		heap_place(loop, pos, loop->mem.heap[parent]);
		pos = parent;
	}
	heap_place(loop, pos, slot);
}

static void heap_down(struct ev_loop *loop, unsigned pos)
{
	unsigned slot = loop->mem.heap[pos];

	for (;;) {
		unsigned child = 2 * pos + 1;

		if (child >= loop->nheap)
			break;
		if (child + 1 < loop->nheap &&
		    timer_before(loop, loop->mem.heap[child + 1],
				 loop->mem.heap[child]))
			child++;
		if (!timer_before(loop, loop->mem.heap[child], slot))
			break;
		heap_place(loop, pos, loop->mem.heap[child]);
		pos = child;
	}
	heap_place(loop, pos, slot);
}

static void heap_push(struct ev_loop *loop, unsigned slot)
{
	unsigned pos = loop->nheap++;

	heap_place(loop, pos, slot);
	heap_up(loop, pos);
}

static void heap_remove(struct ev_loop *loop, unsigned slot)
{
	unsigned pos = (unsigned)loop->mem.timers[slot].heap_pos;
	unsigned last = loop->mem.heap[--loop->nheap];

	loop->mem.timers[slot].heap_pos = -1;
	if (last == slot)
		return;
	heap_place(loop, pos, last);
	heap_up(loop, pos);
	heap_down(loop, (unsigned)loop->mem.timers[last].heap_pos);
}

/* ---- timer slots ---- */

static int timer_id(const struct ev_loop *loop, unsigned slot)
{
	return (int)(((unsigned)loop->mem.timers[slot].gen << 16) | (slot + 1));
}

/* Slot of a live timer id, or -ENOENT. */
static int timer_slot(const struct ev_loop *loop, int id)
{
	unsigned slot, gen;

	if (id <= 0)
		return -ENOENT;
	slot = ((unsigned)id & 0xffffu) - 1;
	gen = (unsigned)id >> 16;
	if (slot >= loop->mem.ntimers || !loop->mem.timers[slot].used ||
	    loop->mem.timers[slot].cancelled ||
	    loop->mem.timers[slot].gen != gen)
		return -ENOENT;
	return (int)slot;
}

static void timer_free(struct ev_loop *loop, unsigned slot)
{
	struct ev_timer *t = &loop->mem.timers[slot];

	t->used = 0;
	t->cancelled = 0;
	/* 15 bits, so an id stays a positive int. */
	t->gen = (uint16_t)((t->gen + 1) & 0x7fff);
}

static void timer_arm(struct ev_loop *loop, unsigned slot, int64_t delay_ms)
{
	struct ev_timer *t = &loop->mem.timers[slot];

	/* Outside a pass the cached time may be old: armed from "now". */
	if (!loop->dispatching)
		loop->now = hal_clock_mono_ms();
	t->deadline = loop->now + (uint64_t)delay_ms;
	t->seq = loop->seq++;
	if (t->heap_pos >= 0) {
		heap_up(loop, (unsigned)t->heap_pos);
		heap_down(loop, (unsigned)t->heap_pos);
	} else {
		heap_push(loop, slot);
	}
}

/* see ev.h */
int ev_init(struct ev_loop *loop, const struct ev_mem *mem)
{
	if (!loop || !mem || !mem->fds || !mem->pfds || !mem->timers ||
	    !mem->heap || mem->nfds == 0 || mem->ntimers == 0 ||
	    mem->nfds > EV_CAP_MAX || mem->ntimers > EV_CAP_MAX)
		return -EINVAL;
	*loop = (struct ev_loop){ .mem = *mem };
	for (unsigned i = 0; i < mem->nfds; i++)
		mem->fds[i] = (struct ev_fd){ .fd = -1 };
	for (unsigned i = 0; i < mem->ntimers; i++)
		mem->timers[i] = (struct ev_timer){ .heap_pos = -1 };
	loop->now = hal_clock_mono_ms();
	return 0;
}

/* see ev.h */
int ev_timer_add(struct ev_loop *loop, int64_t delay_ms, ev_timer_cb cb,
		 void *arg)
{
	if (delay_ms < 0 || !cb)
		return -EINVAL;
	for (unsigned i = 0; i < loop->mem.ntimers; i++) {
		struct ev_timer *t = &loop->mem.timers[i];

		if (t->used)
			continue;
		t->used = 1;
		t->cb = cb;
		t->arg = arg;
		timer_arm(loop, i, delay_ms);
		return timer_id(loop, i);
	}
	return -ENOSPC;
}

/* see ev.h */
int ev_timer_rearm(struct ev_loop *loop, int id, int64_t delay_ms)
{
	int slot = timer_slot(loop, id);

	if (slot < 0)
		return slot;
	if (delay_ms < 0)
		return -EINVAL;
	timer_arm(loop, (unsigned)slot, delay_ms);
	return 0;
}

/* see ev.h */
int ev_timer_cancel(struct ev_loop *loop, int id)
{
	int slot = timer_slot(loop, id);

	if (slot < 0)
		return slot;
	if (loop->mem.timers[slot].heap_pos < 0) {
		/* Its callback is running: run_timers frees it afterwards. */
		loop->mem.timers[slot].cancelled = 1;
		return 0;
	}
	heap_remove(loop, (unsigned)slot);
	timer_free(loop, (unsigned)slot);
	return 0;
}

/* Runs the timers due now that were armed before this phase began. */
static int run_timers(struct ev_loop *loop)
{
	uint64_t mark = loop->seq;
	int ran = 0;

	while (loop->nheap > 0) {
		unsigned slot = loop->mem.heap[0];
		struct ev_timer *t = &loop->mem.timers[slot];
		int64_t next;

		if (t->deadline > loop->now || t->seq >= mark)
			break;
		heap_remove(loop, slot);
		next = t->cb(loop, t->arg);
		ran++;
		if (next < 0 || t->cancelled)
			timer_free(loop, slot);
		else if (t->heap_pos < 0)
			timer_arm(loop, slot, next);
		/* else: the callback re-armed it itself; keep that. */
	}
	return ran;
}

/* ---- descriptors ---- */

static int fd_slot(const struct ev_loop *loop, int fd)
{
	for (unsigned i = 0; i < loop->nfds_used; i++) {
		if (loop->mem.fds[i].fd == fd)
			return (int)i;
	}
	return -ENOENT;
}

static unsigned hal_events(unsigned mask)
{
	return ((mask & EV_READ) ? HAL_POLLIN : 0u) |
	       ((mask & EV_WRITE) ? HAL_POLLOUT : 0u);
}

/* see ev.h */
int ev_add(struct ev_loop *loop, int fd, unsigned mask, ev_fd_cb cb,
	   void *arg)
{
	unsigned slot = loop->nfds_used;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (fd_slot(loop, fd) >= 0)
		return -EEXIST;
	if (!loop->dispatching) {
		/* Outside a pass, a hole left by ev_del can be reused. */
		int hole = fd_slot(loop, -1);

		if (hole >= 0)
			slot = (unsigned)hole;
	}
	if (slot == loop->mem.nfds)
		return -ENOSPC;
	loop->mem.fds[slot] = (struct ev_fd){ fd, mask, cb, arg };
	loop->mem.pfds[slot] = (struct hal_pollfd){
		fd, (unsigned short)hal_events(mask), 0 };
	if (slot == loop->nfds_used)
		loop->nfds_used++;
	return 0;
}

/* see ev.h */
int ev_mod(struct ev_loop *loop, int fd, unsigned mask)
{
	int slot = fd_slot(loop, fd);

	if (fd < 0 || slot < 0)
		return -ENOENT;
	loop->mem.fds[slot].mask = mask;
	loop->mem.pfds[slot].events = (unsigned short)hal_events(mask);
	return 0;
}

/* see ev.h */
int ev_del(struct ev_loop *loop, int fd)
{
	int slot = fd_slot(loop, fd);

	if (fd < 0 || slot < 0)
		return -ENOENT;
	loop->mem.fds[slot].fd = -1;
	loop->mem.pfds[slot].fd = -1;
	loop->mem.pfds[slot].events = 0;
	return 0;
}

/* Squeezes out removed slots so poll never scans dead entries. */
static void compact_fds(struct ev_loop *loop)
{
	unsigned out = 0;

	for (unsigned i = 0; i < loop->nfds_used; i++) {
		if (loop->mem.fds[i].fd < 0)
			continue;
		loop->mem.fds[out] = loop->mem.fds[i];
		loop->mem.pfds[out] = loop->mem.pfds[i];
		out++;
	}
	loop->nfds_used = out;
}

static int dispatch_fds(struct ev_loop *loop, unsigned polled)
{
	int ran = 0;

	for (unsigned i = 0; i < polled; i++) {
		unsigned rev = loop->mem.pfds[i].revents;
		const struct ev_fd *reg = &loop->mem.fds[i];
		unsigned events = 0;

		loop->mem.pfds[i].revents = 0;
		/* Re-read: an earlier callback may have removed or changed it. */
		if (reg->fd < 0 || rev == 0)
			continue;
		if (rev & HAL_POLLIN)
			events |= EV_READ;
		if (rev & HAL_POLLOUT)
			events |= EV_WRITE;
		events &= reg->mask;
		if (rev & (HAL_POLLERR | HAL_POLLHUP | HAL_POLLNVAL))
			events |= EV_ERROR;
		if (events == 0)
			continue;
		reg->cb(loop, reg->fd, events, reg->arg);
		ran++;
	}
	return ran;
}

static int poll_timeout(const struct ev_loop *loop, int max_wait_ms)
{
	uint64_t due;

	if (loop->nheap == 0)
		return max_wait_ms;
	due = loop->mem.timers[loop->mem.heap[0]].deadline;
	if (due <= loop->now)
		return 0;
	if (max_wait_ms >= 0 && due - loop->now > (uint64_t)max_wait_ms)
		return max_wait_ms;
	/* Callers' waits fit an int; a far-off timer is re-checked later. */
	return due - loop->now > (uint64_t)INT32_MAX ? INT32_MAX
						       : (int)(due - loop->now);
}

/* see ev.h */
int ev_run_once(struct ev_loop *loop, int max_wait_ms)
{
	unsigned polled = loop->nfds_used;
	int ret, ran;

	loop->now = hal_clock_mono_ms();
	ret = hal_poll(loop->mem.pfds, polled, poll_timeout(loop, max_wait_ms));
	loop->now = hal_clock_mono_ms();
	if (ret == -EINTR) /* the handler made the signal descriptor readable */
		ret = hal_poll(loop->mem.pfds, polled, 0);
	if (ret == -EINTR)
		ret = 0;
	if (ret < 0)
		return ret;
	loop->dispatching = 1;
	ran = ret > 0 ? dispatch_fds(loop, polled) : 0;
	ran += run_timers(loop);
	loop->dispatching = 0;
	compact_fds(loop);
	if (ran > 0 && loop->after)
		loop->after(loop, loop->after_arg);
	return ran;
}

/* see ev.h */
void ev_set_after(struct ev_loop *loop, ev_after_cb *fn, void *arg)
{
	loop->after = fn;
	loop->after_arg = arg;
}

/* see ev.h */
int ev_run(struct ev_loop *loop)
{
	loop->stopped = 0;
	while (!loop->stopped) {
		int ret = ev_run_once(loop, -1);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* see ev.h */
void ev_stop(struct ev_loop *loop)
{
	loop->stopped = 1;
}

/* see ev.h */
uint64_t ev_now(const struct ev_loop *loop)
{
	return loop->now;
}

/*
 * ev_test.c — the event loop on the sim HAL: virtual time makes every
 * timer assertion exact (hal_poll advances the clock to the next deadline).
 */
#include <errno.h>

#include "ev.h"
#include "hal/clock.h"
#include "hal/serial.h"
#include "hal/signal.h"
#include "hal/sim.h"
#include "test.h"

EV_MEM_DEFINE(small_mem, 4, 4);

static struct ev_loop loop;

/* A timer log: which timer ran, and when. */
static struct {
	int who[32];
	uint64_t at[32];
	unsigned n;
} trace;

static void trace_reset(void)
{
	trace.n = 0;
}

static void trace_add(int who)
{
	if (trace.n < 32) {
		trace.who[trace.n] = who;
		trace.at[trace.n] = hal_clock_mono_ms();
		trace.n++;
	}
}

static int64_t once_cb(struct ev_loop *l, void *arg)
{
	(void)l;
	trace_add((int)(intptr_t)arg);
	return EV_STOP;
}

static int64_t every_100_cb(struct ev_loop *l, void *arg)
{
	(void)l;
	trace_add((int)(intptr_t)arg);
	return 100;
}

static void setup(void)
{
	trace_reset();
	REQUIRE(ev_init(&loop, &small_mem) == 0);
}

TEST(init_rejects_bad_memory)
{
	struct ev_mem bad = small_mem;

	bad.nfds = 0;
	CHECK_EQ_INT(ev_init(&loop, &bad), -EINVAL);
	bad = small_mem;
	bad.heap = NULL;
	CHECK_EQ_INT(ev_init(&loop, &bad), -EINVAL);
	bad = small_mem;
	bad.ntimers = EV_CAP_MAX + 1;
	CHECK_EQ_INT(ev_init(&loop, &bad), -EINVAL);
	CHECK_EQ_INT(ev_init(NULL, &small_mem), -EINVAL);
}

TEST(timers_fire_in_deadline_order_at_their_time)
{
	setup();
	CHECK(ev_timer_add(&loop, 300, once_cb, (void *)3) > 0);
	CHECK(ev_timer_add(&loop, 100, once_cb, (void *)1) > 0);
	CHECK(ev_timer_add(&loop, 200, once_cb, (void *)2) > 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	REQUIRE(trace.n == 3);
	CHECK_EQ_INT(trace.who[0], 1);
	CHECK_EQ_INT(trace.at[0], 100);
	CHECK_EQ_INT(trace.who[1], 2);
	CHECK_EQ_INT(trace.at[1], 200);
	CHECK_EQ_INT(trace.who[2], 3);
	CHECK_EQ_INT(trace.at[2], 300);
}

TEST(equal_deadlines_run_in_arming_order)
{
	setup();
	CHECK(ev_timer_add(&loop, 50, once_cb, (void *)7) > 0);
	CHECK(ev_timer_add(&loop, 50, once_cb, (void *)8) > 0);
	CHECK(ev_timer_add(&loop, 50, once_cb, (void *)9) > 0);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 3);
	REQUIRE(trace.n == 3);
	CHECK_EQ_INT(trace.who[0], 7);
	CHECK_EQ_INT(trace.who[1], 8);
	CHECK_EQ_INT(trace.who[2], 9);
}

TEST(periodic_timer_does_not_drift)
{
	setup();
	CHECK(ev_timer_add(&loop, 100, every_100_cb, (void *)1) > 0);
	while (hal_clock_mono_ms() < 1000)
		CHECK(ev_run_once(&loop, -1) >= 0);
	REQUIRE(trace.n == 10);
	for (unsigned i = 0; i < trace.n; i++)
		CHECK_EQ_INT(trace.at[i], 100 * (i + 1));
}

TEST(max_wait_bounds_the_pass)
{
	setup();
	CHECK(ev_timer_add(&loop, 500, once_cb, (void *)1) > 0);
	CHECK_EQ_INT(ev_run_once(&loop, 20), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 20);
	CHECK_EQ_INT(trace.n, 0);
}

static int victim_id;

static int64_t cancel_victim_cb(struct ev_loop *l, void *arg)
{
	trace_add((int)(intptr_t)arg);
	CHECK_EQ_INT(ev_timer_cancel(l, victim_id), 0);
	return EV_STOP;
}

TEST(cancel_from_another_callback_in_the_same_pass)
{
	setup();
	CHECK(ev_timer_add(&loop, 10, cancel_victim_cb, (void *)1) > 0);
	victim_id = ev_timer_add(&loop, 10, once_cb, (void *)2);
	CHECK(victim_id > 0);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	CHECK_EQ_INT(ev_run_once(&loop, 100), 0);
	REQUIRE(trace.n == 1);
	CHECK_EQ_INT(trace.who[0], 1);
	CHECK_EQ_INT(ev_timer_cancel(&loop, victim_id), -ENOENT);
}

static int self_id;

static int64_t self_cancel_cb(struct ev_loop *l, void *arg)
{
	trace_add((int)(intptr_t)arg);
	CHECK_EQ_INT(ev_timer_cancel(l, self_id), 0);
	return 10; /* asks for more, but the cancel wins */
}

TEST(self_cancel_wins_over_returned_delay)
{
	setup();
	self_id = ev_timer_add(&loop, 10, self_cancel_cb, (void *)1);
	CHECK(self_id > 0);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	CHECK_EQ_INT(ev_run_once(&loop, 100), 0);
	CHECK_EQ_INT(trace.n, 1);
	CHECK_EQ_INT(ev_timer_cancel(&loop, self_id), -ENOENT);
}

static int64_t zero_delay_cb(struct ev_loop *l, void *arg)
{
	(void)l;
	trace_add((int)(intptr_t)arg);
	return 0;
}

TEST(zero_delay_timer_runs_once_per_pass)
{
	setup();
	CHECK(ev_timer_add(&loop, 0, zero_delay_cb, (void *)1) > 0);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	CHECK_EQ_INT(trace.n, 2);
}

TEST(stale_id_does_not_touch_a_reused_slot)
{
	int old_id, new_id;

	setup();
	old_id = ev_timer_add(&loop, 10, once_cb, (void *)1);
	CHECK_EQ_INT(ev_timer_cancel(&loop, old_id), 0);
	new_id = ev_timer_add(&loop, 10, once_cb, (void *)2);
	CHECK(new_id > 0 && new_id != old_id);
	CHECK_EQ_INT(ev_timer_cancel(&loop, old_id), -ENOENT);
	CHECK_EQ_INT(ev_timer_rearm(&loop, old_id, 5), -ENOENT);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	REQUIRE(trace.n == 1);
	CHECK_EQ_INT(trace.who[0], 2);
}

TEST(timer_capacity_and_bad_arguments)
{
	setup();
	for (int i = 0; i < 4; i++)
		CHECK(ev_timer_add(&loop, 10 + i, once_cb, NULL) > 0);
	CHECK_EQ_INT(ev_timer_add(&loop, 10, once_cb, NULL), -ENOSPC);
	CHECK_EQ_INT(ev_timer_add(&loop, -1, once_cb, NULL), -EINVAL);
	CHECK_EQ_INT(ev_timer_add(&loop, 1, NULL, NULL), -EINVAL);
	CHECK_EQ_INT(ev_timer_cancel(&loop, 0), -ENOENT);
	CHECK_EQ_INT(ev_timer_cancel(&loop, 0x7fff0009), -ENOENT);
}

TEST(rearm_moves_the_deadline_both_ways)
{
	int a, b;

	setup();
	a = ev_timer_add(&loop, 100, once_cb, (void *)1);
	b = ev_timer_add(&loop, 200, once_cb, (void *)2);
	CHECK_EQ_INT(ev_timer_rearm(&loop, a, 300), 0);
	CHECK_EQ_INT(ev_timer_rearm(&loop, b, 50), 0);
	CHECK_EQ_INT(ev_timer_rearm(&loop, b, -1), -EINVAL);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	CHECK_EQ_INT(ev_run_once(&loop, -1), 1);
	REQUIRE(trace.n == 2);
	CHECK_EQ_INT(trace.who[0], 2);
	CHECK_EQ_INT(trace.at[0], 50);
	CHECK_EQ_INT(trace.who[1], 1);
	CHECK_EQ_INT(trace.at[1], 300);
}

static int64_t stop_cb(struct ev_loop *l, void *arg)
{
	(void)arg;
	ev_stop(l);
	return EV_STOP;
}

TEST(run_returns_after_stop)
{
	setup();
	CHECK(ev_timer_add(&loop, 100, every_100_cb, (void *)1) > 0);
	CHECK(ev_timer_add(&loop, 350, stop_cb, NULL) > 0);
	CHECK_EQ_INT(ev_run(&loop), 0);
	CHECK_EQ_INT(hal_clock_mono_ms(), 350);
	CHECK_EQ_INT(trace.n, 3);
}

/* ---- descriptors: a sim serial line and the sim signal pipe ---- */

static struct hal_serial line;
static int fd_calls[2];
static int other_fd;

static void count_cb(struct ev_loop *l, int fd, unsigned events, void *arg)
{
	(void)l; (void)fd;
	CHECK(events & EV_READ);
	fd_calls[(intptr_t)arg]++;
}

static void remove_other_cb(struct ev_loop *l, int fd, unsigned events,
			    void *arg)
{
	(void)fd; (void)events;
	fd_calls[(intptr_t)arg]++;
	CHECK_EQ_INT(ev_del(l, other_fd), 0);
}

static int open_two_sources(int *serial_fd, int *sig_fd)
{
	hal_sim_serial_install("/dev/ttyS0");
	if (hal_serial_open(&line, "/dev/ttyS0", 115200) != 0)
		return -1;
	*serial_fd = line.in_fd;
	*sig_fd = hal_signal_open();
	return *sig_fd >= 0 ? 0 : -1;
}

TEST(ready_descriptor_gets_its_callback)
{
	int sfd, gfd;

	setup();
	fd_calls[0] = fd_calls[1] = 0;
	REQUIRE(open_two_sources(&sfd, &gfd) == 0);
	CHECK_EQ_INT(ev_add(&loop, gfd, EV_READ, count_cb, (void *)0), 0);
	CHECK_EQ_INT(ev_run_once(&loop, 10), 0);
	hal_sim_signal_raise(HAL_SIG_HUP);
	CHECK_EQ_INT(ev_run_once(&loop, 10), 1);
	CHECK_EQ_INT(fd_calls[0], 1);
	CHECK_EQ_INT(hal_signal_next(), HAL_SIG_HUP);
	hal_signal_close();
	hal_serial_close(&line);
}

TEST(descriptor_removed_by_earlier_callback_is_skipped)
{
	int sfd, gfd;

	setup();
	fd_calls[0] = fd_calls[1] = 0;
	REQUIRE(open_two_sources(&sfd, &gfd) == 0);
	other_fd = gfd;
	CHECK_EQ_INT(ev_add(&loop, sfd, EV_READ, remove_other_cb, (void *)0), 0);
	CHECK_EQ_INT(ev_add(&loop, gfd, EV_READ, count_cb, (void *)1), 0);
	CHECK_EQ_INT(hal_sim_serial_input("x", 1), 0);
	hal_sim_signal_raise(HAL_SIG_TERM);
	CHECK_EQ_INT(ev_run_once(&loop, 10), 1);
	CHECK_EQ_INT(fd_calls[0], 1);
	CHECK_EQ_INT(fd_calls[1], 0);
	CHECK_EQ_INT(ev_del(&loop, gfd), -ENOENT);
	hal_signal_close();
	hal_serial_close(&line);
}

TEST(mask_zero_waits_for_nothing)
{
	int sfd, gfd;

	setup();
	fd_calls[0] = 0;
	REQUIRE(open_two_sources(&sfd, &gfd) == 0);
	CHECK_EQ_INT(ev_add(&loop, sfd, 0, count_cb, (void *)0), 0);
	CHECK_EQ_INT(hal_sim_serial_input("x", 1), 0);
	CHECK_EQ_INT(ev_run_once(&loop, 10), 0);
	CHECK_EQ_INT(ev_mod(&loop, sfd, EV_READ), 0);
	CHECK_EQ_INT(ev_run_once(&loop, 10), 1);
	CHECK_EQ_INT(fd_calls[0], 1);
	hal_signal_close();
	hal_serial_close(&line);
}

TEST(descriptor_table_codes)
{
	setup();
	CHECK_EQ_INT(ev_add(&loop, -1, EV_READ, count_cb, NULL), -EINVAL);
	CHECK_EQ_INT(ev_add(&loop, 5, EV_READ, NULL, NULL), -EINVAL);
	for (int fd = 10; fd < 14; fd++)
		CHECK_EQ_INT(ev_add(&loop, fd, EV_READ, count_cb, NULL), 0);
	CHECK_EQ_INT(ev_add(&loop, 10, EV_READ, count_cb, NULL), -EEXIST);
	CHECK_EQ_INT(ev_add(&loop, 14, EV_READ, count_cb, NULL), -ENOSPC);
	CHECK_EQ_INT(ev_del(&loop, 11), 0);
	CHECK_EQ_INT(ev_del(&loop, 11), -ENOENT);
	CHECK_EQ_INT(ev_mod(&loop, 11, EV_WRITE), -ENOENT);
	CHECK_EQ_INT(ev_mod(&loop, -1, EV_WRITE), -ENOENT);
	/* The hole is reused outside a pass. */
	CHECK_EQ_INT(ev_add(&loop, 14, EV_READ, count_cb, NULL), 0);
}

static void after_cb(struct ev_loop *l, void *arg)
{
	(void)l;
	trace_add((int)(intptr_t)arg);
}

TEST(after_hook_runs_once_after_a_pass_that_ran_callbacks)
{
	setup();
	ev_set_after(&loop, after_cb, (void *)99);
	REQUIRE(ev_timer_add(&loop, 0, once_cb, (void *)1) >= 0);
	REQUIRE(ev_timer_add(&loop, 0, once_cb, (void *)2) >= 0);
	CHECK_EQ_INT(ev_run_once(&loop, 0), 2);
	REQUIRE(trace.n == 3);
	CHECK_EQ_INT(trace.who[2], 99);   /* after both callbacks, once */
	CHECK_EQ_INT(ev_run_once(&loop, 0), 0);
	CHECK_EQ_INT(trace.n, 3);         /* an idle pass: no hook */
	ev_set_after(&loop, NULL, NULL);
	REQUIRE(ev_timer_add(&loop, 0, once_cb, (void *)3) >= 0);
	CHECK_EQ_INT(ev_run_once(&loop, 0), 1);
	CHECK_EQ_INT(trace.n, 4);         /* cleared: no hook */
}

TEST_SUITE(ev, init_rejects_bad_memory,
	   after_hook_runs_once_after_a_pass_that_ran_callbacks,
	   timers_fire_in_deadline_order_at_their_time,
	   equal_deadlines_run_in_arming_order, periodic_timer_does_not_drift,
	   max_wait_bounds_the_pass, cancel_from_another_callback_in_the_same_pass,
	   self_cancel_wins_over_returned_delay, zero_delay_timer_runs_once_per_pass,
	   stale_id_does_not_touch_a_reused_slot, timer_capacity_and_bad_arguments,
	   rearm_moves_the_deadline_both_ways, run_returns_after_stop,
	   ready_descriptor_gets_its_callback,
	   descriptor_removed_by_earlier_callback_is_skipped,
	   mask_zero_waits_for_nothing, descriptor_table_codes)

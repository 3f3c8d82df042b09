/*
 * hal/sim/signal.c — signals raised by the test (hal_sim_signal_raise).
 *
 * Same model as hal/linux/signal.c: a pending bitmask plus an arrival
 * stamp per signal, next() takes the oldest, repeats collapse.  Raising
 * a signal while the descriptor is open also makes the next hal_poll()
 * return -EINTR once, as a real signal interrupts a real poll; after that
 * the descriptor is readable until next() has taken everything.  With no
 * descriptor open (no handler installed) a raise is ignored.
 */
#include "hal/signal.h"

#include <errno.h>
#include <string.h>

#include "sim_int.h"

#define SIM_SIG_COUNT 4 /* HAL_SIG_* are 1..3 */

static int sim_sig_fd = -1;
static unsigned sim_sig_pending;
static unsigned sim_sig_clock;
static unsigned sim_sig_stamp[SIM_SIG_COUNT];
static int sim_sig_intr;

/* see sim_int.h */
void sim_signal_reset(void)
{
	sim_sig_fd = -1;
	sim_sig_pending = 0;
	sim_sig_clock = 0;
	memset(sim_sig_stamp, 0, sizeof sim_sig_stamp);
	sim_sig_intr = 0;
}

/* see hal/sim.h */
void hal_sim_signal_raise(int hal_sig)
{
	if (sim_sig_fd < 0 || hal_sig < 1 || hal_sig >= SIM_SIG_COUNT)
		return;
	if (!(sim_sig_pending & (1u << hal_sig)))
		sim_sig_stamp[hal_sig] = ++sim_sig_clock;
	sim_sig_pending |= 1u << hal_sig;
	sim_sig_intr = 1;
}

/* see sim_int.h */
int sim_signal_take_interrupt(void)
{
	if (!sim_sig_intr)
		return 0;
	sim_sig_intr = 0;
	return -EINTR;
}

/* see sim_int.h */
unsigned short sim_signal_revents(unsigned short events)
{
	return sim_sig_pending ? (unsigned short)(events & HAL_POLLIN) : 0;
}

/* see hal/signal.h */
int hal_signal_open(void)
{
	int fd;

	if (sim_sig_fd >= 0)
		return -EBUSY;
	fd = sim_fd_alloc(SIM_FD_SIGNAL, 0);
	if (fd < 0)
		return fd;
	sim_sig_fd = fd;
	sim_sig_pending = 0;
	sim_sig_intr = 0;
	return fd;
}

/* see hal/signal.h */
int hal_signal_next(void)
{
	int best = 0;

	for (int s = 1; s < SIM_SIG_COUNT; s++) {
		if (!(sim_sig_pending & (1u << s)))
			continue;
		if (best == 0 || sim_sig_stamp[s] < sim_sig_stamp[best])
			best = s;
	}
	if (best)
		sim_sig_pending &= ~(1u << best);
	return best;
}

/* see hal/signal.h */
void hal_signal_close(void)
{
	if (sim_sig_fd < 0)
		return;
	sim_fd_free(sim_sig_fd);
	sim_signal_reset();
}

/*
 * hal/sim/sim.c — the simulation's core: the descriptor table, the
 * virtual clock's setter, fault injection, and hal_sim_reset(), which
 * puts every module back to the start state documented in hal/sim.h.
 */
#include "sim_int.h"

#include <errno.h>
#include <string.h>

uint64_t sim_now;

static struct sim_fd sim_fds[HAL_SIM_FDS_MAX];
static unsigned sim_fd_next; /* round-robin cursor, see sim_int.h */
static unsigned sim_fail_n;
static int sim_fail_err;

/* see sim_int.h */
int sim_fd_alloc(enum sim_fd_kind kind, int idx)
{
	for (unsigned i = 0; i < HAL_SIM_FDS_MAX; i++) {
		unsigned slot = (sim_fd_next + i) % HAL_SIM_FDS_MAX;

		if (sim_fds[slot].kind != SIM_FD_FREE)
			continue;
		sim_fds[slot].kind = kind;
		sim_fds[slot].idx = idx;
		sim_fd_next = (slot + 1) % HAL_SIM_FDS_MAX;
		return HAL_SIM_FD_BASE + (int)slot;
	}
	return -EMFILE;
}

/* see sim_int.h */
int sim_fd_slot(int fd)
{
	if (fd < HAL_SIM_FD_BASE || fd >= HAL_SIM_FD_BASE + HAL_SIM_FDS_MAX)
		return -1;
	return fd - HAL_SIM_FD_BASE;
}

/* see sim_int.h */
struct sim_fd *sim_fd_get(int fd, enum sim_fd_kind kind)
{
	int slot = sim_fd_slot(fd);

	if (slot < 0 || sim_fds[slot].kind != kind)
		return NULL;
	return &sim_fds[slot];
}

/* see sim_int.h */
void sim_fd_free(int fd)
{
	int slot = sim_fd_slot(fd);

	if (slot >= 0)
		sim_fds[slot].kind = SIM_FD_FREE;
}

/* see sim_int.h */
enum sim_fd_kind sim_fd_kind_of(int fd)
{
	int slot = sim_fd_slot(fd);

	return slot < 0 ? SIM_FD_FREE : sim_fds[slot].kind;
}

/* see sim_int.h */
void sim_time_set(uint64_t t)
{
	if (t > sim_now)
		sim_now = t;
	sim_wdt_update();
}

/* see hal/sim.h */
void hal_sim_clock_advance(uint64_t ms)
{
	/* saturate instead of wrapping: time never runs backwards */
	sim_time_set(ms > UINT64_MAX - sim_now ? UINT64_MAX : sim_now + ms);
}

/* see sim_int.h */
int sim_fault(void)
{
	if (sim_fail_n == 0)
		return 0;
	if (--sim_fail_n > 0)
		return 0;
	return sim_fail_err;
}

/* see hal/sim.h */
void hal_sim_fail_after(unsigned n, int err)
{
	sim_fail_n = n;
	/* a non-negative "error" would read as success: make it -EIO */
	sim_fail_err = err < 0 ? err : -EIO;
}

/* see hal/sim.h */
void hal_sim_reset(void)
{
	memset(sim_fds, 0, sizeof sim_fds);
	sim_fd_next = 0;
	sim_fail_n = 0;
	sim_fail_err = 0;
	sim_now = 0;
	sim_clock_reset();
	sim_storage_reset();
	sim_net_reset();
	sim_wdt_reset();
	sim_serial_reset();
	sim_signal_reset();
	sim_sysinfo_reset();
	sim_rng_reset();
	sim_netif_reset();
	sim_notify_reset();
	sim_proc_reset();
	sim_syslog_reset();
	sim_power_reset();
}

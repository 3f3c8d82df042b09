/*
 * hal/sim.h — controls of the simulated HAL (hal/sim), for tests only.
 *
 * The sim implements every hal/<x>.h contract with the same return codes as
 * Linux for the same misuse, deterministically: a virtual clock that moves
 * only through hal_sim_clock_advance() and hal_poll(), an in-memory
 * filesystem, a fake watchdog, a scripted serial line and scripted network
 * peers.  All state is static with fixed capacities (HAL_SIM_*_MAX);
 * hal_sim_reset() puts everything back to the start state:
 *   mono clock 0 ms, wall clock 2026-01-01T00:00:00Z, no open
 *   descriptors, empty storage holding only "/", no watchdog device, no
 *   serial device, no peers, rng seeded with 1, no pending signals, no
 *   fault injection, sysinfo zeros except mem_total = 64 MiB,
 *   mem_available = 32 MiB, network interface "lo" up and no other, no
 *   notification environment and no notification messages, children
 *   that exit 0 at once.
 * Sim descriptors are numbered from HAL_SIM_FD_BASE up, so they never
 * collide with real ones.
 */
#ifndef HAL_SIM_H
#define HAL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "hal/net.h"
#include "hal/netif.h"
#include "hal/sysinfo.h"

#define HAL_SIM_FD_BASE   1000
#define HAL_SIM_FDS_MAX   64         /* open sim descriptors at once */
#define HAL_SIM_FILES_MAX 64         /* files + directories in storage */
#define HAL_SIM_FILE_MAX  (256 * 1024) /* largest sim file, bytes */
#define HAL_SIM_PEERS_MAX 16
#define HAL_SIM_STEPS_MAX 32         /* scripted steps per peer */
#define HAL_SIM_BUF_MAX   (64 * 1024) /* per-socket captured/queued bytes */

void hal_sim_reset(void);

/* ---- clock ---- */
void hal_sim_clock_advance(uint64_t ms);
void hal_sim_clock_set_wall(int64_t wall_ms);

/* ---- fault injection ----
 * The n-th fallible HAL call from now (1 = the next one) fails with err
 * (a negative errno).  Fallible calls: storage writes/commits/mkdir,
 * net send/recv/sendto, wdt kick, serial write, rng fill.  n = 0 turns
 * it off.  It fires once. */
void hal_sim_fail_after(unsigned n, int err);

/* ---- storage ---- */
/* Free/total space reported, and writes beyond free fail with -ENOSPC. */
void hal_sim_storage_set_space(uint64_t free_bytes, uint64_t total_bytes);
/* Makes every mutation fail with -EROFS (1) or allows it again (0). */
void hal_sim_storage_set_readonly(int readonly);
/* A power cut: every atomic write not yet committed vanishes (temp files
 * included, as after a reboot's cleanup the agent would find them). */
void hal_sim_storage_power_cut(void);
/* Number of files (not directories) present, temp files included. */
unsigned hal_sim_storage_file_count(void);

/* ---- watchdog ---- */
struct hal_sim_wdt {
	int present;           /* device installed */
	int open;
	int armed;             /* open, or closed without magic */
	int timeout_s;
	unsigned kicks;
	uint64_t last_kick_ms; /* mono time of last kick (or arming) */
	int magic_closed;      /* last close was a magic close */
	int fired;             /* armed and not kicked for timeout_s */
	unsigned boot_status;  /* what hal_wdt_boot_status reports */
};
/* Makes a watchdog device appear at path. */
void hal_sim_wdt_install(const char *device, int timeout_s,
			 unsigned boot_status);
/* Current state; `fired` is evaluated against the sim clock at the call. */
const struct hal_sim_wdt *hal_sim_wdt_state(void);

/* ---- signals ---- */
void hal_sim_signal_raise(int hal_sig);

/* ---- serial ---- */
void hal_sim_serial_install(const char *device);
/* Queues bytes for the agent to read; @retval 0 / -ENOSPC. */
int hal_sim_serial_input(const void *buf, size_t len);
/* Takes (and removes) up to cap bytes the agent wrote; returns the count. */
size_t hal_sim_serial_output(void *buf, size_t cap);
/* The line drops: reads return 0 (end of input), writes -EIO. */
void hal_sim_serial_hangup(void);

/* ---- sysinfo ---- */
void hal_sim_sysinfo_set(const struct hal_sysinfo *si);
/* A thermal zone at zone_dir reads milli_c (err < 0: reads fail with it). */
void hal_sim_thermal_set(const char *zone_dir, int32_t milli_c, int err);

/* ---- network interfaces (hal/netif.h) ----
 * Interface name reads st (its `up` is recomputed by the rule of
 * hal/netif.h); st NULL removes it.  At most HAL_SIM_NETIF_MAX. */
#define HAL_SIM_NETIF_MAX 4
void hal_sim_netif_set(const char *name, const struct hal_netif *st);

/* ---- service manager notification (hal/notify.h) ---- */
#define HAL_SIM_NOTIFY_MAX 64 /* messages queued until taken */
/* What the next hal_notify_env() reads: NOTIFY_SOCKET (NULL or "" =
 * unset) and WATCHDOG_USEC (0 = unset). */
void hal_sim_notify_env_set(const char *socket, uint64_t watchdog_usec);
/* Takes the oldest message sent (NUL-terminated, cut to cap - 1).
 * @retval >=0 its full length  @retval -EAGAIN none */
int hal_sim_notify_take(char *buf, size_t cap);
/* Messages sent since hal_sim_reset (taken or not). */
unsigned hal_sim_notify_sent(void);

/* ---- child processes (hal/proc.h) ----
 * How every following child behaves (script NULL: the start state, exit
 * 0 at once with no output). */
struct hal_sim_proc {
	int spawn_result;   /* 0, or the error hal_proc_spawn returns */
	uint32_t run_ms;    /* ends this long after the spawn (virtual
			     * clock); UINT32_MAX = until killed */
	int status;         /* exit status when it ends by itself */
	const char *output; /* its stdout, borrowed; NULL = none */
};
void hal_sim_proc_set(const struct hal_sim_proc *script);
unsigned hal_sim_proc_spawns(void);   /* children started */
unsigned hal_sim_proc_kills(void);    /* children killed while running */
const char *hal_sim_proc_last_cmd(void); /* the last command started */

/* ---- power ----
 * hal_power_reboot() only counts (a sim board cannot go away) and returns
 * err, -EPERM after hal_sim_reset(): the restart "did not happen", as for
 * an unprivileged process. */
void hal_sim_power_set_result(int err);
unsigned hal_sim_power_reboots(void);

/* ---- rng ---- */
void hal_sim_rng_seed(uint64_t seed);

/* ---- network: scripted peers ----
 * A peer is a remote endpoint (stream or datagram).  Connecting to it
 * succeeds or fails after a delay; once connected its steps play out, each
 * at its time relative to the moment the connection was established.
 * Everything the agent sends is captured per descriptor. */
enum hal_sim_step_kind {
	HAL_SIM_PEER_SEND,   /* data arrives at the agent */
	HAL_SIM_PEER_CLOSE,  /* orderly close: recv returns 0 after the data */
	HAL_SIM_PEER_RESET,  /* recv/send fail with -ECONNRESET */
};

struct hal_sim_step {
	uint32_t at_ms;
	enum hal_sim_step_kind kind;
	const void *data;    /* borrowed: must outlive the test */
	size_t len;
};

struct hal_sim_peer {
	struct hal_addr addr;      /* where the agent connects / sends to */
	int type;                  /* HAL_SOCK_STREAM or HAL_SOCK_DGRAM */
	int connect_result;        /* 0, or -ECONNREFUSED, -ETIMEDOUT, ... */
	uint32_t connect_delay_ms; /* until connect completes or fails */
	const struct hal_sim_step *steps; /* borrowed */
	unsigned nsteps;
};

/* Declares a remote peer.  @retval 0 / -ENOSPC / -EINVAL */
int hal_sim_net_add_peer(const struct hal_sim_peer *peer);
/* Connection attempts (stream) or datagrams sent (dgram) to addr so far. */
unsigned hal_sim_net_contacts(const struct hal_addr *addr);
/* Takes up to cap bytes the agent sent on stream fd; returns the count. */
size_t hal_sim_net_sent(int fd, void *buf, size_t cap);
/* A remote client connects to the agent's listening address `local`,
 * from `peer->addr`, then plays peer->steps.  @retval 0 / -ECONNREFUSED
 * (nothing listens there) / -ENOSPC */
int hal_sim_net_inject_connect(const struct hal_addr *local,
			       const struct hal_sim_peer *peer);
/* A datagram from `from` arrives at the agent's bound address `local`
 * now.  @retval 0 / -ECONNREFUSED (nothing bound) / -ENOSPC */
int hal_sim_net_inject_datagram(const struct hal_addr *local,
				const struct hal_addr *from,
				const void *buf, size_t len);
/* Takes the oldest datagram the agent sent on fd.
 * @retval >=0 its length (truncated to cap)  @retval -EAGAIN none */
int hal_sim_net_sent_datagram(int fd, void *buf, size_t cap,
			      struct hal_addr *to);

#endif

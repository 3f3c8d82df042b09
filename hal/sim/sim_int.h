/*
 * hal/sim/sim_int.h — state shared between the files of the simulated HAL.
 * Internal: only the files in hal/sim include it.
 *
 * Descriptors: one table of HAL_SIM_FDS_MAX slots; descriptor number =
 * HAL_SIM_FD_BASE + slot.  Each slot says what it is (socket, serial line,
 * signal pipe, watchdog, atomic file) and the owning file keeps the rest
 * of the state in its own table indexed by the same slot (sockets) or by
 * `idx`.  Slots are handed out round-robin, not lowest-first, so a closed
 * socket's captured output stays readable (hal_sim_net_sent) until its
 * slot comes round again.
 *
 * Time: sim_now is the only clock.  It moves forward through
 * hal_sim_clock_advance() and hal_poll(); sim_time_set() re-evaluates the
 * watchdog each time it moves.
 */
#ifndef HAL_SIM_INT_H
#define HAL_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "hal/poll.h"
#include "hal/sim.h"
#include "hal/storage.h"

enum sim_fd_kind {
	SIM_FD_FREE = 0,
	SIM_FD_SOCK,
	SIM_FD_SERIAL,
	SIM_FD_SIGNAL,
	SIM_FD_WDT,
	SIM_FD_AFILE,
	SIM_FD_RFILE,   /* hal_file_open: idx = storage node */
};

struct sim_fd {
	enum sim_fd_kind kind;
	int idx; /* owner's index (afile: storage node, -1 after power cut) */
};

/* ---- sim.c: descriptors, time, fault injection ---- */
extern uint64_t sim_now; /* mono ms */

/* @retval >=0 descriptor  @retval -EMFILE table full */
int sim_fd_alloc(enum sim_fd_kind kind, int idx);
/* The slot of a sim descriptor of that kind, or NULL. */
struct sim_fd *sim_fd_get(int fd, enum sim_fd_kind kind);
int sim_fd_slot(int fd); /* slot number, -1 if not a sim descriptor */
/* What fd is (SIM_FD_FREE when it is not an open sim descriptor). */
enum sim_fd_kind sim_fd_kind_of(int fd);
void sim_fd_free(int fd);
/* Moves the clock to t (never backwards) and updates the watchdog. */
void sim_time_set(uint64_t t);
/* 0, or the injected error when this fallible call is the chosen one. */
int sim_fault(void);

/* ---- per-module reset and poll hooks ---- */
void sim_clock_reset(void);
void sim_storage_reset(void);
void sim_net_reset(void);
void sim_wdt_reset(void);
void sim_wdt_update(void);
void sim_serial_reset(void);
void sim_signal_reset(void);
void sim_sysinfo_reset(void);
void sim_rng_reset(void);
void sim_netif_reset(void);
void sim_notify_reset(void);
void sim_proc_reset(void);
void sim_syslog_reset(void);
void sim_power_reset(void);

/* revents of a descriptor for the requested events (HAL_POLL* flags) */
unsigned short sim_net_revents(int slot, unsigned short events);
unsigned short sim_serial_revents(unsigned short events);
unsigned short sim_signal_revents(unsigned short events);
/* -EINTR once after a signal was raised, else 0 (hal_poll's first step) */
int sim_signal_take_interrupt(void);
/* Earliest scripted network event strictly after sim_now, or UINT64_MAX. */
uint64_t sim_net_next_event(void);

/* ---- storage, for the sim LED (its files live in sim storage) ---- */
int sim_storage_exists_file(const char *path);
/* Replaces the content of an existing file, bypassing fault injection
 * and the space budget (a sysfs write uses no disk).
 * @retval 0 / -ENOENT no such file */
/* ---- storage.c, for file.c ----
 * The node at path: its index, or -1 for "/", or -ENOENT. */
int sim_storage_lookup(const char *path, int *is_dir, size_t *size);
/* A committed node's bytes (size in *size), NULL if idx is not one. */
const unsigned char *sim_storage_data(int idx, size_t *size);
/* The next committed node at or after *next whose parent is dir: its
 * last path component in *name (borrowed).  @retval 1 / 0 none left */
int sim_storage_child(const char *dir, unsigned *next, const char **name);
int sim_storage_overwrite(const char *path, const void *buf, size_t len);

/* ---- network internals (net.c: socket calls; net_peer.c: scripted
 * peers, injection, captures, readiness) ---- */
#define SIM_BACKLOG_MAX 8   /* pending connections per listener */
#define SIM_CONTACTS_MAX 32 /* distinct remote addresses counted */
/* A connect to an address nobody scripted: -ETIMEDOUT after this long,
 * like Linux's default 6 SYN retries (1+2+4+8+16+32+64 s). */
#define SIM_CONNECT_TIMEOUT_MS 127000u

enum sim_sock_state {
	SIM_SK_NEW,
	SIM_SK_BOUND,
	SIM_SK_LISTEN,
	SIM_SK_CONNECTING,
	SIM_SK_CONNECTED,
	SIM_SK_FAILED,
};

/* Bytes (stream) or datagram records (struct sim_dgram_hdr + payload),
 * appended at the end and taken from the front. */
struct sim_buf {
	size_t len;
	unsigned char data[HAL_SIM_BUF_MAX];
};

struct sim_dgram_hdr {
	struct hal_addr addr; /* source (in) or destination (out) */
	uint32_t len;
};

struct sim_pending_conn {
	struct hal_sim_peer peer;
	uint64_t at; /* when the remote connected */
};

struct sim_sock {
	int open;         /* descriptor open; buffers outlive it */
	int family, type; /* HAL_AF_*, HAL_SOCK_* */
	enum sim_sock_state st;
	int bound, has_remote, v6only;
	struct hal_addr local, remote;
	uint64_t done_at; /* SIM_SK_CONNECTING: when the outcome is known */
	int conn_err;     /* that outcome: 0 or a negative errno */
	int scripted;     /* peer's steps are playing */
	struct hal_sim_peer peer;
	uint64_t est_at;  /* steps' time origin */
	unsigned step;    /* next step to play */
	size_t step_off;  /* bytes of that step already delivered */
	int peer_closed, peer_reset;
	int pending_err;  /* reported once by recv or send (-ECONNRESET) */
	unsigned backlog_max, nbacklog;
	struct sim_pending_conn backlog[SIM_BACKLOG_MAX];
	struct sim_buf in, out;
};

extern struct sim_sock sim_socks[HAL_SIM_FDS_MAX];

/* The socket behind an open sim socket descriptor, or NULL. */
struct sim_sock *sim_sock_get(int fd);
/* Settles a finished connect and plays the steps that are due. */
void sim_sock_pump(struct sim_sock *s);
/* Starts s playing peer's steps from time `at`. */
void sim_sock_script(struct sim_sock *s, const struct hal_sim_peer *peer,
		     uint64_t at);
/* @retval 0 appended  @retval -EAGAIN no room */
int sim_buf_put_dgram(struct sim_buf *b, const struct hal_addr *a,
		      const void *data, size_t len);
/* Takes the oldest record: copies min(len, cap) bytes, sets *a (if not
 * NULL) and returns the full length.  @retval -EAGAIN none */
int sim_buf_take_dgram(struct sim_buf *b, void *buf, size_t cap,
		       struct hal_addr *a);
/* The declared peer at a for type, or NULL. */
const struct hal_sim_peer *sim_net_find_peer(const struct hal_addr *a,
					     int type);
void sim_net_contact(const struct hal_addr *a);
/* Same family, port and address bytes (scope ignored). */
int sim_addr_eq(const struct hal_addr *a, const struct hal_addr *b);
int sim_addr_is_any(const struct hal_addr *a);

#endif

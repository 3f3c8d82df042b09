/*
 * console.h — the operator's console: a line editor (lineedit.h) on the
 * board's console tty (console.device, raw 8N1 at console.baud) or on
 * stdin/stdout (`vigild --console`), inside the agent's event loop, with
 * an optional password login.  Commands are in console_cmds.c; the
 * manual is docs/console.md.
 *
 * States:
 *   CLOSED  --con_open--> LOGIN (a password hash is set) or OPEN
 *   LOGIN   --right password--> OPEN
 *   LOGIN   --wrong password--> LOCKED (input dropped for a delay that
 *            doubles with each failure: CON_LOGIN_DELAY_MS .. _MAX_MS)
 *   LOCKED  --delay over--> LOGIN
 *   OPEN    --idle for idle_ms / `exit` (device)--> LOGIN
 *   any     --end of input on stdio / `exit` on stdio--> CLOSED, and the
 *            loop is stopped (the agent ends, as a shell would)
 *   any     --device hang-up or line error--> CLOSED, reopened every
 *            CON_REOPEN_MS
 *
 * Never blocking: the descriptor is non-blocking; each readable event
 * reads at most CON_IN_CHUNK bytes; output goes into a CON_OUT_MAX ring
 * that is flushed when the line is writable.  When the ring is full
 * (a stalled tty, flow control held), further output is dropped and
 * counted (con.out_dropped) and a "[N bytes of output dropped]" note is
 * written once the ring has drained.
 *
 * Line ends: the editor writes CR LF; command output's "\n" becomes
 * "\r\n" when the line is a tty (crlf), and a pipe gets plain "\n".
 *
 * Password hash format (console.password_hash):
 *   sha256$<salt: 2..48 hex digits>$<digest: 64 hex digits>
 * where digest = SHA-256(salt bytes || password bytes); the hex may be
 * upper or lower case.  "" means no login.
 */
#ifndef VIGIL_CONSOLE_H
#define VIGIL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "hal/serial.h"
#include "lineedit.h"

/* Output ring: the largest command output, `log 128`, is 128 records of
 * at most LOG_LINE_MAX + 1 (205 + CR) bytes = 26.4 KiB; 32 KiB holds it
 * with the prompt, and is what a 115200-baud line sends in ~3 s. */
#define CON_OUT_MAX (32 * 1024)
/* Bytes read per readable event: bounded work per callback; a 10 KiB
 * paste takes 40 passes of the loop. */
#define CON_IN_CHUNK 256
/* One formatted piece of output (con_printf); longer text is cut and
 * ends in "...". A log line (LOG_LINE_MAX 205) fits. */
#define CON_MSG_MAX 512
/* Words of a command line (`backup cancel all some reason` is 5; the
 * rest of a reason is joined). */
#define CON_ARGS_MAX 16
/* Login back-off: 1 s after the first failure, doubling, at most 30 s. */
#define CON_LOGIN_DELAY_MS     1000u
#define CON_LOGIN_DELAY_MAX_MS 30000u
/* A vanished device is tried again this often. */
#define CON_REOPEN_MS 5000
/* "sha256$" + 48 hex salt + "$" + 64 hex digest + NUL = 121: fits a
 * config path-sized value (CONFIG_PATH_MAX 128). */
#define CON_HASH_MAX 128
#define CON_SALT_MAX 24 /* bytes */
#define CON_PROMPT "vigil> "
#define CON_PW_PROMPT "Password: "
#define CON_DEVICE_MAX 128

enum con_state { CON_CLOSED, CON_LOGIN, CON_LOCKED, CON_OPEN };

struct backup_agent;
struct backup_link;
struct backup_status;
struct config;
struct health;

/* The longest configuration path shown (agent.config_path's size). */
#define CON_CONFIG_PATH_MAX 256

/* What the commands act on and show: the agent's state, handed over at
 * con_open (borrowed, retained until con_close), so the console never
 * reaches for a global. */
struct con_env {
	struct config *cfg;              /* config get/set/save */
	const char *config_path;         /* the file `config save` writes */
	const unsigned *reloads, *reloads_refused;
	struct health *health;           /* health, wdt, reboot's marker */
	struct backup_agent *backup;     /* backup now / cancel */
	const struct backup_status *backup_status; /* jobs, conns, probe */
	const struct backup_link *backup_link;
	const int *can_reboot;           /* BOARD_CAN_REBOOT */
	int (*reload)(void);             /* `config reload` (agent_reload) */
};

struct con_opts {
	const char *device;        /* NULL: stdin/stdout */
	unsigned baud;             /* device only */
	int crlf;                  /* stdio: 1 when stdin is a terminal */
	const char *password_hash; /* NULL or "": no login */
	uint64_t idle_ms;          /* logout after this long idle; 0 never */
	uint64_t start_ms;         /* when the agent started (uptime) */
	const struct con_env *env; /* retained until con_close */
};

struct con {
	struct ev_loop *loop;
	struct hal_serial ser;
	enum con_state st;
	int stdio, crlf;
	int fd;                        /* registered input descriptor, -1 */
	int wfd;                       /* output descriptor when it is not
					* fd (stdio), registered only while
					* output waits; else -1 */
	int wfd_on;                    /* wfd is registered */
	char device[CON_DEVICE_MAX];
	unsigned baud;
	char hash[CON_HASH_MAX];       /* "" = no login */
	uint64_t idle_ms, last_input_ms, start_ms;
	unsigned failures;             /* consecutive wrong passwords */
	int lock_timer, idle_timer, reopen_timer; /* ev timer ids, 0 none */
	int quit;                      /* a command asked to leave */
	unsigned commands;             /* lines run */
	uint64_t out_dropped;          /* bytes dropped, ever */
	uint64_t drop_noted;           /* part of out_dropped already noted */
	size_t out_head, out_len;      /* ring: out[head .. head + len) */
	uint8_t out[CON_OUT_MAX];
	struct le ed;
	const struct con_env *env;     /* what commands act on */
};

/*
 * Opens the console on o->device (hal_serial_open) or on stdin/stdout
 * (hal_serial_attach(0, 1)), registers it with loop, and prints the
 * prompt (or the login prompt).  o's strings are copied; loop retained.
 * @retval 0 open
 * @retval -EINVAL bad arguments, or a password hash that does not
 *         parse (con_hash_check)
 * @retval <0 from hal_serial_open/attach or ev_add (-ENOSPC)
 */
int con_open(struct con *c, struct ev_loop *loop, const struct con_opts *o);

/* Unregisters, cancels timers, restores the terminal.  Safe twice. */
void con_close(struct con *c);

/* Changes the login settings of a running console (a config change).
 * A console that is OPEN stays open.
 * @retval 0  @retval -EINVAL hash malformed (nothing changed) */
int con_set_login(struct con *c, const char *password_hash,
		  uint64_t idle_ms);

/* Queues output ("\n" -> "\r\n" on a tty), dropping and counting what
 * does not fit. */
void con_write(struct con *c, const char *s, size_t n);
void con_puts(struct con *c, const char *s);
/* Starts sending queued output now: for output written outside a
 * command (a verdict that arrives later, e.g. `probe`); a command's own
 * output is sent when it returns. */
void con_flush(struct con *c);
void con_printf(struct con *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Checks password against a hash in the format above (constant time in
 * the digest comparison).  hash "" never matches.
 * @retval 1 match  @retval 0 no match
 * @retval -EINVAL hash malformed (also for "")
 */
int con_hash_check(const char *hash, const char *password);

#endif

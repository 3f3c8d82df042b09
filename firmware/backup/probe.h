/*
 * probe.h — `probe`: one short TCP connection attempt to the backup
 * server, made only when a person asks (console `probe`, CoAP POST
 * /probe, `vigild probe`); never automatic (docs/health.md: an automatic
 * probe competing with the backup client once cut a request in half).
 *
 * The attempt connects and closes at once: no byte is sent, so the
 * server sees a connection that ends before a request.  It ends after at
 * most PROBE_TIMEOUT_MS.
 *
 * In the agent the attempt is asynchronous (probe_start, then wait for
 * HAL_POLLOUT on p->fd or probe_wait_ms, then probe_step) so the loop
 * never blocks; the one-shot command uses probe_run, which waits with
 * hal_poll.
 */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "hal/net.h"

/* The whole attempt, connect to verdict. */
#define PROBE_TIMEOUT_MS 500u
/* probe_format's longest line: "unreachable " (12) + an address
 * (HAL_ADDR_TEXT_MAX 64) + ": " + an strerror text (~50) + " after
 * 500 ms" (13) + NUL; 160 leaves room. */
#define PROBE_TEXT_MAX 160

struct probe_result {
	int done;            /* 0 while the attempt is under way */
	int reachable;       /* the connection was accepted */
	uint32_t latency_ms; /* to the verdict (connect time when reachable) */
	int err;             /* 0, or the negative errno of the failure;
			      * -ETIMEDOUT after PROBE_TIMEOUT_MS */
	struct hal_addr addr;
};

struct probe {
	int fd;              /* -1: no attempt under way */
	uint64_t started_ms;
	struct probe_result res;
};

#define PROBE_INIT { -1, 0, { 0, 0, 0, 0, { 0 } } }

/*
 * Starts one attempt to a.  p->res is reset.
 * @retval 1 finished at once (p->res filled: loopback, or refused)
 * @retval 0 under way: wait for HAL_POLLOUT on p->fd, at most
 *         probe_wait_ms(), then call probe_step
 * @retval -EALREADY an attempt is under way
 * @retval -EINVAL a is NULL or of no known family
 */
int probe_start(struct probe *p, const struct hal_addr *a, uint64_t now_ms);

/*
 * Settles the attempt when p->fd is writable or the time is up.
 * @retval 1 finished (p->res filled, the socket closed)
 * @retval 0 still under way
 */
int probe_step(struct probe *p, uint64_t now_ms);

/* ms left until the attempt times out (0: now). */
uint32_t probe_wait_ms(const struct probe *p, uint64_t now_ms);

/* Abandons an attempt under way (the socket is closed). */
void probe_cancel(struct probe *p);

/*
 * One attempt, waiting in hal_poll (for `vigild probe`, not the agent).
 * @retval 0 r filled  @retval -EINVAL bad a  @retval -EIO poll failed
 */
int probe_run(const struct hal_addr *a, struct probe_result *r);

/*
 * The verdict as one line: "reachable 192.0.2.1:4433 in 3 ms",
 * "unreachable 192.0.2.1:4433: Connection refused after 1 ms".
 * @retval >=0 length  @retval -ENOSPC cap too small (buf "" if cap > 0)
 */
int probe_format(const struct probe_result *r, char *buf, size_t cap);

#endif

/*
 * backup_retry.h — the backup client's retry schedule.
 *
 * A request (a connection + handshake, or one file) gets
 * BACKUP_RETRY_ATTEMPTS attempts in total, as the v3 protocol says.
 * Before attempt k + 1 (after k failures) the client waits
 *     d = min(BACKUP_RETRY_BASE_MS * 2^(k - 1), cap)
 * scaled by a uniform factor in [0.75, 1.25] (+-25 % jitter, so a fleet
 * that lost its server does not come back in lock step), and never more
 * than cap.  With the default cap of 30 s: ~500 ms, ~1 s, ~2 s, ... 30 s.
 */
#ifndef VIGIL_BACKUP_RETRY_H
#define VIGIL_BACKUP_RETRY_H

#include <stdint.h>

#define BACKUP_RETRY_ATTEMPTS 3
#define BACKUP_RETRY_BASE_MS 500u
#define BACKUP_RETRY_CAP_DEFAULT_MS 30000u

/* The wait after `failures` failed attempts (>= 1; 0 gives 0), with the
 * jitter drawn from rnd (uniform over all 32-bit values: 0 -> -25 %,
 * UINT32_MAX -> +25 %).  cap_ms 0 means BACKUP_RETRY_CAP_DEFAULT_MS.
 * Never fails. */
uint32_t backup_retry_delay_ms(unsigned failures, uint32_t cap_ms,
			       uint32_t rnd);

#endif

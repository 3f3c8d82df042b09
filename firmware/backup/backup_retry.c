/*
 * backup_retry.c — exponential backoff with jitter (backup_retry.h).
 */
#include "backup_retry.h"

/* see backup_retry.h */
uint32_t backup_retry_delay_ms(unsigned failures, uint32_t cap_ms,
			       uint32_t rnd)
{
	uint64_t d = BACKUP_RETRY_BASE_MS, lo, span;

	if (failures == 0)
		return 0;
	if (cap_ms == 0)
		cap_ms = BACKUP_RETRY_CAP_DEFAULT_MS;
	/* doubling stops at the cap, so d never overflows */
	for (unsigned i = 1; i < failures && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	lo = d - d / 4;
	span = d / 2;
	d = lo + ((span * (uint64_t)rnd) >> 32);
	if (rnd == UINT32_MAX)
		d = lo + span;  /* the shift rounds down: reach +25 % exactly */
	return d > cap_ms ? cap_ms : (uint32_t)d;
}

/*
 * hal/sim/syslog.c — a logger that is always there and always takes the
 * line (the sim has no daemon to be busy), so only the not-open misuse
 * and hal_sim_fail_after-free behaviour are visible.  Lines are not kept:
 * tests read the agent's own log, not syslog.
 */
#include "hal/syslog.h"

#include <errno.h>

#include "sim_int.h"

static int sim_syslog_open;
static unsigned long sim_syslog_drops;

/* see sim_int.h */
void sim_syslog_reset(void)
{
	sim_syslog_open = 0;
	sim_syslog_drops = 0;
}

/* see hal/syslog.h */
int hal_syslog_open(const char *ident)
{
	(void)ident; /* nothing is formatted on the sim */
	sim_syslog_open = 1;
	sim_syslog_drops = 0;
	return 0;
}

/* see hal/syslog.h */
int hal_syslog_send(int severity, const char *msg, size_t len)
{
	(void)severity; /* accepted and discarded, see top */
	(void)msg;
	(void)len;
	return sim_syslog_open ? 0 : -ENOTCONN;
}

/* see hal/syslog.h */
unsigned long hal_syslog_dropped(void)
{
	return sim_syslog_drops;
}

/* see hal/syslog.h */
void hal_syslog_close(void)
{
	sim_syslog_open = 0;
}

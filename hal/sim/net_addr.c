/*
 * hal/sim/net_addr.c — name resolution of the sim: only "localhost" and
 * numeric text resolve.  The address text itself is hal/linux/net_addr.c,
 * which the sim links too.
 */
#include "hal/net.h"

#include <errno.h>
#include <string.h>

/* see hal/net.h */
int hal_net_resolve(const char *host, uint16_t port, struct hal_addr *out,
		    unsigned max)
{
	if (!host || !*host || !out || max == 0)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	return hal_net_addr_parse(host, port, out) == 0 ? 1 : -ENOENT;
}

/*
 * hal/sim/net_addr.c — address text and name resolution of the sim.
 *
 * The parser and formatter are the same as hal/linux/net.c's (both sit on
 * the C library's inet_pton/inet_ntop), so the contract tests see the
 * same text on both sides.  Only "localhost" and numeric text resolve.
 */
#include "hal/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* inet_ntop of an IPv6 address: at most 45 chars + NUL */
#define SIM_NTOP_MAX 46

/* see hal/net.h */
int hal_net_addr_parse(const char *text, uint16_t port, struct hal_addr *out)
{
	char v6[SIM_NTOP_MAX];
	const char *pct;
	unsigned long long scope = 0;
	size_t len;

	if (!text || !out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->port = port;
	if (inet_pton(AF_INET, text, out->ip) == 1) {
		out->family = HAL_AF_INET;
		return 0;
	}
	pct = strchr(text, '%');
	len = pct ? (size_t)(pct - text) : strlen(text);
	if (len >= sizeof v6)
		return -EINVAL;
	memcpy(v6, text, len);
	v6[len] = '\0';
	if (inet_pton(AF_INET6, v6, out->ip) != 1)
		return -EINVAL;
	if (pct) {
		const char *p = pct + 1;

		if (*p == '\0')
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			scope = scope * 10 + (unsigned)(*p - '0');
			if (scope > UINT32_MAX)
				return -EINVAL;
		}
	}
	out->scope = (uint32_t)scope;
	out->family = HAL_AF_INET6;
	return 0;
}

/* see hal/net.h */
int hal_net_addr_format(const struct hal_addr *a, char *buf, size_t cap)
{
	char ip[SIM_NTOP_MAX], scope[16] = "";
	const char *fmt = "%s%s:%u";
	int n;

	if (!a || (cap > 0 && !buf))
		return -EINVAL;
	if (cap > 0)
		buf[0] = '\0';
	if (a->family == HAL_AF_INET) {
		if (!inet_ntop(AF_INET, a->ip, ip, sizeof ip))
			return -EINVAL;
	} else if (a->family == HAL_AF_INET6) {
		if (!inet_ntop(AF_INET6, a->ip, ip, sizeof ip))
			return -EINVAL;
		if (a->scope)
			snprintf(scope, sizeof scope, "%%%lu",
				 (unsigned long)a->scope);
		fmt = "[%s%s]:%u";
	} else {
		return -EINVAL;
	}
	n = snprintf(NULL, 0, fmt, ip, scope, (unsigned)a->port);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return snprintf(buf, cap, fmt, ip, scope, (unsigned)a->port);
}

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

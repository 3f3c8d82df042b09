/*
 * hal/linux/net_addr.c — address text of hal/net.h: numeric IPv4/IPv6
 * (with a numeric scope) to struct hal_addr and back, on the C library's
 * (or lwIP's) inet_pton/inet_ntop.  hal/sim links this file too, so the
 * contract tests see the same text on both sides.
 */
#include "hal/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net_sock.h"

/* inet_ntop of an IPv6 address: at most 45 chars + NUL. */
#define NET_NTOP_MAX 46

/* Parses a decimal IPv6 scope id ("2" of "fe80::1%2"); names are not
 * numeric addresses and give -EINVAL. */
static int net_parse_scope(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* see hal/net.h */
int hal_net_addr_parse(const char *text, uint16_t port, struct hal_addr *out)
{
	char v6[NET_NTOP_MAX];
	const char *pct;
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
	if (pct && net_parse_scope(pct + 1, &out->scope) < 0)
		return -EINVAL;
	out->family = HAL_AF_INET6;
	return 0;
}

/* see hal/net.h */
int hal_net_addr_format(const struct hal_addr *a, char *buf, size_t cap)
{
	char ip[NET_NTOP_MAX], scope[16] = "";
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
	/* snprintf reports the full length even when it does not fit. */
	n = snprintf(NULL, 0, fmt, ip, scope, (unsigned)a->port);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return snprintf(buf, cap, fmt, ip, scope, (unsigned)a->port);
}

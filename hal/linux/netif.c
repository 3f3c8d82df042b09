/*
 * hal/linux/netif.c — interface state from /sys/class/net (see
 * hal/netif.h for the rule that turns it into up/down).
 *
 * sysfs files are read with open/read into stack buffers (no stdio);
 * each is one short line: operstate at most "lowerlayerdown\n" (15),
 * flags "0x" + at most 8 hex digits, carrier "0\n" or "1\n".
 */
#include "hal/netif.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* a sysfs one-liner: the longest we read is operstate's 15 bytes */
#define NETIF_LINE_MAX 32
/* "/sys/class/net/" (15) + name (15) + "/operstate" (10) + NUL = 41 */
#define NETIF_PATH_MAX 64
/* IFF_UP of <net/if.h>, which is not in POSIX */
#define NETIF_IFF_UP 0x1u

/* Reads /sys/class/net/<name>/<file> up to its first newline.
 * @retval >=0 length  @retval -ENOENT  @retval -EINVAL the kernel
 * refused (carrier of a down interface)  @retval -EIO */
static int netif_line(const char *name, const char *file, char *buf,
		      size_t cap)
{
	char path[NETIF_PATH_MAX];
	ssize_t r;
	int fd, n;

	n = snprintf(path, sizeof path, "/sys/class/net/%s/%s", name, file);
	if (n < 0 || (size_t)n >= sizeof path)
		return -EINVAL; /* name and file are bounded: cannot happen */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EIO;
	do
		r = read(fd, buf, cap - 1);
	while (r < 0 && errno == EINTR);
	n = errno;
	close(fd);
	if (r < 0)
		return n == EINVAL ? -EINVAL : -EIO;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (int)strlen(buf);
}

/* "0x1003" -> 0x1003.  @retval 0  @retval -EBADMSG */
static int netif_hex(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	unsigned digits = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EBADMSG;
	for (s += 2; *s; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EBADMSG;
		if (digits >= 8) /* flags are an unsigned int */
			return -EBADMSG;
		v = v * 16 + (unsigned long)d;
	}
	if (digits == 0)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* see hal/netif.h */
int hal_netif_read(const char *name, struct hal_netif *st)
{
	char line[NETIF_LINE_MAX];
	unsigned long flags;
	int ret;

	if (!st || !hal_netif_name_valid(name))
		return -EINVAL;
	ret = netif_line(name, "operstate", line, sizeof line);
	if (ret < 0)
		return ret == -EINVAL ? -EIO : ret;
	st->oper = hal_netif_oper_parse(line);
	ret = netif_line(name, "flags", line, sizeof line);
	if (ret < 0)
		return ret == -EINVAL ? -EIO : ret;
	if (netif_hex(line, &flags) < 0)
		return -EBADMSG;
	st->admin_up = (flags & NETIF_IFF_UP) != 0;
	ret = netif_line(name, "carrier", line, sizeof line);
	if (ret == -ENOENT)
		return -ENOENT; /* removed between the reads */
	st->carrier = ret < 0 ? -1 : strcmp(line, "1") == 0 ? 1
			: strcmp(line, "0") == 0 ? 0 : -1;
	st->up = st->oper == HAL_NETIF_OPER_UP ||
		 (st->oper == HAL_NETIF_OPER_UNKNOWN && st->admin_up &&
		  st->carrier == 1);
	return 0;
}

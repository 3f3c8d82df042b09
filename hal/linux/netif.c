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

static const char *const netif_words[] = {
	[HAL_NETIF_OPER_UNKNOWN] = "unknown",
	[HAL_NETIF_OPER_NOTPRESENT] = "notpresent",
	[HAL_NETIF_OPER_DOWN] = "down",
	[HAL_NETIF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
	[HAL_NETIF_OPER_TESTING] = "testing",
	[HAL_NETIF_OPER_DORMANT] = "dormant",
	[HAL_NETIF_OPER_UP] = "up",
};

/* see hal/netif.h */
const char *hal_netif_oper_name(enum hal_netif_oper oper)
{
	if ((unsigned)oper >= sizeof netif_words / sizeof netif_words[0])
		return "unknown";
	return netif_words[oper];
}

static int netif_name_ok(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = strlen(name);
	if (n == 0 || n >= HAL_NETIF_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ' ' || name[i] == '\t' ||
		    name[i] == '\n' || name[i] == '\r' || name[i] == '\v' ||
		    name[i] == '\f')
			return 0;
	return 1;
}

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

static enum hal_netif_oper netif_oper(const char *word)
{
	for (size_t i = 0; i < sizeof netif_words / sizeof netif_words[0];
	     i++)
		if (strcmp(word, netif_words[i]) == 0)
			return (enum hal_netif_oper)i;
	return HAL_NETIF_OPER_UNKNOWN; /* a word of a newer kernel */
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

	if (!st || !netif_name_ok(name))
		return -EINVAL;
	ret = netif_line(name, "operstate", line, sizeof line);
	if (ret < 0)
		return ret == -EINVAL ? -EIO : ret;
	st->oper = netif_oper(line);
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

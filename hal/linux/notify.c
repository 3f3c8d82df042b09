/*
 * hal/linux/notify.c — sd_notify over socket(AF_UNIX, SOCK_DGRAM), see
 * hal/notify.h.  The address is prepared once at open; an abstract name
 * ('@') is sent without a trailing NUL, its length is the address length.
 */
#include "hal/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) >=
	       HAL_NOTIFY_PATH_MAX,
	       "sun_path shorter than HAL_NOTIFY_PATH_MAX");

/* digits of the largest value accepted: 10^19 - 1 < 2^64 */
#define NOTIFY_DIGITS_MAX 19

static int notify_path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n >= 2 && n < HAL_NOTIFY_PATH_MAX &&
	       (path[0] == '/' || path[0] == '@');
}

/* @retval 0 *out set  @retval -EINVAL not a plain decimal number */
static int notify_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	for (; *s; s++) {
		if (*s < '0' || *s > '9' || ++n > NOTIFY_DIGITS_MAX)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* see hal/notify.h */
int hal_notify_env(struct hal_notify_env *env)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t v = 0, p = 0;
	int ret = 0;

	env->socket[0] = '\0';
	env->watchdog_usec = 0;
	if (sock && notify_path_ok(sock))
		memcpy(env->socket, sock, strlen(sock) + 1);
	else if (sock)
		ret = -EINVAL;
	if (usec && (notify_parse_u64(usec, &v) < 0 || v == 0))
		ret = -EINVAL;
	else if (usec && (!pid || (notify_parse_u64(pid, &p) == 0 &&
				   p == (uint64_t)getpid())))
		env->watchdog_usec = v;
	/* getenv's strings are gone after this: copied above */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return ret;
}

/* see hal/notify.h */
int hal_notify_open(struct hal_notify *n, const char *path)
{
	size_t len;

	if (n->fd >= 0)
		return -EALREADY;
	if (!notify_path_ok(path))
		return -EINVAL;
	len = strlen(path);
	memcpy(n->addr, path, len + 1);
	if (path[0] == '@') {
		n->addr[0] = '\0';
		n->addr_len = (unsigned)len;     /* no trailing NUL */
	} else {
		n->addr_len = (unsigned)len + 1; /* with the NUL */
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		n->fd = -1;
		return -EIO;
	}
	return 0;
}

/* see hal/notify.h */
int hal_notify_send(struct hal_notify *n, const char *msg)
{
	struct sockaddr_un sa;
	size_t len = msg ? strlen(msg) : 0;
	ssize_t r;

	if (n->fd < 0)
		return -EBADF;
	if (len >= HAL_NOTIFY_MSG_MAX)
		return -EMSGSIZE;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, n->addr, n->addr_len);
	do
		r = sendto(n->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				       n->addr_len));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		/* EWOULDBLOCK is EAGAIN on Linux */
		return errno == EAGAIN ? -EAGAIN : -EIO;
	return 0;
}

/* see hal/notify.h */
void hal_notify_close(struct hal_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->addr_len = 0;
	memset(n->addr, 0, sizeof n->addr);
}

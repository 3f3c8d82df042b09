/*
 * hal/notify.h — the service manager's notification socket (systemd's
 * sd_notify protocol): one AF_UNIX datagram per message, "READY=1",
 * "WATCHDOG=1", "STOPPING=1", "STATUS=text", newline-separated
 * assignments.
 *
 * NOTIFY_SOCKET is a path ("/run/systemd/notify") or, starting with '@',
 * a name in Linux's abstract namespace (the '@' stands for the leading
 * NUL byte).  Sending never blocks: a full socket buffer drops the message
 * (-EAGAIN), as sd_notify would have to as well to keep the loop going.
 */
#ifndef HAL_NOTIFY_H
#define HAL_NOTIFY_H

#include <stdint.h>

/* sizeof(struct sockaddr_un.sun_path) on Linux: 107 bytes + NUL. */
#define HAL_NOTIFY_PATH_MAX 108
/* Longest message: "STATUS=" (7) + a health reason (HEALTH_REASON_MAX,
 * 151) + room; far below any socket's datagram limit. */
#define HAL_NOTIFY_MSG_MAX 256

/* What the service manager put in the environment. */
struct hal_notify_env {
	char socket[HAL_NOTIFY_PATH_MAX]; /* NOTIFY_SOCKET; "" = unset */
	/* WATCHDOG_USEC: the manager's watchdog timeout in microseconds;
	 * 0 = none asked for, or WATCHDOG_PID names another process
	 * (sd_watchdog_enabled's rule) */
	uint64_t watchdog_usec;
};

/*
 * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then removes them
 * from the environment so no child process (health.command) inherits
 * them and talks to the manager in vigild's name.
 * @retval 0 read (env->socket "" when NOTIFY_SOCKET is unset)
 * @retval -EINVAL NOTIFY_SOCKET longer than HAL_NOTIFY_PATH_MAX - 1 or
 *         neither absolute nor '@'-prefixed (env->socket ""), or
 *         WATCHDOG_USEC not a positive decimal number
 *         (env->watchdog_usec 0); the other field is still filled
 */
int hal_notify_env(struct hal_notify_env *env);

struct hal_notify {
	int fd;                          /* -1: closed */
	unsigned addr_len;               /* bytes of addr used */
	char addr[HAL_NOTIFY_PATH_MAX];  /* sun_path as sent */
};

#define HAL_NOTIFY_INIT { -1, 0, { 0 } }

/*
 * Opens a non-blocking datagram socket for messages to path.
 * @retval 0 open
 * @retval -EINVAL path empty, too long, or neither absolute nor '@'
 * @retval -EALREADY n is open
 * @retval -EIO the socket could not be created
 */
int hal_notify_open(struct hal_notify *n, const char *path);

/*
 * Sends msg (a NUL-terminated string, without the NUL) as one datagram.
 * @retval 0 sent
 * @retval -EBADF n is not open
 * @retval -EMSGSIZE msg is HAL_NOTIFY_MSG_MAX bytes or longer
 * @retval -EAGAIN the receiver's buffer is full: dropped
 * @retval -EIO nobody listens at the path, or another send failure
 */
int hal_notify_send(struct hal_notify *n, const char *msg);

/* Closes n (nothing if it is not open); n is HAL_NOTIFY_INIT after. */
void hal_notify_close(struct hal_notify *n);

#endif

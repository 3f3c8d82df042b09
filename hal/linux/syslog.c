/*
 * hal/linux/syslog.c — a non-blocking client of the local syslog daemon:
 * one AF_UNIX SOCK_DGRAM socket connected to /dev/log, one datagram per
 * line in the RFC 3164 local form "<pri>ident[pid]: msg" (the daemon adds
 * the timestamp and host).  Facility is daemon (3), so pri = 24 + severity.
 *
 * A send that would block (EAGAIN, ENOBUFS) drops the line and counts it;
 * the agent never waits for the logger.  When the daemon restarted
 * (ECONNREFUSED/ENOTCONN) the socket reconnects once and retries.
 * Lines longer than SYSLOG_LINE_MAX are cut there (the daemon's own
 * limit is commonly 1-8 KiB).
 */
#include "hal/syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_PATH "/dev/log"
#define SYSLOG_FACILITY_DAEMON (3 << 3)
#define SYSLOG_IDENT_MAX 32
/* "<191>" + ident 31 + "[4294967295]: " + message */
#define SYSLOG_LINE_MAX 1024

static int syslog_fd = -1;
static char syslog_ident[SYSLOG_IDENT_MAX];
static long syslog_pid;
static unsigned long syslog_drops;

static int syslog_connect(void)
{
	struct sockaddr_un sa;
	int fd, fl;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno == ENFILE ? -ENFILE : -EMFILE;
	fl = fcntl(fd, F_GETFL, 0);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -EMFILE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, SYSLOG_PATH, sizeof SYSLOG_PATH);
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)sizeof sa) < 0) {
		close(fd);
		/* no socket file, or nobody reading it: no logger */
		return -ENOENT;
	}
	return fd;
}

/* see hal/syslog.h */
int hal_syslog_open(const char *ident)
{
	int fd;

	hal_syslog_close();
	fd = syslog_connect();
	if (fd < 0)
		return fd;
	syslog_fd = fd;
	snprintf(syslog_ident, sizeof syslog_ident, "%s",
		 ident && *ident ? ident : "vigil");
	syslog_pid = (long)getpid();
	syslog_drops = 0;
	return 0;
}

static ssize_t syslog_send_line(const char *line, size_t len)
{
	return send(syslog_fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* see hal/syslog.h */
int hal_syslog_send(int severity, const char *msg, size_t len)
{
	char line[SYSLOG_LINE_MAX];
	int n;

	if (syslog_fd < 0)
		return -ENOTCONN;
	if (!msg)
		len = 0;
	if (severity < 0 || severity > 7)
		severity = HAL_SYSLOG_ERR;
	n = snprintf(line, sizeof line, "<%d>%s[%ld]: ",
		     SYSLOG_FACILITY_DAEMON + severity, syslog_ident, syslog_pid);
	if (n < 0 || (size_t)n >= sizeof line)
		return -EIO;
	if (len > sizeof line - (size_t)n)
		len = sizeof line - (size_t)n;
	if (len > 0)
		memcpy(line + n, msg, len);
	len += (size_t)n;
	if (syslog_send_line(line, len) >= 0)
		return 0;
	if (errno == ECONNREFUSED || errno == ENOTCONN) {
		int fd = syslog_connect();

		if (fd >= 0) {
			close(syslog_fd);
			syslog_fd = fd;
			if (syslog_send_line(line, len) >= 0)
				return 0;
		}
	}
	syslog_drops++;
	return -EAGAIN;
}

/* see hal/syslog.h */
unsigned long hal_syslog_dropped(void)
{
	return syslog_drops;
}

/* see hal/syslog.h */
void hal_syslog_close(void)
{
	if (syslog_fd >= 0)
		close(syslog_fd);
	syslog_fd = -1;
}

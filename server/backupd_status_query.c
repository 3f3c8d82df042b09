/*
 * backupd_status_query.c — `vigil-backupd --status`: reads the status
 * document from a running server's <data>/status.sock (backupd_status.c)
 * and prints it as CBOR (for programs), JSON or diagnostic notation.
 */
#include "backupd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cbor.h"
#include "cbor_diag.h"

/* How long the server may take to send the whole document. */
#define BD_QUERY_TIMEOUT_S 5

static uint8_t q_doc[BD_STATUS_MAX];

static int q_stdout_sink(void *arg, const char *p, size_t n)
{
	(void)arg;
	return fwrite(p, 1, n, stdout) == n ? 0 : -EIO;
}

/* Connects to dir's status socket.  @retval fd  @retval -errno */
static int q_connect(const char *dir)
{
	struct timeval tv = { .tv_sec = BD_QUERY_TIMEOUT_S };
	struct sockaddr_un a;
	int dirfd, fd, ret = bd_status_addr(dir, &a, &dirfd);

	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    connect(fd, (const struct sockaddr *)&a, sizeof a) != 0)
		ret = -errno;
	if (dirfd >= 0)
		close(dirfd);
	if (ret < 0) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* Reads until the server closes.  @retval length  @retval -errno */
static ssize_t q_read_all(int fd)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, q_doc + n, sizeof q_doc - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (r == 0)
			return (ssize_t)n;
		n += (size_t)r;
		if (n == sizeof q_doc)
			return -EMSGSIZE;
	}
}

static int q_print(size_t len, const char *format)
{
	struct cbor_dec d;
	unsigned flags = strcmp(format, "json") == 0 ? CBOR_DIAG_JSON : 0;
	int r;

	if (strcmp(format, "cbor") == 0)
		return fwrite(q_doc, 1, len, stdout) == len ? 0 : -EIO;
	cbor_dec_init(&d, q_doc, len, 0);
	r = cbor_diag_stream(&d, flags, q_stdout_sink, NULL);
	if (r == 1)
		fputc('\n', stdout);
	return r == 1 ? 0 : r < 0 ? r : -EBADMSG;
}

/* see backupd.h */
int bd_status_query(const char *data_dir, const char *format)
{
	int fd = q_connect(data_dir), r;
	ssize_t len;

	if (fd < 0) {
		fprintf(stderr, "vigil-backupd: no server answers on %s/%s: %s\n",
			data_dir, bd_status_sock_name(), strerror(-fd));
		return 1;
	}
	len = q_read_all(fd);
	close(fd);
	if (len <= 0) {
		fprintf(stderr, "vigil-backupd: status: %s\n",
			len == 0 ? "empty answer" : strerror((int)-len));
		return 1;
	}
	r = q_print((size_t)len, format);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "vigil-backupd: status: %s\n",
			r == -EBADMSG ? "malformed document" : strerror(EIO));
		return 1;
	}
	return 0;
}

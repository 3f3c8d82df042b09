/*
 * hal/linux/rng.c — random bytes from getrandom(2).
 *
 * getrandom without flags blocks only until the kernel pool is initialised
 * and may return fewer bytes than asked for requests above 256 bytes, so
 * the loop keeps asking.  Kernels before 3.17 have no getrandom (ENOSYS):
 * then /dev/urandom is read with plain open/read (no stdio, no malloc).
 */
#include "hal/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

/* Reads n bytes from /dev/urandom; the fallback for kernels < 3.17. */
static int rng_urandom(unsigned char *p, size_t n)
{
	int ret = -EIO;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -EIO;
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		p += r;
		n -= (size_t)r;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* see hal/rng.h */
int hal_rng_fill(void *buf, size_t n)
{
	unsigned char *p = buf;

	if (n > 0 && !buf)
		return -EIO;
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOSYS)
			return rng_urandom(p, n);
		if (r <= 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

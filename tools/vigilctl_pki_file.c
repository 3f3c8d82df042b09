/*
 * vigilctl_pki_file.c — the files of `vigilctl pki`: never replaced, never
 * seen half-written.
 *
 * A new file is written under a temporary name in its own directory
 * (mkstemp: mode 0600 from the first byte, so a key is never readable by
 * others even for a moment), fsync'ed, given its final mode, then link(2)ed
 * to its name.  link fails with EEXIST where rename(2) would silently
 * replace, so a file that appeared after the caller's check survives.  The
 * temporary name is unlinked either way and the directory fsync'ed, so the
 * new name outlives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigilctl_pki.h"

/* Reports errno for what + path.  @retval -EIO */
static int sys_fail(const char *what, const char *path)
{
	fprintf(stderr, "vigilctl: pki: %s %s: %s\n", what, path,
		strerror(errno));
	return -EIO;
}

/* see vigilctl_pki.h */
int pki_path(char *path, const char *dir, const char *name)
{
	int n = snprintf(path, PKI_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PKI_PATH_MAX) {
		fprintf(stderr, "vigilctl: pki: %s/%s: path too long\n", dir,
			name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* see vigilctl_pki.h */
int pki_exists(const char *dir, const char *name)
{
	char path[PKI_PATH_MAX];
	struct stat st;

	if (pki_path(path, dir, name))
		return -EIO;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : sys_fail("cannot look at", path);
}

/* see vigilctl_pki.h */
int pki_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return sys_fail("cannot create directory", path);
}

/* All of data into fd, then its mode, then fsync.  @retval 0 / -errno */
static int fill(int fd, const unsigned char *data, size_t len, mode_t mode)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) || fsync(fd))
		return -errno;
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return sys_fail("cannot open directory", dir);
	if (fsync(fd))
		ret = sys_fail("cannot fsync directory", dir);
	close(fd);
	return ret;
}

/* see vigilctl_pki.h */
int pki_write_new(const char *dir, const char *name, const void *data,
		  size_t len, mode_t mode, const char *note)
{
	char path[PKI_PATH_MAX], tmp[PKI_PATH_MAX + 16];
	int fd, ret;

	if (pki_path(path, dir, name))
		return -EIO;
	snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name); /* fits */
	fd = mkstemp(tmp);
	if (fd < 0)
		return sys_fail("cannot create a file in", dir);
	ret = fill(fd, data, len, mode);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		errno = -ret;
		ret = sys_fail("cannot write", tmp);
	} else if (link(tmp, path)) {
		ret = errno == EEXIST ? -EEXIST : -EIO;
		sys_fail("cannot create", path);
	}
	if (unlink(tmp) && !ret)
		ret = sys_fail("cannot remove", tmp);
	if (!ret)
		ret = sync_dir(dir);
	if (!ret)
		printf("wrote %s%s%s\n", path, note ? " " : "", note ? note : "");
	return ret;
}

/* see vigilctl_pki.h */
long pki_read(const char *dir, const char *name, unsigned char *buf,
	      size_t cap)
{
	char path[PKI_PATH_MAX];
	size_t n = 0;
	ssize_t r = 1;
	int fd;

	if (pki_path(path, dir, name))
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_fail("cannot read", path);
	while (r != 0 && n < cap) {
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR) {
			sys_fail("cannot read", path);
			close(fd);
			return -EIO;
		}
		n += r > 0 ? (size_t)r : 0;
	}
	close(fd);
	if (n == cap) {
		fprintf(stderr, "vigilctl: pki: %s: larger than %zu bytes\n",
			path, cap - 1);
		return -EIO;
	}
	buf[n] = '\0';
	return (long)n;
}

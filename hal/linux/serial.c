/*
 * hal/linux/serial.c — the console line on a tty (termios raw 8N1) or on
 * the descriptors the agent was started with.
 *
 * hal_serial.saved holds a struct serial_saved (below): the termios to put
 * back (when `has_tio`), the file status flags of both descriptors before
 * O_NONBLOCK was set (so a shell's terminal is not left non-blocking), and
 * whether the device was opened here (and must be closed here).
 * hal_serial.restore is 1 while saved holds something to undo.
 */
#include "hal/serial.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct serial_saved {
	struct termios tio;
	int in_fl;           /* F_GETFL of in_fd before attach/open */
	int out_fl;
	unsigned char has_tio;
	unsigned char owned; /* in_fd was opened by hal_serial_open */
};

static_assert(sizeof(struct serial_saved) <= HAL_SERIAL_SAVED_MAX,
	      "struct termios does not fit HAL_SERIAL_SAVED_MAX");

struct serial_rate {
	unsigned baud;
	speed_t speed;
};

/* The standard rates from 9600 up that Linux (and musl) define. */
static const struct serial_rate serial_rates[] = {
	{ 9600, B9600 },       { 19200, B19200 },     { 38400, B38400 },
	{ 57600, B57600 },     { 115200, B115200 },   { 230400, B230400 },
	{ 460800, B460800 },   { 500000, B500000 },   { 576000, B576000 },
	{ 921600, B921600 },   { 1000000, B1000000 }, { 1152000, B1152000 },
	{ 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 },
	{ 3000000, B3000000 }, { 3500000, B3500000 }, { 4000000, B4000000 },
};

/* EAGAIN (and EWOULDBLOCK where it differs) is "try later", anything
 * else a line error. */
static int serial_io_err(void)
{
#if EWOULDBLOCK != EAGAIN
	if (errno == EWOULDBLOCK)
		return -EAGAIN;
#endif
	return errno == EAGAIN ? -EAGAIN : -EIO;
}

static struct serial_saved *serial_sv(struct hal_serial *s)
{
	return (struct serial_saved *)(void *)s->saved.bytes;
}

/* cfmakeraw() by hand (it is not POSIX), plus 8N1 and VMIN/VTIME for
 * byte-at-a-time reads. */
static void serial_make_raw(struct termios *t)
{
	t->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				  IGNCR | ICRNL | IXON | IXOFF);
	t->c_oflag &= ~(tcflag_t)OPOST;
	t->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
	t->c_cflag |= CS8 | CREAD;
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
}

/* Saves the settings of fd, then makes it raw (at speed unless 0). */
static int serial_raw(struct hal_serial *s, int fd, speed_t speed)
{
	struct serial_saved *sv = serial_sv(s);
	struct termios t;

	if (tcgetattr(fd, &sv->tio) < 0)
		return errno == ENOTTY ? -ENOTTY : -EIO;
	sv->has_tio = 1;
	s->restore = 1;
	t = sv->tio;
	serial_make_raw(&t);
	if (speed) {
		t.c_cflag |= CLOCAL; /* a device: no modem control lines */
		if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
			return -EINVAL;
	}
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -EIO;
	return 0;
}

static int serial_nonblock(int fd, int *saved_fl)
{
	int fl = fcntl(fd, F_GETFL, 0);

	if (fl < 0)
		return -EBADF;
	*saved_fl = fl;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -EBADF;
	return 0;
}

static void serial_init(struct hal_serial *s)
{
	memset(s, 0, sizeof *s);
	s->in_fd = -1;
	s->out_fd = -1;
}

static int serial_open_err(int e)
{
	if (e == ENOENT || e == EACCES || e == EBUSY)
		return -e;
	if (e == EPERM || e == EROFS)
		return -EACCES;
	return e == ENOTDIR ? -ENOENT : -EBUSY;
}

/* see hal/serial.h */
int hal_serial_open(struct hal_serial *s, const char *device, unsigned baud)
{
	speed_t speed = 0;
	int ret = -EIO, fd;

	if (!s || !device)
		return -EINVAL;
	serial_init(s);
	for (size_t i = 0; i < sizeof serial_rates / sizeof serial_rates[0]; i++)
		if (serial_rates[i].baud == baud)
			speed = serial_rates[i].speed;
	if (speed == 0)
		return -EINVAL;
	fd = open(device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return serial_open_err(errno);
	s->in_fd = s->out_fd = fd;
	serial_sv(s)->owned = 1;
	serial_sv(s)->in_fl = serial_sv(s)->out_fl = fcntl(fd, F_GETFL, 0);
	ret = isatty(fd) ? serial_raw(s, fd, speed) : -ENOTTY;
	if (ret < 0)
		hal_serial_close(s);
	return ret;
}

/* see hal/serial.h */
int hal_serial_attach(struct hal_serial *s, int in_fd, int out_fd)
{
	struct serial_saved *sv;
	int ret = -EIO;

	if (!s)
		return -EBADF;
	serial_init(s);
	if (in_fd < 0 || out_fd < 0)
		return -EBADF;
	sv = serial_sv(s);
	if (serial_nonblock(in_fd, &sv->in_fl) < 0)
		return -EBADF;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->restore = 1;
	sv->out_fl = sv->in_fl;
	ret = out_fd == in_fd ? 0 : serial_nonblock(out_fd, &sv->out_fl);
	if (ret == 0 && isatty(in_fd))
		ret = serial_raw(s, in_fd, 0);
	if (ret < 0) {
		/* a tty that refuses its settings is as unusable as a bad fd */
		hal_serial_close(s);
		return -EBADF;
	}
	return 0;
}

/* see hal/serial.h */
int hal_serial_read(struct hal_serial *s, void *buf, size_t cap)
{
	ssize_t r;

	if (!s || s->in_fd < 0)
		return -EIO;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	do {
		r = read(s->in_fd, buf, cap);
	} while (r < 0 && errno == EINTR);
	return r >= 0 ? (int)r : serial_io_err();
}

/* see hal/serial.h */
int hal_serial_write(struct hal_serial *s, const void *buf, size_t len)
{
	ssize_t r;

	if (!s || s->out_fd < 0)
		return -EIO;
	if (len > INT32_MAX)
		len = INT32_MAX;
	do {
		r = write(s->out_fd, buf, len);
	} while (r < 0 && errno == EINTR);
	return r >= 0 ? (int)r : serial_io_err();
}

/* see hal/serial.h */
void hal_serial_close(struct hal_serial *s)
{
	struct serial_saved *sv;

	if (!s)
		return;
	sv = serial_sv(s);
	if (s->restore && s->in_fd >= 0) {
		/* TCSANOW: TCSADRAIN could block on a stuck line */
		if (sv->has_tio)
			tcsetattr(s->in_fd, TCSANOW, &sv->tio);
		if (!sv->owned) {
			fcntl(s->in_fd, F_SETFL, sv->in_fl);
			if (s->out_fd >= 0 && s->out_fd != s->in_fd)
				fcntl(s->out_fd, F_SETFL, sv->out_fl);
		}
	}
	if (sv->owned && s->in_fd >= 0)
		close(s->in_fd);
	serial_init(s);
}

/*
 * hal/sim/serial.c — one scripted serial line.
 *
 * hal_sim_serial_install names the device hal_serial_open accepts;
 * hal_serial_attach (any two descriptors >= 0) also lands on this line,
 * with s->in_fd/out_fd replaced by a sim descriptor so hal_poll can see
 * it.  Input queued by hal_sim_serial_input is read in order; what the
 * agent writes collects until hal_sim_serial_output takes it (full: short
 * writes, then -EAGAIN).  After hal_sim_serial_hangup queued input is
 * dropped (as a tty flushes on hang-up), reads return 0, writes -EIO.
 * One open at a time: a second open is -EBUSY.
 */
#include "hal/serial.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

struct sim_line {
	int present;
	char device[HAL_PATH_MAX];
	int fd;          /* open descriptor, -1 when closed */
	int hung_up;
	size_t in_len, out_len;
	unsigned char in[HAL_SIM_BUF_MAX];
	unsigned char out[HAL_SIM_BUF_MAX];
};

static struct sim_line sim_line = { .fd = -1 };

/* see sim_int.h */
void sim_serial_reset(void)
{
	sim_line.present = 0;
	sim_line.device[0] = '\0';
	sim_line.fd = -1;
	sim_line.hung_up = 0;
	sim_line.in_len = 0;
	sim_line.out_len = 0;
}

/* see hal/sim.h */
void hal_sim_serial_install(const char *device)
{
	if (!device || strlen(device) >= sizeof sim_line.device)
		return;
	snprintf(sim_line.device, sizeof sim_line.device, "%s", device);
	sim_line.present = 1;
	sim_line.hung_up = 0;
}

/* see hal/sim.h */
int hal_sim_serial_input(const void *buf, size_t len)
{
	if (len > sizeof sim_line.in - sim_line.in_len)
		return -ENOSPC;
	if (len > 0)
		memcpy(sim_line.in + sim_line.in_len, buf, len);
	sim_line.in_len += len;
	return 0;
}

/* see hal/sim.h */
size_t hal_sim_serial_output(void *buf, size_t cap)
{
	size_t n = sim_line.out_len < cap ? sim_line.out_len : cap;

	if (n == 0)
		return 0;
	memcpy(buf, sim_line.out, n);
	memmove(sim_line.out, sim_line.out + n, sim_line.out_len - n);
	sim_line.out_len -= n;
	return n;
}

/* see hal/sim.h */
void hal_sim_serial_hangup(void)
{
	sim_line.hung_up = 1;
	sim_line.in_len = 0;
}

/* see sim_int.h */
unsigned short sim_serial_revents(unsigned short events)
{
	unsigned short ev = 0;

	if (sim_line.hung_up)
		return (unsigned short)((events & HAL_POLLIN) | HAL_POLLHUP);
	if (sim_line.in_len > 0)
		ev |= events & HAL_POLLIN;
	if (sim_line.out_len < sizeof sim_line.out)
		ev |= events & HAL_POLLOUT;
	return ev;
}

/* The same baud rates hal/linux/serial.c accepts. */
static int sim_baud_ok(unsigned baud)
{
	static const unsigned rates[] = {
		9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000,
		576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000,
		3000000, 3500000, 4000000,
	};

	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
		if (rates[i] == baud)
			return 1;
	return 0;
}

static int sim_line_open(struct hal_serial *s)
{
	int fd;

	if (sim_line.fd >= 0)
		return -EBUSY;
	fd = sim_fd_alloc(SIM_FD_SERIAL, 0);
	if (fd < 0)
		return -EBUSY;
	sim_line.fd = fd;
	s->in_fd = s->out_fd = fd;
	s->restore = 0;
	return 0;
}

/* see hal/serial.h */
int hal_serial_open(struct hal_serial *s, const char *device, unsigned baud)
{
	if (!s || !device)
		return -EINVAL;
	memset(s, 0, sizeof *s);
	s->in_fd = s->out_fd = -1;
	if (!sim_baud_ok(baud))
		return -EINVAL;
	if (!sim_line.present || strcmp(device, sim_line.device) != 0)
		return -ENOENT;
	return sim_line_open(s);
}

/* see hal/serial.h */
int hal_serial_attach(struct hal_serial *s, int in_fd, int out_fd)
{
	if (!s)
		return -EBADF;
	memset(s, 0, sizeof *s);
	s->in_fd = s->out_fd = -1;
	if (in_fd < 0 || out_fd < 0)
		return -EBADF;
	return sim_line_open(s) < 0 ? -EBADF : 0;
}

static int sim_line_check(const struct hal_serial *s)
{
	return s && s->in_fd >= 0 && s->in_fd == sim_line.fd &&
	       sim_fd_get(s->in_fd, SIM_FD_SERIAL);
}

/* see hal/serial.h */
int hal_serial_read(struct hal_serial *s, void *buf, size_t cap)
{
	size_t n;

	if (!sim_line_check(s))
		return -EIO;
	if (sim_line.hung_up)
		return 0;
	if (sim_line.in_len == 0)
		return -EAGAIN;
	n = sim_line.in_len < cap ? sim_line.in_len : cap;
	if (n > INT32_MAX)
		n = INT32_MAX;
	memcpy(buf, sim_line.in, n);
	memmove(sim_line.in, sim_line.in + n, sim_line.in_len - n);
	sim_line.in_len -= n;
	return (int)n;
}

/* see hal/serial.h */
int hal_serial_write(struct hal_serial *s, const void *buf, size_t len)
{
	size_t room, n;

	if (!sim_line_check(s) || sim_line.hung_up)
		return -EIO;
	if (sim_fault() < 0)
		return -EIO;
	room = sizeof sim_line.out - sim_line.out_len;
	if (room == 0 && len > 0)
		return -EAGAIN;
	n = len < room ? len : room;
	if (n > 0)
		memcpy(sim_line.out + sim_line.out_len, buf, n);
	sim_line.out_len += n;
	return (int)n;
}

/* see hal/serial.h */
void hal_serial_close(struct hal_serial *s)
{
	if (!s)
		return;
	if (sim_line_check(s)) {
		sim_fd_free(s->in_fd);
		sim_line.fd = -1;
	}
	s->in_fd = s->out_fd = -1;
	s->restore = 0;
}

/*
 * hal/serial.h — the console line: a tty in raw 8N1 mode (or stdin/stdout
 * for a console started from a terminal), non-blocking.
 */
#ifndef HAL_SERIAL_H
#define HAL_SERIAL_H

#include <stddef.h>

/* Room for the platform's saved terminal settings (struct termios). */
#define HAL_SERIAL_SAVED_MAX 128

struct hal_serial {
	int in_fd;       /* poll this for HAL_POLLIN; -1 when closed */
	int out_fd;      /* same as in_fd for a device */
	int restore;     /* 1 when saved holds settings to put back */
	union {
		long long align;
		unsigned char bytes[HAL_SERIAL_SAVED_MAX];
	} saved;
};

/*
 * Opens a serial device raw, 8N1, at baud, non-blocking, without making
 * it the controlling terminal.  The old settings are restored on close.
 * @retval 0 open
 * @retval -EINVAL baud not a standard rate (9600 ... 4000000)
 * @retval -ENOENT/-EACCES/-EBUSY open failed
 * @retval -ENOTTY device is not a terminal
 */
int hal_serial_open(struct hal_serial *s, const char *device, unsigned baud);

/*
 * Uses already-open descriptors (stdin/stdout): non-blocking, and raw
 * (no echo, no line buffering, no signals from ^C) when in_fd is a tty.
 * @retval 0 attached  @retval -EBADF bad descriptors
 */
int hal_serial_attach(struct hal_serial *s, int in_fd, int out_fd);

/* @retval >0 bytes read  @retval 0 end of input (hang-up / EOF)
 * @retval -EAGAIN nothing yet  @retval -EIO line error */
int hal_serial_read(struct hal_serial *s, void *buf, size_t cap);

/* @retval >=0 bytes written (may be short)  @retval -EAGAIN line busy
 * @retval -EIO line gone */
int hal_serial_write(struct hal_serial *s, const void *buf, size_t len);

/* Restores the terminal settings and closes a device it opened (attached
 * descriptors stay open).  Safe to call twice. */
void hal_serial_close(struct hal_serial *s);

#endif

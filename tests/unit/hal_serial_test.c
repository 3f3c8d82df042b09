/*
 * hal_serial_test.c — contract of hal/serial.h on both implementations;
 * the line is hal_test_env.h's (sim line / pty pair).
 */
#include <errno.h>

#include "hal/poll.h"
#include "hal/serial.h"
#include "hal_test_env.h"
#include "test.h"

TEST(open_errors)
{
	struct hal_serial s;
	const char *dev = test_env_serial_device();

	REQUIRE(dev != NULL);
	CHECK_EQ_INT(hal_serial_open(&s, dev, 12345), -EINVAL);
	CHECK_EQ_INT(hal_serial_open(&s, dev, 0), -EINVAL);
	CHECK_EQ_INT(hal_serial_open(&s, "/dev/vigil-no-such-tty", 115200),
		     -ENOENT);
	CHECK_EQ_INT(s.in_fd, -1);
	hal_serial_close(&s);
}

TEST(attach_bad_descriptors)
{
	struct hal_serial s;

	CHECK_EQ_INT(hal_serial_attach(&s, -1, 1), -EBADF);
	CHECK_EQ_INT(hal_serial_attach(&s, 0, -1), -EBADF);
	CHECK_EQ_INT(hal_serial_read(&s, (char[4]){ 0 }, 4), -EIO);
	hal_serial_close(&s);
}

TEST(raw_read_and_write)
{
	struct hal_serial s;
	struct hal_pollfd p;
	const char *dev = test_env_serial_device();
	char buf[16];

	REQUIRE(dev != NULL);
	REQUIRE(hal_serial_open(&s, dev, 115200) == 0);
	CHECK(s.in_fd >= 0);
	CHECK_EQ_INT(hal_serial_read(&s, buf, sizeof buf), -EAGAIN);
	/* raw: bytes arrive without a newline, ^C is just a byte */
	CHECK_EQ_INT(test_env_serial_feed("ab\x03", 3), 0);
	p.fd = s.in_fd;
	p.events = HAL_POLLIN;
	p.revents = 0;
	CHECK_EQ_INT(hal_poll(&p, 1, 1000), 1);
	CHECK_EQ_INT(p.revents & HAL_POLLIN, HAL_POLLIN);
	CHECK_EQ_INT(hal_serial_read(&s, buf, sizeof buf), 3);
	CHECK_EQ_MEM(buf, "ab\x03", 3);
	/* no output processing: "\n" stays "\n", no echo of the input */
	CHECK_EQ_INT(hal_serial_write(&s, "ok\n", 3), 3);
	CHECK_EQ_INT(test_env_serial_drain(buf, sizeof buf, 3), 3);
	CHECK_EQ_MEM(buf, "ok\n", 3);
	hal_serial_close(&s);
	CHECK_EQ_INT(s.in_fd, -1);
	hal_serial_close(&s); /* twice is safe */
	CHECK_EQ_INT(hal_serial_write(&s, "x", 1), -EIO);
}

TEST_SUITE(hal_serial, open_errors, attach_bad_descriptors,
	   raw_read_and_write)

/*
 * linux_notify_test.c — hal/linux/notify.c delivers to a real AF_UNIX
 * datagram socket, by path and in the abstract namespace, and reads the
 * environment the way sd_watchdog_enabled does (WATCHDOG_PID of another
 * process disables the watchdog), removing the variables afterwards.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hal/notify.h"
#include "test.h"

/* A bound receiver; abstract when name starts with '@'. */
static int recv_sock(const char *name)
{
	struct sockaddr_un sa;
	size_t len = strlen(name);
	socklen_t sl;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, len);
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		sl++;
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void roundtrip(const char *name)
{
	struct hal_notify n = HAL_NOTIFY_INIT;
	char buf[64];
	ssize_t r;
	int fd = recv_sock(name);

	REQUIRE(fd >= 0);
	REQUIRE(hal_notify_open(&n, name) == 0);
	CHECK_EQ_INT(hal_notify_send(&n, "READY=1"), 0);
	CHECK_EQ_INT(hal_notify_send(&n, "WATCHDOG=1"), 0);
	r = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	CHECK_EQ_INT(r, 7);
	CHECK(r == 7 && memcmp(buf, "READY=1", 7) == 0);
	r = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	CHECK_EQ_INT(r, 10);
	hal_notify_close(&n);
	close(fd);
}

TEST(sends_to_path)
{
	char path[HAL_NOTIFY_PATH_MAX];

	snprintf(path, sizeof path, "%s/notify", test_tmpdir());
	roundtrip(path);
	unlink(path);
}

TEST(sends_to_abstract_name)
{
	char name[64];

	snprintf(name, sizeof name, "@vigil-test-notify-%ld", (long)getpid());
	roundtrip(name);
}

TEST(nobody_listening_is_eio)
{
	struct hal_notify n = HAL_NOTIFY_INIT;
	char path[HAL_NOTIFY_PATH_MAX];

	snprintf(path, sizeof path, "%s/absent", test_tmpdir());
	REQUIRE(hal_notify_open(&n, path) == 0);
	CHECK_EQ_INT(hal_notify_send(&n, "READY=1"), -EIO);
	hal_notify_close(&n);
}

TEST(env_is_read_and_removed)
{
	struct hal_notify_env e;
	char pid[24];

	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", "@sock", 1);
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_EQ_INT(hal_notify_env(&e), 0);
	CHECK_EQ_STR(e.socket, "@sock");
	CHECK_EQ_INT(e.watchdog_usec, 30000000);
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	CHECK(getenv("WATCHDOG_USEC") == NULL);
	CHECK(getenv("WATCHDOG_PID") == NULL);
	/* a watchdog meant for another process is not ours */
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	CHECK_EQ_INT(hal_notify_env(&e), 0);
	CHECK_EQ_STR(e.socket, "");
	CHECK_EQ_INT(e.watchdog_usec, 0);
	setenv("NOTIFY_SOCKET", "relative", 1);
	setenv("WATCHDOG_USEC", "12x", 1);
	CHECK_EQ_INT(hal_notify_env(&e), -EINVAL);
	CHECK_EQ_STR(e.socket, "");
	CHECK_EQ_INT(e.watchdog_usec, 0);
}

TEST_SUITE(linux_notify, sends_to_path, sends_to_abstract_name,
	   nobody_listening_is_eio, env_is_read_and_removed)

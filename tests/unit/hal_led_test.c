/*
 * hal_led_test.c — contract of hal/led.h on both implementations, on a
 * fake LED class directory (trigger and brightness as plain files).
 */
#include <errno.h>
#include <stdio.h>

#include "hal/led.h"
#include "hal/storage.h"
#include "test.h"

static char led_dir[HAL_PATH_MAX];
static char file_buf[HAL_PATH_MAX + 16];

static const char *led_file(const char *name)
{
	snprintf(file_buf, sizeof file_buf, "%s/%s", led_dir, name);
	return file_buf;
}

static int make_led(void)
{
	snprintf(led_dir, sizeof led_dir, "%s/led0", test_tmpdir());
	if (hal_storage_mkdir(led_dir, 0700) < 0)
		return -1;
	if (hal_storage_write_atomic(led_file("trigger"), "mmc0", 4, 0600) < 0)
		return -1;
	return hal_storage_write_atomic(led_file("brightness"), "0", 1, 0600);
}

/* The file's content as a string. */
static const char *content(const char *name)
{
	static char buf[64];
	int n = hal_storage_read(led_file(name), buf, sizeof buf - 1);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

TEST(set_on_and_off)
{
	REQUIRE(make_led() == 0);
	CHECK_EQ_INT(hal_led_set(led_dir, 1), 0);
	CHECK_EQ_STR(content("trigger"), "none");
	CHECK_EQ_STR(content("brightness"), "1");
	CHECK_EQ_INT(hal_led_set(led_dir, 0), 0);
	CHECK_EQ_STR(content("brightness"), "0");
}

TEST(trigger)
{
	REQUIRE(make_led() == 0);
	CHECK_EQ_INT(hal_led_trigger(led_dir, "heartbeat"), 0);
	CHECK_EQ_STR(content("trigger"), "heartbeat");
	CHECK_EQ_INT(hal_led_trigger(led_dir, ""), -EINVAL);
	CHECK_EQ_INT(hal_led_trigger(led_dir, "a b"), -EINVAL);
	CHECK_EQ_INT(hal_led_trigger(led_dir, "../x"), -EINVAL);
	CHECK_EQ_INT(hal_led_trigger(led_dir, NULL), -EINVAL);
}

TEST(missing_led_is_enoent)
{
	snprintf(led_dir, sizeof led_dir, "%s/nope", test_tmpdir());
	CHECK_EQ_INT(hal_led_set(led_dir, 1), -ENOENT);
	CHECK_EQ_INT(hal_led_trigger(led_dir, "none"), -ENOENT);
}

TEST_SUITE(hal_led, set_on_and_off, trigger, missing_led_is_enoent)

/*
 * test_env_sim.c — the test environment on the simulated HAL: every test
 * starts from hal_sim_reset(), temp directories live in sim storage
 * ("/t1", "/t2", ...), devices are installed sim devices.
 */
#include <stdio.h>

#include "hal/sim.h"
#include "hal/storage.h"
#include "hal_test_env.h"
#include "test.h"

#define SIM_ENV_WDT "/dev/watchdog"
#define SIM_ENV_TTY "/dev/ttyS0"

static unsigned env_dir_seq;
static char env_dir[32];

void test_env_reset(void)
{
	hal_sim_reset();
}

const char *test_tmpdir(void)
{
	snprintf(env_dir, sizeof env_dir, "/t%u", ++env_dir_seq);
	if (hal_storage_mkdir(env_dir, 0700) < 0)
		return "/";
	return env_dir;
}

const char *test_env_wdt_device(void)
{
	hal_sim_wdt_install(SIM_ENV_WDT, 30, 0);
	return SIM_ENV_WDT;
}

unsigned test_env_wdt_kicks(void)
{
	return hal_sim_wdt_state()->kicks;
}

int test_env_wdt_magic_closed(void)
{
	return hal_sim_wdt_state()->magic_closed;
}

const char *test_env_serial_device(void)
{
	hal_sim_serial_install(SIM_ENV_TTY);
	return SIM_ENV_TTY;
}

int test_env_serial_feed(const void *buf, size_t len)
{
	return hal_sim_serial_input(buf, len);
}

size_t test_env_serial_drain(void *buf, size_t cap, size_t want)
{
	(void)want; /* the sim line has it all at once */
	return hal_sim_serial_output(buf, cap);
}

void test_env_raise(int hal_sig)
{
	hal_sim_signal_raise(hal_sig);
}

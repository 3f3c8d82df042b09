/*
 * hal_test_env.h — what the HAL contract tests (hal_*_test.c) need from
 * the side they run on, so the same test body works against hal/sim and
 * hal/linux.  Implemented in test_env_sim.c and test_env_linux.c.
 */
#ifndef VIGIL_HAL_TEST_ENV_H
#define VIGIL_HAL_TEST_ENV_H

#include <stddef.h>

/* A watchdog device hal_wdt_open accepts (sim: installed with a 30 s
 * timeout; linux: a fresh plain file in test_tmpdir()). */
const char *test_env_wdt_device(void);
/* Kicks that reached that device, and whether its last close was magic. */
unsigned test_env_wdt_kicks(void);
int test_env_wdt_magic_closed(void);

/* A serial device hal_serial_open accepts (sim: installed line; linux:
 * the slave of a fresh pty pair).  NULL if none can be made. */
const char *test_env_serial_device(void);
/* The far end of that line: send bytes to the agent / take what it wrote
 * (waits up to 1 s for at least `want` bytes). */
int test_env_serial_feed(const void *buf, size_t len);
size_t test_env_serial_drain(void *buf, size_t cap, size_t want);

/* Delivers a HAL_SIG_* signal to the process (sim: hal_sim_signal_raise;
 * linux: raise()). */
void test_env_raise(int hal_sig);

#endif

/*
 * board/host — runtime defaults, compiled into vigild as the embedded
 * configuration (every key can be overridden in /etc/vigil.conf).
 * The development host: a static x86_64 binary run by hand or by the tests;
 * no watchdog, no serial console (use --console).
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "host"
#define BOARD_ARCH "x86_64"
#define BOARD_WDT_DEVICE "none"
#define BOARD_WDT_TIMEOUT_S 30
#define BOARD_CONSOLE_DEVICE "none"
#define BOARD_CONSOLE_BAUD 115200
#define BOARD_DATA_DIR "/var/lib/vigil"
#define BOARD_LED_STATUS "none"
#define BOARD_THERMAL_ZONE "none"
/* health.interface: the network check's interface; "" = none */
#define BOARD_NETIF ""
/* Whether the console's `reboot` may restart the machine: never the
 * developer's own computer. */
#define BOARD_CAN_REBOOT 0
#define BOARD_LOG_SYSLOG 0
/* The test-only wall-clock offset (hal/linux/clock.c): the campaign
 * steps the agent's CLOCK_REALTIME with it.  Only this board has it. */
#define BOARD_TEST_CLOCK 1

#endif

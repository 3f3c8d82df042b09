/*
 * board/qemu-x86_64 — runtime defaults, compiled into vigild as the embedded
 * configuration (every key can be overridden in /etc/vigil.conf).
 * qemu-system-x86_64 appliance: i6300esb watchdog (-device i6300esb),
 * console on the first 16550 UART.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "qemu-x86_64"
#define BOARD_ARCH "x86_64"
#define BOARD_WDT_DEVICE "/dev/watchdog0"
#define BOARD_WDT_TIMEOUT_S 30
#define BOARD_CONSOLE_DEVICE "/dev/ttyS0"
#define BOARD_CONSOLE_BAUD 115200
#define BOARD_DATA_DIR "/var/lib/vigil"
#define BOARD_LED_STATUS "none"
#define BOARD_THERMAL_ZONE "none"
/* health.interface: the network check's interface; "" = none */
#define BOARD_NETIF ""
/* Whether the console's `reboot` may restart the machine: never the
 * developer's own computer. */
#define BOARD_CAN_REBOOT 1
#define BOARD_LOG_SYSLOG 1

#endif

/*
 * board/qemu-armv7 — runtime defaults, compiled into vigild as the embedded
 * configuration (every key can be overridden in /etc/vigil.conf).
 * qemu-system-arm -M virt,highmem=off -cpu cortex-a15 appliance (Debian's
 * armmp kernel): softdog watchdog (the kernel has no i6300esb driver; a
 * software reset, so its boot status never shows a card reset), PL011
 * console.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "qemu-armv7"
#define BOARD_ARCH "armv7"
#define BOARD_WDT_DEVICE "/dev/watchdog0"
#define BOARD_WDT_TIMEOUT_S 30
#define BOARD_CONSOLE_DEVICE "/dev/ttyAMA0"
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

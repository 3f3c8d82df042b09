/*
 * board/bbb — runtime defaults, compiled into vigild as the embedded
 * configuration (every key can be overridden in /etc/vigil.conf).
 * BeagleBone Black (AM335x): omap_wdt watchdog, console on UART0 (J1
 * header), usr0 LED; mainline has no AM335x thermal zone.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "bbb"
#define BOARD_ARCH "armv7"
#define BOARD_WDT_DEVICE "/dev/watchdog0"
#define BOARD_WDT_TIMEOUT_S 60
#define BOARD_CONSOLE_DEVICE "/dev/ttyS0"
#define BOARD_CONSOLE_BAUD 115200
#define BOARD_DATA_DIR "/var/lib/vigil"
#define BOARD_LED_STATUS "/sys/class/leds/beaglebone:green:usr0"
#define BOARD_THERMAL_ZONE "none"
/* health.interface: the network check's interface; "" = none */
#define BOARD_NETIF "eth0"
/* Whether the console's `reboot` may restart the machine: never the
 * developer's own computer. */
#define BOARD_CAN_REBOOT 1
#define BOARD_LOG_SYSLOG 1

#endif

/*
 * board/rpi4 — runtime defaults, compiled into vigild as the embedded
 * configuration (every key can be overridden in /etc/vigil.conf).
 * Raspberry Pi 4 (BCM2711): bcm2835_wdt watchdog (15 s is the hardware
 * maximum), console on the GPIO 14/15 UART (serial0), green ACT LED, SoC
 * thermal zone.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "rpi4"
#define BOARD_ARCH "aarch64"
#define BOARD_WDT_DEVICE "/dev/watchdog0"
#define BOARD_WDT_TIMEOUT_S 15
#define BOARD_CONSOLE_DEVICE "/dev/serial0"
#define BOARD_CONSOLE_BAUD 115200
#define BOARD_DATA_DIR "/var/lib/vigil"
#define BOARD_LED_STATUS "/sys/class/leds/ACT"
#define BOARD_THERMAL_ZONE "/sys/class/thermal/thermal_zone0"
/* health.interface: the network check's interface; "" = none */
#define BOARD_NETIF "eth0"
/* Whether the console's `reboot` may restart the machine: never the
 * developer's own computer. */
#define BOARD_CAN_REBOOT 1
#define BOARD_LOG_SYSLOG 1

#endif

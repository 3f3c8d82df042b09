/*
 * hal/sysinfo.h — what the board's health checks read: uptime, load,
 * memory, temperature.
 */
#ifndef HAL_SYSINFO_H
#define HAL_SYSINFO_H

#include <stdint.h>

struct hal_sysinfo {
	uint64_t uptime_s;        /* since boot */
	uint32_t load_milli[3];   /* 1/5/15-minute load average x 1000 */
	uint64_t mem_total;       /* bytes */
	uint64_t mem_available;   /* bytes (MemAvailable) */
	uint32_t procs;           /* processes/threads on the board */
};

/* @retval 0 filled  @retval -EIO the kernel's figures could not be read */
int hal_sysinfo_read(struct hal_sysinfo *si);

/*
 * Reads a thermal zone (a directory such as
 * /sys/class/thermal/thermal_zone0) in millidegrees Celsius.
 * @retval 0 *milli_c set
 * @retval -ENOENT no such zone
 * @retval -EBADMSG the zone reported something that is not a number
 * @retval -EIO read failed
 */
int hal_sysinfo_thermal(const char *zone_dir, int32_t *milli_c);

/* Board uptime in seconds (cheap; for the status document).
 * @retval >=0 seconds  @retval -EIO */
int64_t hal_sysinfo_uptime_s(void);

#endif

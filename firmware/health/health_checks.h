/*
 * health_checks.h — the built-in checks of health.h:
 *
 *   name         kind      PASS / WARN / FAIL
 *   liveness     required  every heartbeat fresh / - / a subsystem silent
 *                          longer than its max_silence ("stuck")
 *   storage      required  data.dir writable and free >= 2 x min_free /
 *                          free < 2 x min_free / not writable or free <
 *                          min_free
 *   memory       required  MemAvailable >= 2 x min_mem / < 2 x min_mem /
 *                          < min_mem
 *   load         wanted    1-min load <= max_load / above it / -
 *   temperature  wanted    < max_temp - 10 C / within 10 C of max_temp /
 *                          >= max_temp; SKIP without a thermal zone
 *   clock        wanted    wall clock not before the build date and the
 *                          monotonic clock never went back / wall before
 *                          build date / monotonic went back
 *   backup_link  wanted    judged passively (backup_link.h); SKIP when no
 *                          server is configured
 *   network      wanted    interface up (hal/netif.h) / - / down or
 *                          missing; SKIP when no interface is configured
 *
 * The external check command is health_cmd.h.
 *
 * Every check only reads (sysinfo, a thermal file, sysfs, a probe file
 * in data.dir); none opens a socket.
 */
#ifndef VIGIL_HEALTH_CHECKS_H
#define VIGIL_HEALTH_CHECKS_H

#include <stdint.h>

#include "backup_link.h"
#include "hal/netif.h"
#include "health.h"

/* Defaults of the thresholds (config keys health.*; docs/health.md). */
#define HEALTH_DEF_MIN_FREE   (1024u * 1024u)      /* bytes */
#define HEALTH_DEF_MIN_MEM    (4u * 1024u * 1024u) /* bytes */
#define HEALTH_DEF_MAX_LOAD   8000u                /* load x 1000 */
#define HEALTH_DEF_MAX_TEMP   85000                /* milli-degrees C */
/* The temperature warns this much below max_temp. */
#define HEALTH_TEMP_MARGIN    10000

/* Thresholds and places the checks look at; a plain copyable struct. */
struct health_limits {
	char data_dir[HEALTH_DEVICE_MAX];
	char thermal_zone[HEALTH_DEVICE_MAX]; /* "" = none */
	char interface[HAL_NETIF_NAME_MAX];   /* "" = no network check */
	uint64_t min_free;       /* bytes free in data.dir */
	uint64_t min_mem;        /* bytes of MemAvailable */
	uint32_t max_load;       /* 1-min load x 1000; 0 = no limit */
	int32_t max_temp;        /* milli-degrees C */
};

/* The built-ins' context: limits, what they read, their own memory. */
struct health_builtin {
	struct health_limits lim;
	struct health *h;                /* retained: liveness reads beats */
	const struct backup_link *link;  /* retained; NULL = no client */
	int64_t build_wall_ms;           /* the clock check's lower bound */
	uint64_t last_mono_ms;           /* the clock check's last reading */
};

/* Sets the limits to the HEALTH_DEF_* values (paths ""). */
void health_limits_default(struct health_limits *lim);

/*
 * Registers the built-in checks on h with the intervals etc. of tmpl
 * (its name, kind, fn, recover and arg are ignored; zero fields take the
 * defaults).  b must be filled (lim, link, build_wall_ms) and outlive h.
 * @retval >=0 number of checks added
 * @retval -ENOSPC/-EINVAL from health_add
 */
int health_checks_add(struct health *h, struct health_builtin *b,
		      const struct health_check_def *tmpl, uint64_t now_ms);

/* "YYYY-MM-DD" -> ms since the epoch at 00:00 UTC.
 * @retval 0 parsed  @retval -EINVAL not such a date */
int health_parse_date(const char *ymd, int64_t *wall_ms);

/* The passive verdict on a link at now_ms (the table in backup_link.h);
 * err gets the reason (HEALTH_ERR_MAX).  link NULL counts as OFF. */
enum health_result health_judge_link(const struct backup_link *link,
				     uint64_t now_ms, char *err);

#endif

/*
 * health_checks.c — see health_checks.h.
 *
 * Each check reads one thing through the HAL, compares it with its limit
 * and writes a one-line reason.  Numbers are shown in the unit of the
 * config key (bytes, load x 1000 as a decimal, degrees with one decimal).
 */
#include "health_checks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/netif.h"
#include "hal/storage.h"
#include "hal/sysinfo.h"
#include "tz.h"

/* see health_checks.h */
void health_limits_default(struct health_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->min_free = HEALTH_DEF_MIN_FREE;
	lim->min_mem = HEALTH_DEF_MIN_MEM;
	lim->max_load = HEALTH_DEF_MAX_LOAD;
	lim->max_temp = HEALTH_DEF_MAX_TEMP;
}

static enum health_result check_liveness(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;

	for (unsigned i = 0; i < b->h->nbeats; i++) {
		const struct health_beat *beat = &b->h->beats[i];
		uint64_t silent = now > beat->last_ms ? now - beat->last_ms : 0;

		if (silent > beat->max_silence_ms) {
			snprintf(err, HEALTH_ERR_MAX, "%s stuck: silent for %"
				 PRIu64 " ms (max %" PRIu32 ")", beat->name,
				 silent, beat->max_silence_ms);
			return HEALTH_FAIL;
		}
	}
	return HEALTH_PASS;
}

static enum health_result check_storage(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;
	const char *dir = b->lim.data_dir;
	uint64_t free_b = 0, total_b = 0;
	int ret;

	(void)now; /* storage has no history */
	ret = hal_storage_probe_writable(dir);
	if (ret < 0) {
		snprintf(err, HEALTH_ERR_MAX, "not writable: %s",
			 strerror(-ret));
		return HEALTH_FAIL;
	}
	ret = hal_storage_space(dir, &free_b, &total_b);
	if (ret < 0) {
		snprintf(err, HEALTH_ERR_MAX, "free space unknown: %s",
			 strerror(-ret));
		return HEALTH_FAIL;
	}
	if (free_b / 2 < b->lim.min_free) {
		snprintf(err, HEALTH_ERR_MAX, "%" PRIu64 " bytes free, minimum %"
			 PRIu64, free_b, b->lim.min_free);
		return free_b < b->lim.min_free ? HEALTH_FAIL : HEALTH_WARN;
	}
	return HEALTH_PASS;
}

static enum health_result check_memory(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;
	struct hal_sysinfo si;

	(void)now; /* memory has no history */
	if (hal_sysinfo_read(&si) < 0) {
		snprintf(err, HEALTH_ERR_MAX, "sysinfo unreadable");
		return HEALTH_FAIL;
	}
	if (si.mem_available / 2 < b->lim.min_mem) {
		snprintf(err, HEALTH_ERR_MAX, "MemAvailable %" PRIu64
			 " bytes, minimum %" PRIu64, si.mem_available,
			 b->lim.min_mem);
		return si.mem_available < b->lim.min_mem ? HEALTH_FAIL
							  : HEALTH_WARN;
	}
	return HEALTH_PASS;
}

static enum health_result check_load(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;
	struct hal_sysinfo si;
	uint32_t l;

	(void)now; /* the kernel averages for us */
	if (hal_sysinfo_read(&si) < 0) {
		snprintf(err, HEALTH_ERR_MAX, "sysinfo unreadable");
		return HEALTH_WARN;
	}
	l = si.load_milli[0];
	if (b->lim.max_load && l > b->lim.max_load) {
		snprintf(err, HEALTH_ERR_MAX, "load %" PRIu32 ".%02" PRIu32
			 " above %" PRIu32 ".%02" PRIu32, l / 1000,
			 l % 1000 / 10, b->lim.max_load / 1000,
			 b->lim.max_load % 1000 / 10);
		return HEALTH_WARN;
	}
	return HEALTH_PASS;
}

static enum health_result check_temp(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;
	int32_t mc = 0;
	int ret;

	(void)now; /* the sensor is read fresh every time */
	if (!b->lim.thermal_zone[0]) {
		snprintf(err, HEALTH_ERR_MAX, "no thermal zone configured");
		return HEALTH_SKIP;
	}
	ret = hal_sysinfo_thermal(b->lim.thermal_zone, &mc);
	if (ret < 0) {
		snprintf(err, HEALTH_ERR_MAX, "thermal zone: %s",
			 strerror(-ret));
		return HEALTH_WARN;
	}
	if ((int64_t)mc >= (int64_t)b->lim.max_temp - HEALTH_TEMP_MARGIN) {
		snprintf(err, HEALTH_ERR_MAX, "%" PRId32 ".%" PRId32
			 " C, maximum %" PRId32 " C", mc / 1000,
			 (mc < 0 ? -mc : mc) % 1000 / 100,
			 b->lim.max_temp / 1000);
		return mc >= b->lim.max_temp ? HEALTH_FAIL : HEALTH_WARN;
	}
	return HEALTH_PASS;
}

static enum health_result check_clock(void *arg, uint64_t now, char *err)
{
	struct health_builtin *b = arg;
	uint64_t mono = hal_clock_mono_ms();
	int64_t wall = hal_clock_wall_ms();
	uint64_t prev = b->last_mono_ms;

	(void)now; /* read the clock itself, not the loop's copy */
	b->last_mono_ms = mono;
	if (mono < prev) {
		snprintf(err, HEALTH_ERR_MAX, "monotonic clock went back %"
			 PRIu64 " ms", prev - mono);
		return HEALTH_FAIL;
	}
	if (wall < b->build_wall_ms) {
		snprintf(err, HEALTH_ERR_MAX, "wall clock %" PRId64
			 " s is before the build date", wall / 1000);
		return HEALTH_WARN;
	}
	return HEALTH_PASS;
}

static enum health_result check_network(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;
	const char *name = b->lim.interface;
	struct hal_netif st;
	int ret;

	(void)now; /* the kernel's state is read fresh every time */
	if (!name[0]) {
		snprintf(err, HEALTH_ERR_MAX, "no interface configured");
		return HEALTH_SKIP;
	}
	ret = hal_netif_read(name, &st);
	if (ret == -ENOENT) {
		snprintf(err, HEALTH_ERR_MAX, "%s: no such interface", name);
		return HEALTH_FAIL;
	}
	if (ret < 0) {
		snprintf(err, HEALTH_ERR_MAX, "%s: %s", name, strerror(-ret));
		return HEALTH_FAIL;
	}
	if (st.up)
		return HEALTH_PASS;
	snprintf(err, HEALTH_ERR_MAX, "%s down (operstate %s, %s, %s)", name,
		 hal_netif_oper_name(st.oper),
		 st.admin_up ? "admin up" : "admin down",
		 st.carrier == 1 ? "carrier" : st.carrier == 0
		 ? "no carrier" : "carrier unknown");
	return HEALTH_FAIL;
}

/* see health_checks.h */
enum health_result health_judge_link(const struct backup_link *link,
				     uint64_t now_ms, char *err)
{
	uint64_t age;

	if (!link || link->state == BACKUP_LINK_OFF) {
		snprintf(err, HEALTH_ERR_MAX, "no backup server configured");
		return HEALTH_SKIP;
	}
	if (link->state != BACKUP_LINK_UP) {
		snprintf(err, HEALTH_ERR_MAX, "%s%s%.*s",
			 link->state == BACKUP_LINK_CONNECTING ? "connecting"
							       : "down",
			 link->last_error_text[0] ? ": " : "",
			 BACKUP_LINK_ERR_MAX - 1, link->last_error_text);
		return HEALTH_FAIL;
	}
	age = now_ms > link->last_activity_ms ? now_ms - link->last_activity_ms
					       : 0;
	if (age < BACKUP_LINK_FRESH_MS)
		return HEALTH_PASS;
	snprintf(err, HEALTH_ERR_MAX, "%s: no activity for %" PRIu64 " s",
		 age >= BACKUP_LINK_STALE_MS ? "stale" : "aging", age / 1000);
	return age >= BACKUP_LINK_STALE_MS ? HEALTH_FAIL : HEALTH_WARN;
}

static enum health_result check_link(void *arg, uint64_t now, char *err)
{
	const struct health_builtin *b = arg;

	return health_judge_link(b->link, now, err);
}

struct builtin {
	const char *name;
	enum health_kind kind;
	health_check_fn *fn;
};

static const struct builtin builtins[] = {
	{ "liveness", HEALTH_REQUIRED, check_liveness },
	{ "storage", HEALTH_REQUIRED, check_storage },
	{ "memory", HEALTH_REQUIRED, check_memory },
	{ "load", HEALTH_WANTED, check_load },
	{ "temperature", HEALTH_WANTED, check_temp },
	{ "clock", HEALTH_WANTED, check_clock },
	{ "backup_link", HEALTH_WANTED, check_link },
	{ "network", HEALTH_WANTED, check_network },
};

/* see health_checks.h */
int health_checks_add(struct health *h, struct health_builtin *b,
		      const struct health_check_def *tmpl, uint64_t now_ms)
{
	struct health_check_def def = *tmpl;
	int n = 0;

	b->h = h;
	b->last_mono_ms = hal_clock_mono_ms();
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		int ret;

		def.name = builtins[i].name;
		def.kind = builtins[i].kind;
		def.fn = builtins[i].fn;
		def.recover = NULL;
		def.arg = b;
		ret = health_add(h, &def, now_ms);
		if (ret < 0)
			return ret;
		n++;
	}
	return n;
}

/* see health_checks.h */
int health_parse_date(const char *ymd, int64_t *wall_ms)
{
	int64_t v[3] = { 0, 0, 0 };
	static const unsigned width[3] = { 4, 2, 2 };
	const char *p = ymd;

	if (!ymd || !wall_ms)
		return -EINVAL;
	for (unsigned f = 0; f < 3; f++) {
		for (unsigned k = 0; k < width[f]; k++, p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			v[f] = v[f] * 10 + (*p - '0');
		}
		if (*p != (f < 2 ? '-' : '\0'))
			return -EINVAL;
		p++;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
		return -EINVAL;
	*wall_ms = tz_days(v[0], (int)v[1], (int)v[2]) * 86400000;
	return 0;
}

/*
 * health.h — the health state of the agent: debounced checks, the
 * watchdog's gate, and why the board last reset.  One struct health holds
 * all of it; the status endpoint and the console read it, and the overall
 * state is computed from the checks by health_overall() every time (there
 * is no cached copy that could disagree).
 *
 * A check is a function that looks at something and returns a result
 * (PASS, WARN, FAIL, SKIP) plus an error text.  The knobs are docker's
 * healthcheck ones:
 *   interval      time between runs (default 30 s)
 *   timeout       a run that takes longer counts as FAIL (default 10 s)
 *   retries       consecutive FAILs that make a check unhealthy (3)
 *   start_period  FAILs in this time after health_init are recorded but
 *                 not counted (40 s); a check stays `starting` until its
 *                 results confirm a state
 * and a debounce: every other change of state needs `debounce`
 * consecutive confirming results (3).  A result that confirms the current
 * state, or a different candidate, restarts the count: three FAILs
 * interrupted by one PASS count as one FAIL.
 *
 * Result -> the state it argues for:  PASS, SKIP -> healthy;
 * WARN -> degraded; FAIL -> unhealthy.
 *
 * States per check (transitions only through health_record):
 *
 *   starting --debounce x PASS--> healthy <--debounce x PASS--+
 *      |  \--debounce x WARN--> degraded <--debounce x WARN-- |
 *      +---retries x FAIL (after start period)--> unhealthy --+
 *
 * Overall (health_overall): any required check unhealthy -> unhealthy;
 * else any required check starting -> starting; else any required check
 * degraded or any wanted check degraded/unhealthy -> degraded; else
 * healthy.
 *
 * Nothing allocates: capacities are HEALTH_*_MAX; names and texts are
 * copied into the struct.  All times are hal_clock_mono_ms().
 */
#ifndef VIGIL_HEALTH_H
#define VIGIL_HEALTH_H

#include <stdint.h>

#include "hal/notify.h"
#include "hal/wdt.h"
#include "metrics.h"

/* Built-in checks are 8 (health_checks.h) plus the external command
 * (health_cmd.h); the rest is for later subsystems (backup, CoAP,
 * console). */
#define HEALTH_CHECKS_MAX 16
/* Subsystems that heartbeat: the loop itself, backup, CoAP, console,
 * plus headroom. */
#define HEALTH_BEATS_MAX 8
/* "temperature" is 11; a name must fit a console column. */
#define HEALTH_NAME_MAX 16
/* One error line: "data.dir /var/lib/vigil: free 1234567 < 4194304
 * bytes" is ~60; 96 leaves room for a path of 32 more. */
#define HEALTH_ERR_MAX 96
/* "<check> unhealthy for <n> s: <error>": name (15) + 15 + 20 digits +
 * 4 + error (95) + NUL = 150. */
#define HEALTH_REASON_MAX (HEALTH_NAME_MAX + 40 + HEALTH_ERR_MAX)
/* watchdog.device is a config path: 127 bytes + NUL. */
#define HEALTH_DEVICE_MAX 128
/* data.dir (a config path, <= 127 bytes) + "/boot.state" + NUL = 139. */
#define HEALTH_BOOT_PATH_MAX 144

/* Defaults (docker's healthcheck defaults; debounce and grace are ours). */
#define HEALTH_DEF_INTERVAL_MS     30000u
#define HEALTH_DEF_TIMEOUT_MS      10000u
#define HEALTH_DEF_RETRIES         3u
#define HEALTH_DEF_START_PERIOD_MS 40000u
#define HEALTH_DEF_DEBOUNCE        3u
/* How long a required check may stay unhealthy before the watchdog stops
 * being kicked: long enough for a subsystem restart to show an effect
 * (two more runs at the default interval). */
#define HEALTH_DEF_GRACE_MS        60000u

enum health_kind {
	HEALTH_REQUIRED, /* gates the watchdog */
	HEALTH_WANTED,   /* only degrades the overall state */
};

enum health_state {
	HEALTH_STARTING,
	HEALTH_HEALTHY,
	HEALTH_DEGRADED,
	HEALTH_UNHEALTHY,
};

enum health_result {
	HEALTH_NONE, /* never run */
	HEALTH_PASS,
	HEALTH_WARN,
	HEALTH_FAIL,
	HEALTH_SKIP, /* not applicable here (no thermal zone...): counts as
		      * PASS, the error text says why */
};

/*
 * A check.  err (HEALTH_ERR_MAX bytes, "" on entry) takes the reason of a
 * non-PASS result (or the note of a SKIP).  Must be quick and must not
 * block: it runs inside the event loop.  arg is the one given at
 * registration.  An asynchronous check (the external command) returns
 * HEALTH_NONE: nothing is recorded now, it is due again after its
 * interval, and its result comes later through health_record().
 */
typedef enum health_result health_check_fn(void *arg, uint64_t now_ms,
					   char *err);
/* Called once each time a check turns unhealthy: restart the subsystem
 * behind it.  The watchdog grace runs from that moment. */
typedef void health_recover_fn(void *arg);

/* Registration parameters; zero fields take the HEALTH_DEF_* values. */
struct health_check_def {
	const char *name;          /* copied, < HEALTH_NAME_MAX bytes */
	enum health_kind kind;
	health_check_fn *fn;
	health_recover_fn *recover; /* may be NULL */
	void *arg;                 /* retained until health_init */
	uint32_t interval_ms, timeout_ms, start_period_ms, grace_ms;
	uint32_t retries, debounce;
};

struct health_check {
	struct health_check_def def;  /* name points into name[] */
	char name[HEALTH_NAME_MAX];
	enum health_state state;
	enum health_result last_result;
	enum health_state candidate;  /* the state the count confirms */
	uint32_t consecutive;         /* results in a row for candidate */
	uint64_t last_run_ms;
	uint64_t last_change_ms;      /* registration, or last transition */
	uint64_t next_due_ms;
	uint32_t runs, fails;         /* since start, for the status */
	uint32_t transitions;
	char last_error[HEALTH_ERR_MAX]; /* of the last non-PASS result */
	/* run durations of this check (bounds of M_HEALTH_CHECK_MS): a
	 * synchronous run as timed, an asynchronous one from its start to
	 * its health_record */
	struct metric_counts ms;
	uint64_t async_started_ms;    /* mono; 0: no asynchronous run open */
};

/* A subsystem's heartbeat: stuck when silent longer than max_silence. */
struct health_beat {
	const char *name;   /* static string */
	uint64_t last_ms;
	uint32_t max_silence_ms;
};

/* The watchdog owner's state (watchdog.h drives it). */
struct health_wdt {
	struct hal_wdt dev;
	char device[HEALTH_DEVICE_MAX]; /* "" = none */
	int open;             /* dev is open */
	int timeout_s;        /* in force (asked for when the device cannot
			       * say) */
	int boot_status;      /* HAL_WDT_* bits, or <0: unknown */
	uint64_t last_kick_ms;
	uint32_t kicks;
	uint32_t kick_errors;
	int stopped;          /* deliberately stopped kicking: the board
			       * resets; final until the process ends */
	char gated[HEALTH_REASON_MAX]; /* why kicks are withheld now; "" */
	/* the service manager (systemd's NOTIFY_SOCKET; watchdog.h) */
	struct hal_notify notify;   /* fd -1: not notifying */
	uint32_t notify_ms;         /* WATCHDOG=1 at most this often
				     * (WATCHDOG_USEC / 2); 0 = not asked */
	uint64_t last_notify_ms;    /* last WATCHDOG=1 */
	uint32_t notifies;          /* WATCHDOG=1 sent */
	uint32_t notify_errors;     /* messages that could not be sent */
};

/* How the previous run ended (boot.h). */
enum boot_reset {
	BOOT_RESET_UNKNOWN,
	BOOT_RESET_POWER_ON,
	BOOT_RESET_WATCHDOG,
	BOOT_RESET_REQUESTED,
	BOOT_RESET_CRASH,
};

struct health_boot {
	uint32_t count;             /* starts of the agent on this data dir,
				     * this one included */
	uint32_t watchdog_streak;   /* consecutive watchdog resets */
	enum boot_reset last_reset;
	char reason[HEALTH_REASON_MAX]; /* why, as far as known */
	int64_t reset_wall_ms;      /* when the marker was written; 0 unknown */
	int safe_mode;              /* streak reached the limit */
	int persist_error;          /* last error writing the state, 0 */
	char path[HEALTH_BOOT_PATH_MAX]; /* the state file; "" before
					  * boot_init */
};

struct health {
	struct health_check checks[HEALTH_CHECKS_MAX];
	unsigned nchecks;
	struct health_beat beats[HEALTH_BEATS_MAX];
	unsigned nbeats;
	uint64_t started_ms;  /* health_init: the start periods run from it */
	struct health_wdt wdt;
	struct health_boot boot;
};

/* Clears h and starts the start periods now.  The watchdog is closed
 * (HAL_WDT_INIT).  Cannot fail. */
void health_init(struct health *h, uint64_t now_ms);

/*
 * Adds a check (state starting, first run due at now_ms).
 * @retval >=0 its index
 * @retval -ENOSPC HEALTH_CHECKS_MAX reached
 * @retval -EINVAL def, name or fn NULL, name empty or too long, or
 *         timeout > interval
 */
int health_add(struct health *h, const struct health_check_def *def,
	       uint64_t now_ms);

/* The check named name, or NULL. */
struct health_check *health_find(struct health *h, const char *name);

/*
 * Feeds one result of check idx into its debounce (see the top of this
 * file) and records it; err ("" or NULL for none) is copied.  Used by
 * health_run_due, and directly by tests and asynchronous checks.
 * @retval 1 the state changed  @retval 0 it did not
 * @retval -EINVAL idx out of range or result HEALTH_NONE
 */
int health_record(struct health *h, unsigned idx, enum health_result r,
		  const char *err, uint64_t now_ms);

/*
 * Runs every check whose next run is due at now_ms (O(n), n <=
 * HEALTH_CHECKS_MAX); each run is timed with hal_clock_mono_ms and one
 * that took longer than its timeout is recorded as FAIL.
 * @retval >=0 number of checks run
 */
int health_run_due(struct health *h, uint64_t now_ms);

/* ms until the earliest check is due (0: now). */
uint64_t health_next_due(const struct health *h, uint64_t now_ms);

/* The overall state, derived from the checks (see the top). */
enum health_state health_overall(const struct health *h);

/*
 * Whether the watchdog may be kicked at now_ms: every required check is
 * healthy, degraded or starting, or unhealthy for at most its grace.
 * @retval 0 may kick (reason "")
 * @retval 1 withheld; reason (HEALTH_REASON_MAX) names the first check
 *         past its grace: "storage unhealthy for 61 s: ..."
 */
int health_gate(const struct health *h, uint64_t now_ms, char *reason);

/*
 * Registers a subsystem heartbeat (last beat = now_ms).  name is
 * retained (a static string).
 * @retval >=0 its id  @retval -ENOSPC  @retval -EINVAL
 */
int health_beat_add(struct health *h, const char *name,
		    uint32_t max_silence_ms, uint64_t now_ms);

/* The subsystem id is alive at now_ms.  Unknown ids are ignored. */
void health_beat(struct health *h, int id, uint64_t now_ms);

/* Lower-case words for status and log. */
const char *health_state_name(enum health_state s);
const char *health_result_name(enum health_result r);

#endif

/*
 * boot.h — why the agent last went down, the start counter, safe mode.
 *
 * One small file in data.dir, BOOT_STATE_FILE, always replaced atomically
 * (hal_storage_write_atomic), holds: the start count, the streak of
 * consecutive watchdog resets, and a marker saying how the last run ended
 * (kind, wall time, reason).  boot_init() writes the marker RUNNING at
 * start; the agent replaces it before it goes down on purpose:
 *   STOPPED    graceful stop (SIGTERM/SIGINT)
 *   REQUESTED  reboot asked for (console `reboot [reason]`, CoAP)
 *   WATCHDOG   the watchdog owner stops kicking (watchdog.h)
 * so a RUNNING marker found at start means the last run ended without
 * warning.
 *
 * At start the marker is combined with the watchdog's boot status (the
 * driver's WDIOF_CARDRESET bit, HAL_WDT_CARDRESET):
 *
 *   marker       CARDRESET set   CARDRESET clear   status unknown
 *   (no file)    watchdog        power_on          power_on
 *   RUNNING      watchdog        crash             crash
 *   STOPPED      watchdog        requested         requested
 *   REQUESTED    watchdog        requested         requested
 *   WATCHDOG     watchdog        watchdog          watchdog
 *   (corrupt)    watchdog        unknown           unknown
 *
 * crash covers every end the agent could not announce: a crash, kill -9,
 * a power cut (the drivers we know cannot tell a power cut from a crash).
 *
 * Safe mode: after safe_after consecutive watchdog resets (default
 * BOOT_DEF_SAFE_AFTER; 0 = never) the agent starts in safe mode: no
 * backups, console and status up, and the watchdog no longer stops on a
 * health verdict.  Any start that is not a watchdog reset ends the
 * streak, and with it safe mode.
 */
#ifndef VIGIL_BOOT_H
#define VIGIL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"

#define BOOT_STATE_FILE "boot.state"
#define BOOT_DEF_SAFE_AFTER 3u

/*
 * The state file, little-endian:
 *   0  magic "VGB1"          4
 *   4  start count           4
 *   8  watchdog streak       4
 *   12 marker kind           1, then 3 zero bytes
 *   16 marker wall time ms   8 (signed)
 *   24 reason                HEALTH_REASON_MAX, NUL-padded
 *   .. cksum_buf of all above 4
 */
#define BOOT_REASON_OFF 24
#define BOOT_RECORD_SIZE (BOOT_REASON_OFF + HEALTH_REASON_MAX + 4)

enum boot_mark {
	BOOT_MARK_NONE = 0, /* no state file */
	BOOT_MARK_RUNNING,
	BOOT_MARK_STOPPED,
	BOOT_MARK_REQUESTED,
	BOOT_MARK_WATCHDOG,
	BOOT_MARK_CORRUPT,  /* a file that does not decode */
};

/* A decoded state file. */
struct boot_record {
	uint32_t count;
	uint32_t watchdog_streak;
	enum boot_mark mark;
	int64_t wall_ms;
	char reason[HEALTH_REASON_MAX];
};

/*
 * Encodes r into out (BOOT_RECORD_SIZE bytes).
 * @retval BOOT_RECORD_SIZE  @retval -ENOSPC cap too small (nothing
 * written)  @retval -EINVAL mark not one of RUNNING..WATCHDOG
 */
int boot_record_encode(const struct boot_record *r, uint8_t *out,
		       size_t cap);

/*
 * Decodes a state file's bytes; only the canonical form the encoder
 * writes is accepted, so decode then encode gives the same bytes.
 * @retval 0 r filled  @retval -EBADMSG wrong size, magic, kind,
 *         checksum, non-zero padding, or a reason without its NUL
 *         (r untouched)
 */
int boot_record_decode(const uint8_t *buf, size_t len,
		       struct boot_record *r);

/* The table above; wdt_status < 0 means unknown. */
enum boot_reset boot_classify(enum boot_mark mark, int wdt_status);

/*
 * At start, after watchdog_open: reads BOOT_STATE_FILE in data_dir,
 * fills h->boot (count including this start, last_reset, reason, time,
 * streak, safe_mode) from it and h->wdt.boot_status, and writes the
 * RUNNING marker.  A missing or corrupt file is not an error (logged).
 * @retval 0 done
 * @retval -ENAMETOOLONG data_dir too long for the state path
 * @retval <0 the RUNNING marker could not be written (hal/storage.h
 *         errors; h->boot is filled anyway, persist_error set)
 */
int boot_init(struct health *h, const char *data_dir, unsigned safe_after);

/*
 * Replaces the marker: kind STOPPED, REQUESTED or WATCHDOG, with reason
 * (copied, cut to HEALTH_REASON_MAX - 1) and the wall time now.  Call
 * before going down on purpose; RUNNING takes such a marker back when
 * going down failed (a refused reboot).  Needs boot_init first.
 * @retval 0 durable
 * @retval -EINVAL kind not one of those, or boot_init not done
 * @retval <0 hal_storage_write_atomic errors (persist_error set)
 */
int boot_mark(struct health *h, enum boot_mark kind, const char *reason);

/* "power_on", "watchdog", "requested", "crash", "unknown". */
const char *boot_reset_name(enum boot_reset r);

#endif

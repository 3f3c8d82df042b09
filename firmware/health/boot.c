/*
 * boot.c — see boot.h.
 *
 * The record has a fixed size and a checksum, so a decoder needs no
 * parsing beyond "exactly BOOT_RECORD_SIZE bytes, magic, kind in range,
 * checksum": a torn or foreign file reads as corrupt, never as a state.
 */
#include "boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cksum.h"
#include "hal/clock.h"
#include "hal/storage.h"
#include "hal/wdt.h"
#include "log.h"

static const uint8_t boot_magic[4] = { 'V', 'G', 'B', '1' };

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* see boot.h */
int boot_record_encode(const struct boot_record *r, uint8_t *out,
		       size_t cap)
{
	uint64_t wall = (uint64_t)r->wall_ms;
	size_t n;

	if (r->mark < BOOT_MARK_RUNNING || r->mark > BOOT_MARK_WATCHDOG)
		return -EINVAL;
	if (cap < BOOT_RECORD_SIZE)
		return -ENOSPC;
	memset(out, 0, BOOT_RECORD_SIZE);
	memcpy(out, boot_magic, 4);
	put_le32(out + 4, r->count);
	put_le32(out + 8, r->watchdog_streak);
	out[12] = (uint8_t)r->mark;
	put_le32(out + 16, (uint32_t)wall);
	put_le32(out + 20, (uint32_t)(wall >> 32));
	n = strnlen(r->reason, HEALTH_REASON_MAX - 1);
	memcpy(out + BOOT_REASON_OFF, r->reason, n);
	put_le32(out + BOOT_RECORD_SIZE - 4,
		 cksum_buf(out, BOOT_RECORD_SIZE - 4));
	return BOOT_RECORD_SIZE;
}

/* see boot.h */
int boot_record_decode(const uint8_t *buf, size_t len,
		       struct boot_record *r)
{
	uint64_t wall;
	size_t n;

	if (len != BOOT_RECORD_SIZE || memcmp(buf, boot_magic, 4) != 0)
		return -EBADMSG;
	if (get_le32(buf + BOOT_RECORD_SIZE - 4) !=
	    cksum_buf(buf, BOOT_RECORD_SIZE - 4))
		return -EBADMSG;
	if (buf[12] < BOOT_MARK_RUNNING || buf[12] > BOOT_MARK_WATCHDOG)
		return -EBADMSG;
	/* canonical only, as the encoder writes it: zero pad bytes, and
	 * the reason NUL-terminated inside its field with zeros after it */
	if (buf[13] | buf[14] | buf[15])
		return -EBADMSG;
	n = strnlen((const char *)buf + BOOT_REASON_OFF, HEALTH_REASON_MAX);
	if (n == HEALTH_REASON_MAX)
		return -EBADMSG;
	for (size_t i = BOOT_REASON_OFF + n; i < BOOT_RECORD_SIZE - 4; i++)
		if (buf[i])
			return -EBADMSG;
	r->count = get_le32(buf + 4);
	r->watchdog_streak = get_le32(buf + 8);
	r->mark = (enum boot_mark)buf[12];
	wall = (uint64_t)get_le32(buf + 16) | (uint64_t)get_le32(buf + 20) << 32;
	r->wall_ms = (int64_t)wall;
	memcpy(r->reason, buf + BOOT_REASON_OFF, HEALTH_REASON_MAX);
	return 0;
}

/* see boot.h */
enum boot_reset boot_classify(enum boot_mark mark, int wdt_status)
{
	if (wdt_status >= 0 && (wdt_status & HAL_WDT_CARDRESET))
		return BOOT_RESET_WATCHDOG;
	switch (mark) {
	case BOOT_MARK_NONE:
		return BOOT_RESET_POWER_ON;
	case BOOT_MARK_RUNNING:
		return BOOT_RESET_CRASH;
	case BOOT_MARK_STOPPED:
	case BOOT_MARK_REQUESTED:
		return BOOT_RESET_REQUESTED;
	case BOOT_MARK_WATCHDOG:
		return BOOT_RESET_WATCHDOG;
	default:
		return BOOT_RESET_UNKNOWN;
	}
}

/* The reason text of a reset whose marker did not carry one. */
static const char *default_reason(enum boot_mark mark, enum boot_reset r)
{
	if (mark == BOOT_MARK_CORRUPT)
		return r == BOOT_RESET_WATCHDOG
		       ? "watchdog reset; boot state unreadable"
		       : "boot state unreadable";
	if (r == BOOT_RESET_WATCHDOG)
		return mark == BOOT_MARK_RUNNING
		       ? "watchdog reset: the agent stopped kicking (hung)"
		       : "watchdog reset";
	if (r == BOOT_RESET_CRASH)
		return "the agent did not stop cleanly (crash, kill or "
		       "power cut)";
	return "power-on (no boot state)";
}

/* Reads the state file: the mark (NONE, CORRUPT or the stored one). */
static enum boot_mark read_state(const char *path, struct boot_record *rec)
{
	uint8_t buf[BOOT_RECORD_SIZE + 1]; /* +1: a longer file is corrupt */
	int n = hal_storage_read(path, buf, sizeof buf);

	memset(rec, 0, sizeof *rec);
	if (n == -ENOENT)
		return BOOT_MARK_NONE;
	if (n < 0 || boot_record_decode(buf, (size_t)n, rec) < 0) {
		log_warn("boot", "%s: unreadable (%s); starting a new count",
			 path, n < 0 ? strerror(-n) : "corrupt");
		memset(rec, 0, sizeof *rec);
		return BOOT_MARK_CORRUPT;
	}
	return rec->mark;
}

static int write_state(struct health *h, enum boot_mark kind,
		       const char *reason)
{
	struct boot_record rec;
	uint8_t buf[BOOT_RECORD_SIZE];
	int ret;

	memset(&rec, 0, sizeof rec);
	rec.count = h->boot.count;
	rec.watchdog_streak = h->boot.watchdog_streak;
	rec.mark = kind;
	rec.wall_ms = hal_clock_wall_ms();
	snprintf(rec.reason, sizeof rec.reason, "%s", reason ? reason : "");
	ret = boot_record_encode(&rec, buf, sizeof buf);
	if (ret < 0)
		return ret;
	ret = hal_storage_write_atomic(h->boot.path, buf, sizeof buf, 0600);
	h->boot.persist_error = ret < 0 ? ret : 0;
	if (ret < 0)
		log_err("boot", "%s: %s", h->boot.path, strerror(-ret));
	return ret;
}

/* see boot.h */
int boot_init(struct health *h, const char *data_dir, unsigned safe_after)
{
	struct health_boot *b = &h->boot;
	struct boot_record prev;
	enum boot_mark mark;
	int n = snprintf(b->path, sizeof b->path, "%s/%s", data_dir,
			 BOOT_STATE_FILE);

	if (n < 0 || (size_t)n >= sizeof b->path) {
		b->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	mark = read_state(b->path, &prev);
	b->last_reset = boot_classify(mark, h->wdt.boot_status);
	b->reset_wall_ms = mark == BOOT_MARK_NONE ||
			   mark == BOOT_MARK_CORRUPT ? 0 : prev.wall_ms;
	/* the marker's own text only when the hardware agrees with it */
	if (prev.reason[0] && boot_classify(mark, -1) == b->last_reset)
		snprintf(b->reason, sizeof b->reason, "%s", prev.reason);
	else
		snprintf(b->reason, sizeof b->reason, "%s",
			 default_reason(mark, b->last_reset));
	b->count = prev.count < UINT32_MAX ? prev.count + 1 : UINT32_MAX;
	b->watchdog_streak = b->last_reset != BOOT_RESET_WATCHDOG ? 0
		: prev.watchdog_streak < UINT32_MAX
		? prev.watchdog_streak + 1 : UINT32_MAX;
	b->safe_mode = safe_after && b->watchdog_streak >= safe_after;
	log_msg(b->last_reset == BOOT_RESET_REQUESTED ||
		b->last_reset == BOOT_RESET_POWER_ON ? LOG_INFO : LOG_WARN,
		"boot", "start %u, last reset: %s (%s)%s", (unsigned)b->count,
		boot_reset_name(b->last_reset), b->reason,
		b->safe_mode ? "; SAFE MODE: backups off" : "");
	return write_state(h, BOOT_MARK_RUNNING, "");
}

/* see boot.h */
int boot_mark(struct health *h, enum boot_mark kind, const char *reason)
{
	if (kind < BOOT_MARK_RUNNING || kind > BOOT_MARK_WATCHDOG ||
	    !h->boot.path[0])
		return -EINVAL;
	return write_state(h, kind, reason);
}

/* see boot.h */
const char *boot_reset_name(enum boot_reset r)
{
	static const char *const names[] = { "unknown", "power_on",
					     "watchdog", "requested",
					     "crash" };

	return (unsigned)r < 5 ? names[r] : "unknown";
}

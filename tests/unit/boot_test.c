/*
 * boot_test.c — reset reasons (firmware/health/boot.c): the marker x boot status
 * table, a sequence of starts through the state file, safe mode after
 * three watchdog resets, the record codec at its exact size and beyond.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "cksum.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "hal/wdt.h"
#include "health.h"
#include "log.h"
#include "test.h"

#define CARD HAL_WDT_CARDRESET
#define UNK (-ENOTSUP)

TEST(classify_table)
{
	static const struct {
		enum boot_mark mark;
		int status;
		enum boot_reset want;
	} t[] = {
		{ BOOT_MARK_NONE, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_NONE, 0, BOOT_RESET_POWER_ON },
		{ BOOT_MARK_NONE, UNK, BOOT_RESET_POWER_ON },
		{ BOOT_MARK_RUNNING, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_RUNNING, 0, BOOT_RESET_CRASH },
		{ BOOT_MARK_RUNNING, UNK, BOOT_RESET_CRASH },
		{ BOOT_MARK_STOPPED, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_STOPPED, 0, BOOT_RESET_REQUESTED },
		{ BOOT_MARK_STOPPED, UNK, BOOT_RESET_REQUESTED },
		{ BOOT_MARK_REQUESTED, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_REQUESTED, 0, BOOT_RESET_REQUESTED },
		{ BOOT_MARK_REQUESTED, UNK, BOOT_RESET_REQUESTED },
		{ BOOT_MARK_WATCHDOG, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_WATCHDOG, 0, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_WATCHDOG, UNK, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_CORRUPT, CARD, BOOT_RESET_WATCHDOG },
		{ BOOT_MARK_CORRUPT, 0, BOOT_RESET_UNKNOWN },
		{ BOOT_MARK_CORRUPT, UNK, BOOT_RESET_UNKNOWN },
		/* other bits alone are not a watchdog reset */
		{ BOOT_MARK_RUNNING, HAL_WDT_OVERHEAT, BOOT_RESET_CRASH },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		enum boot_reset r = boot_classify(t[i].mark, t[i].status);

		if (r != t[i].want)
			test_fail(__FILE__, __LINE__, "row %zu: %s, want %s",
				  i, boot_reset_name(r),
				  boot_reset_name(t[i].want));
	}
	CHECK_EQ_STR(boot_reset_name(BOOT_RESET_POWER_ON), "power_on");
	CHECK_EQ_STR(boot_reset_name((enum boot_reset)9), "unknown");
}

/* Rewrites the checksum after a deliberate change. */
static void fix_cksum(uint8_t *buf)
{
	uint32_t c = cksum_buf(buf, BOOT_RECORD_SIZE - 4);

	for (int i = 0; i < 4; i++)
		buf[BOOT_RECORD_SIZE - 4 + i] = (uint8_t)(c >> (8 * i));
}

TEST(record_round_trip_and_corruption)
{
	struct boot_record r = { .count = 7, .watchdog_streak = 2,
				 .mark = BOOT_MARK_REQUESTED,
				 .wall_ms = -5 }, back;
	uint8_t buf[BOOT_RECORD_SIZE + 1];

	strcpy(r.reason, "reboot: firmware update");
	CHECK_EQ_INT(boot_record_encode(&r, buf, BOOT_RECORD_SIZE - 1),
		     -ENOSPC);
	CHECK_EQ_INT(boot_record_encode(&r, buf, sizeof buf),
		     BOOT_RECORD_SIZE);
	memset(&back, 0, sizeof back);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back), 0);
	CHECK_EQ_INT(back.count, 7);
	CHECK_EQ_INT(back.watchdog_streak, 2);
	CHECK_EQ_INT(back.mark, BOOT_MARK_REQUESTED);
	CHECK_EQ_INT(back.wall_ms, -5);
	CHECK_EQ_STR(back.reason, r.reason);
	CHECK_EQ_INT(boot_record_decode(buf, 0, &back), -EBADMSG);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE - 1, &back),
		     -EBADMSG);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE + 1, &back),
		     -EBADMSG);
	/* every single-bit flip is caught */
	for (size_t i = 0; i < BOOT_RECORD_SIZE; i++) {
		buf[i] ^= 0x10;
		if (boot_record_decode(buf, BOOT_RECORD_SIZE, &back) != -EBADMSG)
			test_fail(__FILE__, __LINE__, "flip at %zu accepted", i);
		buf[i] ^= 0x10;
	}
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back), 0);
	/* valid checksum, but not the canonical form: refused */
	buf[BOOT_REASON_OFF + strlen(r.reason) + 1] = 'x';
	fix_cksum(buf);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back),
		     -EBADMSG);
	buf[BOOT_REASON_OFF + strlen(r.reason) + 1] = 0;
	buf[13] = 1;
	fix_cksum(buf);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back),
		     -EBADMSG);
	buf[13] = 0;
	memset(buf + BOOT_REASON_OFF, 'r', HEALTH_REASON_MAX);
	fix_cksum(buf);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back),
		     -EBADMSG);
	buf[BOOT_REASON_OFF + HEALTH_REASON_MAX - 1] = 0;
	fix_cksum(buf);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back), 0);
	CHECK_EQ_INT(strlen(back.reason), HEALTH_REASON_MAX - 1);
	buf[12] = BOOT_MARK_CORRUPT;
	fix_cksum(buf);
	CHECK_EQ_INT(boot_record_decode(buf, BOOT_RECORD_SIZE, &back),
		     -EBADMSG);
	r.mark = BOOT_MARK_NONE;
	CHECK_EQ_INT(boot_record_encode(&r, buf, sizeof buf), -EINVAL);
	r.mark = BOOT_MARK_CORRUPT;
	CHECK_EQ_INT(boot_record_encode(&r, buf, sizeof buf), -EINVAL);
}

static struct health h;

/* One start: fresh health, boot status, boot_init on dir. */
static int start(const char *dir, int status)
{
	health_init(&h, 0);
	h.wdt.boot_status = status;
	return boot_init(&h, dir, 3);
}

/* A life of starts and ends, and what each start concludes. */
TEST(sequence_of_starts)
{
	const char *dir = test_tmpdir();

	log_configure(LOG_ERR, 0, 0);
	hal_sim_clock_set_wall(1800000000000);
	CHECK_EQ_INT(start(dir, 0), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_POWER_ON);
	CHECK_EQ_INT(h.boot.count, 1);
	CHECK_EQ_INT(h.boot.reset_wall_ms, 0);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_REQUESTED, "reboot: update"), 0);

	CHECK_EQ_INT(start(dir, 0), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_REQUESTED);
	CHECK_EQ_STR(h.boot.reason, "reboot: update");
	CHECK_EQ_INT(h.boot.reset_wall_ms, 1800000000000);
	CHECK_EQ_INT(h.boot.count, 2);
	/* no mark: the run ended without warning */
	CHECK_EQ_INT(start(dir, UNK), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_CRASH);
	CHECK(strstr(h.boot.reason, "did not stop cleanly") != NULL);
	CHECK_EQ_INT(h.boot.count, 3);
	/* the loop hung: the device reset the board, no marker */
	CHECK_EQ_INT(start(dir, CARD), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_WATCHDOG);
	CHECK(strstr(h.boot.reason, "hung") != NULL);
	CHECK_EQ_INT(h.boot.watchdog_streak, 1);
	CHECK_EQ_INT(h.boot.safe_mode, 0);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_STOPPED, "vigild stopped"), 0);
	/* stopped cleanly, but the device says it fired: watchdog, and
	 * the "stopped" text is not shown as the reason */
	CHECK_EQ_INT(start(dir, CARD), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_WATCHDOG);
	CHECK_EQ_STR(h.boot.reason, "watchdog reset");
	CHECK_EQ_INT(h.boot.watchdog_streak, 2);
	CHECK_EQ_INT(h.boot.count, 5);
}

/* Three watchdog resets in a row: safe mode; any other start ends it. */
TEST(safe_mode_after_three_watchdog_resets)
{
	const char *dir = test_tmpdir();

	log_configure(LOG_ERR, 0, 0);
	CHECK_EQ_INT(start(dir, 0), 0);
	for (unsigned i = 1; i <= 4; i++) {
		CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_WATCHDOG, "storage bad"),
			     0);
		CHECK_EQ_INT(start(dir, CARD), 0);
		CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_WATCHDOG);
		CHECK_EQ_STR(h.boot.reason, "storage bad");
		CHECK_EQ_INT(h.boot.watchdog_streak, i);
		CHECK_EQ_INT(h.boot.safe_mode, i >= 3);
	}
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_REQUESTED, "operator"), 0);
	CHECK_EQ_INT(start(dir, 0), 0);
	CHECK_EQ_INT(h.boot.watchdog_streak, 0);
	CHECK_EQ_INT(h.boot.safe_mode, 0);
	/* safe_after 0: never */
	for (int i = 0; i < 5; i++) {
		health_init(&h, 0);
		h.wdt.boot_status = CARD;
		CHECK_EQ_INT(boot_init(&h, dir, 0), 0);
	}
	CHECK_EQ_INT(h.boot.watchdog_streak, 5);
	CHECK_EQ_INT(h.boot.safe_mode, 0);
}

TEST(corrupt_state_reads_unknown)
{
	const char *dir = test_tmpdir();
	char path[HAL_PATH_MAX];

	log_configure(LOG_ERR, 0, 0);
	snprintf(path, sizeof path, "%s/%s", dir, BOOT_STATE_FILE);
	REQUIRE(hal_storage_write_atomic(path, "garbage", 7, 0600) == 0);
	CHECK_EQ_INT(start(dir, 0), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_UNKNOWN);
	CHECK_EQ_STR(h.boot.reason, "boot state unreadable");
	CHECK_EQ_INT(h.boot.count, 1);
	REQUIRE(hal_storage_write_atomic(path, "garbage", 7, 0600) == 0);
	CHECK_EQ_INT(start(dir, CARD), 0);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_WATCHDOG);
}

TEST(write_errors_are_reported)
{
	const char *dir = test_tmpdir();
	char longdir[HEALTH_BOOT_PATH_MAX];

	log_configure(LOG_ERR, 0, 0);
	health_init(&h, 0);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_STOPPED, "x"), -EINVAL);
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[0] = '/';
	longdir[sizeof longdir - 1] = '\0';
	CHECK_EQ_INT(boot_init(&h, longdir, 3), -ENAMETOOLONG);
	hal_sim_storage_set_readonly(1);
	CHECK_EQ_INT(start(dir, 0), -EROFS);
	CHECK_EQ_INT(h.boot.persist_error, -EROFS);
	CHECK_EQ_INT(h.boot.last_reset, BOOT_RESET_POWER_ON);
	CHECK_EQ_INT(h.boot.count, 1);
	hal_sim_storage_set_readonly(0);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_NONE, "x"), -EINVAL);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_CORRUPT, "x"), -EINVAL);
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_STOPPED, "x"), 0);
	/* a refused reboot takes its REQUESTED marker back */
	CHECK_EQ_INT(boot_mark(&h, BOOT_MARK_RUNNING, "reboot refused"), 0);
	CHECK_EQ_INT(h.boot.persist_error, 0);
}

TEST_SUITE(boot, classify_table, record_round_trip_and_corruption,
	   sequence_of_starts, safe_mode_after_three_watchdog_resets,
	   corrupt_state_reads_unknown, write_errors_are_reported);

/*
 * log_test.c — the RAM ring, levels, cutting and formatting of the log.
 */
#include <errno.h>
#include <stdio.h>

#include "hal/sim.h"
#include "log.h"
#include "test.h"

/* Quiet (no stderr) at the given level. */
static void quiet(int level)
{
	log_reset();
	REQUIRE(log_configure(level, 0, 0) == 0);
}

TEST(records_get_sequence_numbers)
{
	struct log_record r;

	quiet(LOG_INFO);
	CHECK_EQ_INT(log_last_seq(), 0);
	CHECK_EQ_INT(log_read(0, &r), -ENOENT);
	CHECK_EQ_INT(log_read(1, &r), -ENOENT);
	log_info("main", "first %d", 1);
	log_warn("cfg", "second");
	CHECK_EQ_INT(log_last_seq(), 2);
	REQUIRE(log_read(1, &r) == 0);
	CHECK_EQ_INT(r.seq, 1);
	CHECK_EQ_INT(r.level, LOG_INFO);
	CHECK_EQ_STR(r.module, "main");
	CHECK_EQ_STR(r.text, "first 1");
	REQUIRE(log_read(2, &r) == 0);
	CHECK_EQ_STR(r.module, "cfg");
	CHECK_EQ_INT(log_read(3, &r), -ENOENT);
}

TEST(level_filters_records)
{
	struct log_record r;

	quiet(LOG_WARN);
	log_info("main", "dropped");
	log_debug("main", "dropped");
	CHECK_EQ_INT(log_last_seq(), 0);
	log_err("main", "kept");
	CHECK_EQ_INT(log_last_seq(), 1);
	REQUIRE(log_configure(LOG_DEBUG, 0, 0) == 0);
	log_debug("main", "now kept");
	REQUIRE(log_read(2, &r) == 0);
	CHECK_EQ_STR(r.text, "now kept");
}

TEST(ring_overwrites_oldest)
{
	struct log_record r;
	unsigned n = LOG_RING_RECORDS + 5;

	quiet(LOG_INFO);
	for (unsigned i = 1; i <= n; i++)
		log_info("main", "msg %u", i);
	CHECK_EQ_INT(log_last_seq(), n);
	for (unsigned seq = 1; seq <= 5; seq++)
		CHECK_EQ_INT(log_read(seq, &r), -ENOENT);
	REQUIRE(log_read(6, &r) == 0);
	CHECK_EQ_STR(r.text, "msg 6");
	REQUIRE(log_read(n, &r) == 0);
	CHECK_EQ_INT(r.seq, n);
}

TEST(long_text_is_cut_visibly)
{
	char big[LOG_TEXT_MAX * 2];
	struct log_record r;

	quiet(LOG_INFO);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_info("main", "%s", big);
	REQUIRE(log_read(1, &r) == 0);
	CHECK_EQ_INT(strlen(r.text), LOG_TEXT_MAX - 1);
	CHECK_EQ_STR(r.text + LOG_TEXT_MAX - 4, "...");
	/* Exactly fitting text is not marked. */
	big[LOG_TEXT_MAX - 1] = '\0';
	log_info("main", "%s", big);
	REQUIRE(log_read(2, &r) == 0);
	CHECK_EQ_INT(strlen(r.text), LOG_TEXT_MAX - 1);
	CHECK(r.text[LOG_TEXT_MAX - 2] == 'a');
}

TEST(format_is_iso_time_level_module_text)
{
	struct log_record r;
	char line[LOG_LINE_MAX];

	quiet(LOG_INFO);
	hal_sim_clock_set_wall(1767225600123LL); /* 2026-01-01T00:00:00.123Z */
	log_warn("backup", "server %s unreachable", "a");
	REQUIRE(log_read(1, &r) == 0);
	CHECK_EQ_INT(log_format(&r, line, sizeof line),
		     strlen("2026-01-01T00:00:00.123Z WARN backup: server a "
			    "unreachable\n"));
	CHECK_EQ_STR(line,
		     "2026-01-01T00:00:00.123Z WARN backup: server a unreachable\n");
	CHECK_EQ_INT(log_format(&r, line, 10), -ENOSPC);
	CHECK_EQ_STR(line, "");
}

TEST(longest_record_fits_line_max)
{
	char big[LOG_TEXT_MAX * 2], line[LOG_LINE_MAX];
	struct log_record r;

	quiet(LOG_DEBUG);
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_debug("abcdefghijklmnop", "%s", big);
	REQUIRE(log_read(1, &r) == 0);
	CHECK(log_format(&r, line, sizeof line) > 0);
}

TEST(configure_checks_level)
{
	quiet(LOG_INFO);
	CHECK_EQ_INT(log_configure(4, 0, 0), -EINVAL);
	CHECK_EQ_INT(log_configure(-1, 0, 0), -EINVAL);
	CHECK_EQ_STR(log_level_name(LOG_ERR), "err");
	CHECK_EQ_STR(log_level_name(LOG_DEBUG), "debug");
	CHECK_EQ_STR(log_level_name(9), "?");
}

TEST_SUITE(log, records_get_sequence_numbers, level_filters_records,
	   ring_overwrites_oldest, long_text_is_cut_visibly,
	   format_is_iso_time_level_module_text, longest_record_fits_line_max,
	   configure_checks_level)

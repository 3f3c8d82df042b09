/*
 * log_test.c — the RAM ring, levels, cutting and formatting of the log.
 */
#define _POSIX_C_SOURCE 200809L     /* pipe, dup, dup2 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* A record as log_read gives it, for the JSON formatter. */
static struct log_record rec(const char *module, const char *text)
{
	struct log_record r = { .seq = 1, .level = LOG_INFO,
				.wall_ms = 1767225600123LL };

	snprintf(r.module, sizeof r.module, "%s", module);
	snprintf(r.text, sizeof r.text, "%s", text);
	return r;
}

TEST(json_has_fixed_keys_then_fields)
{
	struct log_record r = rec("backup", "stored a");
	char line[LOG_JSON_MAX];
	const char *want = "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"level\":\"info\","
		"\"subsystem\":\"backup\",\"msg\":\"stored a\",\"file\":\"a\","
		"\"bytes\":4294967296,\"code\":-3}\n";

	CHECK_EQ_INT(log_format_json(&r, LOG_KVS(LKV_S("file", "a"),
			LKV_U("bytes", 1ULL << 32), LKV_S("trace", NULL),
			LKV_I("code", -3)), line, sizeof line),
		     strlen(want));
	CHECK_EQ_STR(line, want);
	CHECK_EQ_INT(log_format_json(&r, NULL, 0, line, LOG_JSON_MIN - 1),
		     -ENOSPC);
}

TEST(json_escapes_hostile_bytes)
{
	struct log_record r = rec("b\"k", "q\" b\\ \x01\x1f\x7f \xc3\xa9 "
				  "\xff \xc0\xaf \xed\xa0\x80 \xe2\x82");
	char line[LOG_JSON_MAX];

	REQUIRE(log_format_json(&r, LOG_KVS(LKV_S("file", "\n\t\xf4\x90\x80\x80")),
				line, sizeof line) > 0);
	CHECK(strstr(line, "\"subsystem\":\"b\\\"k\"") != NULL);
	CHECK(strstr(line, "\"msg\":\"q\\\" b\\\\ \\u0001\\u001f\\u007f "
		      "\xc3\xa9 \\ufffd \\ufffd\\ufffd "
		      "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"") != NULL);
	CHECK(strstr(line, "\"file\":\"\\u000a\\u0009\\ufffd\\ufffd\\ufffd"
		      "\\ufffd\"}\n") != NULL);
}

TEST(json_long_fields_are_cut_and_closed)
{
	struct log_record r = rec("backup", "x");
	char big[600], line[LOG_JSON_MIN + 40];
	int n;

	memset(big, '\x01', sizeof big - 1); /* 6 bytes each when escaped */
	big[sizeof big - 1] = '\0';
	n = log_format_json(&r, LOG_KVS(LKV_S("file", big), LKV_U("bytes", 1)),
			    line, sizeof line);
	REQUIRE(n > 0);
	CHECK((size_t)n < sizeof line);
	CHECK_EQ_INT(strlen(line), n);
	CHECK_EQ_STR(line + n - 13, ",\"cut\":true}\n");
	CHECK(strstr(line, "\"bytes\"") == NULL);
	/* the last escape is whole and the string closed */
	CHECK(strstr(line, "\\u0001\",\"cut\"") != NULL);
}

TEST(kv_call_keeps_text_in_ring_and_format_word)
{
	struct log_record r;

	quiet(LOG_INFO);
	log_info_kv("backup", LOG_KVS(LKV_S("file", "f"), LKV_U("bytes", 3)),
		    "stored %s", "f");
	REQUIRE(log_read(1, &r) == 0);
	CHECK_EQ_STR(r.text, "stored f");
	log_debug_kv("backup", LOG_KVS(LKV_U("bytes", 3)), "dropped");
	CHECK_EQ_INT(log_last_seq(), 1);
	CHECK_EQ_INT(log_format_word("json"), LOG_FORMAT_JSON);
	CHECK_EQ_INT(log_format_word("text"), LOG_FORMAT_TEXT);
	CHECK_EQ_INT(log_format_word("xml"), -EINVAL);
	CHECK_EQ_INT(log_set_format(2), -EINVAL);
	CHECK_EQ_INT(log_set_format(LOG_FORMAT_JSON), 0);
	log_info_kv("backup", LOG_KVS(LKV_U("bytes", 3)), "json %d", 1);
	REQUIRE(log_read(2, &r) == 0);
	CHECK_EQ_STR(r.text, "json 1");
	CHECK_EQ_INT(log_set_format(LOG_FORMAT_TEXT), 0);
}

/* Runs one JSON record to stderr into out (a pipe stands in for fd 2). */
static void json_of(char *out, size_t cap, const struct log_kv *kv, size_t n)
{
	int p[2], saved;
	ssize_t got;

	REQUIRE(pipe(p) == 0);
	saved = dup(2);
	REQUIRE(saved >= 0 && dup2(p[1], 2) == 2);
	log_kv(LOG_INFO, "conn", kv, n, "line");
	REQUIRE(dup2(saved, 2) == 2);
	close(saved);
	close(p[1]);
	got = read(p[0], out, cap - 1);
	close(p[0]);
	out[got > 0 ? got : 0] = '\0';
}

/* The context goes on every JSON line until cleared; the call's own
 * pairs win; empty strings are left out, and a value filled in later
 * shows from then on. */
TEST(context_fields_tag_every_json_line)
{
	char trace[8] = "", line[LOG_JSON_MAX];
	struct log_kv ctx[] = { LKV_U("conn", 4), LKV_S("trace", trace) };

	log_reset();
	REQUIRE(log_configure(LOG_INFO, 1, 0) == 0);
	REQUIRE(log_set_format(LOG_FORMAT_JSON) == 0);
	log_ctx_set(ctx, 2);
	json_of(line, sizeof line, NULL, 0);
	CHECK(strstr(line, "\"msg\":\"line\",\"conn\":4}\n") != NULL);
	strcpy(trace, "ab-1");
	json_of(line, sizeof line, LOG_KVS(LKV_U("conn", 9), LKV_U("bytes", 1)));
	CHECK(strstr(line, "\"conn\":9,\"bytes\":1,\"trace\":\"ab-1\"}")
	      != NULL);
	CHECK(strstr(line, "\"conn\":4") == NULL);
	log_ctx_set(NULL, 0);
	json_of(line, sizeof line, NULL, 0);
	CHECK(strstr(line, "\"msg\":\"line\"}\n") != NULL);
	log_reset();
}

TEST_SUITE(log, records_get_sequence_numbers, level_filters_records,
	   ring_overwrites_oldest, long_text_is_cut_visibly,
	   format_is_iso_time_level_module_text, longest_record_fits_line_max,
	   configure_checks_level, json_has_fixed_keys_then_fields,
	   json_escapes_hostile_bytes, json_long_fields_are_cut_and_closed,
	   kv_call_keeps_text_in_ring_and_format_word,
	   context_fields_tag_every_json_line)

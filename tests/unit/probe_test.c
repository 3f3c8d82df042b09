/*
 * probe_test.c — `probe` (firmware/backup/probe.c) against the sim's scripted
 * peers: reachable with its latency, refused, silent (the 0.5 s timeout),
 * exactly one connection attempt each, the one-shot probe_run, and the
 * verdict lines.
 */
#include <errno.h>
#include <string.h>

#include "hal/sim.h"
#include "probe.h"
#include "test.h"

static struct hal_addr server(uint8_t last, int result, uint32_t delay_ms)
{
	struct hal_sim_peer peer;
	struct hal_addr a;
	const uint8_t ip[4] = { 192, 0, 2, last };

	memset(&a, 0, sizeof a);
	a.family = HAL_AF_INET;
	a.port = 4433;
	memcpy(a.ip, ip, sizeof ip);
	if (result <= 0) {
		memset(&peer, 0, sizeof peer);
		peer.addr = a;
		peer.type = HAL_SOCK_STREAM;
		peer.connect_result = result;
		peer.connect_delay_ms = delay_ms;
		if (hal_sim_net_add_peer(&peer) < 0)
			test_fail(__FILE__, __LINE__, "add peer");
	}
	return a;
}

/* Steps every ms from 0 until the verdict (at most 2 s). */
static void settle(struct probe *p)
{
	for (uint64_t t = 1; t < 2000 && p->fd >= 0; t++) {
		hal_sim_clock_advance(1);
		probe_step(p, t);
	}
}

TEST(reachable_with_latency)
{
	struct probe p = PROBE_INIT;
	struct hal_addr a = server(10, 0, 3);
	char line[PROBE_TEXT_MAX];

	REQUIRE(probe_start(&p, &a, 0) == 0);
	CHECK_EQ_INT(probe_start(&p, &a, 0), -EALREADY);
	CHECK_EQ_INT(probe_wait_ms(&p, 0), 500);
	settle(&p);
	CHECK_EQ_INT(p.res.done, 1);
	CHECK_EQ_INT(p.res.reachable, 1);
	CHECK_EQ_INT(p.res.latency_ms, 3);
	CHECK_EQ_INT(hal_sim_net_contacts(&a), 1);
	CHECK(probe_format(&p.res, line, sizeof line) > 0);
	CHECK_EQ_STR(line, "reachable 192.0.2.10:4433 in 3 ms");
}

TEST(refused)
{
	struct probe p = PROBE_INIT;
	struct hal_addr a = server(11, -ECONNREFUSED, 1);
	char line[PROBE_TEXT_MAX];

	REQUIRE(probe_start(&p, &a, 0) >= 0);
	settle(&p);
	CHECK_EQ_INT(p.res.reachable, 0);
	CHECK_EQ_INT(p.res.err, -ECONNREFUSED);
	CHECK_EQ_INT(hal_sim_net_contacts(&a), 1);
	CHECK(probe_format(&p.res, line, sizeof line) > 0);
	CHECK(strncmp(line, "unreachable 192.0.2.11:4433: ", 29) == 0);
}

/* Nobody answers (the sim's unscripted address takes 127 s to fail):
 * the verdict comes at 500 ms, the socket is closed. */
TEST(silent_server_times_out)
{
	struct probe p = PROBE_INIT;
	struct hal_addr a = server(12, 1, 0);

	REQUIRE(probe_start(&p, &a, 0) == 0);
	for (uint64_t t = 1; t < 500; t++) {
		hal_sim_clock_advance(1);
		CHECK_EQ_INT(probe_step(&p, t), 0);
	}
	CHECK_EQ_INT(probe_wait_ms(&p, 499), 1);
	hal_sim_clock_advance(1);
	CHECK_EQ_INT(probe_step(&p, 500), 1);
	CHECK_EQ_INT(p.res.err, -ETIMEDOUT);
	CHECK_EQ_INT(p.res.latency_ms, 500);
	CHECK_EQ_INT(p.fd, -1);
	CHECK_EQ_INT(hal_sim_net_contacts(&a), 1);
}

TEST(one_shot_run_waits_in_poll)
{
	struct probe_result r;
	struct hal_addr a = server(13, 0, 20);
	struct hal_addr b = server(14, 1, 0);

	REQUIRE(probe_run(&a, &r) == 0);
	CHECK_EQ_INT(r.reachable, 1);
	CHECK_EQ_INT(r.latency_ms, 20);
	REQUIRE(probe_run(&b, &r) == 0);
	CHECK_EQ_INT(r.reachable, 0);
	CHECK_EQ_INT(r.err, -ETIMEDOUT);
	CHECK_EQ_INT(r.latency_ms, 500);
	CHECK_EQ_INT(hal_sim_net_contacts(&a) + hal_sim_net_contacts(&b), 2);
}

TEST(bad_arguments_and_cancel)
{
	struct probe p = PROBE_INIT;
	struct hal_addr a;
	char tiny[8];

	memset(&a, 0, sizeof a);
	CHECK_EQ_INT(probe_start(&p, NULL, 0), -EINVAL);
	CHECK_EQ_INT(probe_start(&p, &a, 0), -EINVAL);
	a = server(15, 1, 0);
	REQUIRE(probe_start(&p, &a, 0) == 0);
	probe_cancel(&p);
	CHECK_EQ_INT(p.fd, -1);
	CHECK_EQ_INT(probe_step(&p, 1), 1);
	p.res.reachable = 1;
	CHECK_EQ_INT(probe_format(&p.res, tiny, sizeof tiny), -ENOSPC);
	CHECK_EQ_STR(tiny, "");
}

TEST_SUITE(probe, reachable_with_latency, refused, silent_server_times_out,
	   one_shot_run_waits_in_poll, bad_arguments_and_cancel)

/*
 * coap_server_test.c — firmware/coap/coap_server.c, coap_observe.c,
 * coap_resources.c and status_doc.c on the sim network: datagrams in
 * through hal_sim_net_inject_datagram, the loop runs, answers come back
 * through hal_sim_net_sent_datagram and are parsed with protocol/coap.
 */
#include "coap_server.h"
#include "coap_server_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent.h"
#include "cbor.h"
#include "config.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "health.h"
#include "metrics.h"
#include "status_doc.h"
#include "test.h"
#include "test_util.h"

EV_MEM_DEFINE(cs_mem, 8, 8);
static struct ev_loop loop;
static struct coap_srv srv;
static struct health health;
static struct config cfg;
static struct backup_link blink;
static unsigned reloads;
static struct status_src src;
static int reload_calls;
static struct hal_addr client;
static uint8_t ans[COAP_MAX_MSG + 16];
static struct coap_msg rm;   /* the last answer, parsed */
/* Whether take() answers a ping (an Empty CON) with an RST, as every
 * RFC 7252 client does, before it takes the next answer. */
static bool answer_pings = true;
static unsigned pings_seen;


static int fake_reload(void *arg)
{
	(void)arg; /* hook signature */
	reload_calls++;
	reloads++;
	return 0;
}

static enum health_result pass_check(void *arg, uint64_t now, char *err)
{
	(void)arg; (void)now; (void)err; /* always passes */
	return HEALTH_PASS;
}

static int setup(void)
{
	const struct health_check_def d = { .name = "unit",
		.kind = HEALTH_WANTED, .fn = pass_check, .retries = 1,
		.debounce = 1, .start_period_ms = 1 };
	const struct coap_srv_hooks hooks = { fake_reload, NULL };

	reload_calls = 0;
	reloads = 0;
	memset(&blink, 0, sizeof blink);
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "/");
	health_init(&health, 0);
	if (health_add(&health, &d, 0) != 0 || ev_init(&loop, &cs_mem) != 0)
		return -1;
	src = (struct status_src){ .cfg = &cfg, .health = &health,
		.link = &blink, .reloads = &reloads, .coap = &srv.pub };
	hal_net_addr_parse("127.0.0.2", 40000, &client);
	answer_pings = true;
	pings_seen = 0;
	return coap_srv_start(&srv, &loop, "127.0.0.1:5683", &src, &hooks);
}

static void pump(void)
{
	test_pump(&loop);
}

/* Sends buf from client and runs the loop. */
static void inject(const void *buf, size_t len)
{
	CHECK_EQ_INT(hal_sim_net_inject_datagram(&srv.socks[0].addr, &client,
						 buf, len), 0);
	pump();
}

/* The next answer, parsed into rm.  @retval its length, -EAGAIN none */
static int take(void)
{
	struct hal_addr to;
	int n = hal_sim_net_sent_datagram(srv.socks[0].fd, ans, sizeof ans,
					  &to);

	if (n < 0)
		return n;
	CHECK(coap_addr_eq(&to, &client));
	CHECK(n <= COAP_MAX_MSG);
	coap_recv(&rm, ans, (size_t)n);
	if (n == COAP_HDR_LEN && rm.type == COAP_CON &&
	    rm.code == COAP_CODE_EMPTY) {
		uint8_t rst[COAP_HDR_LEN];

		pings_seen++;
		if (!answer_pings)
			return n;
		CHECK(coap_build_empty(rst, sizeof rst, COAP_RST,
				       rm.mid) == COAP_HDR_LEN);
		inject(rst, sizeof rst);
		return take();
	}
	return n;
}

struct req {
	uint8_t type, code;
	uint16_t mid;
	const char *path;
	int observe;            /* -1: none */
	int block;              /* -1: none, else num */
	uint8_t szx;
	const char *query;
	const uint8_t *body;
	size_t len;
	uint32_t accept;        /* 0: none */
};

static uint8_t rq[COAP_MAX_MSG];

static int mkreq(const struct req *r)
{
	static const uint8_t tok[2] = { 0xbe, 0xef };
	static uint16_t auto_mid = 0xc000;
	struct coap_writer w;

	coap_writer_init(&w, rq, sizeof rq, r->type, r->code,
			 r->mid ? r->mid : auto_mid++, tok, 2);
	if (r->observe >= 0)
		coap_put_uint(&w, COAP_OPT_OBSERVE, (uint32_t)r->observe);
	coap_put_path(&w, r->path);
	if (r->body)
		coap_put_uint(&w, COAP_OPT_CONTENT_FORMAT, COAP_CF_CBOR);
	if (r->query)
		coap_put_query(&w, r->query);
	if (r->accept)
		coap_put_uint(&w, COAP_OPT_ACCEPT, r->accept);
	if (r->block >= 0) {
		struct coap_block b = { (uint32_t)r->block, r->szx, false };

		coap_put_block(&w, COAP_OPT_BLOCK2, &b);
	}
	if (r->body)
		coap_put_payload(&w, r->body, r->len);
	return coap_writer_finish(&w);
}

/* One request, one answer: the answer's code (or -1 for none). */
static int call(const struct req *r)
{
	int n = mkreq(r);

	if (n < 0)
		return -2;
	inject(rq, (size_t)n);
	return take() < 0 ? -1 : rm.code;
}

/* mid 0 in a struct req: the next of a counter, so that calls do not
 * hit the dedup table by accident */
#define GET(p) (&(struct req){ COAP_CON, COAP_GET, 0, p, -1, -1, 0, \
			       NULL, NULL, 0, 0 })

static bool ans_block(struct coap_block *b)
{
	return coap_get_block(&rm, COAP_OPT_BLOCK2, b) == 1;
}

/* GETs path block by block with szx into out; checks that every block
 * has the same ETag.  @retval the length, <0 on a failure */
static int fetch(const char *path, uint8_t szx, uint8_t *out, size_t cap)
{
	/* message ids go on across fetches: a reused one would be answered
	 * from the server's deduplication cache */
	static uint16_t mid = 0x200;
	struct req r = { COAP_CON, COAP_GET, mid, path, -1, 0, szx, NULL,
			 NULL, 0, 0 };
	const uint8_t *tag0 = NULL, *tag;
	uint8_t tagbuf[8];
	size_t len = 0, tl0 = 0, tl;
	struct coap_block b;

	for (uint32_t num = 0; num < 400; num++) {
		r.block = (int)num;
		r.mid = ++mid;
		if (call(&r) != COAP_CODE_CONTENT || !ans_block(&b) ||
		    b.num != num || coap_get_etag(&rm, &tag, &tl) != 1)
			return -1;
		if (!tag0) {
			memcpy(tagbuf, tag, tl);
			tag0 = tagbuf;
			tl0 = tl;
		} else if (tl != tl0 || memcmp(tag, tag0, tl) != 0) {
			return -2;
		}
		if (rm.payload_len > cap - len)
			return -3;
		memcpy(out + len, rm.payload, rm.payload_len);
		len += rm.payload_len;
		if (!b.more)
			return (int)len;
		if (rm.payload_len != COAP_BLOCK_SIZE(b.szx))
			return -4;
	}
	return -5;
}

/* Walks a whole CBOR item; @retval 1 when buf is exactly one
 * well-formed map that has a text key `key`. */
static int cbor_map_has(const uint8_t *buf, size_t len, const char *key)
{
	struct cbor_dec d;
	struct cbor_item it;
	int found = 0, r;

	cbor_dec_init(&d, buf, len, CBOR_DEC_UTF8);
	if (cbor_dec_peek(&d, &it) != 1 || it.type != CBOR_MAP)
		return 0;
	while ((r = cbor_dec_next(&d, &it)) == 1)
		if (it.depth == 1 && it.type == CBOR_TEXT &&
		    (it.flags & CBOR_KEY) && it.len == strlen(key) &&
		    memcmp(it.ptr, key, it.len) == 0)
			found = 1;
	return r == 0 && found;
}

TEST(parse_listen)
{
	struct hal_addr a[4];

	CHECK_EQ_INT(coap_srv_parse_listen("127.0.0.1:5683,[::1]:5683", a, 4),
		     2);
	CHECK_EQ_INT(a[0].family, HAL_AF_INET);
	CHECK_EQ_INT(a[1].family, HAL_AF_INET6);
	CHECK_EQ_INT(a[1].port, 5683);
	CHECK_EQ_INT(coap_srv_parse_listen(" 0.0.0.0:0 , [::]:1 ", a, 4), 2);
	CHECK_EQ_INT(coap_srv_parse_listen("none", a, 4), 0);
	CHECK_EQ_INT(coap_srv_parse_listen("", a, 4), 0);
	CHECK_EQ_INT(coap_srv_parse_listen("::1:5683", a, 4), -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("localhost:5683", a, 4), -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("1.2.3.4:65536", a, 4), -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("1.2.3.4:", a, 4), -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("1.2.3.4:1,", a, 4), -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("1.2.3.4:1,,1.2.3.4:2", a, 4),
		     -EINVAL);
	CHECK_EQ_INT(coap_srv_parse_listen("1.1.1.1:1,1.1.1.1:2", a, 1),
		     -EINVAL);
}

TEST(status_doc_encodes_every_part)
{
	static uint8_t buf[STATUS_DOC_MAX];
	int n;

	REQUIRE(setup() == 1);
	n = status_doc_encode(&src, STATUS_ALL, 5000, 1700000000000, buf,
			      sizeof buf);
	REQUIRE(n > 0);
	CHECK(cbor_map_has(buf, (size_t)n, "schema"));
	CHECK(cbor_map_has(buf, (size_t)n, "network"));
	n = status_doc_encode(&src, STATUS_HEALTH, 5000, 0, buf, sizeof buf);
	CHECK(n > 0 && cbor_map_has(buf, (size_t)n, "overall"));
	n = status_doc_encode(&src, STATUS_BACKUP, 5000, 0, buf, sizeof buf);
	CHECK(n > 0 && cbor_map_has(buf, (size_t)n, "jobs"));
	n = status_doc_encode(&src, STATUS_CONNS, 5000, 0, buf, sizeof buf);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(buf[0], 0x80);
	CHECK_EQ_INT(status_doc_encode(&src, STATUS_ALL, 0, 0, buf, 100),
		     -ENOSPC);
	CHECK_EQ_INT(status_doc_encode(&src, STATUS_PART_COUNT, 0, 0, buf,
				       sizeof buf), -EINVAL);
	CHECK_EQ_INT(status_doc_encode(NULL, STATUS_ALL, 0, 0, buf,
				       sizeof buf), -EINVAL);
	coap_srv_stop(&srv);
}

/* Every histogram with counts that take 5 bytes each, a sum of 9, and
 * HEALTH_CHECKS_MAX checks with the longest names: /metrics still fits
 * STATUS_DOC_MAX (the per-check histograms are its largest part). */
static void fill_counts(struct metric_counts *c)
{
	memset(c, 0, sizeof *c);
	c->count = 0x7fffffffu;
	c->sum = 1ull << 40;
	c->bucket[0] = 0x7fffffffu;     /* cumulative: 5 bytes each */
}

TEST(metrics_worst_case_fits)
{
	static uint8_t buf[STATUS_DOC_MAX];
	char name[HEALTH_NAME_MAX];
	int n;

	REQUIRE(setup() == 1);
	for (unsigned i = health.nchecks; i < HEALTH_CHECKS_MAX; i++) {
		struct health_check_def d = { .name = name, .kind =
			HEALTH_WANTED, .fn = pass_check };

		snprintf(name, sizeof name, "check-%09u", i);
		REQUIRE(health_add(&health, &d, 0) == (int)i);
	}
	for (unsigned i = 0; i < health.nchecks; i++)
		fill_counts(&health.checks[i].ms);
	for (enum metric m = 0; m < M_AGENT_END; m++)
		fill_counts((struct metric_counts *)metric_get(m));
	n = status_doc_encode(&src, STATUS_METRICS, 5000, 0, buf, sizeof buf);
	printf("# /metrics worst case: %d of %d bytes\n", n, STATUS_DOC_MAX);
	CHECK(n > 0 && n <= STATUS_DOC_MAX);
	n = status_doc_encode(&src, STATUS_ALL, 5000, 0, buf, sizeof buf);
	CHECK(n > 0 && cbor_map_has(buf, (size_t)n, "metrics"));
	metrics_reset();
	coap_srv_stop(&srv);
}

TEST(change_key_follows_state_not_clocks)
{
	uint32_t k, h;

	REQUIRE(setup() == 1);
	k = status_doc_change_key(&src, STATUS_ALL);
	h = status_doc_change_key(&src, STATUS_HEALTH);
	hal_sim_clock_advance(5000);
	CHECK_EQ_INT(status_doc_change_key(&src, STATUS_ALL), k);
	reloads++;
	CHECK(status_doc_change_key(&src, STATUS_ALL) != k);
	CHECK_EQ_INT(status_doc_change_key(&src, STATUS_HEALTH), h);
	health_record(&health, 0, HEALTH_PASS, "", 10);
	CHECK(status_doc_change_key(&src, STATUS_HEALTH) != h);
	blink.state = BACKUP_LINK_UP;
	CHECK_EQ_STR(status_backup_state(&blink), "connected");
	CHECK_EQ_STR(status_backup_state(NULL), "offline");
	coap_srv_stop(&srv);
}

/* A running job's bytes change the key every 4 MiB, not every slice:
 * observers are notified of progress, not of each 64 KiB. */
TEST(change_key_counts_job_bytes_in_steps)
{
	static struct backup_status st;
	uint32_t k;

	REQUIRE(setup() == 1);
	st.jobs[0].id = 1;
	st.jobs[0].state = BACKUP_JOB_RUNNING;
	src.backup = &st;
	k = status_doc_change_key(&src, STATUS_BACKUP);
	st.jobs[0].bytes_done = (4u << 20) - 65536u;
	CHECK_EQ_INT(status_doc_change_key(&src, STATUS_BACKUP), k);
	st.jobs[0].bytes_done = 4u << 20;
	CHECK(status_doc_change_key(&src, STATUS_BACKUP) != k);
	k = status_doc_change_key(&src, STATUS_BACKUP);
	st.jobs[0].files_done = 1;      /* a file done is a change at once */
	CHECK(status_doc_change_key(&src, STATUS_BACKUP) != k);
	src.backup = NULL;
	coap_srv_stop(&srv);
}

TEST(get_status_block2_sequence)
{
	static uint8_t doc[STATUS_DOC_MAX], doc2[STATUS_DOC_MAX];
	struct coap_block b;
	uint32_t v;
	int n, n2;

	REQUIRE(setup() == 1);
	n = fetch("/status", 2, doc, sizeof doc);
	REQUIRE(n > 64);
	CHECK(cbor_map_has(doc, (size_t)n, "health"));
	/* block 0 carries Size2 = the whole length, Max-Age and CF 60 */
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_GET, 0x300,
		"/status", -1, 0, 6, NULL, NULL, 0, 0 }), COAP_CODE_CONTENT);
	CHECK(coap_get_uint(&rm, COAP_OPT_SIZE2, &v) == 1 && v == (uint32_t)n);
	CHECK(coap_get_uint(&rm, COAP_OPT_CONTENT_FORMAT, &v) == 1 &&
	      v == COAP_CF_CBOR);
	CHECK_EQ_INT(coap_get_max_age(&rm), COAP_SRV_MAX_AGE_S);
	CHECK(ans_block(&b) && b.szx == 6);
	/* the same snapshot with 1024-byte blocks */
	n2 = fetch("/status", 6, doc2, sizeof doc2);
	CHECK_EQ_INT(n2, n);
	CHECK(n2 == n && memcmp(doc, doc2, (size_t)n) == 0);
	/* a block past the end: 4.02 */
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_GET, 0x301,
		"/status", -1, 1000, 0, NULL, NULL, 0, 0 }),
		COAP_CODE_BAD_OPTION);
	coap_srv_stop(&srv);
}

TEST(amplification_limit_without_block2)
{
	struct coap_block b;
	int q, n;

	REQUIRE(setup() == 1);
	coap_srv_configure(&srv, false, COAP_AMP_LIMIT);
	q = mkreq(GET("/status"));
	REQUIRE(q > 0);
	inject(rq, (size_t)q);
	n = take();
	REQUIRE(n > 0);
	CHECK_EQ_INT(rm.code, COAP_CODE_CONTENT);
	CHECK(n <= COAP_SRV_AMP_FLOOR);
	CHECK((size_t)q * COAP_SRV_AMP_FACTOR < COAP_SRV_AMP_FLOOR);
	/* the floor: one 64-byte block, not 16 */
	CHECK(ans_block(&b) && b.num == 0 && b.more && b.szx == 2);
	/* a Block2 request no longer negotiates its way past the limit */
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_GET, 0,
		"/status", -1, 0, 6, NULL, NULL, 0, 0 }), COAP_CODE_CONTENT);
	CHECK(ans_block(&b) && b.szx == 2 && b.num == 0);
	/* a 4.04 diagnostic fits the floor whole */
	q = mkreq(GET("/x"));
	inject(rq, (size_t)q);
	n = take();
	CHECK_EQ_INT(rm.code, COAP_CODE_NOT_FOUND);
	CHECK(n <= COAP_SRV_AMP_FLOOR);
	CHECK(rm.payload_len == strlen("no such resource"));
	CHECK_EQ_INT(pings_seen, 0);
	/* /.well-known/core: link format, block-wise from a short request */
	CHECK_EQ_INT(call(GET("/.well-known/core")), COAP_CODE_CONTENT);
	CHECK(ans_block(&b) && b.more);
	coap_srv_stop(&srv);
}

TEST(well_known_core_lists_resources)
{
	static uint8_t body[1024];
	int n;

	REQUIRE(setup() == 1);
	n = fetch("/.well-known/core", 6, body, sizeof body - 1);
	REQUIRE(n > 0);
	body[n] = 0;
	CHECK(strstr((char *)body, "</status>;rt=\"vigil.status\";ct=60;obs")
	      != NULL);
	CHECK(strstr((char *)body, "</reload>") != NULL);
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_GET, 0x400,
		"/.well-known/core", -1, 0, 6, "rt=vigil.health", NULL, 0,
		0 }), COAP_CODE_CONTENT);
	CHECK_EQ_INT(rm.payload_len,
		     strlen("</health>;rt=\"vigil.health\";ct=60;obs"));
	coap_srv_stop(&srv);
}

TEST(dedup_replays_cached_answer)
{
	static uint8_t first[COAP_MAX_MSG];
	struct req post = { COAP_CON, COAP_POST, 0x500, "/reload", -1, -1, 0,
			    NULL, NULL, 0, 0 };
	int n1, n2, q;

	REQUIRE(setup() == 1);
	q = mkreq(GET("/status"));
	inject(rq, (size_t)q);
	n1 = take();
	REQUIRE(n1 > 0);
	memcpy(first, ans, (size_t)n1);
	CHECK_EQ_INT(rm.type, COAP_ACK);
	CHECK_EQ_INT(rm.mid, ans[2] << 8 | ans[3]);
	CHECK_EQ_INT(rm.mid, rq[2] << 8 | rq[3]);
	hal_sim_clock_advance(3000);  /* the client's retransmission */
	inject(rq, (size_t)q);
	n2 = take();
	CHECK_EQ_INT(n2, n1);
	CHECK(n2 == n1 && memcmp(first, ans, (size_t)n1) == 0);
	CHECK_EQ_INT(srv.stats.duplicates, 1);
	CHECK_EQ_INT(srv.stats.requests, 1);
	/* a POST repeated: the action runs once */
	coap_srv_configure(&srv, true, COAP_AMP_ECHO);
	CHECK_EQ_INT(call(&post), COAP_CODE_CHANGED);
	CHECK_EQ_INT(call(&post), COAP_CODE_CHANGED);
	CHECK_EQ_INT(reload_calls, 1);
	/* after EXCHANGE_LIFETIME the same id is a new request */
	hal_sim_clock_advance(COAP_EXCHANGE_LIFETIME_MS);
	CHECK_EQ_INT(call(&post), COAP_CODE_CHANGED);
	CHECK_EQ_INT(reload_calls, 2);
	/* the table is bounded: many exchanges, all answered */
	for (unsigned i = 0; i < 3 * COAP_SRV_DEDUP_MAX; i++) {
		struct req g = *GET("/health");

		g.mid = (uint16_t)(0x600 + i);
		CHECK_EQ_INT(call(&g), COAP_CODE_CONTENT);
	}
	coap_srv_stop(&srv);
}

/* Queues a request from client without running the loop. */
static void queue_req(const struct req *r)
{
	int n = mkreq(r);

	REQUIRE(n > 0);
	CHECK_EQ_INT(hal_sim_net_inject_datagram(&srv.socks[0].addr, &client,
						 rq, (size_t)n), 0);
}

/* More datagrams than one readable burst takes: every one answered, in
 * the order asked (the answers of a burst go out together at its end). */
TEST(burst_answers_all_in_order)
{
	struct req g = *GET("/status");
	const unsigned n = COAP_SRV_RX_BURST + 5;

	REQUIRE(setup() == 1);
	coap_srv_configure(&srv, false, COAP_AMP_OFF);
	g.block = 0;
	g.szx = 6;
	for (unsigned i = 0; i < n; i++) {
		g.mid = (uint16_t)(0x700 + i);
		queue_req(&g);
	}
	pump();
	for (unsigned i = 0; i < n; i++) {
		CHECK(take() > 0);
		CHECK_EQ_INT(rm.mid, 0x700 + i);
		CHECK_EQ_INT(rm.code, COAP_CODE_CONTENT);
	}
	CHECK_EQ_INT(take(), -EAGAIN);
	CHECK_EQ_INT(srv.stats.requests, n);
	coap_srv_stop(&srv);
}

/* GET, POST /reload, GET in one burst: the burst keeps the change key
 * only until a request that is not a GET, so the second GET is rendered
 * from the reloaded state (a new ETag). */
TEST(burst_get_after_post_is_fresh)
{
	struct req g = *GET("/status");
	struct req post = { COAP_CON, COAP_POST, 0x801, "/reload", -1, -1, 0,
			    NULL, NULL, 0, 0 };
	const uint8_t *tag;
	uint8_t tag0[8];
	size_t tl, tl0 = 0;

	REQUIRE(setup() == 1);
	coap_srv_configure(&srv, true, COAP_AMP_OFF);
	g.block = 0;
	g.szx = 6;
	g.mid = 0x800;
	queue_req(&g);
	queue_req(&post);
	g.mid = 0x802;
	queue_req(&g);
	pump();
	CHECK(take() > 0 && rm.mid == 0x800 && rm.code == COAP_CODE_CONTENT);
	if (coap_get_etag(&rm, &tag, &tl) == 1 && tl <= sizeof tag0) {
		memcpy(tag0, tag, tl);
		tl0 = tl;
	}
	CHECK(tl0 > 0);
	CHECK(take() > 0 && rm.mid == 0x801 && rm.code == COAP_CODE_CHANGED);
	CHECK_EQ_INT(reload_calls, 1);
	CHECK(take() > 0 && rm.mid == 0x802 && rm.code == COAP_CODE_CONTENT);
	CHECK(coap_get_etag(&rm, &tag, &tl) == 1);
	CHECK(tl != tl0 || memcmp(tag, tag0, tl) != 0);
	coap_srv_stop(&srv);
}

TEST(malformed_get_rst_or_silence)
{
	static const uint8_t ping[] = { 0x40, 0x00, 0x12, 0x34 };
	static const uint8_t tkl9[] = { 0x49, 0x01, 0x22, 0x22, 1, 2, 3, 4,
					5, 6, 7, 8, 9 };
	static const uint8_t badopt[] = { 0x40, 0x01, 0x33, 0x33, 0xf1 };
	static const uint8_t cut[] = { 0x40, 0x01, 0x44 };
	static const uint8_t v2[] = { 0x80, 0x01, 0x55, 0x55 };
	static const uint8_t crit[] = { 0x40, 0x01, 0x66, 0x66, 0xd1, 0x00,
					0x01 };  /* option 13+0+... = 13 */
	static uint8_t big[COAP_MAX_MSG + 8];

	REQUIRE(setup() == 1);
	inject(ping, sizeof ping);
	REQUIRE(take() == 4);
	CHECK_EQ_INT(rm.type, COAP_RST);
	CHECK_EQ_INT(rm.mid, 0x1234);
	inject(tkl9, sizeof tkl9);
	REQUIRE(take() == 4);
	CHECK_EQ_INT(rm.type, COAP_RST);
	CHECK_EQ_INT(rm.mid, 0x2222);
	inject(badopt, sizeof badopt);
	REQUIRE(take() == 4);
	CHECK_EQ_INT(rm.mid, 0x3333);
	inject(cut, sizeof cut);
	CHECK_EQ_INT(take(), -EAGAIN);
	inject(v2, sizeof v2);
	CHECK_EQ_INT(take(), -EAGAIN);
	inject(crit, sizeof crit);
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.code, COAP_CODE_BAD_OPTION);
	CHECK_EQ_INT(rm.mid, 0x6666);
	memset(big, 0, sizeof big);
	big[0] = 0x40;
	big[1] = 0x01;
	inject(big, sizeof big);   /* oversized: dropped */
	CHECK_EQ_INT(take(), -EAGAIN);
	/* and the server still answers */
	CHECK_EQ_INT(call(GET("/health")), COAP_CODE_CONTENT);
	CHECK(srv.stats.ignored >= 3);
	coap_srv_stop(&srv);
}

TEST(error_codes)
{
	static const uint8_t all[] = { 0xa2, 0x63, 'j', 'o', 'b', 0x63, 'a',
		'l', 'l', 0x66, 'r', 'e', 'a', 's', 'o', 'n', 0x61, 'x' };
	static const uint8_t job7[] = { 0xa1, 0x63, 'j', 'o', 'b', 0x07 };
	static const uint8_t bad[] = { 0xa1, 0x63, 'j', 'o', 'x', 0x07 };
	static const uint8_t junk[] = { 0xff, 0x00 };
	struct req r = { COAP_CON, COAP_POST, 0x700, "/reload", -1, -1, 0,
			 NULL, NULL, 0, 0 };

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(GET("/nope")), COAP_CODE_NOT_FOUND);
	CHECK_EQ_INT(call(GET("/status/x")), COAP_CODE_NOT_FOUND);
	CHECK_EQ_INT(call(GET("/reload")), COAP_CODE_METHOD_NOT_ALLOWED);
	r.path = "/status";
	CHECK_EQ_INT(call(&r), COAP_CODE_METHOD_NOT_ALLOWED);
	r.path = "/reload"; r.mid++;
	r.code = COAP_PUT;
	CHECK_EQ_INT(call(&r), COAP_CODE_METHOD_NOT_ALLOWED);
	r.code = COAP_POST; r.mid++;
	CHECK_EQ_INT(call(&r), COAP_CODE_UNAUTHORIZED);
	CHECK_EQ_INT(reload_calls, 0);
	r.path = "/backup/cancel"; r.mid++; r.body = all; r.len = sizeof all;
	CHECK_EQ_INT(call(&r), COAP_CODE_UNAUTHORIZED);
	coap_srv_configure(&srv, true, COAP_AMP_ECHO);
	r.mid++;
	CHECK_EQ_INT(call(&r), COAP_CODE_CHANGED);
	CHECK(rm.payload_len > 0 && rm.payload[0] == 0xa1);
	r.mid++; r.body = job7; r.len = sizeof job7;
	CHECK_EQ_INT(call(&r), COAP_CODE_NOT_FOUND);
	r.mid++; r.body = bad; r.len = sizeof bad;
	CHECK_EQ_INT(call(&r), COAP_CODE_BAD_REQUEST);
	CHECK(rm.payload_len > 0);   /* a diagnostic */
	r.mid++; r.body = junk; r.len = sizeof junk;
	CHECK_EQ_INT(call(&r), COAP_CODE_BAD_REQUEST);
	r.mid++; r.path = "/backup"; r.body = NULL; r.len = 0;
	CHECK_EQ_INT(call(&r), COAP_CODE_NOT_IMPLEMENTED);
	r.mid++; r.path = "/probe";
	CHECK_EQ_INT(call(&r), COAP_CODE_NOT_IMPLEMENTED);
	r.mid++; r.path = "/reload";
	CHECK_EQ_INT(call(&r), COAP_CODE_CHANGED);
	CHECK_EQ_INT(reload_calls, 1);
	r.mid++; r.body = junk; r.len = sizeof junk;
	CHECK_EQ_INT(call(&r), COAP_CODE_BAD_REQUEST);
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_GET, 0x7ff,
		"/status", -1, -1, 0, NULL, NULL, 0, COAP_CF_JSON }),
		COAP_CODE_NOT_ACCEPTABLE);
	/* NON request: NON answer with a fresh message id */
	CHECK_EQ_INT(call(&(struct req){ COAP_NON, COAP_GET, 0x7fe,
		"/conns", -1, -1, 0, NULL, NULL, 0, 0 }), COAP_CODE_CONTENT);
	CHECK_EQ_INT(rm.type, COAP_NON);
	CHECK_EQ_INT(rm.payload_len, 1);
	coap_srv_stop(&srv);
}

static uint32_t ans_observe(void)
{
	uint32_t v = 0xffffffffu;

	coap_get_observe(&rm, &v);
	return v;
}

/* What the agent's after-pass hook does after the pass that changed
 * state: the server does not poll for changes, its tick sleeps until a
 * refresh or retransmission is due. */
static void changed(void)
{
	coap_srv_changed(&srv, hal_clock_mono_ms());
}

/* Makes the unit check change state (starting -> healthy/degraded). */
static void flip_health(enum health_result r)
{
	uint64_t now = hal_clock_mono_ms();

	health_record(&health, 0, r, r == HEALTH_PASS ? "" : "x", now);
}

TEST(observe_register_notify_deregister)
{
	struct req reg = { COAP_CON, COAP_GET, 0x800, "/health", 0, -1, 0,
			   NULL, NULL, 0, 0 };
	uint8_t ack[4];
	uint32_t s0, s1, s2;
	uint16_t mid;

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	s0 = ans_observe();
	CHECK(s0 <= COAP_OBSERVE_SEQ_MASK);
	CHECK_EQ_INT(coap_srv_observers(&srv), 1);
	/* no change: no notification */
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	pump();
	CHECK_EQ_INT(take(), -EAGAIN);
	/* a change: a NON notification with a newer sequence number */
	flip_health(HEALTH_PASS);
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.type, COAP_NON);
	CHECK_EQ_INT(rm.code, COAP_CODE_CONTENT);
	CHECK_EQ_INT(rm.tkl, 2);
	s1 = ans_observe();
	CHECK(coap_observe_is_newer(s0, 0, s1, 0));
	/* the next one is CON (the NON drew no answer); ACK it */
	flip_health(HEALTH_WARN);
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.type, COAP_CON);
	s2 = ans_observe();
	CHECK(coap_observe_is_newer(s1, 0, s2, 0));
	mid = rm.mid;
	coap_build_empty(ack, sizeof ack, COAP_ACK, mid);
	inject(ack, sizeof ack);
	CHECK_EQ_INT(take(), -EAGAIN);
	CHECK(!srv.obs[0].con_pending);
	/* deregister with Observe 1: plain answer, no more observer */
	reg.observe = 1;
	reg.mid++;
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK_EQ_INT(ans_observe(), 0xffffffffu);
	CHECK_EQ_INT(coap_srv_observers(&srv), 0);
	coap_srv_stop(&srv);
}

static void after_pass(struct ev_loop *l, void *arg)
{
	(void)l; (void)arg; /* the server is the file's */
	coap_srv_changed(&srv, hal_clock_mono_ms());
}

static int64_t change_health(struct ev_loop *l, void *arg)
{
	(void)l; (void)arg; /* a subsystem's callback changing state */
	flip_health(HEALTH_PASS);
	return EV_STOP;
}

/* A change made by any loop callback reaches the observer in the same
 * pass, through the after-pass hook, with no time passing. */
TEST(observe_notifies_in_the_pass_of_the_change)
{
	struct req reg = { COAP_CON, COAP_GET, 0x880, "/health", 0, -1, 0,
			   NULL, NULL, 0, 0 };
	uint64_t t0;

	REQUIRE(setup() == 1);
	ev_set_after(&loop, after_pass, NULL);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK_EQ_INT(coap_srv_observers(&srv), 1);
	t0 = hal_clock_mono_ms();
	coap_srv_changed(&srv, t0);  /* nothing changed: nothing sent */
	CHECK_EQ_INT(take(), -EAGAIN);
	REQUIRE(ev_timer_add(&loop, 0, change_health, NULL) >= 0);
	CHECK_EQ_INT(ev_run_once(&loop, 0), 1);
	CHECK_EQ_INT((int)(hal_clock_mono_ms() - t0), 0);
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.code, COAP_CODE_CONTENT);
	CHECK(ans_observe() > 0);
	coap_srv_stop(&srv);
}

TEST(observe_dropped_on_rst_and_failed_con)
{
	struct req reg = { COAP_CON, COAP_GET, 0x900, "/status", 0, -1, 0,
			   NULL, NULL, 0, 0 };
	uint8_t rst[4];
	int sent = 0;

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK(ans_observe() <= COAP_OBSERVE_SEQ_MASK);
	reloads++;                       /* a change of /status */
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.type, COAP_NON);
	coap_build_empty(rst, sizeof rst, COAP_RST, rm.mid);
	inject(rst, sizeof rst);
	CHECK_EQ_INT(coap_srv_observers(&srv), 0);
	/* again, and this time nobody answers the CON */
	reg.mid++;
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	reloads++;
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);             /* NON */
	reloads++;
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);             /* CON */
	CHECK_EQ_INT(rm.type, COAP_CON);
	for (int i = 0; i < 200 && coap_srv_observers(&srv); i++) {
		hal_sim_clock_advance(COAP_SRV_TICK_MS);
		pump();
		while (take() > 0) {
			CHECK_EQ_INT(rm.type, COAP_CON);
			sent++;
		}
	}
	CHECK_EQ_INT(sent, COAP_MAX_RETRANSMIT);
	CHECK_EQ_INT(coap_srv_observers(&srv), 0);
	coap_srv_stop(&srv);
}

TEST(observe_refresh_and_capacity)
{
	struct req reg = { COAP_NON, COAP_GET, 0xa00, "/health", 0, -1, 0,
			   NULL, NULL, 0, 0 };
	int n = 0;

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < COAP_SRV_OBS_MAX + 2; i++) {
		client.port = (uint16_t)(41000 + i);
		reg.mid++;
		CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
		if (ans_observe() <= COAP_OBSERVE_SEQ_MASK)
			n++;
	}
	CHECK_EQ_INT(n, COAP_SRV_OBS_MAX);
	CHECK_EQ_INT(coap_srv_observers(&srv), COAP_SRV_OBS_MAX);
	/* nothing changes: a refresh before Max-Age runs out */
	hal_sim_clock_advance(COAP_SRV_MAX_AGE_S * 1000u -
			      COAP_SRV_REFRESH_EARLY_MS);
	pump();
	n = 0;
	while (hal_sim_net_sent_datagram(srv.socks[0].fd, ans, sizeof ans,
					 NULL) > 0)
		n++;
	CHECK_EQ_INT(n, COAP_SRV_OBS_MAX);
	coap_srv_stop(&srv);
}

/* Idle with an observer, the tick sleeps until the refresh is due (one
 * wakeup per refresh, not one a second), and without one as long as it
 * may; a step before the refresh nothing is sent. */
TEST(idle_tick_sleeps_until_the_refresh)
{
	struct req reg = { COAP_NON, COAP_GET, 0xa80, "/health", 0, -1, 0,
			   NULL, NULL, 0, 0 };
	const uint32_t refresh = COAP_SRV_MAX_AGE_S * 1000u -
				 COAP_SRV_REFRESH_EARLY_MS;

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(coap_srv_tick(&srv, hal_clock_mono_ms()),
		     COAP_SRV_IDLE_MS);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK_EQ_INT(coap_srv_tick(&srv, hal_clock_mono_ms()), refresh);
	hal_sim_clock_advance(refresh - 1);
	CHECK_EQ_INT(coap_srv_tick(&srv, hal_clock_mono_ms()), 1);
	CHECK_EQ_INT(take(), -EAGAIN);
	coap_srv_stop(&srv);
}

TEST(observe_blockwise_notification)
{
	struct req reg = { COAP_CON, COAP_GET, 0xb00, "/status", 0, 0, 1,
			   NULL, NULL, 0, 0 };
	struct coap_block b;

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK(ans_block(&b) && b.szx == 1 && b.more);
	CHECK(ans_observe() <= COAP_OBSERVE_SEQ_MASK);
	reloads++;
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);
	CHECK(ans_block(&b) && b.num == 0 && b.szx == 1 && b.more);
	CHECK_EQ_INT(rm.payload_len, 32);
	coap_srv_stop(&srv);
}

/* ---- address verification (coap_verify.c) ---- */

/* The next datagram sent, to anyone: its length (rm parsed), or <0. */
static int take_any(struct hal_addr *to)
{
	int n = hal_sim_net_sent_datagram(srv.socks[0].fd, ans, sizeof ans,
					  to);

	if (n > 0)
		coap_recv(&rm, ans, (size_t)n);
	return n;
}

/* A full-size answer: the whole document (the sim's is < 1024 bytes)
 * or a 1024-byte block. */
static bool full_size(void)
{
	struct coap_block b;

	return rm.code == COAP_CODE_CONTENT && rm.payload_len > 64 &&
	       (!ans_block(&b) || b.szx == 6);
}

static bool is_ping(int n)
{
	return n == COAP_HDR_LEN && rm.type == COAP_CON &&
	       rm.code == COAP_CODE_EMPTY;
}

TEST(verify_by_ping_then_full_blocks)
{
	uint16_t ping;
	uint8_t rst[COAP_HDR_LEN];

	REQUIRE(setup() == 1);
	answer_pings = false;
	CHECK(!coap_srv_verified(&srv, &client, hal_clock_mono_ms()));
	inject(rq, (size_t)mkreq(GET("/status")));
	REQUIRE(is_ping(take()));
	ping = rm.mid;
	CHECK_EQ_INT(take(), -EAGAIN);          /* held */
	/* another request meanwhile: 4.01 + Echo (one held per address) */
	inject(rq, (size_t)mkreq(GET("/status")));
	CHECK(take() > 0 && rm.code == COAP_CODE_UNAUTHORIZED);
	coap_build_empty(rst, sizeof rst, COAP_RST, ping);
	inject(rst, sizeof rst);
	REQUIRE(take() > 0);
	CHECK(full_size());
	CHECK(coap_srv_verified(&srv, &client, hal_clock_mono_ms()));
	/* verified: the next read is full size at once */
	CHECK_EQ_INT(call(GET("/status")), COAP_CODE_CONTENT);
	CHECK(full_size());
	CHECK_EQ_INT(pings_seen, 1);
	/* ...for a bounded time, not extended by use */
	hal_sim_clock_advance(COAP_SRV_VERIFIED_MS);
	CHECK(!coap_srv_verified(&srv, &client, hal_clock_mono_ms()));
	answer_pings = true;
	CHECK_EQ_INT(call(GET("/status")), COAP_CODE_CONTENT);
	CHECK_EQ_INT(pings_seen, 2);
	/* a small answer needs no proof */
	hal_sim_clock_advance(COAP_SRV_VERIFIED_MS);
	CHECK_EQ_INT(call(GET("/nothing")), COAP_CODE_NOT_FOUND);
	CHECK_EQ_INT(pings_seen, 2);
	coap_srv_stop(&srv);
}

TEST(unanswered_or_wrong_ping_gets_the_limited_answer)
{
	struct coap_block b;
	uint16_t ping;
	uint8_t rst[COAP_HDR_LEN];
	int q, n;

	REQUIRE(setup() == 1);
	answer_pings = false;
	q = mkreq(GET("/status"));
	inject(rq, (size_t)q);
	REQUIRE(is_ping(take()));
	ping = rm.mid;
	inject(rq, (size_t)q);                  /* a retransmission */
	CHECK_EQ_INT(take(), -EAGAIN);
	hal_sim_clock_advance(COAP_SRV_PING_EVERY_MS);
	pump();
	CHECK(is_ping(take()) && rm.mid == ping); /* the ping again */
	hal_sim_clock_advance(COAP_SRV_PING_WAIT_MS - COAP_SRV_PING_EVERY_MS);
	pump();
	n = take();
	REQUIRE(n > 0);
	CHECK_EQ_INT(rm.code, COAP_CODE_CONTENT);
	CHECK(n <= COAP_SRV_AMP_FLOOR);
	CHECK(ans_block(&b) && b.szx == 2);
	inject(rq, (size_t)q);                  /* now from the dedup table */
	CHECK_EQ_INT(take(), n);
	/* an RST with another id ends the wait: limited, not verified */
	inject(rq, (size_t)mkreq(GET("/status")));
	REQUIRE(is_ping(take()));
	coap_build_empty(rst, sizeof rst, COAP_RST, (uint16_t)(rm.mid + 1));
	inject(rst, sizeof rst);
	n = take();
	CHECK(n > 0 && n <= COAP_SRV_AMP_FLOOR);
	CHECK(!coap_srv_verified(&srv, &client, hal_clock_mono_ms()));
	coap_srv_stop(&srv);
}

TEST(echo_when_no_slot_is_free)
{
	const struct coap_opt *e;
	uint8_t echo[COAP_SRV_ECHO_LEN];
	struct coap_writer w;

	uint16_t base = client.port;
	int n;

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < COAP_SRV_PENDING_MAX; i++) {
		client.port = (uint16_t)(base + 1 + i);
		inject(rq, (size_t)mkreq(GET("/status")));
		REQUIRE(is_ping(take_any(NULL)));
	}
	client.port = base;
	inject(rq, (size_t)mkreq(GET("/status")));
	n = take_any(NULL);
	CHECK(n > 0 && n <= COAP_SRV_AMP_FLOOR);
	CHECK_EQ_INT(rm.code, COAP_CODE_UNAUTHORIZED);
	e = coap_opt_get(&rm, COAP_OPT_ECHO);
	REQUIRE(e && e->len == COAP_SRV_ECHO_LEN);
	memcpy(echo, e->val, sizeof echo);
	CHECK(coap_echo_valid(&srv, &client, echo, sizeof echo,
			      hal_clock_mono_ms()));
	/* bound to the address, the time and the key */
	client.port++;
	CHECK(!coap_echo_valid(&srv, &client, echo, sizeof echo,
			       hal_clock_mono_ms()));
	client.port--;
	CHECK(!coap_echo_valid(&srv, &client, echo, sizeof echo,
			       hal_clock_mono_ms() +
			       (COAP_SRV_ECHO_FRESH_S + 1) * 1000u));
	echo[11] ^= 1;
	CHECK(!coap_echo_valid(&srv, &client, echo, sizeof echo,
			       hal_clock_mono_ms()));
	CHECK(!coap_echo_valid(&srv, &client, echo, 8, hal_clock_mono_ms()));
	echo[11] ^= 1;
	/* the client repeats the request with it: verified, full size */
	coap_writer_init(&w, rq, sizeof rq, COAP_CON, COAP_GET, 0x7777,
			 (const uint8_t *)"tk", 2);
	coap_put_path(&w, "/status");
	coap_put_opt(&w, COAP_OPT_ECHO, echo, sizeof echo);
	inject(rq, (size_t)coap_writer_finish(&w));
	REQUIRE(take_any(NULL) > 0);
	CHECK(full_size());
	CHECK(coap_srv_verified(&srv, &client, hal_clock_mono_ms()));
	coap_srv_stop(&srv);
}

TEST(echo_value_is_hmac_sha256_of_time_and_address)
{
	/* Python: hmac.new(bytes(range(32)), bytes([0,0,0,5, 4, 127,0,0,2])
	 * + bytes(12) + (40000).to_bytes(2, "big") + bytes(4),
	 * hashlib.sha256).hexdigest()[:16] */
	static const uint8_t want[COAP_SRV_ECHO_LEN] = { 0, 0, 0, 5,
		0x36, 0x1c, 0x50, 0x4a, 0xae, 0x66, 0xc0, 0x8b };
	uint8_t echo[COAP_SRV_ECHO_LEN];

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < sizeof srv.vfy.key; i++)
		srv.vfy.key[i] = (uint8_t)i;
	CHECK_EQ_INT(coap_echo_make(&srv, &client, 5999, echo),
		     COAP_SRV_ECHO_LEN);
	CHECK(memcmp(echo, want, sizeof want) == 0);
	coap_srv_stop(&srv);
}

TEST(verified_table_is_bounded_lru)
{
	struct hal_addr a = client;
	uint64_t t = hal_clock_mono_ms();

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < COAP_SRV_VERIFIED_MAX; i++) {
		a.port = (uint16_t)(1000 + i);
		coap_vfy_add(&srv, &a, t + i);
	}
	a.port = 1000;
	CHECK(coap_vfy_check(&srv, &a, t + 100)); /* 1000 used: 1001 is LRU */
	a.port = 2000;
	coap_vfy_add(&srv, &a, t + 101);
	CHECK(coap_srv_verified(&srv, &a, t + 101));
	a.port = 1000;
	CHECK(coap_srv_verified(&srv, &a, t + 101));
	a.port = 1001;
	CHECK(!coap_srv_verified(&srv, &a, t + 101));
	a.port = 1002;
	CHECK(coap_srv_verified(&srv, &a, t + 101));
	coap_srv_stop(&srv);
}

TEST(spoofed_burst_gets_small_answers)
{
	size_t in = 0, out = 0;
	uint16_t base = client.port;
	int n, q;

	REQUIRE(setup() == 1);
	for (unsigned i = 0; i < 40; i++) {  /* nobody answers the pings */
		client.port = (uint16_t)(base + i);
		q = mkreq(GET("/status"));
		in += (size_t)q;
		inject(rq, (size_t)q);
		while ((n = take_any(NULL)) > 0) {
			CHECK((size_t)n <= COAP_SRV_AMP_FLOOR);
			out += (size_t)n;
		}
	}
	hal_sim_clock_advance(COAP_SRV_PING_WAIT_MS);
	pump();
	while ((n = take_any(NULL)) > 0) {
		CHECK((size_t)n <= COAP_SRV_AMP_FLOOR);
		out += (size_t)n;
	}
	/* 4 pings + 4 limited answers + 36 Echo 4.01s, each <= 3x */
	CHECK(out <= COAP_SRV_AMP_FACTOR * in);
	CHECK_EQ_INT(srv.vfy.pings, COAP_SRV_PENDING_MAX);
	CHECK_EQ_INT(srv.vfy.echoes, 40 - COAP_SRV_PENDING_MAX);
	coap_srv_stop(&srv);
}

TEST(observe_block2_one_sequence_number_per_notification)
{
	struct req reg = { COAP_CON, COAP_GET, 0xd00, "/status", 0, 0, 2,
			   NULL, NULL, 0, 0 };
	struct coap_block b;
	uint32_t s0, seq;

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK(ans_block(&b) && b.num == 0 && b.more && b.szx == 2);
	s0 = ans_observe();
	CHECK(s0 <= COAP_OBSERVE_SEQ_MASK);
	/* node-coap's follow-up: Block2 num 1 and Observe 0 again */
	reg.mid++;
	reg.block = 1;
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	/* the same number again, none taken (node-coap needs it there) */
	CHECK(coap_get_observe(&rm, &seq) == 1 && seq == s0);
	CHECK_EQ_INT(coap_srv_observers(&srv), 1);
	CHECK_EQ_INT(srv.obs_seq, s0);
	/* the next notification takes exactly the next number */
	reloads++;
	hal_sim_clock_advance(COAP_SRV_TICK_MS);
	changed();
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(ans_observe(), (s0 + 1) & COAP_OBSERVE_SEQ_MASK);
	reg.mid++;
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK(coap_get_observe(&rm, &seq) == 1 &&
	      seq == ((s0 + 1) & COAP_OBSERVE_SEQ_MASK));
	CHECK_EQ_INT(srv.obs_seq, (s0 + 1) & COAP_OBSERVE_SEQ_MASK);
	/* without the option: no Observe in the answer */
	reg.mid++;
	reg.observe = -1;
	CHECK_EQ_INT(call(&reg), COAP_CODE_CONTENT);
	CHECK(coap_get_observe(&rm, &seq) == 0);
	coap_srv_stop(&srv);
}

TEST(unauthorised_diagnostic_is_whole)
{
	static const char diag[] =
		"control needs DTLS-PSK (or coap.open_control)";

	REQUIRE(setup() == 1);
	CHECK_EQ_INT(call(&(struct req){ COAP_CON, COAP_POST, 0, "/reload",
		-1, -1, 0, NULL, NULL, 0, 0 }), COAP_CODE_UNAUTHORIZED);
	CHECK(rm.payload_len == sizeof diag - 1 &&
	      memcmp(rm.payload, diag, sizeof diag - 1) == 0);
	coap_srv_stop(&srv);
}

/* The probe's backup server: 192.0.2.<host>:4433, connect answered
 * with result after delay_ms. */
static struct backup_status pba;

static void probe_server(int host, int result, uint32_t delay_ms)
{
	char ip[32];
	struct hal_sim_peer peer = { .type = HAL_SOCK_STREAM,
				     .connect_result = result,
				     .connect_delay_ms = delay_ms };

	snprintf(ip, sizeof ip, "192.0.2.%d", host);
	REQUIRE(hal_net_addr_parse(ip, 4433, &peer.addr) == 0);
	REQUIRE(hal_sim_net_add_peer(&peer) == 0);
	pba.configured = 1;
	pba.addr = peer.addr;
	src.backup = &pba;
}

/* The answer's {"reachable", "latency_ms", "error"}. */
static int probe_answer(int *reachable, uint64_t *ms, char *err, size_t cap)
{
	struct cbor_dec d;
	struct cbor_item it;
	const char *k, *t;
	size_t kn, tn;
	bool b;

	cbor_dec_init(&d, rm.payload, rm.payload_len, CBOR_DEC_UTF8);
	if (cbor_dec_next(&d, &it) != 1 || it.type != CBOR_MAP || it.val != 3)
		return -1;
	if (cbor_dec_text_ref(&d, &k, &kn, 0) < 0 || kn != 9 ||
	    cbor_dec_bool(&d, &b) < 0)
		return -1;
	*reachable = b;
	if (cbor_dec_text_ref(&d, &k, &kn, 0) < 0 || kn != 10 ||
	    cbor_dec_uint(&d, ms) < 0)
		return -1;
	if (cbor_dec_text_ref(&d, &k, &kn, 0) < 0 || kn != 5 ||
	    cbor_dec_text_ref(&d, &t, &tn, 0) < 0 || tn >= cap)
		return -1;
	memcpy(err, t, tn);
	err[tn] = '\0';
	return 0;
}

TEST(probe_answers_when_the_attempt_ends)
{
	static uint8_t first[COAP_MAX_MSG], req1[COAP_MAX_MSG];
	struct req r = { COAP_CON, COAP_POST, 0x900, "/probe", -1, -1, 0,
			 NULL, NULL, 0, 0 };
	char err[64];
	int reachable = -1, q, n1;
	uint64_t ms = 0;

	REQUIRE(setup() == 1);
	coap_srv_configure(&srv, true, COAP_AMP_ECHO);
	CHECK_EQ_INT(call(&r), COAP_CODE_NOT_IMPLEMENTED); /* no server */
	probe_server(1, 0, 5);
	r.mid++;
	q = mkreq(&r);
	REQUIRE(q > 0);
	memcpy(req1, rq, (size_t)q);            /* call() reuses rq */
	inject(req1, (size_t)q);
	CHECK_EQ_INT(take(), -EAGAIN);          /* under way */
	inject(req1, (size_t)q);                /* a retransmission */
	CHECK_EQ_INT(take(), -EAGAIN);
	r.mid++;                                /* another request */
	CHECK_EQ_INT(call(&r), COAP_CODE_SERVICE_UNAVAILABLE);
	hal_sim_clock_advance(5);
	pump();
	n1 = take();
	REQUIRE(n1 > 0);
	memcpy(first, ans, (size_t)n1);
	CHECK_EQ_INT(rm.code, COAP_CODE_CHANGED);
	CHECK_EQ_INT(rm.type, COAP_ACK);
	CHECK_EQ_INT(rm.mid, 0x901);
	CHECK_EQ_INT(probe_answer(&reachable, &ms, err, sizeof err), 0);
	CHECK_EQ_INT(reachable, 1);
	CHECK_EQ_INT((int)ms, 5);
	CHECK_EQ_STR(err, "");
	inject(req1, (size_t)q);                /* late retransmission */
	CHECK_EQ_INT(take(), n1);
	CHECK(memcmp(first, ans, (size_t)n1) == 0);

	probe_server(2, -ECONNREFUSED, 2);      /* refused */
	r.mid++;
	inject(rq, (size_t)mkreq(&r));
	hal_sim_clock_advance(2);
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(probe_answer(&reachable, &ms, err, sizeof err), 0);
	CHECK_EQ_INT(reachable, 0);
	CHECK_EQ_STR(err, "Connection refused");

	probe_server(3, 0, 60000);              /* silent: times out */
	r.mid++;
	r.type = COAP_NON;
	inject(rq, (size_t)mkreq(&r));
	hal_sim_clock_advance(PROBE_TIMEOUT_MS - 1);
	pump();
	CHECK_EQ_INT(take(), -EAGAIN);
	hal_sim_clock_advance(2);
	pump();
	REQUIRE(take() > 0);
	CHECK_EQ_INT(rm.type, COAP_NON);
	CHECK_EQ_INT(probe_answer(&reachable, &ms, err, sizeof err), 0);
	CHECK_EQ_INT(reachable, 0);
	CHECK(ms >= PROBE_TIMEOUT_MS);
	CHECK(strstr(err, "timed out") != NULL); /* glibc / musl wording */

	/* stopped while one runs: nothing is left registered */
	r.mid++;
	inject(rq, (size_t)mkreq(&r));
	coap_srv_stop(&srv);
	CHECK(!srv.probe.running && !srv.probe.waiting);
	src.backup = NULL;
	memset(&pba, 0, sizeof pba);
}

TEST_SUITE(coap_server, parse_listen, status_doc_encodes_every_part,
	   metrics_worst_case_fits,
	   change_key_follows_state_not_clocks,
	   change_key_counts_job_bytes_in_steps, get_status_block2_sequence,
	   amplification_limit_without_block2, well_known_core_lists_resources,
	   dedup_replays_cached_answer, burst_answers_all_in_order,
	   burst_get_after_post_is_fresh, malformed_get_rst_or_silence,
	   error_codes, observe_register_notify_deregister,
	   observe_notifies_in_the_pass_of_the_change,
	   observe_dropped_on_rst_and_failed_con, observe_refresh_and_capacity,
	   idle_tick_sleeps_until_the_refresh, observe_blockwise_notification,
	   verify_by_ping_then_full_blocks,
	   unanswered_or_wrong_ping_gets_the_limited_answer,
	   echo_when_no_slot_is_free,
	   echo_value_is_hmac_sha256_of_time_and_address,
	   verified_table_is_bounded_lru,
	   spoofed_burst_gets_small_answers,
	   observe_block2_one_sequence_number_per_notification,
	   unauthorised_diagnostic_is_whole,
	   probe_answers_when_the_attempt_ends);

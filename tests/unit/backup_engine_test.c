/*
 * backup_engine_test.c — the v3 client engine (firmware/backup/
 * backup_engine.c) fed by hand on the sim HAL, with no socket and no
 * file: table-driven, every reply code in every state that awaits a
 * reply, a cut at every step of a file's exchange, the three retry
 * outcomes (retry, skip, give up), a refused address followed at once by
 * the next one, and a handshake that failed while resuming followed at
 * once by a full one, neither counted as an attempt.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_engine.h"
#include "backup_retry.h"
#include "cksum.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "log.h"
#include "mbedtls/sha256.h"
#include "test.h"
#include "v3x.h"

static struct backup_client_cfg cfg;
static struct bke e;
static const uint8_t plain[100] = "the file's content";

static void setup(unsigned n_addrs)
{
	hal_sim_reset();
	(void)log_configure(LOG_INFO, 0, 0);
	backup_crypto_init();
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.name, sizeof cfg.name, "dev");
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "/data");
	REQUIRE(hal_storage_mkdir("/data", 0700) == 0);
	for (unsigned i = 0; i < n_addrs; i++)
		REQUIRE(hal_net_addr_parse(i ? "192.0.2.2" : "192.0.2.1", 1256,
					   &cfg.addrs[i]) == 0);
	cfg.n_addrs = n_addrs;
	cfg.server = cfg.addrs[0];
	bke_free(&e);
	bke_init(&e, &cfg);
}

/* Sends everything the engine has (as a transport that takes it all). */
static void flush_out(void)
{
	size_t len;

	while (bke_want(&e) == BKE_WANT_SEND) {
		(void)bke_out(&e, &len);
		bke_out_ack(&e, len);
	}
}

/* Feeds reply code (its payload made valid by v3_resp_pack) in two
 * pieces, as a socket may. */
static void reply(uint16_t code, uint32_t cksum, const char *name)
{
	static const uint8_t wrapped[V3_RSA_BLOB_SIZE] = { 1, 2, 3 };
	struct v3_resp r = { .code = code, .key = wrapped,
			     .key_len = sizeof wrapped, .cksum = cksum };
	uint8_t b[V3_RESP_MAX];
	size_t off = 0, len;
	int n;

	memset(r.client_id, 0xab, sizeof r.client_id);
	r.content_size = e.clear ? (uint32_t)e.size
				 : (uint32_t)((e.size / 16 + 1) * 16);
	snprintf(r.name, sizeof r.name, "%s", name ? name : e.name);
	n = v3_resp_pack(b, sizeof b, &r, NULL);
	REQUIRE(n > 0);
	while (bke_want(&e) == BKE_WANT_RECV && off < (size_t)n) {
		uint8_t *p = bke_in(&e, &len);

		if (len > (size_t)n - off)
			len = (size_t)n - off;
		if (len > 3 && off == 0)
			len = 3;        /* a short first read */
		memcpy(p, b + off, len);
		off += len;
		bke_in_ack(&e, len);
	}
}

/* The session is up without the RSA exchange (white box). */
static void session_up(void)
{
	e.have_id = e.key_acked = e.session = 1;
	memset(e.aes, 7, sizeof e.aes);
}

/* Gives the engine the slice it asks for. */
static void feed_slice(int err)
{
	uint64_t off;
	size_t len;
	uint8_t *p;

	REQUIRE(bke_want(&e) == BKE_WANT_READ);
	p = bke_slice(&e, &off, &len);
	REQUIRE(off + len <= sizeof plain);
	memcpy(p, plain + off, len);
	bke_slice_done(&e, err);
}

static uint32_t plain_crc(void)
{
	struct cksum_ctx ck;

	cksum_init(&ck);
	cksum_update(&ck, plain, sizeof plain);
	return cksum_final(&ck);
}

/* A session up and a file sent: the engine awaits the 1603. */
static void to_crc(void)
{
	setup(1);
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	feed_slice(0);
	flush_out();
	REQUIRE(e.st == BKE_CRC);
}

/* A failure left the engine wanting a close, then a backoff. */
static void check_retry(const char *why, unsigned failures)
{
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	CHECK_EQ_INT(bke_event(&e), BKE_EV_RETRY);
	if (!strstr(e.err, why))
		printf("# err: %s (want %s)\n", e.err, why);
	CHECK(strstr(e.err, why) != NULL);
	CHECK_EQ_INT(e.failures, failures);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_WAIT);
	CHECK(bke_wait_ms(&e) >= BACKUP_RETRY_BASE_MS * 3 / 4);
	bke_waited(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CONNECT);
	CHECK(!e.session);
}

static const uint16_t codes[] = { 1600, 1601, 1602, 1603, 1604, 1605,
				  1606, 1607 };

struct row {
	uint16_t code;
	enum bke_state next;    /* BKE_IDLE: the request ended */
	enum bke_event ev;      /* BKE_EV_RETRY: a failed attempt */
	const char *err;        /* part of e.err, NULL: none checked */
};

/* The reply to 1027 (identity known). */
static const struct row reconnect_rows[] = {
	{ 1600, BKE_BACKOFF, BKE_EV_RETRY, "answered 1600 to 1027" },
	{ 1601, BKE_BACKOFF, BKE_EV_RETRY, "answered 1601 to 1027" },
	{ 1602, BKE_BACKOFF, BKE_EV_RETRY, "answered 1602 to 1027" },
	{ 1603, BKE_BACKOFF, BKE_EV_RETRY, "answered 1603 to 1027" },
	{ 1604, BKE_BACKOFF, BKE_EV_RETRY, "answered 1604 to 1027" },
	{ 1605, BKE_BACKOFF, BKE_EV_RETRY, "does not decrypt with our key" },
	{ 1606, BKE_BACKOFF, BKE_EV_RETRY, "reconnect of 'dev' denied (1606)" },
	{ 1607, BKE_BACKOFF, BKE_EV_RETRY, "answered 1607 to 1027" },
};

TEST(reconnect_every_reply_code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const struct row *w = &reconnect_rows[i];

		setup(1);
		e.have_id = e.key_acked = 1;
		snprintf(e.id.name, sizeof e.id.name, "dev");
		REQUIRE(bke_open(&e) == 0);
		REQUIRE(bke_want(&e) == BKE_WANT_CONNECT);
		bke_connected(&e, 0);
		CHECK_EQ_INT(e.st, BKE_RECONNECT);
		flush_out();
		CHECK_EQ_INT(bke_want(&e), BKE_WANT_RECV);
		reply(w->code, 0, NULL);
		check_retry(w->err, 1);
	}
}

/* 1025 then, after 1600, 1026: registration makes and saves the key. */
TEST(register_and_pubkey_every_reply_code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char want[64];

		setup(1);
		REQUIRE(bke_open(&e) == 0);
		bke_connected(&e, 0);
		CHECK_EQ_INT(e.st, BKE_REGISTER);
		flush_out();
		reply(codes[i], 0, NULL);
		if (codes[i] == 1600)
			continue;       /* below */
		snprintf(want, sizeof want, codes[i] == 1601
			 ? "registration of 'dev' refused (1601"
			 : "answered %u to 1025", codes[i]);
		check_retry(want, 1);
		CHECK(!e.have_id);
	}
	/* 1600: a key pair, me.info saved, 1026 out; then every reply */
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char want[64];

		setup(1);
		REQUIRE(bke_open(&e) == 0);
		bke_connected(&e, 0);
		flush_out();
		reply(1600, 0, NULL);
		CHECK(e.have_id);
		CHECK_EQ_INT(e.st, BKE_PUBKEY);
		CHECK(hal_storage_read("/data/me.info", e.buf, 4096) > 0);
		flush_out();
		reply(codes[i], 0, NULL);
		snprintf(want, sizeof want, codes[i] == 1602
			 ? "does not decrypt with our key" : codes[i] == 1607
			 ? "160-byte key refused (1607); retrying with a "
			   "162-byte key" : "answered %u to 1026", codes[i]);
		check_retry(want, 1);
		CHECK_EQ_INT(e.key_acked, codes[i] == 1602);
		/* any other refusal registers again on the next attempt */
		CHECK_EQ_INT(e.have_id, codes[i] == 1602 || codes[i] == 1607);
	}
}

/* A 1607 to the 160-byte key switches to 162 bytes; a 1607 to that one
 * too means the server does not know the id (a damaged 1600, a lost
 * registration): the next attempt registers again instead of sending
 * 1026 for that id for good (issue 19's campaign). */
TEST(refused_key_twice_registers_again)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 0);
	flush_out();
	reply(1600, 0, NULL);
	flush_out();
	reply(1607, 0, NULL);
	check_retry("retrying with a 162-byte key", 1);
	bke_connected(&e, 0);
	CHECK_EQ_INT(e.st, BKE_PUBKEY);         /* the same id, the new key */
	flush_out();
	reply(1607, 0, NULL);
	check_retry("answered 1607 to 1026", 2);
	bke_connected(&e, 0);
	CHECK_EQ_INT(e.st, BKE_REGISTER);       /* 1025 again */
}

/* The 1603, then the 1604 after 1029, for every code. */
TEST(crc_and_commit_every_reply_code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char want[64];

		to_crc();
		reply(codes[i], plain_crc(), NULL);
		if (codes[i] == 1603) {
			CHECK_EQ_INT(e.st, BKE_COMMIT);
			continue;
		}
		snprintf(want, sizeof want, "answered %u to /srv/a.txt",
			 codes[i]);
		check_retry(want, 1);
	}
	to_crc();
	reply(1603, plain_crc(), "srv_b.txt");
	check_retry("1603 for another file", 1);
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char want[64];

		to_crc();
		reply(1603, plain_crc(), NULL);
		flush_out();
		reply(codes[i], 0, NULL);
		if (codes[i] == 1604) {
			CHECK_EQ_INT(bke_want(&e), BKE_WANT_NOTHING);
			CHECK_EQ_INT(bke_event(&e), BKE_EV_DONE);
			CHECK_EQ_INT(e.result, 0);
			CHECK(e.session);       /* the next file goes on it */
			continue;
		}
		snprintf(want, sizeof want, "answered %u to 1029", codes[i]);
		check_retry(want, 1);
	}
}

/* Three mismatches: 1030, 1030, then 1031; its 1604 (or not) ends the
 * file SKIPPED. */
TEST(cksum_mismatch_three_times_then_abort_every_reply_code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		to_crc();
		for (int send = 1; send < 3; send++) {
			reply(1603, plain_crc() ^ 1, NULL);
			CHECK_EQ_INT(e.st, BKE_CRC_RETRY);
			flush_out();    /* the 1030, then the stream again */
			feed_slice(0);
			flush_out();
			CHECK_EQ_INT(e.st, BKE_CRC);
		}
		reply(1603, plain_crc() ^ 1, NULL);
		CHECK_EQ_INT(e.st, BKE_ABORT);
		flush_out();
		reply(codes[i], 0, NULL);
		CHECK_EQ_INT(bke_event(&e), BKE_EV_SKIPPED);
		CHECK(strstr(e.err, "cksum mismatch 3 times") != NULL);
		CHECK_EQ_INT(e.result, -EBADMSG);
		CHECK_EQ_INT(strstr(e.err, "(no 1604)") != NULL,
			     codes[i] != 1604);
		CHECK_EQ_INT(bke_want(&e), codes[i] == 1604 ? BKE_WANT_NOTHING
							     : BKE_WANT_CLOSE);
	}
}

/* A cut (reset, close, timeout) at every step of a file's exchange is a
 * failed attempt: close, backoff, connect again. */
TEST(cut_at_every_step_is_retried)
{
	for (int step = 0; step < 7; step++) {
		setup(1);
		e.have_id = e.key_acked = 1;
		snprintf(e.id.name, sizeof e.id.name, "dev");
		REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
		if (step == 0) {        /* the connect itself */
			bke_link_failed(&e, BKE_CONN_FAILED, -ECONNREFUSED,
					"Connection refused");
			check_retry("connect 192.0.2.1:1256: Connection "
				    "refused", 1);
			continue;
		}
		bke_connected(&e, 0);
		if (step >= 2) {        /* the 1027 out */
			flush_out();
		}
		if (step >= 3) {        /* its reply: the session (white box) */
			session_up();
			bke_drop(&e);
			session_up();
			REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
			feed_slice(0);
		}
		if (step >= 4)          /* the 1028 out */
			flush_out();
		if (step >= 5)          /* the 1603 in: 1029 */
			reply(1603, plain_crc(), NULL);
		if (step >= 6)          /* the 1029 out */
			flush_out();
		bke_io_failed(&e, -ECONNRESET, "connection reset");
		check_retry(step == 1 ? "sending 1027: connection reset"
			    : step == 2 || step == 6 || step == 4
			    ? "reading a reply: connection reset"
			    : step == 3 ? "sending /srv/a.txt: connection reset"
			    : "sending 1029: connection reset", 1);
	}
}

/* Between two slices the driver waits for room to write: an I/O
 * failure there (a peer that stopped reading: the I/O timeout) fails
 * the file like a failed send, and is retried (issue 19's campaign). */
TEST(io_failure_between_slices_is_retried)
{
	uint64_t off;
	size_t len;
	uint8_t *p;

	setup(1);
	session_up();
	REQUIRE(bke_file(&e, "/srv/big.bin", 3 * (uint64_t)BACKUP_SLICE) == 0);
	REQUIRE(bke_want(&e) == BKE_WANT_READ);
	p = bke_slice(&e, &off, &len);
	memset(p, 0, len);
	bke_slice_done(&e, 0);
	flush_out();
	REQUIRE(bke_want(&e) == BKE_WANT_READ);         /* the next slice */
	bke_io_failed(&e, -ETIMEDOUT, "timed out");
	check_retry("sending /srv/big.bin: timed out", 1);
}

/* Retry x3 -> give up; a local read failure -> skip; both end IDLE. */
TEST(three_retry_outcomes)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	for (unsigned a = 1; a <= BACKUP_RETRY_ATTEMPTS; a++) {
		REQUIRE(bke_want(&e) == BKE_WANT_CONNECT);
		bke_link_failed(&e, BKE_CONN_HANDSHAKE_FAILED, -EIO,
				"server certificate not trusted");
		if (a < BACKUP_RETRY_ATTEMPTS)
			check_retry("certificate not trusted", a);
	}
	CHECK_EQ_INT(bke_event(&e), BKE_EV_GAVE_UP);
	CHECK_EQ_INT(e.fatal, 0);       /* the agent adds "(3 attempts)" */
	CHECK_EQ_INT(e.attempts, 3);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_NOTHING);

	/* the file shrank: skipped, the connection closed (half a 1028) */
	setup(1);
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	feed_slice(-ENODATA);
	CHECK_EQ_INT(bke_event(&e), BKE_EV_SKIPPED);
	CHECK(strstr(e.err, "file shrank while being read") != NULL);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_NOTHING);
	CHECK_EQ_INT(e.failures, 0);

	/* a path with no v3 name is skipped before any I/O */
	CHECK(bke_file(&e, "/", 1) < 0);
	CHECK_EQ_INT(bke_event(&e), BKE_EV_SKIPPED);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_NOTHING);
}

/* A refused address: the name's next one at once, not an attempt; the
 * last one refused too: one failed attempt. */
TEST(refused_address_tries_the_next_at_once)
{
	setup(2);
	REQUIRE(bke_open(&e) == 0);
	CHECK_EQ_STR(e.peer, "192.0.2.1:1256");
	bke_link_failed(&e, BKE_CONN_FAILED, -ECONNREFUSED,
			"Connection refused");
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_NEXT_ADDR);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CONNECT);  /* no wait */
	CHECK_EQ_INT(e.failures, 0);
	CHECK_EQ_INT(e.attempts, 1);
	CHECK_EQ_STR(e.peer, "192.0.2.2:1256");
	CHECK(bke_server(&e) == &cfg.addrs[1]);
	bke_link_failed(&e, BKE_CONN_FAILED, -ECONNREFUSED,
			"Connection refused");
	check_retry("connect 192.0.2.2:1256: Connection refused", 1);
	/* the next attempt starts after the one that failed last */
	CHECK(bke_server(&e) == &cfg.addrs[0]);
	bke_connected(&e, 0);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
}

/* A handshake that failed while offering a saved session: a full one
 * at once, no backoff and no attempt lost. */
TEST(failed_resumption_reconnects_at_once_with_a_full_handshake)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_link_failed(&e, BKE_CONN_RESUME_FAILED, -EIO,
			"fatal alert: handshake failure");
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_FULL_HANDSHAKE);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CONNECT);
	CHECK_EQ_INT(e.failures, 0);
	CHECK_EQ_INT(e.attempts, 1);
	/* the same failure without a session to drop is an attempt */
	bke_link_failed(&e, BKE_CONN_HANDSHAKE_FAILED, -EIO,
			"fatal alert: handshake failure");
	check_retry("fatal alert: handshake failure", 1);
	bke_connected(&e, 1);           /* vigil/2 chosen */
	CHECK(e.clear);
	CHECK_EQ_INT(e.st, BKE_HELLO);
}

/* Feeds raw bytes as the transport's reply, in pieces of at most 5. */
static void reply_raw(const uint8_t *b, size_t n)
{
	size_t off = 0, len;

	while (bke_want(&e) == BKE_WANT_RECV && off < n) {
		uint8_t *p = bke_in(&e, &len);

		if (len > n - off)
			len = n - off;
		if (len > 5)
			len = 5;
		memcpy(p, b + off, len);
		off += len;
		bke_in_ack(&e, len);
	}
}

static void reply_hello(uint32_t caps)
{
	struct v3x_msg m = { .code = V3X_RESP_HELLO, .caps = caps,
			     .chunk_max = 65536 };
	uint8_t b[32];
	int n = v3x_resp_pack(b, sizeof b, &m, NULL);

	REQUIRE(n == 15);
	reply_raw(b, (size_t)n);
}

/* The request the engine sends, as bytes. */
static size_t take_out(uint8_t *b, size_t cap)
{
	size_t len, got = 0;

	while (bke_want(&e) == BKE_WANT_SEND) {
		const uint8_t *p = bke_out(&e, &len);

		if (got + len > cap) {
			CHECK(!"request larger than expected");
			return 0;
		}
		memcpy(b + got, p, len);
		got += len;
		bke_out_ack(&e, len);
	}
	return got;
}

TEST(vigil2_hello_then_attributes_before_the_stream)
{
	uint8_t b[V3X_REQ_MAX];
	struct v3x_msg m;

	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	CHECK_EQ_INT(e.st, BKE_HELLO);
	REQUIRE(take_out(b, sizeof b) == 23 + 4);
	REQUIRE(v3x_req_decode(&m, b, 27, NULL) == 27);
	CHECK(m.code == V3X_REQ_HELLO &&
	      m.caps == (V3X_CAP_ATTR | V3X_CAP_TRACE | V3X_CAP_DEDUP |
			 V3X_CAP_LARGE | V3X_CAP_SNAPSHOT));
	reply_hello(V3X_CAP_RESTORE | V3X_CAP_ATTR);
	CHECK_EQ_INT(e.xcaps, V3X_CAP_RESTORE | V3X_CAP_ATTR);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
	/* a file with attributes: 1044 first, no reply, then the stream */
	e.st = BKE_IDLE;
	session_up();
	bke_file_attr(&e, 0640, 1700000000, 42);
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_ATTR);
	REQUIRE(take_out(b, sizeof b) == 23 + 271);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 271);
	CHECK(m.code == V3X_REQ_ATTR && m.mode == 0640 &&
	      m.mtime_s == 1700000000 && m.mtime_ns == 42);
	CHECK_EQ_STR(m.name, "srv_a.txt");
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_READ);
}

static void reply_offset(uint64_t off)
{
	struct v3x_msg m = { .code = V3X_RESP_OFFSET, .offset = off };
	uint8_t b[32];
	int n = v3x_resp_pack(b, sizeof b, &m, NULL);

	REQUIRE(n == 15);
	reply_raw(b, (size_t)n);
}

TEST(vigil2_resume_sends_only_the_rest_with_the_whole_cksum)
{
	uint8_t b[V3X_REQ_MAX];
	struct v3x_msg m;
	uint64_t off;
	size_t len;

	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_RESUME);
	e.st = BKE_IDLE;
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_OFFSET);
	REQUIRE(take_out(b, sizeof b) == 23 + 263);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 263);
	CHECK(m.code == V3X_REQ_OFFSET && m.size == sizeof plain);
	reply_offset(40);
	/* the kept 40 bytes are read locally for the cksum, not sent */
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_READ);
	(void)bke_slice(&e, &off, &len);
	CHECK(off == 0 && len == 40);
	feed_slice(0);
	/* then the rest goes out as its own transfer */
	REQUIRE(bke_want(&e) == BKE_WANT_READ);
	(void)bke_slice(&e, &off, &len);
	CHECK(off == 40 && len == 60);
	feed_slice(0);
	CHECK_EQ_INT(e.req.orig_size, 60);
	CHECK_EQ_INT(e.req.content_size, 60);
	flush_out();
	CHECK_EQ_INT(e.st, BKE_CRC);
	CHECK_EQ_INT(e.crc, plain_crc());
	/* the content hash covers the kept bytes too */
	{
		uint8_t d[32];
		int dd = 1;

		REQUIRE(mbedtls_sha256(plain, sizeof plain, d, 0) == 0);
		CHECK(memcmp(bke_file_sha256(&e, &dd), d, 32) == 0 && dd == 0);
	}
	/* the 1603 echoes the rest's size and the whole file's cksum */
	{
		struct v3_resp r = { .code = V3_RESP_FILE_CRC, .content_size = 60,
				     .cksum = plain_crc() };
		uint8_t o[V3_RESP_MAX];
		int n;

		snprintf(r.name, sizeof r.name, "%s", e.name);
		n = v3_resp_pack(o, sizeof o, &r, NULL);
		REQUIRE(n > 0);
		reply_raw(o, (size_t)n);
	}
	CHECK_EQ_INT(e.st, BKE_COMMIT);
}

TEST(vigil2_resume_at_zero_streams_from_the_start)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_RESUME);
	e.st = BKE_IDLE;
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	flush_out();
	reply_offset(0);
	CHECK_EQ_INT(e.st, BKE_SLICE_READ);
	CHECK_EQ_INT(e.base, 0);
}

/* backup.max_rate: the first packet goes at once, the next waits until
 * the bucket has refilled what the first took, at max_rate. */
TEST(max_rate_pauses_between_packets_without_a_retry)
{
	uint32_t first;

	setup(1);
	cfg.max_rate = 1000;            /* bytes/s */
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	feed_slice(0);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_SEND);      /* a full bucket */
	flush_out();
	reply(V3_RESP_FILE_CRC, plain_crc(), NULL);
	flush_out();
	reply(V3_RESP_ACK, 0, NULL);
	REQUIRE(e.st == BKE_IDLE);
	REQUIRE(bke_file(&e, "/srv/b.txt", sizeof plain) == 0);
	feed_slice(0);
	/* the bucket is empty: a pause, not a retry */
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_WAIT);
	CHECK_EQ_INT(e.st, BKE_THROTTLE);
	CHECK_EQ_INT(e.failures, 0);
	first = bke_wait_ms(&e);
	hal_sim_clock_advance(first);
	bke_waited(&e);
	/* 1 ms refilled 1 byte: it goes, leaving the bucket 389 in debt */
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_SEND);
	CHECK_EQ_INT(e.tokens, 1 - (int64_t)e.out_len);
	flush_out();
	reply(V3_RESP_FILE_CRC, plain_crc(), NULL);
	flush_out();
	reply(V3_RESP_ACK, 0, NULL);
	REQUIRE(bke_file(&e, "/srv/c.txt", sizeof plain) == 0);
	feed_slice(0);
	/* that debt at 1000 B/s: the wait is its time */
	CHECK_EQ_INT(e.st, BKE_THROTTLE);
	CHECK_EQ_INT(bke_wait_ms(&e), (uint32_t)(V3_REQ_FILE_HEAD_MAX + 112 - 1));
}

TEST(vigil2_without_attr_cap_sends_no_1044)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_RESTORE);
	e.st = BKE_IDLE;
	session_up();
	bke_file_attr(&e, 0640, 1, 2);
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_READ);
}

TEST(vigil2_server_without_extension_is_reconnected_without_hello)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply(V3_RESP_ERROR, 0, "");    /* a v3 1607 to 1040 */
	CHECK(e.x_refused);
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_RETRY);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	bke_closed(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_WAIT);
	bke_waited(&e);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CONNECT);
	bke_connected(&e, 1);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
}

/* 1048 right after the 1640 (before 1025), once per connection and
 * job; again on a kept session when the job changes; never to a server
 * without the bit, nor on a plain v3 transport. */
TEST(vigil2_trace_id_sent_once_per_connection_and_job)
{
	uint8_t b[V3X_REQ_MAX + V3_REQ_SMALL_MAX];
	struct v3x_msg m;

	setup(1);
	bke_set_trace(&e, "9f2c01d4a7b3e655");
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_ATTR | V3X_CAP_TRACE);
	CHECK_EQ_INT(e.st, BKE_TRACE);
	/* no answer awaited: the 1025 follows the 1048 at once */
	REQUIRE(take_out(b, sizeof b) == 23 + 32 + 23 + 255);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 32);
	CHECK(m.code == V3X_REQ_TRACE);
	CHECK_EQ_STR(m.name, "9f2c01d4a7b3e655");
	CHECK(b[55 + 17] == (1025 & 0xff) && b[55 + 18] == 1025 >> 8);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
	/* the same job's next file on the kept session: nothing more */
	e.st = BKE_IDLE;
	session_up();
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_READ);
	/* the next job on the same session: its id first */
	bke_drop(&e);
	session_up();
	bke_set_trace(&e, "0123456789abcdef");
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_TRACE);
	REQUIRE(take_out(b, sizeof b) == 23 + 32);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 32);
	CHECK_EQ_STR(m.name, "0123456789abcdef");
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_READ);
	/* a server without the bit, and a plain v3 transport: none */
	setup(1);
	bke_set_trace(&e, "9f2c01d4a7b3e655");
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_ATTR);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
	setup(1);
	bke_set_trace(&e, "9f2c01d4a7b3e655");
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 0);
	CHECK_EQ_INT(e.st, BKE_REGISTER);
	/* an id the 1048 rule refuses is not kept */
	bke_set_trace(&e, "Not-Valid");
	CHECK_EQ_STR(e.trace, "");
}

static void reply_have(uint16_t code, uint8_t have)
{
	struct v3x_msg m = { .code = code, .have = have,
			     .refused_code = V3X_REQ_HAVE,
			     .error = V3X_ERR_SERVER };
	uint8_t b[32];
	int n = v3x_resp_pack(b, sizeof b, &m, NULL);

	REQUIRE(n > 0);
	reply_raw(b, (size_t)n);
}

/* A session up on a vigil/2 connection whose server has caps. */
static void vigil2_up(uint32_t caps)
{
	setup(1);
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(caps);
	e.st = BKE_IDLE;
	session_up();
}

TEST(vigil2_unchanged_file_is_recorded_by_hash_without_a_stream)
{
	uint8_t b[V3X_REQ_MAX], sha[32];
	struct v3x_msg m;
	int dd = 0;

	vigil2_up(V3X_CAP_ATTR | V3X_CAP_DEDUP);
	memset(sha, 0x5a, sizeof sha);
	bke_file_attr(&e, 0100640, -5, 7);
	bke_file_known(&e, sha);
	REQUIRE(bke_file(&e, "/srv/a.txt", 3ull << 30) == 0);
	CHECK_EQ_INT(e.st, BKE_HAVE);
	REQUIRE(take_out(b, sizeof b) == 23 + 311);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 311);
	CHECK(m.code == V3X_REQ_HAVE && m.size == 3ull << 30 &&
	      m.mode == 0640 && m.mtime_s == -5 && m.mtime_ns == 7);
	CHECK(memcmp(m.sha256, sha, 32) == 0);
	CHECK_EQ_STR(m.name, "srv_a.txt");
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_RECV);
	reply_have(V3X_RESP_HAVE, 1);
	CHECK_EQ_INT(e.st, BKE_IDLE);
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_DONE);
	CHECK_EQ_INT(e.result, 0);
	CHECK(memcmp(bke_file_sha256(&e, &dd), sha, 32) == 0 && dd == 1);
	/* the next file, not known, goes the usual way */
	bke_file_attr(&e, 0640, 1, 2);
	REQUIRE(bke_file(&e, "/srv/b.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_ATTR);
}

TEST(vigil2_content_the_server_lacks_is_sent_and_hashed)
{
	uint8_t b[V3X_REQ_MAX], sha[32], d[32];
	struct v3x_msg m;
	int dd = 1;

	REQUIRE(mbedtls_sha256(plain, sizeof plain, d, 0) == 0);
	for (uint16_t code = V3X_RESP_HAVE; code; code =
	     code == V3X_RESP_HAVE ? V3X_RESP_REFUSED : 0) {
		vigil2_up(V3X_CAP_ATTR | V3X_CAP_DEDUP);
		memset(sha, 1, sizeof sha);
		bke_file_attr(&e, 0640, 1, 2);
		bke_file_known(&e, sha);
		REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
		flush_out();
		reply_have(code, 0);
		/* 1646 "send it" or a 1649: the 1044, then the bytes */
		CHECK_EQ_INT(e.st, BKE_ATTR);
		REQUIRE(take_out(b, sizeof b) == 23 + 271);
		REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) > 0);
		CHECK(m.code == V3X_REQ_ATTR);
		feed_slice(0);
		flush_out();
		CHECK_EQ_INT(e.st, BKE_CRC);
		reply(V3_RESP_FILE_CRC, plain_crc(), NULL);
		flush_out();
		reply(V3_RESP_ACK, 0, NULL);
		CHECK_EQ_INT(bke_take_event(&e), BKE_EV_DONE);
		CHECK(memcmp(bke_file_sha256(&e, &dd), d, 32) == 0 && dd == 0);
	}
}

TEST(vigil2_no_1046_without_the_cap_the_hash_or_attributes)
{
	uint8_t sha[32] = { 0 };

	vigil2_up(V3X_CAP_ATTR);        /* no V3X_CAP_DEDUP */
	bke_file_attr(&e, 0640, 1, 2);
	bke_file_known(&e, sha);
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_ATTR);
	vigil2_up(V3X_CAP_ATTR | V3X_CAP_DEDUP);
	bke_file_known(&e, sha);        /* no attributes: nothing to record */
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_SLICE_READ);
	vigil2_up(V3X_CAP_ATTR | V3X_CAP_DEDUP);
	bke_file_attr(&e, 0640, 1, 2);  /* not known: the bytes */
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_ATTR);
	/* plain v3: never */
	setup(1);
	session_up();
	bke_file_attr(&e, 0640, 1, 2);
	bke_file_known(&e, sha);
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	CHECK_EQ_INT(e.st, BKE_SLICE_READ);
}

TEST(vigil2_bad_1046_answer_is_retried)
{
	static const uint8_t bad[8] = { 4, 0x6e, 0x06, 1, 0, 0, 0, 2 };
	uint8_t sha[32] = { 0 };

	vigil2_up(V3X_CAP_ATTR | V3X_CAP_DEDUP);
	bke_file_attr(&e, 0640, 1, 2);
	bke_file_known(&e, sha);
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	flush_out();
	reply_raw(bad, sizeof bad);     /* 1646 with have = 2 */
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_RETRY);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
}

static void reply_seg(uint64_t off)
{
	struct v3x_msg m = { .code = V3X_RESP_SEGMENT, .offset = off };
	uint8_t b[32];
	int n = v3x_resp_pack(b, sizeof b, &m, NULL);

	REQUIRE(n == 15);
	reply_raw(b, (size_t)n);
}

/* The 1047 the engine sends next, decoded. */
static void take_segment(struct v3x_msg *m)
{
	uint8_t b[V3X_REQ_MAX];

	CHECK_EQ_INT(e.st, BKE_SEGMENT);
	REQUIRE(take_out(b, sizeof b) == 23 + 275);
	REQUIRE(v3x_req_decode(m, b, sizeof b, NULL) == 23 + 275);
	REQUIRE(m->code == V3X_REQ_SEGMENT);
}

/* Segments of 30 bytes over the 100-byte file: 1047 and its 1028 four
 * times, a 1647 after each but the last, whose 1603 carries the whole
 * file's cksum and echoes the last segment's size. */
TEST(vigil2_large_file_goes_in_segments)
{
	static const uint64_t at[] = { 0, 30, 60, 90 };
	struct v3x_msg m;
	uint8_t d[32];
	int dd = 1;

	vigil2_up(V3X_CAP_LARGE);
	cfg.segment_max = 30;
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	for (unsigned i = 0; i < 4; i++) {
		take_segment(&m);
		CHECK(m.size == 100 && m.offset == at[i]);
		CHECK_EQ_INT(m.length, i < 3 ? 30 : 10);
		feed_slice(0);
		CHECK_EQ_INT(e.req.orig_size, m.length);
		CHECK_EQ_INT(e.req.total, 1);
		flush_out();
		if (i < 3) {
			CHECK_EQ_INT(e.st, BKE_SEG_ACK);
			reply_seg(at[i] + 30);
		}
	}
	CHECK_EQ_INT(e.st, BKE_CRC);
	CHECK_EQ_INT(e.crc, plain_crc());
	REQUIRE(mbedtls_sha256(plain, sizeof plain, d, 0) == 0);
	CHECK(memcmp(bke_file_sha256(&e, &dd), d, 32) == 0);
	{
		struct v3_resp r = { .code = V3_RESP_FILE_CRC, .content_size = 10,
				     .cksum = plain_crc() };
		uint8_t o[V3_RESP_MAX];
		int n;

		snprintf(r.name, sizeof r.name, "%s", e.name);
		n = v3_resp_pack(o, sizeof o, &r, NULL);
		REQUIRE(n > 0);
		reply_raw(o, (size_t)n);
	}
	CHECK_EQ_INT(e.st, BKE_COMMIT);
}

TEST(vigil2_segment_answered_with_another_offset_is_retried)
{
	struct v3x_msg m;

	vigil2_up(V3X_CAP_LARGE);
	cfg.segment_max = 30;
	REQUIRE(bke_file(&e, "/srv/a.txt", sizeof plain) == 0);
	take_segment(&m);
	feed_slice(0);
	flush_out();
	reply_seg(31);
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_RETRY);
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
}

/* The arithmetic of a file over 4 GiB (5 GiB + 3) at the default
 * segment size, without moving its bytes: three 1047s at 0, 2^31 and
 * 2^32; 32768 packets of 64 KiB each for the first two, 16385 for the
 * last, whose last packet is the 3 bytes at 5 GiB. */
TEST(vigil2_over_4_gib_segment_offsets_and_packet_counts)
{
	const uint64_t size = (5ull << 30) + 3;
	struct v3x_msg m;
	uint64_t off;
	size_t len;

	vigil2_up(V3X_CAP_LARGE);
	REQUIRE(bke_file(&e, "/srv/big.img", size) == 0);
	for (unsigned i = 0; i < 3; i++) {
		take_segment(&m);
		CHECK(m.size == size && m.offset == (uint64_t)i << 31);
		CHECK(m.length == (i < 2 ? 1u << 31 : (1u << 30) + 3));
		CHECK_EQ_INT(e.req.total, i < 2 ? 32768 : 16385);
		CHECK(e.req.content_size == m.length &&
		      e.req.orig_size == m.length);
		(void)bke_slice(&e, &off, &len);
		CHECK(off == (uint64_t)i << 31 && len == 65536);
		/* white box: as if the segment's packets had gone out */
		e.req.packet = e.req.total;
		(void)bke_slice(&e, &off, &len);
		CHECK(off == ((uint64_t)i << 31) + (uint64_t)(e.req.total - 1) *
			     65536);
		CHECK_EQ_INT(len, i < 2 ? 65536 : 3);
		if (i == 2)
			break;
		e.st = BKE_SEG_ACK;
		e.out_len = e.out_off = 0;
		e.in_need = V3_RESP_HDR_SIZE;
		e.in_got = 0;
		reply_seg((uint64_t)(i + 1) << 31);
	}
	CHECK(off + len == size);
}

TEST(over_the_v3_limit_without_large_files_is_skipped_unsent)
{
	const uint64_t size = (uint64_t)V3_FILE_MAX + 1;

	/* plain v3, and vigil/2 without the cap: no byte, no close */
	for (int v2 = 0; v2 < 2; v2++) {
		if (v2)
			vigil2_up(V3X_CAP_ATTR | V3X_CAP_RESUME);
		else {
			setup(1);
			session_up();
		}
		REQUIRE(bke_file(&e, "/srv/big.img", size) == 0);
		CHECK_EQ_INT(bke_take_event(&e), BKE_EV_SKIPPED);
		CHECK_EQ_INT(e.result, -EMSGSIZE);
		CHECK(strstr(e.err, "over the v3 limit") != NULL);
		CHECK_EQ_INT(bke_want(&e), BKE_WANT_NOTHING);
		CHECK(e.session);
	}
	/* at the limit: one transfer, the bigger slice */
	setup(1);
	session_up();
	REQUIRE(bke_file(&e, "/srv/big.img", V3_FILE_MAX) == 0);
	CHECK_EQ_INT(e.st, BKE_SLICE_READ);
	CHECK_EQ_INT(e.slice, BACKUP_SLICE_BIG);
	CHECK_EQ_INT(e.req.total, 32768);
}

static void reply_snap(uint16_t code, uint64_t snapshot, uint32_t count)
{
	struct v3x_msg m = { .code = code, .snapshot = snapshot,
			     .count = count, .refused_code = V3X_REQ_SNAPSHOT,
			     .error = V3X_ERR_SERVER };
	uint8_t b[32];
	int n = v3x_resp_pack(b, sizeof b, &m, NULL);

	REQUIRE(n > 0);
	reply_raw(b, (size_t)n);
}

/* 1049: a keep names the file, a seal counts the run's sessions (the
 * kept one it started on, and each reconnect); 1648 ends it DONE, 1649
 * SKIPPED; a server without the cap is never asked. */
TEST(vigil2_keep_and_seal_count_the_run_sessions)
{
	uint8_t b[V3X_REQ_MAX];
	struct v3x_msg m;

	vigil2_up(V3X_CAP_ATTR);
	CHECK_EQ_INT(bke_snapshot(&e, NULL), -EOPNOTSUPP);
	vigil2_up(V3X_CAP_SNAPSHOT);
	bke_run_begin(&e);              /* a job on a kept session */
	CHECK_EQ_INT(e.run_sessions, 1);
	CHECK_EQ_INT(bke_snapshot(&e, "/srv/a/b\x01"), 0);
	REQUIRE(take_out(b, sizeof b) == 23 + 260);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 260);
	CHECK(m.code == V3X_REQ_SNAPSHOT && m.op == V3X_SNAP_KEEP &&
	      m.sessions == 0);
	CHECK_EQ_STR(m.name, "srv_a_b_-01");
	reply_snap(V3X_RESP_SNAPSHOT, 9, 1);
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_DONE);
	CHECK(e.st == BKE_IDLE && e.snap_id == 9 && e.snap_count == 1);
	REQUIRE(bke_snapshot(&e, "/srv/x") == 0);
	flush_out();
	reply_snap(V3X_RESP_REFUSED, 0, 0);
	CHECK_EQ_INT(bke_take_event(&e), BKE_EV_SKIPPED);
	CHECK(e.st == BKE_IDLE && e.snap_id == 0 && e.session == 1);
	/* the seal, cut: the reconnect is the run's second session */
	REQUIRE(bke_snapshot(&e, NULL) == 0);
	REQUIRE(take_out(b, sizeof b) == 23 + 260);
	REQUIRE(v3x_req_decode(&m, b, sizeof b, NULL) == 23 + 260);
	CHECK(m.op == V3X_SNAP_SEAL && m.sessions == 1 && m.name[0] == '\0');
	snprintf(e.id.name, sizeof e.id.name, "dev");   /* for the 1027 */
	bke_io_failed(&e, -ECONNRESET, "reset");
	CHECK_EQ_INT(bke_want(&e), BKE_WANT_CLOSE);
	bke_closed(&e);
	bke_waited(&e);
	REQUIRE(bke_want(&e) == BKE_WANT_CONNECT);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_SNAPSHOT);
	CHECK_EQ_INT(e.st, BKE_RECONNECT);
	CHECK_EQ_INT(e.run_sessions, 2);
	/* a new job on a fresh connection counts from 0 */
	bke_drop(&e);
	bke_run_begin(&e);
	CHECK_EQ_INT(e.run_sessions, 0);
}

/* A file of several checkpoints (BACKUP_CKPT_EVERY). */
static uint8_t big[3u << 20];

static void feed_big(void)
{
	uint64_t off;
	size_t len;
	uint8_t *p;

	REQUIRE(bke_want(&e) == BKE_WANT_READ);
	p = bke_slice(&e, &off, &len);
	REQUIRE(off + len <= sizeof big);
	memcpy(p, big + off, len);
	bke_slice_done(&e, 0);
}

/* A resume at O reads the kept bytes only from the newest checkpoint at
 * or before O (the cksum and SHA-256 state of the file's first bytes),
 * and still ends with the whole file's cksum and hash. */
TEST(vigil2_resume_reads_from_the_last_checkpoint)
{
	const uint64_t kept = (2u << 20) + 3 * 65536 + 100;
	uint8_t d[32];
	uint64_t off;
	size_t len;
	int dd = 1;

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 ^ i >> 9);
	setup(1);
	bke_set_trace(&e, "t1");
	REQUIRE(bke_open(&e) == 0);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_RESUME | V3X_CAP_TRACE);
	e.st = BKE_IDLE;        /* the 1048 as sent, the session up */
	session_up();
	REQUIRE(bke_file(&e, "/srv/big.bin", sizeof big) == 0);
	flush_out();
	reply_offset(0);
	while (e.loaded < kept + 2 * 65536) {
		feed_big();
		flush_out();
	}
	/* cut; the reconnect (white box: its 1605) and the 1045 */
	bke_io_failed(&e, -ECONNRESET, "reset");
	bke_closed(&e);
	bke_waited(&e);
	REQUIRE(bke_want(&e) == BKE_WANT_CONNECT);
	bke_connected(&e, 1);
	flush_out();
	reply_hello(V3X_CAP_RESUME | V3X_CAP_TRACE);
	REQUIRE(e.st == BKE_TRACE);
	session_up();
	flush_out();
	REQUIRE(e.st == BKE_OFFSET);
	flush_out();
	reply_offset(kept);
	CHECK_EQ_INT(e.st, BKE_PREFIX);
	(void)bke_slice(&e, &off, &len);
	CHECK(off == (2u << 20) + 65536 && len == 65536);
	while (e.st == BKE_PREFIX)
		feed_big();
	(void)bke_slice(&e, &off, &len);
	CHECK(off == kept);
	while (e.st != BKE_CRC) {
		feed_big();
		flush_out();
	}
	CHECK_EQ_INT(e.crc, cksum_buf(big, sizeof big));
	REQUIRE(mbedtls_sha256(big, sizeof big, d, 0) == 0);
	CHECK(memcmp(bke_file_sha256(&e, &dd), d, 32) == 0 && dd == 0);
}

TEST_SUITE(backup_engine, reconnect_every_reply_code,
	refused_key_twice_registers_again,
	io_failure_between_slices_is_retried,
	   register_and_pubkey_every_reply_code,
	   crc_and_commit_every_reply_code,
	   cksum_mismatch_three_times_then_abort_every_reply_code,
	   cut_at_every_step_is_retried, three_retry_outcomes,
	   refused_address_tries_the_next_at_once,
	   failed_resumption_reconnects_at_once_with_a_full_handshake,
	   vigil2_hello_then_attributes_before_the_stream,
	   vigil2_without_attr_cap_sends_no_1044,
	   vigil2_resume_sends_only_the_rest_with_the_whole_cksum,
	   vigil2_resume_at_zero_streams_from_the_start,
	   max_rate_pauses_between_packets_without_a_retry,
	   vigil2_server_without_extension_is_reconnected_without_hello,
	   vigil2_trace_id_sent_once_per_connection_and_job,
	   vigil2_unchanged_file_is_recorded_by_hash_without_a_stream,
	   vigil2_keep_and_seal_count_the_run_sessions,
	   vigil2_resume_reads_from_the_last_checkpoint,
	   vigil2_content_the_server_lacks_is_sent_and_hashed,
	   vigil2_no_1046_without_the_cap_the_hash_or_attributes,
	   vigil2_bad_1046_answer_is_retried,
	   vigil2_large_file_goes_in_segments,
	   vigil2_segment_answered_with_another_offset_is_retried,
	   vigil2_over_4_gib_segment_offsets_and_packet_counts,
	   over_the_v3_limit_without_large_files_is_skipped_unsent)

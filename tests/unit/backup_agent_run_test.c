/*
 * backup_agent_run_test.c — the agent's event-loop driver of the v3
 * engine (firmware/backup/backup_agent_run.c) over the simulated network,
 * against a scripted server on 192.0.2.1:1256: a job registers (a real
 * RSA key, a real 1602 wrapped with it) and sends a file; a 1607 to the
 * 160-byte key is retried on a new connection with a 162-byte one; a
 * cancel between two packets of a file closes the connection before any
 * 1029.
 *
 * The server: each connection plays script[] (steps at fixed times after
 * it is established, hal/sim.h).  The test reads what the agent sent
 * (hal_sim_net_sent), request by request, and writes a reply that
 * depends on it (the 1602 needs the key the 1026 carried; the 1603 the
 * file's name) into its step's buffer before that step is due: the steps
 * and their bytes are borrowed by the sim, so it plays what is there
 * when the time comes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_agent.h"
#include "backup_retry.h"
#include "cksum.h"
#include "hal/clock.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "log.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "test.h"
#include "test_util.h"
#include "v3.h"

EV_MEM_DEFINE(bar_mem, 8, 8);

/* Steps of one connection's script: a step a reply, STEP_MS apart, so
 * each is due well after the request it answers was sent (the agent
 * sends at once; the sim's clock moves only when the loop waits). */
#define STEPS 4
#define STEP_MS 500u
/* Bytes kept of a request: the header and the 1026's name and key
 * (longer than a 1028's fixed part with the name). */
#define REQ_KEEP (V3_REQ_HDR_SIZE + V3_NAME_FIELD + BACKUP_SPKI_MAX)
#define REQS_MAX 32

static struct ev_loop loop;
static struct backup_agent ba;
static struct backup_link pub;
static struct hal_addr srv;
static struct hal_sim_step script[STEPS];
static uint8_t reply[STEPS][V3_RESP_MAX];
static const uint8_t uuid[V3_ID_SIZE] = { 0x5e, 0x4e, 0x4e, 0x01 };

/* What the agent sent, request by request, across connections. */
static struct {
	int fd;                     /* the connection being read */
	unsigned conns;             /* connections seen */
	uint8_t cur[REQ_KEEP];
	size_t got, need;           /* of the request being read */
	uint16_t code[REQS_MAX];
	unsigned conn_of[REQS_MAX]; /* 1, 2, ... */
	uint8_t spki[REQS_MAX][BACKUP_SPKI_MAX + 2];
	size_t spki_len[REQS_MAX];
	char name[REQS_MAX][V3_NAME_FIELD];
	unsigned n;
} wire;

/* What the file's 1603 must say: plaintext cksum, ciphertext size. */
static uint32_t file_cksum;
static uint32_t file_cipher_size;

static void setup(size_t file_size)
{
	struct backup_agent_cfg cfg;
	static uint8_t data[200 * 1024];
	struct cksum_ctx ck;

	hal_sim_reset();
	(void)log_configure(LOG_INFO, 0, 0);
	REQUIRE(file_size <= sizeof data);
	REQUIRE(ev_init(&loop, &bar_mem) == 0);
	memset(&wire, 0, sizeof wire);
	wire.fd = -1;
	memset(script, 0, sizeof script);
	for (unsigned i = 0; i < STEPS; i++) {
		script[i].at_ms = (i + 1) * STEP_MS;
		script[i].kind = HAL_SIM_PEER_SEND;
		script[i].data = reply[i];
	}
	REQUIRE(hal_net_addr_parse("192.0.2.1", 1256, &srv) == 0);
	REQUIRE(hal_sim_net_add_peer(&(struct hal_sim_peer){
		.addr = srv, .type = HAL_SOCK_STREAM, .steps = script,
		.nsteps = STEPS }) == 0);
	for (size_t i = 0; i < file_size; i++)
		data[i] = (uint8_t)(i * 13 + i / 251);
	REQUIRE(hal_storage_mkdir("/data", 0700) == 0);
	REQUIRE(hal_storage_mkdir("/src", 0700) == 0);
	REQUIRE(hal_storage_write_atomic("/src/a.bin", data, file_size,
					 0600) == 0);
	cksum_init(&ck);
	cksum_update(&ck, data, file_size);
	file_cksum = cksum_final(&ck);
	file_cipher_size = (uint32_t)((file_size / 16 + 1) * 16);

	memset(&pub, 0, sizeof pub);
	backup_agent_init(&ba, &loop, &pub, NULL);
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.server, sizeof cfg.server, "tcp://192.0.2.1:1256");
	snprintf(cfg.paths, sizeof cfg.paths, "/src");
	snprintf(cfg.name, sizeof cfg.name, "box");
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "/data");
	backup_agent_configure(&ba, &cfg);
}

/* Sets step i to a reply of code (its other fields from the arguments). */
static void set_reply(unsigned i, uint16_t code, const uint8_t *key,
		      const char *name, uint32_t cksum)
{
	struct v3_resp r = { .code = code, .key = key,
			     .key_len = key ? V3_RSA_BLOB_SIZE : 0,
			     .content_size = file_cipher_size,
			     .cksum = cksum };
	int n;

	memcpy(r.client_id, uuid, sizeof uuid);
	snprintf(r.name, sizeof r.name, "%s", name ? name : "");
	n = v3_resp_pack(reply[i], sizeof reply[i], &r, NULL);
	REQUIRE(n > 0);
	script[i].len = (size_t)n;
}

/* The little-endian number in p[0..n). */
static uint32_t le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Keeps what matters of a request the agent finished sending. */
static void request_done(void)
{
	unsigned k = wire.n;
	uint16_t code = (uint16_t)le(wire.cur + 17, 2);
	size_t body = wire.got - V3_REQ_HDR_SIZE;

	if (k >= REQS_MAX)
		return;
	wire.code[k] = code;
	wire.conn_of[k] = wire.conns;
	if (code == V3_REQ_PUBKEY && body > V3_NAME_FIELD) {
		wire.spki_len[k] = body - V3_NAME_FIELD;
		memcpy(wire.spki[k], wire.cur + V3_REQ_HDR_SIZE + V3_NAME_FIELD,
		       wire.spki_len[k]);
	}
	if (code == V3_REQ_FILE)
		memcpy(wire.name[k], wire.cur + V3_REQ_HDR_SIZE + 12,
		       V3_NAME_FIELD - 1);
	wire.n++;
}

/* Splits bytes the agent sent into requests (header size field). */
static void parse(const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t want = wire.need ? wire.need - wire.got
					: V3_REQ_HDR_SIZE - wire.got;
		size_t n = len < want ? len : want;

		if (wire.got + n <= REQ_KEEP)
			memcpy(wire.cur + wire.got, p, n);
		else if (wire.got < REQ_KEEP)
			memcpy(wire.cur + wire.got, p, REQ_KEEP - wire.got);
		wire.got += n;
		p += n;
		len -= n;
		if (!wire.need && wire.got == V3_REQ_HDR_SIZE)
			wire.need = V3_REQ_HDR_SIZE + le(wire.cur + 19, 4);
		if (wire.need && wire.got == wire.need) {
			request_done();
			wire.got = wire.need = 0;
		}
	}
}

/* Takes what the agent sent on its connection (a new one starts a new
 * request stream). */
static void drain(void)
{
	static uint8_t buf[16384];
	size_t n;

	if (ba.c.conn.fd < 0)
		return;
	if (ba.c.conn.fd != wire.fd || hal_sim_net_contacts(&srv) != wire.conns) {
		wire.fd = ba.c.conn.fd;
		wire.conns = hal_sim_net_contacts(&srv);
		wire.got = wire.need = 0;
	}
	while ((n = hal_sim_net_sent(wire.fd, buf, sizeof buf)) > 0)
		parse(buf, n);
}

/* Runs the loop for ms of sim time in 10 ms slices, reading the wire
 * after each, until stop() (if given) holds.  @retval stop() */
static int run(uint64_t ms, int (*stop)(void))
{
	uint64_t end = hal_clock_mono_ms() + ms;

	while (hal_clock_mono_ms() < end) {
		if (ev_run_once(&loop, 10) < 0)
			return 0;
		drain();
		if (stop && stop())
			return 1;
	}
	return stop ? stop() : 0;
}

/* The index of the last request with code in this connection, or -1. */
static int last_req(uint16_t code)
{
	for (int k = (int)wire.n - 1; k >= 0; k--)
		if (wire.code[k] == code && wire.conn_of[k] == wire.conns)
			return k;
	return -1;
}

/* The agent is connected, and the test reads that connection. */
static int on_conn(void)
{
	return ba.c.conn.fd >= 0 && wire.fd == ba.c.conn.fd &&
	       wire.conns == hal_sim_net_contacts(&srv);
}

static int sent_pubkey(void)
{
	return on_conn() && last_req(V3_REQ_PUBKEY) >= 0;
}

static int sent_file(void)
{
	return on_conn() && last_req(V3_REQ_FILE) >= 0;
}

static int job_ended(void)
{
	const struct backup_job *j = backup_agent_job(&ba, 1);

	return j && j->state != BACKUP_JOB_QUEUED &&
	       j->state != BACKUP_JOB_RUNNING;
}

/* The 1602 for the key of the last 1026: a fresh AES key wrapped with
 * RSA-OAEP(SHA-256), as vigil-backupd does. */
static void wrap_for_pubkey(uint8_t blob[V3_RSA_BLOB_SIZE])
{
	int k = last_req(V3_REQ_PUBKEY);
	uint8_t aes[BACKUP_AES_KEY_SIZE];
	mbedtls_pk_context pk;

	REQUIRE(k >= 0);
	memset(aes, 0x3a, sizeof aes);
	mbedtls_pk_init(&pk);
	REQUIRE(mbedtls_pk_parse_public_key(&pk, wire.spki[k],
					    wire.spki_len[k]) == 0);
	REQUIRE(mbedtls_rsa_set_padding(mbedtls_pk_rsa(pk),
					MBEDTLS_RSA_PKCS_V21,
					MBEDTLS_MD_SHA256) == 0);
	CHECK_EQ_INT(mbedtls_rsa_rsaes_oaep_encrypt(mbedtls_pk_rsa(pk),
						    backup_crypto_rng, NULL,
						    NULL, 0, sizeof aes, aes,
						    blob), 0);
	mbedtls_pk_free(&pk);
}

/* Step i answers the last 1026 of this connection with its 1602; the
 * test waits for that 1026 on the wire, then wraps the key for it. */
static void answer_pubkey(unsigned i)
{
	static uint8_t blob[STEPS][V3_RSA_BLOB_SIZE];

	REQUIRE(run(2 * STEP_MS, sent_pubkey));
	wrap_for_pubkey(blob[i]);
	set_reply(i, V3_RESP_AES_KEY, blob[i], NULL, 0);
}

/* Step i answers the file's 1028 with the 1603 a server computes. */
static void answer_file(unsigned i)
{
	REQUIRE(run(2 * STEP_MS, sent_file));
	set_reply(i, V3_RESP_FILE_CRC, NULL, wire.name[last_req(V3_REQ_FILE)],
		  file_cksum);
}

static int conn_closed(void) { return ba.c.conn.fd < 0; }

/* The first connection sent its key and is closed again. */
static int first_conn_over(void)
{
	return hal_sim_net_contacts(&srv) == 1 &&
	       last_req(V3_REQ_PUBKEY) >= 0 && conn_closed();
}

/* The script of a connection: steps in order, unset ones empty. */
static void script_reset(void)
{
	for (unsigned i = 0; i < STEPS; i++)
		script[i].len = 0;
}

TEST(job_registers_and_sends_a_file)
{
	const struct backup_job *j;
	struct backup_identity id;

	setup(1000);
	set_reply(0, V3_RESP_REGISTER_OK, NULL, NULL, 0);
	set_reply(3, V3_RESP_ACK, NULL, NULL, 0);
	REQUIRE(backup_agent_now(&ba, NULL) == 1);
	answer_pubkey(1);
	answer_file(2);
	CHECK(run(5000, job_ended));
	j = backup_agent_job(&ba, 1);
	REQUIRE(j);
	CHECK_EQ_STR(backup_job_state_name(j->state), "done");
	CHECK_EQ_STR(j->error, "");
	CHECK_EQ_INT(j->files_done, 1);
	CHECK_EQ_INT(j->files_failed, 0);
	CHECK_EQ_INT(j->bytes_done, 1000);
	/* on the wire: 1025, 1026, one 1028 (1000 bytes fit one slice), 1029 */
	REQUIRE(wire.n == 4);
	CHECK_EQ_INT(wire.code[0], V3_REQ_REGISTER);
	CHECK_EQ_INT(wire.code[1], V3_REQ_PUBKEY);
	CHECK_EQ_INT(wire.spki_len[1], V3_PUBKEY_SIZE_E17);
	CHECK_EQ_INT(wire.code[2], V3_REQ_FILE);
	CHECK_EQ_INT(wire.code[3], V3_REQ_CRC_OK);
	CHECK_EQ_INT(hal_sim_net_contacts(&srv), 1);
	/* the identity the 1600 gave is saved for the next start */
	REQUIRE(backup_identity_load("/data", &id) == 0);
	CHECK_EQ_MEM(id.uuid, uuid, V3_ID_SIZE);
	CHECK_EQ_STR(id.name, "box");
	/* the connection stays open for the next job */
	CHECK_EQ_STR(backup_agent_state(&ba), "connected");
	backup_agent_stop(&ba);
}

/* A server that takes only 162-byte keys answers the 160-byte one with
 * 1607: the attempt fails, and after a backoff a new connection sends a
 * 162-byte key (no second registration) and the file goes. */
TEST(reply_1607_then_retry_with_a_162_byte_key)
{
	const struct backup_job *j;
	uint64_t closed_at;

	setup(1000);
	set_reply(0, V3_RESP_REGISTER_OK, NULL, NULL, 0);
	set_reply(1, V3_RESP_ERROR, NULL, NULL, 0);
	REQUIRE(backup_agent_now(&ba, NULL) == 1);
	REQUIRE(run(4 * STEP_MS, first_conn_over));
	closed_at = hal_clock_mono_ms();
	j = backup_agent_job(&ba, 1);
	REQUIRE(j);
	CHECK_EQ_INT(j->state, BACKUP_JOB_RUNNING);
	CHECK_EQ_INT(hal_sim_net_contacts(&srv), 1);
	/* the second connection's script */
	script_reset();
	set_reply(2, V3_RESP_ACK, NULL, NULL, 0);
	answer_pubkey(0);
	CHECK_EQ_INT(hal_sim_net_contacts(&srv), 2);
	CHECK(hal_clock_mono_ms() - closed_at >= BACKUP_RETRY_BASE_MS * 3 / 4);
	answer_file(1);
	CHECK(run(5000, job_ended));
	CHECK_EQ_STR(backup_job_state_name(j->state), "done");
	CHECK_EQ_INT(j->files_done, 1);
	/* 1025, 1026 (160) | 1026 (162), 1028, 1029 */
	REQUIRE(wire.n == 5);
	CHECK_EQ_INT(wire.code[0], V3_REQ_REGISTER);
	CHECK_EQ_INT(wire.code[1], V3_REQ_PUBKEY);
	CHECK_EQ_INT(wire.spki_len[1], V3_PUBKEY_SIZE_E17);
	CHECK_EQ_INT(wire.conn_of[2], 2);
	CHECK_EQ_INT(wire.code[2], V3_REQ_PUBKEY);
	CHECK_EQ_INT(wire.spki_len[2], V3_PUBKEY_SIZE_E65537);
	CHECK_EQ_INT(wire.code[3], V3_REQ_FILE);
	CHECK_EQ_INT(wire.code[4], V3_REQ_CRC_OK);
	backup_agent_stop(&ba);
}

/* Cancel between two 1028s of a four-packet file: the connection closes
 * before any 1029, so a v3 server commits nothing of it. */
TEST(cancel_mid_file_closes_before_the_commit)
{
	const struct backup_job *j;
	unsigned files = 0;

	setup(200 * 1024);      /* 4 slices of BACKUP_SLICE */
	set_reply(0, V3_RESP_REGISTER_OK, NULL, NULL, 0);
	REQUIRE(backup_agent_now(&ba, NULL) == 1);
	answer_pubkey(1);
	REQUIRE(run(2 * STEP_MS, sent_file));
	j = backup_agent_job(&ba, 1);
	REQUIRE(j);
	CHECK_EQ_INT(j->state, BACKUP_JOB_RUNNING);
	CHECK(j->bytes_done < 200 * 1024);
	CHECK_EQ_INT(backup_agent_cancel(&ba, 1, "maintenance"), 1);
	run(2000, NULL);
	CHECK_EQ_STR(backup_job_state_name(j->state), "cancelled");
	CHECK_EQ_STR(j->cancel_reason, "maintenance");
	CHECK_EQ_INT(j->files_done, 0);
	CHECK(conn_closed());
	CHECK_EQ_STR(backup_agent_state(&ba), "standby");
	for (unsigned k = 0; k < wire.n; k++) {
		files += wire.code[k] == V3_REQ_FILE;
		CHECK(wire.code[k] != V3_REQ_CRC_OK &&
		      wire.code[k] != V3_REQ_CRC_RETRY &&
		      wire.code[k] != V3_REQ_CRC_ABORT);
	}
	CHECK(files >= 1 && files < 4);
	CHECK_EQ_INT(hal_sim_net_contacts(&srv), 1);
}

TEST_SUITE(backup_agent_run, job_registers_and_sends_a_file,
	   reply_1607_then_retry_with_a_162_byte_key,
	   cancel_mid_file_closes_before_the_commit)

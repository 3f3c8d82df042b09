/*
 * test_util.h — helpers that several unit tests share (tests/unit/
 * test_util.c, linked into unit-sim): hex input, hand-built CyberBackup v3
 * requests, deterministic random data, and running the simulated event
 * loop until it is idle.
 *
 * Tests build their inputs by hand, independently of the encoders under
 * test; these helpers are that hand, written once.
 */
#ifndef VIGIL_TEST_UTIL_H
#define VIGIL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "test.h"

struct ev_loop;

/* ---- hex ---- */

/* Decodes pairs of hex digits from hex into out; stops at the end of hex,
 * at a lone trailing digit or after cap bytes.  @retval bytes written */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

/* A malloc'd copy of hex's bytes (at most TEST_UNHEX_MAX), exactly that
 * long so that ASan guards the end; *n gets the length.  Freed by the
 * caller.  @retval NULL out of memory */
#define TEST_UNHEX_MAX 1024
uint8_t *test_unhex_dup(const char *hex, size_t *n);

/* Checks that out[0..n) is the hex `want` (at most 64 bytes). */
#define CHECK_HEX(out, n, want)                                             \
	do {                                                                \
		uint8_t w_[64];                                             \
		size_t wn_ = test_unhex(want, w_, sizeof w_);               \
		CHECK_EQ_INT(n, wn_);                                       \
		if ((size_t)(n) == wn_)                                     \
			CHECK_EQ_MEM(out, w_, wn_);                         \
	} while (0)

/* ---- CyberBackup v3 requests by hand (little-endian fields) ---- */

void test_put_le16(uint8_t *p, uint32_t v);
void test_put_le32(uint8_t *p, uint32_t v);

/* The 23-byte request header at p: id (16 bytes), version, code, size. */
void test_v3_req_hdr(uint8_t *p, const uint8_t *id, uint8_t version,
		     uint32_t code, uint32_t size);

/* A 255-byte name field at p: s, then NULs. */
void test_v3_name_field(uint8_t *p, const char *s);

/* A 1028 (file packet) request. */
struct test_v3_file {
	uint8_t version;
	uint32_t content, orig, packet, total;
	const char *name;
	size_t slice_len;
	uint8_t fill; /* every byte of the slice */
};

/* Writes the 1028 f into msg (V3_REQ_FILE_HEAD_MAX + f->slice_len bytes)
 * with the header's id.  @retval the bytes written */
size_t test_v3_file_req(uint8_t *msg, const uint8_t *id,
			const struct test_v3_file *f);

/* ---- deterministic test data (xorshift32) ---- */

/* Starts the sequence test_rand() gives at seed (not 0). */
void test_rand_seed(uint32_t seed);

/* The next number of the sequence. */
uint32_t test_rand(void);

/* buf[0..len) from the sequence started at seed. */
void test_fill_random(uint8_t *buf, size_t len, uint32_t seed);

/* ---- event loop ---- */

/* Runs loop's ready events without letting time pass, until none is
 * ready (at most 1000 rounds, so a busy loop cannot hang a test). */
void test_pump(struct ev_loop *loop);

#endif

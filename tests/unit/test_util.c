/* test_util.c — see test_util.h */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "v3.h"

/* see test_util.h */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < cap; hex += 2)
		out[n++] = (uint8_t)strtoul((char[3]){ hex[0], hex[1], 0 },
					    NULL, 16);
	return n;
}

/* see test_util.h */
uint8_t *test_unhex_dup(const char *hex, size_t *n)
{
	uint8_t tmp[TEST_UNHEX_MAX];
	uint8_t *p;

	*n = test_unhex(hex, tmp, sizeof tmp);
	p = malloc(*n ? *n : 1);
	if (p && *n)
		memcpy(p, tmp, *n);
	return p;
}

/* see test_util.h */
void test_put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
}

/* see test_util.h */
void test_put_le32(uint8_t *p, uint32_t v)
{
	test_put_le16(p, v & 0xffff);
	test_put_le16(p + 2, v >> 16);
}

/* see test_util.h */
void test_v3_req_hdr(uint8_t *p, const uint8_t *id, uint8_t version,
		     uint32_t code, uint32_t size)
{
	memcpy(p, id, V3_ID_SIZE);
	p[16] = version;
	test_put_le16(p + 17, code);
	test_put_le32(p + 19, size);
}

/* see test_util.h */
void test_v3_name_field(uint8_t *p, const char *s)
{
	memset(p, 0, V3_NAME_FIELD);
	memcpy(p, s, strlen(s));
}

/* see test_util.h */
size_t test_v3_file_req(uint8_t *msg, const uint8_t *id,
			const struct test_v3_file *f)
{
	uint8_t *p = msg + V3_REQ_HDR_SIZE;

	test_v3_req_hdr(msg, id, f->version, V3_REQ_FILE,
			(uint32_t)(V3_FILE_HEAD_SIZE + f->slice_len));
	test_put_le32(p, f->content);
	test_put_le32(p + 4, f->orig);
	test_put_le16(p + 8, f->packet);
	test_put_le16(p + 10, f->total);
	test_v3_name_field(p + 12, f->name);
	memset(p + V3_FILE_HEAD_SIZE, f->fill, f->slice_len);
	return V3_REQ_FILE_HEAD_MAX + f->slice_len;
}

/* see test_util.h */
void test_pump(struct ev_loop *loop)
{
	for (int i = 0; i < 1000 && ev_run_once(loop, 0) > 0; i++)
		;
}

/* ---- deterministic test data ---- */

static uint32_t test_rand_state = 1;

/* see test_util.h */
void test_rand_seed(uint32_t seed)
{
	test_rand_state = seed;
}

/* see test_util.h */
uint32_t test_rand(void)
{
	uint32_t x = test_rand_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	test_rand_state = x;
	return x;
}

/* see test_util.h */
void test_fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
	test_rand_seed(seed);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(test_rand() >> 24);
}

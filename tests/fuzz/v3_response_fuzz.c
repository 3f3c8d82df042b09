/*
 * v3_response_fuzz.c — libFuzzer target for the CyberBackup v3 response
 * parser and packer (protocol/v3_resp.c).  Names alone are
 * v3_name_fuzz.c's.
 *
 * The input is read as a client reads a connection: responses one after
 * another (at most MAX_MSGS).  Properties checked (__builtin_trap on
 * violation):
 *   - decode never reads past the input (ASan); its result and reason
 *     agree with an independent model of the rules (version, code, the
 *     code's exact payload size, V3_E_KEY_SIZE for a 1602/1605 that holds
 *     the id but not 128 key bytes; -EAGAIN only when incomplete; only a
 *     1603 name can fail in the payload);
 *   - header + payload parse agree with decode;
 *   - an accepted response packs back to the same bytes (1603 name
 *     padding after the NUL zeroed) and decodes to the same fields;
 *   - targeted damage to an accepted response gives its specific error:
 *     version 2 -> V3_E_VERSION, code 1608 -> V3_E_CODE, one byte
 *     missing -> -EAGAIN, payload one byte longer -> V3_E_SIZE_LAYOUT (or
 *     V3_E_KEY_SIZE for 1602/1605), the 1603 name without its NUL ->
 *     V3_E_NAME_UNTERMINATED.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "v3.h"

#define MAX_MSGS 16
#define NAME_OFF (V3_RESP_HDR_SIZE + 20) /* 1603: id 16, content size 4 */

static uint8_t canon[V3_RESP_MAX + 1];

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The rules, written again from the protocol document. */
static enum v3_reason hdr_model(const uint8_t *h)
{
	static const uint32_t sizes[8] = { 16, 0, 144, 279, 16, 144, 16, 0 };
	uint32_t code = (uint32_t)h[1] | (uint32_t)h[2] << 8;
	uint32_t size = le32(h + 3);

	if (h[0] != 3)
		return V3_E_VERSION;
	if (code < 1600 || code > 1607)
		return V3_E_CODE;
	if (size == sizes[code - 1600])
		return V3_OK;
	if ((code == 1602 || code == 1605) && size >= 16)
		return V3_E_KEY_SIZE;
	return V3_E_SIZE_LAYOUT;
}

static void decode_model(const uint8_t *data, size_t size, int n,
			 enum v3_reason why)
{
	enum v3_reason m;

	if (size < V3_RESP_HDR_SIZE) {
		require(n == -EAGAIN && why == V3_E_LENGTH);
		return;
	}
	m = hdr_model(data);
	if (m != V3_OK) {
		require(n == -EBADMSG && why == m);
		return;
	}
	if (le32(data + 3) > size - V3_RESP_HDR_SIZE) {
		require(n == -EAGAIN && why == V3_E_LENGTH);
		return;
	}
	if (n > 0) {
		require(why == V3_OK && (size_t)n == V3_RESP_HDR_SIZE +
					 le32(data + 3));
		return;
	}
	/* only a 1603 name can be wrong, and only by its missing NUL */
	require(n == -EBADMSG && why == V3_E_NAME_UNTERMINATED);
	require(memchr(data + NAME_OFF, 0, V3_NAME_FIELD) == NULL);
}

static void same_fields(const struct v3_resp *a, const struct v3_resp *b)
{
	require(a->code == b->code && a->payload_size == b->payload_size);
	require(memcmp(a->client_id, b->client_id, V3_ID_SIZE) == 0);
	require(a->key_len == b->key_len);
	require(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
	require(a->content_size == b->content_size && a->cksum == b->cksum);
	require(strcmp(a->name, b->name) == 0);
}

static void must_fail(size_t len, int err, enum v3_reason w)
{
	struct v3_resp r;
	enum v3_reason why = V3_OK;

	require(v3_resp_decode(&r, canon, len, &why) == err && why == w);
}

/* Damage one thing at a time in canon (the accepted response, n bytes). */
static void damage(const struct v3_resp *r, size_t n)
{
	int key = r->code == V3_RESP_AES_KEY || r->code == V3_RESP_RECONNECT_OK;

	canon[0] = 2;
	must_fail(n, -EBADMSG, V3_E_VERSION);
	canon[0] = 3;
	canon[1] = 0x48; /* 1608 = 0x0648 */
	must_fail(n, -EBADMSG, V3_E_CODE);
	canon[1] = (uint8_t)(r->code & 0xff);
	must_fail(n - 1, -EAGAIN, V3_E_LENGTH);
	put32(canon + 3, r->payload_size + 1);
	canon[n] = 0;
	must_fail(n + 1, -EBADMSG, key ? V3_E_KEY_SIZE : V3_E_SIZE_LAYOUT);
	put32(canon + 3, r->payload_size);
	if (r->code == V3_RESP_FILE_CRC) {
		size_t len = strlen(r->name);

		memset(canon + NAME_OFF + len, 'x', V3_NAME_FIELD - len);
		must_fail(n, -EBADMSG, V3_E_NAME_UNTERMINATED);
	}
}

static void round_trip(const uint8_t *data, int n, const struct v3_resp *r)
{
	uint8_t out[V3_RESP_MAX];
	struct v3_resp again;

	require(n <= V3_RESP_MAX);
	require(v3_resp_pack(out, sizeof out, r, NULL) == n);
	require(v3_resp_pack(out, (size_t)n - 1, r, NULL) == -ENOSPC);
	memcpy(canon, data, (size_t)n);
	if (r->code == V3_RESP_FILE_CRC) {
		size_t len = strlen(r->name);

		memset(canon + NAME_OFF + len, 0, V3_NAME_FIELD - len);
	}
	require(memcmp(out, canon, (size_t)n) == 0);
	require(v3_resp_decode(&again, out, (size_t)n, NULL) == n);
	same_fields(r, &again);
	damage(r, (size_t)n);
}

static void streaming_agrees(const uint8_t *data, size_t size, int n,
			     const struct v3_resp *whole)
{
	struct v3_resp r;
	int ret;

	if (size < V3_RESP_HDR_SIZE)
		return;
	ret = v3_resp_hdr_parse(&r, data, V3_RESP_HDR_SIZE, NULL);
	if (ret < 0) {
		require(n == ret);
		return;
	}
	if (r.payload_size > size - V3_RESP_HDR_SIZE) {
		require(n == -EAGAIN);
		return;
	}
	ret = v3_resp_payload_parse(&r, data + V3_RESP_HDR_SIZE,
				    r.payload_size, NULL);
	require(ret == (n > 0 ? 0 : n));
	if (n > 0)
		same_fields(&r, whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;

	for (int i = 0; i < MAX_MSGS; i++) {
		struct v3_resp r;
		enum v3_reason why = V3_OK;
		int n = v3_resp_decode(&r, p, left, &why);

		require(n != 0);
		decode_model(p, left, n, why);
		streaming_agrees(p, left, n, &r);
		if (n < 0)
			break;
		round_trip(p, n, &r);
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/*
 * v3x_fuzz.c — libFuzzer target for the vigil/2 extension messages
 * (protocol/v3x.c): the requests a server parses and the responses a
 * restoring client parses.
 *
 * The first input byte picks the direction (even: requests, odd:
 * responses); the rest is read as a connection: messages one after
 * another (at most MAX_MSGS).  Properties (__builtin_trap on violation):
 *   - decode never reads past the input (ASan); -EAGAIN only when the
 *     input is shorter than the header or than header + payload size;
 *   - the header's result agrees with an independent model (version 4,
 *     the code range, the layout's payload sizes);
 *   - header + payload parse agree with decode (for 1643 also the
 *     head-only parse, which gives the same fields and the data length);
 *   - an accepted message packs back to the same bytes, with the name
 *     padding after the NUL and a request's client id zeroed;
 *   - is_ext is true for every header the parser accepts.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "v3x.h"

#define MAX_MSGS 16
#define OUT_MAX (V3_RESP_HDR_SIZE + V3X_DATA_HEAD + V3X_CHUNK_MAX)

static uint8_t out[OUT_MAX];
static uint8_t canon[OUT_MAX];

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

/* The header rules written again from the protocol document. */
static enum v3_reason req_model(const uint8_t *h)
{
	uint32_t code = (uint32_t)h[17] | (uint32_t)h[18] << 8;
	uint32_t size = le32(h + 19);
	uint32_t want = code == 1040 ? 4 : code == 1041 ? 271 :
			code == 1043 ? 279 : code == 1044 ? 271 :
			code == 1045 ? 263 : code == 1046 ? 311 :
			code == 1047 ? 275 : code == 1048 ? 32 :
			code == 1049 ? 260 : 0;

	if (h[16] != 4)
		return V3_E_VERSION;
	if (want == 0)
		return V3_E_CODE;
	return size == want ? V3_OK : V3_E_SIZE_LAYOUT;
}

static enum v3_reason resp_model(const uint8_t *h)
{
	uint32_t code = (uint32_t)h[1] | (uint32_t)h[2] << 8;
	uint32_t s = le32(h + 3);
	int ok;

	if (h[0] != 4)
		return V3_E_VERSION;
	switch (code) {
	case 1640: ok = s == 8; break;
	case 1641: ok = s >= 42 && s <= 291; break;
	case 1642: ok = s == 13; break;
	case 1643: ok = s >= 20 && s <= 20 + 1048576u; break;
	case 1645: ok = s == 8; break;
	case 1646: ok = s == 1; break;
	case 1647: ok = s == 8; break;
	case 1648: ok = s == 12; break;
	case 1649: ok = s == 4; break;
	default: return V3_E_CODE;
	}
	return ok ? V3_OK : V3_E_SIZE_LAYOUT;
}

/* The bytes an accepted message must pack to: the padding after a name
 * field's NUL (at name_off, 255 bytes) zeroed, and a request's id. */
static void canonical(const uint8_t *msg, size_t len, size_t name_off,
		      int req)
{
	memcpy(canon, msg, len);
	if (req)
		memset(canon, 0, V3_ID_SIZE);
	if (name_off > 0) {
		uint8_t *nul = memchr(canon + name_off, 0, V3_NAME_FIELD);

		require(nul != NULL);
		memset(nul, 0, V3_NAME_FIELD - (size_t)(nul - (canon + name_off)));
	}
}

static size_t req_name_off(uint16_t code)
{
	/* 1048: the parser takes only zeros after the trace id */
	if (code == V3X_REQ_TRACE)
		return 0;
	return code == V3X_REQ_HELLO ? 0 : V3_REQ_HDR_SIZE +
	       (code == V3X_REQ_READ ? 24u : code == V3X_REQ_OFFSET ? 8u :
		code == V3X_REQ_HAVE ? 56u : code == V3X_REQ_SEGMENT ? 20u :
		code == V3X_REQ_SNAPSHOT ? 5u : 16u);
}

static int one_req(const uint8_t *d, size_t size)
{
	struct v3x_msg m, h;
	enum v3_reason why = V3_OK, model;
	int n = v3x_req_decode(&m, d, size, &why);

	if (size < V3_REQ_HDR_SIZE) {
		require(n == -EAGAIN);
		return n;
	}
	model = req_model(d);
	require(v3x_req_is_ext(d) || model != V3_OK);
	if (model != V3_OK) {
		require(n == -EBADMSG && why == model);
		return n;
	}
	require(v3x_req_hdr_parse(&h, d, V3_REQ_HDR_SIZE, NULL) == 0);
	if (size - V3_REQ_HDR_SIZE < h.payload_size) {
		require(n == -EAGAIN);
		return n;
	}
	require(v3x_req_payload_parse(&h, d + V3_REQ_HDR_SIZE, h.payload_size,
				      NULL) == (n < 0 ? n : 0));
	if (n < 0)
		return n;
	require((size_t)n == V3_REQ_HDR_SIZE + m.payload_size);
	require(memcmp(&h, &m, sizeof h) == 0);
	canonical(d, (size_t)n, req_name_off(m.code), 1);
	require(v3x_req_pack(out, sizeof out, &m, NULL) == n);
	require(memcmp(out, canon, (size_t)n) == 0);
	return n;
}

static void resp_repack(const struct v3x_msg *m, const uint8_t *d, int n)
{
	require(v3x_resp_pack(out, sizeof out, m, NULL) == n);
	require(memcmp(out, d, (size_t)n) == 0);
}

static void data_head_only(const struct v3x_msg *m, const uint8_t *d)
{
	struct v3x_msg h;

	require(v3x_resp_hdr_parse(&h, d, V3_RESP_HDR_SIZE, NULL) == 0);
	require(v3x_resp_payload_parse(&h, d + V3_RESP_HDR_SIZE, V3X_DATA_HEAD,
				       NULL) == 0);
	require(h.data == NULL && h.data_len == m->data_len &&
		h.file_id == m->file_id && h.offset == m->offset);
	require(v3x_resp_pack(out, sizeof out, &h, NULL) ==
		V3_RESP_HDR_SIZE + V3X_DATA_HEAD);
	require(memcmp(out, d, V3_RESP_HDR_SIZE + V3X_DATA_HEAD) == 0);
}

static int one_resp(const uint8_t *d, size_t size)
{
	struct v3x_msg m, h;
	enum v3_reason why = V3_OK, model;
	int n = v3x_resp_decode(&m, d, size, &why);

	if (size < V3_RESP_HDR_SIZE) {
		require(n == -EAGAIN);
		return n;
	}
	model = resp_model(d);
	require(v3x_resp_is_ext(d) || model != V3_OK);
	if (model != V3_OK) {
		require(n == -EBADMSG && why == model);
		return n;
	}
	require(v3x_resp_hdr_parse(&h, d, V3_RESP_HDR_SIZE, NULL) == 0);
	if (size - V3_RESP_HDR_SIZE < h.payload_size) {
		require(n == -EAGAIN);
		return n;
	}
	require(v3x_resp_payload_parse(&h, d + V3_RESP_HDR_SIZE,
				       h.payload_size, NULL) == (n < 0 ? n : 0));
	if (n < 0)
		return n;
	require((size_t)n == V3_RESP_HDR_SIZE + m.payload_size);
	resp_repack(&m, d, n);
	if (m.code == V3X_RESP_DATA)
		data_head_only(&m, d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int resp;

	if (size == 0)
		return 0;
	resp = data[0] & 1;
	data++;
	size--;
	for (int k = 0; k < MAX_MSGS && size > 0; k++) {
		int n = resp ? one_resp(data, size) : one_req(data, size);

		if (n <= 0)
			break;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

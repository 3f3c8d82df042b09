/*
 * v3_resp.c — CyberBackup v3 responses (1600-1607): header and payload
 * parse (client side) and pack (server side).
 *
 * Header (7 bytes): version @0 (1), code @1 (u16), payload size @3 (u32).
 * Payloads, offsets from the payload start:
 *   1601, 1607         (empty)                                     = 0
 *   1600, 1604, 1606   client id @0 (16)                           = 16
 *   1602, 1605         client id @0, RSA-OAEP-wrapped key @16 (128) = 144
 *   1603               client id @0, content size @16 (u32),
 *                      file name @20 (255), cksum @275 (u32)      = 279
 */
#include "v3_int.h"

#define HDR_CODE   1
#define HDR_SIZE   3
#define R_KEY      V3_ID_SIZE
#define R_CONTENT  V3_ID_SIZE
#define R_NAME     (R_CONTENT + 4)
#define R_CKSUM    (R_NAME + V3_NAME_FIELD)
#define KEY_RESP_SIZE (V3_ID_SIZE + V3_RSA_BLOB_SIZE)

/* The payload size of a response code, or -1 for codes that are not
 * responses. */
static int64_t resp_size(uint16_t code)
{
	switch (code) {
	case V3_RESP_REGISTER_FAIL:
	case V3_RESP_ERROR:
		return 0;
	case V3_RESP_REGISTER_OK:
	case V3_RESP_ACK:
	case V3_RESP_RECONNECT_DENIED:
		return V3_ID_SIZE;
	case V3_RESP_AES_KEY:
	case V3_RESP_RECONNECT_OK:
		return KEY_RESP_SIZE;
	case V3_RESP_FILE_CRC:
		return V3_CRC_RESP_SIZE;
	default:
		return -1;
	}
}

static int has_key(uint16_t code)
{
	return code == V3_RESP_AES_KEY || code == V3_RESP_RECONNECT_OK;
}

/* see v3.h */
int v3_resp_hdr_parse(struct v3_resp *r, const uint8_t *buf, size_t len,
		      enum v3_reason *why)
{
	int64_t want;

	if (len != V3_RESP_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	memset(r, 0, sizeof *r);
	r->version = buf[0];
	r->code = v3_get_le16(buf + HDR_CODE);
	r->payload_size = v3_get_le32(buf + HDR_SIZE);
	if (r->version != V3_VERSION)
		return v3_fail(why, V3_E_VERSION, -EBADMSG);
	want = resp_size(r->code);
	if (want < 0)
		return v3_fail(why, V3_E_CODE, -EBADMSG);
	/* a key response with the id but another blob size: say "key" */
	if (has_key(r->code) && r->payload_size >= V3_ID_SIZE &&
	    r->payload_size != (uint32_t)want)
		return v3_fail(why, V3_E_KEY_SIZE, -EBADMSG);
	if (r->payload_size != (uint32_t)want)
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_resp_payload_parse(struct v3_resp *r, const uint8_t *buf, size_t len,
			  enum v3_reason *why)
{
	int64_t want = resp_size(r->code);
	int n;

	if (want < 0 || len != r->payload_size)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	if (len != (uint64_t)want)
		return v3_fail(why, has_key(r->code) ? V3_E_KEY_SIZE
						      : V3_E_SIZE_LAYOUT,
			       -EBADMSG);
	if (len >= V3_ID_SIZE)
		memcpy(r->client_id, buf, V3_ID_SIZE);
	if (has_key(r->code)) {
		r->key = buf + R_KEY;
		r->key_len = V3_RSA_BLOB_SIZE;
	} else if (r->code == V3_RESP_FILE_CRC) {
		r->content_size = v3_get_le32(buf + R_CONTENT);
		n = v3_name_field_get(r->name, buf + R_NAME, why);
		if (n < 0)
			return n;
		r->cksum = v3_get_le32(buf + R_CKSUM);
	}
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_resp_decode(struct v3_resp *r, const uint8_t *buf, size_t len,
		   enum v3_reason *why)
{
	int ret;

	if (len < V3_RESP_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3_resp_hdr_parse(r, buf, V3_RESP_HDR_SIZE, why);
	if (ret < 0)
		return ret;
	/* payload_size <= V3_CRC_RESP_SIZE here: no overflow below */
	if (r->payload_size > len - V3_RESP_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3_resp_payload_parse(r, buf + V3_RESP_HDR_SIZE,
				    r->payload_size, why);
	if (ret < 0)
		return ret;
	return (int)(V3_RESP_HDR_SIZE + r->payload_size);
}

/* see v3.h */
int v3_resp_pack(uint8_t *out, size_t cap, const struct v3_resp *r,
		 enum v3_reason *why)
{
	int64_t want = resp_size(r->code);
	uint8_t *p = out + V3_RESP_HDR_SIZE;
	int n = 0;

	if (want < 0)
		return v3_fail(why, V3_E_CODE, -EINVAL);
	if (has_key(r->code) &&
	    (!r->key || r->key_len != V3_RSA_BLOB_SIZE))
		return v3_fail(why, V3_E_KEY_SIZE, -EINVAL);
	if (r->code == V3_RESP_FILE_CRC) {
		n = v3_name_len(r->name, why);
		if (n < 0)
			return n;
	}
	if (cap < V3_RESP_HDR_SIZE + (size_t)want)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	out[0] = V3_VERSION;
	v3_put_le16(out + HDR_CODE, r->code);
	v3_put_le32(out + HDR_SIZE, (uint32_t)want);
	if (want >= V3_ID_SIZE)
		memcpy(p, r->client_id, V3_ID_SIZE);
	if (has_key(r->code))
		memcpy(p + R_KEY, r->key, V3_RSA_BLOB_SIZE);
	if (r->code == V3_RESP_FILE_CRC) {
		v3_put_le32(p + R_CONTENT, r->content_size);
		v3_name_field_put(p + R_NAME, r->name, (size_t)n);
		v3_put_le32(p + R_CKSUM, r->cksum);
	}
	return v3_fail(why, V3_OK, (int)(V3_RESP_HDR_SIZE + want));
}

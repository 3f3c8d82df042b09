/*
 * v3_req.c — CyberBackup v3 requests (1025-1031): header and payload
 * parse (server side) and pack (client side).
 *
 * Header (23 bytes): client id @0 (16), version @16 (1), code @17 (u16),
 * payload size @19 (u32).  Payloads, offsets from the payload start:
 *   1025, 1027, 1029-1031  name @0 (255)                         = 255
 *   1026                   name @0 (255), public key @255        = 415|417
 *   1028                   content size @0 (u32), orig size @4 (u32),
 *                          packet @8 (u16), total @10 (u16),
 *                          file name @12 (255), slice @267       > 267
 * Version 4 (V3_VERSION_CLEAR, the vigil/2 extension) has the same
 * layouts; its 1028 slice is plaintext, so content size = orig size and
 * an empty file is one packet of exactly 267 bytes.
 * The original C++ client's forms parse too (split_key_field: its key
 * with slack; content_whole: its IV block and per-packet content sizes).
 * Pack and parse apply the same checks (check_name, check_pubkey,
 * check_file), so whatever one accepts the other produces (a key's slack
 * as zeros): the fuzz targets test that round trip.
 */
#include "v3_int.h"

#define HDR_VERSION 16
#define HDR_CODE    17
#define HDR_SIZE    19
#define F_CONTENT   0
#define F_ORIG      4
#define F_PACKET    8
#define F_TOTAL     10
#define F_NAME      12
#define PUBKEY_OFF  V3_NAME_FIELD

/* Largest whole message v3_req_pack may return as an int (int is at
 * least 32 bits on every target); beyond the 16 MiB cap anyway. */
#define REQ_PACK_MAX ((uint32_t)INT32_MAX)

static int is_request(uint16_t code)
{
	return code >= V3_REQ_REGISTER && code <= V3_REQ_CRC_ABORT;
}

static int is_clear(const struct v3_req *r)
{
	return r->version == V3_VERSION_CLEAR;
}

static int layout_ok(const struct v3_req *r, uint32_t size)
{
	switch (r->code) {
	case V3_REQ_PUBKEY:
		return size == V3_NAME_FIELD + V3_PUBKEY_SIZE_E17 ||
		       size == V3_NAME_FIELD + V3_PUBKEY_SIZE_E65537;
	case V3_REQ_FILE:
		/* a slice of at least one byte follows the fixed part; in
		 * clear, an empty file has an empty slice */
		return is_clear(r) ? size >= V3_FILE_HEAD_SIZE
				   : size > V3_FILE_HEAD_SIZE;
	default:
		return size == V3_NAME_FIELD;
	}
}

/* Client names for 1025-1027, file names for 1028-1031. */
static int check_name(uint16_t code, const char *name, size_t n,
		      enum v3_reason *why)
{
	if (code <= V3_REQ_RECONNECT)
		return v3_client_name_check(name, n, why);
	return v3_file_name_check(name, n, why);
}

/* The DER SubjectPublicKeyInfo of an RSA key with a 1024-bit modulus
 * (RFC 5280 4.1.2.7, RFC 8017 A.1.1), len = 160 or 162:
 *   @0   30 81 (len-3)     SEQUENCE
 *   @3   30 0d 06 09 2a 86 48 86 f7 0d 01 01 01 05 00
 *                          AlgorithmIdentifier: rsaEncryption, NULL
 *   @18  03 81 (len-21) 00 BIT STRING, no unused bits
 *   @22  30 81 (len-25)    RSAPublicKey SEQUENCE
 *   @25  02 81 81 00       INTEGER n: 129 bytes, a 0 before the top bit
 *   @29  n, 128 bytes      its first byte >= 0x80: exactly 1024 bits
 *   @157 02 el e           INTEGER e: el = len - 159 (1 or 3) bytes
 * Every length byte is fixed by len, so the key is compared with this
 * template instead of parsed; the crypto layer imports it later. */
#define SPKI_HEAD 29
#define SPKI_E_OFF 157

static const uint8_t spki_head[SPKI_HEAD] = {
	0x30, 0x81, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48,
	0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x81,
	0x00, 0x00, 0x30, 0x81, 0x00, 0x02, 0x81, 0x81, 0x00
};

/* e: minimal (no leading zero byte), odd and at least 3, as RSA needs. */
static int exponent_ok(const uint8_t *e, size_t el)
{
	if (e[0] == 0 || (e[el - 1] & 1) == 0)
		return 0;
	return el > 1 || e[0] >= 3;
}

static int check_pubkey(const uint8_t *key, size_t len, enum v3_reason *why)
{
	uint8_t head[SPKI_HEAD];
	size_t el;

	if (!key || (len != V3_PUBKEY_SIZE_E17 && len != V3_PUBKEY_SIZE_E65537))
		return v3_fail(why, V3_E_KEY_SIZE, -EBADMSG);
	el = len - SPKI_E_OFF - 2;
	memcpy(head, spki_head, sizeof head);
	head[2] = (uint8_t)(len - 3);
	head[20] = (uint8_t)(len - 21);
	head[24] = (uint8_t)(len - 25);
	if (memcmp(key, head, sizeof head) != 0 || key[SPKI_HEAD] < 0x80 ||
	    key[SPKI_E_OFF] != 0x02 || key[SPKI_E_OFF + 1] != el ||
	    !exponent_ok(key + SPKI_E_OFF + 2, el))
		return v3_fail(why, V3_E_KEY_FORMAT, -EBADMSG);
	return 0;
}

/* The 1026 key field (160 or 162 bytes) into r->key, key_len, key_slack.
 * The DER is self-delimiting: a 162-byte key says 0x9f (159) at @2, a
 * 160-byte one 0x9d (157), so a 162-byte field starting 30 81 9d holds a
 * 160-byte key and 2 bytes of slack (the original C++ client), and no
 * 162-byte key can be read that way. */
static int split_key_field(struct v3_req *r, const uint8_t *field,
			   size_t len, enum v3_reason *why)
{
	size_t der = len;

	if (len == V3_PUBKEY_SIZE_E65537 && field[0] == 0x30 &&
	    field[1] == 0x81 && field[2] == V3_PUBKEY_SIZE_E17 - 3)
		der = V3_PUBKEY_SIZE_E17;
	r->key = field;
	r->key_len = der;
	r->key_slack = (uint8_t)(len - der);
	return check_pubkey(field, der, why);
}

/* The key and slack of a 1026 to pack: as split_key_field reads them. */
static int check_key_to_pack(const struct v3_req *r, enum v3_reason *why)
{
	if (r->key_slack != 0 && (r->key_slack != V3_PUBKEY_SLACK ||
				  r->key_len != V3_PUBKEY_SIZE_E17))
		return v3_fail(why, V3_E_KEY_SIZE, -EINVAL);
	return check_pubkey(r->key, r->key_len, why) < 0 ? -EINVAL : 0;
}

/* The largest size the whole stream of r's transfer can have, into
 * *whole: the content size itself when it is a whole size (version 4:
 * the original size; version 3: the CBC size, or V3_IV_BLOCK more: the
 * original C++ client), else, with per-packet content sizes (version 3,
 * total > 1, content size = this slice), V3_IV_BLOCK + the CBC size when
 * that fits a u32, the CBC size when not.
 * @retval 0 ok  @retval -1 the content size is none of these */
static int content_whole(const struct v3_req *r, size_t slice,
			 uint64_t *whole)
{
	uint32_t cbc;

	*whole = r->content_size;
	if (is_clear(r))
		return r->content_size == r->orig_size ? 0 : -1;
	if (v3_cbc_iv_block(r->orig_size, r->content_size) >= 0)
		return 0;
	if (v3_cbc_size(r->orig_size, &cbc) < 0)
		return -1;
	*whole = cbc;
	if (v3_cbc_iv_block(r->orig_size, *whole + V3_IV_BLOCK) == 1)
		*whole += V3_IV_BLOCK;
	return r->total > 1 && r->content_size == slice && slice <= *whole
		       ? 0 : -1;
}

/* The 1028 numbers; slice is this packet's ciphertext (version 4:
 * plaintext) length. */
static int check_file(const struct v3_req *r, size_t slice,
		      enum v3_reason *why)
{
	uint64_t whole;

	if (r->total == 0)
		return v3_fail(why, V3_E_PACKET_TOTAL, -EBADMSG);
	if (r->packet == 0 || r->packet > r->total)
		return v3_fail(why, V3_E_PACKET_NUMBER, -EBADMSG);
	if (content_whole(r, slice, &whole) < 0)
		return v3_fail(why, V3_E_CONTENT_SIZE, -EBADMSG);
	/* only a clear empty file has content size 0: one empty packet */
	if (r->content_size == 0 && r->total != 1)
		return v3_fail(why, V3_E_PACKET_TOTAL, -EBADMSG);
	if (r->content_size == 0)
		return slice == 0 ? 0 : v3_fail(why, V3_E_SLICE_SIZE, -EBADMSG);
	if (slice == 0 || slice > r->content_size ||
	    (r->total == 1 && slice != r->content_size))
		return v3_fail(why, V3_E_SLICE_SIZE, -EBADMSG);
	/* every packet carries at least one byte */
	if (r->total > whole)
		return v3_fail(why, V3_E_PACKET_TOTAL, -EBADMSG);
	return 0;
}

/* see v3.h */
int v3_req_hdr_parse_ext(struct v3_req *r, const uint8_t *buf, size_t len,
			 uint32_t cap, unsigned flags, enum v3_reason *why)
{
	if (len != V3_REQ_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	memset(r, 0, sizeof *r);
	memcpy(r->client_id, buf, V3_ID_SIZE);
	r->version = buf[HDR_VERSION];
	r->code = v3_get_le16(buf + HDR_CODE);
	r->payload_size = v3_get_le32(buf + HDR_SIZE);
	if (r->version != V3_VERSION &&
	    !(r->version == V3_VERSION_CLEAR && (flags & V3_PARSE_CLEAR)))
		return v3_fail(why, V3_E_VERSION, -EBADMSG);
	if (!is_request(r->code))
		return v3_fail(why, V3_E_CODE, -EBADMSG);
	if (r->payload_size > cap)
		return v3_fail(why, V3_E_SIZE_CAP, -EMSGSIZE);
	if (!layout_ok(r, r->payload_size))
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_req_hdr_parse(struct v3_req *r, const uint8_t *buf, size_t len,
		     uint32_t cap, enum v3_reason *why)
{
	return v3_req_hdr_parse_ext(r, buf, len, cap, 0, why);
}

/* see v3.h */
int v3_req_file_head_parse(struct v3_req *r, const uint8_t *buf, size_t len,
			   enum v3_reason *why)
{
	int n, ret;

	if (len != V3_FILE_HEAD_SIZE || r->code != V3_REQ_FILE ||
	    r->payload_size < V3_FILE_HEAD_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	r->content_size = v3_get_le32(buf + F_CONTENT);
	r->orig_size = v3_get_le32(buf + F_ORIG);
	r->packet = v3_get_le16(buf + F_PACKET);
	r->total = v3_get_le16(buf + F_TOTAL);
	r->data = NULL;
	r->data_len = r->payload_size - V3_FILE_HEAD_SIZE;
	ret = check_file(r, r->data_len, why);
	if (ret < 0)
		return ret;
	n = v3_name_field_get(r->name, buf + F_NAME, why);
	if (n < 0)
		return n;
	ret = v3_file_name_check(r->name, (size_t)n, why);
	if (ret < 0)
		return ret;
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_req_payload_parse(struct v3_req *r, const uint8_t *buf, size_t len,
			 enum v3_reason *why)
{
	int n, ret;

	if (!is_request(r->code) || len != r->payload_size)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	if (r->code == V3_REQ_FILE) {
		if (len < V3_FILE_HEAD_SIZE)
			return v3_fail(why, V3_E_LENGTH, -EINVAL);
		ret = v3_req_file_head_parse(r, buf, V3_FILE_HEAD_SIZE, why);
		if (ret < 0)
			return ret;
		r->data = buf + V3_FILE_HEAD_SIZE;
		return 0;
	}
	if (!layout_ok(r, r->payload_size))
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	n = v3_name_field_get(r->name, buf, why);
	if (n < 0)
		return n;
	ret = check_name(r->code, r->name, (size_t)n, why);
	if (ret < 0)
		return ret;
	if (r->code == V3_REQ_PUBKEY) {
		ret = split_key_field(r, buf + PUBKEY_OFF, len - PUBKEY_OFF,
				      why);
		if (ret < 0)
			return ret;
	}
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_req_decode_ext(struct v3_req *r, const uint8_t *buf, size_t len,
		      uint32_t cap, unsigned flags, enum v3_reason *why)
{
	int ret;

	if (len < V3_REQ_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	/* the returned count must fit an int */
	if (cap > REQ_PACK_MAX - V3_REQ_HDR_SIZE)
		cap = REQ_PACK_MAX - V3_REQ_HDR_SIZE;
	ret = v3_req_hdr_parse_ext(r, buf, V3_REQ_HDR_SIZE, cap, flags, why);
	if (ret < 0)
		return ret;
	if (r->payload_size > len - V3_REQ_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3_req_payload_parse(r, buf + V3_REQ_HDR_SIZE, r->payload_size,
				   why);
	if (ret < 0)
		return ret;
	return (int)(V3_REQ_HDR_SIZE + r->payload_size);
}

/* see v3.h */
int v3_req_decode(struct v3_req *r, const uint8_t *buf, size_t len,
		  uint32_t cap, enum v3_reason *why)
{
	return v3_req_decode_ext(r, buf, len, cap, 0, why);
}

/* Checks *r as parsing would and computes its payload size.  Returns 0
 * or -EINVAL. */
static int req_validate(const struct v3_req *r, uint32_t *payload,
			size_t *name_len, enum v3_reason *why)
{
	int n;

	if (r->version != 0 && r->version != V3_VERSION && !is_clear(r))
		return v3_fail(why, V3_E_VERSION, -EINVAL);
	if (!is_request(r->code))
		return v3_fail(why, V3_E_CODE, -EINVAL);
	n = v3_name_len(r->name, why);
	if (n < 0 || check_name(r->code, r->name, (size_t)n, why) < 0)
		return -EINVAL;
	*name_len = (size_t)n;
	switch (r->code) {
	case V3_REQ_PUBKEY:
		if (check_key_to_pack(r, why) < 0)
			return -EINVAL;
		*payload = (uint32_t)(V3_NAME_FIELD + r->key_len +
				      r->key_slack);
		break;
	case V3_REQ_FILE:
		if (r->data_len > REQ_PACK_MAX - V3_REQ_FILE_HEAD_MAX)
			return v3_fail(why, V3_E_SLICE_SIZE, -EINVAL);
		if (check_file(r, r->data_len, why) < 0)
			return -EINVAL;
		*payload = (uint32_t)(V3_FILE_HEAD_SIZE + r->data_len);
		break;
	default:
		*payload = V3_NAME_FIELD;
		break;
	}
	return 0;
}

/* Header and the payload up to (not including) a 1028 slice; invariant:
 * out has room for it (checked by the callers). */
static void req_put(uint8_t *out, const struct v3_req *r, uint32_t payload,
		    size_t name_len)
{
	uint8_t *p = out + V3_REQ_HDR_SIZE;

	memcpy(out, r->client_id, V3_ID_SIZE);
	out[HDR_VERSION] = is_clear(r) ? V3_VERSION_CLEAR : V3_VERSION;
	v3_put_le16(out + HDR_CODE, r->code);
	v3_put_le32(out + HDR_SIZE, payload);
	if (r->code == V3_REQ_FILE) {
		v3_put_le32(p + F_CONTENT, r->content_size);
		v3_put_le32(p + F_ORIG, r->orig_size);
		v3_put_le16(p + F_PACKET, r->packet);
		v3_put_le16(p + F_TOTAL, r->total);
		v3_name_field_put(p + F_NAME, r->name, name_len);
		return;
	}
	v3_name_field_put(p, r->name, name_len);
	if (r->code == V3_REQ_PUBKEY) {
		memcpy(p + PUBKEY_OFF, r->key, r->key_len);
		memset(p + PUBKEY_OFF + r->key_len, 0, r->key_slack);
	}
}

/* see v3.h */
int v3_req_pack_head(uint8_t *out, size_t cap, const struct v3_req *r,
		     enum v3_reason *why)
{
	uint32_t payload = 0;
	size_t name_len = 0, head;
	int ret = req_validate(r, &payload, &name_len, why);

	if (ret < 0)
		return ret;
	head = r->code == V3_REQ_FILE ? V3_REQ_FILE_HEAD_MAX
				      : V3_REQ_HDR_SIZE + (size_t)payload;
	if (cap < head)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	req_put(out, r, payload, name_len);
	return v3_fail(why, V3_OK, (int)head);
}

/* see v3.h */
int v3_req_pack(uint8_t *out, size_t cap, const struct v3_req *r,
		enum v3_reason *why)
{
	uint32_t payload = 0;
	size_t name_len = 0, total;
	int ret = req_validate(r, &payload, &name_len, why);

	if (ret < 0)
		return ret;
	if (r->code == V3_REQ_FILE && !r->data && r->data_len > 0)
		return v3_fail(why, V3_E_SLICE_SIZE, -EINVAL);
	total = V3_REQ_HDR_SIZE + (size_t)payload;
	if (cap < total)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	req_put(out, r, payload, name_len);
	if (r->code == V3_REQ_FILE && r->data_len > 0)
		memcpy(out + V3_REQ_FILE_HEAD_MAX, r->data, r->data_len);
	return v3_fail(why, V3_OK, (int)total);
}

/*
 * v3_request_fuzz.c — libFuzzer target for the CyberBackup v3 request
 * side: parser and packer (protocol/v3_req.c), the 1028 transfer helpers
 * (protocol/v3_file.c).  Names alone are v3_name_fuzz.c's.
 *
 * The input is read as a server of a vigil/2 connection reads it
 * (V3_PARSE_CLEAR: version 3 and 4 requests): requests one after another
 * (at most MAX_MSGS), each accepted 1028 fed to the transfer check.
 * Properties checked (__builtin_trap on violation):
 *   - decode never reads past the input (ASan); its result and reason
 *     agree with an independent model of the header rules (version, code,
 *     cap, layout, in that order), with errno <-> reason pairs fixed
 *     (-EMSGSIZE only for the cap, -EAGAIN only for "incomplete"), and a
 *     payload reason is one that code's layout can raise;
 *   - the streaming path (header parse, then payload parse) agrees with
 *     decode;
 *   - an accepted request packs back to the same bytes, except name
 *     padding after the NUL and a 1026 key field's slack after a 160-byte
 *     key (the original C++ client's form), which the parser ignores (and
 *     the packer writes as zeros); the re-packed bytes decode to the same
 *     fields; an accepted 1026's key and slack fill its key field, the
 *     slack only after a 160-byte key in a 162-byte field;
 *     a 1028's pack_head is the packed message's first 290 bytes;
 *   - targeted damage to an accepted request gives its specific error:
 *     version 5 -> V3_E_VERSION, version 4 without V3_PARSE_CLEAR (a v3
 *     connection) -> V3_E_VERSION, code 1032 -> V3_E_CODE, cap one below
 *     -> V3_E_SIZE_CAP, one byte missing -> -EAGAIN, fixed payload one
 *     byte longer -> V3_E_SIZE_LAYOUT, the name without its NUL ->
 *     V3_E_NAME_UNTERMINATED, a file name starting with '/' ->
 *     V3_E_NAME_SEPARATOR;
 *   - the transfer check completes a file only when the slices it took
 *     add up to the content size, or with per-packet content sizes (the
 *     original C++ client) to the CBC size of the original size or 16
 *     more, reports that IV block as the length says, and drops the
 *     transfer on any error;
 *   - the client's packet plan covers the content exactly, in v3 and in
 *     clear (version 4, where an empty file is one empty packet).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "v3.h"

#define MAX_MSG (V3_REQ_FILE_HEAD_MAX + 65536)
#define MAX_MSGS 16

static uint8_t out[MAX_MSG], canon[MAX_MSG + 1];

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

/* The header rules, written again from the protocol document, for a
 * vigil/2 connection (versions 3 and 4). */
static enum v3_reason hdr_model(const uint8_t *h, uint32_t cap)
{
	uint32_t code = (uint32_t)h[17] | (uint32_t)h[18] << 8;
	uint32_t size = le32(h + 19);

	if (h[16] != 3 && h[16] != 4)
		return V3_E_VERSION;
	if (code < 1025 || code > 1031)
		return V3_E_CODE;
	if (size > cap)
		return V3_E_SIZE_CAP;
	if (code == 1026)
		return size == 415 || size == 417 ? V3_OK : V3_E_SIZE_LAYOUT;
	if (code == 1028)   /* version 4: an empty file has no slice */
		return size >= 268u - (h[16] == 4) ? V3_OK : V3_E_SIZE_LAYOUT;
	return size == 255 ? V3_OK : V3_E_SIZE_LAYOUT;
}

static int is_name_reason(enum v3_reason w, int file)
{
	switch (w) {
	case V3_E_NAME_UNTERMINATED: case V3_E_NAME_EMPTY:
	case V3_E_NAME_CONTROL: case V3_E_NAME_NON_ASCII:
		return 1;
	case V3_E_NAME_TOO_LONG: case V3_E_NAME_CHAR:
	case V3_E_NAME_DOTDOT: case V3_E_NAME_SEPARATOR:
	case V3_E_NAME_DEVICE:
		return file;
	default:
		return 0;
	}
}

/* A payload reason that code can raise. */
static int payload_reason_ok(uint16_t code, enum v3_reason w)
{
	if (code == V3_REQ_PUBKEY && w == V3_E_KEY_FORMAT)
		return 1;
	if (code == V3_REQ_FILE &&
	    (w == V3_E_PACKET_TOTAL || w == V3_E_PACKET_NUMBER ||
	     w == V3_E_CONTENT_SIZE || w == V3_E_SLICE_SIZE))
		return 1;
	return is_name_reason(w, code >= V3_REQ_FILE);
}

/* decode's answer and reason agree with the model. */
static void decode_model(const uint8_t *data, size_t size, int n,
			 enum v3_reason why, uint16_t code)
{
	enum v3_reason m;

	if (size < V3_REQ_HDR_SIZE) {
		require(n == -EAGAIN && why == V3_E_LENGTH);
		return;
	}
	m = hdr_model(data, V3_PAYLOAD_CAP_DEFAULT);
	if (m != V3_OK) {
		require(why == m);
		require(n == (m == V3_E_SIZE_CAP ? -EMSGSIZE : -EBADMSG));
		return;
	}
	if (le32(data + 19) > size - V3_REQ_HDR_SIZE) {
		require(n == -EAGAIN && why == V3_E_LENGTH);
		return;
	}
	require(n > 0 ? why == V3_OK
		      : n == -EBADMSG && payload_reason_ok(code, why));
}

static void same_fields(const struct v3_req *a, const struct v3_req *b)
{
	require(memcmp(a->client_id, b->client_id, V3_ID_SIZE) == 0);
	require(a->version == b->version);
	require(a->code == b->code && a->payload_size == b->payload_size);
	require(strcmp(a->name, b->name) == 0);
	require(a->key_len == b->key_len && a->data_len == b->data_len);
	require(a->key_slack == b->key_slack);
	require(a->content_size == b->content_size &&
		a->orig_size == b->orig_size);
	require(a->packet == b->packet && a->total == b->total);
	require(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
	require(a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
}

/* The streaming calls must decide as decode did. */
static void streaming_agrees(const uint8_t *data, size_t size, int n,
			     const struct v3_req *whole)
{
	struct v3_req r;
	int ret;

	if (size < V3_REQ_HDR_SIZE)
		return;
	ret = v3_req_hdr_parse_ext(&r, data, V3_REQ_HDR_SIZE,
				   V3_PAYLOAD_CAP_DEFAULT, V3_PARSE_CLEAR, NULL);
	if (ret < 0) {
		require(n == ret);
		return;
	}
	if (r.payload_size > size - V3_REQ_HDR_SIZE) {
		require(n == -EAGAIN);
		return;
	}
	ret = v3_req_payload_parse(&r, data + V3_REQ_HDR_SIZE, r.payload_size,
				   NULL);
	require(ret == (n > 0 ? 0 : n));
	if (n > 0)
		same_fields(&r, whole);
}

/* decode of canon[0..len) with cap, on a vigil/2 connection, fails with
 * exactly (err, reason). */
static void must_fail(size_t len, uint32_t cap, int err, enum v3_reason w)
{
	struct v3_req r;
	enum v3_reason why = V3_OK;

	require(v3_req_decode_ext(&r, canon, len, cap, V3_PARSE_CLEAR,
				  &why) == err && why == w);
}

/* Damage one thing at a time in canon (the accepted request, n bytes,
 * padding zeroed); each must be refused for its own reason. */
static void damage(const struct v3_req *r, size_t n, size_t name_off)
{
	size_t len = strlen(r->name);
	struct v3_req v3;
	enum v3_reason why = V3_OK;

	canon[16] = 5;
	must_fail(n, V3_PAYLOAD_CAP_DEFAULT, -EBADMSG, V3_E_VERSION);
	/* a v3 connection refuses version 4 before the payload */
	canon[16] = 4;
	require(v3_req_decode(&v3, canon, n, V3_PAYLOAD_CAP_DEFAULT, &why) ==
		-EBADMSG && why == V3_E_VERSION);
	canon[16] = r->version;
	canon[17] = 0x08; /* 1032 = 0x0408 */
	must_fail(n, V3_PAYLOAD_CAP_DEFAULT, -EBADMSG, V3_E_CODE);
	canon[17] = (uint8_t)(r->code & 0xff);
	must_fail(n, r->payload_size - 1, -EMSGSIZE, V3_E_SIZE_CAP);
	must_fail(n - 1, V3_PAYLOAD_CAP_DEFAULT, -EAGAIN, V3_E_LENGTH);
	if (r->code != V3_REQ_FILE) {
		put32(canon + 19, r->payload_size + 1);
		canon[n] = 0;
		must_fail(n + 1, V3_PAYLOAD_CAP_DEFAULT, -EBADMSG,
			  V3_E_SIZE_LAYOUT);
		put32(canon + 19, r->payload_size);
	}
	memset(canon + name_off + len, 'x', V3_NAME_FIELD - len);
	/* a 1028 checks its numbers first: they passed already */
	must_fail(n, V3_PAYLOAD_CAP_DEFAULT, -EBADMSG, V3_E_NAME_UNTERMINATED);
	memset(canon + name_off + len, 0, V3_NAME_FIELD - len);
	if (r->code >= V3_REQ_FILE) {
		canon[name_off] = '/';
		must_fail(n, V3_PAYLOAD_CAP_DEFAULT, -EBADMSG,
			  V3_E_NAME_SEPARATOR);
	}
}

static void round_trip(const uint8_t *data, int n, const struct v3_req *r)
{
	struct v3_req again;
	size_t name_off = V3_REQ_HDR_SIZE + (r->code == V3_REQ_FILE ? 12 : 0);
	size_t len;

	if ((size_t)n > sizeof out)
		return;
	require(v3_req_pack(out, sizeof out, r, NULL) == n);
	require(v3_req_pack(out, (size_t)n - 1, r, NULL) == -ENOSPC);
	memcpy(canon, data, (size_t)n);
	len = strlen(r->name);
	memset(canon + name_off + len, 0, V3_NAME_FIELD - len);
	if (r->code == V3_REQ_PUBKEY) {
		require(V3_NAME_FIELD + r->key_len + r->key_slack ==
			r->payload_size);
		require(r->key_slack == 0 ||
			(r->key_len == 160 && r->key_slack == 2));
		memset(canon + name_off + V3_NAME_FIELD + r->key_len, 0,
		       r->key_slack);
	}
	require(memcmp(out, canon, (size_t)n) == 0);
	require(v3_req_decode_ext(&again, out, (size_t)n,
				  V3_PAYLOAD_CAP_DEFAULT, V3_PARSE_CLEAR,
				  NULL) == n);
	same_fields(r, &again);
	if (r->code == V3_REQ_FILE) {
		require(v3_req_pack_head(out, sizeof out, r, NULL) ==
			V3_REQ_FILE_HEAD_MAX);
		require(memcmp(out, canon, V3_REQ_FILE_HEAD_MAX) == 0);
	}
	damage(r, (size_t)n, name_off);
}

/* A server's view of a transfer: what the check must conclude. */
struct model_rx {
	uint64_t got;
	uint32_t content;
	uint64_t cbc;       /* padded original size (version 3) */
	int per_packet;     /* content sizes are each packet's slice */
	int open;
};

/* The whole stream is complete: the content size, or per packet the CBC
 * size or the 16-byte IV block more (fitting the u32 of 1603). */
static int model_complete(const struct model_rx *m)
{
	if (!m->per_packet)
		return m->got == m->content;
	return m->got == m->cbc ||
	       (m->got == m->cbc + 16 && m->got <= UINT32_MAX);
}

static void model_open(struct model_rx *m, const struct v3_req *r)
{
	m->open = 1;
	m->got = 0;
	m->content = r->content_size;
	m->cbc = ((uint64_t)r->orig_size / 16 + 1) * 16;
	m->per_packet = r->version == 3 && r->total > 1 &&
			r->content_size == r->data_len;
}

static void transfer(struct v3_file_rx *rx, struct model_rx *m,
		     const struct v3_req *r)
{
	enum v3_reason why = V3_OK;
	int ret = v3_file_rx_packet(rx, r, &why);

	if (r->packet == 1 && !m->open)
		model_open(m, r);
	if (ret < 0) {
		require(ret == -EBADMSG && rx->next == 0);
		require(why == V3_E_PACKET_ORDER ||
			why == V3_E_PACKET_MISMATCH || why == V3_E_SLICE_SIZE);
		m->open = 0;
		return;
	}
	require(m->open && (m->per_packet ? r->content_size == r->data_len
					  : r->content_size == m->content));
	m->got += r->data_len;
	require(m->got <= (m->per_packet ? m->cbc + 16 : m->content));
	require(ret == (r->packet == r->total));
	/* a whole size is reached at the last packet, not before */
	require(m->per_packet || ret == (m->got == m->content));
	if (ret == 1) {
		require(model_complete(m));
		require(rx->next == 0 && rx->received == m->got);
		/* the length alone says whether an IV block came first */
		require(rx->iv_block == (r->version == 3 && m->got == m->cbc + 16));
		m->open = 0;
	}
}

/* The client's plan for a file size, slice and version taken from the
 * input. */
static void plan(const uint8_t *data, size_t size)
{
	struct v3_req first, last;
	uint32_t orig, slice;

	if (size < 9)
		return;
	memset(&first, 0, sizeof first);
	first.version = data[8] & 1 ? V3_VERSION_CLEAR : V3_VERSION;
	last = first;
	orig = le32(data);
	slice = le32(data + 4) | 1; /* nonzero */
	if (v3_file_packet(&first, orig, slice, 1) < 0)
		return;
	require(v3_file_packet(&last, orig, slice, first.total) == 0);
	require((uint64_t)(first.total - 1) * slice + last.data_len ==
		first.content_size);
	require(first.content_size == (first.version == V3_VERSION_CLEAR
				       ? orig : (orig / 16 + 1) * 16));
	/* only the clear empty file has an empty (and only) packet */
	require(last.data_len >= (first.content_size != 0) &&
		last.data_len <= slice);
	require(first.total == 1 || first.data_len == slice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct v3_file_rx rx;
	struct model_rx m = { 0, 0, 0 };
	const uint8_t *p = data;
	size_t left = size;

	v3_file_rx_reset(&rx);
	for (int i = 0; i < MAX_MSGS; i++) {
		struct v3_req r;
		enum v3_reason why = V3_OK;
		int n;

		memset(&r, 0, sizeof r); /* decode leaves it alone below 23 */
		n = v3_req_decode_ext(&r, p, left, V3_PAYLOAD_CAP_DEFAULT,
				      V3_PARSE_CLEAR, &why);

		require(n != 0);
		decode_model(p, left, n, why, r.code);
		streaming_agrees(p, left, n, &r);
		if (n < 0)
			break;
		round_trip(p, n, &r);
		if (r.code == V3_REQ_FILE)
			transfer(&rx, &m, &r);
		p += n;
		left -= (size_t)n;
	}
	plan(data, size);
	return 0;
}

/*
 * v3_file.c — CyberBackup v3 1028 transfers: the client's packet plan and
 * the server's per-transfer sequence check.  Neither touches file data.
 *
 * A file goes out as ONE AES-256-CBC/PKCS#7 ciphertext of
 * content_size = (orig_size / 16 + 1) * 16 bytes, cut into slices of
 * slice_max bytes (the last one shorter); packet k (1..total) carries
 * ciphertext bytes [(k - 1) * slice_max, min(k * slice_max, content_size)).
 * Every packet repeats content size, original size, total and name
 * (docs/protocol/cyberbackup-v3.md, "Multi-packet 1028").
 *
 * Receiving side, states of struct v3_file_rx:
 *     idle (next = 0) --packet 1 of N, N > 1--> open (next = 2)
 *     open (next = k) --packet k < N--> open (next = k + 1)
 *     any --last packet--> idle (returns 1)     any --error--> idle
 * invariant while open: 0 < received < content_size, 2 <= next <= total.
 *
 * Version 4 (V3_VERSION_CLEAR) sends the plaintext in the same slices:
 * content_size = orig_size, and an empty file is one empty packet, which
 * completes the transfer at once (received 0 == content size 0).
 */
#include "v3_int.h"

/* see v3.h */
int v3_file_packet(struct v3_req *r, uint64_t orig_size, size_t slice_max,
		   uint16_t packet)
{
	uint32_t content;
	uint16_t total;
	uint64_t off;
	int ret;

	if (slice_max == 0)
		return -EINVAL;
	if (v3_content_size(r->version == V3_VERSION_CLEAR, orig_size,
			    &content) < 0)
		return -EMSGSIZE;
	total = 1;      /* a clear empty file: one empty packet */
	ret = content == 0 ? 0 : v3_packet_count(content, slice_max, &total);
	if (ret < 0)
		return ret;
	if (packet == 0 || packet > total)
		return -EINVAL;
	/* no overflow: packet - 1 < total, so off < content_size < 2^32
	 * (or off = 0 for the one empty packet) */
	off = (uint64_t)(packet - 1) * slice_max;
	r->content_size = content;
	r->orig_size = (uint32_t)orig_size;
	r->packet = packet;
	r->total = total;
	r->data_len = content - off < slice_max ? (size_t)(content - off)
						: slice_max;
	return 0;
}

/* see v3.h */
void v3_file_rx_reset(struct v3_file_rx *rx)
{
	memset(rx, 0, sizeof *rx);
}

/* Packet 1 when no transfer is open: remember what the others repeat. */
static void rx_open(struct v3_file_rx *rx, const struct v3_req *r)
{
	memcpy(rx->name, r->name, sizeof rx->name);
	rx->content_size = r->content_size;
	rx->orig_size = r->orig_size;
	rx->total = r->total;
	rx->version = r->version;
	rx->received = 0;
	rx->next = 1;
}

static int rx_fail(struct v3_file_rx *rx, enum v3_reason *why,
		   enum v3_reason reason)
{
	v3_file_rx_reset(rx);
	return v3_fail(why, reason, -EBADMSG);
}

/* see v3.h */
int v3_file_rx_packet(struct v3_file_rx *rx, const struct v3_req *r,
		      enum v3_reason *why)
{
	if (r->code != V3_REQ_FILE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	if (rx->next == 0 && r->packet == 1)
		rx_open(rx, r);
	if (r->packet == 0 || r->packet != rx->next)
		return rx_fail(rx, why, V3_E_PACKET_ORDER);
	if (r->version != rx->version || r->total != rx->total ||
	    r->content_size != rx->content_size ||
	    r->orig_size != rx->orig_size ||
	    strncmp(r->name, rx->name, sizeof rx->name) != 0)
		return rx_fail(rx, why, V3_E_PACKET_MISMATCH);
	/* parse guarantees data_len <= content_size; compare by subtraction */
	if (r->data_len > rx->content_size - rx->received)
		return rx_fail(rx, why, V3_E_SLICE_SIZE);
	rx->received += (uint32_t)r->data_len;
	if (r->packet == rx->total) {
		if (rx->received != rx->content_size)
			return rx_fail(rx, why, V3_E_SLICE_SIZE);
		v3_file_rx_reset(rx);
		return v3_fail(why, V3_OK, 1);
	}
	if (rx->received == rx->content_size)
		/* all bytes arrived but packets remain: they would be empty */
		return rx_fail(rx, why, V3_E_SLICE_SIZE);
	rx->next++;
	return v3_fail(why, V3_OK, 0);
}

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
 * invariant while open: 0 < received < the whole size, 2 <= next <= total.
 *
 * The original C++ client (docs/protocol/cyberbackup-v3.md, "The original
 * C++ client") starts its stream with an IV block and, over several
 * packets, puts each packet's slice length in the content size: the whole
 * size is then known at the last packet only (rx_whole_max bounds it
 * until then).
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
int v3_cbc_iv_block(uint64_t orig, uint64_t total)
{
	uint32_t cbc;

	if (v3_cbc_size(orig, &cbc) < 0)
		return -EBADMSG;
	if (total == cbc)
		return 0;
	/* the whole stream is echoed in the u32 content size of 1603 */
	if (total == (uint64_t)cbc + V3_IV_BLOCK && total <= UINT32_MAX)
		return 1;
	return -EBADMSG;
}

/* see v3.h */
int v3_file_per_packet(const struct v3_req *r)
{
	return r->version != V3_VERSION_CLEAR && r->total > 1 &&
	       r->content_size == r->data_len;
}

/* see v3.h */
void v3_file_rx_reset(struct v3_file_rx *rx)
{
	memset(rx, 0, sizeof *rx);
}

/* Packet 1 when no transfer is open: remember what the others repeat. */
static void rx_open(struct v3_file_rx *rx, const struct v3_req *r)
{
	v3_file_rx_reset(rx);
	memcpy(rx->name, r->name, sizeof rx->name);
	rx->content_size = r->content_size;
	rx->orig_size = r->orig_size;
	rx->total = r->total;
	rx->version = r->version;
	rx->per_packet = (uint8_t)v3_file_per_packet(r);
	rx->next = 1;
}

/* The most the slices of the open transfer may add up to: its content
 * size, or with per-packet content sizes the larger whole size
 * v3_cbc_iv_block accepts for its original size. */
static uint64_t rx_whole_max(const struct v3_file_rx *rx)
{
	uint32_t cbc = 0;

	if (!rx->per_packet)
		return rx->content_size;
	(void)v3_cbc_size(rx->orig_size, &cbc); /* parse checked it */
	if (v3_cbc_iv_block(rx->orig_size, (uint64_t)cbc + V3_IV_BLOCK) == 1)
		return (uint64_t)cbc + V3_IV_BLOCK;
	return cbc;
}

/* The last packet arrived: the slices must make a whole stream. */
static int rx_complete(struct v3_file_rx *rx)
{
	int iv = rx->version == V3_VERSION_CLEAR
			 ? 0 : v3_cbc_iv_block(rx->orig_size, rx->received);

	if (rx->per_packet ? iv < 0 : rx->received != rx->content_size)
		return -1;
	rx->iv_block = iv == 1;
	rx->next = 0;
	return 0;
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
	    v3_file_per_packet(r) != rx->per_packet ||
	    (!rx->per_packet && r->content_size != rx->content_size) ||
	    r->orig_size != rx->orig_size ||
	    strncmp(r->name, rx->name, sizeof rx->name) != 0)
		return rx_fail(rx, why, V3_E_PACKET_MISMATCH);
	/* received < whole while open; compare by subtraction */
	if (r->data_len > rx_whole_max(rx) - rx->received)
		return rx_fail(rx, why, V3_E_SLICE_SIZE);
	rx->received += (uint32_t)r->data_len;
	if (r->packet == rx->total) {
		if (rx_complete(rx) < 0)
			return rx_fail(rx, why, V3_E_SLICE_SIZE);
		return v3_fail(why, V3_OK, 1);
	}
	if (rx->received == rx_whole_max(rx))
		/* all bytes arrived but packets remain: they would be empty */
		return rx_fail(rx, why, V3_E_SLICE_SIZE);
	rx->next++;
	return v3_fail(why, V3_OK, 0);
}

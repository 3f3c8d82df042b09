/*
 * vigilctl_coap_block.c — Block2 reassembly (RFC 7959 §2.4, §3.4) for the
 * client of vigilctl_coap.h, and the texts for codes and errors.
 *
 * Blocks are fetched in order, each with its own request (a fresh token,
 * no Observe) asking for NUM+1 at the size the server used, and written
 * at NUM x size into the caller's body buffer; a block must start exactly
 * where the previous one ended (a server may lower the size, which scales
 * NUM so this still holds), and every block but the last must be full.
 * The ETag of block 0 is the representation's identity: a different one
 * later means the document changed during the transfer, so it restarts
 * from block 0 (at most VCOAP_BLOCK_RESTARTS times).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vigilctl_coap.h"

static bool same_etag(const struct vcoap_resp *a, const struct vcoap_resp *b)
{
	return a->etag_len == b->etag_len &&
	       !memcmp(a->etag, b->etag, a->etag_len);
}

/* see vigilctl_coap.h */
int vcoap_block_append(const struct vcoap_resp *cur, uint8_t *body,
			size_t cap, size_t *len)
{
	uint64_t size = COAP_BLOCK_SIZE(cur->block2.szx);
	uint64_t off = (uint64_t)cur->block2.num * size;

	if (off != *len || cur->payload_len > size ||
	    (cur->block2.more && cur->payload_len != size))
		return -EBADMSG;
	if (cur->payload_len > cap - *len)
		return -EMSGSIZE;
	if (cur->payload_len > 0)
		memcpy(body + *len, cur->payload, cur->payload_len);
	*len += cur->payload_len;
	return 0;
}

/* A whole (non-block) representation, or an error response's payload. */
static int copy_whole(const struct vcoap_resp *resp, uint8_t *body,
		      size_t cap, size_t *len)
{
	if (resp->payload_len > cap)
		return -EMSGSIZE;
	if (resp->payload_len > 0)
		memcpy(body, resp->payload, resp->payload_len);
	*len = resp->payload_len;
	return 0;
}

/* Requests block num at size szx (a request like r, without Observe). */
static int get_block(struct vcoap *c, const struct vcoap_req *r,
		     uint32_t num, uint8_t szx, struct vcoap_resp *cur)
{
	struct vcoap_req q = *r;

	if (num > COAP_BLOCK_NUM_MAX)
		return -EMSGSIZE;
	q.has_observe = false;
	q.token = NULL;
	q.tkl = 0;
	q.has_block2 = true;
	q.block2 = (struct coap_block){ .num = num, .szx = szx };
	return vcoap_exchange(c, &q, cur);
}

/* see vigilctl_coap.h */
int vcoap_fetch_rest(struct vcoap *c, const struct vcoap_req *r,
		     const struct vcoap_resp *first, uint8_t *body,
		     size_t cap, size_t *len)
{
	struct vcoap_resp cur = *first, id = *first;
	unsigned restarts = 0;
	int ret;

	*len = 0;
	if (COAP_CODE_CLASS(first->code) != 2 || !first->has_block2)
		return copy_whole(first, body, cap, len);
	if (first->has_size2 && first->size2 > cap)
		return -EMSGSIZE;
	for (;;) {
		ret = vcoap_block_append(&cur, body, cap, len);
		if (ret < 0 || !cur.block2.more)
			return ret;
		ret = get_block(c, r, cur.block2.num + 1, cur.block2.szx, &cur);
		if (ret < 0)
			return ret;
		if (COAP_CODE_CLASS(cur.code) != 2)
			return -EBADMSG; /* e.g. 4.08/4.02 mid-transfer */
		if (!cur.has_block2)
			return -EBADMSG;
		if (same_etag(&cur, &id))
			continue;
		if (++restarts > VCOAP_BLOCK_RESTARTS)
			return -EAGAIN;
		ret = get_block(c, r, 0, cur.block2.szx, &cur);
		if (ret < 0)
			return ret;
		if (COAP_CODE_CLASS(cur.code) != 2 || !cur.has_block2)
			return copy_whole(&cur, body, cap, len);
		id = cur;
		*len = 0;
	}
}

/* see vigilctl_coap.h */
int vcoap_fetch(struct vcoap *c, const struct vcoap_req *r,
		struct vcoap_resp *resp, uint8_t *body, size_t cap,
		size_t *len)
{
	struct vcoap_req q = *r;
	int ret;

	if (c->block_szx >= 0 && !q.has_block2) {
		q.has_block2 = true;
		q.block2 = (struct coap_block){ .szx = (uint8_t)c->block_szx };
	}
	ret = vcoap_exchange(c, &q, resp);
	if (ret < 0)
		return ret;
	ret = vcoap_fetch_rest(c, &q, resp, body, cap, len);
	resp->payload = body; /* now the whole representation */
	resp->payload_len = *len;
	return ret;
}

static const struct {
	uint8_t code;
	const char *text;
} code_names[] = {
	{ COAP_CODE_CREATED, "Created" },
	{ COAP_CODE_DELETED, "Deleted" },
	{ COAP_CODE_VALID, "Valid" },
	{ COAP_CODE_CHANGED, "Changed" },
	{ COAP_CODE_CONTENT, "Content" },
	{ COAP_CODE_CONTINUE, "Continue" },
	{ COAP_CODE_BAD_REQUEST, "Bad Request" },
	{ COAP_CODE_UNAUTHORIZED, "Unauthorized" },
	{ COAP_CODE_BAD_OPTION, "Bad Option" },
	{ COAP_CODE_FORBIDDEN, "Forbidden" },
	{ COAP_CODE_NOT_FOUND, "Not Found" },
	{ COAP_CODE_METHOD_NOT_ALLOWED, "Method Not Allowed" },
	{ COAP_CODE_NOT_ACCEPTABLE, "Not Acceptable" },
	{ COAP_CODE_REQUEST_ENTITY_INCOMPLETE, "Request Entity Incomplete" },
	{ COAP_CODE_PRECONDITION_FAILED, "Precondition Failed" },
	{ COAP_CODE_REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large" },
	{ COAP_CODE_UNSUPPORTED_CONTENT_FORMAT, "Unsupported Content-Format" },
	{ COAP_CODE(4, 29), "Too Many Requests" },
	{ COAP_CODE_INTERNAL_SERVER_ERROR, "Internal Server Error" },
	{ COAP_CODE_NOT_IMPLEMENTED, "Not Implemented" },
	{ COAP_CODE_BAD_GATEWAY, "Bad Gateway" },
	{ COAP_CODE_SERVICE_UNAVAILABLE, "Service Unavailable" },
	{ COAP_CODE_GATEWAY_TIMEOUT, "Gateway Timeout" },
	{ COAP_CODE_PROXYING_NOT_SUPPORTED, "Proxying Not Supported" },
};

/* see vigilctl_coap.h */
const char *vcoap_code_str(uint8_t code, char *buf, size_t cap)
{
	const char *name = "";

	for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
		if (code_names[i].code == code)
			name = code_names[i].text;
	snprintf(buf, cap, "%u.%02u%s%s", COAP_CODE_CLASS(code),
		 COAP_CODE_DETAIL(code), *name ? " " : "", name);
	return buf;
}

/* see vigilctl_coap.h */
const char *vcoap_strerror(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no response (timed out)";
	case -ECONNRESET:
		return "the server refused the message (CoAP Reset)";
	case -EMSGSIZE:
		return "response larger than 65536 bytes";
	case -EBADMSG:
		return "malformed or inconsistent response (Block2)";
	case -EAGAIN:
		return "the resource kept changing during a Block2 transfer";
	case -EINTR:
		return "interrupted";
	case -EINVAL:
		return "request too large for one CoAP message";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

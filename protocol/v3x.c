/*
 * v3x.c — pack and parse of the vigil/2 extension messages (v3x.h).
 * Layouts: docs/protocol/cyberbackup-v3.md, "Extension: restore",
 * "Extension: trace id" and "Sealed snapshots".
 */
#include "v3x.h"

#include "v3_int.h"

#define NS_PER_S 1000000000u
#define MODE_BITS 07777u
/* Offsets are u64 on the wire; a file is never larger than off_t says. */
#define OFFSET_MAX ((uint64_t)INT64_MAX)

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)v3_get_le32(p) | (uint64_t)v3_get_le32(p + 4) << 32;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v3_put_le32(p, (uint32_t)(v & 0xffffffffu));
	v3_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* see v3x.h */
int v3x_req_is_ext(const uint8_t hdr[V3_REQ_HDR_SIZE])
{
	uint16_t code = v3_get_le16(hdr + 17);

	return hdr[16] == V3_VERSION_CLEAR && code >= 1040 && code <= 1049;
}

/* see v3x.h */
int v3x_resp_is_ext(const uint8_t hdr[V3_RESP_HDR_SIZE])
{
	uint16_t code = v3_get_le16(hdr + 1);

	return hdr[0] == V3_VERSION_CLEAR && code >= 1640 && code <= 1649;
}

/* The exact payload size of a request code, 0 for an unknown code. */
static uint32_t req_size(uint16_t code)
{
	switch (code) {
	case V3X_REQ_HELLO:
		return V3X_HELLO_REQ_SIZE;
	case V3X_REQ_LIST:
		return V3X_LIST_REQ_SIZE;
	case V3X_REQ_READ:
		return V3X_READ_REQ_SIZE;
	case V3X_REQ_ATTR:
		return V3X_ATTR_REQ_SIZE;
	case V3X_REQ_OFFSET:
		return V3X_OFFSET_REQ_SIZE;
	case V3X_REQ_TRACE:
		return V3X_TRACE_REQ_SIZE;
	case V3X_REQ_HAVE:
		return V3X_HAVE_REQ_SIZE;
	case V3X_REQ_SEGMENT:
		return V3X_SEGMENT_REQ_SIZE;
	case V3X_REQ_SNAPSHOT:
		return V3X_SNAP_REQ_SIZE;
	default:
		return 0;
	}
}

/* see v3x.h */
int v3x_req_hdr_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
		      enum v3_reason *why)
{
	uint32_t want;

	memset(m, 0, sizeof *m);
	if (len != V3_REQ_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	m->code = v3_get_le16(buf + 17);
	m->payload_size = v3_get_le32(buf + 19);
	if (buf[16] != V3_VERSION_CLEAR)
		return v3_fail(why, V3_E_VERSION, -EBADMSG);
	want = req_size(m->code);
	if (want == 0)
		return v3_fail(why, V3_E_CODE, -EBADMSG);
	if (m->payload_size != want)
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

/* A 255-byte field holding a device (client) name or a file name. */
static int name_get(struct v3x_msg *m, const uint8_t *p, int file,
		    enum v3_reason *why)
{
	int n = v3_name_field_get(m->name, p, why);

	if (n < 0)
		return n;
	if (file)
		return v3_file_name_check(m->name, (size_t)n, why);
	return v3_client_name_check(m->name, (size_t)n, why);
}

static int mtime_mode_ok(const struct v3x_msg *m)
{
	return m->mtime_ns < NS_PER_S && (m->mode & ~MODE_BITS) == 0;
}

static int list_parse(struct v3x_msg *m, const uint8_t *p, enum v3_reason *why)
{
	m->snapshot = get_le64(p);
	m->after = get_le64(p + 8);
	return name_get(m, p + 16, 0, why);
}

static int read_parse(struct v3x_msg *m, const uint8_t *p, enum v3_reason *why)
{
	m->file_id = get_le64(p);
	m->version = v3_get_le32(p + 8);
	m->offset = get_le64(p + 12);
	m->length = v3_get_le32(p + 20);
	if (m->file_id == 0 || m->version == 0 || m->offset > OFFSET_MAX ||
	    m->length == 0 || m->length > V3X_CHUNK_MAX)
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return name_get(m, p + 24, 0, why);
}

static int attr_parse(struct v3x_msg *m, const uint8_t *p, enum v3_reason *why)
{
	m->mode = v3_get_le32(p);
	m->mtime_s = (int64_t)get_le64(p + 4);
	m->mtime_ns = v3_get_le32(p + 12);
	if (!mtime_mode_ok(m))
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return name_get(m, p + 16, 1, why);
}

static int offset_parse(struct v3x_msg *m, const uint8_t *p,
			enum v3_reason *why)
{
	m->size = get_le64(p);
	if (m->size > OFFSET_MAX)
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return name_get(m, p + 8, 1, why);
}

/* Length of a valid trace id in field p[0..V3X_TRACE_MAX): 1..32 bytes
 * of [0-9a-z-] and only zeros after them; 0 when it breaks the rule. */
static size_t trace_len(const uint8_t *p)
{
	size_t n = 0, i;

	while (n < V3X_TRACE_MAX && ((p[n] >= '0' && p[n] <= '9') ||
				     (p[n] >= 'a' && p[n] <= 'z') ||
				     p[n] == '-'))
		n++;
	for (i = n; i < V3X_TRACE_MAX; i++)
		if (p[i] != 0)
			return 0;
	return n;
}

static int trace_parse(struct v3x_msg *m, const uint8_t *p,
		       enum v3_reason *why)
{
	size_t n = trace_len(p);

	if (n == 0)
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	memcpy(m->name, p, n);
	m->name[n] = '\0';
	return 0;
}

static int have_parse(struct v3x_msg *m, const uint8_t *p, enum v3_reason *why)
{
	m->size = get_le64(p);
	memcpy(m->sha256, p + 8, V3X_SHA256_SIZE);
	m->mode = v3_get_le32(p + 40);
	m->mtime_s = (int64_t)get_le64(p + 44);
	m->mtime_ns = v3_get_le32(p + 52);
	if (m->size > OFFSET_MAX || !mtime_mode_ok(m))
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return name_get(m, p + 56, 1, why);
}

/* A segment lies inside its file: offset < size, 1 <= length <= the
 * bytes after offset. */
static int segment_ok(const struct v3x_msg *m)
{
	return m->size <= OFFSET_MAX && m->offset < m->size &&
	       m->length >= 1 && m->length <= m->size - m->offset;
}

static int segment_parse(struct v3x_msg *m, const uint8_t *p,
			 enum v3_reason *why)
{
	m->size = get_le64(p);
	m->offset = get_le64(p + 8);
	m->length = v3_get_le32(p + 16);
	if (!segment_ok(m))
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return name_get(m, p + 20, 1, why);
}

/* A 1049's op and sessions go together: a keep carries 0 sessions, a
 * seal at least 1. */
static int snap_ok(const struct v3x_msg *m)
{
	return (m->op == V3X_SNAP_KEEP && m->sessions == 0) ||
	       (m->op == V3X_SNAP_SEAL && m->sessions >= 1);
}

static int snap_parse(struct v3x_msg *m, const uint8_t *p,
		      enum v3_reason *why)
{
	size_t i;

	m->op = p[0];
	m->sessions = v3_get_le32(p + 1);
	if (!snap_ok(m))
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	if (m->op == V3X_SNAP_KEEP)
		return name_get(m, p + 5, 1, why);
	for (i = 0; i < V3_NAME_FIELD; i++)     /* a seal names nothing */
		if (p[5 + i] != 0)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return 0;
}

/* see v3x.h */
int v3x_req_payload_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
			  enum v3_reason *why)
{
	int ret;

	if (len != m->payload_size || len != req_size(m->code))
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	switch (m->code) {
	case V3X_REQ_HELLO:
		m->caps = v3_get_le32(buf);
		ret = 0;
		break;
	case V3X_REQ_LIST:
		ret = list_parse(m, buf, why);
		break;
	case V3X_REQ_READ:
		ret = read_parse(m, buf, why);
		break;
	case V3X_REQ_OFFSET:
		ret = offset_parse(m, buf, why);
		break;
	case V3X_REQ_TRACE:
		ret = trace_parse(m, buf, why);
		break;
	case V3X_REQ_HAVE:
		ret = have_parse(m, buf, why);
		break;
	case V3X_REQ_SEGMENT:
		ret = segment_parse(m, buf, why);
		break;
	case V3X_REQ_SNAPSHOT:
		ret = snap_parse(m, buf, why);
		break;
	default:
		ret = attr_parse(m, buf, why);
		break;
	}
	return ret < 0 ? ret : v3_fail(why, V3_OK, 0);
}

/* see v3x.h */
int v3x_req_decode(struct v3x_msg *m, const uint8_t *buf, size_t len,
		   enum v3_reason *why)
{
	int ret;

	if (len < V3_REQ_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3x_req_hdr_parse(m, buf, V3_REQ_HDR_SIZE, why);
	if (ret < 0)
		return ret;
	if (len - V3_REQ_HDR_SIZE < m->payload_size)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3x_req_payload_parse(m, buf + V3_REQ_HDR_SIZE, m->payload_size,
				    why);
	return ret < 0 ? ret : (int)(V3_REQ_HDR_SIZE + m->payload_size);
}

/* Checks and writes a name field; file: the file-name rule, else the
 * client-name rule.  @retval 0  @retval -EINVAL */
static int name_put(uint8_t *dst, const char *name, int file,
		    enum v3_reason *why)
{
	int n = v3_name_len(name, why);

	if (n < 0)
		return n;
	if ((file ? v3_file_name_check(name, (size_t)n, why)
		  : v3_client_name_check(name, (size_t)n, why)) < 0)
		return -EINVAL;
	v3_name_field_put(dst, name, (size_t)n);
	return 0;
}

/* The trace id into its zeroed field.  @retval 0  @retval -EINVAL */
static int trace_put(uint8_t *p, const char *id, enum v3_reason *why)
{
	size_t n = 0;

	while (n <= V3X_TRACE_MAX && id[n] != '\0')
		n++;
	if (n == 0 || n > V3X_TRACE_MAX)
		return v3_fail(why, V3_E_FIELD, -EINVAL);
	memcpy(p, id, n);
	if (trace_len(p) != n)
		return v3_fail(why, V3_E_FIELD, -EINVAL);
	return 0;
}

static int req_fields_put(uint8_t *p, const struct v3x_msg *m,
			  enum v3_reason *why)
{
	switch (m->code) {
	case V3X_REQ_HELLO:
		v3_put_le32(p, m->caps);
		return 0;
	case V3X_REQ_LIST:
		put_le64(p, m->snapshot);
		put_le64(p + 8, m->after);
		return name_put(p + 16, m->name, 0, why);
	case V3X_REQ_READ:
		if (m->file_id == 0 || m->version == 0 ||
		    m->offset > OFFSET_MAX || m->length == 0 ||
		    m->length > V3X_CHUNK_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->file_id);
		v3_put_le32(p + 8, m->version);
		put_le64(p + 12, m->offset);
		v3_put_le32(p + 20, m->length);
		return name_put(p + 24, m->name, 0, why);
	case V3X_REQ_OFFSET:
		if (m->size > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->size);
		return name_put(p + 8, m->name, 1, why);
	case V3X_REQ_TRACE:
		return trace_put(p, m->name, why);
	case V3X_REQ_HAVE:
		if (m->size > OFFSET_MAX || !mtime_mode_ok(m))
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->size);
		memcpy(p + 8, m->sha256, V3X_SHA256_SIZE);
		v3_put_le32(p + 40, m->mode);
		put_le64(p + 44, (uint64_t)m->mtime_s);
		v3_put_le32(p + 52, m->mtime_ns);
		return name_put(p + 56, m->name, 1, why);
	case V3X_REQ_SEGMENT:
		if (!segment_ok(m))
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->size);
		put_le64(p + 8, m->offset);
		v3_put_le32(p + 16, m->length);
		return name_put(p + 20, m->name, 1, why);
	case V3X_REQ_SNAPSHOT:
		if (!snap_ok(m) ||
		    (m->op == V3X_SNAP_SEAL && m->name[0] != '\0'))
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		p[0] = m->op;
		v3_put_le32(p + 1, m->sessions);
		return m->op == V3X_SNAP_SEAL ? 0
		       : name_put(p + 5, m->name, 1, why);
	default:
		if (!mtime_mode_ok(m))
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		v3_put_le32(p, m->mode);
		put_le64(p + 4, (uint64_t)m->mtime_s);
		v3_put_le32(p + 12, m->mtime_ns);
		return name_put(p + 16, m->name, 1, why);
	}
}

/* see v3x.h */
int v3x_req_pack(uint8_t *out, size_t cap, const struct v3x_msg *m,
		 enum v3_reason *why)
{
	uint32_t size = req_size(m->code);
	uint8_t buf[V3X_REQ_MAX];
	int ret;

	if (size == 0)
		return v3_fail(why, V3_E_CODE, -EINVAL);
	memset(buf, 0, sizeof buf);
	buf[16] = V3_VERSION_CLEAR;
	v3_put_le16(buf + 17, m->code);
	v3_put_le32(buf + 19, size);
	ret = req_fields_put(buf + V3_REQ_HDR_SIZE, m, why);
	if (ret < 0)
		return ret;
	if (cap < V3_REQ_HDR_SIZE + size)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	memcpy(out, buf, V3_REQ_HDR_SIZE + size);
	return v3_fail(why, V3_OK, (int)(V3_REQ_HDR_SIZE + size));
}

/* Whether a response payload size fits its code's layout. */
static int resp_size_ok(uint16_t code, uint32_t size)
{
	switch (code) {
	case V3X_RESP_HELLO:
		return size == V3X_HELLO_RESP_SIZE;
	case V3X_RESP_ENTRY:
		return size > V3X_ENTRY_HEAD && size <= V3X_ENTRY_HEAD + V3_NAME_MAX;
	case V3X_RESP_LIST_END:
		return size == V3X_LIST_END_SIZE;
	case V3X_RESP_DATA:
		return size >= V3X_DATA_HEAD &&
		       size <= V3X_DATA_HEAD + V3X_CHUNK_MAX;
	case V3X_RESP_REFUSED:
		return size == V3X_REFUSED_SIZE;
	case V3X_RESP_OFFSET:
		return size == V3X_OFFSET_RESP_SIZE;
	case V3X_RESP_HAVE:
		return size == V3X_HAVE_RESP_SIZE;
	case V3X_RESP_SEGMENT:
		return size == V3X_SEGMENT_RESP_SIZE;
	case V3X_RESP_SNAPSHOT:
		return size == V3X_SNAP_RESP_SIZE;
	default:
		return -1;
	}
}

/* see v3x.h */
int v3x_resp_hdr_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
		       enum v3_reason *why)
{
	int ok;

	memset(m, 0, sizeof *m);
	if (len != V3_RESP_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	m->code = v3_get_le16(buf + 1);
	m->payload_size = v3_get_le32(buf + 3);
	if (buf[0] != V3_VERSION_CLEAR)
		return v3_fail(why, V3_E_VERSION, -EBADMSG);
	ok = resp_size_ok(m->code, m->payload_size);
	if (ok < 0)
		return v3_fail(why, V3_E_CODE, -EBADMSG);
	if (!ok)
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

static int entry_parse(struct v3x_msg *m, const uint8_t *p, size_t len,
		       enum v3_reason *why)
{
	size_t n = p[40];

	m->file_id = get_le64(p);
	m->version = v3_get_le32(p + 8);
	m->size = get_le64(p + 12);
	m->mtime_s = (int64_t)get_le64(p + 20);
	m->mtime_ns = v3_get_le32(p + 28);
	m->mode = v3_get_le32(p + 32);
	m->cksum = v3_get_le32(p + 36);
	if (n != len - V3X_ENTRY_HEAD)
		return v3_fail(why, V3_E_SIZE_LAYOUT, -EBADMSG);
	if (m->file_id == 0 || m->version == 0 || m->size > OFFSET_MAX ||
	    !mtime_mode_ok(m))
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	if (memchr(p + V3X_ENTRY_HEAD, 0, n) != NULL)
		return v3_fail(why, V3_E_NAME_CONTROL, -EBADMSG);
	memcpy(m->name, p + V3X_ENTRY_HEAD, n);
	return v3_file_name_check(m->name, n, why);
}

static int data_parse(struct v3x_msg *m, const uint8_t *p, size_t len,
		      enum v3_reason *why)
{
	m->file_id = get_le64(p);
	m->version = v3_get_le32(p + 8);
	m->offset = get_le64(p + 12);
	m->data_len = m->payload_size - V3X_DATA_HEAD;
	m->data = len == V3X_DATA_HEAD ? NULL : p + V3X_DATA_HEAD;
	if (m->file_id == 0 || m->version == 0 || m->offset > OFFSET_MAX ||
	    m->data_len > OFFSET_MAX - m->offset)
		return v3_fail(why, V3_E_FIELD, -EBADMSG);
	return 0;
}

static int small_resp_parse(struct v3x_msg *m, const uint8_t *p,
			    enum v3_reason *why)
{
	switch (m->code) {
	case V3X_RESP_HELLO:
		m->caps = v3_get_le32(p);
		m->chunk_max = v3_get_le32(p + 4);
		if (m->chunk_max == 0 || m->chunk_max > V3X_CHUNK_MAX)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	case V3X_RESP_LIST_END:
		m->snapshot = get_le64(p);
		m->count = v3_get_le32(p + 8);
		m->more = p[12];
		if (m->more > 1)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	case V3X_RESP_OFFSET:
	case V3X_RESP_SEGMENT:
		m->offset = get_le64(p);
		if (m->offset > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	case V3X_RESP_HAVE:
		m->have = p[0];
		if (m->have > 1)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	case V3X_RESP_SNAPSHOT:
		m->snapshot = get_le64(p);
		m->count = v3_get_le32(p + 8);
		if (m->snapshot == 0 || m->snapshot > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	default:
		m->refused_code = v3_get_le16(p);
		m->error = v3_get_le16(p + 2);
		if (m->error == 0 || m->error > V3X_ERR_MAX)
			return v3_fail(why, V3_E_FIELD, -EBADMSG);
		return 0;
	}
}

/* see v3x.h */
int v3x_resp_payload_parse(struct v3x_msg *m, const uint8_t *buf,
			   size_t len, enum v3_reason *why)
{
	int ret;

	if (m->code == V3X_RESP_DATA) {
		if (len != m->payload_size && len != V3X_DATA_HEAD)
			return v3_fail(why, V3_E_LENGTH, -EINVAL);
		ret = data_parse(m, buf, len, why);
	} else if (len != m->payload_size ||
		   resp_size_ok(m->code, m->payload_size) != 1) {
		return v3_fail(why, V3_E_LENGTH, -EINVAL);
	} else if (m->code == V3X_RESP_ENTRY) {
		ret = entry_parse(m, buf, len, why);
	} else {
		ret = small_resp_parse(m, buf, why);
	}
	return ret < 0 ? ret : v3_fail(why, V3_OK, 0);
}

/* see v3x.h */
int v3x_resp_decode(struct v3x_msg *m, const uint8_t *buf, size_t len,
		    enum v3_reason *why)
{
	int ret;

	if (len < V3_RESP_HDR_SIZE)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3x_resp_hdr_parse(m, buf, V3_RESP_HDR_SIZE, why);
	if (ret < 0)
		return ret;
	if (len - V3_RESP_HDR_SIZE < m->payload_size)
		return v3_fail(why, V3_E_LENGTH, -EAGAIN);
	ret = v3x_resp_payload_parse(m, buf + V3_RESP_HDR_SIZE,
				     m->payload_size, why);
	return ret < 0 ? ret : (int)(V3_RESP_HDR_SIZE + m->payload_size);
}

static int entry_put(uint8_t *p, const struct v3x_msg *m, size_t n,
		     enum v3_reason *why)
{
	if (m->file_id == 0 || m->version == 0 || m->size > OFFSET_MAX ||
	    !mtime_mode_ok(m))
		return v3_fail(why, V3_E_FIELD, -EINVAL);
	if (v3_file_name_check(m->name, n, why) < 0)
		return -EINVAL;
	put_le64(p, m->file_id);
	v3_put_le32(p + 8, m->version);
	put_le64(p + 12, m->size);
	put_le64(p + 20, (uint64_t)m->mtime_s);
	v3_put_le32(p + 28, m->mtime_ns);
	v3_put_le32(p + 32, m->mode);
	v3_put_le32(p + 36, m->cksum);
	p[40] = (uint8_t)n;
	memcpy(p + V3X_ENTRY_HEAD, m->name, n);
	return 0;
}

/* The payload size m packs to; 0 if m cannot be packed. */
static uint32_t resp_size(const struct v3x_msg *m, size_t name_len)
{
	switch (m->code) {
	case V3X_RESP_HELLO:
		return V3X_HELLO_RESP_SIZE;
	case V3X_RESP_ENTRY:
		return (uint32_t)(V3X_ENTRY_HEAD + name_len);
	case V3X_RESP_LIST_END:
		return V3X_LIST_END_SIZE;
	case V3X_RESP_DATA:
		return m->data_len > V3X_CHUNK_MAX ? 0 :
		       (uint32_t)(V3X_DATA_HEAD + m->data_len);
	case V3X_RESP_REFUSED:
		return V3X_REFUSED_SIZE;
	case V3X_RESP_OFFSET:
		return V3X_OFFSET_RESP_SIZE;
	case V3X_RESP_HAVE:
		return V3X_HAVE_RESP_SIZE;
	case V3X_RESP_SEGMENT:
		return V3X_SEGMENT_RESP_SIZE;
	case V3X_RESP_SNAPSHOT:
		return V3X_SNAP_RESP_SIZE;
	default:
		return 0;
	}
}

static int resp_fields_put(uint8_t *p, const struct v3x_msg *m, size_t n,
			   enum v3_reason *why)
{
	switch (m->code) {
	case V3X_RESP_HELLO:
		if (m->chunk_max == 0 || m->chunk_max > V3X_CHUNK_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		v3_put_le32(p, m->caps);
		v3_put_le32(p + 4, m->chunk_max);
		return 0;
	case V3X_RESP_ENTRY:
		return entry_put(p, m, n, why);
	case V3X_RESP_LIST_END:
		if (m->more > 1)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->snapshot);
		v3_put_le32(p + 8, m->count);
		p[12] = m->more;
		return 0;
	case V3X_RESP_DATA:
		if (m->file_id == 0 || m->version == 0 ||
		    m->offset > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->file_id);
		v3_put_le32(p + 8, m->version);
		put_le64(p + 12, m->offset);
		return 0;
	case V3X_RESP_OFFSET:
	case V3X_RESP_SEGMENT:
		if (m->offset > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->offset);
		return 0;
	case V3X_RESP_HAVE:
		if (m->have > 1)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		p[0] = m->have;
		return 0;
	case V3X_RESP_SNAPSHOT:
		if (m->snapshot == 0 || m->snapshot > OFFSET_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		put_le64(p, m->snapshot);
		v3_put_le32(p + 8, m->count);
		return 0;
	default:
		if (m->error == 0 || m->error > V3X_ERR_MAX)
			return v3_fail(why, V3_E_FIELD, -EINVAL);
		v3_put_le16(p, m->refused_code);
		v3_put_le16(p + 2, m->error);
		return 0;
	}
}

/* see v3x.h */
int v3x_resp_pack(uint8_t *out, size_t cap, const struct v3x_msg *m,
		  enum v3_reason *why)
{
	int n = m->code == V3X_RESP_ENTRY ? v3_name_len(m->name, why) : 0;
	uint8_t head[V3_RESP_HDR_SIZE + V3X_ENTRY_HEAD + V3_NAME_FIELD];
	uint32_t size;
	size_t written;
	int ret;

	if (n < 0)
		return -EINVAL;
	size = resp_size(m, (size_t)n);
	if (size == 0)
		return v3_fail(why, m->code == V3X_RESP_DATA ? V3_E_FIELD
			       : V3_E_CODE, -EINVAL);
	head[0] = V3_VERSION_CLEAR;
	v3_put_le16(head + 1, m->code);
	v3_put_le32(head + 3, size);
	ret = resp_fields_put(head + V3_RESP_HDR_SIZE, m, (size_t)n, why);
	if (ret < 0)
		return ret;
	written = m->code == V3X_RESP_DATA && m->data == NULL
		  ? V3_RESP_HDR_SIZE + V3X_DATA_HEAD : V3_RESP_HDR_SIZE + size;
	if (cap < written)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	if (m->code == V3X_RESP_DATA) {
		memcpy(out, head, V3_RESP_HDR_SIZE + V3X_DATA_HEAD);
		if (m->data != NULL && m->data_len > 0)
			memcpy(out + V3_RESP_HDR_SIZE + V3X_DATA_HEAD, m->data,
			       m->data_len);
	} else {
		memcpy(out, head, written);
	}
	return v3_fail(why, V3_OK, (int)written);
}

/*
 * v3.c — CyberBackup v3: reasons, name fields and size helpers.
 * Requests are in v3_req.c, responses in v3_resp.c, the name rules and
 * the path <-> name mapping in v3_name.c.
 */
#include "v3_int.h"

static const char *const reason_text[V3_REASON_COUNT] = {
	[V3_OK] = "ok",
	[V3_E_LENGTH] = "buffer length wrong for the call",
	[V3_E_VERSION] = "bad version",
	[V3_E_CODE] = "unknown code",
	[V3_E_SIZE_CAP] = "payload over cap",
	[V3_E_SIZE_LAYOUT] = "payload size does not fit the code",
	[V3_E_NAME_UNTERMINATED] = "name not NUL-terminated",
	[V3_E_NAME_EMPTY] = "empty name",
	[V3_E_NAME_TOO_LONG] = "name too long",
	[V3_E_NAME_CHAR] = "character outside [A-Za-z0-9._-] and whitespace",
	[V3_E_NAME_DOTDOT] = "\"..\" in file name, or the name \".\"",
	[V3_E_NAME_SEPARATOR] = "path separator in file name",
	[V3_E_NAME_CONTROL] = "control byte in name",
	[V3_E_NAME_NON_ASCII] = "non-ASCII name",
	[V3_E_NAME_DEVICE] = "Windows device name",
	[V3_E_KEY_SIZE] = "bad key size",
	[V3_E_KEY_FORMAT] = "public key not RSA-1024 DER",
	[V3_E_PACKET_TOTAL] = "bad total packets",
	[V3_E_PACKET_NUMBER] = "bad packet number",
	[V3_E_CONTENT_SIZE] = "content size does not match original size",
	[V3_E_SLICE_SIZE] = "bad slice size",
	[V3_E_PATH] = "path cannot be mapped",
	[V3_E_ESCAPE] = "not a mapped name",
	[V3_E_PACKET_ORDER] = "packet out of order",
	[V3_E_PACKET_MISMATCH] = "packet differs from packet 1",
	[V3_E_FIELD] = "field out of range",
};

/* see v3.h */
const char *v3_reason_str(enum v3_reason why)
{
	if ((unsigned)why >= V3_REASON_COUNT || !reason_text[why])
		return "unknown reason";
	return reason_text[why];
}

/* see v3_int.h */
int v3_name_field_get(char dst[V3_NAME_FIELD], const uint8_t *src,
		      enum v3_reason *why)
{
	const uint8_t *nul = memchr(src, 0, V3_NAME_FIELD);
	size_t n;

	if (!nul)
		return v3_fail(why, V3_E_NAME_UNTERMINATED, -EBADMSG);
	n = (size_t)(nul - src);
	memcpy(dst, src, n);
	memset(dst + n, 0, V3_NAME_FIELD - n);
	return (int)n;
}

/* see v3_int.h */
int v3_name_len(const char name[V3_NAME_FIELD], enum v3_reason *why)
{
	const char *nul = memchr(name, 0, V3_NAME_FIELD);

	if (!nul)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EINVAL);
	return (int)(nul - name);
}

/* see v3_int.h */
void v3_name_field_put(uint8_t *dst, const char *name, size_t n)
{
	memcpy(dst, name, n);
	memset(dst + n, 0, V3_NAME_FIELD - n);
}

/* see v3.h */
int v3_cbc_size(uint64_t orig, uint32_t *out)
{
	if (orig > V3_FILE_MAX)
		return -EMSGSIZE;
	/* PKCS#7 always adds 1..16 bytes: the next multiple of 16 above */
	*out = (uint32_t)((orig / 16 + 1) * 16);
	return 0;
}

/* see v3.h */
int v3_content_size(int clear, uint64_t orig, uint32_t *out)
{
	if (!clear)
		return v3_cbc_size(orig, out);
	if (orig > UINT32_MAX)
		return -EMSGSIZE;
	*out = (uint32_t)orig;
	return 0;
}

/* see v3.h */
int v3_packet_count(uint32_t content_size, size_t slice_max,
		    uint16_t *total)
{
	uint64_t n;

	if (content_size == 0 || slice_max == 0)
		return -EINVAL;
	/* no rounding-up addition: slice_max may be near SIZE_MAX */
	n = content_size / slice_max + (content_size % slice_max != 0);
	if (n > V3_PACKETS_MAX)
		return -EMSGSIZE;
	*total = (uint16_t)n;
	return 0;
}

/*
 * v3.c — CyberBackup v3: reasons, name fields, the file-name rules, the
 * path <-> name mapping and size helpers.  Requests are in v3_req.c,
 * responses in v3_resp.c.
 *
 * Mapping (v3_name_from_path), with E = { '%', '_', '\', ':', '*', '?',
 * '"', '<', '>', '|', < 0x20, 0x7f, >= 0x80 }: '/' -> '_', a byte of E ->
 * "%XX", others as they are, and the first character escaped when the
 * result would be a device name.  Decoding is '_' -> '/', "%XX" -> byte,
 * then re-encoding must give the name back, which refuses every name the
 * mapping cannot produce (so the two are exact inverses on their
 * domains).  '%' and '_' are both escaped because a scheme that only
 * doubles '_' is ambiguous: "/a_/b" and "/a/_b" would both give "a___b".
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
	[V3_E_NAME_ABSOLUTE] = "absolute file name",
	[V3_E_NAME_DOTDOT] = "file name . or ..",
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

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Windows opens a device for these names whatever follows the first '.'
 * (an extension) or ':' (a stream), and ignores trailing spaces: "con",
 * "Com1.txt", "nul .tar.gz", "aux:x".  Microsoft's list (Naming Files,
 * Paths, and Namespaces) has COM0-9 and LPT0-9; the superscript digits it
 * also lists are non-ASCII and refused anyway. */
static int is_device_name(const char *s, size_t len)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL",
					   "CONIN$", "CONOUT$" };
	size_t base = 0;
	char b[8];

	while (base < len && s[base] != '.' && s[base] != ':')
		base++;
	while (base > 0 && s[base - 1] == ' ')
		base--;
	if (base < 3 || base > 7)
		return 0;
	for (size_t i = 0; i < base; i++)
		b[i] = ascii_upper(s[i]);
	b[base] = '\0';
	if (base == 4 && (memcmp(b, "COM", 3) == 0 || memcmp(b, "LPT", 3) == 0))
		return b[3] >= '0' && b[3] <= '9';
	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
		if (strcmp(b, dev[i]) == 0)
			return 1;
	}
	return 0;
}

/* Printable ASCII check shared by both name kinds. */
static int check_bytes(const char *s, size_t len, int file,
		       enum v3_reason *why)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			return v3_fail(why, V3_E_NAME_NON_ASCII, -EBADMSG);
		if (c < 0x20 || c == 0x7f)
			return v3_fail(why, V3_E_NAME_CONTROL, -EBADMSG);
		if (file && (c == '/' || c == '\\'))
			return v3_fail(why, V3_E_NAME_SEPARATOR, -EBADMSG);
	}
	return 0;
}

/* see v3.h */
int v3_file_name_check(const char *name, size_t len, enum v3_reason *why)
{
	int ret;

	if (len == 0)
		return v3_fail(why, V3_E_NAME_EMPTY, -EBADMSG);
	if (len > V3_NAME_MAX)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EBADMSG);
	if (name[0] == '/' || name[0] == '\\' ||
	    (len >= 2 && name[1] == ':' &&
	     ascii_upper(name[0]) >= 'A' && ascii_upper(name[0]) <= 'Z'))
		return v3_fail(why, V3_E_NAME_ABSOLUTE, -EBADMSG);
	ret = check_bytes(name, len, 1, why);
	if (ret < 0)
		return ret;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return v3_fail(why, V3_E_NAME_DOTDOT, -EBADMSG);
	if (is_device_name(name, len))
		return v3_fail(why, V3_E_NAME_DEVICE, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_client_name_check(const char *name, size_t len, enum v3_reason *why)
{
	int ret;

	if (len == 0)
		return v3_fail(why, V3_E_NAME_EMPTY, -EBADMSG);
	if (len > V3_NAME_FIELD_MAX)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EBADMSG);
	ret = check_bytes(name, len, 0, why);
	if (ret < 0)
		return ret;
	return v3_fail(why, V3_OK, 0);
}

/* '%' and '_' carry the mapping; the others are what Windows cannot hold
 * in a name (a server may store files on it): \ : * ? " < > | and the
 * control bytes. */
static int needs_escape(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '%' || c == '_' ||
	       strchr("\\:*?\"<>|", c) != NULL;
}

static const char hex_digits[] = "0123456789ABCDEF";

/* Encodes path component bytes into dst[0..cap) (no NUL); returns the
 * length or -EMSGSIZE past cap.  invariant: n <= cap after each byte. */
static int map_encode(char *dst, size_t cap, const char *path, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '/' || !needs_escape(c)) {
			if (n >= cap)
				return -EMSGSIZE;
			dst[n++] = c == '/' ? '_' : (char)c;
			continue;
		}
		if (cap - n < 3)
			return -EMSGSIZE;
		dst[n++] = '%';
		dst[n++] = hex_digits[c >> 4];
		dst[n++] = hex_digits[c & 0xf];
	}
	return (int)n;
}

/* Absolute, no empty, "." or ".." component, no NUL. */
static int path_ok(const char *path, size_t len)
{
	size_t start = 1;

	if (len < 2 || path[0] != '/')
		return 0;
	for (size_t i = 1; i <= len; i++) {
		size_t clen;

		if (i < len && path[i] == '\0')
			return 0;
		if (i < len && path[i] != '/')
			continue;
		clen = i - start;
		if (clen == 0 || (clen == 1 && path[start] == '.') ||
		    (clen == 2 && path[start] == '.' && path[start + 1] == '.'))
			return 0;
		start = i + 1;
	}
	return 1;
}

/* see v3.h */
int v3_name_from_path(char *out, size_t cap, const char *path, size_t len,
		      enum v3_reason *why)
{
	/* +2: room for escaping the first character of a device name */
	char tmp[V3_NAME_MAX + 2];
	int n;

	if (!path_ok(path, len))
		return v3_fail(why, V3_E_PATH, -EINVAL);
	n = map_encode(tmp + 2, V3_NAME_MAX, path + 1, len - 1);
	if (n < 0)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EMSGSIZE);
	if (is_device_name(tmp + 2, (size_t)n)) {
		/* the first character is a letter: escape it */
		unsigned char c = (unsigned char)tmp[2];

		if (n + 2 > V3_NAME_MAX)
			return v3_fail(why, V3_E_NAME_TOO_LONG, -EMSGSIZE);
		tmp[0] = '%';
		tmp[1] = hex_digits[c >> 4];
		tmp[2] = hex_digits[c & 0xf];
		n += 2;
	} else {
		memmove(tmp, tmp + 2, (size_t)n);
	}
	if ((size_t)n >= cap)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	memcpy(out, tmp, (size_t)n);
	out[n] = '\0';
	return v3_fail(why, V3_OK, n);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is never produced: not canonical */
}

/* Decodes name into dst ("/" + path bytes, NUL-terminated; dst holds
 * V3_NAME_MAX + 2 bytes, enough since decoding never lengthens);
 * returns the length or -EBADMSG on a malformed escape. */
static int unmap_decode(char dst[V3_NAME_MAX + 2], const char *name,
			size_t len)
{
	size_t n = 0;

	dst[n++] = '/';
	/* invariant: n <= i + 1 <= len <= V3_NAME_MAX */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -EBADMSG;
			hi = hex_value(name[i + 1]);
			lo = hex_value(name[i + 2]);
			if (hi < 0 || lo < 0)
				return -EBADMSG;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '_') {
			c = '/';
		}
		dst[n++] = c;
	}
	dst[n] = '\0';
	return (int)n;
}

/* see v3.h */
int v3_path_from_name(char *out, size_t cap, const char *name, size_t len,
		      enum v3_reason *why)
{
	char path[V3_NAME_MAX + 2], again[V3_NAME_MAX + 1];
	int ret, n;

	ret = v3_file_name_check(name, len, why);
	if (ret < 0)
		return ret;
	n = unmap_decode(path, name, len);
	if (n < 0)
		return v3_fail(why, V3_E_ESCAPE, -EBADMSG);
	/* canonical: only what the mapping produces maps back to itself */
	ret = v3_name_from_path(again, sizeof again, path, (size_t)n, NULL);
	if (ret < 0 || (size_t)ret != len || memcmp(again, name, len) != 0)
		return v3_fail(why, V3_E_ESCAPE, -EBADMSG);
	if ((size_t)n >= cap)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	memcpy(out, path, (size_t)n + 1);
	return v3_fail(why, V3_OK, n);
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

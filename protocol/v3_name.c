/*
 * v3_name.c — CyberBackup v3 names: the rule the deployed servers apply
 * to file names (v3_file_name_check), the rule for client names, and the
 * path <-> name mapping (v3_name_from_path, v3_path_from_name), a pure
 * codec: no I/O, no allocation.
 *
 * The mapping writes a path as tokens the deployed rule accepts:
 *   literal  a byte of L = [A-Za-z0-9] '.' '-' ' ', as it is;
 *   SEP      '/' -> "_";
 *   ESC      any byte -> "_-HH" (HH: two upper-case hex digits).
 * Every byte outside L is an ESC, and so is a byte of L that would make
 * "_-" (a '-' right after a SEP) or ".." (a '.' right after a literal
 * '.') with the character before it, and the first character of a name
 * whose part before the first '.' is a Windows device name.
 *
 * Decoding reads "_-HH" as a byte, any other '_' as '/', the rest as
 * itself.  That takes the tokens back apart because no SEP is ever
 * followed by '-': after a SEP comes the first byte of a non-empty
 * component, a literal other than '-' or an ESC (which starts with '_').
 * So decode(encode(p)) == p, and encode is injective.  v3_path_from_name
 * also re-encodes what it decoded and compares, which refuses every name
 * the mapping cannot produce: no two names decode to the same path.
 */
#include "v3_int.h"

#define ESC_LEN 4 /* "_-HH" */

static const char hex_digits[] = "0123456789ABCDEF";

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static int ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Python's \s on ASCII, which the deployed servers' pattern uses. */
static int ascii_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* 1 if s[0..n), upper-cased, is CON, PRN, AUX, NUL, or COM or LPT and
 * one digit from lo to '9'. */
static int device_word(const char *s, size_t n, char lo)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL" };
	char b[4];

	if (n != 3 && n != 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		b[i] = ascii_upper(s[i]);
	if (n == 4)
		return (memcmp(b, "COM", 3) == 0 || memcmp(b, "LPT", 3) == 0) &&
		       b[3] >= lo && b[3] <= '9';
	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
		if (memcmp(b, dev[i], 3) == 0)
			return 1;
	}
	return 0;
}

/* The deployed servers' device test: the part before the last '.' (the
 * whole name without one). */
static int server_device_name(const char *s, size_t len)
{
	size_t stem = len;

	while (stem > 0 && s[stem - 1] != '.')
		stem--;
	return device_word(s, stem > 0 ? stem - 1 : len, '1');
}

/* Windows' wider test, which the mapping avoids too: the part before the
 * first '.', trailing spaces dropped, COM0 and LPT0 included ("con.tar.gz"
 * and "nul .txt" open a device there).  Every name server_device_name
 * refuses is one of these: a stem without '.' ends at the first '.'. */
static int windows_device_name(const char *s, size_t len)
{
	size_t base = 0;

	while (base < len && s[base] != '.')
		base++;
	while (base > 0 && s[base - 1] == ' ')
		base--;
	return device_word(s, base, '0');
}

/* The reason byte c breaks the deployed character set, or V3_OK. */
static enum v3_reason file_char_reason(unsigned char c)
{
	if (ascii_alnum(c) || ascii_space(c) || c == '.' || c == '_' ||
	    c == '-')
		return V3_OK;
	if (c == '/' || c == '\\')
		return V3_E_NAME_SEPARATOR;
	if (c < 0x20 || c == 0x7f)
		return V3_E_NAME_CONTROL;
	if (c >= 0x80)
		return V3_E_NAME_NON_ASCII;
	return V3_E_NAME_CHAR;
}

/* see v3.h */
int v3_file_name_check(const char *name, size_t len, enum v3_reason *why)
{
	if (len == 0)
		return v3_fail(why, V3_E_NAME_EMPTY, -EBADMSG);
	if (len > V3_NAME_MAX)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		enum v3_reason r = file_char_reason((unsigned char)name[i]);

		if (r != V3_OK)
			return v3_fail(why, r, -EBADMSG);
		if (i > 0 && name[i] == '.' && name[i - 1] == '.')
			return v3_fail(why, V3_E_NAME_DOTDOT, -EBADMSG);
	}
	/* "." passes the servers' pattern but names the directory itself */
	if (len == 1 && name[0] == '.')
		return v3_fail(why, V3_E_NAME_DOTDOT, -EBADMSG);
	if (server_device_name(name, len))
		return v3_fail(why, V3_E_NAME_DEVICE, -EBADMSG);
	return v3_fail(why, V3_OK, 0);
}

/* see v3.h */
int v3_client_name_check(const char *name, size_t len, enum v3_reason *why)
{
	if (len == 0)
		return v3_fail(why, V3_E_NAME_EMPTY, -EBADMSG);
	if (len > V3_NAME_FIELD_MAX)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x80)
			return v3_fail(why, V3_E_NAME_NON_ASCII, -EBADMSG);
		if (c < 0x20 || c == 0x7f)
			return v3_fail(why, V3_E_NAME_CONTROL, -EBADMSG);
	}
	return v3_fail(why, V3_OK, 0);
}

/* The bytes written as themselves: the servers' set without '_' (SEP and
 * ESC) and without the whitespace other than space, which a server or a
 * shell may trim or split on. */
static int is_literal(unsigned char c)
{
	return ascii_alnum(c) || c == '.' || c == '-' || c == ' ';
}

/* Writes the ESC of c at dst[0..ESC_LEN). */
static void put_escape(char *dst, unsigned char c)
{
	dst[0] = '_';
	dst[1] = '-';
	dst[2] = hex_digits[c >> 4];
	dst[3] = hex_digits[c & 0xf];
}

/* Encodes path component bytes into dst[0..cap) (no NUL); returns the
 * length or -EMSGSIZE past cap.  invariant: n <= cap after each byte. */
static int map_encode(char *dst, size_t cap, const char *path, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		char prev = n > 0 ? dst[n - 1] : '\0';

		if (c == '/' || (is_literal(c) && !(c == '-' && prev == '_') &&
				 !(c == '.' && prev == '.'))) {
			if (n >= cap)
				return -EMSGSIZE;
			dst[n++] = c == '/' ? '_' : (char)c;
			continue;
		}
		if (cap - n < ESC_LEN)
			return -EMSGSIZE;
		put_escape(dst + n, c);
		n += ESC_LEN;
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
	/* room in front for turning the first character into an ESC */
	char tmp[ESC_LEN - 1 + V3_NAME_MAX];
	char *name = tmp + ESC_LEN - 1;
	int n;

	if (!path_ok(path, len))
		return v3_fail(why, V3_E_PATH, -EINVAL);
	n = map_encode(name, V3_NAME_MAX, path + 1, len - 1);
	if (n < 0)
		return v3_fail(why, V3_E_NAME_TOO_LONG, -EMSGSIZE);
	if (windows_device_name(name, (size_t)n)) {
		/* the first character is a literal letter */
		if ((size_t)n + ESC_LEN - 1 > V3_NAME_MAX)
			return v3_fail(why, V3_E_NAME_TOO_LONG, -EMSGSIZE);
		name = tmp;
		put_escape(name, (unsigned char)name[ESC_LEN - 1]);
		n += ESC_LEN - 1;
	}
	if ((size_t)n >= cap)
		return v3_fail(why, V3_E_LENGTH, -ENOSPC);
	memcpy(out, name, (size_t)n);
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
 * returns the length or -EBADMSG on a truncated or bad ESC. */
static int unmap_decode(char dst[V3_NAME_MAX + 2], const char *name,
			size_t len)
{
	size_t n = 0;

	dst[n++] = '/';
	/* invariant: n <= i + 1 <= len <= V3_NAME_MAX */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '_' && len - i >= 2 && name[i + 1] == '-') {
			int hi, lo;

			if (len - i < ESC_LEN)
				return -EBADMSG;
			hi = hex_value(name[i + 2]);
			lo = hex_value(name[i + 3]);
			if (hi < 0 || lo < 0)
				return -EBADMSG;
			c = (char)(hi << 4 | lo);
			i += ESC_LEN - 1;
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

/*
 * backup_identity.c — me.info format, parse, atomic save, load
 * (backup_identity.h).
 */
#include "backup_identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/storage.h"
#include "hex.h"
#include "mbedtls/base64.h"
#include "mbedtls/platform_util.h"

/* see backup_identity.h */
int backup_identity_format(const struct backup_identity *id, char *out,
			   size_t cap)
{
	size_t nlen = strnlen(id->name, sizeof id->name);
	size_t b64len = 0;
	char *p = out;

	if (v3_client_name_check(id->name, nlen, NULL) < 0 ||
	    id->priv_len == 0 || id->priv_len > sizeof id->priv)
		return -EINVAL;
	if (cap < nlen + 1 + 2 * V3_ID_SIZE + 1 + BACKUP_B64_MAX + 2)
		return -ENOSPC;
	memcpy(p, id->name, nlen);
	p += nlen;
	*p++ = '\n';
	hex_encode(id->uuid, V3_ID_SIZE, p);
	p += 2 * V3_ID_SIZE;
	*p++ = '\n';
	/* room checked above: BACKUP_B64_MAX + NUL fits */
	if (mbedtls_base64_encode((unsigned char *)p, BACKUP_B64_MAX + 1,
				  &b64len, id->priv, id->priv_len) != 0)
		return -EINVAL;
	p += b64len;
	*p++ = '\n';
	*p = '\0';
	return (int)(p - out);
}

/* Length of the line starting at text[*pos], without "\r\n"/"\n";
 * *pos moves past the line end.  -1 when no line end follows. */
static long next_line(const char *text, size_t len, size_t *pos)
{
	size_t start = *pos, i = start;

	while (i < len && text[i] != '\n')
		i++;
	if (i == len)
		return -1;
	*pos = i + 1;
	if (i > start && text[i - 1] == '\r')
		i--;
	return (long)(i - start);
}

static int parse_uuid(uint8_t uuid[V3_ID_SIZE], const char *hex, long n)
{
	if (n != 2 * V3_ID_SIZE)
		return -EBADMSG;
	for (size_t i = 0; i < V3_ID_SIZE; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		uuid[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Decodes the base64 rest of the file, skipping whitespace. */
static int parse_key(struct backup_identity *id, const char *b, size_t n)
{
	unsigned char clean[BACKUP_IDENTITY_FILE_MAX];
	size_t m = 0;
	int ret = -EBADMSG;

	for (size_t i = 0; i < n; i++) {
		char c = b[i];

		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (m == sizeof clean)
			return -EBADMSG;
		clean[m++] = (unsigned char)c;
	}
	if (m > 0 && mbedtls_base64_decode(id->priv, sizeof id->priv,
					   &id->priv_len, clean, m) == 0 &&
	    id->priv_len > 0)
		ret = 0;
	mbedtls_platform_zeroize(clean, m);
	return ret;
}

/* see backup_identity.h */
int backup_identity_parse(struct backup_identity *id, const char *text,
			  size_t len)
{
	size_t pos = 0, upos;
	long n;

	memset(id, 0, sizeof *id);
	n = next_line(text, len, &pos);
	if (n <= 0 || n > V3_NAME_FIELD_MAX ||
	    v3_client_name_check(text, (size_t)n, NULL) < 0)
		return -EBADMSG;
	memcpy(id->name, text, (size_t)n);
	upos = pos;
	n = next_line(text, len, &pos);
	if (n < 0 || parse_uuid(id->uuid, text + upos, n) < 0)
		return -EBADMSG;
	return parse_key(id, text + pos, len - pos);
}

static int identity_path(char *out, size_t cap, const char *dir)
{
	int n = snprintf(out, cap, "%s/%s", dir, BACKUP_IDENTITY_FILE);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* see backup_identity.h */
int backup_identity_save(const char *dir, const struct backup_identity *id)
{
	static char text[BACKUP_IDENTITY_TEXT_MAX];
	char path[HAL_PATH_MAX];
	int n, ret = identity_path(path, sizeof path, dir);

	if (ret < 0)
		return ret;
	n = backup_identity_format(id, text, sizeof text);
	if (n < 0)
		return n;
	ret = hal_storage_write_atomic(path, text, (size_t)n, 0600);
	mbedtls_platform_zeroize(text, sizeof text);
	return ret;
}

/* see backup_identity.h */
int backup_identity_load(const char *dir, struct backup_identity *id)
{
	static char text[BACKUP_IDENTITY_FILE_MAX];
	char path[HAL_PATH_MAX];
	int n, ret = identity_path(path, sizeof path, dir);

	if (ret < 0)
		return ret;
	n = hal_storage_read(path, text, sizeof text);
	if (n == -EMSGSIZE)
		return -EBADMSG;
	if (n < 0)
		return n;
	ret = backup_identity_parse(id, text, (size_t)n);
	mbedtls_platform_zeroize(text, sizeof text);
	return ret;
}

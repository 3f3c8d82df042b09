/*
 * backup_identity.h — the v3 client identity and its `me.info` file.
 *
 * Format (the one CyberBackup clients use, so an appliance can take over
 * an existing client's identity and vice versa):
 *     line 1: the client name (printable ASCII, 1..254 characters)
 *     line 2: the client id (uuid) as 32 lowercase hex digits
 *     line 3: the RSA private key, DER (PKCS#1), base64
 * Written with one base64 line and "\n" line ends; read tolerantly: "\r\n"
 * line ends, upper-case hex, and base64 wrapped over several lines (as
 * some clients write it) are accepted.  The file is written atomically
 * with mode 0600 (it holds a private key).
 *
 * Which public key format the server wanted (160 or 162 bytes) needs no
 * extra state: it is the key's own exponent (e = 17 -> 160, e = 65537 ->
 * 162), and the key is regenerated with 65537 when a server refuses 160.
 */
#ifndef VIGIL_BACKUP_IDENTITY_H
#define VIGIL_BACKUP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "backup_crypto.h"
#include "v3.h"

/* base64 of BACKUP_PRIV_DER_MAX bytes: 4 * ceil(640 / 3) = 856. */
#define BACKUP_B64_MAX 856
/* name 254 + NL, 32 hex + NL, base64 856 + NL, NUL. */
#define BACKUP_IDENTITY_TEXT_MAX (V3_NAME_FIELD_MAX + 1 + 33 + \
				  BACKUP_B64_MAX + 1 + 1)
/* A file we read may wrap its base64 over lines: allow 2x. */
#define BACKUP_IDENTITY_FILE_MAX (2 * BACKUP_IDENTITY_TEXT_MAX)
#define BACKUP_IDENTITY_FILE "me.info"

struct backup_identity {
	char name[V3_NAME_FIELD];      /* NUL-terminated */
	uint8_t uuid[V3_ID_SIZE];
	uint8_t priv[BACKUP_PRIV_DER_MAX];
	size_t priv_len;
};

/* Writes the 3-line text of *id into out[0..cap), NUL-terminated.
 * @retval >0 length without the NUL
 * @retval -EINVAL name fails v3_client_name_check, priv_len 0 or too big
 * @retval -ENOSPC cap too small (BACKUP_IDENTITY_TEXT_MAX suffices) */
int backup_identity_format(const struct backup_identity *id, char *out,
			   size_t cap);

/* Parses text[0..len) into *id (the key is not checked here: see
 * backup_key_import).
 * @retval 0 parsed
 * @retval -EBADMSG missing line, bad name, bad hex, bad base64, key too
 *                  long */
int backup_identity_parse(struct backup_identity *id, const char *text,
			  size_t len);

/* Writes dir/me.info atomically with mode 0600.
 * @retval 0 saved  @retval -EINVAL/-ENOSPC as format
 * @retval -ENAMETOOLONG or a hal_storage_write_atomic error */
int backup_identity_save(const char *dir, const struct backup_identity *id);

/* Reads dir/me.info.
 * @retval 0 loaded  @retval -ENOENT no identity yet
 * @retval -EBADMSG malformed (or larger than BACKUP_IDENTITY_FILE_MAX)
 * @retval other hal_storage_read errors */
int backup_identity_load(const char *dir, struct backup_identity *id);

#endif

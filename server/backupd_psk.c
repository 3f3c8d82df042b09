/*
 * backupd_psk.c — the table of pre-shared keys vigil-backupd accepts
 * from TLS clients (--tls-psk FILE): one "identity:hexkey" per line, as
 * vigild's tls.psk (lib/psk.h), '#' comments and blank lines
 * allowed.  The file is read once at startup into a fixed table.
 */
#include "backupd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mbedtls/platform_util.h"
#include "psk.h"

#define MOD "tls"

static struct psk bd_psks[BD_PSK_MAX];
static unsigned bd_npsk;

/* Strips the line ending and surrounding blanks in place; returns the
 * text's length. */
static size_t bd_psk_trim(char *line, char **start)
{
	size_t n = strcspn(line, "\r\n");

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	line[n] = '\0';
	*start = line + strspn(line, " \t");
	return strlen(*start);
}

/* Adds one line's pair.  @retval 0  @retval -1 (logged) */
static int bd_psk_add(const char *path, unsigned lineno, const char *p,
		      size_t n)
{
	struct psk k;

	if (bd_npsk == BD_PSK_MAX) {
		log_err(MOD, "%s:%u: more than %u keys", path, lineno,
			BD_PSK_MAX);
		return -1;
	}
	if (psk_parse(p, n, &k) < 0) {
		log_err(MOD, "%s:%u: not identity:hexkey (identity 1-%u "
			"printable characters, key 1-%u bytes in hex)", path,
			lineno, PSK_ID_MAX, PSK_KEY_MAX);
		return -1;
	}
	if (bd_psk_find((const uint8_t *)k.id, k.idlen) != NULL) {
		log_err(MOD, "%s:%u: identity `%s` given twice", path, lineno,
			k.id);
		mbedtls_platform_zeroize(&k, sizeof k);
		return -1;
	}
	bd_psks[bd_npsk++] = k;
	mbedtls_platform_zeroize(&k, sizeof k);
	return 0;
}

/* see backupd.h */
int bd_psk_load(const char *path)
{
	char line[256];
	unsigned lineno = 0;
	int ret = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		log_err(MOD, "cannot read PSK file %s: %s", path,
			strerror(errno));
		return -1;
	}
	while (ret == 0 && fgets(line, sizeof line, f) != NULL) {
		char *p;
		size_t n;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_err(MOD, "%s:%u: line too long", path, lineno);
			ret = -1;
			break;
		}
		n = bd_psk_trim(line, &p);
		if (n > 0 && p[0] != '#')
			ret = bd_psk_add(path, lineno, p, n);
	}
	mbedtls_platform_zeroize(line, sizeof line);
	fclose(f);
	if (ret == 0 && bd_npsk == 0) {
		log_err(MOD, "PSK file %s has no keys", path);
		ret = -1;
	}
	return ret;
}

/* see backupd.h */
const struct psk *bd_psk_find(const uint8_t *id, size_t len)
{
	return psk_find(bd_psks, bd_npsk, id, len);
}

/* see backupd.h */
void bd_psk_wipe(void)
{
	mbedtls_platform_zeroize(bd_psks, sizeof bd_psks);
	bd_npsk = 0;
}

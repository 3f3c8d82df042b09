/*
 * psk.h — one pre-shared key as configured: the "identity:hexkey" text
 * of coap.psk (CoAP over DTLS), tls.psk (the backup client) and
 * vigil-backupd's --tls-psk file, parsed the same way everywhere.
 */
#ifndef VIGIL_PSK_H
#define VIGIL_PSK_H

#include <stddef.h>
#include <stdint.h>

/* Identity length (RFC 4279 allows 2^16 - 1; RFC 7925 asks for short
 * ones; 64 covers a serial number or host name). */
#define PSK_ID_MAX 64
/* Key length: 32 bytes (256 bits), 64 hex digits. */
#define PSK_KEY_MAX 32

struct psk {
	char id[PSK_ID_MAX + 1];        /* NUL-terminated */
	uint8_t idlen;
	uint8_t keylen;
	uint8_t key[PSK_KEY_MAX];
};

/*
 * Parses the n bytes at p as "identity:hexkey".  An identity is
 * 1..PSK_ID_MAX bytes of printable ASCII other than ':' ',' and space;
 * a key 1..PSK_KEY_MAX bytes in hex (even digit count, either case).
 * @retval 0 parsed into *out
 * @retval -EINVAL malformed
 */
int psk_parse(const char *p, size_t n, struct psk *out);

/* The entry of tab[0..n) whose identity is id[0..len), or NULL. */
const struct psk *psk_find(const struct psk *tab, unsigned n, const void *id,
			   size_t len);

#endif

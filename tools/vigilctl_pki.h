/*
 * vigilctl_pki.h — what the files of `vigilctl pki` share: keys and
 * certificates on mbedTLS (vigilctl_pki_cert.c) and files that are
 * written atomically and never replaced (vigilctl_pki_file.c).  The
 * command line and its name checks are vigilctl_pki.c.
 *
 * Every function here reports its own failure on stderr ("vigilctl: pki:
 * ..."), naming the step and file, so callers only pass the code on.
 */
#ifndef VIGIL_VIGILCTL_PKI_H
#define VIGIL_VIGILCTL_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

/* --days / --ca-days: 1 .. 100 years (mbedTLS writes 4-digit years). */
#define PKI_DAYS_MAX 36500u
/* Device names: [A-Za-z0-9._-]{1,64}, not starting with '.'. */
#define PKI_DEVICE_NAME_MAX 64
/* A DNS name in text (RFC 1035 §2.3.4: 255 octets on the wire). */
#define PKI_HOST_MAX 253
#define PKI_SERVER_NAMES_MAX 16
#define PKI_DEVICES_MAX 64
/* A subject: "O=vigil,CN=" + a PKI_HOST_MAX name, or the CA's subject as
 * mbedtls_x509_dn_gets() prints it. */
#define PKI_DN_MAX 320
/* "YYYYMMDDhhmmss" + NUL, the form mbedTLS takes validity times in. */
#define PKI_TIME_LEN 15
/* Largest ca.crt / ca.key read back: ours are < 1 KiB. */
#define PKI_FILE_MAX 16384
/* Longest path built from DIR and a file name (Linux's PATH_MAX). */
#define PKI_PATH_MAX 4096

struct pki_ca {
	mbedtls_pk_context key;
	mbedtls_x509_crt crt;
	char dn[PKI_DN_MAX];              /* the issuer of what it signs */
	char not_after[PKI_TIME_LEN];     /* leaves end no later than this */
};

/* A leaf certificate to issue: a server (serverAuth, SANs) or a device
 * (clientAuth). */
struct pki_leaf {
	const char *cn;
	const char *const *sans;          /* server only: DNS names, IPs */
	size_t nsans;
	bool server;
	unsigned days;
};

/* Sends mbedTLS's allocations to a static arena (like vigilctl_dtls.c);
 * call once, before anything below. */
void pki_crypto_init(void);

/*
 * s as a subjectAltName: an IP literal (its 4 or 16 bytes into ip) or a
 * DNS name (letters, digits, '-', dot-separated labels of 1-63).
 * @retval 4, 16 an IPv4 / IPv6 address
 * @retval 0     a DNS name
 * @retval -EINVAL neither
 */
int pki_host_kind(const char *s, unsigned char ip[16]);

/* Makes a CA key and self-signed certificate valid for days, writes
 * dir/ca.key and dir/ca.crt, and leaves ca ready to sign.
 * @retval 0 / -EIO (reported); pki_ca_free() in both cases */
int pki_ca_create(struct pki_ca *ca, const char *dir, unsigned days);

/* Loads dir/ca.crt and dir/ca.key and checks that they match.
 * @retval 0 / -EIO (reported); pki_ca_free() in both cases */
int pki_ca_load(struct pki_ca *ca, const char *dir);

void pki_ca_free(struct pki_ca *ca);

/* Makes a key and a certificate for l signed by ca, checks it against
 * ca.crt, then writes dir/base.key and dir/base.crt.
 * @retval 0 / -EEXIST a file is there already / -EIO (both reported) */
int pki_issue(struct pki_ca *ca, const struct pki_leaf *l, const char *dir,
	      const char *base);

/* dir/name into path (PKI_PATH_MAX bytes).  @retval 0 / -ENAMETOOLONG (reported) */
int pki_path(char *path, const char *dir, const char *name);

/* Whether dir/name exists.  @retval 1 yes / 0 no / -EIO (reported) */
int pki_exists(const char *dir, const char *name);

/* Creates directory path with mode 0700; an existing one is fine.
 * @retval 0 / -EIO (reported) */
int pki_mkdir(const char *path);

/* Writes data as dir/name with mode, atomically: a temporary file in dir,
 * fsync, then link(2) to the name, which fails rather than replace a file
 * that appeared meanwhile.  Prints "wrote dir/name" and note (if not NULL).
 * @retval 0 / -EEXIST / -EIO (both reported) */
int pki_write_new(const char *dir, const char *name, const void *data,
		  size_t len, mode_t mode, const char *note);

/* Reads dir/name (at most cap - 1 bytes) and NUL-terminates it.
 * @retval the length / -EIO (reported) */
long pki_read(const char *dir, const char *name, unsigned char *buf,
	      size_t cap);

#endif

/*
 * vigilctl_pki_cert.c — keys and certificates for `vigilctl pki`, on the
 * project's mbedTLS 3.6 (X509_CRT_WRITE_C, PEM_WRITE_C, PK_WRITE_C).
 *
 * Keys are ECDSA P-256 (the one curve our mbedTLS build verifies), written
 * as SEC1 PEM; signatures are ecdsa-with-SHA256.  Profile (RFC 5280 §4.2):
 *   CA      O=vigil, CN=vigil CA <8 random hex digits>, so that two PKIs
 *           never share an issuer name; basicConstraints CA:TRUE, pathlen
 *           0 (it signs leaves only), critical; keyUsage keyCertSign,
 *           cRLSign
 *   server  O=vigil, CN=its first name; CA:FALSE; keyUsage
 *           digitalSignature; extKeyUsage serverAuth; subjectAltName:
 *           every name, as dNSName or iPAddress
 *   device  O=vigil, CN=NAME; CA:FALSE; digitalSignature; clientAuth
 * mbedTLS marks keyUsage and extKeyUsage critical.  All carry subject and
 * authority key identifiers (SHA-1 of the public key, RFC 5280 §4.2.1.2)
 * and a random serial of 16 bytes, positive (RFC 5280 §4.1.2.2).  They are
 * valid from an hour ago (the checking machine's clock may lag ours) for
 * the days asked, but a leaf never outlives its CA.
 *
 * Each new certificate is parsed back and verified against the CA before
 * anything is written, so a mistake here never reaches the disk.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform_util.h"
#include "vigilctl.h"
#include "vigilctl_pki.h"

/* mbedTLS's heap: key pairs, the writer's name and extension lists, PEM
 * encoding's copy of the certificate, the parsed CA and new certificate,
 * ECDSA's temporaries.  Measured with the largest init (16 server names
 * of 253 bytes): fails with a 16 KiB arena, works with 24 KiB; 64 KiB
 * leaves more than twice that. */
#define PKI_ARENA_SIZE (64u * 1024u)
/* A certificate in PEM: DER at most 16 SANs x (253 + 4) + ~700 bytes of
 * names, key, extensions and signature = 4.8 KiB; base64 is 4/3 of that
 * plus a newline per 64 characters and 55 bytes of armour: < 6.7 KiB. */
#define PKI_CRT_PEM_MAX 8192
/* A SEC1 P-256 key: 121 bytes of DER, ~230 of PEM. */
#define PKI_KEY_PEM_MAX 1024
#define SERIAL_LEN 16

static unsigned char arena[PKI_ARENA_SIZE];
static unsigned char crt_pem[PKI_CRT_PEM_MAX];
static unsigned char key_pem[PKI_KEY_PEM_MAX];

/* A certificate being made: who, with which key, from when to when. */
struct cert_req {
	char subject[PKI_DN_MAX];
	const char *cn;
	mbedtls_pk_context *key;          /* the subject's */
	const struct pki_leaf *leaf;      /* NULL: the CA itself */
	char from[PKI_TIME_LEN], to[PKI_TIME_LEN];
	bool capped;                      /* to is the CA's end */
};

static const mbedtls_asn1_sequence eku_server = {
	.buf = { .tag = MBEDTLS_ASN1_OID,
		 .len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH),
		 .p = (unsigned char *)MBEDTLS_OID_SERVER_AUTH },
};
static const mbedtls_asn1_sequence eku_client = {
	.buf = { .tag = MBEDTLS_ASN1_OID,
		 .len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH),
		 .p = (unsigned char *)MBEDTLS_OID_CLIENT_AUTH },
};

/* Reports a failed mbedTLS step for file.  @retval -EIO */
static int fail(const char *file, const char *step, int ret)
{
	fprintf(stderr, "vigilctl: pki: %s: %s failed (mbedTLS -0x%04x)\n",
		file, step, (unsigned)-ret);
	return -EIO;
}

/* @retval -EIO */
static int dates_fail(const char *file)
{
	fprintf(stderr, "vigilctl: pki: %s: the validity dates are out of "
		"range\n", file);
	return -EIO;
}

/* see vigilctl_pki.h */
void pki_crypto_init(void)
{
	mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
}

/* t as "YYYYMMDDhhmmss" UTC.  @retval 0 / -EINVAL out of range */
static int time_str(time_t t, char out[PKI_TIME_LEN])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, PKI_TIME_LEN, "%Y%m%d%H%M%S", &tm) != PKI_TIME_LEN - 1)
		return -EINVAL;
	return 0;
}

/* r->from and r->to for days, to no later than the CA's end. */
static int set_validity(const struct pki_ca *ca, unsigned days,
			struct cert_req *r)
{
	time_t now = time(NULL);

	if (time_str(now - 3600, r->from) ||
	    time_str(now + (time_t)days * 86400, r->to))
		return -EINVAL;
	r->capped = ca->not_after[0] && strcmp(r->to, ca->not_after) > 0;
	if (r->capped)
		memcpy(r->to, ca->not_after, sizeof r->to);
	return 0;
}

static int gen_key(mbedtls_pk_context *k)
{
	int ret = mbedtls_pk_setup(k,
				   mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

	return ret ? ret : mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
					       mbedtls_pk_ec(*k), vigilctl_rng,
					       NULL);
}

/* Serial, validity, names and keys; a CA signs itself. */
static int set_fields(mbedtls_x509write_cert *w, struct pki_ca *ca,
		      struct cert_req *r)
{
	unsigned char serial[SERIAL_LEN];
	int ret = vigilctl_rng(NULL, serial, sizeof serial);

	if (ret)
		return ret;
	/* positive, and no leading zero byte DER would have to drop */
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	ret = mbedtls_x509write_crt_set_serial_raw(w, serial, sizeof serial);
	if (!ret)
		ret = mbedtls_x509write_crt_set_validity(w, r->from, r->to);
	if (!ret)
		ret = mbedtls_x509write_crt_set_subject_name(w, r->subject);
	if (!ret)
		ret = mbedtls_x509write_crt_set_issuer_name(w, r->leaf ?
							    ca->dn : r->subject);
	mbedtls_x509write_crt_set_subject_key(w, r->key);
	mbedtls_x509write_crt_set_issuer_key(w, &ca->key);
	mbedtls_x509write_crt_set_md_alg(w, MBEDTLS_MD_SHA256);
	return ret;
}

/* The server's names as dNSName / iPAddress entries. */
static int set_sans(mbedtls_x509write_cert *w, const struct pki_leaf *l)
{
	mbedtls_x509_san_list san[PKI_SERVER_NAMES_MAX];
	unsigned char ip[PKI_SERVER_NAMES_MAX][16];

	if (l->nsans == 0 || l->nsans > PKI_SERVER_NAMES_MAX)
		return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	memset(san, 0, sizeof san);
	for (size_t i = 0; i < l->nsans; i++) {
		int kind = pki_host_kind(l->sans[i], ip[i]);
		mbedtls_x509_buf *b = &san[i].node.san.unstructured_name;

		if (kind < 0)
			return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
		san[i].node.type = kind ? MBEDTLS_X509_SAN_IP_ADDRESS :
				   MBEDTLS_X509_SAN_DNS_NAME;
		b->p = kind ? ip[i] : (unsigned char *)l->sans[i];
		b->len = kind ? (size_t)kind : strlen(l->sans[i]);
		san[i].next = i > 0 ? &san[i - 1] : NULL;
	}
	/* mbedTLS writes the list back to front: linked in reverse, the
	 * names appear in the order given */
	return mbedtls_x509write_crt_set_subject_alternative_name(
		w, &san[l->nsans - 1]);
}

static int set_extensions(mbedtls_x509write_cert *w, const struct pki_leaf *l)
{
	int ret;

	if (!l) {
		ret = mbedtls_x509write_crt_set_basic_constraints(w, 1, 0);
		if (!ret)
			ret = mbedtls_x509write_crt_set_key_usage(w,
				MBEDTLS_X509_KU_KEY_CERT_SIGN |
				MBEDTLS_X509_KU_CRL_SIGN);
	} else {
		ret = mbedtls_x509write_crt_set_basic_constraints(w, 0, -1);
		if (!ret)
			ret = mbedtls_x509write_crt_set_key_usage(w,
				MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
		if (!ret)
			ret = mbedtls_x509write_crt_set_ext_key_usage(w,
				l->server ? &eku_server : &eku_client);
		if (!ret && l->server)
			ret = set_sans(w, l);
	}
	if (!ret)
		ret = mbedtls_x509write_crt_set_subject_key_identifier(w);
	if (!ret)
		ret = mbedtls_x509write_crt_set_authority_key_identifier(w);
	return ret;
}

/* A new key for r into key_pem, and its certificate signed with ca->key
 * into crt_pem.  @retval 0 / -EIO (reported) */
static int build(struct pki_ca *ca, struct cert_req *r, const char *file)
{
	mbedtls_x509write_cert w;
	int ret;

	ret = gen_key(r->key);
	if (ret)
		return fail(file, "generating the key", ret);
	ret = mbedtls_pk_write_key_pem(r->key, key_pem, sizeof key_pem);
	if (ret)
		return fail(file, "encoding the key", ret);
	mbedtls_x509write_crt_init(&w);
	ret = set_fields(&w, ca, r);
	if (ret) {
		ret = fail(file, "setting the names and dates", ret);
	} else if ((ret = set_extensions(&w, r->leaf)) != 0) {
		ret = fail(file, "setting the extensions", ret);
	} else if ((ret = mbedtls_x509write_crt_pem(&w, crt_pem,
						    sizeof crt_pem, vigilctl_rng,
						    NULL)) != 0) {
		ret = fail(file, "signing the certificate", ret);
	}
	mbedtls_x509write_crt_free(&w);
	return ret;
}

/* Parses crt_pem into crt and verifies it against ca->crt (for the CA
 * itself, crt is ca->crt).  @retval 0 / -EIO (reported) */
static int check(struct pki_ca *ca, mbedtls_x509_crt *crt, const char *file)
{
	uint32_t flags = 0;
	int ret = mbedtls_x509_crt_parse(crt, crt_pem,
					 strlen((const char *)crt_pem) + 1);

	if (ret)
		return fail(file, "parsing the new certificate", ret);
	ret = mbedtls_x509_crt_verify(crt, &ca->crt, NULL, NULL, &flags,
				      NULL, NULL);
	if (ret) {
		fprintf(stderr, "vigilctl: pki: %s: the new certificate does "
			"not verify against the CA (flags 0x%08x)\n", file,
			(unsigned)flags);
		return -EIO;
	}
	return 0;
}

/* Writes dir/base.key and dir/base.crt from key_pem and crt_pem. */
static int save(const char *dir, const char *base, const struct cert_req *r)
{
	char name[PKI_DEVICE_NAME_MAX + 8], note[PKI_DN_MAX + 64];
	size_t key_len = strlen((const char *)key_pem);
	int ret;

	snprintf(name, sizeof name, "%s.key", base); /* base is short */
	ret = pki_write_new(dir, name, key_pem, key_len, 0600, NULL);
	mbedtls_platform_zeroize(key_pem, sizeof key_pem);
	if (ret)
		return ret;
	snprintf(name, sizeof name, "%s.crt", base);
	snprintf(note, sizeof note, "(CN=%s, until %.4s-%.2s-%.2s%s)", r->cn,
		 r->to, r->to + 4, r->to + 6, r->capped ? ", when the CA ends" :
		 "");
	return pki_write_new(dir, name, crt_pem,
			     strlen((const char *)crt_pem), 0644, note);
}

static void ca_init(struct pki_ca *ca)
{
	mbedtls_pk_init(&ca->key);
	mbedtls_x509_crt_init(&ca->crt);
	ca->dn[0] = '\0';
	ca->not_after[0] = '\0';
}

/* ca->dn and ca->not_after from ca->crt. */
static int adopt(struct pki_ca *ca)
{
	const mbedtls_x509_time *t = &ca->crt.valid_to;
	int ret = mbedtls_x509_dn_gets(ca->dn, sizeof ca->dn,
				       &ca->crt.subject);

	if (ret < 0)
		return fail("ca.crt", "reading the subject", ret);
	ret = snprintf(ca->not_after, sizeof ca->not_after,
		       "%04d%02d%02d%02d%02d%02d", t->year, t->mon, t->day,
		       t->hour, t->min, t->sec);
	if (ret != PKI_TIME_LEN - 1) {
		fprintf(stderr, "vigilctl: pki: ca.crt: odd expiry year %d\n",
			t->year);
		return -EIO;
	}
	return 0;
}

/* see vigilctl_pki.h */
int pki_ca_create(struct pki_ca *ca, const char *dir, unsigned days)
{
	static const char org[] = "O=vigil,CN=";
	struct cert_req r = { .key = &ca->key };
	unsigned char tag[4];
	int ret;

	ca_init(ca);
	ret = vigilctl_rng(NULL, tag, sizeof tag);
	if (ret)
		return fail("ca.crt", "naming the CA", ret);
	snprintf(r.subject, sizeof r.subject, "%svigil CA %02x%02x%02x%02x",
		 org, tag[0], tag[1], tag[2], tag[3]);
	r.cn = r.subject + sizeof org - 1;
	if (set_validity(ca, days, &r))
		return dates_fail("ca.crt");
	ret = build(ca, &r, "ca.crt");
	if (!ret)
		ret = check(ca, &ca->crt, "ca.crt");
	if (!ret)
		ret = adopt(ca);
	return ret ? ret : save(dir, "ca", &r);
}

/* see vigilctl_pki.h */
int pki_ca_load(struct pki_ca *ca, const char *dir)
{
	static unsigned char buf[PKI_FILE_MAX];
	long n;
	int ret;

	ca_init(ca);
	n = pki_read(dir, "ca.crt", buf, sizeof buf);
	if (n < 0)
		return -EIO;
	ret = mbedtls_x509_crt_parse(&ca->crt, buf, (size_t)n + 1);
	if (ret)
		return fail("ca.crt", "parsing", ret);
	n = pki_read(dir, "ca.key", buf, sizeof buf);
	if (n < 0)
		return -EIO;
	ret = mbedtls_pk_parse_key(&ca->key, buf, (size_t)n + 1, NULL, 0,
				   vigilctl_rng, NULL);
	mbedtls_platform_zeroize(buf, sizeof buf);
	if (ret)
		return fail("ca.key", "parsing (an unencrypted PEM key)", ret);
	ret = mbedtls_pk_check_pair(&ca->crt.pk, &ca->key, vigilctl_rng, NULL);
	if (ret)
		return fail("ca.key", "matching it with ca.crt", ret);
	return adopt(ca);
}

/* see vigilctl_pki.h */
void pki_ca_free(struct pki_ca *ca)
{
	mbedtls_pk_free(&ca->key);
	mbedtls_x509_crt_free(&ca->crt);
}

/* see vigilctl_pki.h */
int pki_issue(struct pki_ca *ca, const struct pki_leaf *l, const char *dir,
	      const char *base)
{
	mbedtls_pk_context key;
	mbedtls_x509_crt crt;
	struct cert_req r = { .key = &key, .cn = l->cn, .leaf = l };
	char file[PKI_DEVICE_NAME_MAX + 8];
	int ret;

	snprintf(file, sizeof file, "%s.crt", base);
	/* fits: cn is at most PKI_HOST_MAX (checked by the command line) */
	snprintf(r.subject, sizeof r.subject, "O=vigil,CN=%s", l->cn);
	if (set_validity(ca, l->days, &r))
		return dates_fail(file);
	mbedtls_pk_init(&key);
	mbedtls_x509_crt_init(&crt);
	ret = build(ca, &r, file);
	if (!ret)
		ret = check(ca, &crt, file);
	if (!ret)
		ret = save(dir, base, &r);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);
	return ret;
}

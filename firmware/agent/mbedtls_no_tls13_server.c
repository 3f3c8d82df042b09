/*
 * mbedtls_no_tls13_server.c — vigild's mbedtls_ssl_tls13_handshake_server_step:
 * a refusal in place of mbedTLS's TLS 1.3 server, linked only into the
 * static vigild (the Makefile keeps it out of the tests, the tools and
 * vigil-backupd, which is a TLS 1.3 server), like libc_vfprintf.c.
 *
 * vigild is a TLS client (backups) and a DTLS 1.2 server (CoAP); it never
 * serves TLS 1.3.  One mbedTLS build serves all three programs, and no
 * option removes the TLS 1.3 server while keeping the DTLS 1.2 one, so
 * the handshake dispatch (mbedtls_ssl_handshake_step) references
 * ssl_tls13_server.c, and its ~7 KB came with it.  This definition is in
 * the link before libmbedtls.a, so the archive member is never pulled,
 * and with it goes the TLS 1.3 code only the server used.
 *
 * Why it is never reached: the dispatch calls it for a server context
 * whose tls_version is TLS 1.3.  That is the conf's max_tls_version after
 * mbedtls_ssl_setup and every session reset, and vigild's one server
 * conf (coap_dtls.c, conf_setup) caps it at 1.2.  The TLS 1.2 server sets
 * it from a ClientHello's version field (0xfefc in DTLS reads as 1.3),
 * but refuses any version but 1.2 in the same step, with a
 * protocol_version alert, and coap_dtls resets a context after every
 * failed handshake.  Were it ever reached, the handshake fails cleanly.
 * tests/integration/test_coap_dtls.py sends TLS 1.3-style ClientHellos.
 */
#include "mbedtls/ssl.h"

/* The prototype is in mbedTLS's library/ssl_misc.h, not installed. */
int mbedtls_ssl_tls13_handshake_server_step(mbedtls_ssl_context *ssl);

int mbedtls_ssl_tls13_handshake_server_step(mbedtls_ssl_context *ssl)
{
	(void)ssl;
	return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
}

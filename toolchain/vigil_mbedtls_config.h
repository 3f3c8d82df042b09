/*
 * vigil_mbedtls_config.h — the project's complete mbedTLS 3.6 configuration.
 *
 * This replaces mbedtls/mbedtls_config.h (it is not an overlay): anything not
 * defined here is off. mbedTLS and every consumer are compiled with
 *     -I toolchain -DMBEDTLS_CONFIG_FILE='"vigil_mbedtls_config.h"'
 * so the libraries and the code that uses them always agree on struct layouts.
 * mbedtls/build_info.h includes mbedtls/check_config.h after this file, which
 * #errors on inconsistent combinations, so every build of the toolchain is
 * also the config check.
 *
 * Who uses what:
 *   vigild (agent)     TLS 1.3 client with mutual X.509 auth (ECDSA P-256),
 *                      TLS 1.2 client only if a server is configured for it,
 *                      DTLS 1.2 PSK server for CoAP (5684), RSA-OAEP + AES-CBC
 *                      for the CyberBackup v3 protocol's own crypto.
 *   vigil-backupd      TLS 1.3 server (mutual auth, session tickets).
 *   vigilctl           DTLS 1.2 PSK client, TLS 1.3 client.
 * One config serves all three, so client and server sides are both on.
 *
 * Size (x86_64, musl, -Os, gc-sections, stripped; see toolchain/README.md):
 * DEBUG_C alone is ~99 KB, the ciphers/modes/curves/hashes turned off below
 * another ~140 KB. Each "off" group says why it is off.
 *
 * Changing this file changes the toolchain cache key (see the Makefile), so
 * the libraries are rebuilt automatically.
 */
#ifndef VIGIL_MBEDTLS_CONFIG_H
#define VIGIL_MBEDTLS_CONFIG_H

/* ---- System support --------------------------------------------------- */

/* Inline assembly for bignum multiply: RSA keygen and ECDSA are several
 * times faster with it on all three targets. */
#define MBEDTLS_HAVE_ASM
/* time(): X.509 validity (HAVE_TIME_DATE uses gmtime_r), TLS 1.3 ticket age
 * and lifetime, DTLS cookie expiry. The agent keeps wall time via NTP/RTC;
 * until then certificate dates may fail to verify, which is intended. */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE

/* PLATFORM_C + PLATFORM_MEMORY let mbedtls_memory_buffer_alloc_init() route
 * mbedTLS's calloc/free into a static arena owned by the agent (STYLE rule 5:
 * no allocation after init). Host tools that never call it use libc. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* MBEDTLS_MEMORY_DEBUG stays off: it adds per-block headers, stderr output
 * and ~2 KB; turn it on locally to measure an arena's peak. */

/* ---- Randomness --------------------------------------------------------- */

/* PSA takes its random bytes from mbedtls_psa_external_get_random(), which
 * the application implements over getrandom(2) (hal/rng). That removes
 * ENTROPY_C and CTR_DRBG_C (~8 KB) and the question of seeding them.
 * The TLS layer gets the same callback through mbedtls_ssl_conf_rng(). */
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
/* HMAC_DRBG is kept only for deterministic ECDSA (RFC 6979): our signatures
 * (client CertificateVerify) then do not depend on RNG quality right after
 * boot, when appliances are weakest. It is not used as a general RNG. */
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

/* ---- PSA crypto --------------------------------------------------------- */

/* TLS 1.3 in 3.6 runs its key schedule (HKDF) and ECDHE through PSA, so
 * PSA_CRYPTO_C is required; the application calls psa_crypto_init().
 * USE_PSA_CRYPTO stays off: X.509/PK/TLS 1.2 keep the legacy code paths,
 * which avoids compiling both. No key storage (no ITS file, no SE): every
 * key is volatile. The key store stays dynamic; its slots come from the
 * static arena like everything else. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC

/* ---- Big numbers, ASN.1, encodings -------------------------------------- */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C    /* PK_WRITE (SubjectPublicKeyInfo), ECDSA sigs */
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C        /* PEM */
#define MBEDTLS_PEM_WRITE_C     /* vigilctl pki init writes PEM */
#define MBEDTLS_PEM_PARSE_C     /* certificates and keys are stored as PEM */

/* ---- Symmetric ciphers -------------------------------------------------- */

/* AES: TLS/DTLS record protection (GCM, CCM) and the v3 protocol's own
 * AES-256-CBC with PKCS#7 padding. AESNI_C/AESCE_C pick the CPU's AES
 * instructions at run time (x86_64 AES-NI, ARMv8 crypto extensions) and
 * compile to nothing on armv7. PADLOCK_C (VIA, 32-bit x86 only) is off. */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_AESCE_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_GCM_C
/* CCM: the CoAP/DTLS PSK suites (TLS_PSK_WITH_AES_128_CCM_8, RFC 7925's
 * mandatory suite for constrained devices). */
#define MBEDTLS_CCM_C
/* ChaCha20-Poly1305: TLS 1.3 suite that is fast on cores without AES
 * instructions (armv7, Cortex-A53 without crypto extensions). */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
/* Off: DES, ARIA, CAMELLIA, CMAC, NIST_KW, CFB/OFB/CTR/XTS modes and the
 * other paddings — no protocol we speak uses them (~53 KB together). */

/* ---- Hashes ------------------------------------------------------------- */

#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C        /* TLS 1.3/1.2 PRF, ECDSA-SHA256, OAEP-SHA256 */
/* Every backup hashes what it sends (the incremental manifest), so
 * SHA-256 runs at file rate: on aarch64 use the ARMv8 SHA-256
 * instructions when the CPU has them (getauxval at first use; QEMU's
 * Cortex-A57 does, the Pi 4's Cortex-A72 does not and keeps the C code).
 * Compiles to nothing on armv7 and x86_64. */
#define MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT
/* SHA-1: the old CyberBackup v3 server wraps keys with RSA-OAEP-SHA1. */
#define MBEDTLS_SHA1_C
/* SHA-384/512 are OFF, on purpose:
 *  - TLS 1.3's mandatory suite is TLS_AES_128_GCM_SHA256 (RFC 8446 9.1);
 *    TLS_AES_256_GCM_SHA384 is only a SHOULD, and every peer that speaks
 *    TLS 1.3 to us also offers AES_128_GCM_SHA256 or CHACHA20_POLY1305.
 *  - Our PKI is ECDSA P-256 with SHA-256 end to end. Chains signed with
 *    SHA-384 in practice use P-384 keys, which this build cannot verify
 *    anyway (only P-256/X25519 below).
 *  - Measured cost of turning them on: see toolchain/README.md.
 * If a TLS 1.2-only server ever needs *_SHA384 suites, enable SHA384_C
 * (and SHA512_C, which it builds on) here. */
/* Off: MD5, RIPEMD160, SHA224, SHA3 — unused (TLS 1.0/1.1 are gone). */

/* ---- Public key: elliptic curves ---------------------------------------- */

#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C         /* X.509 and TLS signatures */
/* ECDH_C: needed for TLS 1.2 ECDHE, and in 3.6 it is also what turns on
 * PSA's ECDH that TLS 1.3 uses. */
#define MBEDTLS_ECDH_C
/* P-256: certificates and key exchange; X25519: preferred TLS 1.3 key
 * share. Other curves off (~46 KB). */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
/* Fast P-256 reduction and the fixed-point comb (ECP_FIXED_POINT_OPTIM,
 * default 1): turning them off saves ~4 KB but makes ECDSA 3-8x slower. */
#define MBEDTLS_ECP_NIST_OPTIM

/* ---- Public key: RSA ---------------------------------------------------- */

/* The CyberBackup v3 protocol: the agent generates an RSA-1024 key
 * (GENPRIME), sends its DER SubjectPublicKeyInfo (PK_WRITE_C), and the
 * server wraps the session AES key with RSA-OAEP (PKCS1_V21). PKCS#1 v1.5
 * is not needed by anything we do and stays off. */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_GENPRIME

#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

/* ---- Key derivation ----------------------------------------------------- */

/* HKDF_C: like ECDH_C, it is what enables PSA's HKDF for the TLS 1.3 key
 * schedule. */
#define MBEDTLS_HKDF_C

/* ---- X.509 -------------------------------------------------------------- */

/* Certificates are parsed from memory buffers (mbedtls_x509_crt_parse);
 * FS_IO is off because storage goes through hal/storage, so
 * mbedtls_x509_crt_parse_file() does not exist in this build.
 * CRL parsing is off: revocation is handled by reissuing the small PKI.
 * CRT writing is on for vigilctl pki (static linking keeps it out of
 * vigild); CSR writing is off: keys are made where they are signed. */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C   /* vigilctl pki init: CA, server, devices */
#define MBEDTLS_X509_CRT_WRITE_C
/* REMOVE_INFO: no mbedtls_x509_crt_info()/verify_info() and no names or
 * descriptions in the OID tables; nothing of ours prints a certificate
 * that way (the server and vigilctl use mbedtls_x509_dn_gets(), whose
 * short attribute names stay). */
#define MBEDTLS_X509_REMOVE_INFO

/* ---- TLS / DTLS --------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C

/* TLS 1.3: ECDHE with certificates, and PSK+ECDHE for ticket resumption.
 * Pure PSK mode (no forward secrecy) is off. Middlebox compatibility mode
 * is kept: appliances sit behind firewalls that drop "odd" handshakes. */
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE

/* TLS 1.2: needed for DTLS 1.2 (CoAP over DTLS-PSK), and for TCP only when a
 * server is configured for TLS 1.2. Key exchanges: ECDHE-ECDSA and PSK only
 * (the others cost ~31 KB). EMS and Encrypt-then-MAC close known TLS 1.2
 * weaknesses (triple handshake, CBC padding oracles) at ~1 KB. */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED  /* backup over TLS 1.2 + PSK */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC

/* DTLS for CoAP on 5684: HelloVerifyRequest cookies (SSL_COOKIE_C) stop the
 * agent from being used as a UDP amplifier, anti-replay drops replayed
 * records, CLIENT_PORT_REUSE lets a poller that restarted on the same port
 * reconnect at once instead of waiting for the old session to time out.
 * TIMING_C is off: DTLS retransmission uses mbedtls_ssl_set_timer_cb()
 * callbacks that the event loop implements over its own timers. */
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_COOKIE_C
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#define MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE

/* Session tickets, client (agent reconnects cheaply after a link drop) and
 * server (vigil-backupd issues them; SSL_TICKET_C is its ticket key store,
 * AES-GCM protected). No SSL_CACHE_C: TLS 1.3 resumes with tickets only. */
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C

/* KEEP_PEER_CERTIFICATE is required by TLS 1.3 in 3.6; the backup server
 * also reads the client certificate's subject to identify the agent. */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* Send a specific alert on failure instead of closing silently: the peer's
 * log then says why (a few hundred bytes). */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Off: RENEGOTIATION (attack surface, unused), CONTEXT_SERIALIZATION,
 * KEYING_MATERIAL_EXPORT, DTLS_CONNECTION_ID, EARLY_DATA (replayable). */

/* ---- Misc --------------------------------------------------------------- */

/* mbedtls_version_get_string() for `version` on the console. */
#define MBEDTLS_VERSION_C
/* ERROR_C (all error strings, ~20 KB) is off: tls/ maps mbedTLS codes to
 * our errno list (STYLE rule 3). The dummy prints the hex code if anything
 * still calls mbedtls_strerror(). */
#define MBEDTLS_ERROR_STRERROR_DUMMY

/* Explicitly NOT here (see the module list above for the reasons):
 * DEBUG_C (~99 KB), NET_C (own sockets, hal/net), FS_IO (hal/storage),
 * TIMING_C (own timers), SELF_TEST, ENTROPY_C, CTR_DRBG_C, THREADING_C (the
 * agent is single-threaded; host servers keep one context per thread),
 * DHM_C, MD5_C, RIPEMD160_C, DES_C, ARIA_C, CAMELLIA_C, PKCS5/7/12. */

/* ---- Sizes -------------------------------------------------------------- */

/* Record buffers. OUT 4096: we choose what we send, and records of 4 KB
 * cost nothing in throughput at our rates. IN stays 16384: a peer may send
 * full-size records and the certificate chain is reassembled in this
 * buffer; mbedTLS's TLS 1.3 client does not send max_fragment_length and
 * OpenSSL ignores record_size_limit, so a smaller IN buffer is only safe
 * against servers we control (DESIGN.md, facts). */
#define MBEDTLS_SSL_IN_CONTENT_LEN  16384
/* 4 KiB output records: five DTLS contexts and the backup client share
 * the 256 KiB arena; 16 KiB records would not change AES-GCM's rate
 * (make bench: 286-296 MiB/s both), only the number of send calls. */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#endif /* VIGIL_MBEDTLS_CONFIG_H */

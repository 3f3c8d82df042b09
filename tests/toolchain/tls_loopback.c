/*
 * tls_loopback — proves that a toolchain build of mbedTLS really works on a
 * target: TLS 1.3 with mutual auth, TLS 1.3 ticket resumption, DTLS 1.2 PSK
 * with cookies, RSA-1024 keygen/SPKI/OAEP and AES-256-CBC known answers.
 *
 * Usage: tls_loopback CERTDIR   (files made by tests/toolchain/make-certs.sh:
 *        ca.crt server.crt server.key client.crt client.key)
 *
 * Everything runs in one process, in a fixed order, with no sockets: client
 * and server talk through two in-memory channels (struct chan), one per
 * direction, driven by custom non-blocking bio callbacks that answer
 * WANT_READ/WANT_WRITE exactly like a non-blocking socket would. The DTLS
 * channel keeps datagram boundaries. DTLS timers run on a fake clock that
 * advances 1 ms per handshake round, so nothing ever times out.
 *
 * All mbedTLS memory comes from one static arena (the agent's model, STYLE
 * rule 5). Randomness comes from getrandom(2), both for the TLS layer and as
 * PSA's external RNG (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG).
 *
 * Output: "ok - name" / "not ok - name: reason" per check, then exactly
 * "N passed, N failed". Exit 0 only if nothing failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "mbedtls/aes.h"
#include "mbedtls/cipher.h"
#include "mbedtls/error.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_cookie.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

/*
 * Arena: two live TLS contexts dominate, each ~16.7 KB in + ~4.4 KB out
 * record buffers (MBEDTLS_SSL_IN/OUT_CONTENT_LEN + header/MAC overhead),
 * plus handshake state, five parsed certificates/keys and PSA key slots.
 * Measured peak of this program with MBEDTLS_MEMORY_DEBUG on x86_64:
 * 65252 bytes in 134 blocks; 128 KiB leaves 2x for fragmentation.
 */
#define ARENA_SIZE (128 * 1024)
/* One direction of a channel holds at most one flight; the largest is the
 * TLS 1.3 server's (certificate chain + signature), about 2 KB. */
#define CHAN_CAP 32768
#define MAX_ROUNDS 200          /* handshake rounds before we call it hung */
#define PEM_MAX 8192            /* our PEM files are < 1 KB each */

static unsigned char arena[ARENA_SIZE];
static unsigned passed, failed;
static char why[256];           /* reason of the current failure */

/* ---- reporting --------------------------------------------------------- */

/* Formats a failure reason; returns it so checks can `return fail(...)`. */
static const char *fail(const char *what, int ret)
{
    snprintf(why, sizeof why, "%s returned -0x%04x", what, (unsigned)-ret);
    return why;
}

static void report(const char *name, const char *err)
{
    if (err == NULL) {
        passed++;
        printf("ok - %s\n", name);
    } else {
        failed++;
        printf("not ok - %s: %s\n", name, err);
    }
    fflush(stdout);
}

/* ---- randomness ---------------------------------------------------------- */

static int rng_cb(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;  /* stateless: the kernel keeps the state */
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return MBEDTLS_ERR_ERROR_GENERIC_ERROR;
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

psa_status_t mbedtls_psa_external_get_random(
    mbedtls_psa_external_random_context_t *ctx,
    uint8_t *out, size_t size, size_t *out_len)
{
    (void)ctx;  /* the context type is opaque and unused with getrandom */
    if (rng_cb(NULL, out, size) != 0)
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *out_len = size;
    return PSA_SUCCESS;
}

/* ---- in-memory transport ------------------------------------------------- */

/* A one-direction pipe. Stream mode: raw bytes. Datagram mode: a queue of
 * [len16 | payload] frames, so each recv returns exactly one datagram. */
struct chan {
    uint8_t buf[CHAN_CAP];
    size_t len;                 /* invariant: len <= CHAN_CAP */
    int dgram;
};

struct link {
    struct chan *in, *out;
};

static struct chan c2s, s2c;    /* client->server, server->client */
static struct link cli_link = { &s2c, &c2s }, srv_link = { &c2s, &s2c };

static void chans_reset(int dgram)
{
    c2s.len = s2c.len = 0;
    c2s.dgram = s2c.dgram = dgram;
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
    struct chan *c = ((struct link *)ctx)->out;
    size_t room = CHAN_CAP - c->len;
    if (c->dgram) {
        if (n > 0xffff || n + 2 > room)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        c->buf[c->len] = (uint8_t)(n >> 8);
        c->buf[c->len + 1] = (uint8_t)n;
        memcpy(c->buf + c->len + 2, p, n);
        c->len += n + 2;
        return (int)n;
    }
    if (room == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (n > room)
        n = room;   /* a short write, as a socket would do */
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return (int)n;
}

static void chan_consume(struct chan *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
    struct chan *c = ((struct link *)ctx)->in;
    if (c->len == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (c->dgram) {
        size_t dl = ((size_t)c->buf[0] << 8) | c->buf[1];
        size_t take = dl < n ? dl : n;  /* truncates like recvfrom */
        memcpy(p, c->buf + 2, take);
        chan_consume(c, dl + 2);
        return (int)take;
    }
    if (n > c->len)
        n = c->len;
    memcpy(p, c->buf, n);
    chan_consume(c, n);
    return (int)n;
}

/* ---- DTLS timers on a fake clock ----------------------------------------- */

struct ftimer {
    uint64_t start, int_ms, fin_ms;
};

static uint64_t fake_now_ms;
static unsigned timer_sets;     /* proves mbedTLS used our callbacks */

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct ftimer *t = ctx;
    t->start = fake_now_ms;
    t->int_ms = int_ms;
    t->fin_ms = fin_ms;
    timer_sets++;
}

/* Contract of mbedtls_ssl_get_timer_t: -1 cancelled, 0 none expired,
 * 1 intermediate expired, 2 final expired. */
static int timer_get(void *ctx)
{
    const struct ftimer *t = ctx;
    uint64_t el = fake_now_ms - t->start;
    if (t->fin_ms == 0)
        return -1;
    if (el >= t->fin_ms)
        return 2;
    return el >= t->int_ms ? 1 : 0;
}

/* ---- credentials ----------------------------------------------------------- */

struct creds {
    mbedtls_x509_crt ca, srv_crt, cli_crt;
    mbedtls_pk_context srv_key, cli_key;
};

/* Reads dir/name into buf, NUL-terminated as mbedTLS's PEM parser wants;
 * returns the length including the NUL, or 0 on error. */
static size_t read_pem(const char *dir, const char *name, unsigned char *buf)
{
    char path[512];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    n = fread(buf, 1, PEM_MAX - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 && n < PEM_MAX - 1 ? n + 1 : 0;
}

static const char *load_crt(mbedtls_x509_crt *crt, const char *dir,
                            const char *name)
{
    static unsigned char pem[PEM_MAX];
    size_t n = read_pem(dir, name, pem);
    int ret;
    if (n == 0) {
        snprintf(why, sizeof why, "cannot read %s/%s", dir, name);
        return why;
    }
    ret = mbedtls_x509_crt_parse(crt, pem, n);
    return ret == 0 ? NULL : fail(name, ret);
}

static const char *load_key(mbedtls_pk_context *pk, const char *dir,
                            const char *name)
{
    static unsigned char pem[PEM_MAX];
    size_t n = read_pem(dir, name, pem);
    int ret;
    if (n == 0) {
        snprintf(why, sizeof why, "cannot read %s/%s", dir, name);
        return why;
    }
    ret = mbedtls_pk_parse_key(pk, pem, n, NULL, 0, rng_cb, NULL);
    mbedtls_platform_zeroize(pem, sizeof pem);
    return ret == 0 ? NULL : fail(name, ret);
}

static const char *creds_load(struct creds *c, const char *dir)
{
    const char *err;
    if ((err = load_crt(&c->ca, dir, "ca.crt")) != NULL ||
        (err = load_crt(&c->srv_crt, dir, "server.crt")) != NULL ||
        (err = load_crt(&c->cli_crt, dir, "client.crt")) != NULL ||
        (err = load_key(&c->srv_key, dir, "server.key")) != NULL ||
        (err = load_key(&c->cli_key, dir, "client.key")) != NULL)
        return err;
    return NULL;
}

static void creds_init(struct creds *c)
{
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_x509_crt_init(&c->srv_crt);
    mbedtls_x509_crt_init(&c->cli_crt);
    mbedtls_pk_init(&c->srv_key);
    mbedtls_pk_init(&c->cli_key);
}

static void creds_free(struct creds *c)
{
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_x509_crt_free(&c->srv_crt);
    mbedtls_x509_crt_free(&c->cli_crt);
    mbedtls_pk_free(&c->srv_key);
    mbedtls_pk_free(&c->cli_key);
}

/* ---- generic handshake / data pump ---------------------------------------- */

/* The DTLS client's "address" as the server sees it (cookies bind to it). */
static const unsigned char peer_id[] = "client:5683";

static int is_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Server side of a DTLS handshake that must first answer with a
 * HelloVerifyRequest: mbedTLS then wants a fresh session for the client's
 * second ClientHello (the one carrying the cookie). */
static int srv_step(mbedtls_ssl_context *srv, unsigned *hvr)
{
    int ret = mbedtls_ssl_handshake(srv);
    if (ret != MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED || hvr == NULL)
        return ret;
    (*hvr)++;
    ret = mbedtls_ssl_session_reset(srv);
    if (ret == 0)
        ret = mbedtls_ssl_set_client_transport_id(srv, peer_id, sizeof peer_id);
    return ret == 0 ? MBEDTLS_ERR_SSL_WANT_READ : ret;
}

/* Runs both handshakes in lock step until both are done. hvr != NULL means
 * DTLS with cookies: count HelloVerifyRequests there. */
static const char *handshake(mbedtls_ssl_context *cli,
                             mbedtls_ssl_context *srv, unsigned *hvr)
{
    int cdone = 0, sdone = 0;
    for (int round = 0; round < MAX_ROUNDS && !(cdone && sdone); round++) {
        fake_now_ms++;
        if (!cdone) {
            int ret = mbedtls_ssl_handshake(cli);
            if (ret != 0 && !is_want(ret))
                return fail("client handshake", ret);
            cdone = ret == 0;
        }
        if (!sdone) {
            int ret = srv_step(srv, hvr);
            if (ret != 0 && !is_want(ret))
                return fail("server handshake", ret);
            sdone = ret == 0;
        }
    }
    return cdone && sdone ? NULL : "handshake did not finish";
}

static const char *send_msg(mbedtls_ssl_context *ssl, const char *msg)
{
    size_t len = strlen(msg);
    int ret;
    /* retry the same call with the same arguments on WANT_* (ssl.h) */
    do {
        ret = mbedtls_ssl_write(ssl, (const unsigned char *)msg, len);
    } while (is_want(ret));
    if (ret < 0)
        return fail("mbedtls_ssl_write", ret);
    return (size_t)ret == len ? NULL : "short write";
}

/* Reads one message and compares it with want. A TLS 1.3 client may first
 * see NewSessionTicket: then *session (if given) receives the session. */
static const char *recv_msg(mbedtls_ssl_context *ssl, const char *want,
                            mbedtls_ssl_session *session)
{
    unsigned char buf[256];
    int ret = MBEDTLS_ERR_SSL_WANT_READ;
    for (int i = 0; i < MAX_ROUNDS && ret < 0; i++) {
        ret = mbedtls_ssl_read(ssl, buf, sizeof buf);
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET && session) {
            int r = mbedtls_ssl_get_session(ssl, session);
            if (r != 0)
                return fail("mbedtls_ssl_get_session", r);
        } else if (ret < 0 && !is_want(ret)) {
            return fail("mbedtls_ssl_read", ret);
        }
    }
    if (ret < 0)
        return "no data arrived";
    if ((size_t)ret != strlen(want) || memcmp(buf, want, (size_t)ret) != 0)
        return "received data differs from what was sent";
    return NULL;
}

/* ---- TLS 1.3 --------------------------------------------------------------- */

struct tls_env {
    mbedtls_ssl_config cli_conf, srv_conf;
    mbedtls_ssl_ticket_context ticket;
    unsigned tickets_parsed;    /* server accepted a ticket */
    unsigned certs_verified;    /* client verify callback calls */
};

static const char *alpn_list[] = { "vigil/1", NULL };

static int ticket_write(void *p, const mbedtls_ssl_session *s,
                        unsigned char *start, const unsigned char *end,
                        size_t *tlen, uint32_t *lifetime)
{
    struct tls_env *env = p;
    return mbedtls_ssl_ticket_write(&env->ticket, s, start, end, tlen, lifetime);
}

static int ticket_parse(void *p, mbedtls_ssl_session *s,
                        unsigned char *buf, size_t len)
{
    struct tls_env *env = p;
    int ret = mbedtls_ssl_ticket_parse(&env->ticket, s, buf, len);
    env->tickets_parsed += ret == 0;
    return ret;
}

static int count_verify(void *p, mbedtls_x509_crt *crt, int depth,
                        uint32_t *flags)
{
    (void)crt;      /* only counting: mbedTLS's own checks set *flags */
    (void)depth;
    (void)flags;
    ((struct tls_env *)p)->certs_verified++;
    return 0;
}

static int conf_common(mbedtls_ssl_config *c, int endpoint, int transport)
{
    int ret = mbedtls_ssl_config_defaults(c, endpoint, transport,
                                          MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0)
        mbedtls_ssl_conf_rng(c, rng_cb, NULL);
    return ret;
}

static const char *tls_env_setup(struct tls_env *env, struct creds *cr)
{
    mbedtls_ssl_config *cc = &env->cli_conf, *sc = &env->srv_conf;
    int ret;
    if ((ret = conf_common(cc, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM)) ||
        (ret = conf_common(sc, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM)))
        return fail("mbedtls_ssl_config_defaults", ret);
    mbedtls_ssl_conf_authmode(cc, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_authmode(sc, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(cc, &cr->ca, NULL);
    mbedtls_ssl_conf_ca_chain(sc, &cr->ca, NULL);
    mbedtls_ssl_conf_verify(cc, count_verify, env);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        cc, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    if ((ret = mbedtls_ssl_conf_own_cert(cc, &cr->cli_crt, &cr->cli_key)) ||
        (ret = mbedtls_ssl_conf_own_cert(sc, &cr->srv_crt, &cr->srv_key)))
        return fail("mbedtls_ssl_conf_own_cert", ret);
    if ((ret = mbedtls_ssl_conf_alpn_protocols(cc, alpn_list)) ||
        (ret = mbedtls_ssl_conf_alpn_protocols(sc, alpn_list)))
        return fail("mbedtls_ssl_conf_alpn_protocols", ret);
    ret = mbedtls_ssl_ticket_setup(&env->ticket, rng_cb, NULL,
                                   MBEDTLS_CIPHER_AES_256_GCM, 3600);
    if (ret != 0)
        return fail("mbedtls_ssl_ticket_setup", ret);
    mbedtls_ssl_conf_session_tickets_cb(sc, ticket_write, ticket_parse, env);
    return NULL;
}

/* Sets up a client/server pair over fresh stream channels. */
static const char *tls_pair(struct tls_env *env, mbedtls_ssl_context *cli,
                            mbedtls_ssl_context *srv)
{
    int ret;
    chans_reset(0);
    if ((ret = mbedtls_ssl_setup(cli, &env->cli_conf)) ||
        (ret = mbedtls_ssl_setup(srv, &env->srv_conf)))
        return fail("mbedtls_ssl_setup", ret);
    /* SNI + name check against the certificate's SAN */
    if ((ret = mbedtls_ssl_set_hostname(cli, "localhost")))
        return fail("mbedtls_ssl_set_hostname", ret);
    mbedtls_ssl_set_bio(cli, &cli_link, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_bio(srv, &srv_link, bio_send, bio_recv, NULL);
    return NULL;
}

static const char *check_tls13_state(mbedtls_ssl_context *cli,
                                     mbedtls_ssl_context *srv)
{
    const char *alpn = mbedtls_ssl_get_alpn_protocol(cli);
    if (mbedtls_ssl_get_version_number(cli) != MBEDTLS_SSL_VERSION_TLS1_3 ||
        strcmp(mbedtls_ssl_get_version(cli), "TLSv1.3") != 0) {
        snprintf(why, sizeof why, "negotiated %s, want TLSv1.3",
                 mbedtls_ssl_get_version(cli));
        return why;
    }
    if (mbedtls_ssl_get_verify_result(cli) != 0)
        return "client: server certificate did not verify";
    if (mbedtls_ssl_get_peer_cert(srv) == NULL)
        return "server: no client certificate";
    if (alpn == NULL || strcmp(alpn, alpn_list[0]) != 0)
        return "ALPN not negotiated";
    printf("# ciphersuite %s\n", mbedtls_ssl_get_ciphersuite(cli));
    return NULL;
}

/* Full handshake with mutual auth, a message each way; the ticket the
 * server sends afterwards is stored in *session for the next test. */
static const char *test_tls13_full(struct tls_env *env,
                                   mbedtls_ssl_session *session)
{
    mbedtls_ssl_context cli, srv;
    const char *err;
    mbedtls_ssl_init(&cli);
    mbedtls_ssl_init(&srv);
    if ((err = tls_pair(env, &cli, &srv)) == NULL &&
        (err = handshake(&cli, &srv, NULL)) == NULL &&
        (err = check_tls13_state(&cli, &srv)) == NULL &&
        (err = send_msg(&cli, "hello from the agent")) == NULL &&
        (err = recv_msg(&srv, "hello from the agent", NULL)) == NULL &&
        (err = send_msg(&srv, "hello from the server")) == NULL)
        err = recv_msg(&cli, "hello from the server", session);
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_free(&srv);
    return err;
}

/* Second connection offers the ticket. Resumption is proven by both ends:
 * the server parsed a ticket, and the client verified no certificate. */
static const char *test_tls13_resume(struct tls_env *env,
                                     const mbedtls_ssl_session *session)
{
    mbedtls_ssl_context cli, srv;
    const char *err;
    int ret;
    unsigned parsed = env->tickets_parsed, verified = env->certs_verified;
    mbedtls_ssl_init(&cli);
    mbedtls_ssl_init(&srv);
    err = tls_pair(env, &cli, &srv);
    if (err == NULL && (ret = mbedtls_ssl_set_session(&cli, session)) != 0)
        err = fail("mbedtls_ssl_set_session", ret);
    if (err == NULL && (err = handshake(&cli, &srv, NULL)) == NULL &&
        (err = send_msg(&cli, "resumed")) == NULL)
        err = recv_msg(&srv, "resumed", NULL);
    if (err == NULL && env->tickets_parsed == parsed)
        err = "server did not accept the ticket";
    if (err == NULL && env->certs_verified != verified)
        err = "full handshake: the server certificate was sent again";
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_free(&srv);
    return err;
}

static void run_tls13(struct creds *cr)
{
    static struct tls_env env;  /* ~1 KB of config; keep it off the stack */
    mbedtls_ssl_session session;
    const char *err;
    mbedtls_ssl_config_init(&env.cli_conf);
    mbedtls_ssl_config_init(&env.srv_conf);
    mbedtls_ssl_ticket_init(&env.ticket);
    mbedtls_ssl_session_init(&session);
    err = tls_env_setup(&env, cr);
    if (err == NULL)
        err = test_tls13_full(&env, &session);
    report("tls13 mutual-auth handshake and data both ways", err);
    err = err != NULL ? "skipped: full handshake failed"
                      : test_tls13_resume(&env, &session);
    report("tls13 session-ticket resumption", err);
    mbedtls_ssl_session_free(&session);
    mbedtls_ssl_ticket_free(&env.ticket);
    mbedtls_ssl_config_free(&env.cli_conf);
    mbedtls_ssl_config_free(&env.srv_conf);
}

/* ---- DTLS 1.2 PSK ---------------------------------------------------------- */

/* Test-only PSK; the agent reads its keys from the identity store. */
static const unsigned char psk[16] = {
    0x76, 0x69, 0x67, 0x69, 0x6c, 0x2d, 0x74, 0x65,
    0x73, 0x74, 0x2d, 0x70, 0x73, 0x6b, 0x21, 0x21,
};
static const char psk_id[] = "vigilctl";
/* RFC 7925's mandatory suite for CoAP over DTLS. */
static const int dtls_suites[] = { MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8, 0 };

struct dtls_env {
    mbedtls_ssl_config cli_conf, srv_conf;
    mbedtls_ssl_cookie_ctx cookie;
    struct ftimer cli_timer, srv_timer;
};

/* The server looks the identity up, as the agent does in its PSK table. */
static int psk_lookup(void *p, mbedtls_ssl_context *ssl,
                      const unsigned char *id, size_t len)
{
    (void)p;    /* one fixed key in this test */
    if (len != strlen(psk_id) || memcmp(id, psk_id, len) != 0)
        return -1;
    return mbedtls_ssl_set_hs_psk(ssl, psk, sizeof psk);
}

static const char *dtls_env_setup(struct dtls_env *env)
{
    mbedtls_ssl_config *cc = &env->cli_conf, *sc = &env->srv_conf;
    int ret;
    if ((ret = conf_common(cc, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM)) ||
        (ret = conf_common(sc, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_DATAGRAM)))
        return fail("mbedtls_ssl_config_defaults", ret);
    mbedtls_ssl_conf_ciphersuites(cc, dtls_suites);
    mbedtls_ssl_conf_ciphersuites(sc, dtls_suites);
    ret = mbedtls_ssl_conf_psk(cc, psk, sizeof psk,
                               (const unsigned char *)psk_id, strlen(psk_id));
    if (ret != 0)
        return fail("mbedtls_ssl_conf_psk", ret);
    mbedtls_ssl_conf_psk_cb(sc, psk_lookup, NULL);
    ret = mbedtls_ssl_cookie_setup(&env->cookie, rng_cb, NULL);
    if (ret != 0)
        return fail("mbedtls_ssl_cookie_setup", ret);
    mbedtls_ssl_conf_dtls_cookies(sc, mbedtls_ssl_cookie_write,
                                  mbedtls_ssl_cookie_check, &env->cookie);
    return NULL;
}

static const char *dtls_pair(struct dtls_env *env, mbedtls_ssl_context *cli,
                             mbedtls_ssl_context *srv)
{
    int ret;
    chans_reset(1);
    if ((ret = mbedtls_ssl_setup(cli, &env->cli_conf)) ||
        (ret = mbedtls_ssl_setup(srv, &env->srv_conf)))
        return fail("mbedtls_ssl_setup", ret);
    mbedtls_ssl_set_bio(cli, &cli_link, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_bio(srv, &srv_link, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(cli, &env->cli_timer, timer_set, timer_get);
    mbedtls_ssl_set_timer_cb(srv, &env->srv_timer, timer_set, timer_get);
    /* cookies are bound to the client's address; ours is a fixed name */
    ret = mbedtls_ssl_set_client_transport_id(srv, peer_id, sizeof peer_id);
    return ret == 0 ? NULL : fail("mbedtls_ssl_set_client_transport_id", ret);
}

static const char *check_dtls_state(mbedtls_ssl_context *cli, unsigned hvr)
{
    const char *suite = mbedtls_ssl_get_ciphersuite(cli);
    if (hvr == 0)
        return "server sent no HelloVerifyRequest (cookies off?)";
    if (timer_sets == 0)
        return "mbedTLS never armed the timer callbacks";
    if (strcmp(mbedtls_ssl_get_version(cli), "DTLSv1.2") != 0)
        return "negotiated version is not DTLSv1.2";
    if (strcmp(suite, "TLS-PSK-WITH-AES-128-CCM-8") != 0)
        return "unexpected ciphersuite";
    printf("# ciphersuite %s, %u HelloVerifyRequest\n", suite, hvr);
    return NULL;
}

static void run_dtls(void)
{
    static struct dtls_env env;
    mbedtls_ssl_context cli, srv;
    unsigned hvr = 0;
    const char *err;
    mbedtls_ssl_config_init(&env.cli_conf);
    mbedtls_ssl_config_init(&env.srv_conf);
    mbedtls_ssl_cookie_init(&env.cookie);
    mbedtls_ssl_init(&cli);
    mbedtls_ssl_init(&srv);
    if ((err = dtls_env_setup(&env)) == NULL &&
        (err = dtls_pair(&env, &cli, &srv)) == NULL &&
        (err = handshake(&cli, &srv, &hvr)) == NULL)
        err = check_dtls_state(&cli, hvr);
    report("dtls12 psk handshake with cookie exchange", err);
    if (err != NULL)
        err = "skipped: handshake failed";
    else if ((err = send_msg(&cli, "GET /status")) == NULL &&
             (err = recv_msg(&srv, "GET /status", NULL)) == NULL &&
             (err = send_msg(&srv, "2.05 Content")) == NULL)
        err = recv_msg(&cli, "2.05 Content", NULL);
    report("dtls12 one datagram each way", err);
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_free(&srv);
    mbedtls_ssl_cookie_free(&env.cookie);
    mbedtls_ssl_config_free(&env.cli_conf);
    mbedtls_ssl_config_free(&env.srv_conf);
}

/* ---- RSA (CyberBackup v3 key exchange) ------------------------------------- */

/* The v3 protocol sends the agent's public key as a DER SubjectPublicKeyInfo
 * of fixed size: SEQ(3) + AlgorithmIdentifier(15) + BIT STRING(3+1) +
 * SEQ(3) + INTEGER n(3+129) + INTEGER e = 160 bytes with e=17 (3-byte
 * INTEGER), 162 with e=65537 (5-byte INTEGER). */
static const char *rsa_keygen_spki(mbedtls_pk_context *pk, int e, int want)
{
    unsigned char der[256];
    int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret != 0)
        return fail("mbedtls_pk_setup", ret);
    ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), rng_cb, NULL, 1024, e);
    if (ret != 0)
        return fail("mbedtls_rsa_gen_key", ret);
    ret = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);  /* writes at end */
    if (ret < 0)
        return fail("mbedtls_pk_write_pubkey_der", ret);
    if (ret != want) {
        snprintf(why, sizeof why, "SPKI is %d bytes, want %d", ret, want);
        return why;
    }
    return NULL;
}

/* Wraps a 32-byte session key the way the server does and unwraps it; a
 * ciphertext with one flipped bit must then be rejected. */
static const char *rsa_oaep(mbedtls_pk_context *pk, mbedtls_md_type_t md)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    unsigned char key[32], ct[128], pt[128];
    size_t olen = 0;
    int ret;
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA)
        return "skipped: no key";
    if ((ret = rng_cb(NULL, key, sizeof key)) != 0 ||
        (ret = mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md)) != 0 ||
        (ret = mbedtls_rsa_pkcs1_encrypt(rsa, rng_cb, NULL, sizeof key, key, ct)) != 0)
        return fail("encrypt", ret);
    ret = mbedtls_rsa_pkcs1_decrypt(rsa, rng_cb, NULL, &olen, ct, pt, sizeof pt);
    if (ret != 0)
        return fail("decrypt", ret);
    if (olen != sizeof key || memcmp(pt, key, sizeof key) != 0)
        return "decrypted key differs";
    ct[40] ^= 0x01;
    ret = mbedtls_rsa_pkcs1_decrypt(rsa, rng_cb, NULL, &olen, ct, pt, sizeof pt);
    return ret != 0 ? NULL : "tampered ciphertext was accepted";
}

static void run_rsa(void)
{
    mbedtls_pk_context k17, k65537;
    mbedtls_pk_init(&k17);
    mbedtls_pk_init(&k65537);
    report("rsa1024 keygen e=17, DER SubjectPublicKeyInfo is 160 bytes",
           rsa_keygen_spki(&k17, 17, 160));
    report("rsa1024 keygen e=65537, DER SubjectPublicKeyInfo is 162 bytes",
           rsa_keygen_spki(&k65537, 65537, 162));
    report("rsa-oaep-sha256 round trip", rsa_oaep(&k65537, MBEDTLS_MD_SHA256));
    report("rsa-oaep-sha1 round trip", rsa_oaep(&k17, MBEDTLS_MD_SHA1));
    mbedtls_pk_free(&k17);
    mbedtls_pk_free(&k65537);
}

/* ---- AES-256-CBC (CyberBackup v3 payload cipher) --------------------------- */

/* NIST SP 800-38A, F.2.5 CBC-AES256.Encrypt (F.2.6 is its inverse). */
static const unsigned char nist_key[32] = {
    0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0,
    0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
    0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
};
static const unsigned char nist_iv[16] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static const unsigned char nist_pt[64] = {
    0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11,
    0x73, 0x93, 0x17, 0x2a, 0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c,
    0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51, 0x30, 0xc8, 0x1c, 0x46,
    0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
    0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b,
    0xe6, 0x6c, 0x37, 0x10,
};
static const unsigned char nist_ct[64] = {
    0xf5, 0x8c, 0x4c, 0x04, 0xd6, 0xe5, 0xf1, 0xba, 0x77, 0x9e, 0xab, 0xfb,
    0x5f, 0x7b, 0xfb, 0xd6, 0x9c, 0xfc, 0x4e, 0x96, 0x7e, 0xdb, 0x80, 0x8d,
    0x67, 0x9f, 0x77, 0x7b, 0xc6, 0x70, 0x2c, 0x7d, 0x39, 0xf2, 0x33, 0x69,
    0xa9, 0xd9, 0xba, 0xcf, 0xa5, 0x30, 0xe2, 0x63, 0x04, 0x23, 0x14, 0x61,
    0xb2, 0xeb, 0x05, 0xe2, 0xc3, 0x9b, 0xe9, 0xfc, 0xda, 0x6c, 0x19, 0x07,
    0x8c, 0x6a, 0x9d, 0x1b,
};
/* PKCS#7 adds a full block of 0x10 to the 64-byte message; its ciphertext
 * E(K, 0x10^16 XOR nist_ct[48..63]), cross-checked with OpenSSL 3.0
 * (`openssl enc -aes-256-cbc -K .. -iv ..`). */
static const unsigned char pad_block[16] = {
    0x3f, 0x46, 0x17, 0x96, 0xd6, 0xb0, 0xd6, 0xb2,
    0xe0, 0xc2, 0xa7, 0x2b, 0x4d, 0x80, 0xe6, 0x44,
};

static const char *test_aes_cbc_raw(void)
{
    mbedtls_aes_context aes;
    unsigned char iv[16], buf[64];
    const char *err = NULL;
    int ret;
    mbedtls_aes_init(&aes);
    memcpy(iv, nist_iv, sizeof iv);     /* crypt_cbc updates the IV */
    ret = mbedtls_aes_setkey_enc(&aes, nist_key, 256);
    if (ret == 0)
        ret = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, 64, iv, nist_pt, buf);
    if (ret == 0 && memcmp(buf, nist_ct, 64) != 0)
        err = "ciphertext differs from SP 800-38A F.2.5";
    memcpy(iv, nist_iv, sizeof iv);
    if (ret == 0 && err == NULL && (ret = mbedtls_aes_setkey_dec(&aes, nist_key, 256)) == 0)
        ret = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, 64, iv, nist_ct, buf);
    if (ret == 0 && err == NULL && memcmp(buf, nist_pt, 64) != 0)
        err = "plaintext differs from SP 800-38A F.2.6";
    mbedtls_aes_free(&aes);
    return ret != 0 ? fail("mbedtls_aes", ret) : err;
}

static int cbc_pkcs7(mbedtls_operation_t op, const unsigned char *in,
                     size_t ilen, unsigned char *out, size_t *olen)
{
    mbedtls_cipher_context_t c;
    int ret;
    mbedtls_cipher_init(&c);
    ret = mbedtls_cipher_setup(&c, mbedtls_cipher_info_from_type(
                                       MBEDTLS_CIPHER_AES_256_CBC));
    if (ret == 0)
        ret = mbedtls_cipher_setkey(&c, nist_key, 256, op);
    if (ret == 0)
        ret = mbedtls_cipher_set_padding_mode(&c, MBEDTLS_PADDING_PKCS7);
    if (ret == 0)
        ret = mbedtls_cipher_crypt(&c, nist_iv, sizeof nist_iv, in, ilen, out, olen);
    mbedtls_cipher_free(&c);
    return ret;
}

static const char *test_aes_cbc_pkcs7(void)
{
    unsigned char ct[96], pt[96];   /* crypt needs ilen + one block */
    size_t clen = 0, plen = 0;
    int ret = cbc_pkcs7(MBEDTLS_ENCRYPT, nist_pt, 64, ct, &clen);
    if (ret != 0)
        return fail("encrypt", ret);
    if (clen != 80 || memcmp(ct, nist_ct, 64) != 0 ||
        memcmp(ct + 64, pad_block, 16) != 0)
        return "padded ciphertext differs from the known answer";
    ret = cbc_pkcs7(MBEDTLS_DECRYPT, ct, clen, pt, &plen);
    if (ret != 0)
        return fail("decrypt", ret);
    if (plen != 64 || memcmp(pt, nist_pt, 64) != 0)
        return "decrypted text differs";
    ct[79] ^= 0x01;     /* breaks the padding */
    ret = cbc_pkcs7(MBEDTLS_DECRYPT, ct, clen, pt, &plen);
    return ret == MBEDTLS_ERR_CIPHER_INVALID_PADDING ? NULL
                                                      : "bad padding was accepted";
}

/* ---- main -------------------------------------------------------------------- */

static void print_arena(void)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    size_t peak = 0, blocks = 0;
    mbedtls_memory_buffer_alloc_max_get(&peak, &blocks);
    printf("# arena %d bytes, peak use %zu bytes in %zu blocks\n",
           ARENA_SIZE, peak, blocks);
#else
    printf("# arena %d bytes (peak not measured: MBEDTLS_MEMORY_DEBUG is off)\n",
           ARENA_SIZE);
#endif
}

static void run_all(const char *certdir)
{
    static struct creds cr;
    const char *err;
    report("psa_crypto_init",
           psa_crypto_init() == PSA_SUCCESS ? NULL : "failed");
    creds_init(&cr);
    err = creds_load(&cr, certdir);
    report("parse PEM certificates and keys", err);
    if (err == NULL) {
        run_tls13(&cr);
    } else {
        report("tls13 mutual-auth handshake and data both ways", "skipped");
        report("tls13 session-ticket resumption", "skipped");
    }
    creds_free(&cr);
    run_dtls();
    run_rsa();
    report("aes-256-cbc raw blocks, SP 800-38A vector", test_aes_cbc_raw());
    report("aes-256-cbc pkcs7 padding", test_aes_cbc_pkcs7());
    mbedtls_psa_crypto_free();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CERTDIR\n", argv[0]);
        return 2;
    }
    mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
    run_all(argv[1]);
    report("arena intact after everything is freed",
           mbedtls_memory_buffer_alloc_verify() == 0 ? NULL : "corrupted");
    print_arena();
    mbedtls_memory_buffer_alloc_free();
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/*
 * backup_client.c — the v3 session and file transfer of the one-shot
 * backup client (backup_client.h).
 *
 * Session, per connection:
 *     no identity        : 1025 -> 1600 (uuid), key pair, save me.info,
 *                          1026 -> 1602 (wrapped AES key)
 *     uuid, key not acked: 1026 -> 1602      (after a failed 1026)
 *     identity           : 1027 -> 1605 (wrapped AES key) | 1606 denied
 * Auto key format: a 1607 to a 160-byte key makes the next attempt
 * regenerate the pair with e = 65537 (162 bytes), saved in me.info, so
 * later runs start with the format this server takes.
 *
 * File, per attempt: up to 3 sends of the whole ciphertext stream
 * (1028 x total -> 1603); equal cksum -> 1029 -> 1604; different ->
 * 1030 and send again; the third difference -> 1031 -> 1604, failed.
 */
#include "backup_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_client_int.h"
#include "backup_retry.h"
#include "cksum.h"
#include "hal/rng.h"
#include "log.h"
#include "mbedtls/platform_util.h"

/* see backup_client.h */
int backup_url_parse(const char *url, int *tls, char *host, size_t cap,
		     uint16_t *port)
{
	const char *h, *colon, *end;
	unsigned long p = 0;
	size_t n;

	if (!strncmp(url, "tcp://", 6))
		*tls = 0;
	else if (!strncmp(url, "tls://", 6))
		*tls = 1;
	else
		return -EINVAL;
	h = url + 6;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		h++;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		end = colon;
	}
	n = (size_t)(end - h);
	if (n == 0 || colon[1] == '\0')
		return -EINVAL;
	if (n >= cap)
		return -ENAMETOOLONG;
	for (const char *d = colon + 1; *d; d++) {
		if (*d < '0' || *d > '9' || p > 65535)
			return -EINVAL;
		p = p * 10 + (unsigned long)(*d - '0');
	}
	if (p == 0 || p > 65535)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* see backup_client.h */
int backup_server_resolve(struct backup_client_cfg *cfg, const char *host,
			  uint16_t port)
{
	int n = 1;

	if (hal_net_addr_parse(host, port, &cfg->addrs[0]) < 0)
		n = hal_net_resolve(host, port, cfg->addrs, BACKUP_SERVER_ADDRS);
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	cfg->n_addrs = (unsigned)n;
	cfg->addr_cur = 0;
	cfg->server = cfg->addrs[0];
	return 0;
}

/* see backup_client.h */
int backup_server_next(struct backup_client *c)
{
	struct backup_client_cfg *cfg = &c->cfg;

	if (cfg->n_addrs < 2)
		return 0;
	/* always onwards: the attempt after a backoff starts with the
	 * address after the one that failed last */
	cfg->addr_cur = (cfg->addr_cur + 1) % cfg->n_addrs;
	cfg->server = cfg->addrs[cfg->addr_cur];
	if (++c->addrs_failed < cfg->n_addrs)
		return 1;
	c->addrs_failed = 0;
	return 0;
}

/* For tls://: parses the CA, certificate and key (fatal on failure). */
static int client_tls_load(struct backup_client *c)
{
	int ret;

	if (!c->cfg.tls)
		return 0;
	ret = backup_tls_load(&c->tls, &(struct backup_tls_opts){
		.ca = c->cfg.tls_ca, .cert = c->cfg.tls_cert,
		.key = c->cfg.tls_key, .psk = c->cfg.tls_psk,
		.allow_tls12 = c->cfg.tls_allow12 });
	return ret < 0 ? bk_fail(c, ret, 1, "%s", c->tls.err) : 0;
}

/* see backup_client.h */
int backup_client_init(struct backup_client *c,
		       const struct backup_client_cfg *cfg)
{
	int ret;

	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->fd = -1;
	c->link.state = BACKUP_LINK_DOWN;
	backup_key_init(&c->key);
	ret = backup_identity_load(cfg->state_dir, &c->id);
	if (ret == -ENOENT)
		return client_tls_load(c);
	if (ret < 0)
		return bk_fail(c, -EBADMSG, 1, "%s/%s: unreadable identity (%s)",
			       cfg->state_dir, BACKUP_IDENTITY_FILE,
			       strerror(-ret));
	if (backup_key_import(&c->key, c->id.priv, c->id.priv_len) < 0)
		return bk_fail(c, -EBADMSG, 1,
			       "%s/%s: the private key is not RSA-1024",
			       cfg->state_dir, BACKUP_IDENTITY_FILE);
	c->have_id = 1;
	c->key_acked = 1;
	memcpy(c->stats.client_id, c->id.uuid, V3_ID_SIZE);
	return client_tls_load(c);
}

static int want_e(const struct backup_client *c)
{
	return c->cfg.pubkey == BACKUP_PUBKEY_162 ? 65537 : 17;
}

/* see backup_client_int.h */
int bk_new_key(struct backup_client *c, int e)
{
	int n = backup_key_generate(&c->key, e);

	if (n < 0)
		return bk_fail(c, n, 1, "RSA key generation failed");
	n = backup_key_priv_der(&c->key, c->id.priv, sizeof c->id.priv);
	if (n < 0)
		return bk_fail(c, n, 1, "cannot encode the private key");
	c->id.priv_len = (size_t)n;
	/* the state directory's last level may not exist yet; 0700: it
	 * holds a private key */
	hal_storage_mkdir(c->cfg.state_dir, 0700);
	n = backup_identity_save(c->cfg.state_dir, &c->id);
	if (n < 0)
		return bk_fail(c, n, 1, "cannot save %s/%s: %s",
			       c->cfg.state_dir, BACKUP_IDENTITY_FILE,
			       strerror(-n));
	return 0;
}

/* see backup_client_int.h */
int bk_take_aes(struct backup_client *c, const struct v3_resp *r)
{
	int ret = backup_key_unwrap(&c->key, r->key, r->key_len, c->aes,
				    &c->oaep_sha1);

	if (ret < 0)
		return bk_fail(c, ret, 0,
			       "%s: the AES key does not decrypt with our key",
			       c->stats.peer);
	c->session = 1;
	return 0;
}

static int do_register(struct backup_client *c)
{
	struct v3_resp r;
	int ret = bk_io_req(c, V3_REQ_REGISTER, c->cfg.name, NULL, 0);

	if (ret == 0)
		ret = bk_io_resp(c, &r);
	if (ret < 0)
		return ret;
	if (r.code == V3_RESP_REGISTER_FAIL)
		return bk_fail(c, -EIO, 0, "%s: registration of '%s' refused "
			       "(1601: name taken?)", c->stats.peer,
			       c->cfg.name);
	if (r.code != V3_RESP_REGISTER_OK)
		return bk_fail(c, -EBADMSG, 0, "%s: answered %u to 1025",
			       c->stats.peer, r.code);
	snprintf(c->id.name, sizeof c->id.name, "%s", c->cfg.name);
	memcpy(c->id.uuid, r.client_id, V3_ID_SIZE);
	memcpy(c->stats.client_id, r.client_id, V3_ID_SIZE);
	ret = bk_new_key(c, want_e(c));
	if (ret == 0)
		c->have_id = 1;
	return ret;
}

static int do_pubkey(struct backup_client *c)
{
	uint8_t spki[BACKUP_SPKI_MAX];
	struct v3_resp r;
	int n = backup_key_spki(&c->key, spki, sizeof spki);

	if (n < 0)
		return bk_fail(c, n, 1, "cannot encode the public key");
	n = bk_io_req(c, V3_REQ_PUBKEY, c->id.name, spki, (size_t)n);
	if (n == 0)
		n = bk_io_resp(c, &r);
	if (n < 0)
		return n;
	if (r.code == V3_RESP_ERROR && c->cfg.pubkey == BACKUP_PUBKEY_AUTO &&
	    backup_key_spki(&c->key, spki, sizeof spki) ==
		    V3_PUBKEY_SIZE_E17) {
		/* the older revision takes 162-byte keys only */
		n = bk_new_key(c, 65537);
		return n < 0 ? n : bk_fail(c, -EIO, 0, "%s: 160-byte key "
			       "refused (1607); retrying with a 162-byte key",
			       c->stats.peer);
	}
	if (r.code != V3_RESP_AES_KEY)
		return bk_fail(c, -EIO, 0, "%s: answered %u to 1026",
			       c->stats.peer, r.code);
	c->key_acked = 1;
	return bk_take_aes(c, &r);
}

static int do_reconnect(struct backup_client *c)
{
	struct v3_resp r;
	int ret = bk_io_req(c, V3_REQ_RECONNECT, c->id.name, NULL, 0);

	if (ret == 0)
		ret = bk_io_resp(c, &r);
	if (ret < 0)
		return ret;
	if (r.code == V3_RESP_RECONNECT_DENIED)
		return bk_fail(c, -EIO, 0, "%s: reconnect of '%s' denied (1606)",
			       c->stats.peer, c->id.name);
	if (r.code != V3_RESP_RECONNECT_OK)
		return bk_fail(c, -EIO, 0, "%s: answered %u to 1027",
			       c->stats.peer, r.code);
	return bk_take_aes(c, &r);
}

/* see backup_client_int.h */
int bk_session_once(struct backup_client *c)
{
	int ret = bk_io_connect(c);

	if (ret < 0 && c->cfg.tls && c->tls.err[0])
		return bk_fail(c, ret, 0, "%s: %s", c->stats.peer, c->tls.err);
	if (ret < 0)
		return bk_fail(c, ret, 0, "connect %s: %s", c->stats.peer,
			       strerror(-ret));
	if (!c->have_id) {
		ret = do_register(c);
		return ret < 0 ? ret : do_pubkey(c);
	}
	return c->key_acked ? do_reconnect(c) : do_pubkey(c);
}

/* see backup_client_int.h */
void bk_backoff(struct backup_client *c, unsigned failures)
{
	uint32_t rnd = 0, d;

	hal_rng_fill(&rnd, sizeof rnd);
	d = backup_retry_delay_ms(failures, c->cfg.retry_cap_ms, rnd);
	log_warn("backup", "%s; retrying in %u ms (attempt %u of %u)", c->err,
		 (unsigned)d, failures + 1, BACKUP_RETRY_ATTEMPTS);
	bk_sleep_ms(d);
}

/* see backup_client.h */
int backup_client_connect(struct backup_client *c)
{
	int ret = -EIO;

	for (unsigned a = 1; a <= BACKUP_RETRY_ATTEMPTS; a++) {
		c->attempts++;
		ret = bk_session_once(c);
		if (ret == 0)
			return 0;
		bk_io_close(c);
		if (c->fatal || a == BACKUP_RETRY_ATTEMPTS)
			break;
		bk_backoff(c, a);
	}
	return ret;
}

/* see backup_client.h */
void backup_client_close(struct backup_client *c)
{
	bk_io_close(c);
	backup_tls_free(&c->tls);
	backup_key_free(&c->key);
	mbedtls_platform_zeroize(c->aes, sizeof c->aes);
	mbedtls_platform_zeroize(&c->id, sizeof c->id);
}

/*
 * backup_client.h — `vigild backup`'s blocking driver of the v3 client
 * engine (backup_engine.h): connect, session, then one file at a time,
 * every wait a hal_poll on the one socket bounded by cfg.io_timeout_ms
 * (progress extends it: only silence times out), backoffs slept.
 *
 * Memory: struct backup_client holds everything (the engine with its
 * BACKUP_IOBUF_SIZE buffer, the transport); nothing depends on the file
 * size.  mbedTLS uses the process arena.
 *
 * Retries (the engine's): the session and each file get
 * BACKUP_RETRY_ATTEMPTS attempts; a file that cannot be read, or whose
 * cksum differs three times (1031 sent), is not retried.
 */
#ifndef VIGIL_BACKUP_CLIENT_H
#define VIGIL_BACKUP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "backup_conn.h"
#include "backup_engine.h"
#include "backup_manifest.h"

/* The file being backed up, as the manifest will keep it. */
struct backup_file_state {
	int known;                      /* mode and mtime are known */
	struct bk_mf_entry st;
};

struct backup_client {
	struct backup_client_cfg cfg;
	struct bke e;                   /* the protocol (e.err: last failure) */
	struct backup_conn conn;        /* the transport under it */
	/* the last run's manifest (borrowed; NULL: every file is sent):
	 * unchanged files are offered by hash, verified ones recorded */
	struct bk_manifest *mf;
	unsigned files_deduped;         /* recorded by the server, not sent */
	uint64_t bytes_deduped;         /* their sizes */
	struct backup_file_state cur;
};

/* Splits "tcp://host:port" / "tls://host:port" ("[v6]:port" allowed).
 * *tls is set to 1 for tls://.
 * @retval 0 ok  @retval -EINVAL malformed  @retval -ENAMETOOLONG host */
int backup_url_parse(const char *url, int *tls, char *host, size_t cap,
		     uint16_t *port);

/* Sets cfg->addrs to host's addresses (a numeric one without the
 * resolver) and cfg->server to the first.  BLOCKS in the resolver: call
 * it at init or config reload only.
 * @retval 0  @retval <0 as hal_net_resolve */
int backup_server_resolve(struct backup_client_cfg *cfg, const char *host,
			  uint16_t port);

/* Prepares *c (a previous init must have been ended by
 * backup_client_close) and loads the identity from cfg->state_dir, if
 * any, and for cfg->tls the CA, certificate and key.  Needs
 * backup_crypto_init() first.
 * @retval 0 ok (c->e.have_id says whether an identity exists)
 * @retval -EBADMSG me.info exists but is unusable (c->e.err says why)
 * @retval -EINVAL/-EIO TLS files missing or unusable (c->e.err) */
int backup_client_init(struct backup_client *c,
		       const struct backup_client_cfg *cfg);

/* Establishes a session (connect + register/reconnect + key), with
 * retries.  @retval 0 ready  @retval <0 failed (c->e.err) */
int backup_client_connect(struct backup_client *c);

/* Backs up one regular file, verified by cksum, with retries.
 * @retval 0 verified by the server's cksum
 * @retval <0 failed (c->e.err) */
int backup_client_send_file(struct backup_client *c, const char *path);

/* Before bke_file of path (open at fd, size bytes): its mode and mtime
 * for the 1044, and its content hash for a 1046 when the manifest (c->mf)
 * has it unchanged. */
void backup_client_file_prepare(struct backup_client *c, int fd,
				const char *path, uint64_t size);
/* After the engine's DONE for path: counts it in files_deduped when the
 * server recorded it by hash, and puts its state into the manifest. */
void backup_client_file_verified(struct backup_client *c, const char *path);

/* The run's snapshot (bke_snapshot): keeps path (a file the run has but
 * could not send), or with NULL seals the run.  @retval 0 done (c->e.
 * snap_id: the 1648's snapshot, 0 when the server has no sealed
 * snapshots)  @retval <0 failed or not offered (c->e.err) */
int backup_client_snapshot(struct backup_client *c, const char *path);

/* Closes the connection, wipes key material, frees the TLS state. */
void backup_client_close(struct backup_client *c);

#endif

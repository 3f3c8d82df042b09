/*
 * backupd_status.c — the status document of vigil-backupd (docs/backupd.md,
 * "Status"): server counters, per-connection health of every open
 * connection and the last BD_CLOSED_KEEP closed ones, as one CBOR map.
 *
 * Readers connect to the AF_UNIX stream socket <data>/status.sock (mode
 * 0600: whoever may read the data directory); the server writes the
 * document and closes.  One reader at a time, served by the event loop
 * without blocking: while one is being served the listener is not
 * polled and others wait in its backlog; a reader that does not take its
 * document within BD_STATUS_SEND_MS is dropped.
 */
#define _GNU_SOURCE     /* accept4, O_PATH */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cbor.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

#define MOD "status"
#define BD_STATUS_SEND_MS 2000u

static uint8_t st_doc[BD_STATUS_MAX];
static struct ev_loop *st_loop;
static int st_listen_fd = -1, st_fd = -1;
static size_t st_len, st_off;
static uint64_t st_deadline;
static char st_path[BD_PATH_MAX];

/* ---- the document ---- */

static void put_kv_uint(struct cbor_enc *e, const char *k, uint64_t v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_uint(e, v);
}

static void put_kv_text(struct cbor_enc *e, const char *k, const char *v)
{
	cbor_enc_cstr(e, k);
	if (v != NULL && v[0] != '\0')
		cbor_enc_cstr(e, v);
	else
		cbor_enc_null(e);
}

/* Milliseconds since t, or null when t is 0 (never). */
static void put_kv_ago(struct cbor_enc *e, const char *k, uint64_t t,
		       uint64_t now)
{
	cbor_enc_cstr(e, k);
	if (t == 0)
		cbor_enc_null(e);
	else
		cbor_enc_uint(e, now - t);
}

/* What the connection is doing, from its receive state. */
static const char *conn_state(const struct bd_conn *c)
{
	if (c->tls != NULL && !c->tls_done)
		return "handshake";
	if (c->draining || c->st == BD_RX_CLOSING)
		return "closing";
	if (c->rx.next != 0)
		return "file";
	return c->st == BD_RX_HDR && c->hdr_len == 0 ? "idle" : "request";
}

static void put_transfer(struct cbor_enc *e, const struct bd_conn *c)
{
	cbor_enc_cstr(e, "file");
	if (c->rx.next == 0) {
		cbor_enc_null(e);
		return;
	}
	cbor_enc_map(e, 5);
	put_kv_text(e, "name", c->rx.name);
	put_kv_uint(e, "content_size", c->rx.content_size);
	put_kv_uint(e, "received", c->rx.received);
	put_kv_uint(e, "packet", c->rx.next);
	put_kv_uint(e, "packets", c->rx.total);
}

static void put_conn(struct cbor_enc *e, const struct bd_conn *c,
		     uint64_t now)
{
	int tls = c->tls != NULL, up = tls && c->tls_done;
	const char *alpn = up ? mbedtls_ssl_get_alpn_protocol(c->tls) : NULL;
	uint64_t last = c->last_rx_ms > c->last_tx_ms ? c->last_rx_ms
						       : c->last_tx_ms;

	cbor_enc_map(e, 19);
	put_kv_uint(e, "slot", c->idx);
	put_kv_text(e, "peer", c->peer_text);
	put_kv_text(e, "transport", tls ? "tls" : "tcp");
	put_kv_text(e, "tls_version", up ? mbedtls_ssl_get_version(c->tls) : "");
	put_kv_text(e, "tls_cipher", up ? mbedtls_ssl_get_ciphersuite(c->tls)
					: "");
	put_kv_text(e, "tls_peer", up ? c->tls_peer : "");
	/* "vigil/2": version-4 requests (clear payload) are accepted */
	put_kv_text(e, "alpn", alpn != NULL ? alpn : "");
	put_kv_text(e, "state", conn_state(c));
	put_kv_text(e, "client_id", c->have_client ? c->uuid_hex : "");
	put_kv_text(e, "client_name", c->have_client ? c->client_name : "");
	put_kv_uint(e, "bytes_in", c->bytes_in);
	put_kv_uint(e, "bytes_out", c->bytes_out);
	put_kv_uint(e, "uptime_ms", now - c->started_ms);
	put_kv_uint(e, "idle_ms", now - (last > c->started_ms ? last
								: c->started_ms));
	put_kv_ago(e, "last_read_ms_ago", c->bytes_in ? c->last_rx_ms : 0, now);
	put_kv_ago(e, "last_write_ms_ago", c->last_tx_ms, now);
	put_kv_uint(e, "files_stored", c->files_ok);
	put_kv_uint(e, "partial_cleared", c->partial_cleared);
	put_transfer(e, c);
}

static void put_closed(struct cbor_enc *e, const struct bd_closed *k,
		       uint64_t now)
{
	cbor_enc_map(e, 9);
	put_kv_text(e, "peer", k->peer);
	put_kv_text(e, "tls", k->tls_info);
	put_kv_text(e, "client_id", k->client);
	put_kv_text(e, "reason", k->reason);
	put_kv_uint(e, "closed_ms_ago", now - k->closed_ms);
	put_kv_uint(e, "duration_ms", k->duration_ms);
	put_kv_uint(e, "bytes_in", k->bytes_in);
	put_kv_uint(e, "bytes_out", k->bytes_out);
	put_kv_uint(e, "files_stored", k->files_ok);
}

/* The server's counters with the open connections added into *sum;
 * returns how many are open. */
static unsigned sum_open(struct bd_totals *sum)
{
	unsigned open = 0;

	*sum = *bd_totals_get();
	for (unsigned i = 0; i < BD_CONNS_MAX; i++) {
		const struct bd_conn *c = bd_conn_at(i);

		if (c->fd < 0)
			continue;
		open++;
		sum->bytes_in += c->bytes_in;
		sum->bytes_out += c->bytes_out;
		sum->files_stored += c->files_ok;
		sum->files_by_hash += c->files_deduped;
	}
	return open;
}

static void put_totals(struct cbor_enc *e, const struct bd_totals *t,
		       unsigned open, uint64_t now)
{
	put_kv_text(e, "server", "vigil-backupd");
	put_kv_text(e, "version", VIGIL_VERSION);
	put_kv_uint(e, "uptime_ms", now - t->started_ms);
	cbor_enc_cstr(e, "listen");
	cbor_enc_map(e, 2);
	put_kv_text(e, "plain", bd_listen_text(0));
	put_kv_text(e, "tls", bd_listen_text(1));
	put_kv_uint(e, "conns_open", open);
	put_kv_uint(e, "conns_max", bd_opt->max_conns);
	put_kv_uint(e, "accepted", t->accepted);
	put_kv_uint(e, "refused", t->refused);
	put_kv_uint(e, "files_stored", t->files_stored);
	put_kv_uint(e, "files_by_hash", t->files_by_hash);
	put_kv_uint(e, "partial_cleared", t->partial_cleared);
	put_kv_uint(e, "bytes_in", t->bytes_in);
	put_kv_uint(e, "bytes_out", t->bytes_out);
	put_kv_uint(e, "tls_resumed", bd_tls_counts_get()->resumed);
	put_kv_uint(e, "tls_tickets_refused",
		    bd_tls_counts_get()->tickets_refused);
}

/* What the store holds, and the resume counters since start. */
static void put_store(struct cbor_enc *e)
{
	struct bd_store_counts n;
	uint64_t kept = 0, expired = 0;

	bd_catalog_counts(&n);
	bd_partial_counts(&kept, &expired);
	cbor_enc_cstr(e, "store");
	cbor_enc_map(e, 11);
	put_kv_uint(e, "snapshots", n.snapshots);
	put_kv_uint(e, "sealed", n.sealed);
	put_kv_uint(e, "files", n.files);
	put_kv_uint(e, "versions", n.versions);
	put_kv_uint(e, "contents", n.contents);
	put_kv_uint(e, "bytes_stored", n.bytes_stored);
	put_kv_uint(e, "bytes_logical", n.bytes_logical);
	put_kv_uint(e, "bytes_freed", n.bytes_freed);
	put_kv_uint(e, "partials", n.partials);
	put_kv_uint(e, "partials_kept", kept);
	put_kv_uint(e, "partials_expired", expired);
}

/* see backupd.h */
int bd_status_encode(uint8_t *buf, size_t cap, uint64_t now)
{
	struct cbor_enc e;
	struct bd_totals sum;
	unsigned open = sum_open(&sum), closed = 0;

	while (closed < BD_CLOSED_KEEP && bd_closed_at(closed) != NULL)
		closed++;
	cbor_enc_init(&e, buf, cap);
	cbor_enc_map(&e, 19);
	put_totals(&e, &sum, open, now);
	cbor_enc_cstr(&e, "metrics");
	metrics_enc(&e, M_AGENT_END, M_END);
	put_store(&e);
	cbor_enc_cstr(&e, "conns");
	cbor_enc_array(&e, open);
	for (unsigned i = 0; i < BD_CONNS_MAX; i++)
		if (bd_conn_at(i)->fd >= 0)
			put_conn(&e, bd_conn_at(i), now);
	cbor_enc_cstr(&e, "closed");
	cbor_enc_array(&e, closed);
	for (unsigned k = 0; k < closed; k++)
		put_closed(&e, bd_closed_at(k), now);
	return cbor_enc_finish(&e) < 0 ? -ENOSPC : (int)cbor_enc_len(&e);
}

/* ---- the socket ---- */

static void st_reader_done(const char *why)
{
	if (why != NULL)
		log_warn(MOD, "status reader dropped: %s", why);
	ev_del(st_loop, st_fd);
	close(st_fd);
	st_fd = -1;
	ev_mod(st_loop, st_listen_fd, EV_READ);
}

static void st_write_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	(void)loop;
	(void)ev;
	(void)arg;
	while (st_off < st_len) {
		ssize_t n = send(fd, st_doc + st_off, st_len - st_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			st_reader_done(strerror(errno));
			return;
		}
		st_off += (size_t)n;
	}
	st_reader_done(NULL);
}

static void st_accept_cb(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	int n, cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)ev;
	(void)arg;
	if (cfd < 0)
		return;         /* EAGAIN, or the reader left already */
	n = bd_status_encode(st_doc, sizeof st_doc, ev_now(loop));
	if (n < 0 || ev_add(loop, cfd, EV_WRITE, st_write_cb, NULL) != 0) {
		log_warn(MOD, "status document not sent: %s",
			 n < 0 ? "too large" : "no event slot");
		close(cfd);
		return;
	}
	st_fd = cfd;
	st_len = (size_t)n;
	st_off = 0;
	st_deadline = ev_now(loop) + BD_STATUS_SEND_MS;
	ev_mod(loop, fd, 0);    /* one reader at a time */
}

/* see backupd.h */
void bd_status_sweep(uint64_t now)
{
	if (st_fd >= 0 && now >= st_deadline)
		st_reader_done("did not read its document in time");
}

/* The socket's file name: status.sock, or status-NAME.sock for the
 * instance NAME (instances sharing a data directory each have one). */
static char st_name[64] = "status.sock";

/* see backupd.h */
int bd_status_set_instance(const char *name)
{
	if (name == NULL)
		return 0;
	if ((size_t)snprintf(st_name, sizeof st_name, "status-%s.sock", name) >=
	    sizeof st_name)
		return -ENAMETOOLONG;
	return 0;
}

/* see backupd.h */
const char *bd_status_sock_name(void)
{
	return st_name;
}

/* see backupd.h */
int bd_status_addr(const char *dir, struct sockaddr_un *a, int *dirfd)
{
	char path[BD_PATH_MAX];

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	*dirfd = -1;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, st_name) >=
	    sizeof path)
		return -ENAMETOOLONG;
	if (strlen(path) < sizeof a->sun_path) {
		memcpy(a->sun_path, path, strlen(path) + 1);
		return 0;
	}
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -errno;
	snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s",
		 *dirfd, st_name);
	return 0;
}

/* 1 when a server answers on a. */
static int st_someone_listens(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (const struct sockaddr *)a, sizeof *a) == 0;
	close(fd);
	return ok;
}

/* Binds and listens on a (mode 0600).  @retval fd  @retval -errno */
static int st_bind(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old;
	int ret = 0;

	if (fd < 0)
		return -errno;
	unlink(a->sun_path);    /* a stale socket of a server that died */
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)a, sizeof *a) != 0 ||
	    listen(fd, 8) != 0)
		ret = -errno;
	umask(old);
	if (ret != 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* see backupd.h */
int bd_status_open(struct ev_loop *loop, const char *data_dir)
{
	struct sockaddr_un a;
	int dirfd, ret = bd_status_addr(data_dir, &a, &dirfd);

	snprintf(st_path, sizeof st_path, "%s/%s", data_dir, st_name);
	st_loop = loop;
	if (ret == 0 && st_someone_listens(&a))
		ret = -EADDRINUSE;
	else if (ret == 0)
		ret = st_listen_fd = st_bind(&a);
	if (dirfd >= 0)
		close(dirfd);
	if (ret == -EADDRINUSE) {
		log_err(MOD, "another vigil-backupd serves %s (%s answers)",
			data_dir, st_path);
		return -1;
	}
	if (ret < 0 || ev_add(loop, st_listen_fd, EV_READ, st_accept_cb,
			      NULL) != 0) {
		log_err(MOD, "cannot listen on %s: %s", st_path,
			ret < 0 ? strerror(-ret) : "no event slot");
		return -1;
	}
	return 0;
}

/* see backupd.h */
void bd_status_close(void)
{
	if (st_fd >= 0)
		st_reader_done(NULL);
	if (st_listen_fd >= 0) {
		ev_del(st_loop, st_listen_fd);
		close(st_listen_fd);
		unlink(st_path);
		st_listen_fd = -1;
	}
}

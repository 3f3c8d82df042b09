/*
 * backupd_restore.c — the vigil/2 extension requests (protocol/v3x.h) on
 * a connection: 1040 capabilities, 1041 listing, 1043 reading, 1044
 * attributes, 1045 the offset of a cut upload, 1046 content the store
 * may already have (backupd_content.c), 1048 the trace id, 1049 a run's
 * snapshot membership (keep a file, seal the run).  Layouts and
 * rules: docs/protocol/cyberbackup-v3.md,
 * "Extension: restore".
 *
 * Authorization: the device is the TLS identity (certificate CN or PSK
 * identity); a 1041/1043 for another device is served only with a grant
 * (bd_catalog_may_read), and a 1043's file must be the device's.  A
 * refusal is a 1649 and the connection stays open.
 *
 * A 1643's data is never held: its header goes into the output buffer,
 * then bd_restore_tx sends the bytes from the file through one shared
 * buffer as the socket takes them.  The client waits for each answer
 * (as in v3); a request that arrives while data is still going out is
 * answered 1607 (backupd_session.c).
 */
#define _GNU_SOURCE     /* O_CLOEXEC, pread */
#include "backupd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define MOD "restore"
/* Entries per 1041 batch: what the output buffer holds at worst. */
#define BD_LIST_BATCH ((BD_OUT_MAX - V3_RESP_HDR_SIZE - V3X_LIST_END_SIZE) / \
		       V3X_ENTRY_MAX)

static uint8_t bd_tx_buf[BD_TX_CHUNK];
static struct v3x_msg bd_entries[BD_LIST_BATCH];

/* see backupd.h */
void bd_restore_identity(struct bd_conn *c)
{
	const char *p = c->tls_peer, *cn = NULL;
	size_t n;

	c->identity[0] = '\0';
	if (strncmp(p, "psk:", 4) == 0) {
		snprintf(c->identity, sizeof c->identity, "%s", p + 4);
		return;
	}
	/* mbedtls_x509_dn_gets: "C=DE, O=x, CN=name" */
	for (; *p != '\0'; p++)
		if ((p == c->tls_peer || p[-1] == ' ') && strncmp(p, "CN=", 3) == 0)
			cn = p + 3;
	if (cn == NULL)
		return;
	n = strcspn(cn, ",");
	if (n < sizeof c->identity) {
		memcpy(c->identity, cn, n);
		c->identity[n] = '\0';
	}
}

/* Packs and queues one extension response.  @retval 0  @retval -EIO */
static int bd_x_send(struct bd_conn *c, const struct v3x_msg *m)
{
	uint8_t buf[V3X_ENTRY_MAX];
	int n = v3x_resp_pack(buf, sizeof buf, m, NULL);

	if (n < 0 || bd_conn_queue(c, buf, (size_t)n) != 0) {
		log_warn(MOD, "#%u %s: cannot queue %u", c->idx, c->peer_text,
			 m->code);
		return -EIO;
	}
	return 0;
}

static int bd_x_refuse(struct bd_conn *c, enum v3x_error e, const char *why)
{
	struct v3x_msg m;

	log_info(MOD, "#%u %s: %u for %s refused (1649 %u): %s", c->idx,
		 c->peer_text, c->xreq.code, c->xreq.name, (unsigned)e, why);
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_REFUSED;
	m.refused_code = c->xreq.code;
	m.error = (uint16_t)e;
	return bd_x_send(c, &m);
}

static int bd_x_hello(struct bd_conn *c)
{
	struct v3x_msg m;

	c->x_hello = 1;
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_HELLO;
	m.caps = V3X_CAP_RESTORE | V3X_CAP_ATTR | V3X_CAP_TRACE |
		 V3X_CAP_DEDUP | V3X_CAP_LARGE | V3X_CAP_SNAPSHOT |
		 (bd_opt->partial_expiry_s > 0 ? V3X_CAP_RESUME : 0);
	m.chunk_max = BD_READ_CHUNK;
	log_info(MOD, "#%u %s: extension hello, caps 0x%x, identity %s",
		 c->idx, c->peer_text, (unsigned)c->xreq.caps,
		 c->identity[0] ? c->identity : "(none)");
	return bd_x_send(c, &m);
}

/* The device of a 1041/1043, when this identity may read it.
 * @retval 1 id filled  @retval 0 refused (1649 queued)  @retval <0 */
static int bd_x_device(struct bd_conn *c, uint8_t id[V3_ID_SIZE])
{
	int ok = bd_catalog_may_read(c->identity, c->xreq.name);

	if (ok < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	/* the same answer whether the device exists or not */
	if (ok == 0)
		return bd_x_refuse(c, V3X_ERR_DENIED, c->identity[0]
				   ? c->identity : "no TLS identity");
	ok = bd_catalog_device(c->xreq.name, id);
	if (ok == -ENOENT)
		return bd_x_refuse(c, V3X_ERR_NO_DEVICE, "no such device");
	if (ok < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	return 1;
}

static int bd_x_list(struct bd_conn *c)
{
	uint8_t id[V3_ID_SIZE];
	struct v3x_msg end;
	uint64_t snap = 0;
	int ret = bd_x_device(c, id), more = 0, n, i;

	if (ret != 1)
		return ret;
	ret = bd_catalog_snapshot(id, c->xreq.snapshot, &snap);
	if (ret == -ENOENT)
		return bd_x_refuse(c, V3X_ERR_NO_SNAPSHOT, "no such snapshot");
	if (ret < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	n = bd_catalog_list(id, snap, c->xreq.after, bd_entries,
			    BD_LIST_BATCH, &more);
	if (n < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	for (i = 0; i < n; i++)
		if (bd_x_send(c, &bd_entries[i]) != 0)
			return -EIO;
	memset(&end, 0, sizeof end);
	end.code = V3X_RESP_LIST_END;
	end.snapshot = snap;
	end.count = (uint32_t)n;
	end.more = (uint8_t)more;
	return bd_x_send(c, &end);
}

/* Opens the bytes a 1043 asks for of its stored file (checked whole;
 * an object's range fetched, backupd_blob.c); where they start in the
 * file to *fd_off.  @retval fd  @retval -1 refused (1649 queued)
 * @retval < -1 close */
static int bd_x_open(struct bd_conn *c, const uint8_t id[V3_ID_SIZE],
		     uint64_t *size, uint64_t *fd_off)
{
	char rel[BD_PATH_MAX], path[BD_PATH_MAX];
	uint64_t len;
	int ret = bd_catalog_version(id, c->xreq.file_id, c->xreq.version,
				     rel, sizeof rel, size), fd;

	if (ret == -ENOENT)
		return bd_x_refuse(c, V3X_ERR_NO_FILE, "not this device's") ? -EIO : -1;
	if (ret < 0 || snprintf(path, sizeof path, "%s/%s",
				bd_store_data_dir(), rel) >= (int)sizeof path)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error") ? -EIO : -1;
	if (c->xreq.offset > *size)
		return bd_x_refuse(c, V3X_ERR_NO_FILE, "offset past the end") ? -EIO : -1;
	len = *size - c->xreq.offset;
	if (len > c->xreq.length)
		len = c->xreq.length;
	fd = bd_blob_open_range(path, *size, c->xreq.offset, len, fd_off);
	if (fd < 0) {
		log_err(MOD, "#%u %s: %s: %s", c->idx, c->peer_text, path,
			fd == -ENOENT ? "missing or not the stored size"
				      : "cannot be read from the store");
		return bd_x_refuse(c, V3X_ERR_SERVER, fd == -ENOENT ?
				   "stored file damaged" : "store unavailable")
		       ? -EIO : -1;
	}
	return fd;
}

static int bd_x_read(struct bd_conn *c)
{
	uint8_t id[V3_ID_SIZE];
	uint8_t head[V3_RESP_HDR_SIZE + V3X_DATA_HEAD];
	struct v3x_msg d;
	uint64_t size = 0, n, fd_off = 0;
	int ret = bd_x_device(c, id), fd, len;

	if (ret != 1)
		return ret;
	fd = bd_x_open(c, id, &size, &fd_off);
	if (fd < 0)
		return fd == -1 ? 0 : fd;
	n = size - c->xreq.offset;
	if (n > c->xreq.length)
		n = c->xreq.length;
	memset(&d, 0, sizeof d);
	d.code = V3X_RESP_DATA;
	d.file_id = c->xreq.file_id;
	d.version = c->xreq.version;
	d.offset = c->xreq.offset;
	d.data_len = (size_t)n;
	len = v3x_resp_pack(head, sizeof head, &d, NULL);
	if (len < 0 || bd_conn_queue(c, head, (size_t)len) != 0) {
		close(fd);
		return -EIO;
	}
	/* a read is answered by a header, then the data: with Nagle the
	 * data's last segment would wait for the client's delayed ACK on
	 * every chunk (measured over TLS on loopback: 200 MiB in 61 s; with
	 * TCP_NODELAY 1.9 s, backup 1.5 s) */
	if (!c->x_nodelay && hal_net_set_nodelay(c->fd) == 0)
		c->x_nodelay = 1;
	c->tx_fd = fd;
	c->tx_off = fd_off;
	c->tx_left = n;
	if (c->xreq.offset + n == size)
		c->files_read++;
	if (n == 0)
		bd_restore_tx_end(c);
	return 0;
}

static int bd_x_attr(struct bd_conn *c)
{
	c->attr.set = 1;
	memcpy(c->attr.name, c->xreq.name, sizeof c->attr.name);
	c->attr.mode = c->xreq.mode;
	c->attr.mtime_s = c->xreq.mtime_s;
	c->attr.mtime_ns = c->xreq.mtime_ns;
	return 0;
}

/* 1045: the bytes kept of a cut upload of this session's client. */
static int bd_x_offset(struct bd_conn *c)
{
	struct v3x_msg m;

	if (!c->have_key || bd_opt->partial_expiry_s == 0)
		return bd_x_refuse(c, V3X_ERR_ORDER, "no session, or no resume");
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_OFFSET;
	m.offset = bd_partial_offset(c, c->xreq.name, c->xreq.size);
	return bd_x_send(c, &m);
}

/* 1048: the agent's job trace id; every later line about this
 * connection carries it (BD_KV_CONN, the log context of bd_conn_cb). */
static int bd_x_trace(struct bd_conn *c)
{
	/* the codec took 1..V3X_TRACE_MAX characters */
	memcpy(c->trace, c->xreq.name, sizeof c->trace - 1);
	c->trace[sizeof c->trace - 1] = '\0';
	log_info_kv("conn", LOG_KVS(BD_KV_CONN(c)), "#%u %s: trace %s",
		    c->idx, c->peer_text, c->trace);
	return 0;
}

/* 1046: an unchanged file by its hash; 1646 says whether the store
 * recorded it in this session or wants the bytes. */
static int bd_x_have(struct bd_conn *c)
{
	struct v3x_msg m;
	unsigned version = 0;
	int ret;

	if (!c->have_key)
		return bd_x_refuse(c, V3X_ERR_ORDER, "no session");
	ret = bd_content_have(c, &c->xreq, &version);
	if (ret < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_HAVE;
	m.have = (uint8_t)ret;
	if (ret == 1) {
		c->files_ok++;
		c->files_deduped++;
		log_debug(MOD, "#%u %s: %s v%u recorded from stored content "
			  "(%llu bytes not sent)", c->idx, c->peer_text,
			  c->xreq.name, version,
			  (unsigned long long)c->xreq.size);
	}
	return bd_x_send(c, &m);
}

/* 1049: a file the agent has but did not send stays in the run's
 * snapshot (keep), or the run covered the whole tree (seal).  A sealed
 * session is never written again: the connection goes on in a new one.
 * 1648 answers both. */
static int bd_x_snapshot(struct bd_conn *c)
{
	struct v3x_msg m;
	uint32_t files = 0;
	int ret;

	if (!c->have_key || c->session_row <= 0)
		return bd_x_refuse(c, V3X_ERR_ORDER, "no session");
	bd_content_batch_end();         /* the run's 1046s first */
	memset(&m, 0, sizeof m);
	m.code = V3X_RESP_SNAPSHOT;
	m.snapshot = (uint64_t)c->session_row;
	if (c->xreq.op == V3X_SNAP_KEEP) {
		ret = bd_catalog_keep(c->client_id, c->session_row,
				      c->xreq.name);
		m.count = ret > 0;
	} else {
		ret = bd_catalog_seal(c->client_id, c->session_row,
				      c->xreq.sessions, &files);
		m.count = files;
	}
	if (ret < 0)
		return bd_x_refuse(c, V3X_ERR_SERVER, "database error");
	if (c->xreq.op == V3X_SNAP_KEEP) {
		log_info(MOD, "#%u %s: %s kept in the run's snapshot%s", c->idx,
			 c->peer_text, c->xreq.name, m.count ? ""
			 : " (no version stored: nothing to keep)");
		return bd_x_send(c, &m);
	}
	log_info(MOD, "#%u %s: snapshot %lld sealed: %u files, a run of %u "
		 "session(s)", c->idx, c->peer_text, (long long)c->session_row,
		 (unsigned)files, (unsigned)c->xreq.sessions);
	c->session_row = bd_store_session_start(c->client_id, c->peer_text);
	return bd_x_send(c, &m);
}

/* see backupd.h */
int bd_restore_request(struct bd_conn *c)
{
	if (c->xreq.code == V3X_REQ_HELLO)
		return bd_x_hello(c);
	if (!c->x_hello)
		return bd_x_refuse(c, V3X_ERR_ORDER, "no 1040 first");
	switch (c->xreq.code) {
	case V3X_REQ_LIST:
		return bd_x_list(c);
	case V3X_REQ_READ:
		return bd_x_read(c);
	case V3X_REQ_OFFSET:
		return bd_x_offset(c);
	case V3X_REQ_TRACE:
		return bd_x_trace(c);
	case V3X_REQ_HAVE:
		return bd_x_have(c);
	case V3X_REQ_SEGMENT:
		return bd_session_segment(c);
	case V3X_REQ_SNAPSHOT:
		return bd_x_snapshot(c);
	default:
		return bd_x_attr(c);
	}
}

/* see backupd.h */
void bd_restore_tx_end(struct bd_conn *c)
{
	if (c->tx_fd >= 0)
		close(c->tx_fd);
	c->tx_fd = -1;
	c->tx_left = 0;
}

/* see backupd.h */
int bd_restore_tx(struct bd_conn *c)
{
	while (c->tx_left > 0) {
		size_t want = c->tx_left < sizeof bd_tx_buf
			      ? (size_t)c->tx_left : sizeof bd_tx_buf;
		/* after a partial send the same bytes are read again: TLS
		 * wants a retried write to carry the same data */
		ssize_t r = pread(c->tx_fd, bd_tx_buf, want, (off_t)c->tx_off);
		int n;

		if (r != (ssize_t)want) {
			log_err(MOD, "#%u %s: stored file shrank while read",
				c->idx, c->peer_text);
			return -EIO;
		}
		n = bd_io_send(c, bd_tx_buf, want);
		if (n == -EAGAIN)
			return 1;
		if (n < 0)
			return n;
		c->tx_off += (uint64_t)n;
		c->tx_left -= (uint64_t)n;
	}
	bd_restore_tx_end(c);
	return 0;
}

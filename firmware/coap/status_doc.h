/*
 * status_doc.h — vigild's status document: the whole state of the agent
 * as one CBOR map (RFC 8949) with text keys, the schema of which is
 * docs/status.cddl.  The CoAP server serves it whole (/status) and in
 * parts (/health, /backup, /conns); vigilctl reads it.
 *
 * Sources are read, never written: the health state (checks, watchdog,
 * boot record: health.h), the backup client's link (backup_link.h), the
 * configuration, the CoAP server's counters, and the HAL's sysinfo and
 * storage figures at the moment of encoding.  What has no source yet is
 * written in the schema's "absent" form, never invented:
 *   backup.server, backup.last_success  null  (no backup client yet)
 *   backup.jobs, conns                  []    (no jobs, no connections)
 *   network.interfaces                  null  (the HAL has no interface
 *                                              query)
 *   device.id                           null  when device.name is empty
 *                                              (the HAL has no hostname)
 *
 * Times are epoch seconds: a monotonic instant t becomes
 * (wall_now - (now - t)) / 1000, so they are only as right as the wall
 * clock.  Instants that never happened (0) are null.
 *
 * Encoding is into a caller buffer, all or nothing (-ENOSPC leaves no
 * usable output).  Nothing allocates.
 */
#ifndef VIGIL_STATUS_DOC_H
#define VIGIL_STATUS_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "backup_link.h"

struct backup_status;   /* backup_status.h */
#include "config.h"
#include "health.h"

/* The largest document.  Measured: the whole status of an agent with the
 * 8 built-in checks, each with a ~60-byte error, is ~1.9 KiB; the
 * worst case adds HEALTH_CHECKS_MAX (16) checks of ~80 + 95 bytes of
 * error (~2.8 KiB) to ~0.9 KiB of the rest, ~3.7 KiB.  The histograms
 * (lib/metrics.h) are a part of their own (/metrics), not in the whole
 * document: ~1 KiB, at most ~1.8 KiB (9 of 11 bounds of up to 5 bytes
 * and 11 cumulative counts of up to 9 each).  Keeping them out keeps
 * /status within two 1024-byte blocks for a poller (docs/coap.md). */
#define STATUS_DOC_MAX 4096

/* Schema version: "schema" in the document; bumped when a key changes
 * meaning or disappears (new keys do not bump it). */
#define STATUS_SCHEMA_VERSION 1

/* What status_doc_encode writes: the whole document or one part (each
 * part is the value the whole document has under that key). */
enum status_part {
	STATUS_ALL,
	STATUS_HEALTH,  /* "health": overall + checks */
	STATUS_BACKUP,  /* "backup": link, state, jobs */
	STATUS_CONNS,   /* "conns": per-connection statistics */
	STATUS_METRICS, /* not in the whole document: the histograms */
	STATUS_PART_COUNT
};

/* The CoAP figures shown under network.coap (coap_server fills them). */
struct status_coap {
	const char *listen[4];  /* bound addresses as text; NULL ends */
	uint32_t requests;      /* requests answered */
	uint32_t rejected;      /* datagrams answered with RST or dropped */
	uint32_t observers;     /* registered now */
	int dtls;               /* a DTLS listener runs */
};

/* Where the document comes from.  Every pointer is retained by the
 * caller's struct and read at each encode; NULL means "no such source"
 * (written as absent).  A plain struct: the agent fills one at init. */
struct status_src {
	const struct config *cfg;
	const struct health *health;
	const struct backup_link *link;
	const struct backup_status *backup; /* jobs, server, conns */
	const unsigned *reloads;         /* successful config reloads */
	const struct status_coap *coap;
	uint64_t start_ms;               /* agent start, mono ms */
};

/*
 * Encodes part of the document as it is at now_ms (monotonic) / wall_ms
 * (epoch ms) into buf[0..cap).
 * @retval >0      bytes written
 * @retval -ENOSPC it does not fit in cap (buf's content unspecified)
 * @retval -EINVAL src, src->health or buf NULL, or part out of range
 */
int status_doc_encode(const struct status_src *src, enum status_part part,
		      uint64_t now_ms, int64_t wall_ms, uint8_t *buf,
		      size_t cap);

/*
 * A 32-bit digest of the state a part shows, without the fields that
 * move by themselves (clocks, uptime, load, memory, counters of runs and
 * kicks): check states and results, overall health, watchdog gate and
 * stop, boot record, backup link state and error, reload count.  When
 * it changes, observers are notified.  O(checks); no syscall.
 */
uint32_t status_doc_change_key(const struct status_src *src,
			       enum status_part part);

/* "busy", "connected", "standby" or "offline" for a link (NULL:
 * "offline"); the backup.state of the document. */
const char *status_backup_state(const struct backup_link *link);

#endif

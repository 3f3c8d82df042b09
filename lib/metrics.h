/*
 * metrics.h — operation timings as fixed-bucket histograms, shared by
 * vigild and vigil-backupd.  Each metric has a name, a unit and at most
 * METRIC_BOUNDS_MAX upper bounds fixed at compile time (a const table);
 * its counts live in a zeroed static array, so adding a value is a few
 * compares and additions and nothing allocates.
 *
 * A value v lands in the first bucket i with v <= bounds[i] (Prometheus'
 * "le"); a value past the last bound is counted only in count and sum
 * (the implicit +Inf bucket).  metrics_enc writes cumulative bucket
 * counts, so each metric maps 1:1 onto a Prometheus histogram.
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdint.h>

#include "cbor.h"

#define METRIC_BOUNDS_MAX 12

/* vigild's metrics first, then vigil-backupd's (metrics_enc ranges). */
enum metric {
	M_BACKUP_JOB_MS,        /* a job, started to done or failed */
	M_BACKUP_FILE_MS,       /* one file, first byte read to ack */
	M_BACKUP_FILE_KIBPS,    /* the same file's rate, KiB/s */
	M_TLS_FULL_MS,          /* TLS handshake without a saved session */
	M_TLS_RESUMED_MS,       /* TLS handshake resuming a session */
	M_COAP_SERVICE_MS,      /* datagram read to answer sent */
	M_HEALTH_CHECK_MS,      /* one health check's run (all checks) */
	M_WDT_KICK_PLANNED_MS,  /* the interval the watchdog timer asked */
	M_WDT_KICK_ACTUAL_MS,   /* the interval between two kicks */
	M_AGENT_END,
	M_SRV_FILE_MS = M_AGENT_END, /* first 1028 to stored */
	M_SRV_FILE_KIBPS,
	M_SRV_TLS_MS,           /* accept to handshake done */
	M_SRV_CONN_MS,          /* connection, accept to close */
	M_END
};

struct metric_counts {
	uint64_t count, sum;
	uint64_t bucket[METRIC_BOUNDS_MAX];   /* not cumulative */
};

/* Adds one observation (out of range ids are ignored). */
void metric_add(enum metric m, uint64_t v);

/* The same into counts c kept by the caller (one per health check, say),
 * with the bounds of metric kind. */
void metric_add_to(struct metric_counts *c, enum metric kind, uint64_t v);

/* The counts so far (NULL out of range). */
const struct metric_counts *metric_get(enum metric m);

/* "backup_job_ms", ...; "" out of range. */
const char *metric_name(enum metric m);

/* Rate in KiB/s of bytes over ms (ms 0 counts as 1). */
uint64_t metric_kibps(uint64_t bytes, uint64_t ms);

/* One CBOR map of metrics [first, end): name -> { "unit": tstr,
 * "count": uint, "sum": uint, "le": [bounds], "buckets": [cumulative] }
 * (docs/status.cddl, metrics). */
void metrics_enc(struct cbor_enc *e, enum metric first, enum metric end);

/* A map of metrics [first, end) in the compact form of /status
 * (docs/status.cddl, status-metrics): name -> [count, sum, n0, n1, ...]
 * with the per-bucket (not cumulative) counts, cut after the last
 * non-zero one, so an idle histogram costs 3 bytes. */
void metrics_enc_compact(struct cbor_enc *e, enum metric first,
			 enum metric end);

/* The full form (like metrics_enc) of counts c under the name given;
 * kind (< M_END) gives the bounds and the unit. */
void metric_enc_named(struct cbor_enc *e, const char *name,
		      const struct metric_counts *c, enum metric kind);

/* The upper bounds of kind: *n of them (NULL and 0 out of range). */
const uint32_t *metric_bounds(enum metric kind, unsigned *n);

/* Zeroes every metric (tests). */
void metrics_reset(void);

#endif

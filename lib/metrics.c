/*
 * metrics.c — see metrics.h.  The bounds are chosen per metric so the
 * buckets split the range an operator cares about (a late watchdog kick,
 * a slow handshake on a small board), 6-12 buckets each.
 */
#include "metrics.h"

#include <string.h>

struct metric_def {
	const char *name;
	const char *unit;
	const uint32_t *le;
	unsigned n;
};

#define BOUNDS(...) (const uint32_t[]){ __VA_ARGS__ }, \
	sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t)
#define MS_LONG BOUNDS(100, 500, 1000, 2500, 5000, 10000, 30000, 60000, \
		       300000, 900000, 3600000)
#define MS_SHORT BOUNDS(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)
#define KIBPS BOUNDS(16, 64, 256, 1024, 4096, 16384, 65536, 262144)

static const struct metric_def defs[M_END] = {
	[M_BACKUP_JOB_MS] = { "backup_job", "ms", MS_LONG },
	[M_BACKUP_FILE_MS] = { "backup_file", "ms", MS_LONG },
	[M_BACKUP_FILE_KIBPS] = { "backup_file_rate", "KiB/s", KIBPS },
	[M_TLS_FULL_MS] = { "tls_handshake_full", "ms", MS_SHORT },
	[M_TLS_RESUMED_MS] = { "tls_handshake_resumed", "ms", MS_SHORT },
	[M_COAP_SERVICE_MS] = { "coap_service", "ms", MS_SHORT },
	[M_HEALTH_CHECK_MS] = { "health_check", "ms", MS_SHORT },
	[M_WDT_KICK_PLANNED_MS] = { "watchdog_kick_planned", "ms",
		BOUNDS(500, 1000, 2000, 5000, 10000, 15000, 20000, 30000,
		       60000) },
	[M_WDT_KICK_ACTUAL_MS] = { "watchdog_kick_actual", "ms",
		BOUNDS(500, 1000, 2000, 5000, 10000, 15000, 20000, 30000,
		       60000) },
	[M_SRV_FILE_MS] = { "file", "ms", MS_LONG },
	[M_SRV_FILE_KIBPS] = { "file_rate", "KiB/s", KIBPS },
	[M_SRV_TLS_MS] = { "tls_handshake", "ms", MS_SHORT },
	[M_SRV_CONN_MS] = { "connection", "ms", MS_LONG },
};

static struct metric_counts counts[M_END];

/* see metrics.h */
void metric_add_to(struct metric_counts *c, enum metric kind, uint64_t v)
{
	unsigned i;

	if ((unsigned)kind >= M_END)
		return;
	c->count++;
	c->sum += v;
	for (i = 0; i < defs[kind].n; i++) {
		if (v <= defs[kind].le[i]) {
			c->bucket[i]++;
			return;
		}
	}
}

/* see metrics.h */
void metric_add(enum metric m, uint64_t v)
{
	if ((unsigned)m < M_END)
		metric_add_to(&counts[m], m, v);
}

/* see metrics.h */
const uint32_t *metric_bounds(enum metric kind, unsigned *n)
{
	if ((unsigned)kind >= M_END) {
		*n = 0;
		return NULL;
	}
	*n = defs[kind].n;
	return defs[kind].le;
}

/* see metrics.h */
const struct metric_counts *metric_get(enum metric m)
{
	return (unsigned)m < M_END ? &counts[m] : NULL;
}

/* see metrics.h */
const char *metric_name(enum metric m)
{
	return (unsigned)m < M_END ? defs[m].name : "";
}

/* see metrics.h */
uint64_t metric_kibps(uint64_t bytes, uint64_t ms)
{
	return bytes * 1000u / 1024u / (ms ? ms : 1);
}

/* see metrics.h */
void metric_enc_named(struct cbor_enc *e, const char *name,
		      const struct metric_counts *c, enum metric kind)
{
	const struct metric_def *d = &defs[kind];
	uint64_t cum = 0;
	unsigned i;

	cbor_enc_cstr(e, name);
	cbor_enc_map(e, 5);
	cbor_enc_cstr(e, "unit");
	cbor_enc_cstr(e, d->unit);
	cbor_enc_cstr(e, "count");
	cbor_enc_uint(e, c->count);
	cbor_enc_cstr(e, "sum");
	cbor_enc_uint(e, c->sum);
	cbor_enc_cstr(e, "le");
	cbor_enc_array(e, d->n);
	for (i = 0; i < d->n; i++)
		cbor_enc_uint(e, d->le[i]);
	cbor_enc_cstr(e, "buckets");
	cbor_enc_array(e, d->n);
	for (i = 0; i < d->n; i++) {
		cum += c->bucket[i];
		cbor_enc_uint(e, cum);
	}
}

static void metric_enc_compact(struct cbor_enc *e, const struct metric_counts *c,
			enum metric kind)
{
	unsigned n = (unsigned)kind < M_END ? defs[kind].n : 0, i;

	while (n > 0 && c->bucket[n - 1] == 0)
		n--;
	cbor_enc_array(e, 2u + n);
	cbor_enc_uint(e, c->count);
	cbor_enc_uint(e, c->sum);
	for (i = 0; i < n; i++)
		cbor_enc_uint(e, c->bucket[i]);
}

/* see metrics.h */
void metrics_enc_compact(struct cbor_enc *e, enum metric first,
			 enum metric end)
{
	unsigned m;

	if (end > M_END || first > end)
		return;
	cbor_enc_map(e, (uint64_t)(end - first));
	for (m = first; m < (unsigned)end; m++) {
		cbor_enc_cstr(e, defs[m].name);
		metric_enc_compact(e, &counts[m], (enum metric)m);
	}
}

/* see metrics.h */
void metrics_enc(struct cbor_enc *e, enum metric first, enum metric end)
{
	unsigned m;

	if (end > M_END || first > end)
		return;
	cbor_enc_map(e, (uint64_t)(end - first));
	for (m = first; m < (unsigned)end; m++)
		metric_enc_named(e, defs[m].name, &counts[m], (enum metric)m);
}

/* see metrics.h */
void metrics_reset(void)
{
	memset(counts, 0, sizeof counts);
}

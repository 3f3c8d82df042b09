/*
 * console_metrics.c — the `metrics` command: each histogram of
 * lib/metrics.c (and each health check's) as one line with its count,
 * sum and mean and the p50/p99 estimates the buckets allow.  An estimate
 * is the upper bound of the bucket that holds that quantile (what a
 * Prometheus histogram_quantile would round up to), or ">B" when it lies
 * above the last bound B; the true value is at most the printed one.
 */
#include "console_int.h"

#include <stdio.h>

#include "health.h"
#include "metrics.h"

/* The upper bound of the bucket holding quantile q/100 into out. */
static void quantile(char out[16], const struct metric_counts *c,
		     enum metric kind, unsigned q)
{
	unsigned n, i;
	const uint32_t *le = metric_bounds(kind, &n);
	/* the rank of the quantile, 1-based, rounded up */
	uint64_t rank = (c->count * q + 99) / 100, seen = 0;

	if (c->count == 0) {
		snprintf(out, 16, "-");
		return;
	}
	for (i = 0; i < n; i++) {
		seen += c->bucket[i];
		if (seen >= rank) {
			snprintf(out, 16, "%lu", (unsigned long)le[i]);
			return;
		}
	}
	snprintf(out, 16, ">%lu", n ? (unsigned long)le[n - 1] : 0ul);
}

static void line(struct con *c, const char *name, const struct metric_counts *m,
		 enum metric kind, const char *unit)
{
	char p50[16], p99[16];

	quantile(p50, m, kind, 50);
	quantile(p99, m, kind, 99);
	con_printf(c, "  %-26s %8llu %10llu %8llu %8s %8s  %s\n", name,
		   (unsigned long long)m->count, (unsigned long long)m->sum,
		   (unsigned long long)(m->count ? m->sum / m->count : 0),
		   p50, p99, unit);
}

/* see console_int.h */
void con_show_metrics(struct con *c)
{
	const struct health *h = c->env->health;
	char name[sizeof "health_check/" + HEALTH_NAME_MAX];

	con_printf(c, "  %-26s %8s %10s %8s %8s %8s\n", "metric", "count",
		   "sum", "mean", "p50<=", "p99<=");
	for (enum metric m = 0; m < M_AGENT_END; m++)
		line(c, metric_name(m), metric_get(m), m,
		     m == M_BACKUP_FILE_KIBPS ? "KiB/s" : "ms");
	for (unsigned i = 0; h && i < h->nchecks; i++) {
		snprintf(name, sizeof name, "health_check/%s",
			 h->checks[i].name);
		line(c, name, &h->checks[i].ms, M_HEALTH_CHECK_MS, "ms");
	}
}

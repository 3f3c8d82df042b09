/*
 * metrics_test.c — the fixed-bucket histograms (lib/metrics.c): bucket
 * choice at the bounds, count and sum, the CBOR form (cumulative).
 */
#include <string.h>

#include "cbor.h"
#include "metrics.h"
#include "test.h"

TEST(values_land_in_le_buckets)
{
	const struct metric_counts *c;

	metrics_reset();
	metric_add(M_COAP_SERVICE_MS, 0);    /* <= 1 */
	metric_add(M_COAP_SERVICE_MS, 1);    /* <= 1 */
	metric_add(M_COAP_SERVICE_MS, 2);    /* <= 2 */
	metric_add(M_COAP_SERVICE_MS, 3);    /* <= 5 */
	metric_add(M_COAP_SERVICE_MS, 5000); /* the last bound */
	metric_add(M_COAP_SERVICE_MS, 5001); /* +Inf: count and sum only */
	metric_add(M_END, 7);                /* ignored */
	c = metric_get(M_COAP_SERVICE_MS);
	REQUIRE(c != NULL);
	CHECK_EQ_INT(c->count, 6);
	CHECK_EQ_INT(c->sum, 10007);
	CHECK_EQ_INT(c->bucket[0], 2);
	CHECK_EQ_INT(c->bucket[1], 1);
	CHECK_EQ_INT(c->bucket[2], 1);
	CHECK_EQ_INT(c->bucket[10], 1);
	CHECK_EQ_INT(c->bucket[11], 0);
	CHECK(metric_get(M_END) == NULL);
	CHECK_EQ_INT(metric_get(M_TLS_FULL_MS)->count, 0);
	CHECK_EQ_STR(metric_name(M_BACKUP_JOB_MS), "backup_job");
	CHECK_EQ_INT(metric_kibps(2048, 1000), 2);
	CHECK_EQ_INT(metric_kibps(1024, 0), 1000);
}

TEST(cbor_form_is_cumulative)
{
	uint8_t buf[2048];
	struct cbor_enc e;
	/* {"tls_handshake": {"unit": "ms", "count": 2, "sum": 4, "le":
	 * [1, 2, 5, ...], "buckets": [1, 1, 2, ...]}} — checked by bytes of
	 * the head and by the cumulative tail */
	static const uint8_t head[] = { 0xa1, 0x6d, 't', 'l', 's', '_', 'h',
		'a', 'n', 'd', 's', 'h', 'a', 'k', 'e', 0xa5, 0x64, 'u', 'n',
		'i', 't', 0x62, 'm', 's', 0x65, 'c', 'o', 'u', 'n', 't', 0x02,
		0x63, 's', 'u', 'm', 0x04 };
	static const uint8_t tail[] = { 0x67, 'b', 'u', 'c', 'k', 'e', 't',
		's', 0x8b, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
		0x02, 0x02, 0x02 };

	metrics_reset();
	metric_add(M_SRV_TLS_MS, 1);
	metric_add(M_SRV_TLS_MS, 3);
	cbor_enc_init(&e, buf, sizeof buf);
	metrics_enc(&e, M_SRV_TLS_MS, M_SRV_TLS_MS + 1);
	REQUIRE(e.len > sizeof head + sizeof tail);
	CHECK_EQ_MEM(buf, head, sizeof head);
	CHECK_EQ_MEM(buf + e.len - sizeof tail, tail, sizeof tail);
}

/* A caller's own counts (a health check's) take the kind's bounds; the
 * /status form is [count, sum, per-bucket counts up to the last non-zero
 * one]. */
TEST(own_counts_and_compact_form)
{
	struct metric_counts mine;
	uint8_t buf[256];
	struct cbor_enc e;
	unsigned n;
	static const uint8_t want[] = { 0x82, 0x00, 0x00 };

	memset(&mine, 0, sizeof mine);
	metrics_reset();
	metric_add_to(&mine, M_HEALTH_CHECK_MS, 7);     /* <= 10: bucket 3 */
	metric_add_to(&mine, M_END, 7);                 /* ignored */
	CHECK_EQ_INT(mine.count, 1);
	CHECK_EQ_INT(mine.sum, 7);
	CHECK_EQ_INT(mine.bucket[3], 1);
	CHECK_EQ_INT(metric_get(M_HEALTH_CHECK_MS)->count, 0);
	CHECK(metric_bounds(M_HEALTH_CHECK_MS, &n)[3] == 10 && n == 11);
	CHECK(metric_bounds(M_END, &n) == NULL && n == 0);
	metric_add(M_BACKUP_FILE_KIBPS, 100);           /* <= 256: bucket 2 */
	metric_add(M_BACKUP_FILE_KIBPS, 300000);        /* +Inf */
	cbor_enc_init(&e, buf, sizeof buf);
	metrics_enc_compact(&e, M_BACKUP_FILE_KIBPS, M_BACKUP_FILE_KIBPS + 1);
	REQUIRE(cbor_enc_finish(&e) > 0);
	/* {"backup_file_rate": [2, 300100, 0, 0, 1]} */
	CHECK(buf[0] == 0xa1 && buf[1] == 0x70);
	CHECK_EQ_MEM(buf + 2, "backup_file_rate", 16);
	CHECK(buf[18] == 0x85 && buf[19] == 0x02 && buf[20] == 0x1a);
	CHECK(buf[25] == 0 && buf[26] == 0 && buf[27] == 1);
	cbor_enc_init(&e, buf, sizeof buf);             /* idle: 3 bytes */
	metrics_enc_compact(&e, M_TLS_FULL_MS, M_TLS_FULL_MS + 1);
	REQUIRE(cbor_enc_finish(&e) == 1 + 1 + 18 + 3);
	CHECK_EQ_MEM(buf + 20, want, sizeof want);
}

TEST_SUITE(metrics, values_land_in_le_buckets, cbor_form_is_cumulative,
	   own_counts_and_compact_form)

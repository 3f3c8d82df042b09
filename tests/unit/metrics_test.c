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

TEST_SUITE(metrics, values_land_in_le_buckets, cbor_form_is_cumulative)

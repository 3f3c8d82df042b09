/*
 * coap_link_test.c — protocol/coap_link.c: RFC 6690 output byte for byte,
 * -ENOSPC with nothing committed (at every capacity up to the exact
 * size), -EINVAL for strings that cannot be written, and the §4.1 query
 * filter.
 */
#include <errno.h>
#include <string.h>

#include "coap_link.h"
#include "test.h"

static const struct coap_link vigil[] = {
	{ .href = "/status", .rt = "vigil.status", .has_ct = true,
	  .ct = COAP_CF_CBOR, .obs = true },
	{ .href = "/health", .rt = "vigil.health", .has_ct = true,
	  .ct = COAP_CF_CBOR, .obs = true },
	{ .href = "/backup", .rt = "vigil.jobs", .has_ct = true,
	  .ct = COAP_CF_CBOR },
	{ .href = "/probe", .ifd = "core.a vigil.probe" },
};

static const char vigil_doc[] =
	"</status>;rt=\"vigil.status\";ct=60;obs,"
	"</health>;rt=\"vigil.health\";ct=60;obs,"
	"</backup>;rt=\"vigil.jobs\";ct=60,"
	"</probe>;if=\"core.a vigil.probe\"";

TEST(coap_link_format_document)
{
	char out[256];
	int n = coap_link_format(out, sizeof out, vigil, 4, NULL);

	REQUIRE(n == (int)strlen(vigil_doc));
	CHECK_EQ_MEM(out, vigil_doc, (size_t)n);
	CHECK_EQ_INT(coap_link_format(out, sizeof out, vigil, 0, NULL), 0);
}

TEST(coap_link_all_attributes)
{
	static const struct coap_link l = {
		.href = "/a/b?x=1", .rt = "t1 t2", .ifd = "core.s",
		.title = "say \"hi\" \\o/", .has_ct = true, .ct = 65535,
		.obs = true
	};
	static const char want[] =
		"</a/b?x=1>;rt=\"t1 t2\";if=\"core.s\";ct=65535;obs;"
		"title=\"say \\\"hi\\\" \\\\o/\"";
	static const struct coap_link zero = { .href = "/z", .has_ct = true };
	char out[128];
	struct coap_linkw lw;

	coap_link_init(&lw, out, sizeof out);
	CHECK_EQ_INT(coap_link_add(&lw, &l), (int)strlen(want));
	CHECK_EQ_MEM(out, want, strlen(want));
	CHECK_EQ_INT(coap_link_add(&lw, &zero), 10);
	CHECK_EQ_MEM(out + strlen(want), ",</z>;ct=0", 10);
	CHECK_EQ_INT(lw.count, 2);
}

TEST(coap_link_add_enospc_rollback)
{
	char out[128];
	struct coap_linkw lw;
	size_t first = strlen("</status>;rt=\"vigil.status\";ct=60;obs");
	size_t second = strlen(",</health>;rt=\"vigil.health\";ct=60;obs");

	/* at every capacity below first + second the second link writes
	 * nothing: len, count and the bytes after len stay as they were */
	for (size_t cap = first; cap < first + second; cap++) {
		memset(out, '#', sizeof out);
		coap_link_init(&lw, out, cap);
		REQUIRE(coap_link_add(&lw, &vigil[0]) == (int)first);
		CHECK_EQ_INT(coap_link_add(&lw, &vigil[1]), -ENOSPC);
		CHECK_EQ_INT(lw.len, first);
		CHECK_EQ_INT(lw.count, 1);
		for (size_t i = first; i < sizeof out; i++)
			CHECK_EQ_INT(out[i], '#');
	}
	coap_link_init(&lw, out, first + second);
	coap_link_add(&lw, &vigil[0]);
	CHECK_EQ_INT(coap_link_add(&lw, &vigil[1]), (int)second);
	CHECK_EQ_MEM(out, vigil_doc, first + second);
	/* the first link alone, one byte short */
	coap_link_init(&lw, out, first - 1);
	CHECK_EQ_INT(coap_link_add(&lw, &vigil[0]), -ENOSPC);
	CHECK_EQ_INT(lw.len, 0);
}

TEST(coap_link_format_enospc_untouched)
{
	char out[256];
	size_t n = strlen(vigil_doc);

	memset(out, '#', sizeof out);
	CHECK_EQ_INT(coap_link_format(out, n - 1, vigil, 4, NULL), -ENOSPC);
	for (size_t i = 0; i < sizeof out; i++)
		CHECK_EQ_INT(out[i], '#');
	CHECK_EQ_INT(coap_link_format(out, n, vigil, 4, NULL), (int)n);
	CHECK_EQ_INT(out[n], '#');              /* no NUL written */
	CHECK_EQ_INT(coap_link_format(NULL, 0, vigil, 0, NULL), 0);
}

TEST(coap_link_invalid_strings)
{
	static const struct coap_link bad[] = {
		{ .href = NULL },
		{ .href = "" },
		{ .href = "status" },
		{ .href = "/a b" },
		{ .href = "/a>" },
		{ .href = "/a\"" },
		{ .href = "/a", .rt = "" },
		{ .href = "/a", .rt = "x\"y" },
		{ .href = "/a", .rt = "x\\y" },
		{ .href = "/a", .rt = " x" },
		{ .href = "/a", .rt = "x " },
		{ .href = "/a", .rt = "x  y" },
		{ .href = "/a", .ifd = "x\ty" },
		{ .href = "/a", .title = "tab\there" },
		{ .href = "/a", .title = "\x80" },
	};
	char out[64];
	struct coap_linkw lw;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct coap_link two[2] = { vigil[0], bad[i] };

		memset(out, '#', sizeof out);
		coap_link_init(&lw, out, sizeof out);
		CHECK_EQ_INT(coap_link_add(&lw, &bad[i]), -EINVAL);
		CHECK_EQ_INT(lw.len, 0);
		CHECK_EQ_INT(out[0], '#');
		/* a bad link is refused even when a filter excludes it */
		CHECK_EQ_INT(coap_link_format(out, sizeof out, two, 2, NULL),
			     -EINVAL);
	}
}

/* A query term from "key=value" or "key" (no '='). */
static struct coap_query term(const char *s)
{
	struct coap_query q;
	const char *eq = strchr(s, '=');

	q.key = (const uint8_t *)s;
	q.key_len = eq ? (size_t)(eq - s) : strlen(s);
	q.has_val = eq != NULL;
	q.val = eq ? (const uint8_t *)eq + 1 : NULL;
	q.val_len = eq ? strlen(eq + 1) : 0;
	return q;
}

TEST(coap_link_filter_match)
{
	static const struct {
		const char *q;
		unsigned mask;          /* bit i: vigil[i] matches */
	} t[] = {
		{ "rt=vigil.status", 1 }, { "rt=vigil.*", 7 }, { "rt=vigil", 0 },
		{ "rt=*", 7 }, { "rt", 7 }, { "href=/status", 1 },
		{ "href=/st*", 1 }, { "href=/*", 15 }, { "ct=60", 7 },
		{ "ct=6*", 7 }, { "ct=6", 0 }, { "obs", 3 }, { "obs=x", 3 },
		{ "if=vigil.probe", 8 }, { "if=core.a", 8 }, { "if=core", 0 },
		{ "title=x", 0 }, { "sz=1", 0 }, { "=x", 0 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct coap_query q = term(t[i].q);

		for (unsigned j = 0; j < 4; j++) {
			bool want = (t[i].mask >> j) & 1u;

			if (coap_link_match(&vigil[j], &q) != want)
				test_fail(__FILE__, __LINE__, "%s on link %u",
					  t[i].q, j);
		}
	}
}

TEST(coap_link_format_filtered)
{
	char out[256];
	struct coap_query q = term("obs");
	static const char want[] =
		"</status>;rt=\"vigil.status\";ct=60;obs,"
		"</health>;rt=\"vigil.health\";ct=60;obs";

	CHECK_EQ_INT(coap_link_format(out, sizeof out, vigil, 4, &q),
		     (int)strlen(want));
	CHECK_EQ_MEM(out, want, strlen(want));
	q = term("rt=vigil.jobs");
	CHECK_EQ_INT(coap_link_format(out, sizeof out, vigil, 4, &q), 31);
	CHECK_EQ_MEM(out, "</backup>;rt=\"vigil.jobs\";ct=60", 31);
	q = term("rt=none");
	CHECK_EQ_INT(coap_link_format(out, sizeof out, vigil, 4, &q), 0);
	/* the filter shrinks the document: it fits where the whole does not */
	q = term("href=/probe");
	CHECK_EQ_INT(coap_link_format(out, 32, vigil, 4, &q), 32);
	CHECK_EQ_INT(coap_link_format(out, 31, vigil, 4, &q), -ENOSPC);
}

TEST_SUITE(coap_link, coap_link_format_document, coap_link_all_attributes,
	   coap_link_add_enospc_rollback, coap_link_format_enospc_untouched,
	   coap_link_invalid_strings, coap_link_filter_match,
	   coap_link_format_filtered)

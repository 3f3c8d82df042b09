/*
 * coap_resources.c — the resources of vigild's CoAP server (see
 * coap_server.h for the server, docs/coap.md for the user's view):
 *
 *   path               GET                      POST (control)
 *   /.well-known/core  link format (ct 40)      -
 *   /status            whole document, obs      -
 *   /health            health part, obs         -
 *   /backup            backup part (jobs)       start a job: 2.04
 *                                               {"job": id}; 4.03 safe
 *                                               mode, 5.01 no server,
 *                                               5.03 job table full
 *   /backup/cancel     -                        {"job": id/"all",
 *                                               ? "reason": text}
 *   /conns             conns part               -
 *   /metrics           the histograms           -
 *   /probe             -                        one connection attempt to
 *                                               backup.server, answered
 *                                               when it ends: 2.04
 *                                               {"reachable", "latency_ms",
 *                                               "error"}; 5.01 no server,
 *                                               5.03 one under way
 *   /reload            -                        agent_reload()
 *
 * Order of checks, so a stranger learns nothing from a control request:
 * path (4.04), method (4.05), authorisation (4.01), Content-Format
 * (4.15) and Accept (4.06), body (4.00 with a diagnostic), action.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "cbor.h"
#include "coap_link.h"
#include "hal/clock.h"

#define M_GET  0x1u
#define M_POST 0x2u

struct route {
	const char *path;
	uint8_t id;
	uint8_t methods;
	int8_t part;            /* enum status_part of a GET, or -1 */
};

static const struct route routes[] = {
	{ "/.well-known/core", COAP_RES_CORE, M_GET, -1 },
	{ "/status", COAP_RES_STATUS, M_GET, STATUS_ALL },
	{ "/health", COAP_RES_HEALTH, M_GET, STATUS_HEALTH },
	{ "/backup", COAP_RES_BACKUP, M_GET | M_POST, STATUS_BACKUP },
	{ "/backup/cancel", COAP_RES_BACKUP_CANCEL, M_POST, -1 },
	{ "/conns", COAP_RES_CONNS, M_GET, STATUS_CONNS },
	{ "/metrics", COAP_RES_METRICS, M_GET, STATUS_METRICS },
	{ "/probe", COAP_RES_PROBE, M_POST, -1 },
	{ "/reload", COAP_RES_RELOAD, M_POST, -1 },
};

#define LINK(h, r, o) { .href = h, .rt = r, .has_ct = true, \
	.ct = COAP_CF_CBOR, .obs = o }
static const struct coap_link links[] = {
	LINK("/status", "vigil.status", true),
	LINK("/health", "vigil.health", true),
	LINK("/backup", "vigil.backup", false),
	LINK("/backup/cancel", "vigil.backup.cancel", false),
	LINK("/conns", "vigil.conns", false),
	LINK("/metrics", "vigil.metrics", false),
	LINK("/probe", "vigil.probe", false),
	LINK("/reload", "vigil.reload", false),
};

/* Longest text of a /backup/cancel reason: a console line's worth. */
#define RES_REASON_MAX 128

static void set_error(struct coap_rep *rep, uint8_t code, const char *diag)
{
	memset(rep, 0, sizeof *rep);
	rep->code = code;
	rep->body = (const uint8_t *)diag;
	rep->len = strlen(diag);
}

static uint32_t etag_of(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void set_rep(struct coap_rep *rep, uint8_t res, uint16_t cf,
		    const struct coap_snap *sn)
{
	memset(rep, 0, sizeof *rep);
	rep->code = COAP_CODE_CONTENT;
	rep->res = res;
	rep->has_cf = true;
	rep->cf = cf;
	rep->observable = res == COAP_RES_STATUS || res == COAP_RES_HEALTH;
	rep->has_etag = true;
	memcpy(rep->etag, sn->etag, sizeof rep->etag);
	rep->max_age = COAP_SRV_MAX_AGE_S;
	rep->body = sn->body;
	rep->len = sn->len;
}

static enum status_part part_of(uint8_t res)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (routes[i].id == res && routes[i].part >= 0)
			return (enum status_part)routes[i].part;
	return STATUS_ALL;
}

/* see coap_server.h */
uint32_t coap_res_change_key(const struct coap_srv *s, uint8_t res)
{
	return status_doc_change_key(s->src, part_of(res));
}

/* The snapshot of res: reused for a later block (cont) while an
 * exchange may still run, and for a new transfer while it is young and
 * the state it shows has not changed.  Within a burst the change key is
 * computed once (struct coap_srv_burst: keyed says sn->key is current). */
static int snapshot(struct coap_srv *s, uint8_t res, bool cont,
		    uint64_t now_ms)
{
	struct coap_snap *sn = &s->snap[res];
	uint16_t bit = (uint16_t)(s->burst.sock1 ? 1u << res : 0);
	uint32_t key = s->burst.keyed & bit ? sn->key
					    : coap_res_change_key(s, res);
	uint32_t tag;
	int n;

	if (sn->valid && now_ms - sn->at_ms < (cont
		? COAP_EXCHANGE_LIFETIME_MS : COAP_SRV_SNAPSHOT_MS) &&
	    (cont || sn->key == key)) {
		s->burst.keyed |= cont ? 0 : bit;
		return 0;
	}
	n = status_doc_encode(s->src, part_of(res), now_ms,
			      hal_clock_wall_ms(), sn->body, sizeof sn->body);
	if (n < 0) {
		sn->valid = false;
		return n;
	}
	sn->valid = true;
	sn->len = (size_t)n;
	sn->key = key;
	sn->at_ms = now_ms;
	s->burst.keyed |= bit;
	tag = etag_of(sn->body, sn->len);
	memcpy(sn->etag, &tag, sizeof tag);
	return 0;
}

/* see coap_server.h */
void coap_res_render(struct coap_srv *s, uint8_t res, uint64_t now_ms,
		     struct coap_rep *rep)
{
	if (snapshot(s, res, false, now_ms) < 0) {
		set_error(rep, COAP_CODE_INTERNAL_SERVER_ERROR,
			  "status does not fit");
		return;
	}
	set_rep(rep, res, COAP_CF_CBOR, &s->snap[res]);
}

static void get_core(struct coap_srv *s, const struct coap_msg *m,
		     struct coap_rep *rep)
{
	struct coap_snap *sn = &s->snap[COAP_RES_CORE];
	struct coap_query q;
	size_t pos = 0;
	bool filter = coap_query_next(m, &pos, &q) == 1;
	int n = coap_link_format((char *)sn->body, sizeof sn->body, links,
				 sizeof links / sizeof links[0],
				 filter ? &q : NULL);
	uint32_t tag;

	if (n < 0) {
		set_error(rep, COAP_CODE_INTERNAL_SERVER_ERROR, "links");
		return;
	}
	sn->valid = true;
	sn->len = (size_t)n;
	tag = etag_of(sn->body, sn->len);
	memcpy(sn->etag, &tag, sizeof tag);
	set_rep(rep, COAP_RES_CORE, COAP_CF_LINK_FORMAT, sn);
}

static void get(struct coap_srv *s, const struct route *r,
		const struct coap_msg *m, uint64_t now_ms,
		struct coap_rep *rep)
{
	struct coap_block b;
	bool cont = coap_get_block(m, COAP_OPT_BLOCK2, &b) == 1 && b.num > 0;

	if (r->id == COAP_RES_CORE) {
		get_core(s, m, rep);
		return;
	}
	if (snapshot(s, r->id, cont, now_ms) < 0) {
		set_error(rep, COAP_CODE_INTERNAL_SERVER_ERROR,
			  "status does not fit");
		return;
	}
	set_rep(rep, r->id, COAP_CF_CBOR, &s->snap[r->id]);
}

/* A one-pair CBOR map answer {key: value} in s->scratch, code 2.04. */
static void changed(struct coap_srv *s, struct coap_rep *rep,
		    const char *key, uint64_t value)
{
	struct cbor_enc e;

	memset(rep, 0, sizeof *rep);
	cbor_enc_init(&e, s->scratch, sizeof s->scratch);
	cbor_enc_map(&e, 1);
	cbor_enc_cstr(&e, key);
	cbor_enc_uint(&e, value);
	rep->code = COAP_CODE_CHANGED;
	rep->has_cf = true;
	rep->cf = COAP_CF_CBOR;
	rep->body = s->scratch;
	rep->len = cbor_enc_finish(&e) > 0 ? (size_t)cbor_enc_len(&e) : 0;
}

/* One key of a cancel body.  @retval 0 ok / 1 a diagnostic in *diag */
static int cancel_key(struct cbor_dec *d, const char *k, size_t kn,
		      int *all, uint64_t *job, int *have_job, char *reason,
		      const char **diag)
{
	const char *t;
	size_t tn;

	if (kn == 3 && memcmp(k, "job", 3) == 0) {
		*have_job = 1;
		if (cbor_dec_uint(d, job) == 0)
			return 0;
		if (cbor_dec_text_ref(d, &t, &tn, 0) == 0 && tn == 3 &&
		    memcmp(t, "all", 3) == 0) {
			*all = 1;
			return 0;
		}
		*diag = "\"job\" must be a job id or \"all\"";
		return 1;
	}
	if (kn == 6 && memcmp(k, "reason", 6) == 0) {
		if (cbor_dec_text_ref(d, &t, &tn, CBOR_TEXT_UTF8) == 0 &&
		    tn <= RES_REASON_MAX) {
			memcpy(reason, t, tn);
			reason[tn] = '\0';
			return 0;
		}
		*diag = "\"reason\" must be text of at most 128 bytes";
		return 1;
	}
	*diag = "unknown key (expected \"job\", \"reason\")";
	return 1;
}

/* Validates {"job": uint / "all", ? "reason": tstr}.  @retval NULL ok,
 * else the diagnostic. */
static const char *parse_cancel(const struct coap_msg *m, int *all,
				uint64_t *job, char *reason)
{
	struct cbor_dec d;
	struct cbor_item it;
	const char *diag = "body must be a CBOR map";
	const char *k;
	size_t kn;
	int have_job = 0;

	cbor_dec_init(&d, m->payload, m->payload_len, 0);
	if (cbor_dec_next(&d, &it) != 1 || it.type != CBOR_MAP ||
	    (it.flags & CBOR_INDEF) || it.val > 2)
		return diag;
	for (uint64_t i = 0; i < it.val; i++) {
		if (cbor_dec_text_ref(&d, &k, &kn, 0) < 0)
			return "map keys must be text";
		if (cancel_key(&d, k, kn, all, job, &have_job, reason,
			       &diag))
			return diag;
	}
	if (cbor_dec_next(&d, &it) != 1 || it.type != CBOR_END ||
	    cbor_dec_next(&d, &it) != 0)
		return "trailing bytes after the map";
	return have_job ? NULL : "\"job\" is missing";
}

/* An empty body, or an empty CBOR map. */
static bool empty_body(const struct coap_msg *m)
{
	return m->payload_len == 0 ||
	       (m->payload_len == 1 && m->payload[0] == 0xa0);
}

static void post(struct coap_srv *s, const struct route *r,
		 const struct coap_msg *m, struct coap_rep *rep)
{
	const char *diag;
	char reason[RES_REASON_MAX + 1] = "";
	uint64_t job = 0;
	int all = 0, n;

	if (r->id == COAP_RES_BACKUP_CANCEL) {
		diag = parse_cancel(m, &all, &job, reason);
		n = !s->backup.cancel ? (all ? 0 : -ENOENT)
		    : !all && job == 0 ? -ENOENT  /* ids start at 1 */
		    : s->backup.cancel(s->backup.arg, all ? 0 : job, reason);
		if (diag)
			set_error(rep, COAP_CODE_BAD_REQUEST, diag);
		else if (n >= 0)
			changed(s, rep, "cancelled", (uint64_t)n);
		else if (n == -EINVAL)
			set_error(rep, COAP_CODE(4, 9), "the job has ended");
		else
			set_error(rep, COAP_CODE_NOT_FOUND, "no such job");
		return;
	}
	if (!empty_body(m)) {
		set_error(rep, COAP_CODE_BAD_REQUEST, "no body expected");
		return;
	}
	if (r->id == COAP_RES_RELOAD && s->hooks.reload) {
		if (s->hooks.reload(s->hooks.arg) == 0)
			changed(s, rep, "reloads", s->src && s->src->reloads
					? *s->src->reloads : 0);
		else
			set_error(rep, COAP_CODE_INTERNAL_SERVER_ERROR,
				  "reload refused: see the agent's log");
		return;
	}
	if (r->id == COAP_RES_BACKUP && s->backup.now) {
		diag = "backup refused";
		n = s->backup.now(s->backup.arg, &diag);
		if (n > 0)
			changed(s, rep, "job", (uint64_t)n);
		else
			set_error(rep, n == -ENOSPC || n == -EBUSY
				  ? COAP_CODE_SERVICE_UNAVAILABLE
				  : n == -EINVAL ? COAP_CODE_NOT_IMPLEMENTED
				  : COAP_CODE_FORBIDDEN, diag);
		return;
	}
	if (r->id == COAP_RES_PROBE) {
		coap_res_probe_post(s, rep);
		return;
	}
	set_error(rep, COAP_CODE_NOT_IMPLEMENTED,
		  "backup: no backup client yet");
}

/* 4.06 / 4.15 for formats other than the route's. */
static bool formats_ok(const struct route *r, const struct coap_msg *m,
		       struct coap_rep *rep)
{
	uint16_t want = r->id == COAP_RES_CORE ? COAP_CF_LINK_FORMAT
					       : COAP_CF_CBOR;
	uint32_t v;

	if (coap_get_uint(m, COAP_OPT_ACCEPT, &v) == 1 && v != want) {
		set_error(rep, COAP_CODE_NOT_ACCEPTABLE,
			  want == COAP_CF_CBOR ? "accept: 60 only"
					       : "accept: 40 only");
		return false;
	}
	if (m->payload_len && coap_get_uint(m, COAP_OPT_CONTENT_FORMAT,
					    &v) == 1 && v != COAP_CF_CBOR) {
		set_error(rep, COAP_CODE_UNSUPPORTED_CONTENT_FORMAT,
			  "content-format: 60 only");
		return false;
	}
	return true;
}

/* see coap_server.h */
void coap_res_handle(struct coap_srv *s, const struct coap_msg *m,
		     bool authorised, uint64_t now_ms, struct coap_rep *rep)
{
	const struct route *r = NULL;
	unsigned method = m->code == COAP_GET ? M_GET
			  : m->code == COAP_POST ? M_POST : 0;

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (coap_path_equals(m, routes[i].path))
			r = &routes[i];
	if (!r) {
		set_error(rep, COAP_CODE_NOT_FOUND, "no such resource");
		return;
	}
	if (!(r->methods & method)) {
		set_error(rep, COAP_CODE_METHOD_NOT_ALLOWED,
			  r->methods == M_GET ? "GET only" : "POST only");
		return;
	}
	if (method == M_POST && !authorised) {
		set_error(rep, COAP_CODE_UNAUTHORIZED,
			  "control needs DTLS-PSK (or coap.open_control)");
		return;
	}
	if (!formats_ok(r, m, rep))
		return;
	if (method == M_GET)
		get(s, r, m, now_ms, rep);
	else
		post(s, r, m, rep);
}

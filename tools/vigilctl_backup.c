/*
 * vigilctl_backup.c — `vigilctl backup URI now|cancel ID|all [--reason
 * TEXT]` (POST /backup, POST /backup/cancel) and `vigilctl probe URI`
 * (POST /probe).  Options, the request and the printing are shared with
 * `status` (vigilctl_status.h); the bodies follow docs/coap.md.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cbor.h"
#include "vigilctl.h"
#include "vigilctl_status.h"

/* The cancel body: map(2) + "job" + a uint64 (9) or "all" + "reason" +
 * a text head (2) + VCTL_REASON_MAX: 1 + 4 + 9 + 7 + 2 + 128 = 151. */
#define BODY_MAX (VCTL_REASON_MAX + 32)

static uint8_t req_body[BODY_MAX];

/* {"job": id or "all", "reason": text} (docs/coap.md).
 * @retval length / -EINVAL a bad ID */
static int cancel_body(const struct vctl_opts *o, uint8_t *out, size_t cap)
{
	struct cbor_enc e;
	unsigned long id;

	cbor_enc_init(&e, out, cap);
	cbor_enc_map(&e, o->reason ? 2 : 1);
	cbor_enc_cstr(&e, "job");
	if (!strcmp(o->pos[1], "all"))
		cbor_enc_cstr(&e, "all");
	else if (vctl_parse_uint(o->pos[1], ULONG_MAX, &id) == 0)
		cbor_enc_uint(&e, id);
	else
		return -EINVAL;
	if (o->reason) {
		cbor_enc_cstr(&e, "reason");
		cbor_enc_cstr(&e, o->reason);
	}
	return cbor_enc_finish(&e);
}

/* now | cancel ID|all: the resource and the body. */
static const char *backup_pos(struct vctl_opts *o)
{
	if (o->npos == 1 && !strcmp(o->pos[0], "now")) {
		o->path = "/backup";
		return o->reason ? "--reason goes with cancel" : NULL;
	}
	if (o->npos != 2 || strcmp(o->pos[0], "cancel"))
		return "expected 'now', 'cancel ID' or 'cancel all'";
	o->path = "/backup/cancel";
	o->body_len = cancel_body(o, req_body, sizeof req_body);
	return o->body_len < 0 ?
	       "cancel takes a job ID (a number) or 'all'" : NULL;
}

/* see vigilctl.h */
int vigilctl_backup(int argc, char **argv)
{
	struct vctl_opts o;
	struct vcoap_uri u;
	struct vcoap_req q = { .code = COAP_POST, .cf = COAP_CF_CBOR };
	int r;

	vctl_opts_init(&o, "backup");
	o.check_pos = backup_pos;
	r = vctl_setup(&o, &u, argc, argv);
	if (r >= 0)
		return r;
	q.path = o.path;
	q.payload = o.body_len > 0 ? req_body : NULL;
	q.payload_len = o.body_len > 0 ? (size_t)o.body_len : 0;
	q.has_cf = o.body_len > 0;
	return vctl_request(&o, &q);
}

/* see vigilctl.h */
int vigilctl_probe(int argc, char **argv)
{
	struct vctl_opts o;
	struct vcoap_uri u;
	struct vcoap_req q = { .code = COAP_POST, .path = "/probe" };
	int r;

	vctl_opts_init(&o, "probe");
	r = vctl_setup(&o, &u, argc, argv);
	if (r >= 0)
		return r;
	return vctl_request(&o, &q);
}

/*
 * coap_probe.c — POST /probe of vigild's CoAP server (coap_server.h,
 * struct coap_srv_probe; docs/coap.md): one connection attempt to the
 * backup server (probe.h) driven by the loop — the socket waits for
 * writability, a timer ends it after PROBE_TIMEOUT_MS — and the request
 * answered when it ends.
 */
#include "coap_server_int.h"

#include <errno.h>
#include <string.h>

#include "backup_status.h"
#include "cbor.h"
#include "hal/clock.h"

static void set_error(struct coap_rep *rep, uint8_t code, const char *diag)
{
	memset(rep, 0, sizeof *rep);
	rep->code = code;
	rep->body = (const uint8_t *)diag;
	rep->len = strlen(diag);
}

/* The verdict as {"reachable": bool, "latency_ms": n, "error": text}
 * ("" when reachable) in s->scratch, code 2.04. */
static void probe_rep(struct coap_srv *s, const struct probe_result *r,
		      struct coap_rep *rep)
{
	const char *err = r->reachable ? "" : strerror(-r->err);
	struct cbor_enc e;

	memset(rep, 0, sizeof *rep);
	cbor_enc_init(&e, s->scratch, sizeof s->scratch);
	cbor_enc_map(&e, 3);
	cbor_enc_cstr(&e, "reachable");
	cbor_enc_bool(&e, r->reachable != 0);
	cbor_enc_cstr(&e, "latency_ms");
	cbor_enc_uint(&e, r->latency_ms);
	cbor_enc_cstr(&e, "error");
	cbor_enc_cstr(&e, err); /* strerror: < 100 bytes, scratch 256 */
	rep->code = COAP_CODE_CHANGED;
	rep->has_cf = true;
	rep->cf = COAP_CF_CBOR;
	rep->body = s->scratch;
	rep->len = cbor_enc_finish(&e) > 0 ? (size_t)cbor_enc_len(&e) : 0;
}

/* Steps the attempt; when it is over, unregisters and answers. */
static void probe_advance(struct coap_srv *s)
{
	struct coap_srv_probe *pr = &s->probe;
	struct coap_rep rep;
	uint64_t now = hal_clock_mono_ms();

	if (!pr->running || probe_step(&pr->p, now) == 0)
		return;
	pr->running = false;
	(void)ev_del(s->loop, pr->fd); /* registered while running */
	if (pr->timer > 0)
		(void)ev_timer_cancel(s->loop, pr->timer); /* may be the
							    * caller */
	pr->timer = 0;
	probe_rep(s, &pr->p.res, &rep);
	coap_srv_answer_probe(s, &rep, now);
}

static void probe_on_fd(struct ev_loop *loop, int fd, unsigned events,
			void *arg)
{
	(void)loop; (void)fd; (void)events; /* arg is the server */
	probe_advance(arg);
}

static int64_t probe_on_timer(struct ev_loop *loop, void *arg)
{
	struct coap_srv *s = arg;

	(void)loop; /* s has it */
	probe_advance(s);
	if (!s->probe.running)
		return EV_STOP;
	return (int64_t)probe_wait_ms(&s->probe.p, hal_clock_mono_ms()) + 1;
}

/* Registers a started attempt.  @retval 0  @retval <0 no room (the
 * attempt is abandoned) */
static int probe_go(struct coap_srv *s)
{
	struct coap_srv_probe *pr = &s->probe;
	int ret = ev_add(s->loop, pr->p.fd, EV_WRITE, probe_on_fd, s);

	if (ret == 0) {
		ret = ev_timer_add(s->loop, (int64_t)probe_wait_ms(&pr->p,
				   hal_clock_mono_ms()) + 1, probe_on_timer, s);
		if (ret > 0) {
			pr->fd = pr->p.fd;
			pr->timer = ret;
			pr->running = true;
			return 0;
		}
		(void)ev_del(s->loop, pr->p.fd); /* just added */
	}
	probe_cancel(&pr->p);
	return ret;
}

/* see coap_server_int.h */
void coap_res_probe_post(struct coap_srv *s, struct coap_rep *rep)
{
	const struct backup_status *ba = s->src ? s->src->backup : NULL;
	int ret;

	if (!ba || !ba->configured) {
		set_error(rep, COAP_CODE_NOT_IMPLEMENTED,
			  ba && ba->cfg_error[0] ? ba->cfg_error
			  : "no backup.server configured");
		return;
	}
	if (s->probe.running || s->probe.waiting) {
		set_error(rep, COAP_CODE_SERVICE_UNAVAILABLE,
			  "a probe is under way");
		return;
	}
	s->probe.p.fd = -1; /* no attempt (s may have been zeroed) */
	ret = probe_start(&s->probe.p, &ba->addr,
			  hal_clock_mono_ms());
	if (ret == 0)
		ret = probe_go(s);
	if (ret == 1) {
		probe_rep(s, &s->probe.p.res, rep);
	} else if (ret < 0) {
		set_error(rep, COAP_CODE_SERVICE_UNAVAILABLE,
			  "probe: cannot start");
	} else {
		memset(rep, 0, sizeof *rep);
		rep->deferred = true;
	}
}

/* see coap_server_int.h */
void coap_res_probe_stop(struct coap_srv *s)
{
	struct coap_srv_probe *pr = &s->probe;

	if (pr->running) {
		(void)ev_del(s->loop, pr->fd); /* registered while running */
		if (pr->timer > 0)
			(void)ev_timer_cancel(s->loop, pr->timer); /* ours */
		probe_cancel(&pr->p);
	}
	pr->running = false;
	pr->waiting = false;
	pr->timer = 0;
}

/*
 * cbor_bench.c — vigil's CBOR encoder and decoder against libcbor 0.8,
 * measured in the same run (make bench), on a representative status
 * document (~60 fields: device map, health map of 8 checks each
 * {state, last_change, count, error}, watchdog, backup jobs array, system
 * floats).
 *
 *   encode  vigil:   cbor_enc_* into a caller buffer (preferred ints and
 *                    floats: each float goes through the half/single test);
 *           libcbor: (a) tree: cbor_new_definite_map/cbor_map_add/
 *                    cbor_build_* then cbor_serialize and cbor_decref, the
 *                    usual way to use it; (b) streaming: cbor_encode_uint/
 *                    cbor_encode_map_start/... into a buffer, the fairest
 *                    comparison (no allocation, same shape of code).
 *                    libcbor has no preferred-float choice: floats are
 *                    written as doubles (cbor_encode_double/build_float8).
 *   decode  all read vigil's encoding and fold every value into a summary
 *           (counts, integer sums, string lengths and first bytes, float
 *           sum): vigil's pull decoder (cbor_dec_next, well-formedness
 *           and nesting checked); libcbor (a) cbor_load + cbor_decref,
 *           (b) cbor_load + tree walk + cbor_decref, (c) cbor_stream_decode
 *           with callbacks, item by item.
 * Each figure is ns per document: a measurement repeats the operation
 * until it has lasted >= 0.5 s; best of 5, vigil's and the reference's
 * measurements alternating (a burst of load hits both).  ratio = reference / vigil
 * (> 1: vigil is faster).  Exits 1 if the encodings do not decode to the
 * same summary, or the decoders disagree.
 *
 * vigil's `enum cbor_type` and libcbor's have the same tag, so libcbor's
 * headers are read with that name renamed (tags do not reach the linker),
 * and its sub-headers are included one by one because <cbor.h> is vigil's
 * on this include path (cbor_load is declared here for that reason).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define cbor_type libcbor_cbor_type
#include <cbor/arrays.h>
#include <cbor/bytestrings.h>
#include <cbor/callbacks.h>
#include <cbor/common.h>
#include <cbor/data.h>
#include <cbor/encoding.h>
#include <cbor/floats_ctrls.h>
#include <cbor/ints.h>
#include <cbor/maps.h>
#include <cbor/serialization.h>
#include <cbor/streaming.h>
#include <cbor/strings.h>
#undef cbor_type

#include "cbor.h"

cbor_item_t *cbor_load(cbor_data source, size_t source_size,
		       struct cbor_load_result *result);

#define BENCH_RUNS   5
#define BENCH_MIN_NS 500000000ull
#define DOC_MAX      2048
#define N_CHECKS     8
#define N_JOBS       3

/* ------------------------------------------------------- the document */

struct check {
	const char *name, *state, *error; /* error NULL: null */
	uint64_t last_change;
	uint32_t count;
};

struct job {
	uint32_t id;
	const char *state;
	uint64_t bytes;
	double progress;
};

struct status {
	const char *id, *board, *version;
	uint64_t uptime, boot;
	int64_t rssi;
	struct check checks[N_CHECKS];
	bool armed;
	uint32_t timeout, margin_ms;
	uint64_t kicks;
	const char *last_reset;
	struct job jobs[N_JOBS];
	uint32_t retries;
	uint64_t last_ok;
	double load[3], temp_c, cpu_pct;
	uint64_t mem_free, mem_total, disk_free;
};

static const struct status doc = {
	"vg-0042", "rpi4", "0.1.0", 86400, 1732350000, -61,
	{
		{ "watchdog", "ok", NULL, 1732350012, 0 },
		{ "backup_link", "ok", NULL, 1732351200, 2 },
		{ "storage", "ok", NULL, 1732350040, 0 },
		{ "clock", "ok", NULL, 1732350001, 0 },
		{ "coap", "ok", NULL, 1732350003, 1 },
		{ "console", "ok", NULL, 1732350002, 0 },
		{ "thermal", "degraded", "temperature above 70 C", 1732399000,
		  3 },
		{ "memory", "failing", "free below 5 %", 1732401234, 17 },
	},
	true, 30, 250, 123456, "power-on",
	{
		{ 41, "done", 1048576, 1.0 },
		{ 42, "running", 65536000, 0.25 },
		{ 43, "queued", 0, 0.0 },
	},
	0, 1732400000,
	{ 0.5, 0.75, 1.25 }, 47.3, 12.5,
	123456789, 536870912, 7516192768u,
};

/* ------------------------------------------------------- vigil encode */

static void v_kv_text(struct cbor_enc *e, const char *k, const char *v)
{
	cbor_enc_cstr(e, k);
	if (v)
		cbor_enc_cstr(e, v);
	else
		cbor_enc_null(e);
}

static void v_kv_uint(struct cbor_enc *e, const char *k, uint64_t v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_uint(e, v);
}

static void v_kv_float(struct cbor_enc *e, const char *k, double v)
{
	cbor_enc_cstr(e, k);
	cbor_enc_float(e, v);
}

static int vigil_encode(const struct status *s, uint8_t *buf, size_t cap)
{
	struct cbor_enc e;

	cbor_enc_init(&e, buf, cap);
	cbor_enc_map(&e, 5);
	cbor_enc_cstr(&e, "device");
	cbor_enc_map(&e, 6);
	v_kv_text(&e, "id", s->id);
	v_kv_text(&e, "board", s->board);
	v_kv_text(&e, "version", s->version);
	v_kv_uint(&e, "uptime", s->uptime);
	v_kv_uint(&e, "boot", s->boot);
	cbor_enc_cstr(&e, "rssi");
	cbor_enc_int(&e, s->rssi);
	cbor_enc_cstr(&e, "health");
	cbor_enc_map(&e, N_CHECKS);
	for (int i = 0; i < N_CHECKS; i++) {
		const struct check *c = &s->checks[i];

		cbor_enc_cstr(&e, c->name);
		cbor_enc_map(&e, 4);
		v_kv_text(&e, "state", c->state);
		v_kv_uint(&e, "last_change", c->last_change);
		v_kv_uint(&e, "count", c->count);
		v_kv_text(&e, "error", c->error);
	}
	cbor_enc_cstr(&e, "watchdog");
	cbor_enc_map(&e, 5);
	cbor_enc_cstr(&e, "armed");
	cbor_enc_bool(&e, s->armed);
	v_kv_uint(&e, "timeout", s->timeout);
	v_kv_uint(&e, "margin_ms", s->margin_ms);
	v_kv_uint(&e, "kicks", s->kicks);
	v_kv_text(&e, "last_reset", s->last_reset);
	cbor_enc_cstr(&e, "backup");
	cbor_enc_map(&e, 3);
	cbor_enc_cstr(&e, "jobs");
	cbor_enc_array(&e, N_JOBS);
	for (int i = 0; i < N_JOBS; i++) {
		cbor_enc_map(&e, 4);
		v_kv_uint(&e, "id", s->jobs[i].id);
		v_kv_text(&e, "state", s->jobs[i].state);
		v_kv_uint(&e, "bytes", s->jobs[i].bytes);
		v_kv_float(&e, "progress", s->jobs[i].progress);
	}
	v_kv_uint(&e, "retries", s->retries);
	v_kv_uint(&e, "last_ok", s->last_ok);
	cbor_enc_cstr(&e, "system");
	cbor_enc_map(&e, 6);
	cbor_enc_cstr(&e, "load");
	cbor_enc_array(&e, 3);
	for (int i = 0; i < 3; i++)
		cbor_enc_float(&e, s->load[i]);
	v_kv_float(&e, "temp_c", s->temp_c);
	v_kv_float(&e, "cpu_pct", s->cpu_pct);
	v_kv_uint(&e, "mem_free", s->mem_free);
	v_kv_uint(&e, "mem_total", s->mem_total);
	v_kv_uint(&e, "disk_free", s->disk_free);
	return cbor_enc_finish(&e);
}

/* ------------------------------------------- libcbor streaming encode */

struct lw {
	unsigned char *buf;
	size_t cap, len;
	int err;
};

/* Takes the size a cbor_encode_* call returned (0: no room). */
static void lw_took(struct lw *w, size_t n)
{
	if (n == 0)
		w->err = 1;
	w->len += n;
}

#define LW(w, call, ...) lw_took(w, call(__VA_ARGS__, (w)->buf + (w)->len, \
					   (w)->cap - (w)->len))

static void l_cstr(struct lw *w, const char *s)
{
	size_t n = strlen(s);

	LW(w, cbor_encode_string_start, n);
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void l_kv_text(struct lw *w, const char *k, const char *v)
{
	l_cstr(w, k);
	if (v)
		l_cstr(w, v);
	else
		lw_took(w, cbor_encode_null(w->buf + w->len, w->cap - w->len));
}

static void l_kv_uint(struct lw *w, const char *k, uint64_t v)
{
	l_cstr(w, k);
	LW(w, cbor_encode_uint, v);
}

static void l_kv_float(struct lw *w, const char *k, double v)
{
	l_cstr(w, k);
	LW(w, cbor_encode_double, v);
}

static int libcbor_stream_encode(const struct status *s, uint8_t *buf,
				 size_t cap)
{
	struct lw w = { buf, cap, 0, 0 };

	LW(&w, cbor_encode_map_start, 5);
	l_cstr(&w, "device");
	LW(&w, cbor_encode_map_start, 6);
	l_kv_text(&w, "id", s->id);
	l_kv_text(&w, "board", s->board);
	l_kv_text(&w, "version", s->version);
	l_kv_uint(&w, "uptime", s->uptime);
	l_kv_uint(&w, "boot", s->boot);
	l_cstr(&w, "rssi");
	LW(&w, cbor_encode_negint, (uint64_t)(-1 - s->rssi));
	l_cstr(&w, "health");
	LW(&w, cbor_encode_map_start, N_CHECKS);
	for (int i = 0; i < N_CHECKS; i++) {
		const struct check *c = &s->checks[i];

		l_cstr(&w, c->name);
		LW(&w, cbor_encode_map_start, 4);
		l_kv_text(&w, "state", c->state);
		l_kv_uint(&w, "last_change", c->last_change);
		l_kv_uint(&w, "count", c->count);
		l_kv_text(&w, "error", c->error);
	}
	l_cstr(&w, "watchdog");
	LW(&w, cbor_encode_map_start, 5);
	l_cstr(&w, "armed");
	LW(&w, cbor_encode_bool, s->armed);
	l_kv_uint(&w, "timeout", s->timeout);
	l_kv_uint(&w, "margin_ms", s->margin_ms);
	l_kv_uint(&w, "kicks", s->kicks);
	l_kv_text(&w, "last_reset", s->last_reset);
	l_cstr(&w, "backup");
	LW(&w, cbor_encode_map_start, 3);
	l_cstr(&w, "jobs");
	LW(&w, cbor_encode_array_start, N_JOBS);
	for (int i = 0; i < N_JOBS; i++) {
		LW(&w, cbor_encode_map_start, 4);
		l_kv_uint(&w, "id", s->jobs[i].id);
		l_kv_text(&w, "state", s->jobs[i].state);
		l_kv_uint(&w, "bytes", s->jobs[i].bytes);
		l_kv_float(&w, "progress", s->jobs[i].progress);
	}
	l_kv_uint(&w, "retries", s->retries);
	l_kv_uint(&w, "last_ok", s->last_ok);
	l_cstr(&w, "system");
	LW(&w, cbor_encode_map_start, 6);
	l_cstr(&w, "load");
	LW(&w, cbor_encode_array_start, 3);
	for (int i = 0; i < 3; i++)
		LW(&w, cbor_encode_double, s->load[i]);
	l_kv_float(&w, "temp_c", s->temp_c);
	l_kv_float(&w, "cpu_pct", s->cpu_pct);
	l_kv_uint(&w, "mem_free", s->mem_free);
	l_kv_uint(&w, "mem_total", s->mem_total);
	l_kv_uint(&w, "disk_free", s->disk_free);
	return w.err ? -1 : (int)w.len;
}

/* ------------------------------------------------ libcbor tree encode */

static cbor_item_t *t_uint(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

static void t_add(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string(k)),
					    .value = cbor_move(v) });
}

static cbor_item_t *t_text(const char *v)
{
	return v ? cbor_build_string(v) : cbor_new_null();
}

static cbor_item_t *t_check(const struct check *c)
{
	cbor_item_t *m = cbor_new_definite_map(4);

	t_add(m, "state", t_text(c->state));
	t_add(m, "last_change", t_uint(c->last_change));
	t_add(m, "count", t_uint(c->count));
	t_add(m, "error", t_text(c->error));
	return m;
}

static cbor_item_t *t_backup(const struct status *s)
{
	cbor_item_t *m = cbor_new_definite_map(3);
	cbor_item_t *a = cbor_new_definite_array(N_JOBS);

	for (int i = 0; i < N_JOBS; i++) {
		cbor_item_t *j = cbor_new_definite_map(4);

		t_add(j, "id", t_uint(s->jobs[i].id));
		t_add(j, "state", t_text(s->jobs[i].state));
		t_add(j, "bytes", t_uint(s->jobs[i].bytes));
		t_add(j, "progress", cbor_build_float8(s->jobs[i].progress));
		cbor_array_push(a, cbor_move(j));
	}
	t_add(m, "jobs", a);
	t_add(m, "retries", t_uint(s->retries));
	t_add(m, "last_ok", t_uint(s->last_ok));
	return m;
}

static cbor_item_t *t_system(const struct status *s)
{
	cbor_item_t *m = cbor_new_definite_map(6);
	cbor_item_t *a = cbor_new_definite_array(3);

	for (int i = 0; i < 3; i++)
		cbor_array_push(a, cbor_move(cbor_build_float8(s->load[i])));
	t_add(m, "load", a);
	t_add(m, "temp_c", cbor_build_float8(s->temp_c));
	t_add(m, "cpu_pct", cbor_build_float8(s->cpu_pct));
	t_add(m, "mem_free", t_uint(s->mem_free));
	t_add(m, "mem_total", t_uint(s->mem_total));
	t_add(m, "disk_free", t_uint(s->disk_free));
	return m;
}

static int libcbor_tree_encode(const struct status *s, uint8_t *buf,
			       size_t cap)
{
	cbor_item_t *root = cbor_new_definite_map(5);
	cbor_item_t *dev = cbor_new_definite_map(6), *h, *w;
	size_t n;

	t_add(dev, "id", t_text(s->id));
	t_add(dev, "board", t_text(s->board));
	t_add(dev, "version", t_text(s->version));
	t_add(dev, "uptime", t_uint(s->uptime));
	t_add(dev, "boot", t_uint(s->boot));
	t_add(dev, "rssi", cbor_build_negint8((uint8_t)(-1 - s->rssi)));
	t_add(root, "device", dev);
	h = cbor_new_definite_map(N_CHECKS);
	for (int i = 0; i < N_CHECKS; i++)
		t_add(h, s->checks[i].name, t_check(&s->checks[i]));
	t_add(root, "health", h);
	w = cbor_new_definite_map(5);
	t_add(w, "armed", cbor_build_bool(s->armed));
	t_add(w, "timeout", t_uint(s->timeout));
	t_add(w, "margin_ms", t_uint(s->margin_ms));
	t_add(w, "kicks", t_uint(s->kicks));
	t_add(w, "last_reset", t_text(s->last_reset));
	t_add(root, "watchdog", w);
	t_add(root, "backup", t_backup(s));
	t_add(root, "system", t_system(s));
	n = cbor_serialize(root, buf, cap);
	cbor_decref(&root);
	return n ? (int)n : -1;
}

/* ------------------------------------------------------------ decoders */

/* What every decoder folds the document into. */
struct sum {
	uint64_t items, uints, negs, strs, str_len, str_first;
	uint64_t arrays, maps, trues, falses, nulls, other;
	double fsum;
};

static void add_str(struct sum *s, const uint8_t *p, size_t n)
{
	s->strs++;
	s->str_len += n;
	if (n)
		s->str_first += p[0];
}

static int vigil_decode(const uint8_t *p, size_t n, struct sum *s)
{
	struct cbor_dec d;
	struct cbor_item it;
	int r;

	cbor_dec_init(&d, p, n, 0);
	while ((r = cbor_dec_next(&d, &it)) == 1) {
		switch (it.type) {
		case CBOR_UINT: s->uints += it.val; break;
		case CBOR_NEGINT: s->negs += it.val; break;
		case CBOR_BYTES:
		case CBOR_TEXT: add_str(s, it.ptr, it.len); break;
		case CBOR_ARRAY: s->arrays++; break;
		case CBOR_MAP: s->maps++; break;
		case CBOR_FLOAT: s->fsum += it.f; break;
		case CBOR_SIMPLE:
			if (it.val == CBOR_SIMPLE_TRUE)
				s->trues++;
			else if (it.val == CBOR_SIMPLE_FALSE)
				s->falses++;
			else if (it.val == CBOR_SIMPLE_NULL)
				s->nulls++;
			else
				s->other++;
			break;
		case CBOR_END: continue;
		default: s->other++; break;
		}
		s->items++;
	}
	return r;
}

static void cb_u8(void *c, uint8_t v) { ((struct sum *)c)->uints += v; ((struct sum *)c)->items++; }
static void cb_u16(void *c, uint16_t v) { ((struct sum *)c)->uints += v; ((struct sum *)c)->items++; }
static void cb_u32(void *c, uint32_t v) { ((struct sum *)c)->uints += v; ((struct sum *)c)->items++; }
static void cb_u64(void *c, uint64_t v) { ((struct sum *)c)->uints += v; ((struct sum *)c)->items++; }
static void cb_n8(void *c, uint8_t v) { ((struct sum *)c)->negs += v; ((struct sum *)c)->items++; }
static void cb_n16(void *c, uint16_t v) { ((struct sum *)c)->negs += v; ((struct sum *)c)->items++; }
static void cb_n32(void *c, uint32_t v) { ((struct sum *)c)->negs += v; ((struct sum *)c)->items++; }
static void cb_n64(void *c, uint64_t v) { ((struct sum *)c)->negs += v; ((struct sum *)c)->items++; }
static void cb_str(void *c, cbor_data p, size_t n) { add_str(c, p, n); ((struct sum *)c)->items++; }
static void cb_arr(void *c, size_t n) { (void)n; /* counts come from the items */ ((struct sum *)c)->arrays++; ((struct sum *)c)->items++; }
static void cb_map(void *c, size_t n) { (void)n; /* as for arrays */ ((struct sum *)c)->maps++; ((struct sum *)c)->items++; }
static void cb_f4(void *c, float f) { ((struct sum *)c)->fsum += (double)f; ((struct sum *)c)->items++; }
static void cb_f8(void *c, double f) { ((struct sum *)c)->fsum += f; ((struct sum *)c)->items++; }
static void cb_null(void *c) { ((struct sum *)c)->nulls++; ((struct sum *)c)->items++; }
static void cb_other(void *c) { ((struct sum *)c)->other++; ((struct sum *)c)->items++; }
static void cb_tag(void *c, uint64_t v) { (void)v; /* no tags in the document */ cb_other(c); }
static void cb_bool(void *c, bool b)
{
	if (b)
		((struct sum *)c)->trues++;
	else
		((struct sum *)c)->falses++;
	((struct sum *)c)->items++;
}

static const struct cbor_callbacks sum_callbacks = {
	.uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
	.negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32,
	.negint64 = cb_n64,
	.byte_string_start = cb_other, .byte_string = cb_str,
	.string = cb_str, .string_start = cb_other,
	.indef_array_start = cb_other, .array_start = cb_arr,
	.indef_map_start = cb_other, .map_start = cb_map,
	.tag = cb_tag, .float2 = cb_f4, .float4 = cb_f4, .float8 = cb_f8,
	.undefined = cb_other, .null = cb_null, .boolean = cb_bool,
	.indef_break = cb_other,
};

static int libcbor_stream_decode(const uint8_t *p, size_t n, struct sum *s)
{
	size_t off = 0;

	while (off < n) {
		struct cbor_decoder_result r = cbor_stream_decode(
			p + off, n - off, &sum_callbacks, s);

		if (r.status != CBOR_DECODER_FINISHED)
			return -1;
		off += r.read;
	}
	return 0;
}

/* Recursion depth = the document's nesting (4). */
static void walk_tree(cbor_item_t *it, struct sum *s)
{
	s->items++;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT: s->uints += cbor_get_int(it); break;
	case CBOR_TYPE_NEGINT: s->negs += cbor_get_int(it); break;
	case CBOR_TYPE_STRING:
		add_str(s, cbor_string_handle(it), cbor_string_length(it));
		break;
	case CBOR_TYPE_BYTESTRING:
		add_str(s, cbor_bytestring_handle(it),
			cbor_bytestring_length(it));
		break;
	case CBOR_TYPE_ARRAY:
		s->arrays++;
		for (size_t i = 0; i < cbor_array_size(it); i++)
			walk_tree(cbor_array_handle(it)[i], s);
		break;
	case CBOR_TYPE_MAP:
		s->maps++;
		for (size_t i = 0; i < cbor_map_size(it); i++) {
			walk_tree(cbor_map_handle(it)[i].key, s);
			walk_tree(cbor_map_handle(it)[i].value, s);
		}
		break;
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_get_width(it) != CBOR_FLOAT_0)
			s->fsum += cbor_float_get_float(it);
		else if (cbor_is_null(it))
			s->nulls++;
		else if (cbor_is_bool(it) && cbor_get_bool(it))
			s->trues++;
		else if (cbor_is_bool(it))
			s->falses++;
		else
			s->other++;
		break;
	default: s->other++; break;
	}
}

static int libcbor_load(const uint8_t *p, size_t n, struct sum *s, int walk)
{
	struct cbor_load_result res;
	cbor_item_t *root = cbor_load(p, n, &res);

	if (!root || res.error.code != CBOR_ERR_NONE)
		return -1;
	if (walk)
		walk_tree(root, s);
	cbor_decref(&root);
	return 0;
}

/* ------------------------------------------------------------ harness */

static uint8_t vdoc[DOC_MAX], ldoc[DOC_MAX], tdoc[DOC_MAX], scratch[DOC_MAX];
static size_t vdoc_len;
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ns per call of fn over one measurement: fn repeats (in batches of 64,
 * so the clock is not read per call) until BENCH_MIN_NS have passed. */
static double run_ns(int (*fn)(void))
{
	uint64_t t0 = now_ns(), t, n = 0;

	do {
		for (int i = 0; i < 64; i++) {
			if (fn() < 0) {
				fprintf(stderr, "cbor_bench: run failed\n");
				exit(1);
			}
		}
		n += 64;
		t = now_ns() - t0;
	} while (t < BENCH_MIN_NS);
	return (double)t / (double)n;
}

static int run_v_enc(void)
{
	int n = vigil_encode(&doc, scratch, sizeof scratch);

	sink += scratch[n - 1];
	return n;
}

static int run_l_stream_enc(void)
{
	int n = libcbor_stream_encode(&doc, scratch, sizeof scratch);

	sink += scratch[n - 1];
	return n;
}

static int run_l_tree_enc(void)
{
	int n = libcbor_tree_encode(&doc, scratch, sizeof scratch);

	sink += scratch[n - 1];
	return n;
}

static int run_dec(int (*dec)(const uint8_t *, size_t, struct sum *))
{
	struct sum s = { 0 };
	int r = dec(vdoc, vdoc_len, &s);

	sink += s.items + s.uints + s.str_first + (uint64_t)s.fsum;
	return r;
}

static int run_v_dec(void) { return run_dec(vigil_decode); }
static int run_l_stream_dec(void) { return run_dec(libcbor_stream_decode); }

static int l_load_only(const uint8_t *p, size_t n, struct sum *s)
{
	return libcbor_load(p, n, s, 0);
}

static int l_load_walk(const uint8_t *p, size_t n, struct sum *s)
{
	return libcbor_load(p, n, s, 1);
}

static int run_l_load(void) { return run_dec(l_load_only); }
static int run_l_load_walk(void) { return run_dec(l_load_walk); }

static int same_sum(const struct sum *a, const struct sum *b)
{
	return a->items == b->items && a->uints == b->uints &&
	       a->negs == b->negs && a->strs == b->strs &&
	       a->str_len == b->str_len && a->str_first == b->str_first &&
	       a->arrays == b->arrays && a->maps == b->maps &&
	       a->trues == b->trues && a->falses == b->falses &&
	       a->nulls == b->nulls && a->other == b->other &&
	       a->fsum == b->fsum;
}

/* All three encodings decode (vigil) to one summary; all decoders agree
 * on vigil's encoding. */
static int cross_check(size_t ln, size_t tn)
{
	struct sum v = { 0 }, l = { 0 }, t = { 0 }, st = { 0 }, tr = { 0 };

	if (vigil_decode(vdoc, vdoc_len, &v) != 0 ||
	    vigil_decode(ldoc, ln, &l) != 0 ||
	    vigil_decode(tdoc, tn, &t) != 0 ||
	    libcbor_stream_decode(vdoc, vdoc_len, &st) != 0 ||
	    libcbor_load(vdoc, vdoc_len, &tr, 1) != 0)
		return -1;
	if (!same_sum(&v, &l) || !same_sum(&v, &t) || !same_sum(&v, &st) ||
	    !same_sum(&v, &tr))
		return -1;
	printf("document: %llu items (%llu maps, %llu strings, floats "
	       "summed to %.4f)\n", (unsigned long long)v.items,
	       (unsigned long long)v.maps, (unsigned long long)v.strs, v.fsum);
	return 0;
}

/* Best of BENCH_RUNS for vigil and the reference, measured alternately
 * so that load from other processes falls on both alike. */
static void versus(const char *what, int (*mine)(void), const char *ref,
		   int (*theirs)(void))
{
	double v = 0, r = 0;

	for (int i = 0; i < BENCH_RUNS; i++) {
		double a = run_ns(mine), b = run_ns(theirs);

		if (i == 0 || a < v)
			v = a;
		if (i == 0 || b < r)
			r = b;
	}
	printf("bench cbor %s: %.0f ns/doc (reference %s %.0f ns/doc, "
	       "ratio %.2f)\n", what, v, ref, r, r / v);
}

int main(void)
{
	int ln, tn, vn = vigil_encode(&doc, vdoc, sizeof vdoc);

	ln = libcbor_stream_encode(&doc, ldoc, sizeof ldoc);
	tn = libcbor_tree_encode(&doc, tdoc, sizeof tdoc);
	if (vn < 0 || ln < 0 || tn < 0) {
		fprintf(stderr, "cbor_bench: an encoder failed\n");
		return 1;
	}
	vdoc_len = (size_t)vn;
	if (cross_check((size_t)ln, (size_t)tn) != 0) {
		fprintf(stderr, "cbor_bench: encodings or decoders disagree\n");
		return 1;
	}
	printf("sizes: vigil %d bytes (preferred floats), libcbor %d bytes "
	       "streaming, %d bytes tree (floats as doubles)\n", vn, ln, tn);
	versus("encode", run_v_enc, "libcbor cbor_encode_* streaming",
	       run_l_stream_enc);
	versus("encode", run_v_enc,
	       "libcbor build tree + cbor_serialize + decref", run_l_tree_enc);
	versus("decode", run_v_dec, "libcbor cbor_stream_decode callbacks",
	       run_l_stream_dec);
	versus("decode", run_v_dec, "libcbor cbor_load + cbor_decref",
	       run_l_load);
	versus("decode", run_v_dec,
	       "libcbor cbor_load + tree walk + cbor_decref", run_l_load_walk);
	return 0;
}

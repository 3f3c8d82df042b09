/*
 * cbor_roundtrip.c — re-encodes a CBOR sequence from stdin to stdout, for
 * the differential tests (tests/integration/test_cbor_diff.py).
 *
 *   cbor_roundtrip vigil           vigil's decoder + cbor_copy (preferred
 *                                  serialization, indefinite kept)
 *   cbor_roundtrip vigil-definite  the same with CBOR_COPY_DEFINITE
 *   cbor_roundtrip libcbor         libcbor's cbor_load + cbor_serialize
 *
 * Exit status: 0 every item re-encoded; 1 the decoder rejected the input
 * (reason and offset on stderr); 2 usage or I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"

/*
 * libcbor 0.8, declared here rather than included: its <cbor.h> has the
 * same name as ours (and -Iprotocol finds ours first), and both define
 * enum cbor_type.  Layouts as in /usr/include/cbor/data.h (struct
 * cbor_error is { size_t position; cbor_error_code code; }, an enum).
 * libcbor also exports a cbor_copy; ours takes precedence in this binary,
 * which is harmless since libcbor's load/serialize never call it.
 */
struct lc_item;
struct lc_error {
	size_t position;
	int code; /* CBOR_ERR_NONE = 0 */
};
struct lc_load_result {
	struct lc_error error;
	size_t read;
};
struct lc_item *cbor_load(const unsigned char *source, size_t size,
			  struct lc_load_result *result);
size_t cbor_serialize_alloc(const struct lc_item *item, unsigned char **buf,
			    size_t *cap);
void cbor_decref(struct lc_item **item);

/* Bound on the input, as vigilctl's: 16 MiB. */
#define IN_MAX (16u << 20)

static uint8_t *read_stdin(size_t *n)
{
	uint8_t *buf = malloc(IN_MAX + 1);

	if (!buf)
		return NULL;
	*n = fread(buf, 1, IN_MAX + 1, stdin);
	if (ferror(stdin) || *n > IN_MAX) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int with_vigil(const uint8_t *in, size_t n, unsigned flags)
{
	/* Preferred serialization is never longer than the input. */
	uint8_t *out = malloc(n + 1);
	struct cbor_dec d;
	struct cbor_enc e;
	int r;

	if (!out)
		return 2;
	cbor_dec_init(&d, in, n, 0);
	cbor_enc_init(&e, out, n + 1);
	while ((r = cbor_copy(&d, &e, flags)) == 1)
		;
	if (r < 0 && cbor_dec_error(&d)) {
		fprintf(stderr, "vigil: offset %zu: %s\n", cbor_dec_offset(&d),
			cbor_reason_str(cbor_dec_reason(&d)));
		free(out);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "vigil: encoder: %s\n", strerror(-r));
		free(out);
		return 2;
	}
	fwrite(out, 1, cbor_enc_len(&e), stdout);
	free(out);
	return 0;
}

static int with_libcbor(const uint8_t *in, size_t n)
{
	size_t off = 0;

	while (off < n) {
		struct lc_load_result res;
		struct lc_item *item = cbor_load(in + off, n - off, &res);
		unsigned char *buf = NULL;
		size_t cap = 0, len;

		if (!item || res.error.code != 0) {
			fprintf(stderr, "libcbor: offset %zu: error %d\n",
				off + res.error.position, (int)res.error.code);
			if (item)
				cbor_decref(&item);
			return 1;
		}
		len = cbor_serialize_alloc(item, &buf, &cap);
		cbor_decref(&item);
		if (len == 0) {
			fprintf(stderr, "libcbor: serialize failed\n");
			free(buf);
			return 2;
		}
		fwrite(buf, 1, len, stdout);
		free(buf);
		off += res.read;
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t n;
	uint8_t *in;
	int r;

	if (argc != 2 || (strcmp(argv[1], "vigil") && strcmp(argv[1], "libcbor") &&
			  strcmp(argv[1], "vigil-definite"))) {
		fprintf(stderr, "usage: cbor_roundtrip vigil|vigil-definite|"
			"libcbor < in.cbor > out.cbor\n");
		return 2;
	}
	in = read_stdin(&n);
	if (!in) {
		fprintf(stderr, "cbor_roundtrip: cannot read stdin (at most "
			"%u bytes)\n", IN_MAX);
		return 2;
	}
	if (!strcmp(argv[1], "libcbor"))
		r = with_libcbor(in, n);
	else
		r = with_vigil(in, n, strcmp(argv[1], "vigil") ?
			       CBOR_COPY_DEFINITE : 0);
	free(in);
	if (fflush(stdout) != 0)
		return 2;
	return r;
}

/*
 * vigilctl_cbor.c — `vigilctl cbor diag|json [OPTION]... [FILE]`: prints
 * each item of a CBOR sequence (RFC 8742) from FILE or standard input on a
 * line of its own, as diagnostic notation or JSON (protocol/cbor_diag.h).
 *
 * Each item is walked twice: first with a sink that only counts, so an
 * item that turns out malformed (or impossible in JSON) prints nothing at
 * all, then for real.  Items before a bad one are printed; the bad one is
 * reported on stderr with its offset and reason, and the exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cbor.h"
#include "cbor_diag.h"
#include "vigilctl.h"

/* Largest input: 16 MiB, far above any status document (a few KB) or
 * capture a person wants to read; bounds the static buffer. */
#define CBOR_IN_MAX (16u << 20)

static uint8_t in_buf[CBOR_IN_MAX + 1]; /* + 1 to see "too big" */

static const char usage_text[] =
	"Usage: vigilctl cbor diag|json [OPTION]... [FILE]\n"
	"Print every CBOR item of FILE (standard input without FILE, or with "
	"'-')\none per line: 'diag' in CBOR diagnostic notation (RFC 8949 "
	"section 8),\n'json' as JSON (RFC 8949 section 6.1: byte strings as "
	"base64url, tags\ndropped, map keys must be text).  The input may be "
	"a CBOR sequence\n(RFC 8742) of at most 16 MiB.\n"
	"\n"
	"  -a, --ascii  escape non-ASCII characters of text as \\uXXXX\n"
	"  -h, --help   print this help\n"
	"\n"
	"Exit status: 0 done; 1 bad input (offset and reason on stderr), "
	"a value\nJSON cannot hold (NaN, Infinity, undefined, other simple "
	"values, non-text\nmap keys) or an I/O error; 2 usage error.\n";

/* Reads all of fd into in_buf; returns the length, or -1 (reported). */
static long read_all(int fd, const char *name)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, in_buf + n, sizeof in_buf - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "vigilctl: cbor: %s: %s\n", name,
				strerror(errno));
			return -1;
		}
		if (r == 0)
			return (long)n;
		n += (size_t)r;
		if (n > CBOR_IN_MAX) {
			fprintf(stderr, "vigilctl: cbor: %s: input larger "
				"than %u bytes (16 MiB)\n", name, CBOR_IN_MAX);
			return -1;
		}
	}
}

static long load(const char *path)
{
	int fd;
	long n;

	if (!path || !strcmp(path, "-"))
		return read_all(STDIN_FILENO, "standard input");
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "vigilctl: cbor: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	n = read_all(fd, path);
	close(fd);
	return n;
}

static int count_sink(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n; /* the dry run only looks for errors */
	return 0;
}

static int stdout_sink(void *arg, const char *p, size_t n)
{
	(void)arg; /* stdout is the only target */
	return fwrite(p, 1, n, stdout) == n ? 0 : -EIO;
}

static int report(const struct cbor_dec *d, const char *path, int r)
{
	const char *name = path && strcmp(path, "-") ? path : NULL;

	fprintf(stderr, "vigilctl: cbor: %s%soffset %zu: %s\n",
		name ? name : "", name ? ": " : "", cbor_dec_offset(d),
		r == -EBADMSG || r == -EMSGSIZE ?
		cbor_reason_str(cbor_dec_reason(d)) : strerror(-r));
	return VIGILCTL_FAIL;
}

/* Prints every item of in_buf[0..len); returns the exit code. */
static int print_items(size_t len, unsigned flags, const char *path)
{
	struct cbor_dec d;
	int r;

	cbor_dec_init(&d, in_buf, len, 0);
	for (;;) {
		struct cbor_dec dry = d;

		r = cbor_diag_stream(&dry, flags, count_sink, NULL);
		if (r == 0)
			break;
		if (r < 0)
			return report(&dry, path, r);
		r = cbor_diag_stream(&d, flags, stdout_sink, NULL);
		if (r < 0 || putchar('\n') == EOF)
			break;
	}
	if (fflush(stdout) != 0 || ferror(stdout) || r < 0) {
		fprintf(stderr, "vigilctl: cbor: write error: %s\n",
			strerror(errno ? errno : EIO));
		return VIGILCTL_FAIL;
	}
	return VIGILCTL_OK;
}

/* see vigilctl.h */
int vigilctl_cbor(int argc, char **argv)
{
	const char *path = NULL;
	unsigned flags = 0;
	long len;
	int mode_json;

	if (argc > 1 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return VIGILCTL_OK;
	}
	if (argc < 2)
		return vigilctl_usage_error("cbor", "diag or json expected");
	if (strcmp(argv[1], "diag") && strcmp(argv[1], "json"))
		return vigilctl_usage_error("cbor", "unknown mode '%s' "
					    "(diag or json)", argv[1]);
	mode_json = !strcmp(argv[1], "json");
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return VIGILCTL_OK;
		} else if (!strcmp(a, "-a") || !strcmp(a, "--ascii")) {
			flags |= CBOR_DIAG_ASCII;
		} else if (a[0] == '-' && a[1] != '\0') {
			return vigilctl_usage_error("cbor", "unknown option "
						    "'%s'", a);
		} else if (path) {
			return vigilctl_usage_error("cbor", "more than one "
						    "FILE ('%s')", a);
		} else {
			path = a;
		}
	}
	len = load(path);
	if (len < 0)
		return VIGILCTL_FAIL;
	return print_items((size_t)len,
			   flags | (mode_json ? CBOR_DIAG_JSON : 0), path);
}

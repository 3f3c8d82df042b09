/*
 * fmt_test.c — fmt_vformat writes what the C library's vsnprintf writes
 * (glibc in the host build, musl in the arch builds) for every
 * conversion, flag, width, precision and length it does, and refuses
 * the floating and the other conversions without writing anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "test.h"

struct buf {
	char s[256];
	size_t n;
	int calls;
};

static int to_buf(void *ctx, const char *s, size_t n)
{
	struct buf *b = ctx;

	b->calls++;
	if (n > sizeof b->s - 1 - b->n)
		return -ENOSPC;
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
	return 0;
}

static int vformat(struct buf *b, const char *fmt, va_list ap)
{
	memset(b, 0, sizeof *b);
	return fmt_vformat(to_buf, b, fmt, ap);
}

/* Formats with both; records a failure when they differ. */
__attribute__((format(printf, 2, 3)))
static void same(int line, const char *fmt, ...)
{
	struct buf b;
	char want[256];
	va_list ap, ap2;
	int got, n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(want, sizeof want, fmt, ap);
	got = vformat(&b, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (got != n || strcmp(b.s, want) != 0)
		test_fail(__FILE__, line, "\"%s\": \"%s\" (%d), libc \"%s\" (%d)",
			  fmt, b.s, got, want, n);
}

static int format(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vformat(b, fmt, ap);
	va_end(ap);
	return ret;
}

TEST(fmt_integers)
{
	same(__LINE__, "%d %i %u %o %x %X", -42, 42, 42u, 42u, 0xbeefu, 0xbeefu);
	same(__LINE__, "%d %d %u", 0, -2147483647 - 1, 4294967295u);
	same(__LINE__, "%5d|%-5d|%05d|%+d|% d|%+d", 42, 42, -42, 42, 42, -1);
	same(__LINE__, "%.3d|%.0d|%.0u|%8.3d|%-8.3x", 7, 0, 0u, -7, 10u);
	same(__LINE__, "%#x %#X %#o %#o %#x %#.3o", 255u, 255u, 8u, 0u, 0u, 8u);
	same(__LINE__, "%02u:%02u:%02u %04x %03u", 1u, 2u, 33u, 0xabu, 7u);
	same(__LINE__, "%hhd %hhu %hd %hu", 300, 300u, 70000, 70000u);
	same(__LINE__, "%ld %lu %lld %llu", -1L, 123456789UL,
	     -9223372036854775807LL - 1, 18446744073709551615ULL);
	same(__LINE__, "%jd %ju %zu %zx %td", (intmax_t)-5, (uintmax_t)5,
	     (size_t)4096, (size_t)4096, (ptrdiff_t)-3);
	same(__LINE__, "%" PRIu64 " %" PRId64 " %" PRIu32 " %" PRId32,
	     UINT64_MAX, INT64_MIN, UINT32_MAX, INT32_MIN);
	same(__LINE__, "%*d|%-*d|%*d|%.*d|%.*d", 6, 1, 6, 1, -6, 1, 4, 1, -1, 1);
}

/* %p as glibc prints it (musl pads to the pointer's width instead). */
TEST(fmt_pointers)
{
	struct buf b;

	CHECK_EQ_INT(format(&b, "%p %6p %-6p|%p", (void *)0x1f, (void *)0x1f,
			    (void *)0x1f, (void *)0), 24);
	CHECK_EQ_STR(b.s, "0x1f   0x1f 0x1f  |(nil)");
}

TEST(fmt_strings)
{
	same(__LINE__, "%s|%10s|%-10s|%.2s|%6.2s|%-6.2s|", "abc", "abc", "abc",
	     "abc", "abc", "abc");
	same(__LINE__, "%.*s|%.*s|%.0s|", 3, "abcdef", -1, "ab", "x");
	same(__LINE__, "%c%c|%3c|%-3c|", 'a', 0xe9, 'b', 'c');
	same(__LINE__, "100%% %s%%", "sure");
	same(__LINE__, "no conversion at all");
	same(__LINE__, "%s", "");
	same(__LINE__, "%-12s%s", "key", "value");
}

/* A precision bounds the bytes read: no NUL needed behind them. */
TEST(fmt_precision_reads_no_further)
{
	static const char four[4] = { 'a', 'b', 'c', 'd' };

	same(__LINE__, "%.4s|%.2s", four, four);
}

TEST(fmt_refuses_what_it_does_not_do)
{
	static const char *const refused[] = {
		"%f", "x %e", "%g", "%a", "%E", "%G", "%F", "%A", "%Lf", "%n",
		"%ls", "%lc", "%q", "%", "%5", "%lls",
	};
	struct buf b;

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		int ret = format(&b, refused[i], 1.5);

		if (ret != -EINVAL)
			test_fail(__FILE__, __LINE__, "\"%s\": %d", refused[i], ret);
	}
	/* What came before the bad conversion was handed over; nothing after. */
	CHECK_EQ_INT(format(&b, "ab%fcd", 1.0), -EINVAL);
	CHECK_EQ_STR(b.s, "ab");
}

/* The sink's failure ends the call: its code comes back, nothing more
 * is handed to the sink. */
TEST(fmt_sink_failure_is_returned)
{
	char big[300];
	struct buf b;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_EQ_INT(format(&b, "%s%s", big, "tail"), -ENOSPC);
	CHECK_EQ_INT(b.calls, 1);
}

TEST_SUITE(fmt, fmt_integers, fmt_pointers, fmt_strings, fmt_precision_reads_no_further,
	   fmt_refuses_what_it_does_not_do, fmt_sink_failure_is_returned);

/*
 * fmt.c — see fmt.h.
 */
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

enum {
	F_LEFT = 1,     /* '-' */
	F_PLUS = 2,     /* '+' */
	F_SPACE = 4,    /* ' ' */
	F_ALT = 8,      /* '#' */
	F_ZERO = 16,    /* '0' */
};

/* Lengths: the argument's type. */
enum len { L_INT, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_MAX, L_SIZE, L_PTRDIFF };

struct spec {
	unsigned flags;
	int width;      /* 0: none */
	int prec;       /* -1: none */
	enum len len;
	char conv;
};

struct out {
	fmt_sink sink;
	void *ctx;
	size_t total;
	int err;        /* the first failure, sticky */
};

static void put(struct out *o, const char *s, size_t n)
{
	int ret;

	if (o->err || n == 0)
		return;
	ret = o->sink(o->ctx, s, n);
	if (ret < 0)
		o->err = ret;
	o->total += n;
}

/* n copies of c. */
static void fill(struct out *o, char c, int n)
{
	static const char spaces[] = "                ";
	static const char zeros[] = "0000000000000000";
	const char *run = c == '0' ? zeros : spaces;

	while (n > 0) {
		int k = n < 16 ? n : 16;

		put(o, run, (size_t)k);
		n -= k;
	}
}

/* The bytes of one field: pad, prefix (sign, 0x), zeros, body, pad. */
static void field(struct out *o, const struct spec *sp, const char *prefix,
		  int zeros, const char *body, size_t n)
{
	size_t plen = strlen(prefix);
	size_t len = plen + (size_t)zeros + n;
	int pad = sp->width > 0 && (size_t)sp->width > len
		  ? sp->width - (int)len : 0;

	if (!(sp->flags & F_LEFT) && !(sp->flags & F_ZERO))
		fill(o, ' ', pad);
	put(o, prefix, plen);
	if (!(sp->flags & F_LEFT) && (sp->flags & F_ZERO))
		fill(o, '0', pad);
	fill(o, '0', zeros);
	put(o, body, n);
	if (sp->flags & F_LEFT)
		fill(o, ' ', pad);
}

static uintmax_t unsigned_arg(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case L_CHAR: return (unsigned char)va_arg(*ap, unsigned);
	case L_SHORT: return (unsigned short)va_arg(*ap, unsigned);
	case L_LONG: return va_arg(*ap, unsigned long);
	case L_LLONG: return va_arg(*ap, unsigned long long);
	case L_MAX: return va_arg(*ap, uintmax_t);
	case L_SIZE: return va_arg(*ap, size_t);
	case L_PTRDIFF: return (uintmax_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned);
	}
}

static intmax_t signed_arg(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case L_CHAR: return (signed char)va_arg(*ap, int);
	case L_SHORT: return (short)va_arg(*ap, int);
	case L_LONG: return va_arg(*ap, long);
	case L_LLONG: return va_arg(*ap, long long);
	case L_MAX: return va_arg(*ap, intmax_t);
	case L_SIZE: return (intmax_t)va_arg(*ap, size_t);
	case L_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

/* An integer conversion (d i u o x X p). */
static void integer(struct out *o, struct spec *sp, va_list *ap)
{
	char digits[3 * sizeof(uintmax_t)];   /* octal of 64 bits: 22 */
	const char *hex = sp->conv == 'X' ? "0123456789ABCDEF"
					  : "0123456789abcdef";
	unsigned base = sp->conv == 'o' ? 8 : sp->conv == 'u' ? 10 :
			sp->conv == 'd' || sp->conv == 'i' ? 10 : 16;
	const char *prefix = "";
	uintmax_t v;
	size_t n = 0;
	int zeros;

	if (sp->conv == 'd' || sp->conv == 'i') {
		intmax_t s = signed_arg(sp, ap);

		v = s < 0 ? 0 - (uintmax_t)s : (uintmax_t)s;
		prefix = s < 0 ? "-" : sp->flags & F_PLUS ? "+" :
			 sp->flags & F_SPACE ? " " : "";
	} else if (sp->conv == 'p') {
		v = (uintptr_t)va_arg(*ap, void *);
		if (v == 0) {
			sp->flags &= ~(unsigned)F_ZERO;
			field(o, sp, "", 0, "(nil)", 5);
			return;
		}
		prefix = "0x";
	} else {
		v = unsigned_arg(sp, ap);
		if ((sp->flags & F_ALT) && v != 0 && base == 16)
			prefix = sp->conv == 'X' ? "0X" : "0x";
	}
	for (uintmax_t r = v; r != 0; r /= base)
		digits[sizeof digits - ++n] = hex[r % base];
	zeros = sp->prec > (int)n ? sp->prec - (int)n : 0;
	if (sp->prec < 0 && n == 0)
		zeros = 1;              /* 0 prints as "0" ... */
	if (base == 8 && (sp->flags & F_ALT) && zeros == 0 &&
	    (n == 0 || digits[sizeof digits - n] != '0'))
		zeros = 1;              /* ... and %#o always starts with 0 */
	if (sp->prec >= 0)
		sp->flags &= ~(unsigned)F_ZERO;
	field(o, sp, prefix, zeros, digits + sizeof digits - n, n);
}

static void string(struct out *o, const struct spec *sp, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);
	size_t n;

	if (s == NULL)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	field(o, sp, "", 0, s, n);
}

/* A number in the format ('*': the next argument); *p is moved past. */
static int number(const char **p, va_list *ap)
{
	long n = 0;

	if (**p == '*') {
		(*p)++;
		return va_arg(*ap, int);
	}
	while (**p >= '0' && **p <= '9') {
		if (n < INT_MAX / 10)
			n = n * 10 + (**p - '0');
		(*p)++;
	}
	return (int)n;
}

static enum len length(const char **p)
{
	switch (*(*p)++) {
	case 'h':
		return **p == 'h' ? ((*p)++, L_CHAR) : L_SHORT;
	case 'l':
		return **p == 'l' ? ((*p)++, L_LLONG) : L_LONG;
	case 'j': return L_MAX;
	case 'z': return L_SIZE;
	case 't': return L_PTRDIFF;
	default:
		(*p)--;
		return L_INT;
	}
}

/* Reads the spec after a '%' at *p; 0, or -EINVAL when this file does
 * not do it. */
static int parse(const char **p, struct spec *sp, va_list *ap)
{
	const char *flags = "-+ #0";
	const char *f;

	sp->flags = 0;
	while (**p && (f = strchr(flags, **p)) != NULL) {
		sp->flags |= 1u << (f - flags);
		(*p)++;
	}
	sp->width = number(p, ap);
	if (sp->width < 0) {
		sp->flags |= F_LEFT;
		sp->width = sp->width == INT_MIN ? INT_MAX : -sp->width;
	}
	sp->prec = -1;
	if (**p == '.') {
		(*p)++;
		sp->prec = number(p, ap);
		if (sp->prec < 0)
			sp->prec = -1;
	}
	sp->len = length(p);
	sp->conv = **p;
	if (sp->conv == '\0' || strchr("diuoxXcsp%", sp->conv) == NULL ||
	    (sp->len != L_INT && strchr("cs%", sp->conv) != NULL))
		return -EINVAL;
	(*p)++;
	return 0;
}

/* One conversion, already parsed. */
static void convert(struct out *o, struct spec *sp, va_list *ap)
{
	char c;

	switch (sp->conv) {
	case 's':
		string(o, sp, ap);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		sp->flags &= ~(unsigned)F_ZERO;
		field(o, sp, "", 0, &c, 1);
		break;
	case '%':
		put(o, "%", 1);
		break;
	default:
		integer(o, sp, ap);
		break;
	}
}

/* see fmt.h */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { sink, ctx, 0, 0 };
	struct spec sp;
	va_list args;
	int ret = 0;

	va_copy(args, ap);      /* va_list may be an array: pass &args */
	while (*fmt && !o.err) {
		const char *pct = strchr(fmt, '%');
		size_t lit = pct ? (size_t)(pct - fmt) : strlen(fmt);

		put(&o, fmt, lit);
		fmt += lit;
		if (*fmt != '%')
			break;
		fmt++;
		ret = parse(&fmt, &sp, &args);
		if (ret < 0)
			break;
		convert(&o, &sp, &args);
	}
	va_end(args);
	if (ret < 0)
		return ret;
	if (o.err)
		return o.err;
	return o.total > INT_MAX ? -EOVERFLOW : (int)o.total;
}

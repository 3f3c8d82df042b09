/*
 * vigilctl_exporter_sd.c — the exporter's input files: the devices file
 * in Prometheus file_sd form (JSON, parsed by jansson) and the PSK file.
 *
 * file_sd (Prometheus docs, "file_sd_config"):
 *   [ { "targets": [ "10.0.0.7:5683", ... ],
 *       "labels": { "site": "berlin", ... } }, ... ]
 * Everything is checked before anything is used: a file that does not
 * parse changes nothing (the exporter keeps its devices and counts the
 * error), so a half-written file never drops the fleet.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigilctl_exporter.h"

/* see vigilctl_exporter.h */
int exp_label_escape(const char *v, char *out, size_t cap)
{
	size_t n = 0;

	for (; *v; v++) {
		const char *rep = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" :
				  *v == '\n' ? "\\n" : NULL;
		size_t k = rep ? 2 : 1;

		if (n + k >= cap)
			return -ENOSPC;
		memcpy(out + n, rep ? rep : v, k);
		n += k;
	}
	if (n >= cap)
		return -ENOSPC;
	out[n] = '\0';
	return (int)n;
}

static bool label_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -EBADMSG)

/* One "name":"value" appended to out (a="b",c="d"). */
static int add_label(const char *name, json_t *val, char *out, size_t cap,
		     char *err, size_t errlen)
{
	char esc[EXP_LABELS_MAX];
	size_t n = strlen(out);
	int w;

	if (!json_is_string(val))
		return FAIL("label \"%.40s\": value is not a string", name);
	if (!label_name_ok(name) || !strcmp(name, "instance"))
		return FAIL("label \"%.40s\": not a label name the exporter "
			    "can use", name);
	if (exp_label_escape(json_string_value(val), esc, sizeof esc) < 0)
		return FAIL("label \"%.40s\": value too long", name);
	w = snprintf(out + n, cap - n, "%s%s=\"%s\"", n ? "," : "", name, esc);
	if (w < 0 || (size_t)w >= cap - n)
		return FAIL("labels longer than %u bytes", EXP_LABELS_MAX);
	return 0;
}

/* A group's labels rendered into out. */
static int group_labels(json_t *labels, char *out, size_t cap, char *err,
			size_t errlen)
{
	const char *name;
	json_t *val;

	out[0] = '\0';
	if (!labels)
		return 0;
	if (!json_is_object(labels))
		return FAIL("\"labels\" is not an object");
	json_object_foreach(labels, name, val) {
		int r;

		if (!strncmp(name, "__", 2))
			continue; /* reserved by Prometheus: not exported */
		r = add_label(name, val, out, cap, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool listed(const struct exp_target *out, size_t n, const char *t)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(out[i].target, t))
			return true;
	return false;
}

/* One group's targets appended to out[*n..cap). */
static int group(json_t *g, size_t gi, struct exp_target *out, size_t cap,
		 size_t *n, char *err, size_t errlen)
{
	char labels[EXP_LABELS_MAX];
	json_t *targets = json_object_get(g, "targets"), *t;
	size_t i;
	int r;

	if (!json_is_object(g))
		return FAIL("entry %zu is not an object", gi);
	if (!json_is_array(targets))
		return FAIL("entry %zu: \"targets\" missing or not an array",
			    gi);
	r = group_labels(json_object_get(g, "labels"), labels, sizeof labels,
			 err, errlen);
	if (r < 0)
		return r;
	json_array_foreach(targets, i, t) {
		const char *s = json_string_value(t);

		if (!s || !*s || strlen(s) >= EXP_TARGET_MAX)
			return FAIL("entry %zu: target %zu is not a string of "
				    "1-%u bytes", gi, i, EXP_TARGET_MAX - 1);
		if (listed(out, *n, s))
			continue;
		if (*n >= cap)
			return -E2BIG;
		memcpy(out[*n].target, s, strlen(s) + 1);
		memcpy(out[*n].labels, labels, strlen(labels) + 1);
		++*n;
	}
	return 0;
}

/* see vigilctl_exporter.h */
int exp_sd_parse(const char *buf, size_t len, struct exp_target *out,
		 size_t cap, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *g;
	size_t i, n = 0;
	int r = 0;

	/* JSON_REJECT_DUPLICATES: a doubled key is a mistake, not an
	 * override; jansson bounds nesting itself (2048 levels). */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return FAIL("line %d: %s", je.line, je.text);
	if (!json_is_array(root))
		r = FAIL("not a JSON array of target groups");
	json_array_foreach(root, i, g) {
		if (r < 0)
			break;
		r = group(g, i, out, cap, &n, err, errlen);
	}
	json_decref(root);
	if (r == -E2BIG)
		snprintf(err, errlen, "more than %zu targets", cap);
	return r < 0 ? r : (int)n;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	       c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "IDENTITY:HEXKEY" into e. */
static int psk_value(const char *v, struct exp_psk *e)
{
	const char *colon = strrchr(v, ':');
	size_t idlen, hexlen;

	if (!colon)
		return -EBADMSG;
	idlen = (size_t)(colon - v);
	hexlen = strlen(colon + 1);
	if (idlen == 0 || idlen > EXP_PSK_ID_MAX || hexlen == 0 ||
	    hexlen % 2 || hexlen / 2 > EXP_PSK_KEY_MAX)
		return -EBADMSG;
	memcpy(e->id, v, idlen);
	e->id[idlen] = '\0';
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hexval(colon[1 + 2 * i]), lo = hexval(colon[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		e->key[i] = (uint8_t)(hi << 4 | lo);
	}
	e->key_len = hexlen / 2;
	return 0;
}

/* One line (NUL-terminated, no newline).  @retval 1 entry / 0 none / <0 */
static int psk_line(char *line, struct exp_psk *e)
{
	char *hash = strchr(line, '#'), *target, *value, *extra, *save;

	if (hash)
		*hash = '\0';
	target = strtok_r(line, " \t\r", &save);
	if (!target)
		return 0;
	value = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (!value || extra || strlen(target) >= EXP_TARGET_MAX)
		return -EBADMSG;
	memcpy(e->target, target, strlen(target) + 1);
	return psk_value(value, e) < 0 ? -EBADMSG : 1;
}

/* see vigilctl_exporter.h */
int exp_psk_parse(const char *buf, size_t len, struct exp_psk *out,
		  size_t cap, char *err, size_t errlen)
{
	char line[EXP_TARGET_MAX + EXP_PSK_ID_MAX + 2 * EXP_PSK_KEY_MAX + 8];
	size_t pos = 0, n = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		int r;

		lineno++;
		if (ll >= sizeof line)
			return FAIL("line %u: too long", lineno);
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (memchr(line, '\0', ll))
			return FAIL("line %u: a NUL byte", lineno);
		if (n >= cap)
			return -E2BIG;
		r = psk_line(line, &out[n]);
		if (r < 0)
			return FAIL("line %u: not \"TARGET IDENTITY:HEXKEY\" "
				    "(identity 1-%u bytes, key 1-%u bytes in "
				    "hex)", lineno, EXP_PSK_ID_MAX,
				    EXP_PSK_KEY_MAX);
		n += (size_t)r;
	}
	return (int)n;
}

/* see vigilctl_exporter.h */
int exp_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (sb.st_size < 0 || (size_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)sb.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size &&
	       (n = read(fd, *buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

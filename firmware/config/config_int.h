/*
 * config_int.h — what config.c (file syntax, API) and config_keys.c (the
 * key table and its typed values) share.  Nothing outside the config
 * module includes this.
 */
#ifndef VIGIL_CONFIG_INT_H
#define VIGIL_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum cfg_type { CFG_BOOL, CFG_INT, CFG_DURATION, CFG_ENUM, CFG_STRING,
		CFG_PATH };

#define CFG_F_NONE 0x1 /* path: the word "none" is allowed, stored as "" */
#define CFG_F_SECRET 0x2 /* config_diff shows CFG_HIDDEN, not the value */
#define CFG_HIDDEN "<hidden>"

/* One key of the schema.  Which fields matter depends on type:
 *   bool:     field is an int 0/1
 *   int:      int64_t; min..max, or only the values in set[] if not NULL
 *   duration: int64_t milliseconds; min..max ms, a multiple of step_ms;
 *             a bare number counts unit_ms
 *   enum:     int, the index of the word in words[]
 *   string:   char[size]; min..max bytes, each A-Z a-z 0-9 or in chars
 *   path:     char[size]; absolute, 1..size-1 bytes, flags CFG_F_NONE */
/* 64 bytes a key on 64-bit boards instead of 112 (~2.2 KB of vigild
 * on aarch64): the narrow members come last, sized to what the table
 * holds (the K_*() macros and config_keys.c's assertion keep the values
 * in range at compile time), the per-type pointers share a union (read
 * only under their type's test), and the help text is not stored (see
 * config_keys.c). */
struct cfg_key {
	const char *name;
	int64_t min, max;
	union {                   /* by type, one of: */
		const char *const *words; /* enum: NULL-terminated */
		const int64_t *set;       /* int: 0-terminated, or NULL */
		const char *chars;        /* string */
	};
	/* string: a further check of the whole value (a grammar the
	 * character list cannot express); NULL none.  @retval 0 valid
	 * @retval <0 with msg set ("key: what is wrong") */
	int (*check)(const struct cfg_key *k, const char *v, char *msg,
		     size_t cap);
	const char *def;          /* default, as text (validated like input) */
	uint32_t unit_ms, step_ms; /* durations: at most 49 days */
	uint16_t off;             /* of the field in struct config */
	uint16_t size;            /* of the field (checked by the setters) */
	uint8_t type;             /* enum cfg_type */
	uint8_t flags;
};

extern const struct cfg_key cfg_keys[];
extern const unsigned cfg_key_total;

/* User text quoted in a message: at most CFG_SHOW_BYTES bytes, anything
 * but printable ASCII as '?', a cut marked "...". */
#define CFG_SHOW_BYTES 32
#define CFG_SHOW_MAX (CFG_SHOW_BYTES + 3 + 1)
const char *cfg_show(const char *s, size_t n, char out[CFG_SHOW_MAX]);

/* The key named by s[0..n), or NULL. */
const struct cfg_key *cfg_find(const char *s, size_t n);

/* "unknown key `x`", with " (did you mean `y`?)" when a key is within
 * two edits of x.  msg is NUL-terminated (cap > 0). */
void cfg_unknown_msg(const char *s, size_t n, char *msg, size_t cap);

/* Validates the NUL-terminated v for k, and only then stores it in c.
 * msg (cap > 0) gets the reason of a failure, "key: ...", else "".
 * @retval 0 stored  @retval -EBADMSG invalid; c untouched */
int cfg_apply(struct config *c, const struct cfg_key *k, const char *v,
	      char *msg, size_t cap);

/* The "(expected ...)" text for k: "one of err, warn, info, debug". */
void cfg_expect(const struct cfg_key *k, char *buf, size_t cap);

/* k's value in c, canonical (see config_get).
 * @retval >=0 length  @retval -ENOSPC (buf "" if cap > 0) */
int cfg_text(const struct config *c, const struct cfg_key *k, char *buf,
	     size_t cap);

#endif

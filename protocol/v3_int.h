/*
 * v3_int.h — helpers shared by the v3*.c files; nothing
 * outside the v3 module includes this.
 */
#ifndef VIGIL_V3_INT_H
#define VIGIL_V3_INT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "v3.h"

/* Little-endian wire integers: never overlay a struct on the packet. */
static inline uint16_t v3_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t v3_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void v3_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static inline void v3_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)(v >> 24);
}

/* Stores the reason (if why is not NULL) and returns ret, so every
 * failure is one line: return v3_fail(why, V3_E_CODE, -EBADMSG). */
static inline int v3_fail(enum v3_reason *why, enum v3_reason r, int ret)
{
	if (why)
		*why = r;
	return ret;
}

/* Copies a received 255-byte name field into dst as a C string.  The NUL
 * must lie within the field; the padding after it is not checked (see
 * docs/protocol/cyberbackup-v3.md, "Name fields").  Returns the length or
 * -EBADMSG (V3_E_NAME_UNTERMINATED). */
int v3_name_field_get(char dst[V3_NAME_FIELD], const uint8_t *src,
		      enum v3_reason *why);

/* Length of the C string in a struct's name member, or -EINVAL
 * (V3_E_NAME_TOO_LONG) when it does not end within the 255 bytes. */
int v3_name_len(const char name[V3_NAME_FIELD], enum v3_reason *why);

/* Writes name (n < 255 bytes) as a zero-padded 255-byte field. */
void v3_name_field_put(uint8_t *dst, const char *name, size_t n);

#endif

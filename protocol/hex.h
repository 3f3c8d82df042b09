/*
 * hex.h — hexadecimal digits, for the few text formats that carry bytes
 * as hex (CoAP ETag text in tests and tools, PSK keys, the console's
 * password hash, the backup identity's uuid).
 */
#ifndef VIGIL_HEX_H
#define VIGIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (either case).  @retval 0..15, or -1 */
int hex_digit(char c);

/* Writes the n bytes at p as 2n lowercase hex digits and a NUL to out
 * (2n + 1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);

#endif

/*
 * hex.h — hexadecimal digits, for the few text formats that carry bytes
 * as hex (CoAP ETag text in tests and tools, PSK keys, the console's
 * password hash, the backup identity's uuid).
 */
#ifndef VIGIL_HEX_H
#define VIGIL_HEX_H

/* The value of hex digit c (either case).  @retval 0..15, or -1 */
int hex_digit(char c);

#endif

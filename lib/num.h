/*
 * num.h — the decimal numbers of command lines and console commands
 * (job ids, snapshot ids, --timeout MS, --max-rate, ...), parsed
 * strictly: the whole string, digits only, within a bound.
 *
 * Why not strtoul(3): it accepts blanks, a sign and a "0x" prefix, wraps
 * a negative number around, and with a NULL end pointer took "5s" as 5
 * and "abc" as 0 without a word.  (It also linked musl's generic
 * __intscan, ~2 KB of vigild, for these few calls.)
 */
#ifndef VIGIL_NUM_H
#define VIGIL_NUM_H

#include <stdint.h>

/* *out gets the value of the NUL-terminated s.
 * @retval 0 parsed  @retval -EINVAL empty, or a byte that is not 0-9
 * @retval -ERANGE more than max (*out untouched on any error) */
int num_u64(const char *s, uint64_t max, uint64_t *out);

#endif

/*
 * pattern.h — shell patterns (`restore --path`), matched byte by byte.
 *
 * vigild used musl's fnmatch(3), whose wide-character classes pulled
 * about 17 KB of Unicode tables into the static binary (iswalpha,
 * iswpunct, towctrans, mbtowc) for paths that are bytes anyway.  The
 * patterns are those of fnmatch(pattern, path, 0):
 *   *        any run of bytes, '/' included
 *   ?        any one byte
 *   [set]    one byte of the set: single bytes, ranges a-z, the classes
 *            [:alpha:] [:digit:] [:alnum:] [:upper:] [:lower:] [:space:]
 *            [:punct:] [:xdigit:] [:blank:] [:cntrl:] [:graph:] [:print:]
 *            (ASCII, the C locale); [!set] or [^set] is its complement;
 *            ']' first in the set is a member; a '[' with no closing ']'
 *            is an ordinary byte
 *   \c       the byte c itself (outside a set)
 * An unknown class name matches no byte.
 */
#ifndef VIGIL_PATTERN_H
#define VIGIL_PATTERN_H

/*
 * Whether the whole NUL-terminated string s matches pat (both borrowed).
 * Time is at most proportional to strlen(pat) * strlen(s): one '*' is
 * retried at a time, never recursively.
 * @retval 1 match
 * @retval 0 no match
 */
int pattern_match(const char *pat, const char *s);

#endif /* VIGIL_PATTERN_H */

/*
 * num.c — strict decimal numbers (num.h).
 */
#include "num.h"

#include <errno.h>

/* see num.h */
int num_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int ret = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9)
			return -EINVAL;
		/* v * 10 + d <= max  <=>  v <= (max - d) / 10 */
		if (d > max || v > (max - d) / 10)
			ret = -ERANGE;  /* the rest must still be digits */
		else
			v = v * 10 + d;
	}
	if (ret == 0)
		*out = v;
	return ret;
}

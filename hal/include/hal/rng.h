/*
 * hal/rng.h — cryptographic random bytes (getrandom on Linux; a seeded,
 * deterministic generator on the sim).
 */
#ifndef HAL_RNG_H
#define HAL_RNG_H

#include <stddef.h>

/*
 * Fills buf with n random bytes.  Blocks only before the kernel's pool is
 * initialised (early boot), never afterwards.
 * @retval 0 buf filled
 * @retval -EIO the kernel refused (buf contents undefined: do not use)
 */
int hal_rng_fill(void *buf, size_t n);

#endif

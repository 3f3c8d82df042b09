/*
 * hal/linux/cpu.c — hal/cpu.h: cpuid on x86_64, the auxiliary vector on
 * aarch64.  No system call, so the sim links it too (the unit tests see
 * the host's answer).
 */
#include "hal/cpu.h"

#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

/* see hal/cpu.h */
int hal_cpu_aes_fast(void)
{
#if defined(__x86_64__)
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	unsigned long hw = getauxval(AT_HWCAP);

	return (hw & HWCAP_AES) && (hw & HWCAP_PMULL);
#else
	return 0;       /* 32-bit Arm: mbedTLS uses its table AES here */
#endif
}

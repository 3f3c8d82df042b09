/*
 * hal/cpu.h — what the CPU offers that changes how code is best run.
 * The only place that asks the platform (cpuid, the auxiliary vector),
 * so the portable code has no architecture #ifdefs.
 */
#ifndef HAL_CPU_H
#define HAL_CPU_H

/* 1 when the CPU has AES and carry-less multiply instructions that
 * mbedTLS uses (x86_64 AES-NI + PCLMULQDQ, aarch64 AES + PMULL), so
 * AES-GCM beats ChaCha20-Poly1305; 0 otherwise (32-bit Arm: table AES).
 * Never fails. */
int hal_cpu_aes_fast(void);

#endif

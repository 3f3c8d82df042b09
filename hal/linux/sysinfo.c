/*
 * hal/linux/sysinfo.c — uptime, load, memory and temperature from the
 * kernel.
 *
 * sysinfo(2) gives load (16.16 fixed point), total RAM and the task count
 * in one call; uptime comes from CLOCK_BOOTTIME (sysinfo's is rounded up).  MemAvailable exists only in /proc/meminfo
 * (Linux >= 3.14); older kernels get free + buffers as the estimate.
 * Text files are read with open/read into stack buffers (no stdio: musl's
 * fopen allocates) and parsed with explicit bounds: a number is at most
 * 19 digits so it never overflows uint64_t.
 */
#define _GNU_SOURCE /* CLOCK_BOOTTIME on glibc */
#include "hal/sysinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

/* /proc/meminfo is ~1.5 KiB on current kernels; MemAvailable is its
 * third line, so a truncated read still finds it. */
#define SYSINFO_MEMINFO_MAX 2048
/* a thermal "temp" file: "-273150\n" at most, with room to spare */
#define SYSINFO_TEMP_MAX 32
/* digits of the largest value accepted: 10^19 - 1 < 2^64 */
#define SYSINFO_DIGITS_MAX 19

/* Reads at most cap - 1 bytes of a small file and NUL-terminates them. */
static int sysinfo_slurp(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int ret = -EIO;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EIO;
	while (got < cap - 1) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	ret = (int)got;
out:
	close(fd);
	return ret;
}

/* Parses decimal digits at *pp; advances *pp past them.
 * @retval 0 parsed  @retval -EBADMSG no digit or too many */
static int sysinfo_parse_u64(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	unsigned n = 0;

	while (*p >= '0' && *p <= '9') {
		if (++n > SYSINFO_DIGITS_MAX)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (n == 0)
		return -EBADMSG;
	*pp = p;
	*out = v;
	return 0;
}

/* Value of "Key:   1234 kB" in /proc/meminfo text, in bytes. */
static int sysinfo_meminfo_kb(const char *text, const char *key,
			      uint64_t *bytes)
{
	size_t klen = strlen(key);
	const char *p = text;
	uint64_t kb;

	/* invariant: p is at the start of a line */
	while (*p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			p += klen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if (sysinfo_parse_u64(&p, &kb) < 0)
				return -EBADMSG;
			if (kb > UINT64_MAX / 1024)
				return -EBADMSG;
			*bytes = kb * 1024;
			return 0;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -ENOENT;
}

/* see hal/sysinfo.h */
int hal_sysinfo_read(struct hal_sysinfo *si)
{
	char text[SYSINFO_MEMINFO_MAX];
	struct sysinfo k;
	uint64_t unit;
	int64_t up;

	if (!si)
		return -EIO;
	memset(si, 0, sizeof *si);
	if (sysinfo(&k) < 0)
		return -EIO;
	unit = k.mem_unit ? k.mem_unit : 1;
	/* not k.uptime: the kernel rounds that one up, and it should agree
	 * with hal_sysinfo_uptime_s() */
	up = hal_sysinfo_uptime_s();
	si->uptime_s = up > 0 ? (uint64_t)up : 0;
	for (int i = 0; i < 3; i++) {
		/* loads are 16.16 fixed point (SI_LOAD_SHIFT) */
		si->load_milli[i] =
			(uint32_t)(((uint64_t)k.loads[i] * 1000) >> 16);
	}
	si->procs = k.procs;
	/* /proc/meminfo first: a 32-bit process under qemu-user gets
	 * sysinfo(2) RAM fields truncated to 32 bits without mem_unit
	 * scaling, so only the text file is right everywhere */
	if (sysinfo_slurp("/proc/meminfo", text, sizeof text) < 0 ||
	    sysinfo_meminfo_kb(text, "MemTotal", &si->mem_total) < 0 ||
	    sysinfo_meminfo_kb(text, "MemAvailable", &si->mem_available) < 0) {
		si->mem_total = (uint64_t)k.totalram * unit;
		si->mem_available =
			((uint64_t)k.freeram + (uint64_t)k.bufferram) * unit;
	}
	return 0;
}

/* see hal/sysinfo.h */
int hal_sysinfo_thermal(const char *zone_dir, int32_t *milli_c)
{
	char path[256], text[SYSINFO_TEMP_MAX];
	const char *p = text;
	uint64_t v;
	int neg = 0, n;

	if (!zone_dir || !milli_c)
		return -ENOENT;
	n = snprintf(path, sizeof path, "%s/temp", zone_dir);
	if (n < 0 || (size_t)n >= sizeof path)
		return -ENOENT; /* no zone the board names is that long */
	n = sysinfo_slurp(path, text, sizeof text);
	if (n < 0)
		return n;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (sysinfo_parse_u64(&p, &v) < 0 || (*p != '\n' && *p != '\0'))
		return -EBADMSG;
	if (v > (uint64_t)INT32_MAX + (uint64_t)neg)
		return -EBADMSG;
	*milli_c = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
	return 0;
}

/* see hal/sysinfo.h */
int64_t hal_sysinfo_uptime_s(void)
{
	struct timespec ts;

	/* BOOTTIME counts suspended time too, like /proc/uptime */
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return -EIO;
	return (int64_t)ts.tv_sec;
}

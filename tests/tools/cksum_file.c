/*
 * cksum_file.c — prints the POSIX cksum of a file (or of stdin) computed by
 * protocol/cksum.c, in the format of `cksum`: "<crc> <bytes> <file>", or
 * "<crc> <bytes>" for stdin.  tests/integration/test_cksum.py compares it
 * with GNU `cksum`.  Reads with read(2) in 64 KiB chunks, the way the
 * backup client feeds file data to cksum_update.
 *
 *     cksum_file [FILE]      exit 0, or 1 with a message on stderr
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cksum.h"

#define CHUNK 65536

static uint8_t buf[CHUNK];

int main(int argc, char **argv)
{
	struct cksum_ctx c;
	int fd = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: cksum_file [FILE]\n");
		return 1;
	}
	if (argc == 2) {
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "cksum_file: %s: %s\n", argv[1],
				strerror(errno));
			return 1;
		}
	}
	cksum_init(&c);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "cksum_file: read: %s\n",
				strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		cksum_update(&c, buf, (size_t)n);
	}
	if (argc == 2) {
		close(fd);
		printf("%u %llu %s\n", (unsigned)cksum_final(&c),
		       (unsigned long long)c.len, argv[1]);
	} else {
		printf("%u %llu\n", (unsigned)cksum_final(&c),
		       (unsigned long long)c.len);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

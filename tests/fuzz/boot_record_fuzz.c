/*
 * boot_record_fuzz.c — libFuzzer target for the boot state record
 * (firmware/health/boot.c: boot_record_decode / boot_record_encode), the one
 * file vigild reads back from data.dir at every start.
 *
 * Properties checked (__builtin_trap on violation):
 *   - decode never reads past the input (ASan) and accepts only inputs of
 *     exactly BOOT_RECORD_SIZE bytes;
 *   - an accepted record encodes back to exactly the input bytes (the
 *     decoder takes the canonical form only), its reason is a string
 *     shorter than its field and its kind one the encoder writes;
 *   - the same checks on the input with its checksum fixed up, so the
 *     fuzzer reaches the field checks behind the checksum;
 *   - boot_classify maps every (kind, status) to one of the five resets.
 */
#include <stdint.h>
#include <string.h>

#include "boot.h"
#include "cksum.h"

static void check_record(const uint8_t *buf, size_t len)
{
	struct boot_record r;
	uint8_t out[BOOT_RECORD_SIZE];

	if (boot_record_decode(buf, len, &r) != 0)
		return;
	if (len != BOOT_RECORD_SIZE)
		__builtin_trap();
	if (r.mark < BOOT_MARK_RUNNING || r.mark > BOOT_MARK_WATCHDOG)
		__builtin_trap();
	if (strnlen(r.reason, sizeof r.reason) >= sizeof r.reason)
		__builtin_trap();
	if (boot_record_encode(&r, out, sizeof out) != BOOT_RECORD_SIZE)
		__builtin_trap();
	if (memcmp(out, buf, BOOT_RECORD_SIZE) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t fixed[BOOT_RECORD_SIZE];
	uint32_t c;

	check_record(data, size);
	if (size == BOOT_RECORD_SIZE) {
		memcpy(fixed, data, size);
		c = cksum_buf(fixed, BOOT_RECORD_SIZE - 4);
		for (int i = 0; i < 4; i++)
			fixed[BOOT_RECORD_SIZE - 4 + i] = (uint8_t)(c >> (8 * i));
		check_record(fixed, sizeof fixed);
	}
	if (size >= 5) {
		int st = (int)((uint32_t)data[1] | (uint32_t)data[2] << 8 |
			       (uint32_t)data[3] << 16 |
			       (uint32_t)data[4] << 24);
		enum boot_reset r = boot_classify((enum boot_mark)(data[0] % 8),
						  st);

		if ((unsigned)r > BOOT_RESET_CRASH)
			__builtin_trap();
	}
	return 0;
}

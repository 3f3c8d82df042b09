/*
 * s3_xml_fuzz.c — libFuzzer target for the S3 answers vigil-backupd
 * reads (server/backupd_s3_xml.c): a ListObjectsV2 page, a ListParts
 * page and an element's text (UploadId, Code).
 *
 * Properties checked (__builtin_trap on violation):
 *   - the list verdict is a count, -EBADMSG, -ENOSPC;
 *   - every listed key is NUL-terminated below BD_S3_KEY_MAX, its time
 *     below BD_S3_TIME_MAX, and the count equals the callbacks made;
 *   - the token is NUL-terminated within its buffer, "" unless truncated;
 *   - a parts verdict is a count of parts numbered 1..10000 whose ETag
 *     is NUL-terminated below BD_S3_ETAG_MAX; the next marker is 0 or a
 *     part number;
 *   - an element's text is its returned length, NUL-terminated;
 *   - nothing is read past size (ASan).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/backupd_s3.h"

static int calls;

static int on_entry(void *arg, const char *key, uint64_t size,
		    const char *modified)
{
	(void)arg;
	(void)size;
	if (strnlen(key, BD_S3_KEY_MAX) >= BD_S3_KEY_MAX ||
	    strnlen(modified, BD_S3_TIME_MAX) >= BD_S3_TIME_MAX)
		__builtin_trap();
	calls++;
	return 0;
}

static int on_part(void *arg, unsigned part, const char *etag, uint64_t size)
{
	(void)arg;
	(void)size;
	if (part == 0 || part > BD_S3_PARTS_MAX ||
	    strnlen(etag, BD_S3_ETAG_MAX) >= BD_S3_ETAG_MAX)
		__builtin_trap();
	calls++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char token[BD_S3_TOKEN_MAX], text[64];
	const char *xml = (const char *)data;
	unsigned next;
	int n;

	calls = 0;
	n = bd_s3_xml_list(xml, size, on_entry, NULL, token, sizeof token);
	if (n >= 0 && (n != calls ||
		       strnlen(token, sizeof token) >= sizeof token))
		__builtin_trap();
	if (n < 0 && n != -EBADMSG && n != -ENOSPC)
		__builtin_trap();
	calls = 0;
	n = bd_s3_xml_parts(xml, size, on_part, NULL, &next);
	if ((n >= 0 && (n != calls || next >= BD_S3_PARTS_MAX)) ||
	    (n < 0 && n != -EBADMSG && n != -ENOSPC))
		__builtin_trap();
	n = bd_s3_xml_text(xml, size, "UploadId", text, sizeof text);
	if (n >= 0 && strlen(text) != (size_t)n)
		__builtin_trap();
	if (n < 0 && n != -ENOENT && n != -EBADMSG && n != -ENOSPC)
		__builtin_trap();
	return 0;
}

/*
 * exporter_status_fuzz.c — libFuzzer target for the exporter's reader of
 * status documents (tools/vigilctl_exporter_doc.c): the CBOR a device
 * sends, walked into struct exp_status.
 *
 * Properties checked (__builtin_trap on violation):
 *   - the verdict is 0, -EBADMSG or -EMSGSIZE;
 *   - at most EXP_CHECKS_MAX checks, every word field NUL-terminated
 *     within its array;
 *   - nothing is read past size (ASan), the recursion stays within the
 *     decoder's depth bound.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../tools/vigilctl_exporter.h"

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

#define TERMINATED(a) require(memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct exp_status st;
	int r = exp_status_decode(data, size, &st);

	require(r == 0 || r == -EBADMSG || r == -EMSGSIZE);
	require(st.nchecks <= EXP_CHECKS_MAX);
	TERMINATED(st.id);
	TERMINATED(st.board);
	TERMINATED(st.version);
	TERMINATED(st.overall);
	TERMINATED(st.last_reset);
	TERMINATED(st.backup_state);
	for (unsigned i = 0; i < st.nchecks; i++) {
		TERMINATED(st.checks[i].name);
		TERMINATED(st.checks[i].state);
	}
	for (int i = 0; i < EXP_JOBS_MAX; i++)
		TERMINATED(st.jobs[i].state);
	return 0;
}

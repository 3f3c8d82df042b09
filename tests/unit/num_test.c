/*
 * num_test.c — num_u64 (lib/num.c): the whole string, digits only,
 * within the bound, up to UINT64_MAX itself; *out untouched on errors.
 */
#include <errno.h>
#include <stdint.h>

#include "num.h"
#include "test.h"

TEST(digits_within_the_bound)
{
	uint64_t v = 7;

	CHECK_EQ_INT(num_u64("0", 10, &v), 0);
	CHECK_EQ_INT(v, 0);
	CHECK_EQ_INT(num_u64("0042", 100, &v), 0);
	CHECK_EQ_INT(v, 42);
	CHECK_EQ_INT(num_u64("4294967295", UINT32_MAX, &v), 0);
	CHECK(v == UINT32_MAX);
	CHECK_EQ_INT(num_u64("18446744073709551615", UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);
}

TEST(refuses_what_strtoul_took)
{
	const char *bad[] = { "", " 5", "5 ", "+5", "-5", "0x10", "5s", "abc",
			      "1.5", "9\n" };
	uint64_t v = 7;

	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(num_u64(bad[i], UINT64_MAX, &v), -EINVAL);
	CHECK_EQ_INT(num_u64("4294967296", UINT32_MAX, &v), -ERANGE);
	CHECK_EQ_INT(num_u64("18446744073709551616", UINT64_MAX, &v),
		     -ERANGE);
	CHECK_EQ_INT(num_u64("99999999999999999999999x", UINT64_MAX, &v),
		     -EINVAL);
	CHECK_EQ_INT(num_u64("11", 10, &v), -ERANGE);
	CHECK_EQ_INT(num_u64("5", 4, &v), -ERANGE);
	CHECK_EQ_INT(v, 7);
}

TEST_SUITE(num, digits_within_the_bound, refuses_what_strtoul_took)

/*
 * hal_storage_test.c — contract of hal/storage.h, run unchanged against
 * hal/sim and hal/linux.  Paths come from test_tmpdir().
 */
#include <errno.h>
#include <stdio.h>

#include "hal/storage.h"
#include "test.h"

static char path_buf[HAL_PATH_MAX * 2];

/* test_tmpdir()/name, in a static buffer */
static const char *tpath(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
	return path_buf;
}

TEST(write_then_read_back)
{
	const char *p = tpath(test_tmpdir(), "state");
	char buf[16];

	CHECK_EQ_INT(hal_storage_write_atomic(p, "hello", 5, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 5);
	CHECK_EQ_MEM(buf, "hello", 5);
	/* replacing shrinks it: no tail of the old content survives */
	CHECK_EQ_INT(hal_storage_write_atomic(p, "hi", 2, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 2);
	CHECK_EQ_MEM(buf, "hi", 2);
}

TEST(empty_file)
{
	const char *p = tpath(test_tmpdir(), "empty");
	char buf[4];

	CHECK_EQ_INT(hal_storage_write_atomic(p, NULL, 0, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 0);
	CHECK_EQ_INT(hal_storage_read(p, NULL, 0), 0);
}

TEST(read_cap_boundary)
{
	const char *p = tpath(test_tmpdir(), "f");
	char buf[8];

	REQUIRE(hal_storage_write_atomic(p, "12345678", 8, 0600) == 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, 8), 8);  /* exactly cap */
	CHECK_EQ_INT(hal_storage_read(p, buf, 7), -EMSGSIZE);
	CHECK_EQ_INT(hal_storage_read(p, buf, 0), -EMSGSIZE);
}

TEST(read_errors)
{
	const char *dir = test_tmpdir();
	char buf[8];

	CHECK_EQ_INT(hal_storage_read(tpath(dir, "missing"), buf, sizeof buf),
		     -ENOENT);
	CHECK_EQ_INT(hal_storage_read(dir, buf, sizeof buf), -EISDIR);
	CHECK_EQ_INT(hal_storage_read(tpath(dir, "no/such"), buf, sizeof buf),
		     -ENOENT);
}

TEST(write_into_missing_directory_is_enoent)
{
	const char *p = tpath(test_tmpdir(), "nodir/file");
	struct hal_afile f;

	CHECK_EQ_INT(hal_storage_write_atomic(p, "x", 1, 0600), -ENOENT);
	CHECK_EQ_INT(hal_storage_afile_open(&f, p, 0600), -ENOENT);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "x", 1), -EBADF);
	hal_storage_afile_abort(&f); /* safe on a failed open */
}

TEST(write_over_directory_is_eisdir)
{
	const char *dir = test_tmpdir();

	CHECK_EQ_INT(hal_storage_write_atomic(dir, "x", 1, 0600), -EISDIR);
}

/* A path of exactly len bytes under dir (dir + "/" + a's). */
static const char *long_path(const char *dir, size_t len)
{
	size_t d = strlen(dir);

	if (len <= d + 1 || len >= sizeof path_buf)
		return NULL;
	memcpy(path_buf, dir, d);
	path_buf[d] = '/';
	memset(path_buf + d + 1, 'a', len - d - 1);
	path_buf[len] = '\0';
	return path_buf;
}

TEST(path_length_limit)
{
	const char *dir = test_tmpdir();
	const size_t max = HAL_PATH_MAX - 5; /* room for ".tmp" and NUL */
	const char *p = long_path(dir, max + 1);
	char buf[4];

	REQUIRE(p != NULL);
	CHECK_EQ_INT(hal_storage_write_atomic(p, "x", 1, 0600), -ENAMETOOLONG);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), -ENAMETOOLONG);
	CHECK_EQ_INT(hal_storage_mkdir(p, 0700), -ENAMETOOLONG);
	CHECK_EQ_INT(hal_storage_remove(p), -ENAMETOOLONG);
	/* at the limit it works, if the filesystem takes the long name
	 * (one component of up to 250 bytes: every Linux fs does) */
	p = long_path(dir, max);
	if (strlen(p) - strlen(dir) - 1 <= 255) {
		CHECK_EQ_INT(hal_storage_write_atomic(p, "x", 1, 0600), 0);
		CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 1);
	}
}

TEST(afile_streams_and_commits)
{
	const char *p = tpath(test_tmpdir(), "stream");
	struct hal_afile f;
	char buf[32];

	REQUIRE(hal_storage_afile_open(&f, p, 0640) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "abc", 3), 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "", 0), 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "def", 3), 0);
	/* nothing visible before the commit */
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), -ENOENT);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 6);
	CHECK_EQ_MEM(buf, "abcdef", 6);
	/* f is closed now */
	CHECK_EQ_INT(hal_storage_afile_write(&f, "x", 1), -EBADF);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), -EBADF);
	hal_storage_afile_abort(&f);
}

TEST(abort_keeps_old_content_and_removes_temp)
{
	const char *dir = test_tmpdir();
	char p[HAL_PATH_MAX], tmp[HAL_PATH_MAX + 8], buf[16];
	struct hal_afile f;

	snprintf(p, sizeof p, "%s/cfg", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	REQUIRE(hal_storage_write_atomic(p, "old", 3, 0600) == 0);
	REQUIRE(hal_storage_afile_open(&f, p, 0600) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "new content", 11), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
	hal_storage_afile_abort(&f);
	hal_storage_afile_abort(&f); /* twice is safe */
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
	CHECK_EQ_MEM(buf, "old", 3);
	CHECK_EQ_INT(hal_storage_read(tmp, buf, sizeof buf), -ENOENT);
}

TEST(stale_temp_is_reused)
{
	const char *dir = test_tmpdir();
	char p[HAL_PATH_MAX], tmp[HAL_PATH_MAX + 8], buf[16];

	snprintf(p, sizeof p, "%s/id", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	/* as if a crash left a temp behind */
	REQUIRE(hal_storage_write_atomic(tmp, "garbage-garbage", 15, 0600) == 0);
	CHECK_EQ_INT(hal_storage_write_atomic(p, "ok", 2, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 2);
	CHECK_EQ_MEM(buf, "ok", 2);
	CHECK_EQ_INT(hal_storage_read(tmp, buf, sizeof buf), -ENOENT);
}

TEST(space_reports_sane_numbers)
{
	const char *dir = test_tmpdir();
	uint64_t fr = 0, total = 0;

	CHECK_EQ_INT(hal_storage_space(dir, &fr, &total), 0);
	CHECK(total > 0);
	CHECK(fr <= total);
	CHECK_EQ_INT(hal_storage_space(tpath(dir, "missing"), &fr, &total),
		     -ENOENT);
}

TEST(mkdir_cases)
{
	const char *dir = test_tmpdir();
	char d[HAL_PATH_MAX], f[HAL_PATH_MAX + 8], buf[4];

	snprintf(d, sizeof d, "%s/sub", dir);
	CHECK_EQ_INT(hal_storage_mkdir(d, 0700), 0);
	CHECK_EQ_INT(hal_storage_mkdir(d, 0700), 0); /* already there */
	snprintf(f, sizeof f, "%s/file", d);
	CHECK_EQ_INT(hal_storage_write_atomic(f, "x", 1, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(f, buf, sizeof buf), 1);
	CHECK_EQ_INT(hal_storage_mkdir(f, 0700), -ENOTDIR);
	CHECK_EQ_INT(hal_storage_mkdir(tpath(dir, "a/b"), 0700), -ENOENT);
}

TEST(remove_cases)
{
	const char *dir = test_tmpdir();
	char p[HAL_PATH_MAX], buf[4];

	snprintf(p, sizeof p, "%s/gone", dir);
	REQUIRE(hal_storage_write_atomic(p, "x", 1, 0600) == 0);
	CHECK_EQ_INT(hal_storage_remove(p), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), -ENOENT);
	CHECK_EQ_INT(hal_storage_remove(p), -ENOENT);
	CHECK_EQ_INT(hal_storage_remove(dir), -EISDIR);
}

TEST(probe_writable)
{
	const char *dir = test_tmpdir();
	char buf[4];

	CHECK_EQ_INT(hal_storage_probe_writable(dir), 0);
	/* it cleans up after itself */
	CHECK_EQ_INT(hal_storage_read(tpath(dir, ".vigil-probe"), buf,
				      sizeof buf), -ENOENT);
	CHECK_EQ_INT(hal_storage_probe_writable(tpath(dir, "missing")),
		     -ENOENT);
}

TEST_SUITE(hal_storage, write_then_read_back, empty_file, read_cap_boundary,
	   read_errors, write_into_missing_directory_is_enoent,
	   write_over_directory_is_eisdir, path_length_limit,
	   afile_streams_and_commits, abort_keeps_old_content_and_removes_temp,
	   stale_temp_is_reused, space_reports_sane_numbers, mkdir_cases,
	   remove_cases, probe_writable)

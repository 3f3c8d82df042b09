/*
 * hal_file_test.c — contract of hal/file.h, run unchanged against hal/sim
 * and hal/linux: stat, the streaming read by offset, and the directory
 * iterator over the caller's struct hal_dir.  Files and directories are
 * made with hal/storage.h under test_tmpdir().  Symbolic links and special
 * files exist only on Linux (linux_walk_test.c covers them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/file.h"
#include "hal/storage.h"
#include "test.h"

/* More entries than one HAL_DIR_BUF holds with NAME_LEN-byte names (a
 * Linux record is 8-aligned 19 + NAME_LEN + 1 bytes: 80, so 40 take
 * 3200 bytes, about four refills), and few enough for the sim's
 * HAL_SIM_FILES_MAX nodes. */
#define MANY_FILES 40
#define NAME_LEN 58

/* A file big enough that reading it takes many calls, and small enough
 * for one sim file (HAL_SIM_FILE_MAX). */
#define BIG_SIZE (100 * 1024 + 3)

static char path_buf[HAL_PATH_MAX * 2];
static uint8_t big[BIG_SIZE];

/* dir/name, in a static buffer */
static const char *tpath(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
	return path_buf;
}

/* Writes a file of len bytes (byte i is i * 7 + 1) at dir/name. */
static int put_file(const char *dir, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7 + 1);
	return hal_storage_write_atomic(tpath(dir, name), big, len, 0600);
}

/* The i-th of MANY_FILES names: NAME_LEN characters, unique by i. */
static void many_name(char *out, unsigned i)
{
	memset(out, 'n', NAME_LEN);
	snprintf(out, NAME_LEN + 1, "f%02u", i);
	out[3] = 'n';   /* snprintf's NUL, back to padding */
	out[NAME_LEN] = '\0';
}

TEST(stat_reports_type_and_size)
{
	const char *dir = test_tmpdir();
	enum hal_file_type t = 0;
	uint64_t size = 99;

	REQUIRE(put_file(dir, "f", 1234) == 0);
	REQUIRE(hal_storage_mkdir(tpath(dir, "d"), 0700) == 0);
	CHECK_EQ_INT(hal_file_stat(tpath(dir, "f"), &t, &size), 0);
	CHECK_EQ_INT(t, HAL_FILE_REG);
	CHECK_EQ_INT(size, 1234);
	CHECK_EQ_INT(hal_file_stat(tpath(dir, "d"), &t, &size), 0);
	CHECK_EQ_INT(t, HAL_FILE_DIR);
	CHECK_EQ_INT(hal_file_stat(tpath(dir, "missing"), &t, &size), -ENOENT);
	CHECK_EQ_INT(hal_file_stat(tpath(dir, "d/missing"), &t, &size),
		     -ENOENT);
}

TEST(open_gives_size_and_refuses_a_directory)
{
	const char *dir = test_tmpdir();
	uint64_t size = 99;
	int fd;

	REQUIRE(put_file(dir, "empty", 0) == 0);
	REQUIRE(hal_storage_mkdir(tpath(dir, "d"), 0700) == 0);
	fd = hal_file_open(tpath(dir, "empty"), &size);
	CHECK(fd >= 0);
	CHECK_EQ_INT(size, 0);
	hal_file_close(fd);
	CHECK_EQ_INT(hal_file_open(tpath(dir, "d"), &size), -EINVAL);
	CHECK_EQ_INT(hal_file_open(tpath(dir, "missing"), &size), -ENOENT);
	hal_file_close(-1);     /* nothing to close */
}

/* Odd-sized pieces by offset put the file back together exactly. */
TEST(read_full_streams_the_file_by_offset)
{
	static uint8_t got[BIG_SIZE];
	const char *dir = test_tmpdir();
	uint64_t size = 0, off = 0;
	size_t piece = 1;
	int fd;

	REQUIRE(put_file(dir, "big", BIG_SIZE) == 0);
	fd = hal_file_open(tpath(dir, "big"), &size);
	REQUIRE(fd >= 0);
	CHECK_EQ_INT(size, BIG_SIZE);
	memset(got, 0, sizeof got);
	while (off < size) {
		size_t n = size - off < piece ? (size_t)(size - off) : piece;

		REQUIRE(hal_file_read_full(fd, off, got + off, n) == 0);
		off += n;
		piece = piece * 3 + 1;  /* 1, 4, 13, ... 29524, 88573 */
	}
	CHECK_EQ_MEM(got, big, BIG_SIZE);
	/* again from the middle: the offset, not a file position, counts */
	CHECK_EQ_INT(hal_file_read_full(fd, 4096, got, 10), 0);
	CHECK_EQ_MEM(got, big + 4096, 10);
	hal_file_close(fd);
}

TEST(read_full_past_the_end_is_enodata)
{
	const char *dir = test_tmpdir();
	uint64_t size = 0;
	uint8_t buf[16];
	int fd;

	REQUIRE(put_file(dir, "ten", 10) == 0);
	fd = hal_file_open(tpath(dir, "ten"), &size);
	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hal_file_read_full(fd, 0, buf, 10), 0);   /* exactly */
	CHECK_EQ_INT(hal_file_read_full(fd, 10, buf, 0), 0);   /* at the end */
	CHECK_EQ_INT(hal_file_read_full(fd, 0, buf, 11), -ENODATA);
	CHECK_EQ_INT(hal_file_read_full(fd, 9, buf, 2), -ENODATA);
	CHECK_EQ_INT(hal_file_read_full(fd, 11, buf, 1), -ENODATA);
	hal_file_close(fd);
	CHECK_EQ_INT(hal_file_read_full(fd, 0, buf, 1), -EBADF);
}

/* Every child once, "." and ".." never, a grandchild never; 0 at the
 * end, and again when asked again. */
TEST(dir_lists_each_child_once)
{
	const char *dir = test_tmpdir();
	char sub[HAL_PATH_MAX];
	struct hal_dir d;
	const char *name;
	unsigned seen_a = 0, seen_b = 0, seen_sub = 0, other = 0;
	int r;

	REQUIRE(put_file(dir, "a", 1) == 0);
	REQUIRE(put_file(dir, "b", 2) == 0);
	REQUIRE(hal_storage_mkdir(tpath(dir, "sub"), 0700) == 0);
	snprintf(sub, sizeof sub, "%s/sub", dir);
	REQUIRE(put_file(sub, "grandchild", 3) == 0);
	REQUIRE(hal_dir_open(&d, dir) == 0);
	while ((r = hal_dir_next(&d, &name)) == 1) {
		seen_a += !strcmp(name, "a");
		seen_b += !strcmp(name, "b");
		seen_sub += !strcmp(name, "sub");
		other += strcmp(name, "a") && strcmp(name, "b") &&
			 strcmp(name, "sub");
	}
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(hal_dir_next(&d, &name), 0);
	CHECK_EQ_INT(seen_a, 1);
	CHECK_EQ_INT(seen_b, 1);
	CHECK_EQ_INT(seen_sub, 1);
	CHECK_EQ_INT(other, 0);
	hal_dir_close(&d);
}

TEST(dir_empty_and_nested)
{
	const char *dir = test_tmpdir();
	char sub[HAL_PATH_MAX];
	struct hal_dir d;
	const char *name = NULL;

	snprintf(sub, sizeof sub, "%s/empty", dir);
	REQUIRE(hal_storage_mkdir(sub, 0700) == 0);
	REQUIRE(hal_dir_open(&d, sub) == 0);
	CHECK_EQ_INT(hal_dir_next(&d, &name), 0);
	hal_dir_close(&d);
	REQUIRE(put_file(sub, "only", 5) == 0);
	REQUIRE(hal_dir_open(&d, sub) == 0);
	REQUIRE(hal_dir_next(&d, &name) == 1);
	CHECK_EQ_STR(name, "only");
	CHECK_EQ_INT(hal_dir_next(&d, &name), 0);
	hal_dir_close(&d);
}

/* More names than one buffer holds: every one comes, whole, once. */
TEST(dir_refills_past_one_buffer)
{
	const char *dir = test_tmpdir();
	unsigned char seen[MANY_FILES] = { 0 };
	char want[NAME_LEN + 1];
	struct hal_dir d;
	const char *name;
	unsigned total = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < MANY_FILES; i++) {
		many_name(want, i);
		REQUIRE(put_file(dir, want, i) == 0);
	}
	REQUIRE(hal_dir_open(&d, dir) == 0);
	while ((r = hal_dir_next(&d, &name)) == 1) {
		unsigned i = (unsigned)(name[1] - '0') * 10 +
			     (unsigned)(name[2] - '0');

		total++;
		if (i >= MANY_FILES || (many_name(want, i), strcmp(name, want)))
			bad++;
		else
			seen[i]++;
	}
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(total, MANY_FILES);
	CHECK_EQ_INT(bad, 0);
	for (unsigned i = 0; i < MANY_FILES; i++)
		CHECK_EQ_INT(seen[i], 1);
	hal_dir_close(&d);
}

TEST(dir_errors)
{
	const char *dir = test_tmpdir();
	struct hal_dir d;
	const char *name;

	REQUIRE(put_file(dir, "f", 1) == 0);
	CHECK_EQ_INT(hal_dir_open(&d, tpath(dir, "f")), -ENOTDIR);
	CHECK_EQ_INT(hal_dir_next(&d, &name), -EBADF);  /* failed open */
	hal_dir_close(&d);
	CHECK_EQ_INT(hal_dir_open(&d, tpath(dir, "missing")), -ENOENT);
	REQUIRE(hal_dir_open(&d, dir) == 0);
	hal_dir_close(&d);
	CHECK_EQ_INT(hal_dir_next(&d, &name), -EBADF);  /* closed */
	hal_dir_close(&d);      /* twice is safe */
}

/* A path longer than any the HAL takes is refused as too long. */
TEST(overlong_path_is_enametoolong)
{
	static char longp[8192];
	enum hal_file_type t;
	uint64_t size;
	struct hal_dir d;

	memset(longp, 'x', sizeof longp - 1);
	longp[0] = '/';
	CHECK_EQ_INT(hal_file_stat(longp, &t, &size), -ENAMETOOLONG);
	CHECK_EQ_INT(hal_file_open(longp, &size), -ENAMETOOLONG);
	CHECK_EQ_INT(hal_dir_open(&d, longp), -ENAMETOOLONG);
	hal_dir_close(&d);
}

TEST_SUITE(hal_file, stat_reports_type_and_size,
	   open_gives_size_and_refuses_a_directory,
	   read_full_streams_the_file_by_offset,
	   read_full_past_the_end_is_enodata, dir_lists_each_child_once,
	   dir_empty_and_nested, dir_refills_past_one_buffer, dir_errors,
	   overlong_path_is_enametoolong)

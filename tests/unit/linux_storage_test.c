/*
 * linux_storage_test.c — what only hal/linux/storage.c can show: exact
 * mode bits against the umask, stale temps that are symlinks, FIFOs,
 * directories or shared inodes, a temp replaced by a second writer, and
 * the cleanup of the temp after a failed write (RLIMIT_FSIZE stands in
 * for a full disk; tests/integration/test_storage_atomic.py fills a real
 * tmpfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/storage.h"
#include "test.h"

/* The target, its temp and a bystander file in a fresh directory. */
struct paths {
	char p[HAL_PATH_MAX];
	char tmp[HAL_PATH_MAX + 8];
	char other[HAL_PATH_MAX + 8];
};

static struct paths *mkpaths(void)
{
	static struct paths ps;
	const char *dir = test_tmpdir();

	snprintf(ps.p, sizeof ps.p, "%s/state", dir);
	snprintf(ps.tmp, sizeof ps.tmp, "%s.tmp", ps.p);
	snprintf(ps.other, sizeof ps.other, "%s/other", dir);
	return &ps;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xdead;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Plain POSIX write of a small file, independent of the code under test. */
static int put(const char *path, const char *s)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0666);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Content of path equals s (read through the HAL). */
static int holds(const char *path, const char *s)
{
	char buf[64];
	int n = hal_storage_read(path, buf, sizeof buf);

	return n == (int)strlen(s) && memcmp(buf, s, (size_t)n) == 0;
}

TEST(mode_is_exact_whatever_the_umask)
{
	struct paths *ps = mkpaths();
	mode_t old = umask(077);

	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "a", 1, 0644), 0);
	CHECK_EQ_INT(mode_of(ps->p), 0644);
	umask(0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "b", 1, 0600), 0);
	CHECK_EQ_INT(mode_of(ps->p), 0600);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "c", 1, 0), 0);
	CHECK_EQ_INT(mode_of(ps->p), 0600); /* 0 means the default, 0600 */
	umask(022);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "d", 1, 0664), 0);
	CHECK_EQ_INT(mode_of(ps->p), 0664);
	umask(old);
}

TEST(stale_temp_symlink_is_not_followed)
{
	struct paths *ps = mkpaths();
	struct stat st;

	REQUIRE(put(ps->other, "precious") == 0);
	REQUIRE(symlink(ps->other, ps->tmp) == 0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "new", 3, 0600), 0);
	CHECK(holds(ps->other, "precious"));
	CHECK(holds(ps->p, "new"));
	CHECK(lstat(ps->p, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(!exists(ps->tmp));
}

TEST(stale_temp_inode_is_not_reused)
{
	struct paths *ps = mkpaths();
	char buf[16];
	int fd;

	/* a stale temp that is also linked elsewhere and still open */
	REQUIRE(put(ps->tmp, "stale") == 0);
	REQUIRE(chmod(ps->tmp, 0666) == 0);
	REQUIRE(link(ps->tmp, ps->other) == 0);
	fd = open(ps->tmp, O_RDONLY);
	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "secret", 6, 0600), 0);
	CHECK(holds(ps->p, "secret"));
	CHECK_EQ_INT(mode_of(ps->p), 0600);
	/* neither the other name nor the old fd sees the new content */
	CHECK(holds(ps->other, "stale"));
	CHECK_EQ_INT(pread(fd, buf, sizeof buf, 0), 5);
	close(fd);
	CHECK(!exists(ps->tmp));
}

TEST(stale_temp_fifo_does_not_block)
{
	struct paths *ps = mkpaths();

	REQUIRE(mkfifo(ps->tmp, 0600) == 0);
	alarm(10); /* a blocking open of the FIFO ends the run, not CI */
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "ok", 2, 0600), 0);
	alarm(0);
	CHECK(holds(ps->p, "ok"));
	CHECK(!exists(ps->tmp));
}

TEST(stale_temp_directory_is_eio_and_keeps_old)
{
	struct paths *ps = mkpaths();

	REQUIRE(hal_storage_write_atomic(ps->p, "old", 3, 0600) == 0);
	REQUIRE(mkdir(ps->tmp, 0700) == 0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "new", 3, 0600), -EIO);
	CHECK(holds(ps->p, "old"));
	rmdir(ps->tmp);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "new", 3, 0600), 0);
	CHECK(holds(ps->p, "new"));
}

TEST(temp_replaced_by_second_writer_is_not_published)
{
	struct paths *ps = mkpaths();
	struct hal_afile f;

	REQUIRE(hal_storage_write_atomic(ps->p, "old", 3, 0600) == 0);
	REQUIRE(hal_storage_afile_open(&f, ps->p, 0600) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "mine", 4), 0);
	/* a second writer (a contract breach) takes over the temp name */
	REQUIRE(unlink(ps->tmp) == 0);
	REQUIRE(put(ps->tmp, "half") == 0);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), -EIO);
	CHECK(holds(ps->p, "old"));
	CHECK(holds(ps->tmp, "half")); /* not ours: left alone */
}

TEST(rename_failure_removes_temp)
{
	struct paths *ps = mkpaths();

	REQUIRE(mkdir(ps->p, 0700) == 0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "x", 1, 0600), -EISDIR);
	CHECK(!exists(ps->tmp));
}

/* Runs one write of `len` bytes under a 4 KiB file size limit, so the
 * data write fails part way (EFBIG); checks come after the limit is
 * lifted, since the runner's own log may be a file too. */
static void write_under_fsize_limit(struct paths *ps, int *ret, int *again,
				    int *commit)
{
	static char big[16384];
	struct rlimit old, lim = { 4096, 4096 };
	void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
	struct hal_afile f;

	memset(big, 'n', sizeof big);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &lim);
	*ret = hal_storage_write_atomic(ps->p, big, sizeof big, 0600);
	*again = hal_storage_afile_open(&f, ps->p, 0600);
	if (*again == 0) {
		*again = hal_storage_afile_write(&f, big, sizeof big);
		if (hal_storage_afile_write(&f, "x", 1) != *again)
			*again = 1;
		*commit = hal_storage_afile_commit(&f);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_sig);
}

TEST(failed_write_removes_temp_and_keeps_old)
{
	struct paths *ps = mkpaths();
	int ret = 0, again = 0, commit = 0;

	REQUIRE(hal_storage_write_atomic(ps->p, "old", 3, 0600) == 0);
	write_under_fsize_limit(ps, &ret, &again, &commit);
	CHECK_EQ_INT(ret, -EIO);
	CHECK_EQ_INT(again, -EIO);  /* sticky: the next write says the same */
	CHECK_EQ_INT(commit, -EIO); /* and commit refuses, removing the temp */
	CHECK(holds(ps->p, "old"));
	CHECK(!exists(ps->tmp));
}

TEST(probe_does_not_follow_symlink)
{
	const char *dir = test_tmpdir();
	char probe[HAL_PATH_MAX + 16], victim[HAL_PATH_MAX + 16];

	snprintf(probe, sizeof probe, "%s/.vigil-probe", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	REQUIRE(put(victim, "precious") == 0);
	REQUIRE(symlink(victim, probe) == 0);
	CHECK_EQ_INT(hal_storage_probe_writable(dir), 0);
	CHECK(holds(victim, "precious"));
	CHECK(!exists(probe));
}

/* Only without root: root passes permission checks (CAP_DAC_OVERRIDE);
 * the integration test covers read-only mounts as root. */
TEST(unwritable_directory_is_eacces)
{
	struct paths *ps = mkpaths();
	char dir[HAL_PATH_MAX];

	if (geteuid() == 0)
		return;
	REQUIRE(hal_storage_write_atomic(ps->p, "old", 3, 0600) == 0);
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(ps->p, '/') - ps->p),
		 ps->p);
	REQUIRE(chmod(dir, 0500) == 0);
	CHECK_EQ_INT(hal_storage_write_atomic(ps->p, "new", 3, 0600), -EACCES);
	CHECK_EQ_INT(hal_storage_probe_writable(dir), -EACCES);
	chmod(dir, 0700);
	CHECK(holds(ps->p, "old"));
	CHECK(!exists(ps->tmp));
}

TEST_SUITE(linux_storage, mode_is_exact_whatever_the_umask,
	   stale_temp_symlink_is_not_followed, stale_temp_inode_is_not_reused,
	   stale_temp_fifo_does_not_block,
	   stale_temp_directory_is_eio_and_keeps_old,
	   temp_replaced_by_second_writer_is_not_published,
	   rename_failure_removes_temp, failed_write_removes_temp_and_keeps_old,
	   probe_does_not_follow_symlink, unwritable_directory_is_eacces)

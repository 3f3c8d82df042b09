/*
 * sim_storage_test.c — what only the sim storage can show: power cuts,
 * injected faults, a full disk and a read-only one.
 */
#include <errno.h>
#include <stdio.h>

#include "hal/sim.h"
#include "hal/storage.h"
#include "test.h"

static char pbuf[HAL_PATH_MAX];

static const char *file_in(const char *dir, const char *name)
{
	snprintf(pbuf, sizeof pbuf, "%s/%s", dir, name);
	return pbuf;
}

TEST(power_cut_keeps_committed_content)
{
	const char *p = file_in(test_tmpdir(), "state");
	struct hal_afile f;
	char buf[16];

	REQUIRE(hal_storage_write_atomic(p, "old", 3, 0600) == 0);
	REQUIRE(hal_storage_afile_open(&f, p, 0600) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "new!", 4), 0);
	CHECK_EQ_INT(hal_sim_storage_file_count(), 2); /* file + temp */
	hal_sim_storage_power_cut();
	CHECK_EQ_INT(hal_sim_storage_file_count(), 1);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
	CHECK_EQ_MEM(buf, "old", 3);
	/* the writer's handle is dead */
	CHECK_EQ_INT(hal_storage_afile_write(&f, "x", 1), -EIO);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), -EIO);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
}

TEST(power_cut_after_commit_keeps_new)
{
	const char *p = file_in(test_tmpdir(), "state");
	char buf[16];

	REQUIRE(hal_storage_write_atomic(p, "old", 3, 0600) == 0);
	REQUIRE(hal_storage_write_atomic(p, "newer", 5, 0600) == 0);
	hal_sim_storage_power_cut();
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 5);
	CHECK_EQ_MEM(buf, "newer", 5);
}

TEST(full_disk_is_enospc_and_keeps_old)
{
	const char *p = file_in(test_tmpdir(), "big");
	static char data[200];
	uint64_t fr, total;
	char buf[256];

	REQUIRE(hal_storage_write_atomic(p, "old", 3, 0600) == 0);
	hal_sim_storage_set_space(100, 1000);
	CHECK_EQ_INT(hal_storage_space("/", &fr, &total), 0);
	CHECK_EQ_INT(fr, 100);
	CHECK_EQ_INT(total, 1000);
	CHECK_EQ_INT(hal_storage_write_atomic(p, data, 101, 0600), -ENOSPC);
	CHECK_EQ_INT(hal_sim_storage_file_count(), 1); /* temp removed */
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
	CHECK_EQ_INT(hal_storage_write_atomic(p, data, 100, 0600), 0);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 100);
	/* old copy freed on commit: 3 bytes back */
	CHECK_EQ_INT(hal_storage_space("/", &fr, &total), 0);
	CHECK_EQ_INT(fr, 3);
	hal_sim_storage_set_space(0, 1000);
	CHECK_EQ_INT(hal_storage_probe_writable("/"), -ENOSPC);
}

TEST(afile_enospc_is_sticky)
{
	const char *p = file_in(test_tmpdir(), "s");
	struct hal_afile f;

	hal_sim_storage_set_space(10, 10);
	REQUIRE(hal_storage_afile_open(&f, p, 0600) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "12345678", 8), 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "123", 3), -ENOSPC);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "1", 1), -ENOSPC);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), -ENOSPC);
	CHECK_EQ_INT(hal_sim_storage_file_count(), 0);
}

TEST(file_size_limit_is_enospc)
{
	const char *p = file_in(test_tmpdir(), "huge");
	struct hal_afile f;
	static char chunk[HAL_SIM_FILE_MAX / 2];

	REQUIRE(hal_storage_afile_open(&f, p, 0600) == 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, chunk, sizeof chunk), 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, chunk, sizeof chunk), 0);
	CHECK_EQ_INT(hal_storage_afile_write(&f, chunk, 1), -ENOSPC);
	hal_storage_afile_abort(&f);
}

TEST(readonly_is_erofs)
{
	const char *dir = test_tmpdir();
	char p[HAL_PATH_MAX], buf[8];
	struct hal_afile f;

	snprintf(p, sizeof p, "%s/x", dir);
	REQUIRE(hal_storage_write_atomic(p, "x", 1, 0600) == 0);
	REQUIRE(hal_storage_afile_open(&f, p, 0600) == 0);
	hal_sim_storage_set_readonly(1);
	CHECK_EQ_INT(hal_storage_afile_write(&f, "y", 1), -EROFS);
	CHECK_EQ_INT(hal_storage_afile_commit(&f), -EROFS);
	CHECK_EQ_INT(hal_storage_write_atomic(p, "y", 1, 0600), -EROFS);
	CHECK_EQ_INT(hal_storage_mkdir(file_in(dir, "d"), 0700), -EROFS);
	CHECK_EQ_INT(hal_storage_remove(p), -EROFS);
	CHECK_EQ_INT(hal_storage_probe_writable(dir), -EROFS);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 1); /* reads work */
	hal_sim_storage_set_readonly(0);
	CHECK_EQ_INT(hal_storage_probe_writable(dir), 0);
	CHECK_EQ_INT(hal_storage_remove(p), 0);
}

TEST(fail_after_hits_the_chosen_call)
{
	const char *p = file_in(test_tmpdir(), "f");
	char buf[8];

	REQUIRE(hal_storage_write_atomic(p, "old", 3, 0600) == 0);
	/* write_atomic = one write + one commit: the commit fails */
	hal_sim_fail_after(2, -EIO);
	CHECK_EQ_INT(hal_storage_write_atomic(p, "new", 3, 0600), -EIO);
	CHECK_EQ_INT(hal_storage_read(p, buf, sizeof buf), 3);
	CHECK_EQ_MEM(buf, "old", 3);
	CHECK_EQ_INT(hal_sim_storage_file_count(), 1);
	/* once only */
	CHECK_EQ_INT(hal_storage_write_atomic(p, "new", 3, 0600), 0);
	hal_sim_fail_after(1, -ENOSPC);
	CHECK_EQ_INT(hal_storage_mkdir("/d", 0700), -ENOSPC);
	hal_sim_fail_after(1, -EIO);
	hal_sim_fail_after(0, 0); /* off again */
	CHECK_EQ_INT(hal_storage_write_atomic(p, "ok", 2, 0600), 0);
}

TEST(node_table_full_is_enospc)
{
	char p[32];
	int ret = 0;
	unsigned made = 0;

	/* "/" takes no slot; a write needs one more slot for its temp file,
	 * which becomes the file's slot at the rename */
	for (unsigned i = 0; i < HAL_SIM_FILES_MAX + 1 && ret == 0; i++) {
		snprintf(p, sizeof p, "/f%u", i);
		ret = hal_storage_write_atomic(p, "x", 1, 0600);
		if (ret == 0)
			made++;
	}
	CHECK_EQ_INT(ret, -ENOSPC);
	CHECK_EQ_INT(made, HAL_SIM_FILES_MAX);
	CHECK_EQ_INT(hal_storage_mkdir("/d", 0700), -ENOSPC);
	CHECK_EQ_INT(hal_storage_remove("/f0"), 0);
	CHECK_EQ_INT(hal_storage_mkdir("/d", 0700), 0); /* the freed slot */
	CHECK_EQ_INT(hal_storage_mkdir("/e", 0700), -ENOSPC);
}

TEST(path_shape)
{
	char buf[4];

	CHECK_EQ_INT(hal_storage_write_atomic("rel", "x", 1, 0600), -ENOENT);
	CHECK_EQ_INT(hal_storage_read("", buf, sizeof buf), -ENOENT);
	CHECK_EQ_INT(hal_storage_read("/", buf, sizeof buf), -EISDIR);
	CHECK_EQ_INT(hal_storage_mkdir("/", 0700), 0);
	CHECK_EQ_INT(hal_storage_write_atomic("/x/", "x", 1, 0600), -ENOENT);
}

TEST_SUITE(sim_storage, power_cut_keeps_committed_content,
	   power_cut_after_commit_keeps_new, full_disk_is_enospc_and_keeps_old,
	   afile_enospc_is_sticky, file_size_limit_is_enospc, readonly_is_erofs,
	   fail_after_hits_the_chosen_call, node_table_full_is_enospc,
	   path_shape)

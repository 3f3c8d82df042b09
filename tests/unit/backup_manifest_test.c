/*
 * backup_manifest_test.c — the client's last-run manifest (firmware/
 * backup/backup_manifest.c) on the sim HAL: none, round trip, lookups by
 * size and mtime, entries kept across partial runs, a damaged file, a
 * full table, a path too long, a save that does not fit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_manifest.h"
#include "hal/sim.h"
#include "hal/storage.h"
#include "test.h"

static struct bk_manifest mf;

static struct bk_mf_entry state(uint64_t size, int64_t s, uint8_t fill)
{
	struct bk_mf_entry e;

	memset(&e, 0, sizeof e);
	e.size = size;
	e.mtime_s = s;
	e.mtime_ns = 7;
	e.mode = 0100644;
	memset(e.sha, fill, sizeof e.sha);
	return e;
}

static void setup(void)
{
	hal_sim_reset();
	REQUIRE(hal_storage_mkdir("/st", 0700) == 0);
}

TEST(manifest_none_then_round_trip)
{
	struct bk_mf_entry a = state(10, 100, 1), b = state(0, -1, 2);
	const struct bk_mf_entry *k;

	setup();
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), 0);
	CHECK(bk_mf_find(&mf, "/a", 10, 100, 7) == NULL);
	CHECK_EQ_INT(bk_mf_put(&mf, "/a", &a), 0);
	CHECK_EQ_INT(bk_mf_put(&mf, "/b", &b), 0);
	/* a run's own puts are found only after the save and load */
	CHECK(bk_mf_find(&mf, "/a", 10, 100, 7) == NULL);
	CHECK_EQ_INT(bk_mf_save(&mf, "/st"), 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), 2);
	k = bk_mf_find(&mf, "/a", 10, 100, 7);
	REQUIRE(k != NULL);
	CHECK(k->sha[0] == 1 && k->sha[31] == 1 && k->mode == 0100644);
	CHECK(bk_mf_find(&mf, "/b", 0, -1, 7) != NULL);
	/* size, seconds and nanoseconds each decide */
	CHECK(bk_mf_find(&mf, "/a", 11, 100, 7) == NULL);
	CHECK(bk_mf_find(&mf, "/a", 10, 101, 7) == NULL);
	CHECK(bk_mf_find(&mf, "/a", 10, 100, 8) == NULL);
	CHECK(bk_mf_find(&mf, "/c", 10, 100, 7) == NULL);
}

TEST(manifest_keeps_what_a_run_did_not_see)
{
	struct bk_mf_entry a = state(10, 100, 1), a2 = state(20, 200, 3),
			   c = state(5, 5, 4);
	const struct bk_mf_entry *k;

	setup();
	REQUIRE(bk_mf_load(&mf, "/st") == 0);
	REQUIRE(bk_mf_put(&mf, "/a", &a) == 0);
	REQUIRE(bk_mf_put(&mf, "/b", &a) == 0);
	REQUIRE(bk_mf_save(&mf, "/st") == 0);
	/* a run over /a (changed) and /c (new) only */
	REQUIRE(bk_mf_load(&mf, "/st") == 2);
	REQUIRE(bk_mf_put(&mf, "/a", &a2) == 0);
	REQUIRE(bk_mf_put(&mf, "/c", &c) == 0);
	REQUIRE(bk_mf_put(&mf, "/c", &c) == 0);        /* named twice */
	REQUIRE(bk_mf_save(&mf, "/st") == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), 3);
	k = bk_mf_find(&mf, "/a", 20, 200, 7);
	CHECK(k != NULL && k->sha[0] == 3);
	CHECK(bk_mf_find(&mf, "/b", 10, 100, 7) != NULL);
	CHECK(bk_mf_find(&mf, "/c", 5, 5, 7) != NULL);
}

TEST(manifest_damaged_is_ignored)
{
	struct bk_mf_entry a = state(10, 100, 1);
	static uint8_t img[8 + 2 * sizeof(struct bk_mf_entry)];
	int n;

	setup();
	REQUIRE(bk_mf_load(&mf, "/st") == 0);
	REQUIRE(bk_mf_put(&mf, "/a", &a) == 0);
	REQUIRE(bk_mf_put(&mf, "/b", &a) == 0);
	REQUIRE(bk_mf_save(&mf, "/st") == 0);
	n = hal_storage_read("/st/manifest", img, sizeof img);
	REQUIRE(n == (int)sizeof img);
	/* one byte short */
	REQUIRE(hal_storage_write_atomic("/st/manifest", img, sizeof img - 1,
					 0600) == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), -EBADMSG);
	CHECK_EQ_INT(mf.f.count, 0);
	/* another magic */
	img[0] ^= 1;
	REQUIRE(hal_storage_write_atomic("/st/manifest", img, sizeof img,
					 0600) == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), -EBADMSG);
	img[0] ^= 1;
	/* a count beyond the bytes */
	img[4] = 3;
	REQUIRE(hal_storage_write_atomic("/st/manifest", img, sizeof img,
					 0600) == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), -EBADMSG);
	img[4] = 2;
	/* keys out of order */
	memcpy(img + 8, img + 8 + sizeof(struct bk_mf_entry), BK_MF_KEY);
	REQUIRE(hal_storage_write_atomic("/st/manifest", img, sizeof img,
					 0600) == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), -EBADMSG);
	CHECK(bk_mf_find(&mf, "/a", 10, 100, 7) == NULL);
	/* empty file */
	REQUIRE(hal_storage_write_atomic("/st/manifest", img, 0, 0600) == 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), -EBADMSG);
}

TEST(manifest_full_table_and_limits)
{
	struct bk_mf_entry a = state(1, 1, 1);
	char path[32], dir[HAL_PATH_MAX];
	unsigned i;

	setup();
	bk_mf_init(&mf);
	for (i = 0; i < BACKUP_MANIFEST_MAX; i++) {
		snprintf(path, sizeof path, "/f%u", i);
		if (bk_mf_put(&mf, path, &a) != 0)
			break;
	}
	CHECK_EQ_INT(i, BACKUP_MANIFEST_MAX);
	CHECK_EQ_INT(bk_mf_put(&mf, "/one-more", &a), -ENOSPC);
	CHECK_EQ_INT(mf.full, 1);
	/* the sim's largest file is smaller than a full table: the save
	 * fails and the old manifest stays */
	CHECK(bk_mf_save(&mf, "/st") < 0);
	CHECK_EQ_INT(bk_mf_load(&mf, "/st"), 0);
	memset(dir, 'd', sizeof dir - 1);
	dir[sizeof dir - 1] = '\0';
	CHECK_EQ_INT(bk_mf_load(&mf, dir), -ENAMETOOLONG);
	CHECK_EQ_INT(bk_mf_save(&mf, dir), -ENAMETOOLONG);
}

TEST_SUITE(backup_manifest, manifest_none_then_round_trip,
	   manifest_keeps_what_a_run_did_not_see, manifest_damaged_is_ignored,
	   manifest_full_table_and_limits);

/*
 * The executor's end-of-task cleanup (sandbox_cleanup_spark) on real trees
 * under a mkdtemp() dir: Spark's blockmgr-* and spark-<uuid> directories go,
 * the user's other spark-* directories stay, and a symlink is never
 * followed, not even in the middle of the distribution probe.
 */
#include "harness.h"
#include "tree.h"

#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define UUID_DIR "spark-1b2c3d4e-0000-4000-8000-0123456789ab"

/* A file of 4 KiB at root/rel. */
static void
file(const char *rel)
{
	tree_file(rel, 4096);
}

TEST(spark_temp_names)
{
	CHECK_EQ_INT(cleanup_is_spark_temp(UUID_DIR), 1);
	CHECK_EQ_INT(cleanup_is_spark_temp("spark-00000000-0000-0000-0000-000000000000"), 1);
	CHECK_EQ_INT(cleanup_is_spark_temp("spark-fedcba98-7654-3210-abcd-ef0123456789"), 1);
	const char *no[] = {
	    "spark-warehouse",
	    "spark-events",
	    "spark-1234",
	    "spark-",
	    "spark",
	    "",
	    "spark-1B2C3D4E-0000-4000-8000-0123456789AB",  /* upper case: not Java's */
	    "spark-1b2c3d4e-0000-4000-8000-0123456789ab0", /* one digit too many */
	    "spark-1b2c3d4e-0000-4000-8000-0123456789a",   /* one too few */
	    "spark-1b2c3d4e00000-4000-8000-0123456789ab",  /* a dash missing */
	    "spark-1b2c3d4e-0000-4000-8000-0123456789ag",
	    "spark-1b2c3d4e-0000-4000-8000-0123456789ab/",
	    "Spark-1b2c3d4e-0000-4000-8000-0123456789ab",
	    "xspark-1b2c3d4e-0000-4000-8000-0123456789ab",
	    "spark-3.5.1-bin-hadoop3",
	    "blockmgr-1b2c3d4e-0000-4000-8000-0123456789ab",
	};
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		if (cleanup_is_spark_temp(no[i]))
			HARNESS_FAIL("'%s' taken for a Spark temp dir", no[i]);
	}
}

TEST(cleanup_removes_only_spark_temp_and_blockmgr)
{
	struct cleanup_result r;
	struct spx_error err = {0};

	CHECK_EQ_INT(tree_root_new("spex-cleanup"), 0);
	file(UUID_DIR "/userFiles-1/app.jar");
	file(UUID_DIR "/blockmgr-2/0c/shuffle_0_0_0.data");
	file("blockmgr-1/0c/rdd_0_1");
	/* Spark SQL's managed tables, the event log, and other spark-* names:
	 * the user's data, although `du` counts them as spark_temp. */
	file("spark-warehouse/db.db/t/part-00000.parquet");
	file("spark-events/app-20261124-0001");
	file("spark-1234/keep");
	file("spark-1B2C3D4E-0000-4000-8000-0123456789AB/keep");
	file("spark-3.5.1-bin-hadoop3/bin/spark-class");
	file("stdout");
	CHECK_EQ_INT(sandbox_cleanup_spark(tree_root, false, &r, &err), 0);
	CHECK(!tree_exists(UUID_DIR));
	CHECK(!tree_exists("blockmgr-1"));
	CHECK(tree_exists("spark-warehouse/db.db/t/part-00000.parquet"));
	CHECK(tree_exists("spark-events/app-20261124-0001"));
	CHECK(tree_exists("spark-1234/keep"));
	CHECK(tree_exists("spark-1B2C3D4E-0000-4000-8000-0123456789AB/keep"));
	CHECK(tree_exists("spark-3.5.1-bin-hadoop3/bin/spark-class"));
	CHECK(tree_exists("stdout"));
	CHECK_EQ_INT(r.errors, 0);
	CHECK(r.removed >= 8); /* 2 top dirs, 5 below, 2 files */
	tree_root_rm();
}

/* A spark-<uuid> temp dir whose bin is a symlink to a distribution
 * elsewhere: the probe must not follow it (the dir would pass for the
 * distribution and stay); the link goes, its target stays. */
TEST(cleanup_probe_does_not_follow_a_bin_symlink)
{
	struct cleanup_result r;
	struct spx_error err = {0};
	char target[512], link[512];

	CHECK_EQ_INT(tree_root_new("spex-cleanup"), 0);
	file("outside/bin/spark-class");
	file(UUID_DIR "/userFiles-1/app.jar");
	tree_path("outside/bin", target, sizeof(target));
	tree_path(UUID_DIR "/bin", link, sizeof(link));
	CHECK_EQ_INT(symlink(target, link), 0);
	CHECK_EQ_INT(sandbox_cleanup_spark(tree_root, false, &r, &err), 0);
	CHECK(!tree_exists(UUID_DIR));
	CHECK(tree_exists("outside/bin/spark-class"));
	tree_root_rm();
}

int
main(void)
{
	RUN(spark_temp_names);
	RUN(cleanup_removes_only_spark_temp_and_blockmgr);
	RUN(cleanup_probe_does_not_follow_a_bin_symlink);
	return harness_done();
}

/* Disk report thresholds, soft and hard limits, sizes, pre-flight; cleanup. */
#include "cleanup.h"
#include "disk_policy.h"
#include "harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024ULL * 1024)
#define SEC 1000000000LL

static struct disk_settings
settings(void)
{
	struct disk_settings s = {.soft_ratio = 0.9, .enabled = true};
	return s;
}

TEST(report_thresholds)
{
	struct disk_settings s = settings();
	struct disk_state st = {0};
	CHECK_EQ_INT(disk_decide(&st, &s, 1000 * MIB, 0, 0, false), DISK_REPORT);       /* first */
	CHECK_EQ_INT(disk_decide(&st, &s, 1005 * MIB, 0, SEC, false), 0);               /* +0.5 % */
	CHECK_EQ_INT(disk_decide(&st, &s, 1011 * MIB, 0, 2 * SEC, false), DISK_REPORT); /* 1.1 % */
	CHECK_EQ_INT(disk_decide(&st, &s, 1011 * MIB, 0, 3 * SEC, false), 0);
	/* Five minutes without a report: one goes out anyway. */
	CHECK_EQ_INT(disk_decide(&st, &s, 1011 * MIB, 0, 2 * SEC + DISK_REPORT_MAX_AGE_NS, false),
	             DISK_REPORT);
	/* Small sandboxes: 16 MiB absolute is enough... */
	struct disk_state small = {0};
	disk_decide(&small, &s, 10 * MIB, 0, 0, false);
	CHECK_EQ_INT(disk_decide(&small, &s, 10 * MIB + 90 * 1024, 0, SEC, false), 0);
	CHECK_EQ_INT(disk_decide(&small, &s, 10 * MIB + 200 * 1024, 0, SEC, false), DISK_REPORT);
	/* ...and 1 % of a tiny sandbox too; shrinking counts as well. */
	CHECK_EQ_INT(disk_decide(&small, &s, 2 * MIB, 0, 2 * SEC, false), DISK_REPORT);
	/* Never while the previous report is unacknowledged. */
	CHECK_EQ_INT(disk_decide(&small, &s, 900 * MIB, 0, 3 * SEC, true), 0);
	CHECK_EQ_INT(disk_decide(&small, &s, 900 * MIB, 0, 4 * SEC, false), DISK_REPORT);
}

TEST(soft_and_hard)
{
	struct disk_settings s = settings();
	struct disk_state st = {0};
	uint64_t limit = 1000 * MIB;
	CHECK_EQ_INT(disk_decide(&st, &s, 100 * MIB, limit, 0, false), DISK_REPORT);
	CHECK_EQ_INT(disk_decide(&st, &s, 950 * MIB, limit, SEC, true), DISK_REPORT | DISK_SOFT);
	/* Once per crossing. */
	CHECK_EQ_INT(disk_decide(&st, &s, 960 * MIB, limit, 2 * SEC, false) & DISK_SOFT, 0);
	CHECK_EQ_INT(disk_decide(&st, &s, 500 * MIB, limit, 3 * SEC, false), DISK_REPORT);
	CHECK_EQ_INT(disk_decide(&st, &s, 920 * MIB, limit, 4 * SEC, false),
	             DISK_REPORT | DISK_SOFT);
	CHECK_EQ_INT(disk_decide(&st, &s, 1000 * MIB, limit, 5 * SEC, false) & DISK_HARD, 0);
	CHECK_EQ_INT(disk_decide(&st, &s, 1000 * MIB + 1, limit, 6 * SEC, false), DISK_HARD);
}

TEST(sizes)
{
	struct spx_error err = {0};
	uint64_t v;
	CHECK_EQ_INT(parse_bytes("1073741824", &v, &err), 0);
	CHECK_EQ_INT(v, 1ULL << 30);
	CHECK_EQ_INT(parse_bytes("512k", &v, &err), 0);
	CHECK_EQ_INT(v, 512 * 1024);
	CHECK_EQ_INT(parse_bytes("100MiB", &v, &err), 0);
	CHECK_EQ_INT(v, 100 * MIB);
	CHECK_EQ_INT(parse_bytes("1.5G", &v, &err), 0);
	CHECK_EQ_INT(v, 1536 * MIB);
	CHECK_EQ_INT(parse_bytes("2TB", &v, &err), 0);
	CHECK_EQ_INT(v, 2ULL << 40);
	CHECK_EQ_INT(parse_bytes("12B", &v, &err), 0);
	CHECK_EQ_INT(v, 12);
	CHECK_EQ_INT(parse_bytes("-1", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("1X", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("99999999999999999999T", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("nan", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes(" 5", &v, &err), -1); /* strtod would skip the blank */
	CHECK_EQ_INT(parse_bytes("+5", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("inf", &v, &err), -1);
	CHECK_EQ_INT(parse_bytes("0x10", &v, &err), -1);
	spx_error_clear(&err);
}

static const char *const *envp;
static const char *
fake_env(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *p = envp; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

TEST(settings_env)
{
	struct disk_settings s;
	struct spx_error err = {0};
	const char *none[] = {NULL};
	envp = none;
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), 0);
	CHECK(s.interval_ns == 10 * SEC && s.soft_ratio == 0.9 && s.cleanup && !s.keep_shuffle);
	CHECK(s.min_free_bytes == 512 * MIB && s.min_free_inodes == 10000 && s.limit_bytes == 0);
	const char *some[] = {"SPEX_DISK_INTERVAL=1500ms", "SPEX_DISK_LIMIT=2G",
	                      "SPEX_CLEANUP=none",         "SPEX_KEEP_SHUFFLE=1",
	                      "SPEX_DISK_SOFT_RATIO=0.5",  NULL};
	envp = some;
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), 0);
	CHECK(s.interval_ns == 1500 * 1000000LL && s.limit_bytes == 2048 * MIB && !s.cleanup &&
	      s.keep_shuffle && s.soft_ratio == 0.5);
	const char *bad[] = {"SPEX_CLEANUP=all", NULL};
	envp = bad;
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "SPEX_CLEANUP") != NULL);
	const char *bad2[] = {"SPEX_DISK_SOFT_RATIO=1.5", NULL};
	envp = bad2;
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), -1);
	const char *bad3[] = {"SPEX_DISK_INTERVAL=1ms", NULL};
	envp = bad3;
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), -1);
	spx_error_clear(&err);
}

/* SPEX_MIN_FREE_INODES is digits only: strtoull took " -1" as 2^64-1. */
TEST(min_free_inodes_digits_only)
{
	struct disk_settings s;
	struct spx_error err = {0};
	static char var[64];
	const char *env[] = {var, NULL};
	const char *bad[] = {" 1", "-1", "+5", "1 ", " -1", "18446744073709551616"};
	envp = env;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(var, sizeof(var), "SPEX_MIN_FREE_INODES=%s", bad[i]);
		if (disk_settings_from_env(&s, fake_env, &err) != -1 ||
		    strncmp(spx_error_msg(&err), "SPEX_MIN_FREE_INODES: expected a number", 39) !=
		        0)
			HARNESS_FAIL("'%s' -> %llu (%s)", bad[i],
			             (unsigned long long)s.min_free_inodes, spx_error_msg(&err));
	}
	snprintf(var, sizeof(var), "SPEX_MIN_FREE_INODES= 1");
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "SPEX_MIN_FREE_INODES: expected a number (digits only), got ' 1'");
	snprintf(var, sizeof(var), "SPEX_MIN_FREE_INODES=");
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), 0); /* empty: the default */
	CHECK(s.min_free_inodes == 10000);
	snprintf(var, sizeof(var), "SPEX_MIN_FREE_INODES=18446744073709551615");
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), 0);
	CHECK(s.min_free_inodes == UINT64_MAX);
	snprintf(var, sizeof(var), "SPEX_MIN_FREE_INODES=0");
	CHECK_EQ_INT(disk_settings_from_env(&s, fake_env, &err), 0);
	CHECK(s.min_free_inodes == 0);
	spx_error_clear(&err);
}

TEST(preflight)
{
	struct disk_settings s = settings();
	struct spx_error err = {0};
	s.min_free_bytes = 512 * MIB;
	s.min_free_inodes = 1000;
	CHECK_EQ_INT(disk_preflight(&s, 600 * MIB, 5000, &err), 0);
	CHECK_EQ_INT(disk_preflight(&s, 120 * MIB, 5000, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "sandbox filesystem has 120 MiB free, below SPEX_MIN_FREE_BYTES 512 MiB");
	CHECK_EQ_INT(disk_preflight(&s, 600 * MIB, 10, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "10 free inodes") != NULL);
	s.min_free_bytes = s.min_free_inodes = 0; /* disabled */
	CHECK_EQ_INT(disk_preflight(&s, 0, 0, &err), 0);
	spx_error_clear(&err);
}

static char root[64];

static void
mk(const char *rel, int is_dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (is_dir) {
		mkdir(p, 0755);
		return;
	}
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0) {
		if (write(fd, "0123456789", 10) != 10)
			printf("  short write %s\n", p);
		close(fd);
	}
}

static int
exists(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return access(p, F_OK) == 0;
}

static void
spark_tree(void)
{
	snprintf(root, sizeof(root), "/tmp/spex-cleanup-XXXXXX");
	if (!mkdtemp(root))
		abort();
	mk("blockmgr-1", 1);
	mk("blockmgr-1/0a", 1);
	mk("blockmgr-1/0a/shuffle_0_1_0.data", 0);
	mk("blockmgr-1/0a/shuffle_0_1_0.index", 0);
	mk("blockmgr-1/0a/rdd_0_1", 0);
	mk("spark-1b2c3d4e-0000-4000-8000-000000000000", 1);
	mk("spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1", 1);
	mk("spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1/app.jar", 0);
	mk("spark-3.5.1-bin-hadoop3", 1);
	mk("spark-3.5.1-bin-hadoop3/RELEASE", 0);
	mk("stderr", 0);
	mk("outside", 1);
	mk("outside/precious", 0);
	char link[256], target[256];
	/* A symlink inside the block manager pointing out: removed as a link,
	 * its target untouched. */
	snprintf(link, sizeof(link), "%s/blockmgr-1/0a/escape", root);
	snprintf(target, sizeof(target), "%s/outside", root);
	if (symlink(target, link) < 0)
		perror(link);
	/* A top-level symlink named like a block manager: not followed. */
	snprintf(link, sizeof(link), "%s/blockmgr-2", root);
	if (symlink(target, link) < 0)
		perror(link);
}

static void
rm_root(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("  cleanup failed\n");
}

TEST(cleanup_spark_leftovers)
{
	struct cleanup_result r;
	struct spx_error err = {0};
	spark_tree();
	CHECK_EQ_INT(sandbox_cleanup_spark(root, false, &r, &err), 0);
	CHECK(!exists("blockmgr-1"));
	CHECK(!exists("spark-1b2c3d4e-0000-4000-8000-000000000000"));
	CHECK(exists("spark-3.5.1-bin-hadoop3/RELEASE"));
	CHECK(exists("stderr"));
	CHECK(exists("outside/precious"));
	CHECK(exists("blockmgr-2")); /* the symlink itself stays */
	CHECK(r.reclaimed_bytes > 0);
	CHECK_EQ_INT(r.errors, 0);
	CHECK_EQ_INT(r.kept, 0);
	rm_root();
}

TEST(cleanup_keep_shuffle)
{
	struct cleanup_result r;
	struct spx_error err = {0};
	spark_tree();
	CHECK_EQ_INT(sandbox_cleanup_spark(root, true, &r, &err), 0);
	CHECK(exists("blockmgr-1/0a/shuffle_0_1_0.data"));
	CHECK(exists("blockmgr-1/0a/shuffle_0_1_0.index"));
	CHECK(!exists("blockmgr-1/0a/rdd_0_1"));
	CHECK(!exists("spark-1b2c3d4e-0000-4000-8000-000000000000"));
	CHECK(exists("outside/precious"));
	CHECK_EQ_INT(r.kept, 2);
	CHECK_EQ_INT(sandbox_cleanup_spark("/nonexistent-spex", false, &r, &err), -1);
	spx_error_clear(&err);
	rm_root();
}

int
main(void)
{
	RUN(report_thresholds);
	RUN(soft_and_hard);
	RUN(sizes);
	RUN(settings_env);
	RUN(min_free_inodes_digits_only);
	RUN(preflight);
	RUN(cleanup_spark_leftovers);
	RUN(cleanup_keep_shuffle);
	return harness_done();
}

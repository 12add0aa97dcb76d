/*
 * spex gc's plan and its execution (sandbox/reclaim.h, cleanup_remove_at)
 * on real trees under a mkdtemp() dir: what is planned is what goes,
 * symlinks are never followed, logs keep their tail, nothing else moves.
 */
#include "harness.h"
#include "tree.h"

#include "reclaim.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB 1024u
#define MIB (1024u * KIB)

static int
tree(void)
{
	char link[512], target[512];

	if (tree_root_new("spex-reclaim") < 0)
		return -1;
	tree_mkdirs("sb/blockmgr-1/0c");
	tree_file("sb/blockmgr-1/0c/shuffle_0_1_0.data", 64 * KIB);
	tree_file("sb/blockmgr-1/rdd_0_1", 8 * KIB);
	tree_mkdirs("sb/spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1");
	tree_file("sb/spark-1b2c3d4e-0000-4000-8000-000000000000/userFiles-1/app.jar", 16 * KIB);
	tree_mkdirs("sb/spark-3.5.1-bin-hadoop3/jars");
	tree_file("sb/spark-3.5.1-bin-hadoop3/jars/core.jar", 32 * KIB);
	tree_mkdirs("sb/custom-build/bin"); /* a distribution by its content */
	tree_file("sb/custom-build/bin/spark-class", 4 * KIB);
	tree_file("sb/stdout", 300 * KIB);
	tree_file("sb/stderr", 4 * KIB);    /* small: stays as it is */
	tree_file("sb/app.log", 400 * KIB); /* not stdout/stderr: stays */
	tree_file("sb/spark-3.5.1-bin-hadoop3.tgz", 4 * KIB);
	tree_mkdirs("sb/.spex");
	tree_file("sb/.spex/state.json", 100);
	tree_mkdirs("sb/work");
	tree_file("sb/work/result", 4 * KIB);
	tree_mkdirs("outside");
	tree_file("outside/precious", 4 * KIB);
	tree_path("outside", target, sizeof(target));
	tree_path("sb/blockmgr-1/escape", link, sizeof(link));
	if (symlink(target, link) < 0)
		return -1;
	tree_path("sb/blockmgr-2", link, sizeof(link)); /* top-level symlink named like one */
	if (symlink(target, link) < 0)
		return -1;
	tree_path("outside/precious", target, sizeof(target));
	tree_path("sb/stderr.link", link, sizeof(link));
	return symlink(target, link);
}

static int
open_sb(void)
{
	char p[512];
	tree_path("sb", p, sizeof(p));
	return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static const struct reclaim_item *
item(const struct reclaim_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->items[i].name, name) == 0)
			return &p->items[i];
	}
	return NULL;
}

TEST(plan_lists_the_leftovers)
{
	struct reclaim_opts o = {.log_tail = 64 * KIB};
	struct reclaim_plan p;
	struct spx_error err = {0};

	CHECK_EQ_INT(tree(), 0);
	int fd = open_sb();
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	CHECK_EQ_INT(p.n, 5);
	CHECK_EQ_INT(p.errors, 0);
	/* by name, the log last */
	CHECK_EQ_STR(p.items[0].name, "blockmgr-1");
	CHECK_EQ_STR(p.items[1].name, "custom-build");
	CHECK_EQ_STR(p.items[2].name, "spark-1b2c3d4e-0000-4000-8000-000000000000");
	CHECK_EQ_STR(p.items[3].name, "spark-3.5.1-bin-hadoop3");
	CHECK_EQ_STR(p.items[4].name, "stdout");
	CHECK_EQ_INT(p.items[4].kind, RECLAIM_LOG);
	CHECK_EQ_INT(p.items[0].kind, RECLAIM_BLOCKMGR);
	CHECK_EQ_INT(item(&p, "custom-build")->kind, RECLAIM_DIST);
	CHECK_EQ_INT(item(&p, "spark-3.5.1-bin-hadoop3")->kind, RECLAIM_DIST);
	CHECK_EQ_INT(p.items[2].kind, RECLAIM_SPARK_TEMP);
	/* blockmgr-1: 2 dirs + 2 files + the escape link, counted as themselves */
	CHECK_EQ_INT(item(&p, "blockmgr-1")->entries, 5);
	CHECK(item(&p, "blockmgr-1")->bytes >= 72 * KIB);
	CHECK(item(&p, "stdout")->bytes >= 200 * KIB);
	CHECK(item(&p, "blockmgr-2") == NULL && item(&p, "stderr") == NULL);
	CHECK(item(&p, "app.log") == NULL && item(&p, ".spex") == NULL);
	uint64_t sum = 0;
	for (size_t i = 0; i < p.n; i++)
		sum += p.items[i].bytes;
	CHECK_EQ_INT(sum, p.bytes);
	/* A plan touches nothing. */
	CHECK(tree_exists("sb/blockmgr-1/0c/shuffle_0_1_0.data"));
	CHECK_EQ_INT(tree_size("sb/stdout"), 300 * KIB);
	reclaim_plan_free(&p);
	close(fd);
	tree_root_rm();
}

TEST(apply_removes_exactly_the_plan)
{
	struct reclaim_opts o = {.log_tail = 64 * KIB};
	struct reclaim_plan p;
	struct spx_error err = {0};

	CHECK_EQ_INT(tree(), 0);
	int fd = open_sb();
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	for (size_t i = 0; i < p.n; i++) {
		struct cleanup_result r = {0};
		CHECK_EQ_INT(reclaim_apply(fd, &p.items[i], &o, &r), 0);
		CHECK_EQ_INT(r.errors, 0);
		if (p.items[i].kind != RECLAIM_LOG) {
			CHECK_EQ_INT(r.reclaimed_bytes, p.items[i].bytes); /* as planned */
			CHECK_EQ_INT(r.removed, p.items[i].entries);
		} else {
			CHECK(r.reclaimed_bytes > 0);
		}
	}
	CHECK(!tree_exists("sb/blockmgr-1"));
	CHECK(!tree_exists("sb/custom-build"));
	CHECK(!tree_exists("sb/spark-1b2c3d4e-0000-4000-8000-000000000000"));
	CHECK(!tree_exists("sb/spark-3.5.1-bin-hadoop3"));
	/* the rest stays */
	CHECK(tree_exists("outside/precious"));
	CHECK(tree_exists("sb/blockmgr-2"));
	CHECK(tree_exists("sb/stderr.link"));
	CHECK_EQ_INT(tree_size("sb/stderr"), 4 * KIB);
	CHECK_EQ_INT(tree_size("sb/app.log"), 400 * KIB);
	CHECK(tree_exists("sb/spark-3.5.1-bin-hadoop3.tgz"));
	CHECK_EQ_INT(tree_size("sb/.spex/state.json"), 100);
	CHECK(tree_exists("sb/work/result"));
	/* stdout: the marker, then exactly its last 64 KiB */
	char path[512], buf[128];
	tree_path("sb/stdout", path, sizeof(path));
	FILE *f = fopen(path, "re");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(buf, sizeof(buf), f) != NULL);
		CHECK_EQ_STR(buf, "[spex gc: 00000000000000241664 bytes dropped here]\n");
		size_t off = 300 * KIB - 64 * KIB, n = 0;
		int c, ok = 1;
		while ((c = fgetc(f)) != EOF) {
			ok &= c == 'a' + (int)((off + n) % 26);
			n++;
		}
		CHECK(ok);
		CHECK_EQ_INT(n, 64 * KIB);
		fclose(f);
	}
	/* A second plan finds nothing. */
	reclaim_plan_free(&p);
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	CHECK_EQ_INT(p.n, 0);
	reclaim_plan_free(&p);
	close(fd);
	tree_root_rm();
}

TEST(apply_refuses_a_swapped_entry)
{
	struct reclaim_opts o = {.log_tail = 64 * KIB};
	struct reclaim_plan p;
	struct spx_error err = {0};
	char a[512], b[512];

	CHECK_EQ_INT(tree(), 0);
	int fd = open_sb();
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	/* Between plan and apply, blockmgr-1 becomes a symlink to outside, and
	 * stdout another file (made while the old one exists: another inode). */
	tree_path("sb/blockmgr-1", a, sizeof(a));
	tree_path("sb/blockmgr-1.old", b, sizeof(b));
	CHECK_EQ_INT(rename(a, b), 0);
	tree_path("outside", b, sizeof(b));
	CHECK_EQ_INT(symlink(b, a), 0);
	tree_file("sb/stdout.new", 300 * KIB);
	tree_path("sb/stdout.new", b, sizeof(b));
	tree_path("sb/stdout", a, sizeof(a));
	CHECK_EQ_INT(rename(b, a), 0);
	struct cleanup_result r = {0};
	CHECK_EQ_INT(reclaim_apply(fd, item(&p, "blockmgr-1"), &o, &r), 1);
	CHECK_EQ_INT(reclaim_apply(fd, item(&p, "stdout"), &o, &r), 1);
	CHECK_EQ_INT(r.errors, 2);
	CHECK(strstr(r.first_error, "blockmgr-1: ") == r.first_error);
	CHECK(tree_exists("outside/precious"));
	CHECK_EQ_INT(tree_size("sb/stdout"), 300 * KIB);
	/* Gone meanwhile: nothing to do, not an error. */
	struct cleanup_result r2 = {0};
	tree_path("sb/custom-build", a, sizeof(a));
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a);
	CHECK_EQ_INT(system(cmd), 0);
	CHECK_EQ_INT(reclaim_apply(fd, item(&p, "custom-build"), &o, &r2), 0);
	CHECK_EQ_INT(r2.errors, 0);
	reclaim_plan_free(&p);
	close(fd);
	tree_root_rm();
}

TEST(hard_linked_log_is_left_alone)
{
	struct reclaim_opts o = {.log_tail = 64 * KIB};
	struct reclaim_plan p;
	struct spx_error err = {0};
	char a[512], b[512];

	CHECK_EQ_INT(tree(), 0);
	tree_path("sb/stdout", a, sizeof(a));
	tree_path("outside/stdout-link", b, sizeof(b));
	CHECK_EQ_INT(link(a, b), 0); /* a second name, out of the sandbox */
	int fd = open_sb();
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	CHECK(item(&p, "stdout") == NULL);
	reclaim_plan_free(&p);
	close(fd);
	tree_root_rm();
}

TEST(remove_at_dry_run_and_symlinks)
{
	struct cleanup_opts dry = {.dry_run = true, .one_dev = true};
	struct cleanup_opts wet = {.dry_run = false, .one_dev = true};
	struct cleanup_result r1 = {0}, r2 = {0}, r3 = {0};

	CHECK_EQ_INT(tree(), 0);
	int fd = open_sb();
	CHECK_EQ_INT(cleanup_remove_at(fd, "blockmgr-1", &dry, &r1), 0);
	CHECK(tree_exists("sb/blockmgr-1/rdd_0_1"));
	CHECK_EQ_INT(cleanup_remove_at(fd, "blockmgr-1", &wet, &r2), 0);
	CHECK(!tree_exists("sb/blockmgr-1"));
	CHECK_EQ_INT(r1.reclaimed_bytes, r2.reclaimed_bytes);
	CHECK_EQ_INT(r1.removed, r2.removed);
	/* A symlink is removed as a link, its target untouched. */
	CHECK_EQ_INT(cleanup_remove_at(fd, "blockmgr-2", &wet, &r3), 0);
	CHECK(!tree_exists("sb/blockmgr-2"));
	CHECK(tree_exists("outside/precious"));
	CHECK_EQ_INT(cleanup_remove_at(fd, "no-such-entry", &wet, &r3), 0);
	CHECK_EQ_INT(r3.errors, 0);
	close(fd);
	tree_root_rm();
}

/* Top-level spark-* directories other than spark-<uuid> are the user's
 * (Spark SQL's spark-warehouse/, the event log's spark-events/), and a
 * directory whose bin is a symlink to a distribution elsewhere is no
 * distribution: gc plans none of them, and nothing below them goes. */
TEST(user_spark_dirs_and_a_bin_symlink_are_not_planned)
{
	struct reclaim_opts o = {.log_tail = 64 * KIB};
	struct reclaim_plan p;
	struct spx_error err = {0};
	char target[512], link[512];

	CHECK_EQ_INT(tree(), 0);
	tree_mkdirs("sb/spark-warehouse/db.db/t");
	tree_file("sb/spark-warehouse/db.db/t/part-00000.parquet", 8 * KIB);
	tree_mkdirs("sb/spark-events");
	tree_file("sb/spark-events/app-20261124-0001", 8 * KIB);
	tree_mkdirs("sb/spark-1234");
	tree_file("sb/spark-1234/keep", 4 * KIB);
	tree_mkdirs("outside/bin");
	tree_file("outside/bin/spark-class", 4 * KIB);
	tree_mkdirs("sb/mytool");
	tree_file("sb/mytool/data", 4 * KIB);
	tree_path("outside/bin", target, sizeof(target));
	tree_path("sb/mytool/bin", link, sizeof(link));
	CHECK_EQ_INT(symlink(target, link), 0);
	int fd = open_sb();
	CHECK_EQ_INT(reclaim_plan(fd, &o, &p, &err), 0);
	CHECK(item(&p, "spark-warehouse") == NULL);
	CHECK(item(&p, "spark-events") == NULL);
	CHECK(item(&p, "spark-1234") == NULL);
	CHECK(item(&p, "mytool") == NULL);
	CHECK(item(&p, "spark-1b2c3d4e-0000-4000-8000-000000000000") != NULL);
	CHECK_EQ_INT(p.n, 5); /* as in plan_lists_the_leftovers */
	for (size_t i = 0; i < p.n; i++) {
		struct cleanup_result r = {0};
		CHECK_EQ_INT(reclaim_apply(fd, &p.items[i], &o, &r), 0);
	}
	CHECK(!tree_exists("sb/spark-1b2c3d4e-0000-4000-8000-000000000000"));
	CHECK(tree_exists("sb/spark-warehouse/db.db/t/part-00000.parquet"));
	CHECK(tree_exists("sb/spark-events/app-20261124-0001"));
	CHECK(tree_exists("sb/spark-1234/keep"));
	CHECK(tree_exists("sb/mytool/data") && tree_exists("sb/mytool/bin"));
	CHECK(tree_exists("outside/bin/spark-class"));
	reclaim_plan_free(&p);
	close(fd);
	tree_root_rm();
}

int
main(void)
{
	RUN(plan_lists_the_leftovers);
	RUN(apply_removes_exactly_the_plan);
	RUN(apply_refuses_a_swapped_entry);
	RUN(hard_linked_log_is_left_alone);
	RUN(remove_at_dry_run_and_symlinks);
	RUN(user_spark_dirs_and_a_bin_symlink_are_not_planned);
	return harness_done();
}

/* Spark categories of sandbox paths: every rule of the table, and odd names. */
#include "classify.h"
#include "harness.h"
#include "util.h"

#define F 0 /* the last component is not a directory */
#define D 1 /* it is */

#define CHECK_CAT(path, is_dir, want)                                                              \
	do {                                                                                       \
		enum disk_cat _got = classify_path((path), (is_dir));                              \
		if (_got != (want))                                                                \
			HARNESS_FAIL("classify_path(\"%s\", %s) = %s, want %s", (path),            \
			             (is_dir) ? "dir" : "file", disk_cat_name(_got),               \
			             disk_cat_name(want));                                         \
	} while (0)

TEST(names)
{
	static const char *const want[] = {"shuffle", "blocks", "spark_temp", "dist",
	                                   "logs",    "dumps",  "spex",       "other"};
	CHECK_EQ_INT(ARRAY_SIZE(want), CAT_COUNT);
	for (int c = 0; c < CAT_COUNT; c++) {
		CHECK_EQ_STR(disk_cat_name(c), want[c]);
		CHECK_EQ_INT(disk_cat_from_name(want[c]), c);
	}
	CHECK_EQ_STR(disk_cat_name(CAT_COUNT), "invalid");
	CHECK_EQ_STR(disk_cat_name((enum disk_cat)(CAT_COUNT + 7)), "invalid");
	CHECK_EQ_INT(disk_cat_from_name("Shuffle"), -1);
	CHECK_EQ_INT(disk_cat_from_name(""), -1);
}

TEST(glob)
{
	CHECK(classify_glob("*", ""));
	CHECK(classify_glob("*", "abc"));
	CHECK(classify_glob("a*c", "ac"));
	CHECK(classify_glob("a*c", "abbbc"));
	CHECK(!classify_glob("a*c", "abcd"));
	CHECK(classify_glob("shuffle_*.data", "shuffle_0_1_0.data"));
	CHECK(!classify_glob("shuffle_*.data", "shuffle_0_1_0.data.tmp"));
	CHECK(classify_glob("shuffle_*.data.*", "shuffle_0_1_0.data.1b2c"));
	CHECK(classify_glob("spark-*-bin-*", "spark-3.5.1-bin-hadoop3"));
	CHECK(!classify_glob("spark-*-bin-*", "spark-3.5.1-hadoop3"));
	CHECK(classify_glob("*.log.#", "x.log.1"));
	CHECK(classify_glob("*.log.#", "x.log.123"));
	CHECK(!classify_glob("*.log.#", "x.log."));
	CHECK(!classify_glob("*.log.#", "x.log.1a"));
	CHECK(classify_glob("a#b", "a12b"));
	CHECK(!classify_glob("a#b", "ab"));
	CHECK(classify_glob("#1", "11"));
	CHECK(classify_glob("", ""));
	CHECK(!classify_glob("", "a"));
	CHECK(!classify_glob("abc", "ab"));
}

TEST(root)
{
	CHECK_CAT("", D, CAT_OTHER);
	CHECK_CAT(".", D, CAT_OTHER);
	CHECK_CAT("/", D, CAT_OTHER);
	CHECK_CAT("./", D, CAT_OTHER);
}

TEST(spex_dir)
{
	CHECK_CAT(".spex", D, CAT_SPEX);
	CHECK_CAT(".spex/state.json", F, CAT_SPEX);
	CHECK_CAT(".spex/a/b/c.log", F, CAT_SPEX);
	CHECK_CAT(".spex/hs_err_pid1.log", F, CAT_SPEX);
	CHECK_CAT(".spex/blockmgr-1/shuffle_0_0_0.data", F, CAT_SPEX);
	CHECK_CAT(".spexfoo", D, CAT_OTHER);
	CHECK_CAT(".spexfoo", F, CAT_OTHER);
	CHECK_CAT(".spexfoo/x", F, CAT_OTHER);
	CHECK_CAT(".spex", F, CAT_OTHER); /* a file called .spex is not the directory */
	CHECK_CAT("work/.spex", D, CAT_OTHER);
	CHECK_CAT("work/.spex/x", F, CAT_OTHER);
	CHECK_CAT("./.spex//x", F, CAT_SPEX);
}

TEST(shuffle_and_blocks)
{
	const char *bm = "spark-0a1b2c3d-1111-2222-3333-444455556666/"
	                 "blockmgr-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff";
	char p[512];

#define IN_BM(rel) (snprintf(p, sizeof(p), "%s/%s", bm, (rel)), p)
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.data"), F, CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.index"), F, CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.checksum"), F, CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.checksum.ADLER32"), F, CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.data.7d1f3e2a-0000-1111-2222-333344445555"), F,
	          CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.index.7d1f3e2a-0000-1111-2222-333344445555"), F,
	          CAT_SHUFFLE);
	CHECK_CAT(IN_BM("0c/rdd_2_3"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/broadcast_4_piece0"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/temp_local_1b2c"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/temp_shuffle_1b2c"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.dat"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/shuffle_0_5_0.data"), D, CAT_BLOCKS); /* a directory so named */
	CHECK_CAT(IN_BM("0c/app.log"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/hs_err_pid7.log"), F, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c"), D, CAT_BLOCKS);
	CHECK_CAT(IN_BM("0c/deeper/still/shuffle_1_1_0.data"), F, CAT_SHUFFLE);
	CHECK_CAT(bm, D, CAT_BLOCKS);
#undef IN_BM

	/* blockmgr-* at the top, and at depth in unclaimed directories. */
	CHECK_CAT("blockmgr-1/00/shuffle_0_0_0.data", F, CAT_SHUFFLE);
	CHECK_CAT("blockmgr-1", D, CAT_BLOCKS);
	CHECK_CAT("tmp/x/blockmgr-1/3f/shuffle_0_0_0.index", F, CAT_SHUFFLE);
	CHECK_CAT("tmp/x/blockmgr-1/3f/rdd_0_0", F, CAT_BLOCKS);
	CHECK_CAT("spark-1/userFiles-2/blockmgr-3/00/shuffle_0_0_0.data", F, CAT_SHUFFLE);
	/* ... but a file named blockmgr-* is not a block manager. */
	CHECK_CAT("blockmgr-1", F, CAT_OTHER);
	/* shuffle_ outside a block manager is not shuffle. */
	CHECK_CAT("shuffle_0_0_0.data", F, CAT_OTHER);
	CHECK_CAT("work/shuffle_0_0_0.data", F, CAT_OTHER);
	CHECK_CAT("spark-1/shuffle_0_0_0.data", F, CAT_SPARK_TEMP);
	/* Inside the distribution, blockmgr-* is the distribution. */
	CHECK_CAT("spark-3.5.1-bin-hadoop3/blockmgr-1/shuffle_0_0_0.data", F, CAT_DIST);
}

TEST(spark_temp)
{
	CHECK_CAT("spark-0a1b2c3d-1111-2222-3333-444455556666", D, CAT_SPARK_TEMP);
	CHECK_CAT("spark-0a1b2c3d-1111-2222-3333-444455556666/userFiles-1/app.jar", F,
	          CAT_SPARK_TEMP);
	CHECK_CAT("spark-0a1b2c3d-1111-2222-3333-444455556666/userFiles-1", D, CAT_SPARK_TEMP);
	CHECK_CAT("spark-1/x.log", F, CAT_SPARK_TEMP);
	CHECK_CAT("spark-1/hs_err_pid3.log", F, CAT_SPARK_TEMP);
	CHECK_CAT("spark-1/stdout", F, CAT_SPARK_TEMP);
	/* spark-* files at the root are not temp dirs. */
	CHECK_CAT("spark-defaults.conf", F, CAT_OTHER);
	CHECK_CAT("spark-1", F, CAT_OTHER);
	CHECK_CAT("spark-events.log", F, CAT_LOGS);
	/* Only at the top. */
	CHECK_CAT("tmp/spark-1", D, CAT_OTHER);
	CHECK_CAT("tmp/spark-1/x", F, CAT_OTHER);
	CHECK_CAT("spark", D, CAT_OTHER);
	CHECK_CAT("spark-", D, CAT_SPARK_TEMP);
}

static int
fake_probe(void *arg, const char *name, const char *rel)
{
	const char *dist = arg;
	return strcmp(rel, "bin/spark-class") == 0 && strcmp(name, dist) == 0;
}

TEST(dist)
{
	CHECK_CAT("spark-3.5.1-bin-hadoop3", D, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3/bin/spark-class", F, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3/jars/spark-core_2.12-3.5.1.jar", F, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3/logs/x.log", F, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3/conf/hs_err_pid1.log", F, CAT_DIST);
	CHECK_CAT("spark-2.4.8-bin-without-hadoop", D, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3", F, CAT_OTHER); /* e.g. a symlink */
	/* Fetched archives and jars, at the root only. */
	CHECK_CAT("spark-3.5.1-bin-hadoop3.tgz", F, CAT_DIST);
	CHECK_CAT("spark-3.5.1-bin-hadoop3.tar.gz", F, CAT_DIST);
	CHECK_CAT("app.zip", F, CAT_DIST);
	CHECK_CAT("app-assembly-1.0.jar", F, CAT_DIST);
	CHECK_CAT("lib/app.jar", F, CAT_OTHER);
	CHECK_CAT("app.tar", F, CAT_OTHER);
	CHECK_CAT("app.jar", D, CAT_OTHER);
	CHECK_CAT("core.jar", F, CAT_DIST); /* archives before core.* */

	/* bin/spark-class makes any top-level directory the distribution. */
	CHECK_EQ_INT(classify_path_probe("myspark", D, fake_probe, "myspark"), CAT_DIST);
	CHECK_EQ_INT(classify_path_probe("myspark/README.md", F, fake_probe, "myspark"), CAT_DIST);
	CHECK_EQ_INT(classify_path_probe("myspark/x.log", F, fake_probe, "myspark"), CAT_DIST);
	CHECK_EQ_INT(classify_path_probe("spark-3.5.1/a", F, fake_probe, "spark-3.5.1"), CAT_DIST);
	CHECK_EQ_INT(classify_path_probe("spark-3.5.1/a", F, fake_probe, "x"), CAT_SPARK_TEMP);
	CHECK_EQ_INT(classify_path_probe("other/x.log", F, fake_probe, "myspark"), CAT_LOGS);
	/* ... not below the top, not files, not without a probe. */
	CHECK_EQ_INT(classify_path_probe("a/myspark/x", F, fake_probe, "myspark"), CAT_OTHER);
	CHECK_EQ_INT(classify_path_probe("myspark", F, fake_probe, "myspark"), CAT_OTHER);
	CHECK_CAT("myspark/README.md", F, CAT_OTHER);
	/* .spex and -bin- win before the probe is asked. */
	CHECK_EQ_INT(classify_path_probe(".spex/x", F, fake_probe, ".spex"), CAT_SPEX);
}

TEST(logs)
{
	CHECK_CAT("stdout", F, CAT_LOGS);
	CHECK_CAT("stderr", F, CAT_LOGS);
	CHECK_CAT("stdout.1", F, CAT_LOGS);
	CHECK_CAT("stderr.10", F, CAT_LOGS);
	CHECK_CAT("stdout.logrotate.conf", F, CAT_LOGS);
	CHECK_CAT("stdout.logrotate.state", F, CAT_LOGS);
	CHECK_CAT("stdout", D, CAT_OTHER);
	CHECK_CAT("work/stdout", F, CAT_OTHER); /* stdout* only at the top */
	CHECK_CAT("executor.log", F, CAT_LOGS);
	CHECK_CAT("executor.log.1", F, CAT_LOGS);
	CHECK_CAT("executor.log.12", F, CAT_LOGS);
	CHECK_CAT("logs/deep/er/gc.log", F, CAT_LOGS);
	CHECK_CAT("logs/gc.log.0", F, CAT_LOGS);
	CHECK_CAT("gc.log.0.current", F, CAT_OTHER);
	CHECK_CAT("x.log.", F, CAT_OTHER);
	CHECK_CAT("x.logs", F, CAT_OTHER);
	CHECK_CAT(".log", F, CAT_LOGS);
	CHECK_CAT("logs", D, CAT_OTHER);
	CHECK_CAT("x.log", D, CAT_OTHER);
}

TEST(dumps)
{
	CHECK_CAT("hs_err_pid12.log", F, CAT_DUMPS);
	CHECK_CAT("hs_err_pid12.log", D, CAT_OTHER);
	CHECK_CAT("work/hs_err_pid12.log", F, CAT_DUMPS);
	CHECK_CAT("hs_err_pid12.log.1", F, CAT_LOGS); /* not hs_err_pid*.log */
	CHECK_CAT("java_pid12.hprof", F, CAT_DUMPS);
	CHECK_CAT("dumps/heap.hprof", F, CAT_DUMPS);
	CHECK_CAT("core", F, CAT_DUMPS);
	CHECK_CAT("core.12345", F, CAT_DUMPS);
	CHECK_CAT("work/core.12345", F, CAT_DUMPS);
	CHECK_CAT("core", D, CAT_OTHER);
	CHECK_CAT("corefile", F, CAT_OTHER);
	CHECK_CAT("stdout.hprof", F, CAT_LOGS); /* stdout* comes first */
}

TEST(odd_names)
{
	CHECK_CAT("my file.log", F, CAT_LOGS);
	CHECK_CAT("a\nb.log", F, CAT_LOGS);
	CHECK_CAT("line\nbreak", F, CAT_OTHER);
	CHECK_CAT("spark-1\n/x", F, CAT_SPARK_TEMP);
	CHECK_CAT("blockmgr-\n/shuffle_\n.data", F, CAT_SHUFFLE);
	CHECK_CAT(" stdout", F, CAT_OTHER);
	CHECK_CAT("stdout ", F, CAT_LOGS);
	CHECK_CAT("STDOUT", F, CAT_OTHER); /* names are case-sensitive */
	CHECK_CAT("x.LOG", F, CAT_OTHER);
	CHECK_CAT("..", D, CAT_OTHER);
	CHECK_CAT("../stdout", F, CAT_OTHER); /* ".." is a plain name */
	CHECK_CAT("a//b///c.log", F, CAT_LOGS);
	CHECK_CAT("/stdout", F, CAT_LOGS); /* leading '/' is an empty component */
	CHECK_CAT("\xff\xfe.log", F, CAT_LOGS);
	CHECK_CAT("blockmgr-", D, CAT_BLOCKS);
	CHECK_CAT("-", F, CAT_OTHER);
}

TEST(incremental_matches_path)
{
	/* The scanner's component-at-a-time walk gives the same answers. */
	static const struct {
		const char *comps[4];
		enum disk_cat want;
	} cases[] = {
	    {{"spark-1", "blockmgr-2", "00", "shuffle_0_0_0.data"}, CAT_SHUFFLE},
	    {{"spark-1", "blockmgr-2", "00", "rdd_0_0"}, CAT_BLOCKS},
	    {{"spark-3.5.1-bin-hadoop3", "jars", "a.jar", NULL}, CAT_DIST},
	    {{".spex", "x", NULL, NULL}, CAT_SPEX},
	    {{"work", "gc.log", NULL, NULL}, CAT_LOGS},
	    {{"stdout", NULL, NULL, NULL}, CAT_LOGS},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cls_ctx ctx;
		char path[256] = "";
		enum disk_cat cat = CAT_OTHER;
		size_t n = 0;
		while (n < 4 && cases[i].comps[n])
			n++;
		classify_root(&ctx);
		for (size_t j = 0; j < n; j++) {
			struct cls_ctx child;
			int last = j + 1 == n;
			cat = classify_entry(&ctx, cases[i].comps[j], !last, NULL, NULL, &child);
			if (!last)
				ctx = child;
			strcat(path, cases[i].comps[j]);
			if (!last)
				strcat(path, "/");
		}
		CHECK_EQ_INT(cat, cases[i].want);
		CHECK_CAT(path, F, cases[i].want);
	}
}

int
main(void)
{
	RUN(names);
	RUN(glob);
	RUN(root);
	RUN(spex_dir);
	RUN(shuffle_and_blocks);
	RUN(spark_temp);
	RUN(dist);
	RUN(logs);
	RUN(dumps);
	RUN(odd_names);
	RUN(incremental_matches_path);
	return harness_done();
}

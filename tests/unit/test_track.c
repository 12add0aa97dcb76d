/*
 * The incremental tracker against real trees under a mkdtemp() dir: after
 * every kind of change (files created, appended, truncated, deleted,
 * renamed across categories; directories created, moved, removed whole;
 * hard links; symlinks), track_process() + track_refresh() must give
 * exactly what a fresh scan_sandbox() gives on the same tree, and du -sB1.
 * Inotify events are queued by the very syscall that makes the change, so
 * no test sleeps. Tests that need what the machine cannot give (a mount
 * namespace) are reported as skipped with the reason, never as passed.
 */
#include "harness.h"
#include "track.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t _x = (a), _y = (b);                                                       \
		if (_x != _y)                                                                      \
			HARNESS_FAIL("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, _x, _y);         \
	} while (0)

/* --- tree helpers --------------------------------------------------------------- */

static char root[256];    /* the current test tree */
static char outside[300]; /* a directory next to it, outside the sandbox */

static void
tree_new(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/spex-track-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(outside, sizeof(outside), "%s.out", root);
	mkdir(outside, 0755);
}

static void
tree_rm(void)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	if (system(cmd) != 0)
		printf("  warning: could not remove %s\n", root);
}

static char *
at(const char *rel)
{
	static char path[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", root, rel);
	return path[i];
}

static void
mkdirs(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

static void
write_n(int fd, size_t size)
{
	static const char block[4096];
	while (size > 0) {
		size_t n = size < sizeof(block) ? size : sizeof(block);
		if (write(fd, block, n) != (ssize_t)n)
			abort();
		size -= n;
	}
}

/* Create root/rel with size bytes (parents made as needed). */
static void
put(const char *rel, size_t size)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(dir);
	}
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(at(rel));
		abort();
	}
	write_n(fd, size);
	close(fd);
}

static void
append(const char *rel, size_t size)
{
	int fd = open(at(rel), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		perror(at(rel));
		abort();
	}
	write_n(fd, size);
	close(fd);
}

static void
sh(const char *fmt, const char *a, const char *b)
{
	char cmd[2600];
	snprintf(cmd, sizeof(cmd), fmt, a, b);
	if (system(cmd) != 0)
		printf("  warning: '%s' failed\n", cmd);
}

static void
mv(const char *from, const char *to)
{
	if (rename(at(from), at(to)) < 0) {
		perror(at(to));
		abort();
	}
}

static void
rm_rf(const char *rel)
{
	sh("rm -rf '%s'%s", at(rel), "");
}

static uint64_t
du_root(int apparent)
{
	char cmd[600];
	unsigned long long v = 0;
	snprintf(cmd, sizeof(cmd), "du %s '%s' 2>/dev/null", apparent ? "-sb" : "-sB1", root);
	FILE *f = popen(cmd, "r");
	if (!f)
		abort();
	if (fscanf(f, "%llu", &v) != 1)
		v = UINT64_MAX;
	pclose(f);
	return v;
}

/* --- comparing ---------------------------------------------------------------------- */

static struct track *
open_track(const struct track_opts *o)
{
	struct spx_error err = {0};
	struct track *t = track_new(root, o, &err);
	if (!t)
		HARNESS_FAIL("track_new %s: %s", root, spx_error_msg(&err));
	spx_error_clear(&err);
	return t;
}

static int
same(const struct scan_result *a, const struct scan_result *b, const char *what, int cats)
{
	int ok = 1;
	for (int c = 0; cats && c < CAT_COUNT; c++) {
		if (a->bytes[c] != b->bytes[c] || a->apparent[c] != b->apparent[c] ||
		    a->files[c] != b->files[c]) {
			HARNESS_FAIL(
			    "%s: %s: track %" PRIu64 " B %" PRIu64 " apparent %" PRIu64
			    " files, scan %" PRIu64 " B %" PRIu64 " apparent %" PRIu64 " files",
			    what, disk_cat_name((enum disk_cat)c), a->bytes[c], a->apparent[c],
			    a->files[c], b->bytes[c], b->apparent[c], b->files[c]);
			ok = 0;
		}
	}
#define SAME(f)                                                                                    \
	if (a->f != b->f) {                                                                        \
		HARNESS_FAIL("%s: " #f ": track %" PRIu64 ", scan %" PRIu64, what, (uint64_t)a->f, \
		             (uint64_t)b->f);                                                      \
		ok = 0;                                                                            \
	}
	SAME(total_bytes);
	SAME(total_apparent);
	SAME(entries);
	SAME(dirs);
	SAME(hardlinks_deduped);
	SAME(mounts_skipped);
#undef SAME
	return ok;
}

/* Events, then a full refresh: the tracker must agree with a fresh scan,
 * per category when cats, and with du. Returns the tracker's totals. */
static struct scan_result
check_cats(struct track *t, const char *what, int cats, int with_du)
{
	struct scan_result a, b;
	struct spx_error err = {0};
	struct scan_opts one = {.threads = 1};

	memset(&a, 0, sizeof(a));
	if (track_process(t, 0, &err) < 0)
		HARNESS_FAIL("%s: track_process: %s", what, spx_error_msg(&err));
	enum track_status st = track_refresh(t, 0, &a);
	if (st != TRACK_CURRENT)
		HARNESS_FAIL("%s: status %s", what, track_status_name(st));
	if (scan_sandbox(root, &one, &b, &err) < 0) {
		HARNESS_FAIL("%s: scan: %s", what, spx_error_msg(&err));
		spx_error_clear(&err);
		return a;
	}
	same(&a, &b, what, cats);
	if (with_du) {
		uint64_t du_b = du_root(0), du_a = du_root(1);
		if (a.total_bytes != du_b || a.total_apparent != du_a)
			HARNESS_FAIL("%s: du -sB1 %" PRIu64 " -sb %" PRIu64 ", track %" PRIu64
			             " %" PRIu64,
			             what, du_b, du_a, a.total_bytes, a.total_apparent);
	}
	spx_error_clear(&err);
	return a;
}

static struct scan_result
check(struct track *t, const char *what)
{
	return check_cats(t, what, 1, 1);
}

static const char *temp_dir = "spark-0a1b2c3d-1111-2222-3333-444455556666";
static const char *bm_dir =
    "spark-0a1b2c3d-1111-2222-3333-444455556666/blockmgr-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff";

static void
spark_tree(void)
{
	char p[512];
	put("stdout", 1000);
	put("stderr", 5000);
	put("gc.log", 100);
	put("app.jar", 11000);
	put("spark-3.5.1-bin-hadoop3/bin/spark-class", 500);
	put("spark-3.5.1-bin-hadoop3/jars/a.jar", 20000);
	put(".spex/state", 100);
	put("work/other.bin", 6000);
	snprintf(p, sizeof(p), "%s/userFiles-1/app.jar", temp_dir);
	put(p, 7000);
	for (int d = 0; d < 4; d++) {
		for (int f = 0; f < 20; f++) {
			snprintf(p, sizeof(p), "%s/%02x/shuffle_%d_%d_0.data", bm_dir, d, d, f);
			put(p, (size_t)(f * 700 + 1));
		}
	}
	snprintf(p, sizeof(p), "blockmgr-aaaa/0c/rdd_0_1");
	put(p, 12000);
}

static const char *
bm(const char *rest)
{
	static char p[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", bm_dir, rest);
	return p[i];
}

/* --- tests ---------------------------------------------------------------------------- */

TEST(root_errors)
{
	struct spx_error err = {0};
	CHECK(track_new("/nonexistent/spex", NULL, &err) == NULL);
	CHECK_EQ_INT(err.errnum, ENOENT);
	CHECK(strstr(spx_error_msg(&err), "/nonexistent/spex") != NULL);
	spx_error_clear(&err);
	tree_new();
	put("file", 10);
	CHECK(track_new(at("file"), NULL, &err) == NULL);
	CHECK_EQ_INT(err.errnum, ENOTDIR);
	spx_error_clear(&err);
	tree_rm();
}

TEST(index_matches_scan)
{
	tree_new();
	spark_tree();
	struct track *t = open_track(NULL);
	if (t) {
		int fd = track_fd(t);
		CHECK(fd >= 0);
		CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		CHECK_EQ_INT(track_status(t), TRACK_CURRENT);
		struct scan_result r = check(t, "initial");
		CHECK_EQ_U64(r.files[CAT_SHUFFLE], 80);
		CHECK_EQ_U64(r.files[CAT_BLOCKS], 1);
		CHECK(r.bytes[CAT_DIST] > 0 && r.bytes[CAT_SPEX] > 0 && r.bytes[CAT_LOGS] > 0);
		struct track_stats s;
		track_get_stats(t, &s);
		CHECK_EQ_U64(s.dirs, r.dirs);
		CHECK_EQ_U64(s.watches, r.dirs);
		CHECK_EQ_U64(s.entries, r.entries);
		CHECK(s.mem_bytes > 0);
		/* Nothing happened: a refresh does nothing. */
		uint64_t stats = s.stats;
		struct scan_result again;
		CHECK_EQ_INT(track_refresh(t, 0, &again), TRACK_CURRENT);
		track_get_stats(t, &s);
		CHECK_EQ_U64(s.stats, stats);
		same(&again, &r, "again", 1);
	}
	track_free(t);
	tree_rm();
}

TEST(file_changes)
{
	tree_new();
	spark_tree();
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	put(bm("00/shuffle_9_1_0.data"), 30000);
	put("stdout.1", 4096);
	check(t, "created");
	append(bm("00/shuffle_0_1_0.data"), 100000);
	append("stdout", 5);
	check(t, "appended");
	CHECK(truncate(at(bm("00/shuffle_0_1_0.data")), 10) == 0);
	CHECK(truncate(at("stderr"), 0) == 0);
	CHECK(truncate(at("gc.log"), 1 << 20) == 0); /* sparse: apparent only */
	check(t, "truncated");
	CHECK(unlink(at(bm("01/shuffle_1_3_0.data"))) == 0);
	CHECK(unlink(at("app.jar")) == 0);
	check(t, "deleted");
	/* A shuffle temp file renamed to its final name, and over an old one. */
	put(bm("02/shuffle_2_0_0.data.0a1b2c3d"), 7777);
	mv(bm("02/shuffle_2_0_0.data.0a1b2c3d"), bm("02/shuffle_2_99_0.data"));
	put(bm("02/shuffle_2_1_0.data.tmp"), 123);
	mv(bm("02/shuffle_2_1_0.data.tmp"), bm("02/shuffle_2_2_0.data"));
	check(t, "renamed");
	/* Across categories: out of the block manager into logs and other. */
	mv(bm("03/shuffle_3_4_0.data"), "moved.log");
	mv(bm("03/shuffle_3_5_0.data"), "work/moved");
	mv("work/other.bin", bm("03/rdd_7_7"));
	check(t, "moved across categories");
	/* In and out of the sandbox. */
	char p[700];
	snprintf(p, sizeof(p), "%s/incoming", outside);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	write_n(fd, 9000);
	close(fd);
	CHECK(rename(p, at("incoming.log")) == 0);
	snprintf(p, sizeof(p), "%s/gone", outside);
	CHECK(rename(at("stdout.1"), p) == 0);
	CHECK(chmod(at("stdout"), 0600) == 0);
	check(t, "in and out");
	/* A name that changes kind: file, then directory, then symlink. */
	put("work/shape", 100);
	check(t, "shape file");
	CHECK(unlink(at("work/shape")) == 0);
	put("work/shape/inner.log", 2000);
	check(t, "shape dir");
	rm_rf("work/shape");
	CHECK(symlink("/etc", at("work/shape")) == 0);
	check(t, "shape symlink");
	/* Created and deleted between two refreshes: never counted. */
	put("flash", 50000);
	CHECK(unlink(at("flash")) == 0);
	check(t, "flash");
out:
	track_free(t);
	tree_rm();
}

TEST(directory_changes)
{
	char p[700];
	tree_new();
	spark_tree();
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	/* A new block manager subdirectory with files, and a new block
	 * manager in a new temp dir, both made after indexing. */
	for (int i = 0; i < 30; i++) {
		snprintf(p, sizeof(p), "0a/shuffle_5_%d_0.data", i);
		put(bm(p), (size_t)(i * 300));
	}
	put("spark-99999999-1111-2222-3333-444455556666/blockmgr-1/0a/shuffle_1_1_0.index", 800);
	put("spark-99999999-1111-2222-3333-444455556666/blockmgr-1/3f/rdd_1_1", 80000);
	check(t, "new dirs");
	/* Directory moves: inside a category, across categories, out, in. */
	mv(bm("0a"), bm("0b"));
	check(t, "dir renamed");
	mv(bm("0b"), "work/0b");
	check(t, "dir to other");
	mv("work/0b", bm("0c"));
	check(t, "dir back to blocks");
	snprintf(p, sizeof(p), "%s/away", outside);
	CHECK(rename(at(bm("0c")), p) == 0);
	check(t, "dir moved out");
	CHECK(rename(p, at("work/back")) == 0);
	check(t, "dir moved in");
	/* Two directories swap names. */
	mv(bm("00"), bm("swap"));
	mv(bm("01"), bm("00"));
	mv(bm("swap"), bm("01"));
	check(t, "dirs swapped");
	/* rm -rf of a whole subtree, then of a whole temp dir. */
	rm_rf(bm("02"));
	check(t, "rm -rf subdir");
	rm_rf(temp_dir);
	check(t, "rm -rf temp dir");
	/* A deep chain made and removed between refreshes, then one kept. */
	char deep[4096] = "deep";
	for (int i = 0; i < 100; i++)
		strcat(deep, "/d");
	strcat(deep, "/bottom.log");
	put(deep, 10);
	rm_rf("deep");
	check(t, "deep made and gone");
	put(deep, 10);
	check(t, "deep kept");
	/* A directory replaced by a symlink to a full directory outside. */
	snprintf(p, sizeof(p), "%s/full", outside);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/full/big", outside);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	write_n(fd, 200000);
	close(fd);
	rm_rf("work");
	snprintf(p, sizeof(p), "%s/full", outside);
	CHECK(symlink(p, at("work")) == 0);
	struct scan_result r = check(t, "dir replaced by symlink");
	/* A directory that was a file: the index entry must become a dir. */
	put("later", 10);
	check(t, "later file");
	CHECK(unlink(at("later")) == 0);
	put("later/x.log", 10);
	check(t, "later dir");
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK_EQ_U64(s.watches, r.dirs + 1);
out:
	track_free(t);
	tree_rm();
}

/* A directory moved before the index has resolved its old name: the new
 * name is resolved first (it was queued earlier, as a file), and the
 * watch the kernel hands back is the old place's. */
TEST(dir_moved_new_name_first)
{
	tree_new();
	put("a/sub/f1", 5000);
	put("a/sub/deeper/f2", 6000);
	mkdirs("b");
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	put("b/sub", 10); /* queues (b, sub) first */
	CHECK(unlink(at("b/sub")) == 0);
	mv("a/sub", "b/sub");
	put("b/sub/f3", 7000);
	check(t, "moved");
	put("b/sub/deeper/f4", 100);
	CHECK(unlink(at("b/sub/f1")) == 0);
	check(t, "still watched");
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK_EQ_U64(s.watches, 5);
	CHECK_EQ_U64(s.losses, 0);
out:
	track_free(t);
	tree_rm();
}

TEST(coalesced)
{
	tree_new();
	put(bm("00/shuffle_0_0_0.data"), 10);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	struct track_stats before, after;
	track_get_stats(t, &before);
	int fd = open(at(bm("00/shuffle_0_0_0.data")), O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0);
	for (int i = 0; i < 10000; i++)
		CHECK(write(fd, "0123456789", 10) == 10);
	close(fd);
	struct scan_result r = check(t, "10000 writes");
	CHECK_EQ_U64(r.apparent[CAT_SHUFFLE], 100010);
	track_get_stats(t, &after);
	/* One re-stat for the file (the directory did not change). */
	CHECK_EQ_U64(after.stats - before.stats, 1);
	CHECK(after.events - before.events >= 2);
out:
	track_free(t);
	tree_rm();
}

TEST(hard_links)
{
	char p[700];
	tree_new();
	put("a/data", 50000);
	if (link(at("a/data"), at("a/data2")) < 0)
		HARNESS_FAIL("link: %s", strerror(errno));
	put("a/single", 10);
	put("work/plain.bin", 30000);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	struct scan_result r = check(t, "linked before");
	CHECK_EQ_U64(r.hardlinks_deduped, 1);
	/* A plain file gets a second name after indexing (same category). */
	CHECK(link(at("work/plain.bin"), at("work/plain2.bin")) == 0);
	r = check(t, "linked after");
	CHECK_EQ_U64(r.hardlinks_deduped, 2);
	append("work/plain2.bin", 8192);
	check(t, "written through the second name");
	CHECK(unlink(at("work/plain.bin")) == 0);
	r = check(t, "first name gone");
	CHECK_EQ_U64(r.hardlinks_deduped, 1);
	CHECK(unlink(at("a/data")) == 0);
	CHECK(unlink(at("a/data2")) == 0);
	r = check(t, "all names gone");
	CHECK_EQ_U64(r.hardlinks_deduped, 0);
	/* A link from outside: still once. */
	snprintf(p, sizeof(p), "%s/ext", outside);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	write_n(fd, 4000);
	close(fd);
	CHECK(link(p, at("ext")) == 0);
	check(t, "link from outside");
	/* Names in two categories: counted once (in one of them). */
	put("x.bin", 20000);
	CHECK(link(at("x.bin"), at("x.log")) == 0);
	r = check_cats(t, "two categories", 0, 1);
	CHECK_EQ_U64(r.hardlinks_deduped, 1);
	CHECK(r.apparent[CAT_LOGS] + r.apparent[CAT_OTHER] >= 20000);
out:
	track_free(t);
	tree_rm();
}

TEST(symlinks_not_followed)
{
	char p[700];
	tree_new();
	snprintf(p, sizeof(p), "%s/target", outside);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/target/big", outside);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	write_n(fd, 100000);
	close(fd);
	snprintf(p, sizeof(p), "%s/target", outside);
	mkdirs("blockmgr-1");
	CHECK(symlink(p, at("blockmgr-1/00")) == 0);
	CHECK(symlink("../../etc/passwd", at("stdout")) == 0);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	struct scan_result r = check(t, "links");
	CHECK(r.total_apparent < 100000);
	CHECK_EQ_U64(r.files[CAT_BLOCKS], 1);
	CHECK_EQ_U64(r.files[CAT_LOGS], 1);
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK_EQ_U64(s.watches, 2);
	/* Writing where the link points changes nothing here. */
	snprintf(p, sizeof(p), "%s/target/more", outside);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	write_n(fd, 100000);
	close(fd);
	r = check(t, "target written");
	CHECK(r.total_apparent < 100000);
	/* A symlink replaced by a directory, and a symlink to a directory of
	 * the sandbox itself. */
	CHECK(unlink(at("blockmgr-1/00")) == 0);
	put("blockmgr-1/00/shuffle_0_0_0.data", 3000);
	CHECK(symlink("00", at("blockmgr-1/01")) == 0);
	r = check(t, "link to a sandbox dir");
	CHECK_EQ_U64(r.files[CAT_SHUFFLE], 1);
out:
	track_free(t);
	tree_rm();
}

/* A top-level directory is the distribution when it holds bin/spark-class:
 * that can change after indexing, and everything below moves category. */
TEST(reclassified)
{
	tree_new();
	put("custom/jars/a.jar", 30000);
	put("custom/README", 1000);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	struct scan_result r = check(t, "plain dir");
	CHECK_EQ_U64(r.files[CAT_DIST], 0);
	put("custom/bin/spark-class", 100);
	r = check(t, "gained bin/spark-class");
	CHECK_EQ_U64(r.files[CAT_DIST], 3);
	CHECK(unlink(at("custom/bin/spark-class")) == 0);
	r = check(t, "lost spark-class");
	CHECK_EQ_U64(r.files[CAT_DIST], 0);
	put("custom/bin/spark-class", 100);
	check(t, "again");
	mv("custom/bin", "custom/nobin");
	r = check(t, "bin renamed");
	CHECK_EQ_U64(r.files[CAT_DIST], 0);
	put("other/bin/spark-class", 1);
	r = check(t, "new dist dir");
	CHECK_EQ_U64(r.files[CAT_DIST], 1);
out:
	track_free(t);
	tree_rm();
}

static long
sysctl_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* More events than the kernel queues: IN_Q_OVERFLOW. The tracker must say
 * its totals are unreliable, reconcile, and end up right. */
TEST(queue_overflow)
{
	long max = sysctl_long("/proc/sys/fs/inotify/max_queued_events");
	if (max <= 0 || max > 200000)
		SKIP("max_queued_events is %ld", max);
	tree_new();
	put(bm("00/shuffle_0_0_0.data"), 10);
	mkdirs(bm("01"));
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	char p[700];
	/* Each file: IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE. */
	int dfd = open(at(bm("01")), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (long i = 0; i < max / 2 + 100; i++) {
		snprintf(p, sizeof(p), "shuffle_1_%ld_0.data", i);
		int fd = openat(dfd, p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, "x", 1) != 1) {
			HARNESS_FAIL("creating %s: %s", p, strerror(errno));
			break;
		}
		close(fd);
	}
	for (long i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "shuffle_1_%ld_0.data", i);
		unlinkat(dfd, p, 0);
	}
	close(dfd);
	struct scan_result r;
	CHECK_EQ_INT(track_refresh(t, 10, &r), TRACK_NEEDS_RESCAN);
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK(s.losses >= 1);
	CHECK(s.reconciling);
	CHECK_EQ_INT(track_status(t), TRACK_NEEDS_RESCAN);
	r = check_cats(t, "after overflow", 1, 0);
	CHECK_EQ_U64(r.files[CAT_SHUFFLE], (uint64_t)(max / 2 + 100 - 200 + 1));
	track_get_stats(t, &s);
	CHECK(!s.reconciling);
	CHECK(s.reconciles >= 1);
	/* And it keeps tracking. */
	append(bm("00/shuffle_0_0_0.data"), 5000);
	check_cats(t, "after reconciling", 1, 0);
out:
	track_free(t);
	tree_rm();
}

/* Bounded work: a burst is worked off over several refreshes. */
TEST(budget)
{
	char p[700];
	tree_new();
	put("stdout", 10);
	for (int i = 0; i < 16; i++) {
		snprintf(p, sizeof(p), "%02x", i);
		mkdirs(bm(p));
	}
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	for (int i = 0; i < 3000; i++) {
		snprintf(p, sizeof(p), "%02x/shuffle_0_%d_0.data", i % 16, i);
		put(bm(p), 100);
	}
	struct spx_error err = {0};
	CHECK(track_process(t, 100, &err) == 100); /* at most the budget */
	struct scan_result r;
	int calls = 0;
	enum track_status st;
	struct track_stats s0, s1;
	do {
		track_get_stats(t, &s0);
		st = track_refresh(t, 100, &r);
		track_get_stats(t, &s1);
		/* A listing can go over by what it resolves in one step. */
		CHECK(s1.stats - s0.stats <= 100);
		calls++;
	} while (st == TRACK_PENDING && calls < 1000);
	CHECK_EQ_INT(st, TRACK_CURRENT);
	CHECK(calls >= 30);
	check(t, "after the burst");
	spx_error_clear(&err);
out:
	track_free(t);
	tree_rm();
}

TEST(watch_limit)
{
	struct spx_error err = {0};
	tree_new();
	put("a/b/c/f", 10);
	put("d/f", 10);
	struct track_opts few = {.max_watches = 3};
	struct track *t = track_new(root, &few, &err);
	CHECK(t == NULL);
	CHECK_EQ_INT(err.errnum, ENOSPC);
	CHECK(strstr(spx_error_msg(&err), "max_user_watches") != NULL);
	spx_error_clear(&err);
	track_free(t);

	struct track_opts enough = {.max_watches = 5};
	t = open_track(&enough);
	if (!t)
		goto out;
	check(t, "at the limit");
	put("e/f", 10);
	struct scan_result r;
	CHECK_EQ_INT(track_refresh(t, 0, &r), TRACK_UNAVAILABLE);
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK_EQ_INT(s.unavailable_errno, ENOSPC);
	/* Room again: a reconciliation watches what it could not. */
	rm_rf("d");
	track_reconcile(t);
	check(t, "room again");
	CHECK_EQ_INT(track_status(t), TRACK_CURRENT);
	track_get_stats(t, &s);
	CHECK_EQ_U64(s.watches, 5);
out:
	track_free(t);
	tree_rm();
}

/* No descriptor left for the inotify instance: track_new() says so. */
TEST(no_descriptors)
{
	struct rlimit old, low;
	struct spx_error err = {0};
	tree_new();
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	int probe = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the lowest free one */
	close(probe);
	low = old;
	low.rlim_cur = (rlim_t)probe + 1; /* room for the root, none for inotify */
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	struct track *t = track_new(root, NULL, &err);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CHECK(t == NULL);
	CHECK_EQ_INT(err.errnum, EMFILE);
	CHECK(strstr(spx_error_msg(&err), "inotify") != NULL);
	track_free(t);
	spx_error_clear(&err);
	tree_rm();
}

/* What no event reports (a write through a link outside the sandbox) is
 * drift; a reconciliation corrects it. */
TEST(reconcile_drift)
{
	char p[700];
	tree_new();
	put("a/data", 4096);
	snprintf(p, sizeof(p), "%s/alias", outside);
	CHECK(link(at("a/data"), p) == 0);
	put("a/other", 10);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	check(t, "before");
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	write_n(fd, 100000);
	close(fd);
	struct scan_result r, sc;
	struct spx_error err = {0};
	CHECK_EQ_INT(track_refresh(t, 0, &r), TRACK_CURRENT);
	CHECK_EQ_INT(scan_sandbox(root, NULL, &sc, &err), 0);
	CHECK(r.total_apparent + 100000 == sc.total_apparent); /* unseen, as expected */
	track_reconcile(t);
	CHECK_EQ_INT(track_status(t), TRACK_PENDING);
	check(t, "reconciled");
	struct track_stats s;
	track_get_stats(t, &s);
	CHECK_EQ_U64(s.reconciles, 1);
	CHECK(s.reconcile_changes >= 1);
	CHECK_EQ_U64(s.losses, 0);
	spx_error_clear(&err);
out:
	track_free(t);
	tree_rm();
}

/* Everything removed and made again, with changes left queued at the end
 * (track_free() must release queued and dead entries: ASan checks). */
TEST(churn_and_free)
{
	char p[700];
	tree_new();
	spark_tree();
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++) {
			snprintf(p, sizeof(p), "%02x/shuffle_%d_%d_0.data", i % 8, round, i);
			put(bm(p), (size_t)(i * 37));
			if (i % 3 == 0)
				append(bm(p), 4096);
			if (i % 5 == 0)
				CHECK(unlink(at(bm(p))) == 0);
		}
		if (round == 1) {
			sh("rm -rf '%s'/* '%s'/.spex", root, root);
			spark_tree();
		}
		check(t, "round");
	}
	put(bm("00/left.data"), 100);
	rm_rf(bm("01"));
	mkdirs("new/dir");
	struct spx_error err = {0};
	CHECK(track_process(t, 0, &err) > 0);
	spx_error_clear(&err);
out:
	track_free(t);
	tree_rm();
}

TEST(root_symlink_followed)
{
	char link[600];
	tree_new();
	put("stdout", 100);
	snprintf(link, sizeof(link), "%s.latest", root);
	CHECK(symlink(root, link) == 0);
	struct spx_error err = {0};
	struct track *t = track_new(link, NULL, &err);
	CHECK(t != NULL);
	if (t) {
		put("stderr", 100);
		check(t, "through latest");
	}
	track_free(t);
	spx_error_clear(&err);
	unlink(link);
	tree_rm();
}

/* --- random operations -------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random path of 1 to 4 components from a small set, so that names
 * collide: files become directories, directories move into each other. */
static void
rnd_path(char *buf, size_t len)
{
	static const char *const comps[] = {
	    "a",
	    "b",
	    "blockmgr-x",
	    "0a",
	    "3f",
	    "spark-1111",
	    "bin",
	    "spark-class",
	    "x.log",
	    "stdout",
	    "shuffle_1_2_0.data",
	    "rdd_3_4",
	    "core",
	};
	int depth = 1 + (int)rnd(4);
	buf[0] = '\0';
	for (int i = 0; i < depth; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? "/" : "",
		         comps[rnd(ARRAY_SIZE(comps))]);
	}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/*
 * 1 if no directory on the way to rel (a proper prefix) is a symlink. The
 * random operations make symlinks to ".." among others: an operation that
 * went through one would change files outside the tree, so each one checks
 * its paths first (the test is single-threaded: nothing changes between
 * the check and the operation), and the last component is never followed
 * (O_NOFOLLOW, rename, link, unlink, mkdir, nftw with FTW_PHYS).
 */
static int
path_safe(const char *rel)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", rel);
	if (strstr(buf, "..") || buf[0] == '/')
		return 0;
	for (char *p = buf; (p = strchr(p, '/')); p++) {
		struct stat st;
		*p = '\0';
		int r = lstat(at(buf), &st);
		*p = '/';
		if (r == 0 && !S_ISDIR(st.st_mode))
			return 0;
	}
	return 1;
}

/* One random change to the tree (failures are fine: the name may not fit).
 * links: hard links too. */
static void
rnd_op(int links)
{
	char a[256], b[256];
	rnd_path(a, sizeof(a));
	rnd_path(b, sizeof(b));
	unsigned op = rnd(links ? 12 : 11);
	if (!path_safe(a) || !path_safe(b))
		return;
	switch (op) {
	case 0:
	case 1: {
		int fd = open(at(a), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			write_n(fd, rnd(3) ? rnd(20000) : 0);
			close(fd);
		}
		break;
	}
	case 2: {
		int fd = open(at(a), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			write_n(fd, rnd(9000));
			close(fd);
		}
		break;
	}
	case 3: {
		int fd = open(at(a), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			(void)!ftruncate(fd, rnd(3) ? rnd(5000) : 300000);
			close(fd);
		}
		break;
	}
	case 4:
		unlink(at(a));
		break;
	case 5:
	case 6:
		mkdir(at(a), 0755);
		break;
	case 7:
	case 8:
		rename(at(a), at(b));
		break;
	case 9:
		nftw(at(a), rm_one, 16, FTW_DEPTH | FTW_PHYS);
		break;
	case 10:
		(void)!symlink(rnd(2) ? ".." : "a", at(a));
		break;
	case 11:
		(void)!linkat(AT_FDCWD, at(a), AT_FDCWD, at(b), 0);
		break;
	}
}

/* links: with hard links, which may span categories: then only the totals
 * are compared (each inode is counted in the category of one of its
 * names, which one depends on the order names are met). */
static void
random_run(uint64_t seed, int links, int rounds)
{
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	tree_new();
	for (int i = 0; i < 60; i++)
		rnd_op(links);
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	struct spx_error err = {0};
	for (int round = 0; round < rounds && !harness_cur_failed; round++) {
		int ops = 1 + (int)rnd(60);
		for (int i = 0; i < ops; i++) {
			rnd_op(links);
			/* Work interleaved with the changes, in small bites. */
			if (rnd(8) == 0) {
				struct scan_result r;
				track_refresh(t, 1 + rnd(20), &r);
			} else if (rnd(8) == 0) {
				track_process(t, 1 + rnd(10), &err);
			}
			if (rnd(200) == 0)
				track_reconcile(t);
		}
		char what[64];
		snprintf(what, sizeof(what), "seed %" PRIu64 " round %d", seed, round);
		check_cats(t, what, !links, 0);
	}
	track_reconcile(t);
	check_cats(t, "reconciled", !links, 1);
	spx_error_clear(&err);
out:
	track_free(t);
	tree_rm();
}

/* TRACK_SEEDS=n runs n seeds of each (default 3); TRACK_SEED=n only seed n
 * (from 1000: with hard links). */
TEST(random_operations)
{
	const char *env = getenv("TRACK_SEEDS");
	const char *one = getenv("TRACK_SEED");
	int seeds = env ? atoi(env) : 3;
	if (one) {
		uint64_t seed = strtoull(one, NULL, 10);
		random_run(seed, seed >= 1000, 40);
		return;
	}
	for (int s = 0; s < seeds && !harness_cur_failed; s++) {
		random_run((uint64_t)s, 0, 40);
		random_run((uint64_t)s + 1000, 1, 40);
	}
}

/* More directories than cached descriptors, renamed and replaced while
 * their names are queued and their listing is under way. */
TEST(dirs_replaced_under_queued_work)
{
	char p[700];
	tree_new();
	for (int i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "d%02d/f", i);
		put(p, 100);
	}
	struct track *t = open_track(NULL);
	if (!t)
		goto out;
	for (int i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "d%02d/f", i);
		append(p, 5000);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(p, sizeof(p), "big/shuffle_0_%d_0.data", i);
		put(p, 10);
	}
	for (int i = 0; i < 40; i += 3) {
		/* Queued for a re-stat, then replaced by another directory. */
		snprintf(p, sizeof(p), "d%02d", i);
		char q[64];
		snprintf(q, sizeof(q), "old%02d", i);
		mv(p, q);
		snprintf(p, sizeof(p), "d%02d/g", i);
		put(p, 77);
	}
	struct scan_result r;
	track_refresh(t, 60, &r); /* part of it */
	mv("big", "big.old");
	put("big/other.data", 1000);
	track_refresh(t, 30, &r);
	for (int i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "d%02d/new", i);
		put(p, 1);
	}
	check(t, "settled");
out:
	track_free(t);
	tree_rm();
}

/* --- mounts (in a child with its own mount namespace) ------------------------------- */

static int
mounts_child(void)
{
	char p[600], data[600];
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 77;
	snprintf(p, sizeof(p), "%s/mnt", root);
	if (mount("tmpfs", p, "tmpfs", 0, "size=4m") < 0)
		return 77;
	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(p, sizeof(p), "%s/bind", root);
	if (mount(data, p, NULL, MS_BIND, NULL) < 0)
		return 77;
	put("mnt/inside", 1 << 20);
	struct track *t = open_track(NULL);
	if (!t)
		return 1;
	struct scan_result r = check_cats(t, "mounts", 1, 0);
	CHECK_EQ_U64(r.mounts_skipped, 2);
	put("mnt/more", 1 << 20);  /* inside another mount: not ours */
	put("data/more", 1 << 10); /* ours, not through the bind mount */
	r = check_cats(t, "written", 1, 0);
	CHECK(r.total_apparent < (1 << 20));
	/* A mount appearing after indexing (a new directory mounted over). */
	mkdirs("late");
	check_cats(t, "late dir", 1, 0);
	snprintf(p, sizeof(p), "%s/late", root);
	if (mount("tmpfs", p, "tmpfs", 0, "size=4m") < 0)
		return 77;
	track_reconcile(t); /* a mount makes no event in the parent */
	r = check_cats(t, "late mount", 1, 0);
	CHECK_EQ_U64(r.mounts_skipped, 3);
	track_free(t);
	return harness_cur_failed ? 1 : 0;
}

TEST(other_mounts_not_entered)
{
	tree_new();
	mkdirs("mnt");
	mkdirs("bind");
	put("data/big", 300000);
	put("f", 1000);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int rc = mounts_child();
		fflush(stdout);
		_exit(rc);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		tree_rm();
		SKIP("no mount namespace here: %s", strerror(EPERM));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		HARNESS_FAIL("child: status %d", status);
	tree_rm();
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_S(root_errors);
	RUN_S(index_matches_scan);
	RUN_S(file_changes);
	RUN_S(directory_changes);
	RUN_S(dir_moved_new_name_first);
	RUN_S(coalesced);
	RUN_S(hard_links);
	RUN_S(symlinks_not_followed);
	RUN_S(reclassified);
	RUN_S(queue_overflow);
	RUN_S(budget);
	RUN_S(watch_limit);
	RUN_S(no_descriptors);
	RUN_S(reconcile_drift);
	RUN_S(churn_and_free);
	RUN_S(root_symlink_followed);
	RUN_S(random_operations);
	RUN_S(dirs_replaced_under_queued_work);
	RUN_S(other_mounts_not_entered);
	return harness_done();
}

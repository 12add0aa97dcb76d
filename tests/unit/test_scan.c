/*
 * The sandbox scanner against real trees made under a mkdtemp() dir at test
 * time, checked against du (-sB1 allocated, -sb apparent). Tests that need
 * what the machine cannot give (an unprivileged uid, a mount namespace) are
 * reported as skipped with the reason, never as passed.
 */
#include "harness.h"
#include "scan.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- tree helpers ------------------------------------------------------------ */

static char root[256]; /* the current test tree */

static void
tree_new_in(const char *base)
{
	snprintf(root, sizeof(root), "%s/spex-scan-XXXXXX", base);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		abort();
	}
}

/* Under $TMPDIR or /tmp: a disk file system, where blocks are blocks. */
static void
tree_new(void)
{
	const char *tmp = getenv("TMPDIR");
	tree_new_in(tmp && *tmp ? tmp : "/tmp");
}

/* On tmpfs when there is one: for trees that are slow to create or remove
 * on a disk (the deep chain, the race), where the file system is not what
 * is being tested. */
static void
tree_new_fast(void)
{
	if (access("/dev/shm", W_OK) == 0)
		tree_new_in("/dev/shm");
	else
		tree_new();
}

static void
tree_rm(void)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", root, root);
	if (system(cmd) != 0)
		printf("  warning: could not remove %s\n", root);
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

/* Create root/rel with size bytes (parents made as needed). */
static void
put(const char *rel, size_t size)
{
	char path[1024], dir[1024];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(dir);
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		abort();
	}
	static const char block[4096];
	while (size > 0) {
		size_t n = size < sizeof(block) ? size : sizeof(block);
		if (write(fd, block, n) != (ssize_t)n)
			abort();
		size -= n;
	}
	close(fd);
}

static void
link_at(const char *target, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path) < 0) {
		perror(path);
		abort();
	}
}

static void
hardlink(const char *from, const char *to)
{
	char a[1024], b[1024];
	snprintf(a, sizeof(a), "%s/%s", root, from);
	snprintf(b, sizeof(b), "%s/%s", root, to);
	if (link(a, b) < 0) {
		perror(b);
		abort();
	}
}

/* du's answer for root/rel (rel "" = the root): -sB1, or -sb if apparent. */
static uint64_t
du(const char *rel, int apparent, const char *extra)
{
	char cmd[1200];
	unsigned long long v = 0;
	snprintf(cmd, sizeof(cmd), "du %s %s '%s/%s' 2>/dev/null", apparent ? "-sb" : "-sB1",
	         extra ? extra : "", root, rel);
	FILE *f = popen(cmd, "r");
	if (!f)
		abort();
	if (fscanf(f, "%llu", &v) != 1)
		v = UINT64_MAX;
	pclose(f);
	return v;
}

static int
scan(const struct scan_opts *o, struct scan_result *r)
{
	struct spx_error err = {0};
	if (scan_sandbox(root, o, r, &err) < 0) {
		HARNESS_FAIL("scan %s: %s", root, spx_error_msg(&err));
		spx_error_clear(&err);
		return -1;
	}
	return 0;
}

static int
count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static uint64_t
sum(const uint64_t *v)
{
	uint64_t s = 0;
	for (int c = 0; c < CAT_COUNT; c++)
		s += v[c];
	return s;
}

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t _x = (a), _y = (b);                                                       \
		if (_x != _y)                                                                      \
			HARNESS_FAIL("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, _x, _y);         \
	} while (0)

/* The scan agrees with du on the whole tree, both ways of counting. */
static void
check_du(const struct scan_result *r)
{
	CHECK_EQ_U64(r->total_bytes, du("", 0, NULL));
	CHECK_EQ_U64(r->total_apparent, du("", 1, NULL));
	CHECK_EQ_U64(sum(r->bytes), r->total_bytes);
	CHECK_EQ_U64(sum(r->apparent), r->total_apparent);
}

/* --- tests ------------------------------------------------------------------- */

TEST(root_errors)
{
	struct scan_result r;
	struct spx_error err = {0};
	CHECK_EQ_INT(scan_sandbox("/nonexistent/spex", NULL, &r, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "/nonexistent/spex") != NULL);
	CHECK(strstr(spx_error_msg(&err), "No such file or directory") != NULL);
	CHECK_EQ_INT(err.errnum, ENOENT);
	spx_error_clear(&err);

	tree_new();
	put("file", 10);
	char path[600];
	snprintf(path, sizeof(path), "%s/file", root);
	CHECK_EQ_INT(scan_sandbox(path, NULL, &r, &err), -1);
	CHECK_EQ_INT(err.errnum, ENOTDIR);
	spx_error_clear(&err);
	tree_rm();
}

TEST(empty_root)
{
	struct scan_result r;
	tree_new();
	if (scan(NULL, &r) == 0) {
		CHECK_EQ_U64(r.dirs, 1);
		CHECK_EQ_U64(r.entries, 1);
		CHECK_EQ_U64(sum(r.files), 0);
		CHECK_EQ_U64(r.bytes[CAT_OTHER], r.total_bytes);
		CHECK_EQ_U64(r.errors, 0);
		CHECK_EQ_STR(r.first_error, "");
		check_du(&r);
	}
	tree_rm();
}

static const char *uuid_dir = "spark-0a1b2c3d-1111-2222-3333-444455556666";
static const char *bm_dir =
    "spark-0a1b2c3d-1111-2222-3333-444455556666/blockmgr-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff";

static void
spark_tree(void)
{
	char p[512];
	put("stdout", 1000);
	put("stderr", 5000);
	put("stdout.logrotate.state", 10);
	put("gc.log", 100);
	put("hs_err_pid42.log", 3000);
	put("app.jar", 11000);
	put("spark-3.5.1-bin-hadoop3/bin/spark-class", 500);
	put("spark-3.5.1-bin-hadoop3/jars/a.jar", 20000);
	put("myspark/bin/spark-class", 500);
	put("myspark/README.md", 3000);
	mkdirs("notspark");
	link_at("../myspark/bin", "notspark/bin"); /* bin is a symlink: not a dist */
	put("notspark/x", 100);
	snprintf(p, sizeof(p), "%s/userFiles-1/app.jar", uuid_dir);
	put(p, 7000);
	snprintf(p, sizeof(p), "%s/00/shuffle_0_0_0.data", bm_dir);
	put(p, 9000);
	snprintf(p, sizeof(p), "%s/00/shuffle_0_0_0.index", bm_dir);
	put(p, 80);
	snprintf(p, sizeof(p), "%s/0a/rdd_0_1", bm_dir);
	put(p, 12000);
	put(".spex/state", 100);
	put("work/other.bin", 6000);
	put("work/a b\nc.log", 333);
}

TEST(categories_match_du)
{
	struct scan_result r;
	char p[512];
	tree_new();
	spark_tree();
	if (scan(NULL, &r) < 0)
		goto out;
	check_du(&r);
	for (int apparent = 0; apparent <= 1; apparent++) {
		const uint64_t *got = apparent ? r.apparent : r.bytes;
		snprintf(p, sizeof(p), "%s/00/shuffle_0_0_0.data", bm_dir);
		uint64_t shuffle = du(p, apparent, NULL);
		snprintf(p, sizeof(p), "%s/00/shuffle_0_0_0.index", bm_dir);
		shuffle += du(p, apparent, NULL);
		uint64_t bm = du(bm_dir, apparent, NULL);
		uint64_t temp = du(uuid_dir, apparent, NULL) - bm;
		uint64_t dist = du("spark-3.5.1-bin-hadoop3", apparent, NULL) +
		                du("myspark", apparent, NULL) + du("app.jar", apparent, NULL);
		uint64_t logs = du("stdout", apparent, NULL) + du("stderr", apparent, NULL) +
		                du("stdout.logrotate.state", apparent, NULL) +
		                du("gc.log", apparent, NULL) +
		                du("work/a b\nc.log", apparent, NULL);
		uint64_t dumps = du("hs_err_pid42.log", apparent, NULL);
		uint64_t spex = du(".spex", apparent, NULL);
		CHECK_EQ_U64(got[CAT_SHUFFLE], shuffle);
		CHECK_EQ_U64(got[CAT_BLOCKS], bm - shuffle);
		CHECK_EQ_U64(got[CAT_SPARK_TEMP], temp);
		CHECK_EQ_U64(got[CAT_DIST], dist);
		CHECK_EQ_U64(got[CAT_LOGS], logs);
		CHECK_EQ_U64(got[CAT_DUMPS], dumps);
		CHECK_EQ_U64(got[CAT_SPEX], spex);
		CHECK_EQ_U64(got[CAT_OTHER], (apparent ? r.total_apparent : r.total_bytes) -
		                                 shuffle - (bm - shuffle) - temp - dist - logs -
		                                 dumps - spex);
	}
	CHECK_EQ_U64(r.files[CAT_SHUFFLE], 2);
	CHECK_EQ_U64(r.files[CAT_BLOCKS], 1);
	CHECK_EQ_U64(r.files[CAT_DIST], 5);
	CHECK_EQ_U64(r.files[CAT_LOGS], 5);
	CHECK_EQ_U64(r.files[CAT_DUMPS], 1);
	CHECK_EQ_U64(r.files[CAT_SPEX], 1);
	CHECK_EQ_U64(r.files[CAT_OTHER], 3); /* notspark/bin, notspark/x, work/other.bin */
	CHECK_EQ_U64(r.errors, 0);
	CHECK_EQ_U64(r.vanished, 0);
	CHECK_EQ_U64(r.entries, r.dirs + sum(r.files));
out:
	tree_rm();
}

TEST(threads_agree)
{
	struct scan_result one, two, aut;
	char p[64];
	tree_new();
	for (int d = 0; d < 24; d++) {
		for (int f = 0; f < 40; f++) {
			snprintf(p, sizeof(p), "blockmgr-1/%02x/shuffle_%d_%d_0.data", d, d, f);
			put(p, (size_t)(f * 97 + d));
		}
		snprintf(p, sizeof(p), "blockmgr-1/%02x/sub/rdd_%d", d, d);
		put(p, 5000);
	}
	int fds = count_fds();
	struct scan_opts o1 = {.threads = 1}, o2 = {.threads = 2}, oa = {0};
	if (scan(&o1, &one) == 0 && scan(&o2, &two) == 0 && scan(&oa, &aut) == 0) {
		check_du(&one);
		CHECK_EQ_INT(one.threads, 1);
		CHECK_EQ_INT(two.threads, 2);
		CHECK_EQ_MEM(one.bytes, two.bytes, sizeof(one.bytes));
		CHECK_EQ_MEM(one.apparent, two.apparent, sizeof(one.apparent));
		CHECK_EQ_MEM(one.files, two.files, sizeof(one.files));
		CHECK_EQ_MEM(one.bytes, aut.bytes, sizeof(one.bytes));
		CHECK_EQ_U64(one.entries, two.entries);
		CHECK_EQ_U64(one.dirs, two.dirs);
		CHECK_EQ_U64(one.files[CAT_SHUFFLE], 24 * 40);
		CHECK_EQ_U64(one.files[CAT_BLOCKS], 24);
		CHECK_EQ_U64(one.dirs, 1 + 1 + 24 * 2);
	}
	CHECK_EQ_INT(count_fds(), fds); /* nothing leaked */
	tree_rm();
}

TEST(hard_links_once)
{
	struct scan_result r;
	tree_new();
	put("a/data", 50000);
	hardlink("a/data", "a/data2");
	hardlink("a/data", "b.log");
	put("a/single", 10);
	if (scan(NULL, &r) == 0) {
		check_du(&r);
		CHECK_EQ_U64(r.hardlinks_deduped, 2);
		CHECK_EQ_U64(sum(r.files), 2);
		/* The first name met wins the category: counted once, somewhere. */
		CHECK(r.apparent[CAT_OTHER] + r.apparent[CAT_LOGS] >= 50010);
	}
	tree_rm();
}

TEST(symlinks_not_followed)
{
	struct scan_result r;
	char outside[600];
	tree_new();
	/* A big file outside the sandbox, and links to it and around. */
	snprintf(outside, sizeof(outside), "%s.outside", root);
	int fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	static const char buf[65536];
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
	mkdirs("d");
	link_at(outside, "big.log"); /* a log symlink: counted as a link, in logs */
	link_at("b", "a");           /* a -> b -> a */
	link_at("a", "b");
	link_at("..", "d/up");   /* a dir symlink to .. */
	link_at("/", "d/slash"); /* and to / */
	link_at("../d", "d/self");
	put("d/f", 100);
	if (scan(NULL, &r) == 0) {
		check_du(&r);
		struct stat st;
		char p[600];
		snprintf(p, sizeof(p), "%s/big.log", root);
		CHECK(lstat(p, &st) == 0);
		CHECK_EQ_U64(r.apparent[CAT_LOGS], (uint64_t)st.st_size);
		CHECK_EQ_U64(r.files[CAT_LOGS], 1);
		CHECK(r.total_apparent < 65536);
		CHECK_EQ_U64(r.dirs, 2);
		CHECK_EQ_U64(sum(r.files), 7);
	}
	unlink(outside);
	tree_rm();
}

/* SCAN_HOOK_STAT: entries named gone-* disappear before their stat;
 * SCAN_HOOK_OPEN: vanishing-dir is removed and swapped-dir replaced before
 * they are opened. */
static void
vanish_hook(void *arg, enum scan_hook point, int dirfd, const char *name)
{
	int *calls = arg;
	(*calls)++;
	if (point == SCAN_HOOK_STAT && strncmp(name, "gone-", 5) == 0)
		unlinkat(dirfd, name, 0);
	if (point == SCAN_HOOK_OPEN && strcmp(name, "vanishing-dir") == 0)
		unlinkat(dirfd, name, AT_REMOVEDIR);
	if (point == SCAN_HOOK_OPEN && strcmp(name, "swapped-dir") == 0) {
		renameat(dirfd, name, dirfd, "swapped-away");
		mkdirat(dirfd, name, 0755);
		int fd = openat(dirfd, "swapped-away/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
}

TEST(vanished_entries)
{
	struct scan_result r;
	int calls = 0;
	char p[64];
	tree_new();
	for (int i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "sub/gone-%d", i);
		put(p, 4096);
		snprintf(p, sizeof(p), "sub/kept-%d", i);
		put(p, 4096);
	}
	mkdirs("vanishing-dir");
	put("swapped-dir/inside", 8192);
	struct scan_opts o = {.threads = 1, .hook = vanish_hook, .hook_arg = &calls};
	if (scan(&o, &r) == 0) {
		CHECK_EQ_U64(r.vanished, 10 + 2);
		CHECK_EQ_U64(r.errors, 0);
		CHECK_EQ_U64(sum(r.files), 10); /* kept-*; swapped-dir was not entered */
		CHECK_EQ_U64(r.dirs, 4);        /* root, sub, and the two dirs as listed */
		CHECK(calls > 20);
	}
	tree_rm();
}

struct racer {
	char dir[600];
	int n;
};

static void *
race_delete(void *arg)
{
	struct racer *rc = arg;
	char p[700];
	for (int i = rc->n - 1; i >= 0; i--) {
		snprintf(p, sizeof(p), "%s/f%d", rc->dir, i);
		unlink(p);
		if (i % 100 == 0) {
			snprintf(p, sizeof(p), "%s/d%d", rc->dir, i / 100);
			rmdir(p);
		}
	}
	return NULL;
}

TEST(deletion_race)
{
	static struct racer rc;
	struct scan_result r;
	pthread_t t;
	char p[64];
	tree_new_fast();
	rc.n = 3000;
	for (int i = 0; i < rc.n; i++) {
		snprintf(p, sizeof(p), "race/f%d", i);
		put(p, 0);
		if (i % 100 == 0) {
			snprintf(p, sizeof(p), "race/d%d", i / 100);
			mkdirs(p);
		}
	}
	snprintf(rc.dir, sizeof(rc.dir), "%s/race", root);
	struct scan_opts o = {.threads = 2};
	CHECK(pthread_create(&t, NULL, race_delete, &rc) == 0);
	int ok = scan(&o, &r);
	pthread_join(t, NULL);
	if (ok == 0) {
		/* Whatever the interleaving: no error, each file counted or vanished at most. */
		CHECK_EQ_U64(r.errors, 0);
		CHECK(sum(r.files) + r.vanished <= 3000 + 30 + 30);
		CHECK(r.dirs >= 1);
	}
	tree_rm();
}

/* Run fn(arg) in a child after drop()/setup; the child sends back its
 * scan_result and a status: 0 ok, 1 skip (reason), 2 failure (reason). */
struct child_report {
	int status;
	char reason[200];
	struct scan_result r;
	uint64_t du_bytes, du_apparent;
};

typedef void (*child_fn)(struct child_report *rep);

static int
in_child(child_fn fn, struct child_report *rep)
{
	int pfd[2];
	memset(rep, 0, sizeof(*rep));
	if (pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct child_report c;
		memset(&c, 0, sizeof(c));
		close(pfd[0]);
		fn(&c);
		(void)!write(pfd[1], &c, sizeof(c));
		_exit(0);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], rep, sizeof(*rep));
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	return n == (ssize_t)sizeof(*rep) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
child_scan(struct child_report *c, const char *du_extra)
{
	struct spx_error err = {0};
	if (scan_sandbox(root, NULL, &c->r, &err) < 0) {
		c->status = 2;
		snprintf(c->reason, sizeof(c->reason), "%s", spx_error_msg(&err));
		return;
	}
	c->du_bytes = du("", 0, du_extra);
	c->du_apparent = du("", 1, du_extra);
}

static void
unprivileged(struct child_report *c)
{
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
		c->status = 1;
		snprintf(c->reason, sizeof(c->reason), "cannot become uid 65534: %s",
		         strerror(errno));
		return;
	}
	child_scan(c, NULL);
}

TEST(unreadable_dirs)
{
	struct child_report c;
	char p[600];
	tree_new();
	put("ok/f", 100);
	put("locked/secret", 5000); /* mode 000: cannot be opened */
	put("noexec/a", 10);        /* mode 644: listed, entries cannot be stat'ed */
	put("noexec/b", 10);
	snprintf(p, sizeof(p), "chmod -R a+rX '%s'", root);
	CHECK(system(p) == 0);
	snprintf(p, sizeof(p), "%s/locked", root);
	chmod(p, 0);
	snprintf(p, sizeof(p), "%s/noexec", root);
	chmod(p, 0644);
	if (geteuid() != 0) {
		/* Not root: the restrictions hold in this process already. */
		c.status = 0;
		child_scan(&c, NULL);
	} else if (in_child(unprivileged, &c) < 0) {
		HARNESS_FAIL("child failed");
		goto out;
	}
	if (c.status == 1) {
		tree_rm();
		SKIP("running as root and %s", c.reason);
	}
	if (c.status == 2) {
		HARNESS_FAIL("%s", c.reason);
		goto out;
	}
	CHECK_EQ_U64(c.r.errors, 3);
	CHECK_EQ_U64(c.r.vanished, 0);
	CHECK(strstr(c.r.first_error, ": Permission denied") != NULL);
	CHECK(strcmp(c.r.first_error, "locked: Permission denied") == 0 ||
	      strcmp(c.r.first_error, "noexec/a: Permission denied") == 0 ||
	      strcmp(c.r.first_error, "noexec/b: Permission denied") == 0);
	CHECK_EQ_U64(c.r.dirs, 4);
	CHECK_EQ_U64(sum(c.r.files), 1);
	/* du, as the same user, counts the same */
	CHECK_EQ_U64(c.r.total_bytes, c.du_bytes);
	CHECK_EQ_U64(c.r.total_apparent, c.du_apparent);
out:
	tree_rm();
}

TEST(unreadable_long_path)
{
	struct child_report c;
	char rel[600] = "", p[900];
	tree_new();
	/* 30 levels of 10 characters, then a locked directory. */
	for (int i = 0; i < 30; i++)
		strcat(rel, "abcdefghi/");
	strcat(rel, "locked");
	mkdirs(rel);
	snprintf(p, sizeof(p), "chmod -R a+rX '%s'", root);
	CHECK(system(p) == 0);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	chmod(p, 0);
	if (geteuid() != 0) {
		c.status = 0;
		child_scan(&c, NULL);
	} else if (in_child(unprivileged, &c) < 0) {
		HARNESS_FAIL("child failed");
		goto out;
	}
	if (c.status == 1) {
		tree_rm();
		SKIP("running as root and %s", c.reason);
	}
	CHECK_EQ_U64(c.r.errors, 1);
	/* The end of "<rel>: Permission denied" that fits, after "...". */
	char want[900];
	snprintf(want, sizeof(want), "%s: Permission denied", rel);
	size_t keep = sizeof(c.r.first_error) - 4;
	CHECK_EQ_INT(strlen(c.r.first_error), sizeof(c.r.first_error) - 1);
	CHECK(strncmp(c.r.first_error, "...", 3) == 0);
	CHECK_EQ_STR(c.r.first_error + 3, want + strlen(want) - keep);
out:
	tree_rm();
}

/* The mount points of the mount test: a tmpfs, a bind mount of data/ (the
 * same file system), and a bind mount of the root inside itself (a cycle). */
static const char *const mount_points[] = {"mnt", "bind", "loop"};

static int
mount_fail(struct child_report *c, const char *what)
{
	c->status = 1;
	snprintf(c->reason, sizeof(c->reason), "%.120s: %.60s", what, strerror(errno));
	return -1;
}

static int
mounts_setup(struct child_report *c)
{
	char p[600], data[600];
	struct stat st;
	if (unshare(CLONE_NEWNS) < 0)
		return mount_fail(c, "unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return mount_fail(c, "private mounts");
	/* Expected: du of the tree before mounting, with each mount point's
	 * own entry swapped for what it shows once mounted (the mounted root's
	 * inode) and nothing below it. du -x cannot say this: it leaves the
	 * tmpfs mount point out and enters same-device bind mounts. */
	uint64_t bytes = du("", 0, NULL), apparent = du("", 1, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(mount_points); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, mount_points[i]);
		if (lstat(p, &st) < 0)
			return mount_fail(c, p);
		bytes -= (uint64_t)st.st_blocks * 512;
		apparent -= (uint64_t)st.st_size;
	}
	snprintf(p, sizeof(p), "%s/mnt", root);
	if (mount("tmpfs", p, "tmpfs", 0, "size=4m") < 0)
		return mount_fail(c, "mount tmpfs");
	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(p, sizeof(p), "%s/bind", root);
	if (mount(data, p, NULL, MS_BIND, NULL) < 0)
		return mount_fail(c, "bind mount");
	snprintf(p, sizeof(p), "%s/loop", root);
	if (mount(root, p, NULL, MS_BIND, NULL) < 0)
		return mount_fail(c, "bind mount");
	put("mnt/inside", 1 << 20);
	for (size_t i = 0; i < ARRAY_SIZE(mount_points); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, mount_points[i]);
		if (lstat(p, &st) < 0)
			return mount_fail(c, p);
		bytes += (uint64_t)st.st_blocks * 512;
		apparent += (uint64_t)st.st_size;
	}
	c->du_bytes = bytes;
	c->du_apparent = apparent;
	return 0;
}

static void
with_mounts(struct child_report *c)
{
	struct spx_error err = {0};
	if (mounts_setup(c) < 0)
		return;
	if (scan_sandbox(root, NULL, &c->r, &err) < 0) {
		c->status = 2;
		snprintf(c->reason, sizeof(c->reason), "%s", spx_error_msg(&err));
	}
}

TEST(other_mounts_not_entered)
{
	struct child_report c;
	tree_new();
	for (size_t i = 0; i < ARRAY_SIZE(mount_points); i++)
		mkdirs(mount_points[i]);
	put("f", 1000);
	put("data/big", 300000);
	if (in_child(with_mounts, &c) < 0) {
		HARNESS_FAIL("child failed");
		goto out;
	}
	if (c.status == 1) {
		tree_rm();
		SKIP("%s", c.reason);
	}
	if (c.status == 2) {
		HARNESS_FAIL("%s", c.reason);
		goto out;
	}
	if (c.r.mounts_skipped == 1)
		printf("  note: no mount ids (Linux < 5.8?): bind mounts are entered\n");
	CHECK_EQ_U64(c.r.mounts_skipped, 3);
	CHECK_EQ_U64(c.r.dirs, 5); /* the root, data, and the three mount points */
	CHECK_EQ_U64(sum(c.r.files), 2);
	CHECK(c.r.total_apparent < 400000);
	CHECK_EQ_U64(c.r.total_bytes, c.du_bytes);
	CHECK_EQ_U64(c.r.total_apparent, c.du_apparent);
out:
	tree_rm();
}

#define DEEP 10000

static int
deep_build(void)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < DEEP; i++) {
		if (mkdirat(fd, "d", 0755) < 0)
			return -1;
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0)
		return -1;
	int f = openat(fd, "bottom.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (f >= 0) {
		(void)!write(f, "deep\n", 5);
		close(f);
	}
	close(fd);
	return f >= 0 ? 0 : -1;
}

/* Remove the chain bottom-up without recursion and with two descriptors. */
static int
deep_remove(void)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), depth = 0;
	while (fd >= 0) {
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			break;
		close(fd);
		fd = next;
		depth++;
	}
	if (fd < 0)
		return -1;
	unlinkat(fd, "bottom.log", 0);
	while (depth > 0) {
		int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		if (up < 0 || unlinkat(up, "d", AT_REMOVEDIR) < 0) {
			if (up >= 0)
				close(up);
			return -1;
		}
		fd = up;
		depth--;
	}
	close(fd);
	return rmdir(root);
}

TEST(deep_nesting)
{
	struct scan_result r;
	struct rlimit old, low;
	tree_new_fast();
	if (deep_build() < 0) {
		HARNESS_FAIL("building %d levels: %s", DEEP, strerror(errno));
		goto out;
	}
	/* Far fewer descriptors than levels. */
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 128;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	int fds = count_fds();
	struct scan_opts o1 = {.threads = 1}, o2 = {.threads = 2};
	int ok1 = scan(&o1, &r);
	if (ok1 == 0) {
		CHECK_EQ_U64(r.dirs, DEEP + 1);
		CHECK_EQ_U64(r.files[CAT_LOGS], 1);
		CHECK_EQ_U64(r.apparent[CAT_LOGS], 5);
		CHECK_EQ_U64(r.errors, 0);
	}
	struct scan_result r2;
	if (scan(&o2, &r2) == 0 && ok1 == 0) {
		CHECK_EQ_U64(r2.total_bytes, r.total_bytes);
		CHECK_EQ_U64(r2.dirs, r.dirs);
	}
	CHECK_EQ_INT(count_fds(), fds);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	if (ok1 == 0)
		check_du(&r);
out:
	if (deep_remove() < 0) {
		HARNESS_FAIL("removing the chain: %s", strerror(errno));
		tree_rm();
	}
}

TEST(max_entries)
{
	struct scan_result r;
	char p[64];
	tree_new();
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "x/f%d", i);
		put(p, 1);
	}
	struct scan_opts o = {.threads = 1, .max_entries = 10};
	if (scan(&o, &r) == 0) {
		CHECK_EQ_INT(r.truncated, 1);
		CHECK(r.entries <= 10);
		CHECK(r.entries >= 2);
	}
	struct scan_opts all = {.max_entries = 1000};
	if (scan(&all, &r) == 0) {
		CHECK_EQ_INT(r.truncated, 0);
		CHECK_EQ_U64(r.entries, 52);
	}
	tree_rm();
}

TEST(root_symlink_followed)
{
	struct scan_result r;
	char link[600];
	tree_new();
	put("stdout", 100);
	snprintf(link, sizeof(link), "%s.latest", root);
	CHECK(symlink(root, link) == 0);
	struct spx_error err = {0};
	CHECK_EQ_INT(scan_sandbox(link, NULL, &r, &err), 0);
	CHECK_EQ_U64(r.files[CAT_LOGS], 1);
	spx_error_clear(&err);
	unlink(link);
	tree_rm();
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_S(root_errors);
	RUN_S(empty_root);
	RUN_S(categories_match_du);
	RUN_S(threads_agree);
	RUN_S(hard_links_once);
	RUN_S(symlinks_not_followed);
	RUN_S(vanished_entries);
	RUN_S(deletion_race);
	RUN_S(unreadable_dirs);
	RUN_S(unreadable_long_path);
	RUN_S(other_mounts_not_entered);
	RUN_S(deep_nesting);
	RUN_S(max_entries);
	RUN_S(root_symlink_followed);
	return harness_done();
}

/* The state file's pure parts: atomic writes (durable or not), the bounded
 * history file, which failures are logged, /proc parsing, times, REASON
 * names, exact integers, the task history. */
#include "harness.h"
#include "mesos.pb-c.h"
#include "proctree.h"
#include "statedoc.h"
#include "statefile.h"
#include "task_sm.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *
mktemp_dir(void)
{
	char tmpl[] = "/tmp/spex-statefile-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? xstrdup(d) : NULL;
}

static void
rm_rf(const char *dir)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	(void)!system(cmd);
}

/* The whole file as a string (NULL if it cannot be read). */
static char *
slurp(const char *dir, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0, n;
	char *buf = xmalloc(cap + 1);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int
exists(const char *dir, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The directory d, opened as the executor opens .spex/. */
static int
open_dir(const char *d)
{
	return open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * fsync(), interposed for the code under test (statefile.o is linked into
 * this program, so its calls land here): the tests see what is synced, in
 * which order, and can make it fail. The real work is the system call.
 */
static int fsync_calls;
static char fsync_order[16];     /* 'f' a file, 'd' a directory, in call order */
static int fsync_dir_saw_tmp;    /* a directory was synced while state.json.tmp existed */
static int fsync_fail_errno;     /* non-zero: fail with it */
static int fsync_fail_dirs_only; /* ... only for directories */

int
fsync(int fd)
{
	struct stat st;
	int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);

	if ((size_t)fsync_calls < sizeof(fsync_order) - 1)
		fsync_order[fsync_calls] = is_dir ? 'd' : 'f';
	fsync_calls++;
	if (is_dir && faccessat(fd, "state.json.tmp", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		fsync_dir_saw_tmp = 1;
	if (fsync_fail_errno && (is_dir || !fsync_fail_dirs_only)) {
		errno = fsync_fail_errno;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static void
fsync_reset(void)
{
	fsync_calls = fsync_dir_saw_tmp = fsync_fail_errno = fsync_fail_dirs_only = 0;
	memset(fsync_order, 0, sizeof(fsync_order));
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- atomic replacement ---------------------------------------------------- */

TEST(write_replaces_atomically)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	CHECK(d != NULL);
	_cleanup_close_ int dfd = open_dir(d);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "one\n", 4, false, &err), 0);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "two!\n", 5, false, &err), 0);
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "two!\n");
	CHECK(!exists(d, "state.json.tmp"));
	struct stat st;
	_cleanup_free_ char *p = xasprintf("%s/state.json", d);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);
	rm_rf(d);
}

TEST(write_keeps_old_file_when_temp_cannot_be_created)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	_cleanup_close_ int dfd = open_dir(d);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "good\n", 5, false, &err), 0);
	/* The temp's name is taken by a directory (works as root too, unlike
	 * a read-only directory). */
	_cleanup_free_ char *tmp = xasprintf("%s/state.json.tmp", d);
	CHECK(mkdir(tmp, 0755) == 0);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "bad\n", 4, false, &err), -1);
	CHECK_EQ_INT(err.errnum, EISDIR);
	CHECK(strstr(spx_error_msg(&err), "state.json.tmp") != NULL);
	CHECK(strstr(spx_error_msg(&err), "Is a directory") != NULL);
	spx_error_clear(&err);
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "good\n");
	rm_rf(d);
}

/* What a crashed writer (or a task) left by the temp file's name is
 * removed, never opened: a FIFO would block the event loop, a hard link
 * would be written through. */
TEST(write_never_opens_what_is_at_the_temp_name)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	_cleanup_close_ int dfd = open_dir(d);
	_cleanup_free_ char *tmp = xasprintf("%s/state.json.tmp", d);
	_cleanup_free_ char *other = xasprintf("%s/other", d);

	CHECK(mkfifo(tmp, 0644) == 0);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "one\n", 4, false, &err), 0);
	CHECK(!exists(d, "state.json.tmp"));
	int fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, "precious\n", 9) == 9);
	close(fd);
	CHECK(link(other, tmp) == 0);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "two\n", 4, false, &err), 0);
	_cleanup_free_ char *o = slurp(d, "other");
	CHECK_EQ_STR(o, "precious\n");
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "two\n");
	rm_rf(d);
}

/* Routine writes never wait for the disk; a durable one syncs the file,
 * renames it, then syncs the directory. */
TEST(write_syncs_only_when_durable)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	_cleanup_close_ int dfd = open_dir(d);

	fsync_reset();
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "routine\n", 8, false, &err), 0);
	CHECK_EQ_INT(fsync_calls, 0);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "final\n", 6, true, &err), 0);
	CHECK_EQ_INT(fsync_calls, 2);
	CHECK_EQ_STR(fsync_order, "fd");
	CHECK_EQ_INT(fsync_dir_saw_tmp, 0); /* the directory after the rename */
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "final\n");

	/* The history, appended or rewritten, is never synced. */
	struct linelog l;
	fsync_reset();
	linelog_init(&l, "h", 3, 2);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(linelog_append(&l, dfd, "x", &err), 0);
	CHECK_EQ_INT(fsync_calls, 0);
	linelog_free(&l);

	/* A failed fsync of the file keeps the old file. */
	fsync_reset();
	fsync_fail_errno = EIO;
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "lost\n", 5, true, &err), -1);
	CHECK_EQ_INT(err.errnum, EIO);
	CHECK(strncmp(spx_error_msg(&err), "fsync state.json.tmp", 20) == 0);
	spx_error_clear(&err);
	_cleanup_free_ char *s2 = slurp(d, "state.json");
	CHECK_EQ_STR(s2, "final\n");
	CHECK(!exists(d, "state.json.tmp"));
	/* A failed fsync of the directory: the new file is in place, but the
	 * write is reported as failed (it may not survive a crash). */
	fsync_reset();
	fsync_fail_errno = EIO;
	fsync_fail_dirs_only = 1;
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "new\n", 4, true, &err), -1);
	CHECK_EQ_INT(err.errnum, EIO);
	CHECK(strstr(spx_error_msg(&err), "fsync directory of state.json") != NULL);
	spx_error_clear(&err);
	_cleanup_free_ char *s3 = slurp(d, "state.json");
	CHECK_EQ_STR(s3, "new\n");
	fsync_reset();
	rm_rf(d);
}

/* RLIMIT_FSIZE makes write() fail with EFBIG past limit bytes: a write
 * error in the middle of the file, as ENOSPC would be. */
static void
limit_fsize(rlim_t limit, struct rlimit *old)
{
	struct rlimit r;
	getrlimit(RLIMIT_FSIZE, old);
	r = *old;
	r.rlim_cur = limit;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &r);
}

TEST(write_keeps_old_file_when_write_fails)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct rlimit old;
	size_t big = 64 * 1024;
	_cleanup_free_ char *buf = xmalloc(big);
	memset(buf, 'x', big);

	_cleanup_close_ int dfd = open_dir(d);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "good\n", 5, false, &err), 0);
	limit_fsize(4096, &old);
	int r = statefile_write(dfd, "state.json", buf, big, false, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK_EQ_INT(r, -1);
	CHECK_EQ_INT(err.errnum, EFBIG);
	CHECK(strncmp(spx_error_msg(&err), "write ", 6) == 0);
	spx_error_clear(&err);
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "good\n");
	CHECK(!exists(d, "state.json.tmp"));
	/* and the next write works again */
	CHECK_EQ_INT(statefile_write(dfd, "state.json", buf, big, false, &err), 0);
	rm_rf(d);
}

TEST(write_on_full_tmpfs_keeps_old_file_and_recovers)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	if (mount("tmpfs", d, "tmpfs", 0, "size=64k") < 0) {
		int e = errno;
		rm_rf(d);
		SKIP("cannot mount a tmpfs (%s)", strerror(e));
	}
	int dfd = open_dir(d);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "good\n", 5, false, &err), 0);
	/* Fill the file system. */
	_cleanup_free_ char *fill = xasprintf("%s/fill", d);
	int fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	char page[4096];
	memset(page, 'f', sizeof(page));
	while (write(fd, page, sizeof(page)) > 0)
		;
	close(fd);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", page, sizeof(page), false, &err), -1);
	CHECK_EQ_INT(err.errnum, ENOSPC);
	spx_error_clear(&err);
	_cleanup_free_ char *s = slurp(d, "state.json");
	CHECK_EQ_STR(s, "good\n");
	CHECK(!exists(d, "state.json.tmp"));
	unlink(fill);
	CHECK_EQ_INT(statefile_write(dfd, "state.json", "again\n", 6, false, &err), 0);
	_cleanup_free_ char *s2 = slurp(d, "state.json");
	CHECK_EQ_STR(s2, "again\n");
	close(dfd);
	umount2(d, MNT_DETACH);
	rm_rf(d);
}

/* ---- the bounded line log ---------------------------------------------------- */

TEST(linelog_bounded_4096_to_3072)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct linelog l;
	char line[32];
	int fails = 0;

	_cleanup_close_ int dfd = open_dir(d);
	linelog_init(&l, "h.jsonl", 4096, 3072);
	for (int i = 1; i <= 4096; i++) {
		snprintf(line, sizeof(line), "line %d", i);
		fails += linelog_append(&l, dfd, line, &err) < 0;
	}
	CHECK_EQ_INT(fails, 0);
	_cleanup_free_ char *full = slurp(d, "h.jsonl");
	CHECK_EQ_INT(count_lines(full), 4096);
	CHECK(strncmp(full, "line 1\n", 7) == 0);

	CHECK_EQ_INT(linelog_append(&l, dfd, "line 4097", &err), 0);
	_cleanup_free_ char *cut = slurp(d, "h.jsonl");
	CHECK_EQ_INT(count_lines(cut), 3072);
	CHECK_EQ_INT(l.lines, 3072);
	CHECK(strncmp(cut, "line 1026\n", 10) == 0); /* the newest 3072 of 4097 */
	size_t n = strlen(cut);
	CHECK(n > 11 && strcmp(cut + n - 10, "line 4097\n") == 0);
	CHECK(!exists(d, "h.jsonl.tmp"));
	linelog_free(&l);

	/* A new writer counts the file once, and cuts a torn last line off. */
	_cleanup_free_ char *path = xasprintf("%s/h.jsonl", d);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(write(fd, "torn", 4) == 4);
	close(fd);
	linelog_init(&l, "h.jsonl", 4096, 3072);
	CHECK_EQ_INT(linelog_append(&l, dfd, "after", &err), 0);
	CHECK_EQ_INT(l.lines, 3073);
	_cleanup_free_ char *again = slurp(d, "h.jsonl");
	CHECK_EQ_INT(count_lines(again), 3073);
	CHECK(strstr(again, "torn") == NULL);
	n = strlen(again);
	CHECK(strcmp(again + n - 16, "line 4097\nafter\n") == 0);
	linelog_free(&l);
	rm_rf(d);
}

TEST(linelog_small_bounds_and_new_file)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct linelog l;
	_cleanup_close_ int dfd = open_dir(d);
	linelog_init(&l, "h", 3, 2);
	CHECK_EQ_INT(linelog_append(&l, dfd, "a", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, dfd, "b", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, dfd, "c", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, dfd, "d", &err), 0);
	_cleanup_free_ char *s = slurp(d, "h");
	CHECK_EQ_STR(s, "c\nd\n");
	CHECK_EQ_INT(linelog_append(&l, dfd, "e", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, dfd, "f", &err), 0);
	_cleanup_free_ char *s2 = slurp(d, "h");
	CHECK_EQ_STR(s2, "e\nf\n");
	linelog_free(&l);
	rm_rf(d);
}

TEST(linelog_failed_append_leaves_no_torn_line)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct linelog l;
	struct rlimit old;
	char big[2048];

	_cleanup_close_ int dfd = open_dir(d);
	linelog_init(&l, "h", 10, 5);
	CHECK_EQ_INT(linelog_append(&l, dfd, "first", &err), 0);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	limit_fsize(1024, &old); /* part of the line fits, then EFBIG */
	int r = linelog_append(&l, dfd, big, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK_EQ_INT(r, -1);
	CHECK_EQ_INT(err.errnum, EFBIG);
	CHECK(strstr(spx_error_msg(&err), "append ") != NULL);
	spx_error_clear(&err);
	_cleanup_free_ char *s = slurp(d, "h");
	CHECK_EQ_STR(s, "first\n");
	CHECK_EQ_INT(l.lines, 1);
	CHECK_EQ_INT(linelog_append(&l, dfd, "second", &err), 0);
	_cleanup_free_ char *s2 = slurp(d, "h");
	CHECK_EQ_STR(s2, "first\nsecond\n");
	linelog_free(&l);
	rm_rf(d);
}

/* The history is changed in place only when it is a regular file with
 * one link: a hard link or a FIFO at its name is an error, never written
 * through or waited on. */
TEST(linelog_refuses_a_link_or_a_fifo)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct linelog l;
	_cleanup_close_ int dfd = open_dir(d);
	_cleanup_free_ char *h = xasprintf("%s/h", d);
	_cleanup_free_ char *other = xasprintf("%s/other", d);

	int fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, "precious\nto", 11) == 11);
	close(fd);
	CHECK(link(other, h) == 0);
	linelog_init(&l, "h", 10, 5);
	CHECK_EQ_INT(linelog_append(&l, dfd, "x", &err), -1);
	CHECK_EQ_INT(err.errnum, EMLINK);
	spx_error_clear(&err);
	_cleanup_free_ char *o = slurp(d, "other");
	CHECK_EQ_STR(o, "precious\nto"); /* not cut, not appended to */
	CHECK(unlink(h) == 0 && mkfifo(h, 0644) == 0);
	CHECK_EQ_INT(linelog_append(&l, dfd, "x", &err), -1);
	CHECK_EQ_INT(err.errnum, EINVAL);
	spx_error_clear(&err);
	linelog_free(&l);
	rm_rf(d);
}

/* The count belongs to a directory: appending in another one (.spex/
 * made anew) counts that directory's file first. */
TEST(linelog_counts_anew_in_another_directory)
{
	_cleanup_free_ char *d = mktemp_dir();
	struct spx_error err = {0};
	struct linelog l;
	_cleanup_free_ char *a = xasprintf("%s/a", d), *b = xasprintf("%s/b", d);
	CHECK(mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0);
	_cleanup_close_ int afd = open_dir(a);
	_cleanup_close_ int bfd = open_dir(b);

	linelog_init(&l, "h", 3, 2);
	CHECK_EQ_INT(linelog_append(&l, afd, "1", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, afd, "2", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, afd, "3", &err), 0);
	CHECK_EQ_INT(linelog_append(&l, bfd, "x", &err), 0);
	CHECK_EQ_INT(l.lines, 1);
	_cleanup_free_ char *sb = slurp(b, "h");
	CHECK_EQ_STR(sb, "x\n");
	_cleanup_free_ char *sa = slurp(a, "h");
	CHECK_EQ_STR(sa, "1\n2\n3\n");
	linelog_free(&l);
	rm_rf(d);
}

/* ---- which failures are logged -------------------------------------------------- */

/* The nearly full disk: state.json (small) is replaced at every attempt,
 * the history's rewrite (about 1 MB) fails at every measurement. The
 * history's error is said once, and nothing "recovers". */
TEST(health_files_fail_apart)
{
	struct statefile_health h = {0};
	int errors = 0, recovered = 0;

	for (int i = 0; i < 100; i++) {
		enum statefile_say a = statefile_health_note(&h, STATEFILE_HISTORY, ENOSPC);
		enum statefile_say b = statefile_health_note(&h, STATEFILE_STATE, 0);
		errors += (a == STATEFILE_SAY_ERROR) + (b == STATEFILE_SAY_ERROR);
		recovered += (a == STATEFILE_SAY_RECOVERED) + (b == STATEFILE_SAY_RECOVERED);
	}
	CHECK_EQ_INT(errors, 1);
	CHECK_EQ_INT(recovered, 0);
	/* The history works again: said once; a new failure is news again. */
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, 0), STATEFILE_SAY_RECOVERED);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, 0), STATEFILE_SAY_NOTHING);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, ENOSPC), STATEFILE_SAY_ERROR);
}

TEST(health_once_per_errno_per_file)
{
	struct statefile_health h = {0};

	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, 0), STATEFILE_SAY_NOTHING);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, ENOSPC), STATEFILE_SAY_ERROR);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, ENOSPC), STATEFILE_SAY_NOTHING);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, EIO), STATEFILE_SAY_ERROR);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, ENOSPC), STATEFILE_SAY_NOTHING);
	/* the same errno on the other file is that file's news */
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, ENOSPC), STATEFILE_SAY_ERROR);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, 0), STATEFILE_SAY_RECOVERED);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_STATE, ENOSPC), STATEFILE_SAY_ERROR);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, ENOSPC), STATEFILE_SAY_NOTHING);
	/* more kinds than remembered: the extra ones are said each time */
	for (int e = 1; e <= STATEFILE_LOGGED_MAX + 2; e++)
		statefile_health_note(&h, STATEFILE_HISTORY, 1000 + e);
	CHECK_EQ_INT(statefile_health_note(&h, STATEFILE_HISTORY, 1000 + STATEFILE_LOGGED_MAX + 2),
	             STATEFILE_SAY_ERROR);
}

/* ---- /proc ------------------------------------------------------------------ */

TEST(proc_stat_times_comm_with_spaces_and_parens)
{
	struct proc_times pt;
	const char *stat = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 1234 0 0 0 17 5 0 0 20 0 1 "
	                   "0 98765 123456789 300 18446744073709551615 1 1 0 0 0 0 0";
	CHECK_EQ_INT(proc_stat_times(stat, &pt), 0);
	CHECK_EQ_INT(pt.utime, 17);
	CHECK_EQ_INT(pt.stime, 5);
	CHECK_EQ_INT(pt.start_ticks, 98765);
	CHECK_EQ_INT(pt.rss_pages, 300);
	/* comm that looks like fields: "x) R 1 2 3" */
	CHECK_EQ_INT(
	    proc_stat_times("7 (x) R 1 2 3) Z 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 55 0 0", &pt),
	    0);
	CHECK(pt.utime == 3 && pt.stime == 4 && pt.start_ticks == 55);
	CHECK_EQ_INT(proc_stat_times("1 (x)", &pt), -1);
	CHECK_EQ_INT(proc_stat_times("1 (x) S 1 2 3", &pt), -1);
	/* 23 fields: rss (24) missing */
	CHECK_EQ_INT(proc_stat_times("7 (x) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 55 0", &pt),
	             -1);
	CHECK_EQ_INT(proc_stat_times("no parenthesis", &pt), -1);

	/* The real thing: our own start time is after boot, and stable. */
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	struct proc_times self;
	CHECK_EQ_INT(proc_stat_times(buf, &self), 0);
	CHECK(self.start_ticks > 0);

	unsigned long long pages = 0;
	CHECK_EQ_INT(proc_statm_resident("12345 678 90 1 0 2 0\n", &pages), 0);
	CHECK_EQ_INT(pages, 678);
	CHECK_EQ_INT(proc_statm_resident("12345", &pages), -1);
}

/* ---- document pieces ----------------------------------------------------------- */

TEST(rfc3339_ms_utc)
{
	char b[STATEDOC_TIME_MAX];
	CHECK_EQ_STR(rfc3339_ms(0, b, sizeof(b)), "1970-01-01T00:00:00.000Z");
	CHECK_EQ_STR(rfc3339_ms(1795520400123LL, b, sizeof(b)), "2026-11-24T11:40:00.123Z");
	CHECK_EQ_STR(rfc3339_ms(1795520400005LL, b, sizeof(b)), "2026-11-24T11:40:00.005Z");
	CHECK_EQ_STR(rfc3339_ms(-1, b, sizeof(b)), "1969-12-31T23:59:59.999Z");
	CHECK_EQ_INT(strlen(rfc3339_ms(statedoc_now_ms(), b, sizeof(b))), 24);
}

TEST(reason_names)
{
	CHECK_EQ_STR(
	    status_reason_name(MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY),
	    "REASON_CONTAINER_LIMITATION_MEMORY");
	CHECK_EQ_STR(
	    status_reason_name(MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED),
	    "REASON_CONTAINER_LAUNCH_FAILED");
	CHECK_EQ_STR(status_reason_name(9999), "REASON_9999");
}

TEST(integers_stay_exact)
{
	cJSON *o = cJSON_CreateObject();
	json_add_u64(o, "max", UINT64_MAX);
	json_add_u64(o, "odd", (1ULL << 53) + 1);
	json_add_i64(o, "neg", -42);
	json_add_time(o, "never", 0);
	json_add_str_or_null(o, "none", NULL);
	char *s = cJSON_PrintUnformatted(o);
	CHECK_EQ_STR(s, "{\"max\":18446744073709551615,\"odd\":9007199254740993,\"neg\":-42,"
	                "\"never\":null,\"none\":null}");
	cJSON_free(s);
	cJSON_Delete(o);
}

/* The array of h as parsed JSON. */
static cJSON *
history_roundtrip(const struct task_history *h)
{
	cJSON *arr = task_history_json(h);
	char *s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	cJSON *back = cJSON_Parse(s);
	cJSON_free(s);
	return back;
}

static const char *
field(cJSON *arr, int i, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), key);
	return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "null" : "?";
}

TEST(history_keeps_all_up_to_64)
{
	struct task_history h = {0};
	char msg[32];
	CHECK(task_history_last(&h) == NULL);
	task_history_add(&h, MESOS__V1__TASK_STATE__TASK_STARTING, -1, 1000, NULL);
	task_history_add(&h, MESOS__V1__TASK_STATE__TASK_RUNNING, -1, 2000, "");
	for (int i = 2; i < 63; i++) {
		snprintf(msg, sizeof(msg), "report %d", i);
		task_history_add(&h, MESOS__V1__TASK_STATE__TASK_RUNNING, -1, 1000 * (i + 1), msg);
	}
	task_history_add(&h, MESOS__V1__TASK_STATE__TASK_FAILED,
	                 MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY, 64000,
	                 "memory limit exceeded");
	cJSON *a = history_roundtrip(&h);
	CHECK_EQ_INT(cJSON_GetArraySize(a), 64);
	CHECK_EQ_STR(field(a, 0, "state"), "TASK_STARTING");
	CHECK_EQ_STR(field(a, 0, "at"), "1970-01-01T00:00:01.000Z");
	CHECK_EQ_STR(field(a, 0, "reason"), "null");
	CHECK_EQ_STR(field(a, 0, "message"), "null");
	CHECK_EQ_STR(field(a, 1, "message"), "null"); /* "" is no message */
	CHECK_EQ_STR(field(a, 62, "message"), "report 62");
	CHECK_EQ_STR(field(a, 63, "state"), "TASK_FAILED");
	CHECK_EQ_STR(field(a, 63, "reason"), "REASON_CONTAINER_LIMITATION_MEMORY");
	CHECK_EQ_STR(field(a, 63, "message"), "memory limit exceeded");
	CHECK_EQ_INT(task_history_last(&h)->state, MESOS__V1__TASK_STATE__TASK_FAILED);
	cJSON_Delete(a);
	task_history_clear(&h);
}

/* Add n updates numbered 0..n-1 (at = 1000 * (k+1), message "k"). */
static void
fill_history(struct task_history *h, int n)
{
	char msg[16];
	for (int k = 0; k < n; k++) {
		snprintf(msg, sizeof(msg), "%d", k);
		task_history_add(h, MESOS__V1__TASK_STATE__TASK_RUNNING, -1, 1000LL * (k + 1), msg);
	}
}

TEST(history_bounded_first_8_marker_last_55)
{
	int sizes[] = {65, 100, 1000};
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct task_history h = {0};
		int n = sizes[s];
		char want[48];
		fill_history(&h, n);
		cJSON *a = history_roundtrip(&h);
		CHECK_EQ_INT(cJSON_GetArraySize(a), 64);
		for (int i = 0; i < 8; i++) {
			snprintf(want, sizeof(want), "%d", i);
			CHECK_EQ_STR(field(a, i, "message"), want);
		}
		snprintf(want, sizeof(want), "%d updates omitted", n - 63);
		CHECK_EQ_STR(field(a, 8, "state"), "\u2026");
		CHECK_EQ_STR(field(a, 8, "message"), want);
		CHECK_EQ_STR(field(a, 8, "reason"), "null");
		/* the marker's time: the newest omitted update, number n-56 */
		char at[STATEDOC_TIME_MAX];
		CHECK_EQ_STR(field(a, 8, "at"), rfc3339_ms(1000LL * (n - 55), at, sizeof(at)));
		for (int i = 9; i < 64; i++) {
			snprintf(want, sizeof(want), "%d", n - 64 + i);
			CHECK_EQ_STR(field(a, i, "message"), want);
		}
		CHECK_EQ_STR(task_history_last(&h)->message, want);
		cJSON_Delete(a);
		task_history_clear(&h);
	}
}

int
main(void)
{
	umask(022);
	RUN(write_replaces_atomically);
	RUN(write_keeps_old_file_when_temp_cannot_be_created);
	RUN(write_never_opens_what_is_at_the_temp_name);
	RUN(write_syncs_only_when_durable);
	RUN(write_keeps_old_file_when_write_fails);
	RUN_S(write_on_full_tmpfs_keeps_old_file_and_recovers);
	RUN(linelog_bounded_4096_to_3072);
	RUN(linelog_small_bounds_and_new_file);
	RUN(linelog_failed_append_leaves_no_torn_line);
	RUN(linelog_refuses_a_link_or_a_fifo);
	RUN(linelog_counts_anew_in_another_directory);
	RUN(health_files_fail_apart);
	RUN(health_once_per_errno_per_file);
	RUN(proc_stat_times_comm_with_spaces_and_parens);
	RUN(rfc3339_ms_utc);
	RUN(reason_names);
	RUN(integers_stay_exact);
	RUN(history_keeps_all_up_to_64);
	RUN(history_bounded_first_8_marker_last_55);
	return harness_done();
}

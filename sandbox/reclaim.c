/*
 * The gc plan of a dead executor's sandbox (reclaim.h).
 */
#include "reclaim.h"
#include "classify.h"
#include "scan.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1u << 20)

static const char *const kind_names[] = {
    [RECLAIM_BLOCKMGR] = "blockmgr",
    [RECLAIM_SPARK_TEMP] = "spark_temp",
    [RECLAIM_DIST] = "dist",
    [RECLAIM_LOG] = "log",
};

const char *
reclaim_kind_name(enum reclaim_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "invalid";
}

/* Count an error; keep the first, "name: reason". */
static void
note(uint64_t *errors, char *first, size_t len, const char *name, int e)
{
	(*errors)++;
	if (!first[0])
		snprintf(first, len, "%.180s: %s", name, strerror(e));
}

/* The length of RECLAIM_LOG_MARKER once formatted (fixed). */
static size_t
marker_len(void)
{
	return (size_t)snprintf(NULL, 0, RECLAIM_LOG_MARKER, 0ULL);
}

/* The logs gc trims: the task's stdout and stderr. */
static bool
is_log(const char *name)
{
	return strcmp(name, "stdout") == 0 || strcmp(name, "stderr") == 0;
}

/* Allocated bytes freed by cutting a file of alloc allocated bytes down to
 * new_size bytes (blocks of blksize): an estimate, exact for dense files. */
static uint64_t
log_gain(uint64_t alloc, uint64_t new_size, uint64_t blksize)
{
	uint64_t b = blksize ? blksize : 4096;
	uint64_t need = (new_size + b - 1) / b * b;
	return alloc > need ? alloc - need : 0;
}

/* The directory kind of the top-level directory name, or -1. The dist
 * probe never follows a symlink (scan_probe_contains: a `bin` symlink to
 * a distribution elsewhere does not make the user's directory one). */
static int
dir_kind(int sandboxfd, const char *name)
{
	struct cls_ctx root, child;
	int fd = sandboxfd;

	classify_root(&root);
	switch (classify_entry(&root, name, 1, scan_probe_contains, &fd, &child)) {
	case CAT_BLOCKS:
		return RECLAIM_BLOCKMGR;
	case CAT_SPARK_TEMP:
		/* spark-warehouse/, spark-events/: the user's, not Spark's temp. */
		return cleanup_is_spark_temp(name) ? RECLAIM_SPARK_TEMP : -1;
	case CAT_DIST:
		return RECLAIM_DIST;
	default:
		return -1;
	}
}

/* Append *it to the plan (capacity *cap). */
static void
plan_add(struct reclaim_plan *p, const struct reclaim_item *it, size_t *cap)
{
	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		p->items = xrealloc(p->items, *cap * sizeof(*p->items));
	}
	p->items[p->n++] = *it;
	p->bytes += it->bytes;
}

/* Plan the entry name (lstat'ed as *st); adds to p when it is reclaimable. */
static void
plan_entry(int sandboxfd, const char *name, const struct stat *st, const struct reclaim_opts *opts,
           struct reclaim_plan *p, size_t *cap)
{
	struct reclaim_item it = {.dev = st->st_dev, .ino = st->st_ino};

	snprintf(it.name, sizeof(it.name), "%s", name);
	if (strlen(name) >= sizeof(it.name))
		return;
	if (S_ISDIR(st->st_mode)) {
		int kind = dir_kind(sandboxfd, name);
		struct cleanup_opts co = {.dry_run = true, .one_dev = true};
		struct cleanup_result r = {0};
		if (kind < 0)
			return;
		cleanup_remove_at(sandboxfd, name, &co, &r);
		if (r.errors && !p->first_error[0])
			snprintf(p->first_error, sizeof(p->first_error), "%s", r.first_error);
		p->errors += r.errors;
		it.kind = (enum reclaim_kind)kind;
		it.bytes = r.reclaimed_bytes;
		it.entries = r.removed;
		plan_add(p, &it, cap);
		return;
	}
	uint64_t keep = opts->log_tail + marker_len();
	if (!S_ISREG(st->st_mode) || !is_log(name) || st->st_nlink != 1 ||
	    (uint64_t)st->st_size <= keep + RECLAIM_LOG_SLACK)
		return;
	it.kind = RECLAIM_LOG;
	it.size = (uint64_t)st->st_size;
	it.bytes = log_gain((uint64_t)st->st_blocks * 512, keep, (uint64_t)st->st_blksize);
	plan_add(p, &it, cap);
}

/* Logs last (removing directories first frees the space a rewrite may
 * need), otherwise by name: the same plan whatever the directory order. */
static int
by_order(const void *a, const void *b)
{
	const struct reclaim_item *x = a, *y = b;
	int lx = x->kind == RECLAIM_LOG, ly = y->kind == RECLAIM_LOG;
	if (lx != ly)
		return lx - ly;
	return strcmp(x->name, y->name);
}

int
reclaim_plan(int sandboxfd, const struct reclaim_opts *opts, struct reclaim_plan *ret,
             struct spx_error *err)
{
	size_t cap = 0;
	struct dirent *de;

	memset(ret, 0, sizeof(*ret));
	int listfd = fcntl(sandboxfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL; /* takes listfd */
	if (!d) {
		int e = errno;
		if (listfd >= 0)
			close(listfd);
		return spx_error_set(err, e, "list sandbox");
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(sandboxfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				note(&ret->errors, ret->first_error, sizeof(ret->first_error),
				     de->d_name, errno);
			continue;
		}
		plan_entry(sandboxfd, de->d_name, &st, opts, ret, &cap);
	}
	closedir(d);
	if (ret->n > 1)
		qsort(ret->items, ret->n, sizeof(*ret->items), by_order);
	return 0;
}

void
reclaim_plan_free(struct reclaim_plan *p)
{
	if (!p)
		return;
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

/* Count an error for name in *ret; returns 1 (something stays). */
static int
fail(struct cleanup_result *ret, const char *name, int e)
{
	note(&ret->errors, ret->first_error, sizeof(ret->first_error), name, e);
	return 1;
}

/* Move the last tail bytes of fd (size bytes) down to offset at, forwards in
 * chunks (at < size - tail, so no chunk overwrites bytes not yet read). */
static int
move_tail(int fd, uint64_t size, uint64_t tail, uint64_t at)
{
	_cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
	uint64_t from = size - tail, done = 0;

	while (done < tail) {
		size_t want = tail - done < COPY_CHUNK ? (size_t)(tail - done) : COPY_CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)(from + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (errno = EIO, -1);
		for (ssize_t w = 0; w < r;) {
			ssize_t k = pwrite(fd, buf + w, (size_t)(r - w), (off_t)(at + done) + w);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			w += k;
		}
		done += (uint64_t)r;
	}
	return 0;
}

/* Rewrite the log to marker + its last tail bytes, in place (the inode,
 * its owner and mode stay). Interrupted, the file holds the marker and a
 * partly moved tail. */
static int
trim_log(int sandboxfd, const struct reclaim_item *it, uint64_t tail, struct cleanup_result *ret)
{
	struct stat st;
	char marker[64];

	_cleanup_close_ int fd =
	    openat(sandboxfd, it->name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return fail(ret, it->name, errno);
	if (fstat(fd, &st) < 0)
		return fail(ret, it->name, errno);
	if (!S_ISREG(st.st_mode) || st.st_dev != it->dev || st.st_ino != it->ino)
		return fail(ret, it->name, ESTALE);
	if (st.st_nlink != 1)
		return fail(ret, it->name, EMLINK);
	uint64_t size = (uint64_t)st.st_size, ml = marker_len();
	if (size <= tail + ml + RECLAIM_LOG_SLACK)
		return 0; /* shrank since planned: nothing worth doing */
	snprintf(marker, sizeof(marker), RECLAIM_LOG_MARKER, (unsigned long long)(size - tail));
	if (move_tail(fd, size, tail, ml) < 0 || pwrite(fd, marker, ml, 0) != (ssize_t)ml ||
	    ftruncate(fd, (off_t)(ml + tail)) < 0)
		return fail(ret, it->name, errno);
	uint64_t before = (uint64_t)st.st_blocks * 512;
	if (fstat(fd, &st) == 0 && before > (uint64_t)st.st_blocks * 512)
		ret->reclaimed_bytes += before - (uint64_t)st.st_blocks * 512;
	return 0;
}

int
reclaim_apply(int sandboxfd, const struct reclaim_item *it, const struct reclaim_opts *opts,
              struct cleanup_result *ret)
{
	struct stat st;
	struct cleanup_opts co = {.dry_run = false, .one_dev = true};

	if (it->kind == RECLAIM_LOG)
		return trim_log(sandboxfd, it, opts->log_tail, ret);
	if (fstatat(sandboxfd, it->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail(ret, it->name, errno);
	if (!S_ISDIR(st.st_mode) || st.st_dev != it->dev || st.st_ino != it->ino)
		return fail(ret, it->name, ESTALE);
	return cleanup_remove_at(sandboxfd, it->name, &co, ret);
}

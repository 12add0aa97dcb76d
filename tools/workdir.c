/*
 * The sandboxes of an agent work dir (workdir.h).
 */
#include "workdir.h"
#include "clock.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The layout below WORK_DIR: fixed names and id levels, alternating. */
static const char *const fixed[] = {"slaves", "frameworks", "executors", "runs"};
#define LEVELS 4

struct walk {
	struct workdir *w;
	size_t cap;
	const char *ids[LEVELS];
};

/* Count a directory of the layout that could not be listed. */
static void
note(struct workdir *w, const char *rel, int e)
{
	w->errors++;
	if (!w->first_error[0])
		snprintf(w->first_error, sizeof(w->first_error), "%.200s: %s", rel, strerror(e));
}

/* Count a directory of the layout on another file system or mount than
 * WORK_DIR: not entered. */
static void
note_mount(struct workdir *w, const char *rel)
{
	w->errors++;
	if (!w->first_error[0])
		snprintf(w->first_error, sizeof(w->first_error),
		         "%.200s: on another file system or mount, not entered", rel);
}

/*
 * Is the directory name in dirfd (dirfd itself when name is "") on WORK_DIR's
 * file system and mount? st is its stat. A mount id that cannot be read
 * while WORK_DIR's could counts as another mount.
 */
static bool
same_mount(const struct workdir *w, int dirfd, const char *name, const struct stat *st)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC;

	if (st->st_dev != w->dev)
		return false;
	if (!w->mnt_known)
		return true;
	if (!*name)
		flags |= AT_EMPTY_PATH;
	if (statx(dirfd, name, flags, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return false;
	return stx.stx_mnt_id == w->mnt_id;
}

/* Is the open directory fd on WORK_DIR's file system and mount? */
static bool
fd_same_mount(const struct workdir *w, int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && same_mount(w, fd, "", &st);
}

/* Open the directory name in dirfd without following a symlink. */
static int
open_dir(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Record the run directory run (lstat'ed as *st; other: on another file
 * system or mount) of the current ids. */
static void
add_run(struct walk *k, const char *run, const struct stat *st, bool other)
{
	struct workdir *w = k->w;
	if (w->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 32;
		w->runs = xrealloc(w->runs, k->cap * sizeof(*w->runs));
	}
	struct sandbox_ref *r = &w->runs[w->n++];
	r->agent_id = xstrdup(k->ids[0]);
	r->framework_id = xstrdup(k->ids[1]);
	r->executor_id = xstrdup(k->ids[2]);
	r->run_id = xstrdup(run);
	r->rel = xasprintf("slaves/%s/frameworks/%s/executors/%s/runs/%s", k->ids[0], k->ids[1],
	                   k->ids[2], run);
	r->other_dev = other;
	r->mtime_ms = clock_timespec_ms(&st->st_mtim);
}

/*
 * List the ids at level (0 = agents) in the directory fd (the fixed-name
 * directory, which we own), and descend. rel names fd for messages.
 */
static void
walk_level(struct walk *k, int fd, int level, const char *rel)
{
	DIR *d = fdopendir(fd); /* takes fd */
	struct dirent *de;

	if (!d) {
		note(k->w, rel, errno);
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		const char *id = de->d_name;
		struct stat st;
		if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
			continue;
		if (fstatat(fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* vanished */
		if (S_ISLNK(st.st_mode)) {
			k->w->symlinks_skipped++;
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (level == LEVELS - 1) {
			add_run(k, id, &st, !same_mount(k->w, fd, id, &st));
			continue;
		}
		_cleanup_free_ char *sub = xasprintf("%s/%s/%s", rel, id, fixed[level + 1]);
		_cleanup_close_ int idfd = open_dir(fd, id);
		if (idfd < 0) {
			note(k->w, sub, errno);
			continue;
		}
		if (!fd_same_mount(k->w, idfd)) {
			_cleanup_free_ char *here = xasprintf("%s/%s", rel, id);
			note_mount(k->w, here);
			continue;
		}
		int next = open_dir(idfd, fixed[level + 1]);
		if (next < 0) {
			if (errno == ELOOP)
				k->w->symlinks_skipped++;
			else if (errno != ENOENT && errno != ENOTDIR)
				note(k->w, sub, errno);
			continue;
		}
		if (!fd_same_mount(k->w, next)) {
			note_mount(k->w, sub);
			close(next);
			continue;
		}
		k->ids[level] = id;
		walk_level(k, next, level + 1, sub);
	}
	closedir(d);
}

/* Order of sandbox_refs by path. */
static int
by_rel(const void *a, const void *b)
{
	return strcmp(((const struct sandbox_ref *)a)->rel, ((const struct sandbox_ref *)b)->rel);
}

int
workdir_open(const char *path, struct workdir *ret, struct spx_error *err)
{
	struct stat st;
	struct statx stx;
	struct walk k = {.w = ret};

	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return spx_error_set(err, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return spx_error_set(err, e, "%s", path);
	}
	ret->fd = fd;
	ret->dev = st.st_dev;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID)) {
		ret->mnt_id = stx.stx_mnt_id;
		ret->mnt_known = true;
	}
	ret->path = xstrdup(path);
	int slaves = open_dir(fd, fixed[0]);
	if (slaves < 0) {
		int e = errno;
		workdir_close(ret);
		if (e == ENOENT)
			return spx_error_set(
			    err, 0, "%s: no slaves/ directory, not a Mesos agent work dir", path);
		return spx_error_set(err, e, "%s/slaves", path);
	}
	if (!fd_same_mount(ret, slaves)) {
		note_mount(ret, "slaves");
		close(slaves);
		return 0;
	}
	walk_level(&k, slaves, 0, "slaves");
	if (ret->n > 1)
		qsort(ret->runs, ret->n, sizeof(*ret->runs), by_rel);
	return 0;
}

void
workdir_close(struct workdir *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		struct sandbox_ref *r = &w->runs[i];
		free(r->rel);
		free(r->agent_id);
		free(r->framework_id);
		free(r->executor_id);
		free(r->run_id);
	}
	free(w->runs);
	free(w->path);
	if (w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

int
workdir_open_run(const struct workdir *w, const struct sandbox_ref *r, struct spx_error *err)
{
	const char *parts[2 * LEVELS] = {fixed[0], r->agent_id,    fixed[1], r->framework_id,
	                                 fixed[2], r->executor_id, fixed[3], r->run_id};
	int fd = -1;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		int next = open_dir(fd < 0 ? w->fd : fd, parts[i]);
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (next < 0)
			return spx_error_set(err, e, "%s/%s", w->path, r->rel);
		if (!fd_same_mount(w, next)) {
			close(next);
			return spx_error_set(err, EXDEV, "%s/%s", w->path, r->rel);
		}
		fd = next;
	}
	return fd;
}

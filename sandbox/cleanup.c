#include "cleanup.h"
#include "classify.h"
#include "scan.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct clean {
	bool keep_shuffle;
	bool dry_run;    /* count what would go, remove nothing */
	bool one_dev;    /* never enter a directory of another mount */
	dev_t dev;       /* with one_dev: the device ... */
	uint64_t mnt_id; /* ... and, when mnt_known, the mount id to stay on */
	bool mnt_known;
	struct cleanup_result *res;
};

/* The statx mount id of name in dirfd (name "" for dirfd itself); 0 or -1. */
static int
mount_id(int dirfd, const char *name, uint64_t *ret)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC;

	if (statx(dirfd, name, flags | (name[0] ? 0 : AT_EMPTY_PATH), STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return -1;
	*ret = stx.stx_mnt_id;
	return 0;
}

/* With one_dev: is the directory name (lstat'ed as *st) in dirfd on another
 * mount than the one we started on (another device, or a bind mount)? */
static bool
other_mount(const struct clean *c, int dirfd, const char *name, const struct stat *st)
{
	uint64_t id;

	if (!c->one_dev)
		return false;
	if (st->st_dev != c->dev)
		return true;
	return c->mnt_known && mount_id(dirfd, name, &id) == 0 && id != c->mnt_id;
}

/* Remove (or, dry run, count) the non-directory or emptied directory name
 * of dirfd, lstat'ed as *st. Returns 0, or -1 after noting the error. */
static int remove_one(struct clean *c, int dirfd, const char *name, const struct stat *st,
                      int flags);

/* Count an error on name; keep the first, "name: reason". */
static void
note(struct clean *c, const char *name, int err)
{
	c->res->errors++;
	if (!c->res->first_error[0])
		snprintf(c->res->first_error, sizeof(c->res->first_error), "%.180s: %s", name,
		         strerror(err));
}

/* Remove the entries of the directory open at dirfd (we own it), keeping
 * shuffle files when asked. Returns 1 if something was kept. */
static int
clean_dir(struct clean *c, int dirfd, const struct cls_ctx *ctx, int depth)
{
	DIR *d = fdopendir(dirfd); /* takes ownership of dirfd */
	struct dirent *de;
	int kept = 0;

	if (!d) {
		close(dirfd);
		return 1;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		struct stat st;
		struct cls_ctx child;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) /* vanished: Spark deletes as we go */
				note(c, name, errno);
			continue;
		}
		int is_dir = S_ISDIR(st.st_mode);
		enum disk_cat cat = classify_entry(ctx, name, is_dir, NULL, NULL, &child);
		if (!is_dir) {
			if (c->keep_shuffle && cat == CAT_SHUFFLE) {
				c->res->kept++;
				kept = 1;
				continue;
			}
			if (remove_one(c, dirfd, name, &st, 0) < 0)
				kept = 1;
			continue;
		}
		if (depth >= CLEANUP_MAX_DEPTH) {
			note(c, name, ELOOP);
			kept = 1;
			continue;
		}
		if (other_mount(c, dirfd, name, &st)) {
			note(c, name, EXDEV);
			kept = 1;
			continue;
		}
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT) {
				note(c, name, errno);
				kept = 1;
			}
			continue;
		}
		if (clean_dir(c, sub, &child, depth + 1)) {
			kept = 1;
			continue;
		}
		if (remove_one(c, dirfd, name, &st, AT_REMOVEDIR) < 0)
			kept = 1;
	}
	closedir(d);
	return kept;
}

static int
remove_one(struct clean *c, int dirfd, const char *name, const struct stat *st, int flags)
{
	if (!c->dry_run && unlinkat(dirfd, name, flags) < 0) {
		if (errno == ENOENT)
			return 0; /* vanished: Spark deletes as we go */
		note(c, name, errno);
		return -1;
	}
	c->res->reclaimed_bytes += (uint64_t)st->st_blocks * 512;
	c->res->removed++;
	return 0;
}

int
cleanup_is_spark_temp(const char *name)
{
	static const char shape[] = "spark-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char c = name[i]; /* a shorter name fails at its '\0' */
		bool ok = shape[i] != 'x' ? c == shape[i]
		                          : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (!ok)
			return 0;
	}
	return name[sizeof(shape) - 1] == '\0';
}

int
sandbox_cleanup_spark(const char *root, bool keep_shuffle, struct cleanup_result *ret,
                      struct spx_error *err)
{
	struct clean c = {.keep_shuffle = keep_shuffle, .res = ret};
	struct cls_ctx rctx;

	memset(ret, 0, sizeof(*ret));
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return spx_error_set(err, errno, "cleanup: open sandbox '%s'", root);
	int listfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL;
	if (!d) {
		int e = errno;
		if (listfd >= 0)
			close(listfd);
		close(rootfd);
		return spx_error_set(err, e, "cleanup: list sandbox '%s'", root);
	}
	classify_root(&rctx);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		struct cls_ctx child;
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		enum disk_cat cat =
		    classify_entry(&rctx, de->d_name, 1, scan_probe_contains, &rootfd, &child);
		/* spark_temp counts every spark-*; only Spark's own temp dirs go. */
		if (cat != CAT_BLOCKS &&
		    !(cat == CAT_SPARK_TEMP && cleanup_is_spark_temp(de->d_name)))
			continue;
		int sub =
		    openat(rootfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			note(&c, de->d_name, errno);
			continue;
		}
		if (clean_dir(&c, sub, &child, 1) == 0) {
			if (unlinkat(rootfd, de->d_name, AT_REMOVEDIR) == 0) {
				ret->reclaimed_bytes += (uint64_t)st.st_blocks * 512;
				ret->removed++;
			} else if (errno != ENOENT) {
				note(&c, de->d_name, errno);
			}
		}
	}
	closedir(d);
	close(rootfd);
	return 0;
}

int
cleanup_remove_at(int dirfd, const char *name, const struct cleanup_opts *opts,
                  struct cleanup_result *ret)
{
	struct clean c = {.dry_run = opts->dry_run, .one_dev = opts->one_dev, .res = ret};
	struct stat st, dst;
	struct cls_ctx rctx, child;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		note(&c, name, errno);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return remove_one(&c, dirfd, name, &st, 0) < 0;
	if (fstat(dirfd, &dst) < 0) {
		note(&c, ".", errno);
		return 1;
	}
	c.dev = dst.st_dev;
	c.mnt_known = mount_id(dirfd, "", &c.mnt_id) == 0;
	if (other_mount(&c, dirfd, name, &st)) {
		note(&c, name, EXDEV);
		return 1;
	}
	int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0) {
		if (errno == ENOENT)
			return 0;
		note(&c, name, errno);
		return 1;
	}
	/* The context only matters with keep_shuffle, which this never sets. */
	classify_root(&rctx);
	classify_entry(&rctx, name, 1, NULL, NULL, &child);
	if (clean_dir(&c, sub, &child, 1)) /* takes sub */
		return 1;
	return remove_one(&c, dirfd, name, &st, AT_REMOVEDIR) < 0;
}

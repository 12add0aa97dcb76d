#include "cleanup.h"
#include "classify.h"
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
	struct cleanup_result *res;
};

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
			if (unlinkat(dirfd, name, 0) == 0) {
				c->res->reclaimed_bytes += (uint64_t)st.st_blocks * 512;
				c->res->removed++;
			} else if (errno != ENOENT) {
				note(c, name, errno);
				kept = 1;
			}
			continue;
		}
		if (depth >= CLEANUP_MAX_DEPTH) {
			note(c, name, ELOOP);
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
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0) {
			c->res->reclaimed_bytes += (uint64_t)st.st_blocks * 512;
			c->res->removed++;
		} else if (errno != ENOENT) {
			note(c, name, errno);
			kept = 1;
		}
	}
	closedir(d);
	return kept;
}

static int
probe(void *arg, const char *name, const char *rel)
{
	int rootfd = *(int *)arg;
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", name, rel);
	/* Only the last component may not be a symlink; an intermediate one
	 * would be followed, but this only reads a mode, never writes. */
	return fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
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
		enum disk_cat cat = classify_entry(&rctx, de->d_name, 1, probe, &rootfd, &child);
		if (cat != CAT_SPARK_TEMP && cat != CAT_BLOCKS)
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

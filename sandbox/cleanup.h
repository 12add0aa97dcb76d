/*
 * Removing what Spark leaves in a sandbox once the executor JVM is gone
 * (SPARK-24340 / SPARK-30069: on Mesos nobody else does): the top-level
 * block-manager directories (blockmgr-*) and Spark's temp directories
 * (spark-<uuid>/: "spark-" and exactly a UUID, cleanup_is_spark_temp()),
 * but never the extracted distribution, the logs or anything else: other
 * spark-* directories (spark-warehouse/, spark-events/) are the user's
 * data, although the disk report counts them as spark_temp. With keep_shuffle the shuffle files
 * stay (an external shuffle service serves them). Never follows a symlink, never leaves the
 * sandbox: every step is openat/unlinkat relative to a directory fd opened
 * with O_NOFOLLOW.
 */
#ifndef SANDBOX_CLEANUP_H
#define SANDBOX_CLEANUP_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define CLEANUP_MAX_DEPTH 256

struct cleanup_result {
	uint64_t reclaimed_bytes; /* allocated bytes of what was removed */
	uint64_t removed;         /* entries removed */
	uint64_t kept;            /* shuffle files kept */
	uint64_t errors;          /* entries that could not be removed (or too deep) */
	char first_error[256];
};

/* Clean root (neither dry_run nor one_dev: see cleanup_remove_at()). Returns 0 (errors on single
 * entries are counted, not fatal), or -1 with *err if root itself cannot be opened. */
int sandbox_cleanup_spark(const char *root, bool keep_shuffle, struct cleanup_result *ret,
                          struct spx_error *err);

struct cleanup_opts {
	bool dry_run; /* count what would be removed (reclaimed_bytes, removed), remove nothing */
	bool one_dev; /* never enter or remove a directory on another mount than dirfd's:
	               * another device or another mount id (statx; bind mounts) */
};

/*
 * Remove the entry name of the directory open at dirfd: a non-directory
 * (a symlink is removed, never followed), or a directory with everything
 * below it, by the same openat/unlinkat walk as sandbox_cleanup_spark()
 * (shuffle files are not kept). Adds to *ret (not zeroed: several calls
 * may accumulate) the allocated bytes and entries removed, or with dry_run
 * those that would be; a hard-linked file counts its blocks at each link.
 * Returns 0 when name is gone (or would be, or was already), 1 when some of
 * it stays (the reasons are counted in ret->errors: a mount point is
 * EXDEV, depth beyond CLEANUP_MAX_DEPTH is ELOOP).
 */
int cleanup_remove_at(int dirfd, const char *name, const struct cleanup_opts *opts,
                      struct cleanup_result *ret);

/* 1 when name is one of Spark's temp directory names, "spark-" followed
 * by exactly a UUID in 8-4-4-4-12 lowercase hex digits (Utils.createTempDir),
 * else 0. Pure. Only such a spark_temp directory may be removed. */
int cleanup_is_spark_temp(const char *name);

#endif /* SANDBOX_CLEANUP_H */

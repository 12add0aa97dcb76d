/*
 * Removing what Spark leaves in a sandbox once the executor JVM is gone
 * (SPARK-24340 / SPARK-30069: on Mesos nobody else does): the top-level
 * block-manager directories (blockmgr-*) and Spark's temp directories
 * (spark-<uuid>/), but never the extracted distribution, the logs or
 * anything else. With keep_shuffle the shuffle files stay (an external
 * shuffle service serves them). Never follows a symlink, never leaves the
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

/* Clean root. Returns 0 (errors on single entries are counted, not fatal),
 * or -1 with *err if root itself cannot be opened. */
int sandbox_cleanup_spark(const char *root, bool keep_shuffle, struct cleanup_result *ret,
                          struct spx_error *err);

#endif /* SANDBOX_CLEANUP_H */

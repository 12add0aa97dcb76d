/*
 * What `spex gc` reclaims in the sandbox of a dead executor, planned then
 * carried out item by item:
 *
 *  - blockmgr:   top-level block-manager directories (blockmgr-*);
 *  - spark_temp: Spark's top-level temp directories (spark-<uuid>/: exactly
 *                "spark-" and a UUID, cleanup_is_spark_temp(); with the
 *                block managers inside them). Other spark-* directories,
 *                which `du` counts as spark_temp too (spark-warehouse/,
 *                spark-events/), are the user's and stay;
 *  - dist:       the extracted Spark distribution (top-level directories of
 *                the dist category: spark-*-bin-*, or holding
 *                bin/spark-class reached without following a symlink;
 *                fetched archives and jars stay);
 *  - log:        the head of a capped stdout/stderr: a file larger than the
 *                tail to keep (plus RECLAIM_LOG_SLACK) is rewritten in place
 *                to a one-line marker followed by its last `log_tail` bytes.
 *
 * Nothing else is touched: not .spex/, not other logs, not the task's own
 * files. Every step is relative to the sandbox's directory fd, never
 * follows a symlink (a symlink at the top level is never an item) and never
 * enters another mount (cleanup_remove_at() with one_dev). A log is only
 * rewritten when it is a regular file with a single link (a hard link could
 * lead out of the sandbox). Deciding whether the executor is dead is the
 * caller's business.
 */
#ifndef SANDBOX_RECLAIM_H
#define SANDBOX_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"

#define RECLAIM_LOG_SLACK (64u * 1024) /* smaller gains are not worth a rewrite */

/* The marker a trimmed log starts with: one line, the count of bytes
 * dropped zero-padded to 20 digits (fixed length). */
#define RECLAIM_LOG_MARKER "[spex gc: %020llu bytes dropped here]\n"

enum reclaim_kind { RECLAIM_BLOCKMGR, RECLAIM_SPARK_TEMP, RECLAIM_DIST, RECLAIM_LOG };

struct reclaim_opts {
	uint64_t log_tail; /* bytes kept at the end of a trimmed log */
};

struct reclaim_item {
	enum reclaim_kind kind;
	char name[256];   /* an entry of the sandbox root */
	uint64_t bytes;   /* allocated bytes it frees (for a log: an estimate) */
	uint64_t entries; /* entries removed (a log: 0) */
	uint64_t size;    /* a log's size (st_size); 0 for directories */
	dev_t dev;        /* the entry as planned: apply refuses another inode */
	ino_t ino;
};

struct reclaim_plan {
	struct reclaim_item *items; /* by name, logs last */
	size_t n;
	uint64_t bytes;  /* sum of items[].bytes */
	uint64_t errors; /* entries that could not be examined */
	char first_error[256];
};

/* "blockmgr", "spark_temp", "dist", "log". */
const char *reclaim_kind_name(enum reclaim_kind k);

/*
 * Plan the reclaim of the sandbox open at sandboxfd: list what would go
 * and its size (a dry run of each removal). Returns 0 (problems with single
 * entries are counted in ret->errors), or -1 with *err when the sandbox
 * cannot be listed. Free with reclaim_plan_free().
 */
int reclaim_plan(int sandboxfd, const struct reclaim_opts *opts, struct reclaim_plan *ret,
                 struct spx_error *err);

/* Release the plan's items; NULL-safe. */
void reclaim_plan_free(struct reclaim_plan *p);

/*
 * Carry out one planned item in the sandbox open at sandboxfd, after
 * checking the entry is still the planned inode. Adds the allocated bytes
 * actually freed and the entries removed to *ret. Returns 0 when done, 1
 * when (part of) it stays: the reasons are counted in ret->errors, with
 * the first in ret->first_error.
 */
int reclaim_apply(int sandboxfd, const struct reclaim_item *it, const struct reclaim_opts *opts,
                  struct cleanup_result *ret);

#endif /* SANDBOX_RECLAIM_H */

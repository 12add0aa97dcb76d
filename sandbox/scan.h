/*
 * Disk usage of a sandbox, broken down by Spark category (classify.h).
 *
 * The scanner walks the tree relative to directory descriptors with
 * getdents64 and fstatat, du-style:
 *
 *  - it never follows a symlink below the root (a symlink counts as itself:
 *    its own lstat size, in the category of its own path); the root itself
 *    is resolved as given, so a Mesos `latest` link can be scanned;
 *  - it never crosses into another mount: a directory on another file
 *    system, or a bind mount (another mount id on the same file system, as
 *    statx reports it from Linux 5.8), has its own entry counted and not its
 *    contents (mounts_skipped); Mesos bind-mounts volumes into sandboxes;
 *  - it counts each inode once (hard links are deduplicated by (dev, ino));
 *  - it counts directories' own blocks, the root's included, like du;
 *  - entries that vanish mid-walk are skipped and counted (vanished);
 *    unreadable ones are counted (errors) and the first one is described.
 *
 * Depth costs heap, never C stack; each worker keeps a bounded window of
 * open directory descriptors (about 64 in all) and re-opens a directory from
 * its nearest open ancestor, one O_NOFOLLOW component at a time, checking
 * that it is still the directory that was listed. Large trees are scanned
 * by 2 threads sharing a stack of pending directories.
 */
#ifndef SANDBOX_SCAN_H
#define SANDBOX_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "error.h"

#define SCAN_MAX_THREADS 8

enum scan_hook { SCAN_HOOK_STAT, SCAN_HOOK_OPEN };

struct scan_opts {
	int threads;        /* 0 = auto (2 when the tree is worth it and 2 CPUs exist), max 8 */
	size_t max_entries; /* stop after this many entries (truncated = 1); 0 = unlimited */
	/* Test hook, NULL in production: called with SCAN_HOOK_STAT before each
	 * directory entry is stat'ed, and with SCAN_HOOK_OPEN before a
	 * directory is opened to be listed, with the descriptor of the
	 * directory holding the entry and its name. It may remove or replace
	 * the entry (to exercise the vanished paths). Called from the scanning
	 * threads. */
	void (*hook)(void *arg, enum scan_hook point, int dirfd, const char *name);
	void *hook_arg;
};

struct scan_result {
	uint64_t bytes[CAT_COUNT];    /* allocated bytes (st_blocks * 512) */
	uint64_t apparent[CAT_COUNT]; /* apparent bytes (st_size) */
	uint64_t files[CAT_COUNT];    /* non-directory entries (each inode once) */
	uint64_t total_bytes, total_apparent;
	uint64_t entries;           /* inodes counted: dirs (root included) + files */
	uint64_t dirs;              /* directories counted, the root included */
	uint64_t vanished;          /* entries that disappeared between listing and stat/open */
	uint64_t errors;            /* entries that could not be stat'ed, opened or read */
	uint64_t mounts_skipped;    /* mount points counted but not entered */
	uint64_t hardlinks_deduped; /* extra links to an inode already counted */
	uint64_t scan_ns;           /* wall time of the scan */
	int truncated;              /* stopped at opts.max_entries */
	int threads;                /* threads that took part */
	char first_error[256];      /* "<relative path>: <reason>", "" if none */
};

/*
 * Scan the directory tree at root and fill *ret (zeroed first). opts may be
 * NULL (defaults). Unreadable or vanishing entries below the root are not
 * failures: they are counted in *ret. Returns 0, or -1 with *err when the
 * root itself cannot be opened or is not a directory.
 */
/* A classify_probe_fn over a directory: arg points to an int dirfd; 1 when
 * dirfd/name contains the non-directory rel ("bin/spark-class"), reached
 * without following a symlink. Shared by the scanner and the tracker so
 * both classify a top-level directory the same way. */
int scan_probe_contains(void *arg, const char *name, const char *rel);

int scan_sandbox(const char *root, const struct scan_opts *opts, struct scan_result *ret,
                 struct spx_error *err);

#endif /* SANDBOX_SCAN_H */

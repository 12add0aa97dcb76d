/*
 * Incremental disk usage of one sandbox: the numbers of scan_sandbox()
 * (scan.h), kept current with inotify instead of full rescans.
 *
 * The tracker indexes the tree once (every entry: name, inode, blocks,
 * size, category; every directory watched), then re-stats only what the
 * kernel says changed. The rules are the scanner's: du-style allocated and
 * apparent bytes per Spark category (classify.h), symlinks never followed,
 * each inode once (hard links), other mounts counted as their mount point
 * only, the root's own directories probed for bin/spark-class.
 *
 * Driving it from one event loop, single-threaded, bounded work per call:
 *
 *	t = track_new(root, NULL, &err);       full index; NULL: use scans
 *	watch track_fd(t) for reading:
 *		track_process(t, 4096, &err);  cheap: marks names dirty
 *		(then, to batch events, stop watching the descriptor for
 *		 TRACK_BATCH_MS before watching it again)
 *	every interval (and again at once while it says TRACK_PENDING):
 *		st = track_refresh(t, 20000, &totals);
 *	every N minutes:
 *		track_reconcile(t);                   drift correction, spread
 *		                                      over the next refreshes
 *
 * track_refresh() answers with a status:
 *  - TRACK_CURRENT: the totals include every change the kernel reported;
 *  - TRACK_PENDING: queued work remains (a burst of changes, a new
 *    directory being listed, a reconciliation under way); the totals are
 *    those of the work done so far. Call again soon;
 *  - TRACK_NEEDS_RESCAN: events were lost (the kernel's queue overflowed,
 *    a file system went away). A reconciliation has been started by
 *    itself; until it completes the totals may be wrong: use scan_sandbox()
 *    for anything that matters (limits) meanwhile;
 *  - TRACK_UNAVAILABLE: inotify could not watch some directory (the
 *    fs.inotify.max_user_watches limit; or, ELOOP, a directory met twice
 *    even after reconciling): changes there go unseen. Fall back to
 *    periodic full scans (track_free()), or track_reconcile() to try again
 *    later.
 *
 * What the kernel does not report is corrected by reconciliation only:
 * writes through mmap, writes through a hard link outside the sandbox,
 * blocks that change without a write (delayed allocation, preallocation
 * trimmed later). An inode with links in several categories is counted
 * once, in the category of the first of its names the tracker met (a scan
 * also picks one name, in its own order).
 *
 * Memory: about 80 bytes per file with names of up to 28 bytes (an entry
 * of 32 bytes plus its name, the allocator's rounding, and a hash slot);
 * directories cost about 200 bytes more. Inodes with several links add a
 * small record each, and the first hard link that appears after indexing
 * adds an 8-byte slot per file (an inode index, built then).
 */
#ifndef SANDBOX_TRACK_H
#define SANDBOX_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "scan.h"

/* Suggested pause between draining the descriptor and watching it again:
 * waking up for every event would cost more than the tracking itself. */
#define TRACK_BATCH_MS 100

enum track_status {
	TRACK_CURRENT,      /* totals up to date with every event read */
	TRACK_PENDING,      /* work queued: call track_refresh() again soon */
	TRACK_NEEDS_RESCAN, /* events lost; reconciling; totals unreliable until done */
	TRACK_UNAVAILABLE,  /* some directory cannot be watched: use full scans */
};

struct track_opts {
	/* Test hook: behave as if the kernel refused every watch beyond this
	 * many with ENOSPC (the max_user_watches limit). 0: no limit but the
	 * kernel's. */
	size_t max_watches;
};

struct track_stats {
	uint64_t entries;           /* names indexed (the root included) */
	uint64_t dirs;              /* directories indexed (entered) */
	uint64_t watches;           /* inotify watches held */
	uint64_t pending;           /* restats and listings queued */
	uint64_t events;            /* inotify events read */
	uint64_t stats;             /* statx calls, the initial index included */
	uint64_t listings;          /* directory listings completed */
	uint64_t losses;            /* queue overflows and other lost events */
	uint64_t reconciles;        /* reconciliations completed */
	uint64_t reconcile_changes; /* entries a reconciliation found changed */
	uint64_t mem_bytes;         /* heap held by the index (requested sizes) */
	int reconciling;            /* a reconciliation is under way */
	int unavailable_errno;      /* why TRACK_UNAVAILABLE (ENOSPC...), else 0 */
};

struct track;

/*
 * Index the tree at root (resolved as given, like scan_sandbox(): a
 * `latest` symlink is fine) and start watching it. opts may be NULL. This
 * is a full walk (single-threaded, about the cost of a scan) and holds one
 * inotify instance. Returns the tracker, or NULL with *err when the root
 * cannot be opened, inotify is unavailable (EMFILE: too many instances or
 * descriptors, ENOSYS), a directory could not be watched (ENOSPC: the watch
 * limit), or the kernel has no statx mount ids (ENOTSUP, Linux < 5.8:
 * bind mounts could not be told from directories); the caller then falls
 * back to periodic scan_sandbox().
 */
struct track *track_new(const char *root, const struct track_opts *opts, struct spx_error *err);

/* Release everything (watches, descriptors, memory). NULL-safe. */
void track_free(struct track *t);

/* The inotify descriptor (non-blocking, close-on-exec) to watch for
 * reading. It stays the same for the tracker's whole life. */
int track_fd(const struct track *t);

/*
 * Read and handle at most budget inotify events (0: no limit): each marks
 * a name dirty (one re-stat at the next refresh however many events name
 * it). No stat happens here. Returns the number of events handled; when it
 * equals budget more may wait, some already read and buffered inside the
 * tracker where the descriptor's readiness cannot show them: call again.
 * Returns -1 with *err if reading fails (not for EAGAIN).
 */
int track_process(struct track *t, size_t budget, struct spx_error *err);

/*
 * Bring the totals up to date: handle every event waiting, then re-stat
 * dirty entries, list new directories and advance a reconciliation, at
 * most budget stats (0: no limit; a directory listing may go a little
 * over). Totals are kept incrementally: the cost is the work done, never
 * the size of the tree. Fills *ret like scan_sandbox() would (per category
 * allocated and apparent bytes and files, entries, dirs, hard links, mount
 * points; vanished and errors count since track_new(), first_error the
 * first of them; scan_ns is this call's time; threads 1). Returns the
 * status (see the top of this file).
 */
enum track_status track_refresh(struct track *t, size_t budget, struct scan_result *ret);

/*
 * Start a reconciliation: every directory is listed again and every entry
 * re-stat'ed, by the following track_refresh() calls within their budget
 * (track_refresh(t, 0, ...) does it all at once). It corrects what no event
 * reports, re-tries watches after TRACK_UNAVAILABLE, and restarts one under
 * way. Costs about one scan of the tree, spread out.
 */
void track_reconcile(struct track *t);

/* The status track_refresh() would return now, without doing any work. */
enum track_status track_status(const struct track *t);

/* "current", "pending", "needs_rescan", "unavailable"; never NULL. */
const char *track_status_name(enum track_status st);

/* Counters about the tracker itself (for logs and benchmarks). */
void track_get_stats(const struct track *t, struct track_stats *ret);

#endif /* SANDBOX_TRACK_H */

/*
 * A sandbox of an agent work dir at a glance, as `spex ls` lists it and
 * `spex gc` starts from: its state file, the liveness of its executor, and
 * a fresh scan of its disk usage.
 */
#ifndef TOOLS_SUMMARY_H
#define TOOLS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox_state.h"
#include "scan.h"
#include "workdir.h"

struct sandbox_summary {
	const struct sandbox_ref *ref; /* borrowed from the workdir */
	bool has_state;                /* state.json was read */
	struct sandbox_state state;
	char *state_error; /* why state.json could not be read, or NULL */
	enum liveness live;
	const char *why;  /* liveness_decide()'s reason (static) */
	int64_t since_ms; /* executor.started_at, else the run directory's mtime */
	bool scanned;     /* scan is valid */
	struct scan_result scan;
	char *scan_error; /* why the scan failed, or NULL */
};

/* Read the state of sandbox r of w, decide its liveness, and scan it when
 * scan is set. Problems land in state_error / scan_error, never fail. */
void summary_load(const struct workdir *w, const struct sandbox_ref *r, bool scan,
                  struct sandbox_summary *ret);

/* Free what *s holds; NULL-safe. */
void summary_clear(struct sandbox_summary *s);

/* scan_sandbox(path) with its failure worded as the CLI's errors are,
 * "PATH: reason" (scan_sandbox says "scan 'PATH': reason"). */
int summary_scan(const char *path, struct scan_result *ret, struct spx_error *err);

/* The category with the most bytes (the first in enum order on a tie), or
 * -1 when every one is 0. Pure. */
int summary_top(const uint64_t bytes[CAT_COUNT]);

/* Sort by allocated total (0 when not scanned), largest first, then by
 * path. Pure. */
void summary_sort(struct sandbox_summary *v, size_t n);

#endif /* TOOLS_SUMMARY_H */

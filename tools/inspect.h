/*
 * `spex inspect`: everything known about one sandbox, gathered once
 * (inspect_gather) and then shown as text (inspect_print) or as JSON
 * (inspect_json, schema spex.inspect/1, docs/schemas/).
 */
#ifndef TOOLS_INSPECT_H
#define TOOLS_INSPECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "procinfo.h"
#include "sandbox_state.h"
#include "scan.h"

#define INSPECT_LOG_HEAD  (4ull << 20)  /* SPEX_LOG_HEAD's default */
#define INSPECT_LOG_TAIL  (32ull << 20) /* SPEX_LOG_TAIL's default */
#define INSPECT_NEAR_CAP  0.9           /* a log this full of its cap is "near" */
#define INSPECT_NEAR_DISK 0.9           /* disk usage this full of the limit warns */

/* stdout or stderr at the sandbox root. */
struct inspect_log {
	const char *name; /* "stdout", "stderr" */
	bool present;     /* a regular file */
	uint64_t size;    /* st_size */
	bool capped;      /* it holds a spex marker (logcap's, or spex gc's at its start) */
	uint64_t dropped; /* the bytes the marker says were dropped */
};

struct inspect_warning {
	const char *kind; /* "log_capped", "log_near_cap", "blockmgr_dead", "disk_near_limit",
	                   * "oom", "state_unreadable", "config_error" */
	char *message;    /* one line */
	const char *path; /* the file concerned (static or borrowed), or NULL */
	uint64_t bytes;   /* the size concerned, or 0 */
};

struct inspect_view {
	char *path; /* as given */
	int64_t now_ms;
	uint64_t log_head, log_tail; /* the caps the log warnings assume */
	/* the state file */
	bool has_state;
	struct sandbox_state st;
	char *state_error;
	enum liveness live;
	const char *why;
	/* processes, when live */
	bool procs_read;
	struct proc_info *procs;
	struct proc_row *rows;
	size_t nrows;
	/* a fresh scan */
	bool scanned;
	struct scan_result scan;
	char *scan_error;
	/* the disk history */
	struct disk_sample *hist;
	size_t nhist, hist_skipped;
	char *hist_error;
	struct inspect_log logs[2];
	uint64_t disk_limit; /* sum of the tasks' disk limits, 0 when none */
	struct inspect_warning *warn;
	size_t nwarn;
};

/*
 * Gather the view of the sandbox directory at path at now_ms, the logs'
 * caps being log_head + log_tail. Returns 0 (problems with parts land in
 * their *_error fields and warnings), or -1 with *err when path cannot be
 * opened as a directory. Free with inspect_view_free() in both cases.
 */
int inspect_gather(const char *path, int64_t now_ms, uint64_t log_head, uint64_t log_tail,
                   struct inspect_view *ret, struct spx_error *err);

/* Free what *v holds; NULL-safe. */
void inspect_view_free(struct inspect_view *v);

/* Fill v->warn from the rest of the view (replacing any). Pure. */
void inspect_warnings(struct inspect_view *v);

/* Find a spex marker in the bytes buf[0..len) read at the start of a log
 * (at_head false) or at offset log_head (at_head true): "[spex gc: N bytes
 * dropped here]" at the start, "\n[spex: N bytes dropped here;" at the
 * head. Returns 1 with the count in *ret_dropped, else 0. Pure. */
int inspect_find_marker(const char *buf, size_t len, bool at_head, uint64_t *ret_dropped);

/* The human view, fitted to t->width. */
void inspect_print(const struct inspect_view *v, const struct cli_term *t, FILE *f);

/* The view as one object of the "sandboxes" array of spex.inspect/1. */
cJSON *inspect_json(const struct inspect_view *v);

#endif /* TOOLS_INSPECT_H */

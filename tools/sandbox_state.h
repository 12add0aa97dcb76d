/*
 * The executor's state file, read back (docs/state.md, schema
 * spex.state/1): .spex/state.json, the liveness of the executor that wrote
 * it, and .spex/disk-history.jsonl.
 *
 * The parsers and the liveness decision are pure (text and numbers in,
 * structs out); state_load(), history_load() and state_liveness() read the
 * sandbox and /proc. Fields this reader does not know are ignored; a field
 * that is missing, of the wrong type or out of range reads as null
 * (STATE_NONE, NULL, NAN): a negative count, size, pid, tick or byte count
 * (everything but exit codes), a number that is not finite, an integer
 * beyond +-9e15. Integers go through cJSON's doubles: exact up to 2^53; no
 * double outside an integer type's range is ever converted to it.
 */
#ifndef TOOLS_SANDBOX_STATE_H
#define TOOLS_SANDBOX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "error.h"

#define STATE_SCHEMA    "spex.state/1"
#define STATE_DIR       ".spex"
#define STATE_FILE      "state.json"
#define HISTORY_FILE    "disk-history.jsonl"
#define STATE_MAX_BYTES (16u << 20) /* larger state files are refused */
#define STATE_NONE      INT64_MIN   /* a null integer or time */

struct state_task {
	char *id, *name, *state; /* state: the last TASK_* sent */
	int64_t launched_ms, ended_ms;
	int64_t pid, pgid, taskinit_pid;
	size_t nhistory;
	/* cgroup: has_cgroup false when "cgroup" is null */
	bool has_cgroup;
	char *cgroup_path;
	double cpus, cpu_quota_cpus; /* NAN = no limit */
	int64_t mem_limit_bytes, pids_max;
	int64_t mem_bytes, mem_peak_bytes, cpu_ms, oom_kills;
	int64_t disk_limit_bytes;
	/* exit: has_exit false while "exit" is null */
	bool has_exit;
	int64_t exit_code;
	char *exit_signal, *exit_state, *exit_reason, *exit_message, *exit_oom;
	/* exit.oom is set, or an update in the history has reason
	 * REASON_CONTAINER_LIMITATION_MEMORY */
	bool oom;
};

struct sandbox_state {
	int64_t written_ms;
	int64_t seq;
	/* executor */
	int64_t pid;
	int64_t start_ticks;
	char *boot_id, *version, *state; /* state: "running", "exited"... */
	int64_t started_ms, exit_code;
	char *framework_id, *executor_id, *agent_id, *sandbox;
	char *subscription; /* executor.subscription.state */
	int64_t rss_bytes, cpu_user_ms, cpu_system_ms;
	char *config_error; /* executor.config_error: the invalid setting, or NULL */
	int64_t pid_ns;     /* executor.pid_ns: st_ino of its /proc/self/ns/pid, or STATE_NONE */
	struct state_task *tasks;
	size_t ntasks;
	/* the last disk report: disk.allocated_bytes and disk_at */
	int64_t disk_bytes, disk_ms;
};

/* Parse the text of a state.json (len bytes, need not be NUL-terminated).
 * what names the file in error messages. Returns 0, or -1 with *err:
 * "<what>: not JSON", "<what>: schema 'x', expected spex.state/1",
 * "<what>: no executor object". */
int state_parse(const char *text, size_t len, const char *what, struct sandbox_state *ret,
                struct spx_error *err);

/* Free what *st holds (the struct itself is the caller's); NULL-safe. */
void state_clear(struct sandbox_state *st);

/*
 * Read <sandbox>/.spex/state.json, the sandbox given as a directory fd;
 * .spex and state.json are opened without following symlinks. what names the
 * sandbox in error messages. Returns 1 when loaded, 0 when the sandbox has
 * no state file (ENOENT on .spex or on state.json), -1 with *err otherwise
 * (unreadable, too large, or state_parse() refused it).
 */
int state_load(int sandboxfd, const char *what, struct sandbox_state *ret, struct spx_error *err);

enum liveness { LIVENESS_UNKNOWN, LIVENESS_LIVE, LIVENESS_DEAD };

/* "unknown", "live", "dead". */
const char *liveness_name(enum liveness l);

/* What the liveness rule looks at on this machine now. */
struct liveness_probe {
	const char *boot_id; /* /proc/sys/kernel/random/boot_id, NULL if unreadable */
	bool proc_hidden;    /* /proc hides other users' processes from us */
	int stat_errno;      /* 0: /proc/<pid>/stat was read and parsed; else why not */
	int64_t start_ticks; /* its field 22 when stat_errno is 0 */
	int64_t pid_ns;      /* st_ino of our /proc/self/ns/pid; 0 when unreadable */
};

/*
 * The liveness rule of docs/state.md, given the state (NULL: no state
 * file) and the probe. *ret_why (may be NULL) gets a short reason: "no
 * state file", "exited", "other boot", "pid gone", "pid reused", "running",
 * or for unknown "boot id unreadable", "other pid namespace" (the state
 * records executor.pid_ns and it is not ours: its pid means nothing in our
 * /proc), "pid namespace unreadable", "/proc hides pids", "stat
 * unreadable". A state without pid_ns (null or absent) skips that check.
 * Pure.
 */
enum liveness liveness_decide(const struct sandbox_state *st, const struct liveness_probe *p,
                              const char **ret_why);

/* liveness_decide() with a probe of this machine for st's executor pid. */
enum liveness state_liveness(const struct sandbox_state *st, const char **ret_why);

/* One sample of disk-history.jsonl. */
struct disk_sample {
	int64_t at_ms;
	uint64_t bytes;
	uint64_t cats[CAT_COUNT]; /* 0 for a category the line lacks */
};

/* Parse the text of a disk-history.jsonl (len bytes): one sample per line,
 * in file order. A line that is not a JSON object with "at" (a time) and
 * "bytes" (a number in [0, 2^64)) is skipped and counted in *ret_skipped
 * (the executor may be appending the last one); a category outside
 * [0, 9e15] reads as 0. *ret is malloc'd (free()); *ret_n may be 0. */
void history_parse(const char *text, size_t len, struct disk_sample **ret, size_t *ret_n,
                   size_t *ret_skipped);

/* Read <sandbox>/.spex/disk-history.jsonl (as state_load(); at most the
 * last STATE_MAX_BYTES). Returns 1 when read, 0 when there is none, -1
 * with *err when unreadable. */
int history_load(int sandboxfd, const char *what, struct disk_sample **ret, size_t *ret_n,
                 size_t *ret_skipped, struct spx_error *err);

#endif /* TOOLS_SANDBOX_STATE_H */

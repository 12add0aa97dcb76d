/*
 * When to report disk usage, when to warn, when to kill: pure decisions over
 * numbers, so the rules are tested without a sandbox.
 *
 *	report  when usage moved by >= 1 % or >= 16 MiB since the last report,
 *	        or the last report is 5 minutes old (and never while the previous
 *	        report is still unacknowledged: no flooding an agent that is away)
 *	soft    when usage crosses SPEX_DISK_SOFT_RATIO x limit upwards (once per
 *	        crossing; re-armed when usage falls below it again)
 *	hard    when usage exceeds the limit
 */
#ifndef EXECUTOR_CORE_DISK_POLICY_H
#define EXECUTOR_CORE_DISK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

#define DISK_REPORT_MIN_DELTA  (16ULL * 1024 * 1024)
#define DISK_REPORT_MAX_AGE_NS (300LL * 1000000000LL)

struct disk_settings {
	int64_t interval_ns;      /* SPEX_DISK_INTERVAL, default 10secs */
	uint64_t limit_bytes;     /* SPEX_DISK_LIMIT when the task asks for no disk; 0 = none */
	double soft_ratio;        /* SPEX_DISK_SOFT_RATIO, default 0.9 */
	uint64_t min_free_bytes;  /* SPEX_MIN_FREE_BYTES, default 512 MiB, 0 disables */
	uint64_t min_free_inodes; /* SPEX_MIN_FREE_INODES, default 10000, 0 disables */
	bool cleanup;             /* SPEX_CLEANUP=spark (default) or none */
	bool keep_shuffle;        /* SPEX_KEEP_SHUFFLE=1 */
	bool enabled;             /* SPEX_DISK=on (default) or off */
	bool track;               /* SPEX_DISK_TRACK=on (default): inotify tracking between scans */
	uint64_t log_head;        /* SPEX_LOG_HEAD, default 4 MiB */
	uint64_t log_tail;        /* SPEX_LOG_TAIL, default 32 MiB; 0 = no capping */
};

struct disk_state {
	bool reported;       /* a report was sent */
	uint64_t last_bytes; /* usage in the last report */
	int64_t last_ns;     /* when */
	bool soft_active;    /* above the soft threshold (warning sent) */
};

enum disk_verdict_flags {
	DISK_REPORT = 1 << 0, /* send a RUNNING update with the figures */
	DISK_SOFT = 1 << 1,   /* ... and mark it as the soft-limit warning */
	DISK_HARD = 1 << 2,   /* over the limit: kill the task */
};

/* Decide for a measurement of used bytes at now_ns against limit (0 = no
 * limit); pending = the previous report is not yet acknowledged. Updates *st
 * for what it returns (the caller sends what it is told). */
int disk_decide(struct disk_state *st, const struct disk_settings *s, uint64_t used, uint64_t limit,
                int64_t now_ns, bool pending);

/* Parse a byte size: "1073741824", "512k", "100MiB", "1.5G", "2TB" (k/m/g/t,
 * optional "i" and "B"; powers of 1024). Returns -1 with *err. */
int parse_bytes(const char *s, uint64_t *ret, struct spx_error *err);

/* Settings from the environment; -1 with *err naming the variable. */
int disk_settings_from_env(struct disk_settings *s, config_getenv_fn get, struct spx_error *err);

/* Free space check before exec: returns -1 with a message naming the
 * shortfall ("sandbox filesystem has 120 MiB free, below SPEX_MIN_FREE_BYTES
 * 512 MiB") when avail_bytes / avail_inodes are under the minimums. */
int disk_preflight(const struct disk_settings *s, uint64_t avail_bytes, uint64_t avail_inodes,
                   struct spx_error *err);

#endif /* EXECUTOR_CORE_DISK_POLICY_H */

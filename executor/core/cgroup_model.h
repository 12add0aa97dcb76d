/*
 * cgroup limits and files as pure data: what to write where for a task's
 * resources, on cgroup v1 and v2, and parsers for what the kernel reports
 * (/proc/self/cgroup, memory.oom_control, memory.events, cpu.stat, ...).
 * Nothing here touches the filesystem; executor/cgroup.c does.
 *
 * Values follow what Mesos' cgroups isolators write for a container
 * (mesos-executor-api.md §5), applied here to one task:
 *	v1 cpu.shares = max(1024 * cpus, 2)
 *	   cpu.cfs_period_us = 100000, cpu.cfs_quota_us = max(100000 * cpus, 1000)
 *	      (only with a hard cpu limit: SPEX_CPU_HARD_LIMIT=1 or TaskInfo.limits)
 *	   memory.limit_in_bytes = memory.soft_limit_in_bytes = max(mem, 32 MiB)
 *	      (the hard limit from TaskInfo.limits["mem"] when given)
 *	   memory.memsw.limit_in_bytes = the hard limit (only when asked for)
 *	   pids.max = SPEX_PIDS_MAX (32768)
 *	v2 cpu.weight = clamp(100 * cpus, 1, 10000); cpu.max = "<quota> 100000" or "max"
 *	   memory.max = hard limit, memory.low = max(mem, 32 MiB); pids.max
 */
#ifndef EXECUTOR_CORE_CGROUP_MODEL_H
#define EXECUTOR_CORE_CGROUP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "mesos.pb-c.h"

#define CG_MIN_MEMORY    (32ULL * 1024 * 1024)
#define CG_CFS_PERIOD_US 100000
#define CG_MIN_QUOTA_US  1000
#define CG_DEFAULT_PIDS  32768

enum cg_ctrl { CG_CPU, CG_CPUACCT, CG_MEMORY, CG_PIDS, CG_NCTRL };

struct cg_settings {
	bool cpu_hard;     /* SPEX_CPU_HARD_LIMIT=1 */
	bool limit_swap;   /* SPEX_CGROUPS_LIMIT_SWAP=1 (v1 memsw, when present) */
	uint64_t pids_max; /* SPEX_PIDS_MAX, 0 = no pids limit */
};

struct cg_limits {
	bool has_cpus;
	double cpus;      /* requested cpus (TaskInfo resources) */
	bool cpu_hard;    /* set a CFS quota */
	double cpu_limit; /* the quota's cpus: TaskInfo.limits["cpus"], else cpus */
	bool has_mem;
	uint64_t mem_bytes; /* requested memory (soft) */
	uint64_t mem_limit; /* hard memory limit, UINT64_MAX when unlimited */
	uint64_t pids_max;  /* 0 = none */
	bool limit_swap;
};

/* One file write: <controller dir>/<file> gets value. */
struct cg_write {
	enum cg_ctrl ctrl;
	const char *file;
	char value[32];
	bool optional; /* skip silently when the file does not exist (memsw) */
};

#define CG_MAX_WRITES 12

/* Derive the limits of a task from its resources (cpus, mem in MB) and
 * TaskInfo.limits, with the executor's settings. Never fails: a task without
 * resources simply gets no cpu/mem limit. */
void cg_limits_from_task(const Mesos__V1__TaskInfo *ti, const struct cg_settings *s,
                         struct cg_limits *ret);

/* The writes for v1 (in order: limit before memsw). Returns the count. */
size_t cg_v1_writes(const struct cg_limits *l, struct cg_write *out);
/* The writes for v2. Returns the count. */
size_t cg_v2_writes(const struct cg_limits *l, struct cg_write *out);

uint64_t cg_v1_shares(double cpus);
uint64_t cg_v2_weight(double cpus);
uint64_t cg_quota_us(double cpus);

/* The v1 controller directory name ("cpu", "cpuacct", "memory", "pids") and
 * the v2 controller name ("cpu", "memory", "pids"; NULL for cpuacct). */
const char *cg_ctrl_name(enum cg_ctrl c);
const char *cg_v2_ctrl_name(enum cg_ctrl c);

/* Our place in each hierarchy, from /proc/self/cgroup content. */
struct cg_self {
	char *v1[CG_NCTRL]; /* path per v1 controller, NULL if not mounted */
	char *unified;      /* the "0::" path, NULL if none */
};
int cg_parse_proc_cgroup(const char *content, struct cg_self *ret, struct spx_error *err);
void cg_self_free(struct cg_self *s);

/* The "+ctrl" tokens to write to a parent's cgroup.subtree_control so that
 * `want` (NULL-terminated v2 names) are enabled, given the parent's current
 * subtree_control and the controllers available in it. Writes a
 * space-separated list into out (size n; "" if nothing to do). Returns -1
 * with *err if a wanted controller is not available. */
int cg_v2_subtree_tokens(const char *available, const char *enabled, const char *const *want,
                         char *out, size_t n, struct spx_error *err);

/* Value of `key` in a "key value\n" file (memory.oom_control, memory.events,
 * cpu.stat, memory.stat). Returns 0, or -1 if the key is absent/malformed. */
int cg_parse_keyed(const char *content, const char *key, uint64_t *ret);

/* A single number file ("123\n", or "max" = UINT64_MAX). */
int cg_parse_u64(const char *content, uint64_t *ret);

/* Java heap from a Spark memory string ("4096m", "4g", "512k", "1073741824"),
 * as bytes. Returns 0, or -1 if malformed. */
int cg_parse_java_size(const char *s, uint64_t *ret);

/*
 * The message for a task the kernel OOM-killed:
 *	"memory limit 4505 MiB exceeded (peak 4505 MiB, heap -Xmx 4096m, overhead
 *	 409 MiB); raise spark.mesos.executor.memoryOverhead"
 * heap may be NULL (then the heap part is left out and the advice names
 * spark.executor.memory too).
 */
void cg_oom_message(uint64_t limit, uint64_t peak, const char *heap, char *out, size_t n);

#endif /* EXECUTOR_CORE_CGROUP_MODEL_H */

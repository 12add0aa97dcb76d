/*
 * Per-task cgroups (adapter). Each task's process tree lives in its own
 * cgroup, nested under the executor's own cgroup, with limits from the
 * task's resources (core/cgroup_model.h says which values).
 *
 * Two backends behind one ops table:
 *   - "libcgroup": cgroup v1 on the real mount; libcgroup 2.0.2 creates the
 *     groups, sets the values and deletes them (after we made sure they are
 *     empty: its delete silently moves live tasks to the root otherwise);
 *   - "cgroupfs": direct file writes, for cgroup v2 (libcgroup 2.0.2 has no
 *     v1<->v2 name translation, leaves "+ctrl" behind in subtree_control and
 *     cannot tell the hierarchy mode) and for a cgroupfs tree under another
 *     root (the unit tests' fake tree).
 * Attaching is not done here: task-init writes its own pid into the files of
 * cgroup_task_procs_files() before it forks the command, so the JVM never
 * runs outside its limits.
 */
#ifndef EXECUTOR_CGROUP_H
#define EXECUTOR_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup_model.h"
#include "config.h"
#include "error.h"

enum cg_mode { CGM_AUTO, CGM_REQUIRED, CGM_OFF };
enum cg_version { CGV_NONE = 0, CGV_V1 = 1, CGV_V2 = 2 };

struct cgroup_config {
	enum cg_mode mode;         /* SPEX_CGROUPS=auto|required|off */
	struct cg_settings limits; /* SPEX_CPU_HARD_LIMIT, SPEX_PIDS_MAX, SPEX_CGROUPS_LIMIT_SWAP */
	char root[256];            /* SPEX_CGROUP_ROOT, default /sys/fs/cgroup */
	const char *proc_self;     /* /proc/self/cgroup content; NULL = read it */
	int force_version;         /* 0 = detect; 1 or 2 (tests) */
	bool use_libcgroup;        /* v1 at /sys/fs/cgroup: go through libcgroup, unless
	                              SPEX_CGROUP_BACKEND=cgroupfs (saves libcgroup's ~0.9 MiB
	                              of mount tables in the executor's RSS) */
};

struct cgroup_manager;
struct task_cgroup;

struct cg_usage {
	bool has_mem;
	uint64_t mem_current, mem_peak; /* bytes */
	bool has_cpu;
	uint64_t cpu_ns;
};

/* Settings from the environment. Returns -1 with *err naming the variable. */
int cgroup_config_from_env(struct cgroup_config *c, config_getenv_fn get, struct spx_error *err);

/* Detect the hierarchy and find our own cgroup. NULL with *err when cgroups
 * cannot be used here (the caller decides, by mode, whether that is fatal). */
struct cgroup_manager *cgroup_manager_new(const struct cgroup_config *c, struct spx_error *err);
void cgroup_manager_free(struct cgroup_manager *m);
/* "v1/libcgroup", "v2/cgroupfs", ... for logs. */
const char *cgroup_manager_describe(const struct cgroup_manager *m);
enum cg_version cgroup_manager_version(const struct cgroup_manager *m);

/* Create the task's cgroup with lim applied. NULL with *err on failure; the
 * partly created directories are removed again. */
struct task_cgroup *cgroup_task_create(struct cgroup_manager *m, const char *task_id,
                                       const struct cg_limits *lim, struct spx_error *err);

/* NULL-terminated absolute paths of the cgroup.procs files task-init writes
 * its pid into. Owned by the task cgroup. */
char *const *cgroup_task_procs_files(const struct task_cgroup *t);
/* The task's memory cgroup directory (the v2 directory), for logs and state. */
const char *cgroup_task_path(const struct task_cgroup *t);

/* A descriptor that becomes readable on an OOM event (v1: eventfd on
 * memory.oom_control; v2: inotify on memory.events); the cgroup owns it.
 * -1 with *err if OOM notification is unavailable. */
int cgroup_task_oom_fd(struct task_cgroup *t, struct spx_error *err);
/* Consume the pending notification. */
void cgroup_task_oom_drain(struct task_cgroup *t);
/* The kernel's oom_kill counter of the task's memory cgroup. */
int cgroup_task_oom_kills(const struct task_cgroup *t, uint64_t *ret);

int cgroup_task_usage(const struct task_cgroup *t, struct cg_usage *ret);

/* Remove the cgroup. Refuses (-1, EBUSY) while any process is in it: the
 * leftovers get SIGKILL, and the caller may try again later. */
int cgroup_task_destroy(struct task_cgroup *t, struct spx_error *err);
/* Free the handle (does not remove the cgroup). NULL-safe. */
void cgroup_task_free(struct task_cgroup *t);

#endif /* EXECUTOR_CGROUP_H */

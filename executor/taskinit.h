/*
 * task-init: the small supervisor that leads each task's session.
 *
 * spawn forks it from the executor (no exec, so launching costs one fork
 * more, not one exec more). It becomes a session leader and a child
 * subreaper, forks the task's command, and from then on owns the task's
 * whole process tree: every descendant, even one whose parent died, is its
 * child or grandchild, so "no children left" means "the tree is gone".
 *
 * Why it exists: PR_SET_PDEATHSIG reaches only the direct child, and
 * `sh -c` forks the JVM. If the executor dies, even by SIGKILL, the kernel
 * closes the control pipe; task-init sees EOF (and SIGTERM from its own
 * PDEATHSIG), SIGKILLs its whole tree and exits. Nothing is orphaned.
 *
 * Wire protocol on the report pipe (task-init -> executor), fixed records:
 *	'R' pid	  the command exec'd (pid = the command's pid)
 *	'E' errno the command could not be exec'd
 *	'S' errno the command's stdio, cwd or user could not be set up
 *	'C' errno task-init could not join the task's cgroup (nothing ran)
 *	'X' status the command's wait status; the whole tree is gone
 * Control pipe (executor -> task-init): 'T' SIGTERM the tree, 'K' SIGKILL it.
 *
 * With capture_logs, the command's stdout and stderr are pipes that task-init
 * drains into the sandbox files through logcap (first SPEX_LOG_HEAD bytes,
 * last SPEX_LOG_TAIL bytes, a marker in between), so a chatty JVM cannot fill
 * the disk. The pipes are drained until every writer of the tree is gone.
 */
#ifndef EXECUTOR_TASKINIT_H
#define EXECUTOR_TASKINIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spawn_plan.h"

struct ti_report {
	char type; /* 'R', 'E' or 'X' */
	int32_t value;
	int32_t pid;
};

struct taskinit {
	pid_t pid;     /* task-init's pid = the task's session and process group */
	int report_fd; /* read end, O_NONBLOCK|O_CLOEXEC */
	int ctl_fd;    /* write end, O_NONBLOCK|O_CLOEXEC */
};

struct taskinit_opts {
	const struct spawn_plan *plan;
	const char *cwd;           /* the sandbox */
	int stdout_fd, stderr_fd;  /* the task's stdout/stderr */
	int64_t linger_grace_ns;   /* leftovers after the command exits: SIGTERM, then SIGKILL */
	char *const *cgroup_procs; /* cgroup.procs files to join first, or NULL */
	bool capture_logs;         /* pipe the command's stdout/stderr through task-init
	                              into stdout_fd/stderr_fd, capped (see logcap.h) */
	uint64_t log_head, log_tail;
	bool switch_user; /* drop to uid/gid/groups in the command */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
};

/* Fork task-init for opts. Returns 0 and fills *ti, or -1 with *err. */
int taskinit_spawn(const struct taskinit_opts *opts, struct taskinit *ti, struct spx_error *err);

/* Ask task-init to signal its tree: 'T' (SIGTERM) or 'K' (SIGKILL). */
int taskinit_command(const struct taskinit *ti, char cmd);

#endif /* EXECUTOR_TASKINIT_H */

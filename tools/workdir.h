/*
 * The sandboxes of a Mesos agent work dir: every directory
 * WORK_DIR/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<run>.
 *
 * The walk opens each level with openat(O_NOFOLLOW | O_DIRECTORY) relative
 * to the level above: a symlink anywhere below WORK_DIR (the agent's
 * `latest` links, or a planted one) is skipped and counted, never
 * followed, so every sandbox is listed once and none is outside WORK_DIR.
 * WORK_DIR itself is resolved as given.
 *
 * Every level is compared with WORK_DIR by device and by mount id (statx
 * STATX_MNT_ID; the device alone when the kernel lacks it), so a bind mount
 * of a directory of the same file system counts as another file system. A
 * run directory on another one is listed but flagged (other_dev; gc skips
 * it); a directory above the runs on another one is not entered and counted
 * in errors, with first_error saying where.
 */
#ifndef TOOLS_WORKDIR_H
#define TOOLS_WORKDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define WORKDIR_DEFAULT "/var/lib/mesos"

struct sandbox_ref {
	char *rel; /* "slaves/S0/frameworks/F/executors/E/runs/R" */
	char *agent_id, *framework_id, *executor_id, *run_id;
	bool other_dev;   /* on another file system than WORK_DIR */
	int64_t mtime_ms; /* the run directory's mtime */
};

struct workdir {
	char *path; /* as given */
	int fd;     /* WORK_DIR, O_DIRECTORY */
	dev_t dev;
	uint64_t mnt_id; /* WORK_DIR's mount id, when mnt_known */
	bool mnt_known;
	struct sandbox_ref *runs;
	size_t n;
	uint64_t symlinks_skipped; /* symlinks met below WORK_DIR (latest...) */
	uint64_t errors; /* directories that could not be listed or are on another mount */
	char first_error[256];
};

/* Open path and list its sandboxes in *ret (sorted by rel). Returns 0, or
 * -1 with *err ("'/x': No such file or directory", "'/x': no slaves/
 * directory, not a Mesos agent work dir"). */
int workdir_open(const char *path, struct workdir *ret, struct spx_error *err);

/* Close and free; NULL-safe; *w may be reused. */
void workdir_close(struct workdir *w);

/* Open the sandbox r of w again, one O_NOFOLLOW component at a time from
 * WORK_DIR, refusing a component that became a symlink or is on another
 * file system or mount (EXDEV). Returns the fd (O_DIRECTORY, O_CLOEXEC), or
 * -1 with *err. */
int workdir_open_run(const struct workdir *w, const struct sandbox_ref *r, struct spx_error *err);

#endif /* TOOLS_WORKDIR_H */
